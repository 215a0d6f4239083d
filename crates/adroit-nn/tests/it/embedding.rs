//! Embedding: lookups, gradients against finite differences and against one-hot products
//! through a Dense layer, bad ids, training, files and casts.

use adroit_nn::losses::{Agg, logitcrossentropy, mse};
use adroit_nn::{
    Activation, Cast, Chain, Context, Dense, Embedding, Layer, Mode, NnError, gradient,
    loss_with_params, param_values,
};
use adroit_reverse::matrix::MatVar;
use nalgebra::DMatrix;
use rand::SeedableRng;

/// The same lookup as a dense layer without bias on one-hot columns: same outputs and the
/// same weight gradient (ids repeated and unused), and both against finite differences.
#[test]
fn lookups_equal_one_hot_products_gradients_included() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let table = Embedding::<f64>::new(5, 3, &mut rng);
    let dense = Dense::from_parts(table.weight.clone(), None, Activation::Identity).unwrap();
    let ids = [4usize, 1, 4, 0];
    let x = DMatrix::from_fn(1, 4, |_, j| ids[j] as f64);
    let onehot = DMatrix::from_fn(5, 4, |i, j| f64::from(u8::from(ids[j] == i)));
    assert_eq!(table.predict(&x).unwrap(), dense.predict(&onehot).unwrap());
    let y = DMatrix::from_fn(3, 4, |i, j| ((i + j) % 2) as f64);
    let (l0, g0) = gradient(&table, |m, ctx| {
        mse(m.forward(MatVar::constant(x.clone()), ctx), &y, Agg::Mean)
    })
    .unwrap();
    let (l1, g1) = gradient(&dense, |m, ctx| {
        mse(
            m.forward(MatVar::constant(onehot.clone()), ctx),
            &y,
            Agg::Mean,
        )
    })
    .unwrap();
    assert!((l0 - l1).abs() < 1e-15);
    assert!((&g0.weight - &g1.weight).amax() < 1e-15);
    assert!(
        g0.weight.column(2).iter().all(|&v| v == 0.0)
            && g0.weight.column(3).iter().all(|&v| v == 0.0)
    );
    let loss = |m: &Embedding<f64>, ctx: &mut Context<f64>| {
        mse(m.forward(MatVar::constant(x.clone()), ctx), &y, Agg::Mean)
    };
    let report = adroit_check::matrix_gradcheck(
        |p| loss_with_params(&table, p, Mode::Train, 0, loss).unwrap(),
        &param_values(&table),
        &adroit_check::Options::for_precision::<f64>(),
    )
    .unwrap();
    assert_eq!(report.comparisons, 15);
}

/// Ids that are not integers in 0..vocab are typed errors naming the sample, from every
/// entry point; the model is unchanged.
#[test]
fn bad_ids_are_typed_errors() {
    let mut table = Embedding::from_weight(DMatrix::from_fn(2, 3, |i, j| (i * 3 + j) as f64));
    let before = table.clone();
    for bad in [3.0, -1.0, 0.5, f64::NAN, f64::INFINITY] {
        let x = DMatrix::from_row_slice(1, 3, &[0.0, bad, 2.0]);
        let err = table.predict(&x).unwrap_err();
        let NnError::InvalidData { what } = &err else {
            panic!("{err:?}")
        };
        assert!(what.contains("sample 1") && what.contains("0..3"), "{what}");
        let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
        let mut opt = adroit_nn::optim::Descent::new(0.1);
        let step = adroit_nn::train_step(&mut table, &x, &DMatrix::zeros(2, 3), &loss, &mut opt, 0);
        assert_eq!(step.unwrap_err(), err);
        assert_eq!(table, before);
    }
    // Under `hessian` (the model cast to duals) the message reads the same.
    fn sum_loss<T: adroit_nn::MatScalar>(
        x: &DMatrix<f64>,
    ) -> impl Fn(&Embedding<T>, &mut Context<T>) -> Result<MatVar<T>, NnError> {
        let x: DMatrix<T> = x.clone().cast();
        move |m, ctx| Ok(m.forward(MatVar::constant(x.clone()), ctx).sum())
    }
    let x = DMatrix::from_row_slice(1, 2, &[0.0, 7.0]);
    let err = adroit_nn::hessian(&table, sum_loss(&x)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid data: Embedding: sample 1 has token id 7.0, not an integer in 0..3 (ids are 0-based)"
    );
    // Two rows of ids are refused up front, before any forward pass.
    assert!(matches!(
        table.predict(&DMatrix::zeros(2, 3)),
        Err(NnError::ShapeMismatch { .. })
    ));
    let empty = Embedding::<f64>::from_weight(DMatrix::zeros(2, 0));
    assert!(matches!(
        empty.check_params(),
        Err(NnError::InvalidConfig { .. })
    ));
}

/// A bag-of-one-token classifier learns which class each id belongs to.
#[test]
fn an_embedding_classifier_trains() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(8);
    let mut model = Chain::<f64>::new()
        .push(Embedding::new(12, 4, &mut rng))
        .push(Dense::new(4, 3, Activation::Identity, &mut rng));
    let x = DMatrix::from_fn(1, 36, |_, j| (j % 12) as f64);
    let y = DMatrix::from_fn(3, 36, |i, j| f64::from(u8::from((j % 12) % 3 == i)));
    let mut loader = adroit_nn::data::DataLoader::new(x.clone(), y.clone(), 12)
        .unwrap()
        .shuffle(1);
    let config = adroit_nn::TrainConfig {
        epochs: 100,
        ..adroit_nn::TrainConfig::default()
    };
    let loss = |p, t: &DMatrix<f64>| logitcrossentropy(p, t, Agg::Mean);
    let mut opt = adroit_nn::optim::Adam::new(0.05);
    adroit_nn::train(&mut model, &mut loader, loss, &mut opt, &config, &mut []).unwrap();
    let logits = model.predict(&x).unwrap();
    let correct = (0..36)
        .filter(|&j| logits.column(j).imax() == (j % 12) % 3)
        .count();
    assert_eq!(correct, 36);
}

/// Names, files and casts.
#[test]
fn names_files_and_casts() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(2);
    let table = Embedding::<f64>::new(6, 2, &mut rng);
    let mut names = Vec::new();
    table.visit("", &mut |name, p| names.push((name.to_string(), p.shape())));
    assert_eq!(names, [("weight".to_string(), (2, 6))]);
    let bytes = adroit_nn::io::to_safetensors_bytes(&table).unwrap();
    let mut other = Embedding::<f64>::new(6, 2, &mut rng);
    adroit_nn::io::load_safetensors_bytes(&mut other, &bytes).unwrap();
    assert_eq!(other, table);
    let single: Embedding<f32> = table.cast().unwrap();
    assert_eq!(single.weight, table.weight.map(|v| v as f32));
    let x = DMatrix::from_row_slice(1, 2, &[5.0f32, 0.0]);
    assert_eq!(
        single.predict(&x).unwrap().column(0),
        single.weight.column(5)
    );
}
