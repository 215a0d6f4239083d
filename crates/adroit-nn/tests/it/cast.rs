//! `Cast`: models over another element type (Flux's `f64(model)`), for every layer of the
//! crate and every matrix element type, with the documented conversions (through `f64`, as
//! `as`; constants into duals; primal values out of them) and errors.

use adroit_forward::{Dual, DualVec};
use adroit_nn::{
    Activation, Cast, Chain, Context, Dense, Dropout, Layer, LayerNorm, MatScalar, NnError,
    param_values,
};
use adroit_reverse::matrix::MatVar;
use nalgebra::{DMatrix, dmatrix};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Every layer type of the crate, a nested chain included; `LayerNorm` with a non-default ε.
fn every_layer() -> Chain<f64> {
    let mut rng = StdRng::seed_from_u64(11);
    let mut norm = LayerNorm::new(4);
    norm.scale = dmatrix![1.5; 0.5; -1.0; 2.0];
    norm.bias = dmatrix![0.1; 0.2; 0.3; 0.4];
    norm.epsilon = 1e-3;
    Chain::new()
        .push(Dense::new(3, 4, Activation::Tanh, &mut rng))
        .push(norm)
        .push(Dropout::new(0.25).unwrap())
        .push(
            Chain::new()
                .push(Dense::new(4, 2, Activation::LeakyRelu(0.2), &mut rng).without_bias())
                .push(Activation::Softmax),
        )
}

fn names<T: MatScalar, M: Layer<T>>(model: &M) -> Vec<String> {
    let mut out = Vec::new();
    model.visit("", &mut |n, _| out.push(n.to_string()));
    out
}

/// Casts `model` to `U`: the same parameter names and shapes, each entry the `f64` entry
/// converted, and predictions (evaluation mode) equal to the `f64` model's within `tol`.
fn check_cast<U: MatScalar>(model: &Chain<f64>, tol: f64) {
    let cast: Chain<U> = model.cast().unwrap();
    let what = std::any::type_name::<U>();
    assert_eq!(names(&cast), names(model), "{what}");
    assert!(cast.check_params().is_ok(), "{what}");
    for (a, b) in param_values(model).iter().zip(param_values(&cast)) {
        assert_eq!(a.shape(), b.shape(), "{what}");
        for (x, y) in a.iter().zip(b.iter()) {
            let y = y.to_f64().unwrap();
            assert!((x - y).abs() <= tol * x.abs(), "{what}: {x} became {y}");
        }
    }
    let x = DMatrix::from_fn(3, 5, |i, j| ((i * 5 + j) as f64 * 0.9).sin());
    let expected = model.predict(&x).unwrap();
    let got = cast.predict(&x.cast()).unwrap();
    for (e, g) in expected.iter().zip(got.iter()) {
        let g = g.to_f64().unwrap();
        assert!(
            (e - g).abs() <= 100.0 * tol,
            "{what}: prediction {g}, f64 model {e}"
        );
    }
}

/// Every parameter entry of a model over a dual type has zero tangents (`==` on duals compares
/// values only, so the tangents are read).
fn assert_constants<U: MatScalar>(model: &Chain<U>, tangents: impl Fn(&U) -> Vec<f64>) {
    let mut seen = 0;
    for p in param_values(model) {
        for v in p.iter() {
            assert!(tangents(v).iter().all(|&t| t == 0.0), "a tangent invented");
            seen += 1;
        }
    }
    assert_eq!(seen, 12 + 4 + 4 + 4 + 8);
}

#[test]
fn every_layer_casts_to_every_element_type() {
    let model = every_layer();
    check_cast::<f64>(&model, 0.0);
    check_cast::<Dual<f64>>(&model, 1e-15);
    check_cast::<DualVec<f64, 12>>(&model, 1e-15);
    check_cast::<f32>(&model, 1e-7);
    check_cast::<Dual<f32>>(&model, 1e-7);
    check_cast::<DualVec<f32, 12>>(&model, 1e-7);
    assert_constants(&model.cast::<Dual<f64>>().unwrap(), |v| vec![v.tangent()]);
    assert_constants(&model.cast::<Dual<f32>>().unwrap(), |v| {
        vec![f64::from(v.tangent())]
    });
    assert_constants(&model.cast::<DualVec<f64, 12>>().unwrap(), |v| {
        v.tangents().to_vec()
    });
    let norm = model.cast::<Dual<f64>>().unwrap();
    let eps = norm.layer::<LayerNorm<Dual<f64>>>(1).unwrap().epsilon;
    assert_eq!((eps.value(), eps.tangent()), (1e-3, 0.0));
}

#[test]
fn f32_round_trips_through_f64_exactly() {
    let narrow: Chain<f32> = every_layer().cast().unwrap();
    let back: Chain<f32> = narrow.cast::<f64>().unwrap().cast().unwrap();
    assert_eq!(param_values(&back), param_values(&narrow));
    let norm = |m: &Chain<f32>| m.layer::<LayerNorm<f32>>(1).unwrap().epsilon;
    assert_eq!(norm(&back), 1e-3f32);
    // the nested chain keeps its layers and the activations their parameters
    let inner = back.layer::<Chain<f32>>(3).unwrap();
    let dense = inner.layer::<Dense<f32>>(0).unwrap();
    assert_eq!(
        (dense.activation, dense.bias.is_none()),
        (Activation::LeakyRelu(0.2), true)
    );
    assert_eq!(inner.layer::<Activation>(1), Some(&Activation::Softmax));
    assert_eq!(back.layer::<Dropout>(2).unwrap().p(), 0.25);
}

