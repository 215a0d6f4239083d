//! SkipConnection: outputs of both connections, gradients and Hessians against finite
//! differences, size checks, names, casts, weight files and state inside it.

use adroit_nn::losses::{Agg, mse};
use adroit_nn::{
    Activation, BatchNorm, Cast, Chain, Connection, Context, Dense, Layer, Mode, NnError,
    SkipConnection, gradient, loss_with_params, param_values,
};
use adroit_reverse::matrix::MatVar;
use nalgebra::DMatrix;
use rand::SeedableRng;

/// A residual MLP: Dense(3 → 4), then x + Dense(4 → 4, identity)(tanh(Dense(4 → 4)(x))), then
/// Dense(4 → 2).
fn residual_model() -> Chain<f64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    let block = Chain::new()
        .push(Dense::new(4, 4, Activation::Tanh, &mut rng))
        .push(Dense::new(4, 4, Activation::Identity, &mut rng));
    Chain::new()
        .push(Dense::new(3, 4, Activation::Relu, &mut rng))
        .push(SkipConnection::new(block, Connection::Add))
        .push(Dense::new(4, 2, Activation::Identity, &mut rng))
}

fn data() -> (DMatrix<f64>, DMatrix<f64>) {
    let x = DMatrix::from_fn(3, 6, |i, j| ((i * 6 + j) as f64 * 0.8).sin());
    let y = DMatrix::from_fn(2, 6, |i, j| ((i + j) % 3) as f64 - 1.0);
    (x, y)
}

/// Both connections compute what they say, on a layer's output computed alone.
#[test]
fn add_and_concat_combine_the_layers_output_with_its_input() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let square = Dense::<f64>::new(3, 3, Activation::Tanh, &mut rng);
    let wide = Dense::<f64>::new(3, 2, Activation::Sigmoid, &mut rng);
    let (x, _) = data();
    let add = SkipConnection::new(square.clone(), Connection::Add);
    assert_eq!(add.predict(&x).unwrap(), square.predict(&x).unwrap() + &x);
    let cat = SkipConnection::new(wide.clone(), Connection::Concat);
    let y = cat.predict(&x).unwrap();
    assert_eq!(y.shape(), (5, 6));
    assert_eq!(y.rows(0, 2), wide.predict(&x).unwrap());
    assert_eq!(y.rows(2, 3), x);
    assert_eq!((add.output_size(), cat.output_size()), (Some(3), Some(5)));
    assert!(add.preserves_size() && !cat.preserves_size());
}

/// Every gradient of the residual model, parameters and input, against finite differences;
/// the model-shaped gradient reaches the block's layers.
#[test]
fn gradients_match_finite_differences() {
    let model = residual_model();
    let (x, y) = data();
    let loss = |m: &Chain<f64>, ctx: &mut Context<f64>| {
        mse(m.forward(MatVar::constant(x.clone()), ctx), &y, Agg::Mean)
    };
    let options = adroit_check::Options::for_precision::<f64>();
    let report = adroit_check::matrix_gradcheck(
        |p| loss_with_params(&model, p, Mode::Train, 0, loss).unwrap(),
        &param_values(&model),
        &options,
    )
    .unwrap();
    assert_eq!(report.comparisons, 12 + 4 + 16 + 4 + 16 + 4 + 8 + 2);
    let report = adroit_check::matrix_gradcheck(
        |v| {
            let mut ctx = Context::new(Mode::Eval, 0);
            mse(model.forward(v[0], &mut ctx), &y, Agg::Mean).unwrap()
        },
        std::slice::from_ref(&x),
        &options,
    )
    .unwrap();
    assert_eq!(report.comparisons, 18);
    let (_, grads) = gradient(&model, loss).unwrap();
    let skip = grads.layer::<SkipConnection<f64>>(1).unwrap();
    let inner = skip.layer::<Chain<f64>>().unwrap();
    let flat = param_values(&grads);
    assert_eq!(inner.layer::<Dense<f64>>(0).unwrap().weight, flat[2]);
}

/// The Hessian in the parameters through a skip connection, against differences of its
/// gradient.
#[test]
fn hessian_matches_differences_of_the_gradient() {
    let model = residual_model();
    let (x, y) = data();
    let (_, _, h) = adroit_nn::hessian_with(
        &model,
        Mode::Eval,
        0,
        crate::second_order::chain_mse(&x, &y),
    )
    .unwrap();
    assert_eq!(h.shape(), (66, 66));
    let fd = crate::second_order::hessian_by_differences(&model, |m| {
        gradient(m, crate::second_order::chain_mse(&x, &y))
            .unwrap()
            .1
    });
    let scale = h.amax();
    assert!(scale > 0.01 && (&h - &fd).amax() <= 1e-7 * scale);
}

