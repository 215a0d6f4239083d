//! Second derivatives through adroit-nn's building blocks on the matrix tape (the Hessians of
//! `matrix::hessian`/`hvp`, entries `DualVec<f64, 12>`/`Dual<f64>`): every activation, every
//! loss and a whole model through `loss_with_params`, each against finite differences of its
//! `f64` gradient by adroit-check's `matrix_hessian_check`, at points away from kinks.

use adroit_check::{MatrixFn, Options, matrix_hessian_check};
use adroit_nn::losses::{self, Agg};
use adroit_nn::{Activation, Chain, Dense, Layer, MatScalar, Mode, loss_with_params};
use adroit_reverse::matrix::{self, MatVar};
use nalgebra::{DMatrix, dmatrix};

/// Pre-activations away from every activation's kinks (0, ±1, ±3, 6).
fn pre_activations() -> DMatrix<f64> {
    dmatrix![-2.5, -0.6, 0.45, 1.3; 2.2, 4.1, -1.7, 6.4; 0.8, -3.6, 2.7, -0.2]
}

/// `Σ c ⊙ σ(z)² + Σ σ(z)` for an activation `σ`: squared, so that a piecewise-linear `σ` has
/// a second derivative (`2c·σ'²`) to check too.
struct ActivationLoss(Activation);

impl MatrixFn for ActivationLoss {
    fn eval<T: MatScalar>(&self, m: &[MatVar<T>]) -> MatVar<T> {
        let c = MatVar::constant(DMatrix::from_fn(3, 4, |i, j| 0.3 + 0.1 * (i + j) as f64).cast());
        let a = self.0.apply(m[0]);
        a.component_mul(a).component_mul(c).sum() + a.sum()
    }
}

#[test]
fn every_activation() {
    let all = [
        Activation::Identity,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
        Activation::LEAKY_RELU,
        Activation::Relu6,
        Activation::ELU,
        Activation::Selu,
        Activation::GeluTanh,
        Activation::GeluErf,
        Activation::Swish,
        Activation::Softplus,
        Activation::Softsign,
        Activation::HardSigmoid,
        Activation::HardTanh,
        Activation::Mish,
        Activation::LogSigmoid,
        Activation::Softmax,
        Activation::LogSoftmax,
    ];
    let options = Options::for_precision::<f64>();
    for act in all {
        let report = matrix_hessian_check(&ActivationLoss(act), &[pre_activations()], &options)
            .unwrap_or_else(|m| panic!("{act:?}: {m}"));
        assert_eq!(report.comparisons, 2 * 12 * 12, "{act:?}");
    }
}

/// Each loss of the crate as a function of the prediction, against a fixed target.
#[derive(Clone, Copy, Debug)]
enum Loss {
    Mse,
    Mae,
    Msle,
    Huber,
    Poisson,
    CrossEntropy,
    LogitCrossEntropy,
    BinaryCrossEntropy,
    LogitBinaryCrossEntropy,
    KlDivergence,
    Hinge,
    SquaredHinge,
    Focal,
    BinaryFocal,
}

impl MatrixFn for Loss {
    fn eval<T: MatScalar>(&self, m: &[MatVar<T>]) -> MatVar<T> {
        let (y_hat, cast) = (m[0], |y: DMatrix<f64>| -> DMatrix<T> { y.cast() });
        // Targets: regression values, one-hot columns, binary labels, ±1 labels.
        let values = cast(dmatrix![0.5, 1.5, 0.2; 2.0, 0.1, 0.9]);
        let onehot = cast(dmatrix![1.0, 0.0, 0.0; 0.0, 1.0, 1.0]);
        let distributions = cast(dmatrix![0.3, 0.8, 0.5; 0.7, 0.2, 0.5]);
        let signs = cast(dmatrix![1.0, -1.0, 1.0; -1.0, 1.0, 1.0]);
        let out = match self {
            Loss::Mse => losses::mse(y_hat, &values, Agg::Mean),
            Loss::Mae => losses::mae(y_hat, &values, Agg::Mean),
            Loss::Msle => losses::msle(y_hat, &values, Agg::Mean),
            Loss::Huber => losses::huber_loss(y_hat, &values, 1.0, Agg::Mean),
            Loss::Poisson => losses::poisson_loss(y_hat, &values, Agg::Mean),
            Loss::CrossEntropy => losses::crossentropy(y_hat, &onehot, Agg::Mean),
            Loss::LogitCrossEntropy => losses::logitcrossentropy(y_hat, &onehot, Agg::Mean),
            Loss::BinaryCrossEntropy => losses::binarycrossentropy(y_hat, &onehot, Agg::Mean),
            Loss::LogitBinaryCrossEntropy => {
                losses::logitbinarycrossentropy(y_hat, &onehot, Agg::Mean)
            }
            Loss::KlDivergence => losses::kldivergence(y_hat, &distributions, Agg::Sum),
            Loss::Hinge => losses::hinge_loss(y_hat, &signs, Agg::Mean),
            Loss::SquaredHinge => losses::squared_hinge_loss(y_hat, &signs, Agg::Mean),
            Loss::Focal => losses::focal_loss(y_hat, &onehot, 2.0, Agg::Mean),
            Loss::BinaryFocal => losses::binary_focal_loss(y_hat, &onehot, 2.0, Agg::Mean),
        };
        out.expect("shapes match")
    }
}

