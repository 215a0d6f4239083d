//! Gradient checkpointing: a checkpointed segment differentiates like the segment itself (to
//! the rounding of summing an input's contributions first), at first and second order, keeps
//! the tape small, and refuses a segment that is not deterministic.

use adroit_reverse::matrix::{self, MatVar};
use adroit_reverse::num_traits::Float;
use adroit_reverse::{Var, checkpoint, gradient, hessian, hvp, jacobian, pullback};
use nalgebra::DMatrix;
use std::cell::Cell;
use std::rc::Rc;

/// A segment with two outputs: every input used, one of them twice, a kink-free mix of
/// operations.
fn segment<S: Float>(s: &[S]) -> Vec<S> {
    let (a, b, c) = (s[0], s[1], s[2]);
    vec![
        a * b.sin() + c.exp() * a,
        (a * a + b).ln_1p() - c / (b * b + S::one()),
    ]
}

/// The function of the tests: `segment` three times in a row, its result mixed with an input
/// also used outside the segments, run plainly or with each segment checkpointed.
fn chained<S: Float + 'static>(x: &[S], run: impl Fn(&[S]) -> Vec<S>) -> S {
    let mut state = [x[0], x[1]];
    for _ in 0..3 {
        let out = run(&[state[0], state[1], x[2]]);
        state = [out[0] * S::from(0.3).unwrap(), out[1]];
    }
    state[0] * state[1] + x[2] * x[0]
}

fn checkpointed<T: adroit_reverse::TapeScalar>(x: &[Var<T>]) -> Var<T> {
    chained(x, |s| checkpoint(|s| segment(s), s))
}

fn direct<T: adroit_reverse::TapeScalar>(x: &[Var<T>]) -> Var<T> {
    chained(x, |s| segment(s))
}

const POINT: [f64; 3] = [0.7, -0.4, 0.2];

fn close(a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{a:?} vs {b:?}");
    }
}

#[test]
fn the_gradient_is_the_segments_own() {
    let want = gradient(|x| direct(x), &POINT);
    let got = gradient(|x| checkpointed(x), &POINT);
    close(&got, &want, 4.0 * f64::EPSILON);
    // and forward mode's, an independent source
    let forward = adroit_forward::gradient(|x| chained(x, |s| segment(s)), &POINT);
    close(&got, &forward, 16.0 * f64::EPSILON);
    // f32 too
    let p32 = POINT.map(|v| v as f32);
    let (g32, w32) = (
        gradient(|x| checkpointed(x), &p32),
        gradient(|x| direct(x), &p32),
    );
    for (a, b) in g32.iter().zip(&w32) {
        assert!((a - b).abs() <= 8.0 * f32::EPSILON * (1.0 + b.abs()));
    }
}

#[test]
fn second_derivatives_go_through_a_checkpoint() {
    let want = hessian(|x| direct(x), &POINT);
    let got = hessian(|x| checkpointed(x), &POINT);
    let scale = want.amax();
    assert!(
        (&got - &want).amax() <= 16.0 * f64::EPSILON * scale,
        "{got} vs {want}"
    );
    assert!(want[(0, 2)] != 0.0, "a mixed partial is reached");
    let v = [1.0, -2.0, 0.5];
    let (hv, hv_direct) = (
        hvp(|x| checkpointed(x), &POINT, &v),
        hvp(|x| direct(x), &POINT, &v),
    );
    close(&hv, &hv_direct, 16.0 * f64::EPSILON * scale);
    let independent = adroit_forward::hessian(|x| chained(x, |s| segment(s)), &POINT);
    assert!((&got - &independent).amax() <= 64.0 * f64::EPSILON * scale);
}

