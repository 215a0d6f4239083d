//! `Checkpoint`: the wrapped layer's function, parameters, gradients, Hessians and training
//! steps, with dropout masks that agree between its two runs.

use adroit_nn::losses::{self, Agg};
use adroit_nn::optim::Adam;
use adroit_nn::{
    Activation, Cast, Chain, Checkpoint, Context, Dense, Dropout, Layer, LayerNorm, MatScalar,
    MatVar, Mode, NnError, gradient_with, hessian, hessian_with, train_step,
};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;

fn block(rng: &mut StdRng, dropout: bool) -> Chain<f64> {
    let chain = Chain::new()
        .push(Dense::new(5, 6, Activation::Tanh, rng))
        .push(LayerNorm::<f64>::new(6));
    let chain = if dropout {
        chain.push(Dropout::new(0.3).unwrap())
    } else {
        chain
    };
    chain.push(Dense::new(6, 5, Activation::Swish, rng))
}

/// Two blocks, plain or each checkpointed, then a readout.
fn models(dropout: bool) -> (Chain<f64>, Chain<f64>) {
    let mut rng = StdRng::seed_from_u64(3);
    let (a, b) = (block(&mut rng, dropout), block(&mut rng, dropout));
    let head = Dense::new(5, 2, Activation::Identity, &mut rng);
    let plain = Chain::new()
        .push(a.clone())
        .push(b.clone())
        .push(head.clone());
    let kept = Chain::new()
        .push(Checkpoint::new(a))
        .push(Checkpoint::new(b))
        .push(head);
    (plain, kept)
}

fn data() -> (DMatrix<f64>, DMatrix<f64>) {
    let x = DMatrix::from_fn(5, 12, |i, j| ((i * 5 + j) as f64 * 0.37).sin()); // features × batch
    let y = DMatrix::from_fn(2, 12, |i, j| ((i + 2 * j) as f64 * 0.21).cos());
    (x, y)
}

/// The loss, in any element type (the Hessian runs it on the model cast to dual numbers).
fn loss<T: MatScalar>(m: &Chain<T>, ctx: &mut Context<T>) -> Result<MatVar<T>, NnError> {
    let (x, y) = data();
    losses::mse(
        m.forward(MatVar::constant(x.cast()), ctx),
        &y.cast(),
        Agg::Mean,
    )
}

fn flat(model: &Chain<f64>) -> Vec<(String, DMatrix<f64>)> {
    let mut out = Vec::new();
    model.visit("", &mut |name, p| out.push((name.to_string(), p.clone())));
    out
}

fn assert_close(a: &Chain<f64>, b: &Chain<f64>, tol: f64) {
    for ((na, pa), (nb, pb)) in flat(a).iter().zip(flat(b).iter()) {
        assert_eq!(na, nb, "parameter names");
        assert!(
            (pa - pb).amax() <= tol * (1.0 + pb.amax()),
            "{na}: {pa} vs {pb}"
        );
    }
}

#[test]
fn gradients_equal_the_wrapped_layers() {
    let (plain, kept) = models(false);
    assert_eq!(flat(&plain).len(), flat(&kept).len());
    for mode in [Mode::Train, Mode::Eval] {
        let (l0, g0) = gradient_with(&plain, mode, 5, loss).unwrap();
        let (l1, g1) = gradient_with(&kept, mode, 5, loss).unwrap();
        assert_eq!(l0, l1);
        assert_close(&g1, &g0, 4.0 * f64::EPSILON);
    }
    // the same predictions
    let (x, _) = data();
    assert_eq!(plain.predict(&x).unwrap(), kept.predict(&x).unwrap());
}

#[test]
fn dropout_masks_are_the_wrapped_layers() {
    let (plain, kept) = models(true);
    let (l, g) = gradient_with(&kept, Mode::Train, 11, loss).unwrap();
    // the block's two runs and the layers after it draw what the plain model draws
    let (l0, g0) = gradient_with(&plain, Mode::Train, 11, loss).unwrap();
    assert_eq!(l, l0);
    assert_close(&g, &g0, 4.0 * f64::EPSILON);
    // another seed, other masks
    assert_ne!(gradient_with(&kept, Mode::Train, 12, loss).unwrap().0, l);
    // the gradient is that of the loss at this seed: central differences on some weights
    let h = 1e-6;
    let grads = flat(&g);
    for (index, entry) in [(0, 3), (4, 7), (6, 1)] {
        let shifted = |delta: f64| {
            let mut model = kept.clone();
            let mut k = 0;
            model.visit_mut(&mut |p| {
                if k == index {
                    p[entry] += delta;
                }
                k += 1;
            });
            gradient_with(&model, Mode::Train, 11, loss).unwrap().0
        };
        let fd = (shifted(h) - shifted(-h)) / (2.0 * h);
        let ad = grads[index].1[entry];
        assert!(
            (fd - ad).abs() <= 1e-7 * (1.0 + ad.abs()),
            "{}: fd {fd} vs ad {ad}",
            grads[index].0
        );
    }
    // the Hessian (on the model cast, without its checkpoints) sees the same masks in Train
    let (lh, gh, _) = hessian_with(&kept, Mode::Train, 11, loss).unwrap();
    assert_eq!(lh, l);
    assert_close(&gh, &g, 1e-14);
}

