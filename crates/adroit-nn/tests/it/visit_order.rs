//! A layer of one's own whose traversals list its parameters in different orders is refused
//! wherever values read in one order would be written back in the other, the model unchanged
//! (found by a trial as a new user: training and loading swapped `a` and `b` silently, even
//! of different shapes).

use adroit_nn::losses::{Agg, mse};
use adroit_nn::nalgebra::{DMatrix, DVector, dmatrix};
use adroit_nn::optim::{Descent, step};
use adroit_nn::{
    Context, Layer, MatVar, NnError, check_visit_order, gradient, io, train_step,
    vector_to_parameters,
};

/// `a·x + b·1` (`a`: 1 × 1, `b`: 1 × 2, so `b`'s two entries both add to the output), its
/// traversals in `visit`'s order or, with `swapped`, `visit_mut` in the other.
#[derive(Clone, Debug, PartialEq)]
struct TwoParams {
    a: DMatrix<f64>,
    b: DMatrix<f64>,
    swapped: bool,
}

impl Layer<f64> for TwoParams {
    fn forward(&self, x: MatVar<f64>, ctx: &mut Context<f64>) -> MatVar<f64> {
        let ones = MatVar::constant(DMatrix::from_element(2, x.ncols(), 1.0));
        ctx.param(&self.a).matmul(x) + ctx.param(&self.b).matmul(ones)
    }
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<f64>)) {
        f(&format!("{prefix}a"), &self.a);
        f(&format!("{prefix}b"), &self.b);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<f64>)) {
        if self.swapped {
            f(&mut self.b);
            f(&mut self.a);
        } else {
            f(&mut self.a);
            f(&mut self.b);
        }
    }
}

fn layer(swapped: bool) -> TwoParams {
    TwoParams {
        a: dmatrix![1.0],
        b: dmatrix![5.0, 6.0],
        swapped,
    }
}

fn is_disorder(r: Result<impl std::fmt::Debug, NnError>) -> bool {
    match r {
        Err(e @ NnError::InvalidConfig { .. }) => e.to_string().contains("`visit_mut`"),
        other => panic!("expected the visit-order error, got {other:?}"),
    }
}

#[test]
fn a_layer_listing_its_parameters_in_two_orders_is_refused_and_left_unchanged() {
    let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    let (x, y) = (dmatrix![1.0], dmatrix![0.0]);
    let mut good = layer(false);
    assert!(check_visit_order(&mut good).is_ok());
    let mut model = layer(true);
    assert!(is_disorder(check_visit_order(&mut model)));
    // training
    let mut opt = Descent::new(0.1);
    assert!(is_disorder(train_step(
        &mut model, &x, &y, &loss, &mut opt, 0
    )));
    assert_eq!(model, layer(true));
    // a step from explicit gradients (taken from the well-ordered twin)
    let (_, grads) = gradient(&good, |m, ctx| {
        loss(m.forward(MatVar::constant(x.clone()), ctx), &y)
    })
    .unwrap();
    let grads = TwoParams {
        swapped: true,
        ..grads
    };
    assert!(is_disorder(step(&mut Descent::new(0.1), &mut model, grads)));
    assert_eq!(model, layer(true));
    // explicit gradients: a's gradient would land in b
    assert!(is_disorder(gradient(&model, |m, ctx| {
        loss(m.forward(MatVar::constant(x.clone()), ctx), &y)
    })));
    // loading a weight file
    let bytes = io::to_safetensors_bytes(&good).unwrap();
    assert!(is_disorder(io::load_safetensors_bytes(&mut model, &bytes)));
    assert_eq!(model, layer(true));
    // a flat vector
    let theta = DVector::from_vec(vec![7.0, 8.0, 9.0]);
    assert!(is_disorder(vector_to_parameters(&theta, &mut model)));
    assert_eq!(model, layer(true));
    // the well-ordered twin goes through all of them
    assert!(train_step(&mut good, &x, &y, &loss, &mut opt, 0).is_ok());
    io::load_safetensors_bytes(&mut good, &bytes).unwrap();
    vector_to_parameters(&theta, &mut good).unwrap();
    assert_eq!(
        (good.a.clone(), good.b.clone()),
        (dmatrix![7.0], dmatrix![8.0, 9.0])
    );
}