#[test]
fn jacobians_and_repeated_pullbacks_rerun_the_segment() {
    let runs = Rc::new(Cell::new(0));
    let counter = runs.clone();
    let (y, pb) = pullback(
        move |x| {
            let counter = counter.clone();
            checkpoint(
                move |s| {
                    counter.set(counter.get() + 1);
                    segment(s)
                },
                x,
            )
        },
        &POINT,
    );
    assert_eq!(y, segment(&POINT));
    assert_eq!(runs.get(), 1, "the forward run records the segment once");
    let j = adroit_forward::jacobian(|x| segment(x), &POINT);
    for (k, w) in [[1.0, 0.0], [0.0, 1.0]].iter().enumerate() {
        let row = pb.call(w);
        close(
            &row,
            &j.row(k).iter().copied().collect::<Vec<_>>(),
            8.0 * f64::EPSILON,
        );
    }
    assert_eq!(runs.get(), 3, "each pullback call runs the segment again");
    // A zero cotangent does not run it.
    assert_eq!(pb.call(&[0.0, 0.0]), vec![0.0; 3]);
    assert_eq!(runs.get(), 3);
    let jr = jacobian(|x| checkpoint(|s| segment(s), x), &POINT);
    assert!((&jr - &j).amax() <= 8.0 * f64::EPSILON * j.amax());
}

/// Inputs repeated or constant, outputs that are an input or a constant, a NaN value: the
/// edges of what a segment can be.
#[test]
fn repeated_and_constant_inputs_and_pass_through_outputs() {
    let f = |x: &[Var<f64>]| {
        let c = Var::constant(2.0);
        let out = checkpoint(
            |s| {
                vec![
                    s[0] * s[1] * s[2],
                    s[1],
                    Var::constant(5.0),
                    (s[0] - 2.0).sqrt(),
                ]
            },
            &[x[0], x[0], c],
        );
        out[0] + 3.0 * out[1] + out[2] + out[3].max(Var::constant(0.0)).min(Var::constant(0.0))
    };
    // ∂/∂x [2x² + 3x + 5] = 4x + 3 at x = 1.5; the NaN branch (√ of a negative) is cut by
    // max/min as it would be without the checkpoint.
    let want = gradient(
        |x| {
            let s = [x[0], x[0], Var::constant(2.0)];
            s[0] * s[1] * s[2]
                + 3.0 * s[1]
                + 5.0
                + (s[0] - 2.0)
                    .sqrt()
                    .max(Var::constant(0.0))
                    .min(Var::constant(0.0))
        },
        &[1.5],
    );
    let got = gradient(f, &[1.5]);
    assert_eq!(got, want);
    assert_eq!(got[0], 4.0 * 1.5 + 3.0);
    // Only constants in: nothing recorded, the values come through.
    let g = gradient(
        |x| {
            let c = checkpoint(|s| vec![s[0] * 3.0], &[Var::constant(2.0)]);
            x[0] * c[0]
        },
        &[1.0],
    );
    assert_eq!(g, vec![6.0]);
}

/// Segments inside segments: √N-style nesting.
#[test]
fn checkpoints_nest() {
    let euler =
        |y: Var<f64>, p: Var<f64>, steps: usize| (0..steps).fold(y, |y, _| y - 1e-3 * p * y.sin());
    let direct = gradient(|x| euler(x[0], x[1], 1000), &[1.0, 2.0]);
    let nested = gradient(
        |x| {
            let (mut y, p) = (x[0], x[1]);
            for _ in 0..10 {
                y = checkpoint(
                    move |s| {
                        let mut y = s[0];
                        for _ in 0..10 {
                            y = checkpoint(move |t| vec![euler(t[0], t[1], 10)], &[y, s[1]])[0];
                        }
                        vec![y]
                    },
                    &[y, p],
                )[0];
            }
            y
        },
        &[1.0, 2.0],
    );
    close(&nested, &direct, 1e-14);
    assert_eq!(
        nested[0], direct[0],
        "y₀ is read by one segment chain alone"
    );
}