/// From a review: clones shared their layer, so two clones in a chain were one layer by address
/// and the first got no gradient. A clone is a layer of its own.
#[test]
fn clones_are_separate_layers() {
    let mut rng = StdRng::seed_from_u64(9);
    let dense = Dense::new(5, 5, Activation::Tanh, &mut rng);
    let head = Dense::new(5, 2, Activation::Identity, &mut rng);
    let wrapped = Checkpoint::new(dense.clone());
    let kept = Chain::new()
        .push(wrapped.clone())
        .push(wrapped)
        .push(head.clone());
    let plain = Chain::new().push(dense.clone()).push(dense).push(head);
    let (l0, g0) = gradient_with(&plain, Mode::Eval, 0, loss).unwrap();
    let (l1, g1) = gradient_with(&kept, Mode::Eval, 0, loss).unwrap();
    assert_eq!(l0, l1);
    assert_close(&g1, &g0, 4.0 * f64::EPSILON);
    assert!(
        flat(&g1)[0].1.amax() > 0.0,
        "the first layer gets its gradient"
    );
}

/// A layer that lists `s` but reads it as a constant, and reads `hidden` without listing it.
#[derive(Clone)]
struct Misread {
    s: DMatrix<f64>,
    hidden: DMatrix<f64>,
}

impl Layer<f64> for Misread {
    fn forward(&self, x: MatVar<f64>, ctx: &mut Context<f64>) -> MatVar<f64> {
        x.component_mul(MatVar::constant(self.s.clone())) + ctx.param(&self.hidden)
    }
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<f64>)) {
        f(&format!("{prefix}s"), &self.s);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<f64>)) {
        f(&mut self.s);
    }
}

/// From a review: the checkpoint read every parameter itself, so `train_step` no longer saw a
/// layer misreading its parameters; the block's own reads are handed back.
#[test]
fn misread_parameters_are_reported_through_a_checkpoint() {
    let layer = Misread {
        s: DMatrix::from_element(5, 1, 2.0),
        hidden: DMatrix::from_element(5, 1, 0.5),
    };
    let (x, _) = data();
    let y = DMatrix::zeros(5, 12);
    let mse = |p: MatVar<f64>, t: &DMatrix<f64>| losses::mse(p, t, Agg::Mean);
    let plain_error = train_step(&mut layer.clone(), &x, &y, &mse, &mut Adam::new(0.1), 0)
        .expect_err("the plain layer is refused")
        .to_string();
    let kept_error = train_step(
        &mut Checkpoint::new(layer),
        &x,
        &y,
        &mse,
        &mut Adam::new(0.1),
        0,
    )
    .expect_err("and so is the checkpointed one")
    .to_string();
    assert_eq!(kept_error, plain_error);
}

#[test]
fn training_steps_match_the_wrapped_layers() {
    let (mut plain, mut kept) = models(false);
    let (x, y) = data();
    let mse = |p: MatVar<f64>, t: &DMatrix<f64>| losses::mse(p, t, Agg::Mean);
    let (mut o0, mut o1) = (Adam::new(0.01), Adam::new(0.01));
    for step in 0..5 {
        let a = train_step(&mut plain, &x, &y, &mse, &mut o0, step).unwrap();
        let b = train_step(&mut kept, &x, &y, &mse, &mut o1, step).unwrap();
        assert!((a - b).abs() <= 1e-14 * a.abs(), "step {step}: {a} vs {b}");
    }
    assert_close(&kept, &plain, 1e-13);
}

