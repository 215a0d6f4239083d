//! Parallel: both connections against the branches run alone, row routing, gradients and
//! Hessians against finite differences, size checks, names, state, files and casts.

use adroit_nn::losses::{Agg, mse};
use adroit_nn::{
    Activation, BatchNorm, Cast, Chain, Connection, Context, Dense, Embedding, Layer, Mode,
    NnError, Parallel, gradient, loss_with_params, param_values,
};
use adroit_reverse::matrix::MatVar;
use nalgebra::DMatrix;
use rand::SeedableRng;

/// Row 0: an id in 0..6; rows 1..4: numeric features. 4 rows × 7 samples.
fn tabular() -> DMatrix<f64> {
    DMatrix::from_fn(4, 7, |i, j| {
        if i == 0 {
            ((j * 5) % 6) as f64
        } else {
            ((i * 7 + j) as f64 * 0.6).sin()
        }
    })
}

/// Embedding(6 → 3) on row 0 beside Dense(3 → 2, tanh) on rows 1..4, stacked; then Dense(5 → 2).
fn routed_model() -> Chain<f64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(6);
    let inputs = Parallel::new(Connection::Concat)
        .push_rows(0..1, Embedding::new(6, 3, &mut rng))
        .push_rows(1..4, Dense::new(3, 2, Activation::Tanh, &mut rng));
    Chain::new()
        .push(inputs)
        .push(Dense::new(5, 2, Activation::Identity, &mut rng))
}

#[test]
fn outputs_are_the_branches_outputs_combined() {
    let x = tabular();
    let model = routed_model();
    let inputs = model.layer::<Parallel<f64>>(0).unwrap();
    let embedding = inputs.layer::<Embedding<f64>>(0).unwrap();
    let dense = inputs.layer::<Dense<f64>>(1).unwrap();
    let y = inputs.predict(&x).unwrap();
    assert_eq!(
        y.rows(0, 3),
        embedding.predict(&x.rows(0, 1).into_owned()).unwrap()
    );
    assert_eq!(
        y.rows(3, 2),
        dense.predict(&x.rows(1, 3).into_owned()).unwrap()
    );
    assert_eq!(
        (inputs.input_size(), inputs.output_size()),
        (Some(4), Some(5))
    );
    assert_eq!(model.input_size(), Some(4));
    // Ranges alone: the input has as many rows as the largest end (rows between ranges skipped).
    let ranges = |a: std::ops::Range<usize>, b: std::ops::Range<usize>| {
        Parallel::<f64>::new(Connection::Concat)
            .push_rows(a, Activation::Identity)
            .push_rows(b, Activation::Identity)
            .input_size()
    };
    assert_eq!(ranges(2..4, 0..2), Some(4));
    assert_eq!(ranges(0..1, 2..4), Some(4));
    assert_eq!(ranges(0..2, 1..3), Some(3));
    // A whole-input branch that keeps the size gives the input's size.
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    let keep = Parallel::<f64>::new(Connection::Concat)
        .push(Activation::Identity)
        .push(Dense::new(4, 2, Activation::Identity, &mut rng));
    assert_eq!((keep.input_size(), keep.output_size()), (Some(4), Some(6)));
    // Add: the sum of the whole-input branches.
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let (a, b) = (
        Dense::<f64>::new(3, 2, Activation::Sigmoid, &mut rng),
        Dense::<f64>::new(3, 2, Activation::Tanh, &mut rng),
    );
    let sum = Parallel::new(Connection::Add)
        .push(a.clone())
        .push(b.clone());
    let z = x.rows(1, 3).into_owned();
    assert_eq!(
        sum.predict(&z).unwrap(),
        a.predict(&z).unwrap() + b.predict(&z).unwrap()
    );
    assert_eq!((sum.input_size(), sum.output_size()), (Some(3), Some(2)));
}

#[test]
fn gradients_and_hessian_match_finite_differences() {
    let model = routed_model();
    let x = tabular();
    let y = DMatrix::from_fn(2, 7, |i, j| ((i + j) % 3) as f64 - 1.0);
    let loss = |m: &Chain<f64>, ctx: &mut Context<f64>| {
        mse(m.forward(MatVar::constant(x.clone()), ctx), &y, Agg::Mean)
    };
    let report = adroit_check::matrix_gradcheck(
        |p| loss_with_params(&model, p, Mode::Train, 0, loss).unwrap(),
        &param_values(&model),
        &adroit_check::Options::for_precision::<f64>(),
    )
    .unwrap();
    assert_eq!(report.comparisons, 18 + 6 + 2 + 10 + 2);
    let (_, _, h) = adroit_nn::hessian(&model, crate::second_order::chain_mse(&x, &y)).unwrap();
    let fd = crate::second_order::hessian_by_differences(&model, |m| {
        gradient(m, crate::second_order::chain_mse(&x, &y))
            .unwrap()
            .1
    });
    assert!(h.amax() > 0.01 && (&h - &fd).amax() <= 1e-7 * h.amax());
}