/// Sizes that cannot add are typed errors before any forward pass where the layers state
/// them, and a chain checks the sizes a concatenation gives; a layer that states none
/// panics in the forward pass, naming both shapes.
#[test]
fn sizes_are_checked() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(2);
    let wide = Dense::<f64>::new(3, 4, Activation::Tanh, &mut rng);
    let bad = SkipConnection::new(wide.clone(), Connection::Add);
    let err = bad.check_params().unwrap_err();
    assert!(
        matches!(
            err,
            NnError::InvalidConfig {
                name: "SkipConnection",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(bad.predict(&DMatrix::zeros(3, 2)).unwrap_err(), err);
    let cat = SkipConnection::new(wide, Connection::Concat);
    let fits =
        Chain::new()
            .push(cat.clone())
            .push(Dense::new(7, 1, Activation::Identity, &mut rng));
    assert!(fits.check_params().is_ok());
    let misfit = Chain::new()
        .push(cat)
        .push(Dense::new(4, 1, Activation::Identity, &mut rng));
    assert!(matches!(
        misfit.check_params(),
        Err(NnError::InvalidConfig { .. })
    ));
    // A layer that states no sizes: the chain follows them through (`output_size_for`),
    // [tanh(h); h] has 8 features for h of 4.
    let dense =
        |i, o, rng: &mut rand::rngs::StdRng| Dense::<f64>::new(i, o, Activation::Identity, rng);
    let stacked = |out_in, rng: &mut rand::rngs::StdRng| {
        Chain::new()
            .push(dense(3, 4, rng))
            .push(SkipConnection::new(Activation::Tanh, Connection::Concat))
            .push(dense(out_in, 1, rng))
    };
    let err = stacked(5, &mut rng).check_params().unwrap_err();
    assert!(
        err.to_string()
            .contains("layer 2 takes 5 input features, but the layers before it give 8"),
        "{err}"
    );
    assert_eq!(
        stacked(8, &mut rng)
            .predict(&DMatrix::zeros(3, 2))
            .unwrap()
            .shape(),
        (1, 2)
    );
    // The same through a Parallel of a size-keeping branch and a dense one (4 + 2 features).
    let parallel = |out_in, rng: &mut rand::rngs::StdRng| {
        Chain::new()
            .push(dense(3, 4, rng))
            .push(
                adroit_nn::Parallel::new(Connection::Concat)
                    .push(Activation::Identity)
                    .push(dense(4, 2, rng)),
            )
            .push(dense(out_in, 1, rng))
    };
    assert!(parallel(5, &mut rng).check_params().is_err());
    assert_eq!(
        parallel(6, &mut rng)
            .predict(&DMatrix::zeros(3, 2))
            .unwrap()
            .shape(),
        (1, 2)
    );
}

/// A layer of one's own that states no sizes and changes the number of features.
#[derive(Clone)]
struct FirstRow;

impl Layer<f64> for FirstRow {
    fn forward(&self, x: MatVar<f64>, _: &mut Context<f64>) -> MatVar<f64> {
        x.rows(0, 1)
    }
    fn visit<'a>(&'a self, _: &str, _: &mut dyn FnMut(&str, &'a DMatrix<f64>)) {}
    fn visit_mut(&mut self, _: &mut dyn FnMut(&mut DMatrix<f64>)) {}
}

#[test]
#[should_panic(expected = "SkipConnection (Add): the layer maps a 3×2 input to 1×2")]
fn adding_an_output_of_another_shape_panics_naming_both() {
    // Without the check, a 1 × 2 output would broadcast over the 3 × 2 input silently.
    let skip = SkipConnection::new(FirstRow, Connection::Add);
    let _ = skip.predict(&DMatrix::zeros(3, 2));
}

/// Names carry `layer.`; weight files round-trip; casts keep the connection and report a
/// layer that cannot be cast with its path.
#[test]
fn names_files_and_casts() {
    let model = residual_model();
    let mut names = Vec::new();
    model.visit("", &mut |name, _| names.push(name.to_string()));
    assert_eq!(names[2], "layers.1.layer.layers.0.weight");
    let bytes = adroit_nn::io::to_safetensors_bytes(&model).unwrap();
    let mut other = residual_model();
    other.visit_mut(&mut |p| p.fill(0.0));
    adroit_nn::io::load_safetensors_bytes(&mut other, &bytes).unwrap();
    let (x, _) = data();
    assert_eq!(other.predict(&x).unwrap(), model.predict(&x).unwrap());
    let single: Chain<f32> = model.cast().unwrap();
    let back = single.predict(&x.clone().cast::<f32>()).unwrap();
    assert!((back.cast::<f64>() - model.predict(&x).unwrap()).amax() < 1e-5);
    let uncastable = Chain::<f64>::new().push(SkipConnection::new(FirstRow, Connection::Concat));
    let err = uncastable.cast::<f32>().unwrap_err();
    let NnError::NotCastable { layer, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(layer, "layers.0.layer");
    let nested = SkipConnection::new(Chain::<f64>::new().push(FirstRow), Connection::Concat);
    let err = Chain::new().push(nested).cast::<f32>().unwrap_err();
    let NnError::NotCastable { layer, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(layer, "layers.0.layer.layers.0");
}

/// A BatchNorm inside a skip connection: its state is named through it and moves once per
/// training step.
#[test]
fn state_inside_a_skip_connection_is_named_and_updated() {
    let mut model = Chain::<f64>::new().push(SkipConnection::new(
        BatchNorm::<f64>::new(3),
        Connection::Concat,
    ));
    let mut names = Vec::new();
    model.visit_state("", &mut |name, _| names.push(name.to_string()));
    assert_eq!(
        names,
        ["layers.0.layer.running_mean", "layers.0.layer.running_var"]
    );
    let (x, _) = data();
    let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    let mut opt = adroit_nn::optim::Descent::new(0.0);
    adroit_nn::train_step(&mut model, &x, &DMatrix::zeros(6, 6), &loss, &mut opt, 0).unwrap();
    let bn = model
        .layer::<SkipConnection<f64>>(0)
        .unwrap()
        .layer::<BatchNorm<f64>>()
        .unwrap();
    let mean = DMatrix::from_fn(3, 1, |i, _| x.row(i).mean());
    assert!((&bn.running_mean - mean * 0.1).amax() < 1e-15);
}

/// Size checks through nested containers (a review's findings): a misfit inside a nested
/// chain, a residual block whose layer changes the size, a sum of branches of different
/// sizes, rows beyond the input a chain supplies — all refused by `check_params` before any
/// forward pass, and data a layer-less-sized model cannot take refused by `predict` (they
/// panicked in the forward pass).
#[test]
fn misfits_inside_containers_are_refused_up_front() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(12);
    let mut d = |i, o| Dense::<f64>::new(i, o, Activation::Identity, &mut rng);
    let stack = || SkipConnection::<f64>::new(Activation::Tanh, Connection::Concat);
    let refused = |model: &Chain<f64>, part: &str| {
        let err = model.check_params().unwrap_err();
        assert!(matches!(err, NnError::InvalidConfig { .. }), "{err:?}");
        assert!(err.to_string().contains(part), "{err}");
        assert_eq!(model.predict(&DMatrix::zeros(3, 2)).unwrap_err(), err);
    };
    let nested = Chain::new()
        .push(d(3, 4))
        .push(Chain::new().push(stack()).push(d(5, 1)));
    refused(
        &nested,
        "layer 1: layer 1 takes 5 input features, but the layers before it give 8",
    );
    let residual = Chain::new()
        .push(d(3, 4))
        .push(SkipConnection::new(stack(), Connection::Add));
    refused(&residual, "maps 4 features to 8");
    let sum = Chain::new().push(d(3, 4)).push(
        adroit_nn::Parallel::new(Connection::Add)
            .push(Activation::Identity)
            .push(stack()),
    );
    refused(&sum, "equal output sizes");
    let beyond = Chain::new().push(d(3, 2)).push(
        adroit_nn::Parallel::new(Connection::Concat)
            .push(Activation::Identity)
            .push_rows(0..3, Activation::Identity),
    );
    refused(&beyond, "reads rows 0..3 of an input of 2 features");
    // No layer states the input size: the data's rows are followed through the layers.
    let open = Chain::new().push(stack()).push(d(8, 1));
    assert_eq!(open.input_size(), None);
    assert_eq!(open.predict(&DMatrix::zeros(4, 2)).unwrap().shape(), (1, 2));
    let err = open.predict(&DMatrix::zeros(5, 2)).unwrap_err();
    assert!(matches!(err, NnError::InvalidData { .. }), "{err:?}");
    assert!(
        err.to_string().contains("cannot take 5 input features"),
        "{err}"
    );
    let mut model = open.clone();
    let data = DMatrix::zeros(5, 4);
    let mut loader = adroit_nn::data::DataLoader::new(data, DMatrix::zeros(1, 4), 2).unwrap();
    let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    let mut opt = adroit_nn::optim::Descent::new(0.1);
    let config = adroit_nn::TrainConfig::default();
    let err =
        adroit_nn::train(&mut model, &mut loader, loss, &mut opt, &config, &mut []).unwrap_err();
    assert!(
        matches!(err.error, NnError::InvalidData { .. }),
        "{:?}",
        err.error
    );
    // Refused before the first step (a step's error would name its epoch and batch).
    assert!(!err.error.to_string().contains("(epoch"), "{}", err.error);
    let (x, y) = (DMatrix::zeros(5, 2), DMatrix::zeros(1, 2));
    let step = adroit_nn::train_step(&mut model, &x, &y, &loss, &mut opt, 0);
    assert!(matches!(step, Err(NnError::InvalidData { .. })));
}