#[test]
fn every_loss() {
    // Predictions: positive, probabilities inside (0, 1) (each column summing to 1 for the
    // class losses), away from the Huber threshold and the hinges' kinks (y·ŷ = 1).
    let positive = dmatrix![0.7, 1.2, 0.4; 1.6, 0.3, 1.1];
    let probabilities = dmatrix![0.35, 0.6, 0.25; 0.65, 0.4, 0.75];
    let logits = dmatrix![0.3, -1.2, 0.8; -0.5, 2.0, -0.25];
    let cases = [
        (Loss::Mse, &logits),
        (Loss::Mae, &logits),
        (Loss::Msle, &positive),
        (Loss::Huber, &logits),
        (Loss::Poisson, &positive),
        (Loss::CrossEntropy, &probabilities),
        (Loss::LogitCrossEntropy, &logits),
        (Loss::BinaryCrossEntropy, &probabilities),
        (Loss::LogitBinaryCrossEntropy, &logits),
        (Loss::KlDivergence, &probabilities),
        (Loss::Hinge, &logits),
        (Loss::SquaredHinge, &logits),
        (Loss::Focal, &probabilities),
        (Loss::BinaryFocal, &probabilities),
    ];
    let options = Options::for_precision::<f64>();
    for (loss, y_hat) in cases {
        let report = matrix_hessian_check(&loss, std::slice::from_ref(y_hat), &options)
            .unwrap_or_else(|m| panic!("{loss:?}: {m}"));
        assert_eq!(report.comparisons, 2 * 6 * 6, "{loss:?}");
    }
    // a loss with curvature has a nonzero Hessian (the check alone would pass all zeros
    // against zero differences only if the gradient were constant)
    let h = matrix::hessian(|m| Loss::LogitCrossEntropy.eval(m), &[logits]);
    assert!(h.amax() > 0.05, "{h}");
}

/// A 3-4-2 network (tanh, then logits) built for the element type `T` from `f64` parameters.
fn network<T: MatScalar>(params: &[DMatrix<f64>]) -> Chain<T> {
    let dense = |w: &DMatrix<f64>, b: &DMatrix<f64>, act| {
        Dense::from_parts(w.clone().cast(), Some(b.clone().cast()), act).expect("shapes fit")
    };
    Chain::new()
        .push(dense(&params[0], &params[1], Activation::Tanh))
        .push(dense(&params[2], &params[3], Activation::Identity))
}

/// The network's softmax cross-entropy on a fixed batch, as a function of its parameters
/// (those of the network it is built with, read back through `loss_with_params`).
struct NetworkLoss {
    params: Vec<DMatrix<f64>>,
}

impl MatrixFn for NetworkLoss {
    fn eval<T: MatScalar>(&self, m: &[MatVar<T>]) -> MatVar<T> {
        let model = network::<T>(&self.params);
        let x: DMatrix<T> = DMatrix::from_fn(3, 5, |i, j| ((i * 5 + j) as f64 * 0.7).sin()).cast();
        let y: DMatrix<T> = dmatrix![1.0, 0.0, 0.0, 1.0, 1.0; 0.0, 1.0, 1.0, 0.0, 0.0].cast();
        loss_with_params(&model, m, Mode::Eval, 0, |model, ctx| {
            let logits = model.forward(MatVar::constant(x.clone()), ctx);
            losses::logitcrossentropy(logits, &y, Agg::Mean)
        })
        .expect("parameters of the model's shapes")
    }
}

#[test]
fn a_models_hessian_through_loss_with_params() {
    let params = vec![
        DMatrix::from_fn(4, 3, |i, j| ((i + 2 * j) as f64 * 0.9).cos() * 0.6),
        DMatrix::from_fn(4, 1, |i, _| 0.1 * i as f64 - 0.15),
        DMatrix::from_fn(2, 4, |i, j| ((3 * i + j) as f64 * 1.3).sin() * 0.8),
        dmatrix![0.05; -0.05],
    ];
    let f = NetworkLoss {
        params: params.clone(),
    };
    let options = Options::for_precision::<f64>();
    let report = matrix_hessian_check(&f, &params, &options).unwrap_or_else(|m| panic!("{m}"));
    // 12 + 4 + 8 + 2 = 26 parameters: three recordings of twelve directions
    assert_eq!(report.comparisons, 2 * 26 * 26);
    // the Hessian of the whole model agrees with its Hessian-vector products
    let h = matrix::hessian(|m| f.eval(m), &params);
    let v: Vec<DMatrix<f64>> = params.iter().map(|p| p.map(|x| 1.0 - x)).collect();
    let hv = matrix::hvp(|m| f.eval(m), &params, &v);
    let flat_v = nalgebra::DVector::from_iterator(26, v.iter().flat_map(|m| m.iter().copied()));
    let expected = &h * flat_v;
    let got: Vec<f64> = hv.iter().flat_map(|m| m.iter().copied()).collect();
    for (a, b) in got.iter().zip(expected.iter()) {
        assert!((a - b).abs() <= 1e-13 * h.amax(), "{a} vs {b}");
    }
}