#[test]
fn sizes_that_do_not_fit_are_typed_errors() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(2);
    let dense =
        |i, o, rng: &mut rand::rngs::StdRng| Dense::<f64>::new(i, o, Activation::Identity, rng);
    let check = |p: Parallel<f64>| match p.check_params() {
        Err(NnError::InvalidConfig {
            name: "Parallel",
            reason,
        }) => reason,
        other => panic!("{other:?}"),
    };
    assert!(check(Parallel::new(Connection::Add)).contains("no branches"));
    let wrong_rows = Parallel::new(Connection::Concat).push_rows(0..2, dense(3, 1, &mut rng));
    assert!(check(wrong_rows).contains("reads rows 0..2 (2 features) but its layer takes 3"));
    let empty = Parallel::new(Connection::Concat).push_rows(2..2, Activation::Identity);
    assert!(check(empty).contains("empty rows"));
    let disagree = Parallel::new(Connection::Concat)
        .push(dense(3, 1, &mut rng))
        .push(dense(4, 1, &mut rng));
    assert!(check(disagree).contains("takes 4 input features"));
    let unequal = Parallel::new(Connection::Add)
        .push(dense(3, 1, &mut rng))
        .push(dense(3, 2, &mut rng));
    assert!(check(unequal).contains("equal output sizes"));
    // A size-keeping branch beside one that changes it (Flux's Parallel(+, identity, Dense)).
    let keep_and_change = Parallel::new(Connection::Add)
        .push(Activation::Identity)
        .push(dense(4, 3, &mut rng));
    assert!(check(keep_and_change).contains("equal output sizes"));
    // Rows beyond what the whole-input branches take.
    let beyond = Parallel::new(Connection::Concat)
        .push(dense(3, 2, &mut rng))
        .push_rows(2..5, Activation::Identity);
    assert!(check(beyond).contains("reads rows 2..5 of an input of 3 features"));
    // Ranges with a gap still check the data's rows up front.
    let gapped = Chain::new()
        .push(
            Parallel::new(Connection::Concat)
                .push_rows(0..1, Embedding::new(4, 2, &mut rng))
                .push_rows(2..4, Activation::Identity),
        )
        .push(dense(4, 1, &mut rng));
    let err = gapped.predict(&DMatrix::zeros(3, 2)).unwrap_err();
    assert!(matches!(err, NnError::ShapeMismatch { .. }), "{err:?}");
    // A chain checks what the parallel layer gives: 5 features into a layer taking 4.
    let model = Chain::new()
        .push(routed_model().layer::<Parallel<f64>>(0).unwrap().clone())
        .push(dense(4, 1, &mut rng));
    assert!(matches!(
        model.check_params(),
        Err(NnError::InvalidConfig { .. })
    ));
    // Data with too few rows for the ranges is refused up front.
    let err = routed_model().predict(&DMatrix::zeros(3, 2)).unwrap_err();
    assert!(matches!(err, NnError::ShapeMismatch { .. }));
}

#[test]
fn names_state_files_and_casts() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let model = Chain::<f64>::new().push(
        Parallel::new(Connection::Concat)
            .push_rows(0..1, Embedding::new(6, 2, &mut rng))
            .push_rows(1..4, BatchNorm::new(3)),
    );
    let mut names = Vec::new();
    model.visit("", &mut |name, _| names.push(name.to_string()));
    assert_eq!(
        names,
        [
            "layers.0.layers.0.weight",
            "layers.0.layers.1.scale",
            "layers.0.layers.1.bias"
        ]
    );
    let mut state = Vec::new();
    model.visit_state("", &mut |name, _| state.push(name.to_string()));
    assert_eq!(
        state,
        [
            "layers.0.layers.1.running_mean",
            "layers.0.layers.1.running_var"
        ]
    );
    // A training step moves the statistics of the routed rows.
    let mut trained = model.clone();
    let x = tabular();
    let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    let mut opt = adroit_nn::optim::Descent::new(0.0);
    adroit_nn::train_step(&mut trained, &x, &DMatrix::zeros(5, 7), &loss, &mut opt, 0).unwrap();
    let bn = trained
        .layer::<Parallel<f64>>(0)
        .unwrap()
        .layer::<BatchNorm<f64>>(1)
        .unwrap();
    let mean = DMatrix::from_fn(3, 1, |i, _| x.row(i + 1).mean());
    assert!((&bn.running_mean - mean * 0.1).amax() < 1e-15);
    // Files and casts.
    let bytes = adroit_nn::io::to_safetensors_bytes(&trained).unwrap();
    let mut fresh = model.clone();
    adroit_nn::io::load_safetensors_bytes(&mut fresh, &bytes).unwrap();
    assert_eq!(fresh.predict(&x).unwrap(), trained.predict(&x).unwrap());
    let single: Chain<f32> = trained.cast().unwrap();
    let back = single
        .predict(&x.clone().cast::<f32>())
        .unwrap()
        .cast::<f64>();
    assert!((back - trained.predict(&x).unwrap()).amax() < 1e-5);
}

#[test]
#[should_panic(expected = "Parallel: branch 1 reads rows 1..4 of an input of 3 rows")]
fn rows_beyond_the_input_panic_naming_them() {
    // Called directly (predict and train check the rows first: a ShapeMismatch).
    let p = Parallel::<f64>::new(Connection::Concat)
        .push_rows(0..1, Activation::Identity)
        .push_rows(1..4, Activation::Identity);
    let mut ctx = Context::new(Mode::Eval, 0);
    let _ = adroit_reverse::matrix::pullback(
        |_| p.forward(MatVar::constant(DMatrix::zeros(3, 2)), &mut ctx),
        &[],
    );
}
