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
