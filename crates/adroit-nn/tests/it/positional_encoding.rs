//! PositionalEncoding: the encoding against PyTorch's tutorial formulation (its exp-log
//! frequencies), the gradient passing through, masking, what it gives attention (order), bad
//! input and casts.

use crate::recurrent::assert_close;
use adroit_nn::{
    Cast, Chain, Context, Layer, Mode, MultiHeadAttention, NnError, PositionalEncoding,
};
use adroit_reverse::matrix::{self, MatVar};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The encoding of `steps` steps of `dim` features as PyTorch's transformer tutorial writes
/// it: `div_term = exp(arange(0, dim, 2) · (−ln 10000 / dim))`, `pe[t, 0::2] = sin(t ·
/// div_term)`, `pe[t, 1::2] = cos(t · div_term)` (for an odd `dim`, the cosines of all but
/// the last frequency).
fn tutorial(dim: usize, steps: usize) -> DMatrix<f64> {
    DMatrix::from_fn(dim * steps, 1, |r, _| {
        let (t, k) = (r / dim, r % dim);
        let div_term = ((k / 2 * 2) as f64 * (-(10_000f64).ln() / dim as f64)).exp();
        let angle = t as f64 * div_term;
        if k % 2 == 0 { angle.sin() } else { angle.cos() }
    })
}

#[test]
fn matches_the_pytorch_tutorials_formulation() {
    for (dim, steps) in [(6, 7), (5, 4), (1, 3), (16, 50)] {
        let encoding = PositionalEncoding::new(dim).unwrap();
        let pe = encoding.predict(&DMatrix::zeros(dim * steps, 1)).unwrap();
        assert_close(&pe, &tutorial(dim, steps), 1e-12, &format!("dim {dim}"));
        // Added to every sequence of a batch alike.
        let x = DMatrix::from_fn(dim * steps, 3, |r, c| (r * 3 + c) as f64 * 0.1);
        let y = encoding.predict(&x).unwrap();
        for c in 0..3 {
            assert_close(&(y.columns(c, 1) - x.columns(c, 1)), &pe, 1e-12, "batch");
        }
    }
}

/// The layer adds a constant: the gradient in the input is the output's cotangent.
#[test]
fn the_gradient_passes_through() {
    let encoding = PositionalEncoding::new(4).unwrap();
    let x = DMatrix::from_fn(12, 2, |r, c| (r + c) as f64 * 0.3);
    let w = DMatrix::from_fn(12, 2, |r, c| ((r * 2 + c) as f64).sin());
    let (_, g) = matrix::value_and_gradient(
        |v| {
            let y = encoding.forward(v[0], &mut Context::new(Mode::Train, 0));
            y.component_mul(MatVar::constant(w.clone())).sum()
        },
        &[x],
    );
    assert_eq!(g[0], w);
}

/// With `masking`, padding steps stay as they are and a sequence padded at the end is encoded
/// as it would be alone.
#[test]
fn masking_leaves_padding_as_it_is() {
    let encoding = PositionalEncoding::new(2).unwrap().masking(-9.0);
    let mut x = DMatrix::from_fn(8, 2, |r, c| (r + 2 * c) as f64 * 0.25);
    x.view_mut((4, 1), (4, 1)).fill(-9.0); // the second sequence: 2 of 4 steps
    let y = encoding.predict(&x).unwrap();
    assert!(y.view((4, 1), (4, 1)).iter().all(|&v| v == -9.0));
    let alone = encoding
        .predict(&x.view((0, 1), (4, 1)).into_owned())
        .unwrap();
    assert_eq!(y.view((0, 1), (4, 1)).into_owned(), alone);
    assert_eq!(
        y.columns(0, 1).into_owned(),
        encoding.predict(&x.columns(0, 1).into_owned()).unwrap()
    );
    assert_eq!(Layer::<f64>::mask_value(&encoding), Some(-9.0));
    assert!(matches!(
        Layer::<f64>::check_params(&encoding.masking(f64::NAN)),
        Err(NnError::InvalidConfig { .. })
    ));
}

/// Attention alone treats the steps as a set: reversing a sequence reverses its outputs.
/// After the encoding it does not.
#[test]
fn it_lets_attention_tell_the_order() {
    let (dim, steps) = (4, 5);
    let attention = MultiHeadAttention::<f64>::new(dim, 2, &mut StdRng::seed_from_u64(6)).unwrap();
    let encoded = Chain::new()
        .push(PositionalEncoding::new(dim).unwrap())
        .push(attention.clone());
    let x = DMatrix::from_fn(dim * steps, 1, |r, _| (r as f64 * 0.7).sin());
    let reversed = |m: &DMatrix<f64>| {
        DMatrix::from_fn(dim * steps, 1, |r, _| {
            m[((steps - 1 - r / dim) * dim + r % dim, 0)]
        })
    };
    let plain = attention.predict(&x).unwrap();
    let plain_reversed = attention.predict(&reversed(&x)).unwrap();
    assert_close(&plain_reversed, &reversed(&plain), 1e-14, "equivariance");
    let with = encoded.predict(&x).unwrap();
    let with_reversed = encoded.predict(&reversed(&x)).unwrap();
    assert!((with_reversed - reversed(&with)).amax() > 1e-3);
}

#[test]
fn sizes_bad_input_and_casts() {
    assert!(matches!(
        PositionalEncoding::new(0),
        Err(NnError::InvalidConfig { .. })
    ));
    let encoding = PositionalEncoding::new(3).unwrap();
    assert!(matches!(
        Layer::<f64>::predict(&encoding, &DMatrix::zeros(7, 1)),
        Err(NnError::InvalidData { .. })
    ));
    assert_eq!(
        Layer::<f64>::predict(&encoding, &DMatrix::zeros(0, 2))
            .unwrap()
            .shape(),
        (0, 2)
    );
    let model = Chain::<f64>::new().push(encoding);
    assert_eq!(model.output_size_for(9).unwrap(), Some(9));
    assert!(model.output_size_for(10).is_err());
    let single: Chain<f32> = model.cast().unwrap();
    let x = DMatrix::from_fn(30, 2, |r, c| (r + c) as f64 * 0.01);
    let y64 = model.predict(&x).unwrap();
    let y32 = single.predict(&x.map(|v| v as f32)).unwrap().map(f64::from);
    assert_close(&y32, &y64, 1e-6, "f32");
}