#[test]
fn hessians_and_casts_see_the_wrapped_layer() {
    let (plain, kept) = models(false);
    let (l0, _, h0) = hessian(&plain, loss).unwrap();
    let (l1, _, h1) = hessian(&kept, loss).unwrap();
    assert_eq!(l0, l1);
    assert!((&h1 - &h0).amax() <= 1e-13 * h0.amax(), "Hessians differ");
    // a checkpoint casts to its wrapped layer's cast
    let single: Checkpoint<Dense<f64>> = Checkpoint::new(Dense::new(
        3,
        2,
        Activation::Tanh,
        &mut StdRng::seed_from_u64(1),
    ));
    let narrow: Dense<f32> = single.cast().unwrap();
    assert_eq!(narrow.weight, single.inner().weight.map(|v| v as f32));
}

#[test]
fn copies_part_when_one_changes() {
    let (_, kept) = models(false);
    let mut changed = kept.clone();
    changed.visit_mut(&mut |p| p.fill(0.5));
    assert!(
        flat(&changed)
            .iter()
            .all(|(_, p)| p.iter().all(|&v| v == 0.5))
    );
    assert!(flat(&kept).iter().any(|(_, p)| p.iter().any(|&v| v != 0.5)));
}

/// A layer that lists nothing but reads a matrix through `ctx.param`.
#[derive(Clone)]
struct Unlisted {
    s: DMatrix<f64>,
}

impl Layer<f64> for Unlisted {
    fn forward(&self, x: MatVar<f64>, ctx: &mut Context<f64>) -> MatVar<f64> {
        x + ctx.param(&self.s)
    }
    fn visit<'a>(&'a self, _: &str, _: &mut dyn FnMut(&str, &'a DMatrix<f64>)) {}
    fn visit_mut(&mut self, _: &mut dyn FnMut(&mut DMatrix<f64>)) {}
}

/// From a review: a block whose layer lists no parameters had a context with nothing bound,
/// which does not count reads of unlisted matrices; the block's context counts them always.
#[test]
fn an_unlisted_read_in_a_parameterless_block_is_reported() {
    let mut rng = StdRng::seed_from_u64(4);
    let dense = Dense::new(5, 5, Activation::Tanh, &mut rng);
    let sneaky = Unlisted {
        s: DMatrix::from_element(5, 1, 0.25),
    };
    let (x, _) = data();
    let y = DMatrix::zeros(5, 12);
    let mse = |p: MatVar<f64>, t: &DMatrix<f64>| losses::mse(p, t, Agg::Mean);
    let mut plain = Chain::new().push(dense.clone()).push(sneaky.clone());
    let mut kept = Chain::new().push(dense).push(Checkpoint::new(sneaky));
    let plain_error = train_step(&mut plain, &x, &y, &mse, &mut Adam::new(0.1), 0)
        .expect_err("the plain model is refused")
        .to_string();
    let kept_error = train_step(&mut kept, &x, &y, &mse, &mut Adam::new(0.1), 0)
        .expect_err("and so is the checkpointed one")
        .to_string();
    assert_eq!(kept_error, plain_error);
}

/// A checkpointed block called twice in one pass moves its running statistics twice, in
/// order, as the block itself does (and PyTorch's `BatchNorm1d` run on two batches: mean
/// [1.525, 0.09], variance [1.62667, 1.06333], a subagent's hunt). The block's runs started
/// from the stored statistics, so only the second call's update survived ([1.3, 0.0]).
#[test]
fn a_block_called_twice_moves_its_statistics_twice() {
    use adroit_nn::{BatchNorm, gradient_with_state};
    fn twice<M: Layer<f64> + Clone>(model: &M) -> M {
        let x1 = nalgebra::dmatrix![1.0, 2.0, 3.0, 4.0; 0.0, 0.0, 2.0, 2.0];
        let x2 = nalgebra::dmatrix![10.0, 12.0, 14.0, 16.0; -1.0, 1.0, -1.0, 1.0];
        let (_, _, state) = gradient_with_state(model, Mode::Train, 0, |m, ctx| {
            let a = m.forward(MatVar::constant(x1), ctx).sum();
            let b = m.forward(MatVar::constant(x2), ctx).sum();
            Ok(a + b)
        })
        .unwrap();
        let mut moved = model.clone();
        state.apply(&mut moved).unwrap();
        moved
    }
    let bn = twice(&BatchNorm::<f64>::new(2));
    let close = |a: &DMatrix<f64>, b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12);
    assert!(
        close(&bn.running_mean, &[1.525, 0.09]),
        "{}",
        bn.running_mean
    );
    let var = [1.626_666_666_666_666_7, 1.063_333_333_333_333_5];
    assert!(close(&bn.running_var, &var), "{}", bn.running_var);
    let ck = twice(&Checkpoint::new(BatchNorm::<f64>::new(2)));
    assert_eq!(ck.inner().running_mean, bn.running_mean);
    assert_eq!(ck.inner().running_var, bn.running_var);
}
