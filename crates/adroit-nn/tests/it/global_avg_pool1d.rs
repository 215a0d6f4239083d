//! GlobalAvgPool1d: the mean over steps against a loop, masking (each padded sequence as
//! alone, padding anywhere, a sequence of padding), gradients, sizes in a chain and casts.

use crate::recurrent::{assert_close, assert_gradients_match_finite_differences};
use adroit_nn::{Activation, Cast, Chain, Context, Dense, GlobalAvgPool1d, Layer, Mode, NnError};
use adroit_reverse::matrix::{self, MatVar};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The mean of sequence `b`'s steps of `x` (`dim` features each) that `keep` keeps, or zeros.
fn by_loop(x: &DMatrix<f64>, dim: usize, b: usize, keep: impl Fn(usize) -> bool) -> Vec<f64> {
    let steps: Vec<usize> = (0..x.nrows() / dim).filter(|&t| keep(t)).collect();
    (0..dim)
        .map(|i| {
            let total: f64 = steps.iter().map(|&t| x[(t * dim + i, b)]).sum();
            if steps.is_empty() {
                0.0
            } else {
                total / steps.len() as f64
            }
        })
        .collect()
}

#[test]
fn is_the_mean_over_steps() {
    for (dim, steps, batch) in [(3, 5, 4), (1, 7, 2), (4, 1, 3), (2, 6, 1)] {
        let x = DMatrix::from_fn(dim * steps, batch, |r, c| ((r * 5 + c) as f64 * 0.37).sin());
        let y = GlobalAvgPool1d::new(dim).unwrap().predict(&x).unwrap();
        assert_eq!(y.shape(), (dim, batch));
        for b in 0..batch {
            let want = DMatrix::from_vec(dim, 1, by_loop(&x, dim, b, |_| true));
            assert_close(&y.columns(b, 1).into_owned(), &want, 1e-15, "mean");
        }
    }
    // No steps, no sequences.
    let pool = GlobalAvgPool1d::new(2).unwrap();
    assert_eq!(
        Layer::<f64>::predict(&pool, &DMatrix::zeros(0, 3)).unwrap(),
        DMatrix::zeros(2, 3)
    );
    assert_eq!(
        Layer::<f64>::predict(&pool, &DMatrix::zeros(4, 0))
            .unwrap()
            .shape(),
        (2, 0)
    );
}

/// With `masking` the mean is over the real steps, wherever the padding is; a sequence of
/// padding alone gives zeros, and padding gets no gradient.
#[test]
fn masking_leaves_the_padding_out() {
    let (dim, steps) = (2, 4);
    let pool = GlobalAvgPool1d::new(dim).unwrap().masking(-7.0);
    let mut x = DMatrix::from_fn(dim * steps, 4, |r, c| ((r + 3 * c) as f64 * 0.61).cos());
    x.view_mut((4, 1), (4, 1)).fill(-7.0); // sequence 1: 2 real steps, then padding
    x.view_mut((2, 2), (2, 1)).fill(-7.0); // sequence 2: padding at step 1
    x.columns_mut(3, 1).fill(-7.0); // sequence 3: padding alone
    let y = pool.predict(&x).unwrap();
    let padding = |b: usize, t: usize| x.view((t * dim, b), (dim, 1)).iter().all(|&v| v == -7.0);
    for b in 0..4 {
        let want = DMatrix::from_vec(dim, 1, by_loop(&x, dim, b, |t| !padding(b, t)));
        assert_close(
            &y.columns(b, 1).into_owned(),
            &want,
            1e-15,
            &format!("sequence {b}"),
        );
    }
    let alone = pool.predict(&x.view((0, 1), (4, 1)).into_owned()).unwrap();
    assert_close(&y.columns(1, 1).into_owned(), &alone, 1e-15, "alone");
    assert_eq!(y.column(3).iter().copied().collect::<Vec<_>>(), [0.0, 0.0]);
    let w = DMatrix::from_fn(dim, 4, |r, c| (r + 2 * c) as f64 + 1.0);
    let (_, g) = matrix::value_and_gradient(
        |v| {
            let out = pool.forward(v[0], &mut Context::new(Mode::Eval, 0));
            out.component_mul(MatVar::constant(w.clone())).sum()
        },
        &[x.clone()],
    );
    // ∂/∂x at a real step of sequence b: w[:, b] / (its real steps); 0 at padding.
    for b in 0..4 {
        let real = (0..steps).filter(|&t| !padding(b, t)).count();
        for t in 0..steps {
            for i in 0..dim {
                let got = g[0][(t * dim + i, b)];
                if padding(b, t) {
                    assert_eq!(got, 0.0, "({t}, {i}, {b})");
                } else {
                    let want = w[(i, b)] / real as f64;
                    assert!((got - want).abs() <= 1e-15 * want.abs(), "({t}, {i}, {b})");
                }
            }
        }
    }
    // A mask value must be finite (an infinite one would meet the zero weights of the
    // padding): refused here and by the other masked layers.
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert!(matches!(
            Layer::<f64>::check_params(&pool.masking(bad)),
            Err(NnError::InvalidConfig { .. })
        ));
        assert!(Layer::<f64>::predict(&pool.masking(bad), &x).is_err());
        let encoder =
            adroit_nn::TransformerEncoderLayer::<f64>::new(2, 1, 4, &mut StdRng::seed_from_u64(0))
                .unwrap()
                .masking(bad);
        assert!(encoder.check_params().is_err());
    }
}

#[test]
fn gradients_match_finite_differences() {
    let pool = GlobalAvgPool1d::new(3).unwrap();
    let x = DMatrix::from_fn(12, 2, |r, c| ((2 * r + c) as f64 * 0.43).sin());
    let w = DMatrix::from_fn(3, 2, |r, c| ((r + 3 * c) as f64 * 0.29).cos());
    assert_gradients_match_finite_differences(&pool, &x, &w, 1e-9);
}

/// A sequence classifier: the pool's `dim` features into a dense layer, checked by a chain.
#[test]
fn sizes_in_a_chain_and_casts() {
    let mut rng = StdRng::seed_from_u64(1);
    let pool = GlobalAvgPool1d::new(4).unwrap();
    assert!(matches!(
        Layer::<f64>::predict(&pool, &DMatrix::zeros(10, 1)),
        Err(NnError::InvalidData { .. })
    ));
    let model =
        Chain::new()
            .push(pool)
            .push(Dense::<f64>::new(4, 3, Activation::Identity, &mut rng));
    assert!(model.check_params().is_ok());
    assert_eq!(model.output_size_for(40).unwrap(), Some(3));
    assert!(model.output_size_for(10).is_err());
    assert_eq!(
        model.predict(&DMatrix::zeros(20, 5)).unwrap().shape(),
        (3, 5)
    );
    let wrong =
        Chain::new()
            .push(pool)
            .push(Dense::<f64>::new(5, 3, Activation::Identity, &mut rng));
    assert!(wrong.check_params().is_err());
    let single: Chain<f32> = model.cast().unwrap();
    let x = DMatrix::from_fn(20, 2, |r, c| (r + c) as f64 * 0.1);
    let y32 = single.predict(&x.map(|v| v as f32)).unwrap().map(f64::from);
    assert_close(&y32, &model.predict(&x).unwrap(), 1e-6, "f32");
}
