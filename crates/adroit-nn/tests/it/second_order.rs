//! Second derivatives through adroit-nn's building blocks on the matrix tape (the Hessians of
//! `matrix::hessian`/`hvp`, entries `DualVec<f64, 12>`/`Dual<f64>`): every activation, every
//! loss and a whole model through `loss_with_params`, each against finite differences of its
//! `f64` gradient by adroit-check's `matrix_hessian_check`, at points away from kinks.

use adroit_check::{MatrixFn, Options, matrix_hessian_check};
use adroit_nn::losses::{self, Agg};
use adroit_nn::{Activation, Chain, Dense, Layer, MatScalar, Mode, loss_with_params};
use adroit_reverse::matrix::{self, MatVar};
use nalgebra::{DMatrix, dmatrix};
use rand::SeedableRng;

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
    Dice,
    Tversky,
    SiameseContrastive,
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
            Loss::Dice => losses::dice_coeff_loss(y_hat, &onehot, losses::DICE_SMOOTH),
            Loss::Tversky => losses::tversky_loss(y_hat, &onehot, losses::TVERSKY_BETA),
            Loss::SiameseContrastive => {
                losses::siamese_contrastive_loss(y_hat, &onehot, 0.9, Agg::Mean)
            }
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
        (Loss::Dice, &probabilities),
        (Loss::Tversky, &probabilities),
        // Distances away from the margin 0.9.
        (Loss::SiameseContrastive, &positive),
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

/// Parameters of the 3-4-2 [`network`]: weight 4 × 3, bias 4 × 1, weight 2 × 4, bias 2 × 1.
fn network_params() -> Vec<DMatrix<f64>> {
    vec![
        DMatrix::from_fn(4, 3, |i, j| ((i + 2 * j) as f64 * 0.9).cos() * 0.6),
        DMatrix::from_fn(4, 1, |i, _| 0.1 * i as f64 - 0.15),
        DMatrix::from_fn(2, 4, |i, j| ((3 * i + j) as f64 * 1.3).sin() * 0.8),
        dmatrix![0.05; -0.05],
    ]
}