/// An input or output with a pending scale (`x·c`, `x.sin()`: "Folded scales" on `Var`) keeps
/// it across the segment's boundary, so the operations on either side fold it into their
/// partials as the direct recording does: the same gradient bit for bit where no input is used
/// outside, and no overflow that the direct recording has not (before, an input's scale was
/// recorded as a node of its own and applied after the segment's sweep, `1e10·1e300`
/// overflowing before `·1e-300`; an output's was applied after the operations that follow it).
#[test]
fn a_pending_scale_is_swept_as_the_direct_recording_sweeps_it() {
    let segment = |s: &[Var<f64>]| vec![s[0] * 1e300 * s[1]];
    // f = (x·1e-300)·1e300·y = x·y: ∂f/∂x = y = 1e10, ∂f/∂y = x = 2
    let x = [2.0, 1e10];
    let direct = gradient(|v| segment(&[v[0] * 1e-300, v[1]])[0], &x);
    let checkpointed = |v: &[Var<f64>]| checkpoint(move |s| segment(s), &[v[0] * 1e-300, v[1]]);
    assert_eq!(direct, vec![1e10, 2.0]);
    assert_eq!(gradient(|v| checkpointed(v)[0], &x), direct);
    let jac = jacobian(checkpointed, &x);
    assert_eq!((jac[(0, 0)], jac[(0, 1)]), (1e10, 2.0));
    let (_, pb) = pullback(checkpointed, &x);
    assert_eq!(pb.pushforward(&[1.0, 0.0]), vec![1e10]);

    // Folded chains of one-operand operations at many points: bit for bit.
    let segment = |s: &[Var<f64>]| vec![s[0].sin() * s[0] + s[0].exp() * s[1]];
    for k in 0..200 {
        let x = [-2.0 + 0.021 * k as f64, 0.7 - 0.013 * k as f64];
        let inputs = |v: &[Var<f64>]| [(v[0] * 3.3).cos(), v[1] * 0.5 + 1.0];
        let direct = gradient(|v| segment(&inputs(v))[0], &x);
        let checkpointed = gradient(|v| checkpoint(move |s| segment(s), &inputs(v))[0], &x);
        assert_eq!(checkpointed, direct, "at {x:?}");
    }

    // Outputs: the segment ends in a one-operand operation, whose scale the operations after
    // it fold.
    let segment = |s: &[Var<f64>]| vec![s[0] * 1e-300];
    let after = |y: Var<f64>, v: &[Var<f64>]| y * 1e300 * v[1];
    let direct = gradient(|v| after(segment(v)[0], v), &x);
    let checkpointed = gradient(
        |v| after(checkpoint(move |s| segment(s), &v[..1])[0], v),
        &x,
    );
    assert_eq!(direct, vec![1e10, 2.0]);
    assert_eq!(checkpointed, direct);
    let segment = |s: &[Var<f64>]| vec![(s[0] * s[1]).sin()];
    for k in 0..200 {
        let x = [-2.0 + 0.021 * k as f64, 0.7 - 0.013 * k as f64, 1.5];
        let after = |y: Var<f64>, v: &[Var<f64>]| (y * 3.7).exp() * v[2];
        let direct = gradient(|v| after(segment(v)[0], v), &x);
        let checkpointed = gradient(
            |v| after(checkpoint(move |s| segment(s), &v[..2])[0], v),
            &x,
        );
        assert_eq!(checkpointed, direct, "at {x:?}");
    }
}

/// Inputs sharing a node are separate variables inside the segment (its docs): `√(s₀ − s₁)`
/// at `s₀ = s₁ = x` has derivative NaN there, where the direct recording's `x − x` is a
/// constant, its square root's derivative 0.
#[test]
fn inputs_sharing_a_node_are_separate_variables_in_the_segment() {
    let root = |s: &[Var<f64>]| vec![(s[0] - s[1]).sqrt()];
    let direct = gradient(|v| root(&[v[0], v[0]])[0], &[2.0]);
    let checkpointed = gradient(|v| checkpoint(move |s| root(s), &[v[0], v[0]])[0], &[2.0]);
    assert_eq!(direct, vec![0.0]);
    assert!(checkpointed[0].is_nan(), "{checkpointed:?}");
}