/// `w·x`, proposing new values for two state matrices of different shapes, its
/// `visit_state_mut` in the other order than `visit_state`.
#[derive(Clone, Debug, PartialEq)]
struct TwoStates {
    w: DMatrix<f64>,
    m1: DMatrix<f64>,
    m2: DMatrix<f64>,
}

impl Layer<f64> for TwoStates {
    fn forward(&self, x: MatVar<f64>, ctx: &mut Context<f64>) -> MatVar<f64> {
        ctx.update_state(&self.m1, dmatrix![111.0]);
        ctx.update_state(&self.m2, dmatrix![222.0, 333.0]);
        ctx.param(&self.w).matmul(x)
    }
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<f64>)) {
        f(&format!("{prefix}w"), &self.w);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<f64>)) {
        f(&mut self.w);
    }
    fn visit_state<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<f64>)) {
        f(&format!("{prefix}m1"), &self.m1);
        f(&format!("{prefix}m2"), &self.m2);
    }
    fn visit_state_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<f64>)) {
        f(&mut self.m2);
        f(&mut self.m1);
    }
}

/// From a review: new state values are checked in `visit_state`'s order and set in
/// `visit_state_mut`'s; the step swapped them (m1 = [222, 333], m2 = [111]) and returned Ok.
#[test]
fn a_layer_listing_its_state_in_two_orders_is_refused_by_a_training_step() {
    let mut model = TwoStates {
        w: dmatrix![1.0],
        m1: dmatrix![0.0],
        m2: dmatrix![0.0, 0.0],
    };
    let before = model.clone();
    let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    let mut opt = Descent::new(0.1);
    let step = train_step(
        &mut model,
        &dmatrix![1.0],
        &dmatrix![0.0],
        &loss,
        &mut opt,
        0,
    );
    match step {
        Err(e @ NnError::InvalidConfig { .. }) => {
            assert!(e.to_string().contains("`visit_state_mut`"), "{e}")
        }
        other => panic!("expected the visit-order error, got {other:?}"),
    }
    assert_eq!(model, before);
    assert!(check_visit_order(&mut model).is_err());
}

/// From a review: a `Checkpoint` whose layer a live recording still shares copies it in
/// `visit_mut` (copy on write), so its addresses there differ from `visit_params`' before it;
/// the check must not refuse it.
#[test]
fn a_checkpoint_shared_with_a_live_recording_passes_the_check() {
    use adroit_nn::adroit_reverse::matrix;
    use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    use adroit_nn::{Activation, Chain, Checkpoint, Dense, Mode, parameters_to_vector};
    let dense = Dense::new(2, 2, Activation::Tanh, &mut StdRng::seed_from_u64(1));
    let mut model = Chain::new().push(Checkpoint::new(dense));
    let x = dmatrix![1.0; 2.0];
    let record = |model: &Chain<f64>| {
        matrix::pullback(
            |m| model.forward(m[0], &mut Context::new(Mode::Eval, 0)),
            std::slice::from_ref(&x),
        )
    };
    let theta = parameters_to_vector(&model) * 2.0;
    let live = record(&model);
    vector_to_parameters(&theta, &mut model).unwrap();
    assert_eq!(parameters_to_vector(&model), theta);
    let live_too = record(&model);
    check_visit_order(&mut model).unwrap();
    let live_three = record(&model);
    let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    let y = dmatrix![0.0; 0.0];
    train_step(&mut model, &x, &y, &loss, &mut Descent::new(0.1), 0).unwrap();
    drop((live, live_too, live_three));
}