#[test]
fn a_models_hessian_through_loss_with_params() {
    let params = network_params();
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

/// `Σ_k |θ_k|`-scaled central differences of `gradient` (f64): column `j` of the Hessian in
/// the flattened parameters (visit order, column-major), for the models below.
pub(crate) fn hessian_by_differences<M, F>(model: &M, grad: F) -> DMatrix<f64>
where
    M: Layer<f64> + Clone,
    F: Fn(&M) -> M,
{
    let flat = |m: &M| -> Vec<f64> {
        adroit_nn::param_values(m)
            .iter()
            .flat_map(|p| p.iter().copied())
            .collect()
    };
    let theta = flat(model);
    let n = theta.len();
    let with = |j: usize, delta: f64| {
        let mut m = model.clone();
        let mut k = 0;
        m.visit_mut(&mut |p| {
            for v in p.iter_mut() {
                if k == j {
                    *v += delta;
                }
                k += 1;
            }
        });
        m
    };
    let mut h = DMatrix::zeros(n, n);
    for j in 0..n {
        let step = 1e-5 * theta[j].abs().max(1.0);
        let (plus, minus) = (flat(&grad(&with(j, step))), flat(&grad(&with(j, -step))));
        for i in 0..n {
            h[(i, j)] = (plus[i] - minus[i]) / (2.0 * step);
        }
    }
    h
}

/// A 3-4-2 network with layer normalisation and dropout, softmax cross-entropy on 5 samples.
fn normalised_network() -> (Chain<f64>, DMatrix<f64>, DMatrix<f64>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let model = Chain::new()
        .push(Dense::new(3, 4, Activation::Tanh, &mut rng))
        .push(adroit_nn::LayerNorm::new(4))
        .push(adroit_nn::Dropout::new(0.3).unwrap())
        .push(Dense::new(4, 2, Activation::Identity, &mut rng));
    let x = DMatrix::from_fn(3, 5, |i, j| ((i * 5 + j) as f64 * 0.7).sin());
    let y = dmatrix![1.0, 0.0, 0.0, 1.0, 1.0; 0.0, 1.0, 1.0, 0.0, 0.0];
    (model, x, y)
}

/// The cross-entropy of [`normalised_network`] for any element type (data cast in).
fn network_loss<T: MatScalar>(
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
) -> impl Fn(&Chain<T>, &mut adroit_nn::Context<T>) -> Result<MatVar<T>, adroit_nn::NnError> {
    let (x, y): (DMatrix<T>, DMatrix<T>) = (x.clone().cast(), y.clone().cast());
    move |m, ctx| {
        let logits = m.forward(MatVar::constant(x.clone()), ctx);
        losses::logitcrossentropy(logits, &y, Agg::Mean)
    }
}

#[test]
fn a_models_hessian_by_nn_hessian_against_differences_of_its_gradient() {
    let (model, x, y) = normalised_network();
    for (mode, seed) in [(Mode::Eval, 0), (Mode::Train, 9)] {
        let (loss, grad, h) =
            adroit_nn::hessian_with(&model, mode, seed, network_loss(&x, &y)).unwrap();
        // value and gradient: those of the first-order call (the duals' primal parts)
        let (loss1, grad1) =
            adroit_nn::gradient_with(&model, mode, seed, network_loss(&x, &y)).unwrap();
        assert!((loss - loss1).abs() <= 1e-15 * loss1.abs(), "{mode:?}");
        for (a, b) in adroit_nn::param_values(&grad)
            .iter()
            .zip(adroit_nn::param_values(&grad1))
        {
            assert!((a - b).amax() <= 1e-15, "{mode:?}");
        }
        // 12 + 4 + 4 + 4 + 8 + 2 = 34 entries: three recordings of twelve columns
        assert_eq!(h.shape(), (34, 34));
        let fd = hessian_by_differences(&model, |m| {
            adroit_nn::gradient_with(m, mode, seed, network_loss(&x, &y))
                .unwrap()
                .1
        });
        let scale = h.amax();
        assert!(scale > 0.01, "{mode:?}: a Hessian with curvature");
        for i in 0..34 {
            for j in 0..34 {
                let (a, b) = (h[(i, j)], fd[(i, j)]);
                assert!(
                    (a - b).abs() <= 1e-7 * scale + 1e-6 * b.abs(),
                    "{mode:?} ({i}, {j}): {a} vs differences {b}"
                );
                assert!((a - h[(j, i)]).abs() <= 1e-14 * scale, "{mode:?} symmetry");
            }
        }
    }
}

#[test]
fn nn_hessian_equals_matrix_hessian_of_the_rebuilt_model() {
    // The 3-4-2 network of `NetworkLoss`, built once in f64 and cast by `hessian`, against
    // the same network rebuilt in the dual type for `matrix::hessian`.
    let params = network_params();
    let f = NetworkLoss {
        params: params.clone(),
    };
    let rebuilt = matrix::hessian(|m| f.eval(m), &params);
    let x = DMatrix::from_fn(3, 5, |i, j| ((i * 5 + j) as f64 * 0.7).sin());
    let y = dmatrix![1.0, 0.0, 0.0, 1.0, 1.0; 0.0, 1.0, 1.0, 0.0, 0.0];
    let (_, _, h) = adroit_nn::hessian_with(
        &network::<f64>(&params),
        Mode::Eval,
        0,
        network_loss(&x, &y),
    )
    .unwrap();
    assert_eq!(h, rebuilt);
}

#[test]
fn nn_hvp_is_the_hessian_times_the_direction() {
    let (model, x, y) = normalised_network();
    let (_, _, h) = adroit_nn::hessian(&model, network_loss(&x, &y)).unwrap();
    // a direction shaped like the model: entries 1 − θ
    let mut v = model.clone();
    v.visit_mut(&mut |p| p.apply(|e| *e = 1.0 - *e));
    let (loss, grad, hv) = adroit_nn::hvp(&model, &v, network_loss(&x, &y)).unwrap();
    let flat = |m: &Chain<f64>| adroit_nn::parameters_to_vector(m);
    let expected = &h * flat(&v);
    assert!((flat(&hv) - &expected).amax() <= 1e-13 * expected.amax());
    // value and gradient as the first-order call (Train mode, seed 0, as `gradient`)
    let (loss1, grad1) = adroit_nn::gradient(&model, network_loss(&x, &y)).unwrap();
    assert!((loss - loss1).abs() <= 1e-15 * loss1);
    assert!((flat(&grad) - flat(&grad1)).amax() <= 1e-15);
}

#[test]
fn an_f32_models_hessian_agrees_with_its_f64_cast() {
    use adroit_nn::Cast;
    let (model, x, y) = normalised_network();
    let narrow: Chain<f32> = model.cast().unwrap();
    let (_, _, h32) =
        adroit_nn::hessian_with(&narrow, Mode::Eval, 0, network_loss(&x, &y)).unwrap();
    let wide: Chain<f64> = narrow.cast().unwrap();
    let (_, _, h64) = adroit_nn::hessian_with(&wide, Mode::Eval, 0, network_loss(&x, &y)).unwrap();
    let diff = (h32.cast::<f64>() - &h64).amax();
    assert!(diff <= 1e-4 * h64.amax(), "{diff}");
}

#[test]
fn second_order_errors_are_typed() {
    let (model, x, _) = normalised_network();
    // a target of the wrong shape: the loss's error, from both
    let wrong = DMatrix::zeros(3, 5);
    let err = adroit_nn::hessian(&model, network_loss(&x, &wrong)).unwrap_err();
    assert!(
        matches!(err, adroit_nn::NnError::ShapeMismatch { .. }),
        "{err:?}"
    );
    let err = adroit_nn::hvp(&model, &model, network_loss(&x, &wrong)).unwrap_err();
    assert!(
        matches!(err, adroit_nn::NnError::ShapeMismatch { .. }),
        "{err:?}"
    );
    // a direction without the last layer: names the first missing parameter
    let mut short = model.clone();
    short.layers.pop();
    let y = DMatrix::zeros(2, 5);
    let err = adroit_nn::hvp(&model, &short, network_loss(&x, &y)).unwrap_err();
    assert!(
        matches!(
            err,
            adroit_nn::NnError::InvalidConfig {
                name: "hvp direction",
                ..
            }
        ),
        "{err}"
    );
    // one of another shape: named
    let mut wide = model.clone();
    wide.layer_mut::<Dense<f64>>(3).unwrap().weight = DMatrix::zeros(2, 5);
    let err = adroit_nn::hvp(&model, &wide, network_loss(&x, &y)).unwrap_err();
    assert!(err.to_string().contains("layers.3.weight"), "{err}");
    // a failing loss runs once, not once per recording (three here)
    let calls = std::cell::Cell::new(0);
    let counted = |m: &Chain<_>, ctx: &mut _| {
        calls.set(calls.get() + 1);
        network_loss(&x, &wrong)(m, ctx)
    };
    assert!(adroit_nn::hessian(&model, counted).is_err());
    assert_eq!(calls.get(), 1);
    // parameters that do not fit: the model's own check, before any recording
    let mut broken = model.clone();
    broken.layer_mut::<Dense<f64>>(3).unwrap().bias = Some(DMatrix::zeros(3, 1));
    let err = adroit_nn::hessian(&broken, network_loss(&x, &y)).unwrap_err();
    assert!(
        matches!(err, adroit_nn::NnError::ShapeMismatch { .. }),
        "{err:?}"
    );
}

#[test]
fn hvp_with_runs_the_chosen_mode_and_seed() {
    // with dropout, evaluation and each training seed are different functions: hvp_with of
    // each equals the Hessian of the same mode and seed times the direction
    let (model, x, y) = normalised_network();
    let mut v = model.clone();
    v.visit_mut(&mut |p| p.apply(|e| *e = 0.5 - *e));
    let flat = |m: &Chain<f64>| adroit_nn::parameters_to_vector(m);
    let mut products = Vec::new();
    for (mode, seed) in [(Mode::Eval, 0), (Mode::Train, 3), (Mode::Train, 4)] {
        let (_, _, h) = adroit_nn::hessian_with(&model, mode, seed, network_loss(&x, &y)).unwrap();
        let (_, _, hv) = adroit_nn::hvp_with(&model, &v, mode, seed, network_loss(&x, &y)).unwrap();
        let expected = &h * flat(&v);
        assert!(
            (flat(&hv) - &expected).amax() <= 1e-13 * expected.amax(),
            "{mode:?} {seed}"
        );
        products.push(flat(&hv));
    }
    assert!(
        (&products[0] - &products[1]).amax() > 1e-3,
        "Eval and Train differ"
    );
    assert!(
        (&products[1] - &products[2]).amax() > 1e-3,
        "the seeds' masks differ"
    );
}

#[test]
fn flat_parameters_follow_the_hessians_order() {
    // parameters_to_vector lists the entries as param_values does, each column-major, and
    // vector_to_parameters is its inverse; a vector of another length changes nothing
    let (model, _, _) = normalised_network();
    let theta = adroit_nn::parameters_to_vector(&model);
    let by_hand: Vec<f64> = adroit_nn::param_values(&model)
        .iter()
        .flat_map(|p| p.iter().copied())
        .collect();
    assert_eq!(theta.as_slice(), by_hand.as_slice());
    let mut other = model.clone();
    other.visit_mut(&mut |p| p.fill(0.0));
    adroit_nn::vector_to_parameters(&theta, &mut other).unwrap();
    assert_eq!(
        adroit_nn::param_values(&other),
        adroit_nn::param_values(&model)
    );
    let short = nalgebra::DVector::from_element(33, 1.0);
    assert!(adroit_nn::vector_to_parameters(&short, &mut other).is_err());
    assert_eq!(
        adroit_nn::param_values(&other),
        adroit_nn::param_values(&model)
    );
}

/// The mean squared error of a chain's output on `x` against `y`, for any element type (the
/// data cast in): a loss for `hessian` and `gradient` alike.
pub(crate) fn chain_mse<T: MatScalar>(
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
) -> impl Fn(&Chain<T>, &mut adroit_nn::Context<T>) -> Result<MatVar<T>, adroit_nn::NnError> {
    let (x, y): (DMatrix<T>, DMatrix<T>) = (x.clone().cast(), y.clone().cast());
    move |m, ctx| losses::mse(m.forward(MatVar::constant(x.clone()), ctx), &y, Agg::Mean)
}

#[test]
fn a_sequence_convolution_models_hessian_against_differences_of_its_gradient() {
    // Conv1d (causal, masked) → GlobalMaxPool1d (masked) → Dense, on 4 sequences of 6 steps
    // of 2 features, two of them padded: the Hessian in the 3·4 + 3 + 6 + 2 = 23 parameters
    // through the gather, the maximum and the masks' selects.
    let mut rng = rand::rngs::StdRng::seed_from_u64(6);
    let model = Chain::new()
        .push(
            adroit_nn::Conv1d::new(2, 3, 2, Activation::Tanh, &mut rng)
                .unwrap()
                .causal()
                .masking(-9.0),
        )
        .push(adroit_nn::GlobalMaxPool1d::new(3).unwrap().masking(-9.0))
        .push(Dense::new(3, 2, Activation::Identity, &mut rng));
    let lengths = [6, 4, 3, 6];
    let x = DMatrix::from_fn(12, 4, |r, c| {
        if r / 2 < lengths[c] {
            ((r * 4 + c) as f64 * 0.83).sin()
        } else {
            -9.0
        }
    });
    let y = dmatrix![1.0, 0.0, 0.0, 1.0; 0.0, 1.0, 1.0, 0.0];
    let (_, _, h) = adroit_nn::hessian(&model, network_loss(&x, &y)).unwrap();
    assert_eq!(h.shape(), (23, 23));
    let fd = hessian_by_differences(&model, |m| {
        adroit_nn::gradient(m, network_loss(&x, &y)).unwrap().1
    });
    let scale = h.amax();
    assert!(scale > 0.01, "a Hessian with curvature");
    assert!((&h - &fd).amax() <= 1e-7 * scale, "{h} vs differences {fd}");
}