/// Where an input is also used outside the segment, its contributions from inside are summed
/// first (the rounding `checkpoint`'s docs describe): `x + (x·y − x·y)` at `y = 1e17`, the
/// difference checkpointed, gives ∂/∂x = 1 (the true value); the direct recording adds
/// `1 − y` and then `y`, and gives 0.
#[test]
fn contributions_from_inside_a_segment_are_summed_first() {
    let difference = |s: &[Var<f64>]| vec![s[0] * s[1] - s[0] * s[1]];
    let x = [3.0, 1e17];
    let direct = gradient(|v| v[0] + difference(v)[0], &x);
    let checkpointed = gradient(|v| v[0] + checkpoint(move |s| difference(s), v)[0], &x);
    assert_eq!(direct[0], 0.0);
    assert_eq!(checkpointed[0], 1.0);
}

#[test]
fn the_tape_keeps_one_node_per_output() {
    let steps = |y: Var<f64>, p: Var<f64>, n: usize| (0..n).fold(y, |y, _| y - 1e-4 * p * y);
    let (_, direct) = pullback(|x| vec![steps(x[0], x[1], 10_000)], &[1.0, 2.0]);
    let (_, kept) = pullback(
        |x| {
            let (mut y, p) = (x[0], x[1]);
            for _ in 0..100 {
                y = checkpoint(move |s| vec![steps(s[0], s[1], 100)], &[y, p])[0];
            }
            vec![y]
        },
        &[1.0, 2.0],
    );
    // 2 nodes per step (`1e-4·p` folds into the product's partial): 20,000 nodes directly;
    // 100 segment nodes checkpointed
    assert!(direct.tape_len() > 20_000, "{}", direct.tape_len());
    assert_eq!(kept.tape_len(), 1 + 2 + 100);
    close(&kept.call(&[1.0]), &direct.call(&[1.0]), 1e-13);
}

#[test]
#[should_panic(expected = "must be deterministic")]
fn a_segment_that_changes_between_runs_panics() {
    let drift = Rc::new(Cell::new(0.0));
    let _ = gradient(
        move |x| {
            let drift = drift.clone();
            checkpoint(
                move |s| {
                    drift.set(drift.get() + 1.0);
                    vec![s[0] * drift.get()]
                },
                x,
            )[0]
        },
        &[1.0],
    );
}

#[test]
#[should_panic(expected = "outputs when run again")]
fn a_segment_whose_output_count_changes_panics() {
    let runs = Rc::new(Cell::new(0));
    let _ = gradient(
        move |x| {
            let runs = runs.clone();
            checkpoint(
                move |s| {
                    runs.set(runs.get() + 1);
                    vec![s[0]; runs.get()]
                },
                x,
            )[0]
        },
        &[1.0],
    );
}

#[test]
fn a_deterministic_nan_is_not_taken_for_a_change() {
    let g = gradient(
        |x| checkpoint(|s| vec![s[0] * f64::NAN, s[0] * 2.0], x)[1],
        &[1.0],
    );
    assert_eq!(g, vec![2.0]);
}

#[test]
#[should_panic(expected = "another tape")]
fn a_segment_capturing_an_outer_variable_panics() {
    let _ = gradient(
        |x| {
            // `p` is smuggled into the segment through shared state instead of its inputs
            let outer = Rc::new(Cell::new(None));
            outer.set(Some(x[1]));
            checkpoint(move |s| vec![s[0] * outer.get().unwrap()], &[x[0]])[0]
        },
        &[1.0, 2.0],
    );
}

/// A tanh layer `W·h + b` of the matrix tests.
fn layer<S: matrix::MatScalar>(h: MatVar<S>, w: MatVar<S>, b: MatVar<S>) -> MatVar<S> {
    (w * h + b).tanh()
}

fn network<S: matrix::MatScalar>(p: &[MatVar<S>], checkpointed: bool) -> MatVar<S> {
    let mut h = p[2];
    for _ in 0..4 {
        h = if checkpointed {
            matrix::checkpoint(|q| layer(q[0], q[1], q[2]), &[h, p[0], p[1]])
        } else {
            layer(h, p[0], p[1])
        };
    }
    (h.component_mul(h).sum() + p[0].sum()) * S::from(0.5).unwrap()
}

fn matrix_inputs() -> Vec<DMatrix<f64>> {
    vec![
        DMatrix::from_fn(3, 3, |i, j| 0.4 * ((2 * i + j) as f64).cos()),
        DMatrix::from_fn(3, 1, |i, _| 0.1 * i as f64 - 0.1),
        DMatrix::from_fn(3, 2, |i, j| (i as f64) - 0.5 * (j as f64)),
    ]
}

