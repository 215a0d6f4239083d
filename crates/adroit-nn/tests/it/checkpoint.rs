//! `Checkpoint`: the wrapped layer's function, parameters, gradients, Hessians and training
//! steps, with dropout masks that agree between its two runs.

use adroit_nn::losses::{self, Agg};
use adroit_nn::optim::Adam;
use adroit_nn::{
    Activation, Cast, Chain, Checkpoint, Context, Dense, Dropout, Layer, LayerNorm, MatScalar,
    MatVar, Mode, NnError, gradient_with, hessian, train_step,
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
fn dropout_inside_draws_one_mask_for_both_runs() {
    let (_, kept) = models(true);
    let (l, g) = gradient_with(&kept, Mode::Train, 11, loss).unwrap();
    // the same seed, the same masks and numbers
    let (l2, g2) = gradient_with(&kept, Mode::Train, 11, loss).unwrap();
    assert_eq!(l, l2);
    assert_close(&g2, &g, 0.0);
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