#[test]
fn narrowing_follows_as_and_duals_keep_their_primal() {
    let wide = Dense::from_parts(
        dmatrix![1e300, -1e300, f64::NAN, 1e-50, 0.1],
        None,
        Activation::Identity,
    )
    .unwrap();
    let narrow: Dense<f32> = wide.cast().unwrap();
    let w = &narrow.weight;
    assert_eq!(
        (w[0], w[1], w[3], w[4]),
        (f32::INFINITY, f32::NEG_INFINITY, 0.0, 0.1)
    );
    assert!(w[2].is_nan());
    // out of a dual type: the primal value, the tangent dropped
    let dual = Dense::from_parts(
        dmatrix![Dual::new(2.5, 1.0), Dual::new(-1.0, 7.0)],
        Some(dmatrix![Dual::new(0.5, -3.0)]),
        Activation::Sigmoid,
    )
    .unwrap();
    let plain: Dense<f64> = dual.cast().unwrap();
    assert_eq!(
        (plain.weight, plain.bias),
        (dmatrix![2.5, -1.0], Some(dmatrix![0.5]))
    );
}

/// A layer for `f64` only that does not override `cast_into`.
#[derive(Clone)]
struct Twice;

impl Layer<f64> for Twice {
    fn forward(&self, x: MatVar<f64>, _: &mut Context<f64>) -> MatVar<f64> {
        x * 2.0
    }
    fn visit<'a>(&'a self, _: &str, _: &mut dyn FnMut(&str, &'a DMatrix<f64>)) {}
    fn visit_mut(&mut self, _: &mut dyn FnMut(&mut DMatrix<f64>)) {}
}

#[test]
fn a_layer_that_cannot_be_cast_is_an_error_naming_it() {
    let inner = Chain::new().push(Activation::Relu).push(Twice);
    let model = every_layer().push(inner);
    let err = model.cast::<f32>().unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(&err, NnError::NotCastable { layer, .. } if layer == "layers.4.layers.1"),
        "{err:?}"
    );
    // the path through the nested chain: the outer chain's layer 4, the inner one's layer 1
    assert!(
        message.starts_with("layers.4.layers.1 (Twice) cannot be cast to f32"),
        "{message}"
    );
    assert!(model.cast::<f64>().is_err()); // even to its own type: nothing is guessed
}

#[test]
fn train_in_f32_then_gradcheck_the_f64_cast() {
    // The workflow the docs promise: training in f32, the trained model cast to f64 and its
    // whole gradient checked against finite differences (PyTorch's `model.double()` then
    // `gradcheck`).
    use adroit_nn::losses::{Agg, mse};
    use adroit_nn::optim::Adam;
    use adroit_nn::{Mode, loss_with_params, train_step};
    let mut rng = StdRng::seed_from_u64(4);
    let mut model = Chain::<f32>::new()
        .push(Dense::new(2, 5, Activation::Tanh, &mut rng))
        .push(LayerNorm::new(5))
        .push(Dense::new(5, 1, Activation::Identity, &mut rng));
    let x = DMatrix::from_fn(2, 16, |i, j| ((i * 16 + j) as f32 * 0.37).sin());
    let y = DMatrix::from_fn(1, 16, |_, j| x[(0, j)] * 0.5 - x[(1, j)] * x[(1, j)]);
    let mut opt = Adam::new(0.01);
    let loss = |p, t: &DMatrix<f32>| mse(p, t, Agg::Mean);
    let first = train_step(&mut model, &x, &y, &loss, &mut opt, 0).unwrap();
    let mut last = first;
    for _ in 0..50 {
        last = train_step(&mut model, &x, &y, &loss, &mut opt, 0).unwrap();
    }
    assert!(last < first, "training lowers the loss: {first} → {last}");
    let wide: Chain<f64> = model.cast().unwrap();
    let (x64, y64): (DMatrix<f64>, DMatrix<f64>) = (x.clone().cast(), y.clone().cast());
    let f = |p: &[MatVar<f64>]| {
        loss_with_params(&wide, p, Mode::Eval, 0, |m, ctx| {
            mse(
                m.forward(MatVar::constant(x64.clone()), ctx),
                &y64,
                Agg::Mean,
            )
        })
        .unwrap()
    };
    let report = adroit_check::matrix_gradcheck(
        f,
        &param_values(&wide),
        &adroit_check::Options::for_precision::<f64>(),
    )
    .unwrap_or_else(|m| panic!("{m}"));
    assert_eq!(report.comparisons, 10 + 5 + 5 + 5 + 5 + 1);
    // the f64 model's loss is the f32 model's to f32 rounding
    let l64 = wide.predict(&x64).unwrap() - &y64;
    let l32 = model.predict(&x).unwrap() - &y;
    assert!((l64.norm_squared() / 16.0 - f64::from(l32.norm_squared() / 16.0)).abs() < 1e-5);
}