#[test]
fn matrix_checkpoints_match_the_direct_gradient_and_hessian() {
    let inputs = matrix_inputs();
    let want = matrix::gradient(|p| network(p, false), &inputs);
    let got = matrix::gradient(|p| network(p, true), &inputs);
    for (g, w) in got.iter().zip(&want) {
        assert!(
            (g - w).amax() <= 8.0 * f64::EPSILON * (1.0 + w.amax()),
            "{g} vs {w}"
        );
    }
    assert_eq!(got[2], want[2], "x is read by the first block alone");
    // the scalar tape's gradient of the same network, an independent recording
    let h = matrix::hessian(|p| network(p, true), &inputs);
    let hd = matrix::hessian(|p| network(p, false), &inputs);
    assert!(
        (&h - &hd).amax() <= 32.0 * f64::EPSILON * hd.amax(),
        "{h} vs {hd}"
    );
    let v: Vec<DMatrix<f64>> = inputs.iter().map(|m| m.map(|x| 0.5 - x)).collect();
    let (hv, hvd) = (
        matrix::hvp(|p| network(p, true), &inputs, &v),
        matrix::hvp(|p| network(p, false), &inputs, &v),
    );
    for (a, b) in hv.iter().zip(&hvd) {
        assert!((a - b).amax() <= 32.0 * f64::EPSILON * (1.0 + b.amax()));
    }
}

#[test]
#[should_panic(expected = "must be deterministic")]
fn a_matrix_block_that_changes_between_runs_panics() {
    let runs = Rc::new(Cell::new(0.0));
    let _ = matrix::gradient(
        move |p| {
            let runs = runs.clone();
            matrix::checkpoint(
                move |q| {
                    runs.set(runs.get() + 1.0);
                    q[0] * runs.get()
                },
                &[p[0]],
            )
            .sum()
        },
        &[DMatrix::from_element(2, 2, 1.0)],
    );
}

#[test]
#[should_panic(expected = "3×2 matrix when run again")]
fn a_matrix_block_whose_shape_changes_panics() {
    let runs = Rc::new(Cell::new(0));
    let _ = matrix::gradient(
        move |p| {
            let runs = runs.clone();
            matrix::checkpoint(
                move |q| {
                    runs.set(runs.get() + 1);
                    if runs.get() == 1 {
                        q[0]
                    } else {
                        q[0].transpose()
                    }
                },
                &[p[0]],
            )
            .sum()
        },
        &[DMatrix::from_element(2, 3, 1.0)],
    );
}

/// A block reading a constant matrix and an input twice: the constant gets no gradient work,
/// the repeated input both contributions, as without the checkpoint.
#[test]
fn matrix_blocks_with_constant_and_repeated_inputs() {
    let c = DMatrix::from_fn(3, 3, |i, j| (i as f64) - (j as f64) * 0.5);
    let inputs = matrix_inputs();
    let f = |checkpointed: bool| {
        let c = c.clone();
        matrix::gradient(
            move |p| {
                let constant = MatVar::constant(c.clone());
                let block = |q: &[MatVar<f64>]| (q[0] * q[1] + q[2] * q[1]).tanh();
                let out = if checkpointed {
                    matrix::checkpoint(block, &[p[0], p[2], constant])
                } else {
                    block(&[p[0], p[2], constant])
                };
                let again = if checkpointed {
                    matrix::checkpoint(|q| q[0].component_mul(q[0]), &[out])
                } else {
                    out.component_mul(out)
                };
                again.sum()
            },
            &inputs,
        )
    };
    let (direct, kept) = (f(false), f(true));
    for (a, b) in kept.iter().zip(&direct) {
        assert!(
            (a - b).amax() <= 8.0 * f64::EPSILON * (1.0 + b.amax()),
            "{a} vs {b}"
        );
    }
    assert_eq!(
        kept[1],
        DMatrix::zeros(3, 1),
        "an input the loss does not read"
    );
}
