//! Regression tests for defects found in review (each names what was wrong).

use adroit_reverse::{Var, gradient, hessian};
use num_traits::Float;

#[test]
fn powf_mixed_second_derivative_is_symmetric() {
    // H01 was 0 and H10 0.5 at (2, 0); both are x^(p−1)(1 + p ln x) = 0.5.
    let h = hessian(|v| v[0].powf(v[1]), &[2.0, 0.0]);
    assert!(
        (h[(0, 1)] - 0.5).abs() < 1e-14 && (h[(1, 0)] - 0.5).abs() < 1e-14,
        "{h}"
    );
}

#[test]
fn zero_partial_against_infinite_adjoint() {
    // A zero partial times an infinite adjoint must contribute 0, not NaN.
    assert_eq!(gradient(|x| x[0].sqrt().floor(), &[0.0]), vec![0.0]);
    assert_eq!(
        gradient(|x| (x[0] * 0.0).sqrt() + x[1], &[1.0, 2.0]),
        vec![0.0, 1.0]
    );
}

#[test]
fn sinc_of_a_variable_at_zero() {
    let (v, g) = adroit_reverse::value_and_gradient(|x| nalgebra::ComplexField::sinc(x[0]), &[0.0]);
    assert_eq!((v, g), (1.0, vec![0.0]));
    let g = gradient(
        |x| nalgebra::ComplexField::sinc(x[0]) + Var::constant(0.0),
        &[0.5],
    );
    assert!((g[0] - (0.5_f64.cos() * 0.5 - 0.5_f64.sin()) / 0.25).abs() < 1e-15);
}

#[test]
fn dual_over_var_zero_tangent_stays_zero() {
    // Dual<Var<f64>> with a constant zero tangent: sin's tangent cos(x)·0 was recorded as a
    // zero-valued tape node (not identically zero), so sqrt's ∞ partial (sqrt'(0)) times it
    // gave NaN instead of the 0 of the chain_product convention.
    let (value, grad) = adroit_reverse::value_and_gradient(
        |x| {
            let y = adroit_forward::Dual::new(x[0], Var::constant(0.0))
                .sin()
                .sqrt();
            y.tangent()
        },
        &[0.0],
    );
    assert_eq!((value, grad), (0.0, vec![0.0]));
}

#[test]
fn zero_partial_gives_a_constant() {
    // A node whose partial is identically zero carries no derivative: it is not recorded.
    let grad = gradient(
        |x| {
            let (times_zero, floor) = (x[0] * 0.0, x[0].floor());
            assert!(times_zero.is_constant() && floor.is_constant());
            assert!(!(x[0] * 2.0).is_constant());
            times_zero + floor + x[0]
        },
        &[1.5],
    );
    assert_eq!(grad, vec![1.0]);
}

#[test]
fn forward_over_reverse_second_derivatives_keep_precision_in_the_rule_table() {
    // The rules' first derivatives are differentiated again here too (session-5 review):
    // asin'' = x/(1 − x²)^{3/2} ≈ x at tiny x (it was 0 at 1e-300), and hypot's
    // h_xx = y²/h³ when |x| ≫ |y| (it cancelled to 0 at (1e8, 1)).
    for x in [1e-300, 1e-10, 0.3] {
        let h = hessian(|v| v[0].asin(), &[x]);
        let expected = x / (1.0 - x * x).powf(1.5);
        assert!((h[(0, 0)] - expected).abs() <= 1e-13 * expected, "{x}: {h}");
    }
    for (x, y) in [(1e5, 1.0), (1e8, 1.0)] {
        let h = hessian(|v| v[0].hypot(v[1]), &[x, y]);
        let r: f64 = x.hypot(y);
        let expected = y * y / (r * r * r);
        assert!(
            (h[(0, 0)] - expected).abs() <= 1e-13 * expected,
            "({x}, {y}): {h}"
        );
        let mixed = -x * y / (r * r * r);
        assert!((h[(0, 1)] - mixed).abs() <= 1e-13 * mixed.abs(), "{h}");
        assert!((h[(1, 0)] - mixed).abs() <= 1e-13 * mixed.abs(), "{h}");
    }
}

#[test]
fn powf_mixed_second_derivative_at_zero_base_agrees_with_forward_mode() {
    // At x = 0, p = 1 the mixed partial is −∞ in both orders; forward-over-reverse read the
    // x-derivative of ∂p = 0 as 0 (forward mode gave −∞), so its Hessian was not symmetric.
    // For 0 < p < 1 (−∞ too) the entry read from ∂x was NaN (a subagent's hunt).
    for (p, mixed) in [
        (0.01, f64::NEG_INFINITY),
        (0.5, f64::NEG_INFINITY),
        (0.9, f64::NEG_INFINITY),
        (1.0, f64::NEG_INFINITY),
        (2.0, 0.0),
    ] {
        let hv = adroit_reverse::hvp(|v| v[0].powf(v[1]), &[0.0, p], &[0.0, 1.0]);
        assert_eq!(hv, vec![mixed, 0.0], "p = {p}");
        // the second-order adjoint engine (beyond two chunks): x = 0 among 24 other inputs
        let mut x = vec![1.0; 26];
        (x[0], x[25]) = (0.0, p);
        let big = hessian(
            |v| v[1..25].iter().fold(v[0].powf(v[25]), |sum, &y| sum + y),
            &x,
        );
        assert_eq!((big[(0, 25)], big[(25, 0)]), (mixed, mixed), "p = {p}");
        let reverse = hessian(|v| v[0].powf(v[1]), &[0.0, p]);
        let forward = adroit_forward::hessian(|v| v[0].powf(v[1]), &[0.0, p]);
        assert_eq!(
            (reverse[(0, 1)], reverse[(1, 0)]),
            (mixed, mixed),
            "{reverse}"
        );
        assert_eq!(
            (forward[(0, 1)], forward[(1, 0)]),
            (mixed, mixed),
            "{forward}"
        );
    }
}

#[test]
fn stop_gradient_stops_second_order_derivatives_too() {
    // f = x·sg(x): ∇f = sg(x), whose derivative is 0 (JAX's stop_gradient under jvp, PyTorch's
    // detach). The outer forward tangent survived stop_gradient: Hessian and hvp gave 1.
    fn f<T: adroit_reverse::TapeScalar>(x: &[Var<T>]) -> Var<T> {
        x[0] * adroit_reverse::stop_gradient(x[0])
    }
    assert_eq!(hessian(|x| f(x), &[3.0])[(0, 0)], 0.0);
    assert_eq!(adroit_reverse::hvp(|x| f(x), &[3.0], &[1.0]), vec![0.0]);
    assert_eq!(gradient(|x| f(x), &[3.0]), vec![3.0]);
}

#[test]
fn mul_add_records_the_fused_primal() {
    // The tape's value was x·a + b (two roundings), not the plain program's fused value.
    let (value, grad) =
        adroit_reverse::value_and_gradient(|v| v[0].mul_add(v[1], Var::constant(0.1)), &[0.1, 2.5]);
    assert_eq!(value, 0.1_f64.mul_add(2.5, 0.1));
    assert_eq!(grad, vec![2.5, 0.1]);
}

#[test]
fn atan2_with_an_infinite_coordinate_has_zero_partials() {
    // The shared rule's (x/r)/r was ∞/∞ = NaN.
    let g = gradient(|v| v[0].atan2(v[1]), &[3.0, f64::INFINITY]);
    assert_eq!(g, vec![0.0, 0.0]);
}

#[test]
fn forward_over_reverse_keeps_the_zero_times_infinity_convention_in_every_lane() {
    // f = √(x²)·y at the origin: the sweep's adjoint of √ is 0 in value but carries y's
    // tangent; times √'s infinite partial, the dual product's plain value 0·∞ = NaN spread
    // into every lane, so H[0][0] was NaN (forward-over-forward: 0) and depended on whether
    // x and y shared a 12-wide chunk.
    let f = |v: &[Var<adroit_forward::DualVec<f64, 12>>]| (v[0] * v[0]).sqrt() * v[1];
    let h = hessian(f, &[0.0, 0.0]);
    let forward = adroit_forward::hessian(|v| (v[0] * v[0]).sqrt() * v[1], &[0.0, 0.0]);
    assert_eq!(h, forward);
    assert!(h.iter().all(|e| *e == 0.0), "{h}");
    for k in [11, 12] {
        // x₀ with x_k: same chunk (k = 11) or the next (k = 12).
        let mut x = vec![0.0; 13];
        x[k] = 0.0;
        let h = hessian(move |v| (v[0] * v[0]).sqrt() * v[k], &x);
        assert_eq!(h[(0, 0)], 0.0, "k = {k}: {h}");
    }
    let hv = adroit_reverse::hvp(|v| (v[0] * v[0]).sqrt() * v[1], &[0.0, 0.0], &[1.0, 1.0]);
    assert_eq!(hv, vec![0.0, 0.0]);
}

#[test]
fn powf_mixed_partial_survives_an_overflowing_or_flushed_power() {
    // The mixed partial xᵖ⁻¹·(1 + p·ln x) (mpmath, 60 digits, rounded) is finite although xᵖ
    // overflows (first two) or underflows (last two); forward-over-reverse read it from
    // ∂p = xᵖ·ln x, through the infinite or flushed xᵖ: H[1][0] was ∞, or lost the xᵖ⁻¹
    // term, while H[0][1] (from ∂x = p·xᵖ⁻¹) was right.
    let cases = [
        (1e160, 2.0, 7.378272297580946e162),
        (1e31, 10.0, 7.148013788281542e281),
        (1e-200, 2.0, -9.200340371976183e-198),
        (1e-33, 10.0, -7.588530806880351e-295),
    ];
    for (x, p, mixed) in cases {
        let h = hessian(|v| v[0].powf(v[1]), &[x, p]);
        for (i, j) in [(0, 1), (1, 0)] {
            let e = h[(i, j)];
            assert!(
                (e / mixed - 1.0).abs() < 1e-13,
                "({x:e}, {p}) H[{i}][{j}] = {e:e}, not {mixed:e}"
            );
        }
        let forward = adroit_forward::hessian(|v| v[0].powf(v[1]), &[x, p]);
        assert!(
            (forward[(1, 0)] / mixed - 1.0).abs() < 1e-13,
            "forward {forward}"
        );
    }
    // x = 0 with p < 0 keeps ∂p = ∞·ln 0 = −∞ (the limit of xᵖ·ln x).
    assert_eq!(
        gradient(|v| v[0].powf(v[1]), &[0.0, -1.0])[1],
        f64::NEG_INFINITY
    );
    // Where xᵖ⁻¹ overflows too (p < 0 at tiny x) the mixed partial is infinite, not NaN (a
    // first version of the fix gave NaN here, found in review).
    for (x, p, mixed) in [
        (1e-200, -2.0, f64::INFINITY),
        (1e-300, -1.5, f64::INFINITY),
        (-1e-200, -2.0, f64::NEG_INFINITY),
        (-1e-200, -3.0, f64::INFINITY),
    ] {
        let h = hessian(|v| v[0].powf(v[1]), &[x, p]);
        assert_eq!(h[(1, 0)], mixed, "({x:e}, {p}): {h}");
    }
    // A subnormal x keeps ∂p = xᵖ·ln|x| (the tangent of ln|x|, 1/x, would overflow): exact
    // −1.4266e-307, within the subnormal xᵖ's rounding.
    let h = hessian(|v| v[0].powf(v[1]), &[1e-310, 2.0]);
    assert!((h[(1, 0)] / -1.4266e-307 - 1.0).abs() < 1e-3, "{h}");
    // xᵖ finite but xᵖ·ln x overflowing (1e154, 2): ∂x = p·xᵖ⁻¹ is formed without xᵖ, so the
    // mixed partial (mpmath: 7.1019620864216607e156) is finite in both modes and orders.
    let mixed = 7.101_962_086_421_661e156;
    for h in [
        hessian(|v| v[0].powf(v[1]), &[1e154, 2.0]),
        adroit_forward::hessian(|v| v[0].powf(v[1]), &[1e154, 2.0]),
    ] {
        for (i, j) in [(0, 1), (1, 0)] {
            assert!((h[(i, j)] / mixed - 1.0).abs() < 1e-13, "{h}");
        }
    }
}

#[test]
fn hypot_partials_survive_an_overflowing_or_subnormal_hypotenuse() {
    // x/h with h = ∞ was 0 (at (3e38, 3e38) in f32), and with a subnormal h rounded to 1.
    let r = std::f32::consts::FRAC_1_SQRT_2;
    for x in [3e38_f32, 1e-45] {
        let g = gradient(|v| v[0].hypot(v[1]), &[x, x]);
        assert!(g.iter().all(|d| (d - r).abs() < 1e-6), "{x:e}: {g:?}");
    }
    let g = gradient(|v| v[0].hypot(v[1]), &[1e308, -1.5e308]);
    // (1, −1.5)/√3.25
    let h = 3.25f64.sqrt();
    assert!(
        (g[0] - 1.0 / h).abs() < 1e-15 && (g[1] + 1.5 / h).abs() < 1e-15,
        "{g:?}"
    );
    // Forward mode uses the same rule.
    let d = adroit_forward::gradient(|v| v[0].hypot(v[1]), &[3e38_f32, 3e38]);
    assert!(d.iter().all(|d| (d - r).abs() < 1e-6), "{d:?}");
}

#[test]
fn hypot_second_derivatives_at_a_tiny_or_infinite_argument() {
    // (0, 1e-45) in f32: the scaled partials' own derivatives made ∞ − ∞ = NaN in H[1][1]
    // (first version of the overflow fix); the entries are ∞ (1/|y| overflows), 0 and 0.
    let h = adroit_forward::hessian(|v| v[0].hypot(v[1]), &[0.0_f32, 1e-45]);
    assert_eq!(
        (h[(0, 0)], h[(0, 1)], h[(1, 1)]),
        (f32::INFINITY, 0.0, 0.0),
        "{h}"
    );
    let h = adroit_forward::hessian(|v| v[0].hypot(v[1]), &[5e-324_f64, 0.0]);
    assert_eq!(
        (h[(0, 0)], h[(0, 1)], h[(1, 1)]),
        (0.0, 0.0, f64::INFINITY),
        "{h}"
    );
    // An infinite argument against one above MAX/2: ∂x = sign(x), ∂y = 0 (was ∞/∞ = NaN).
    let g = gradient(|v| v[0].hypot(v[1]), &[f32::NEG_INFINITY, 3e38]);
    assert_eq!(g, [-1.0, 0.0]);
}

/// `custom_scalar` follows the sweep's 0·∞ = 0 convention (its pullback multiplied plainly:
/// an input with partial 0 got NaN against an infinite adjoint, in first and second order).
#[test]
fn custom_scalar_keeps_the_zero_times_infinity_convention() {
    use adroit_reverse::{TapeScalar, Var, custom_scalar, gradient, hessian, hvp};
    use num_traits::Float;
    // f(x, y) = √y through a custom node in which x has partial 0: ∂f/∂x = 0, ∂f/∂y = ∞.
    let g = gradient(
        |v| custom_scalar(&[v[0], v[1]], v[1].value(), &[0.0, 1.0]).sqrt(),
        &[1.0, 0.0],
    );
    assert_eq!(g, vec![0.0, f64::INFINITY]);
    // A custom √ written generically, as the docs recommend, under forward-over-reverse.
    fn csqrt<T: TapeScalar>(x: Var<T>) -> Var<T> {
        let s = x.value().sqrt();
        custom_scalar(&[x], s, &[(s + s).recip()])
    }
    let h = hessian(|v| csqrt(v[0] * v[0]) * v[1], &[0.0, 0.0]);
    let plain = hessian(|v| (v[0] * v[0]).sqrt() * v[1], &[0.0, 0.0]);
    assert_eq!(h, plain);
    assert!(h.iter().all(|x| x.is_finite()), "{h}");
    let hv = hvp(|v| csqrt(v[0] * v[0]) * v[1], &[0.0, 0.0], &[1.0, 0.0]);
    assert_eq!(hv, vec![0.0, 0.0]);
}

/// The range limit the crate docs state: an adjoint can overflow on its way down where the
/// forward tangents stay finite; grouping the small factor with the large ones keeps it finite.
#[test]
fn an_overflowing_adjoint_is_the_documented_range_limit() {
    let x = [1.0, 1e-300, 1e200, 1e200];
    let forward = adroit_forward::gradient(|v| v[0] * v[1] * v[2] * v[3], &x);
    let reverse = gradient(|v: &[Var<f64>]| v[0] * v[1] * v[2] * v[3], &x);
    let grouped = gradient(|v: &[Var<f64>]| v[0] * (v[1] * v[2] * v[3]), &x);
    assert!((forward[0] / 1e100 - 1.0).abs() < 1e-13, "{forward:?}");
    assert_eq!(reverse[0], f64::INFINITY, "{reverse:?}");
    assert!((grouped[0] / 1e100 - 1.0).abs() < 1e-13, "{grouped:?}");
}

/// A chain of constant factors folds into one partial formed in forward mode's order (`Var`'s
/// docs, "Folded scales"), so the adjoint of `x·y` below is `1e-20/1e-310`, formed from
/// finite factors (the subnormal divisor's two-step partial), and does not overflow as
/// `1/1e-310` alone would.
#[test]
fn a_folded_chain_of_constant_factors_keeps_forward_modes_range() {
    let x = [1e-10, 2e-10];
    let want = [2e280, 1e280];
    let forward = adroit_forward::gradient(|v| (v[0] * v[1] * 1e-20) / 1e-310, &x);
    let reverse = gradient(|v: &[Var<f64>]| (v[0] * v[1] * 1e-20) / 1e-310, &x);
    for k in 0..2 {
        assert!((forward[k] / want[k] - 1.0).abs() < 1e-13, "{forward:?}");
        assert!((reverse[k] / want[k] - 1.0).abs() < 1e-13, "{reverse:?}");
    }
}

#[test]
fn division_by_a_subnormal_constant_keeps_a_finite_adjoint() {
    // x / c for a plain constant c recorded the partial 1/c, which overflows for a subnormal c
    // although adj/c need not (found by a hunt): ∂/∂x [1e-20·(x/c)] = 1e-20/c ≈ 2e303 came
    // out +∞. (Where the adjoint reaching the quotient is itself too large, adj/c overflows in
    // reverse mode whatever the partial: y·(x²/c) at (1e-300, 1.5) gives ∞ where forward
    // mode's 2x/c stays finite — accumulation order, documented.)
    for c in [5e-324, 3e-320] {
        let g = gradient(|v: &[Var<f64>]| (v[0] / c) * 1e-20, &[2.0]);
        let want = 1e-20 / c;
        assert!(want.is_finite());
        assert!(
            (g[0] - want).abs() <= 4.0 * f64::EPSILON * want,
            "c = {c}: {g:?} vs {want}"
        );
        // forward-over-reverse: the mixed partial of x·y/c·1e-20 is 1e-20/c
        let h = hessian(|v| (v[0] * v[1] / c) * 1e-20, &[2.0, 3.0]);
        assert!((h[(0, 1)] - want).abs() <= 4.0 * f64::EPSILON * want, "{h}");
    }
    // division by an exact zero keeps its infinite partial
    let g = gradient(|v: &[Var<f64>]| v[0] / 0.0, &[1.0]);
    assert_eq!(g, [f64::INFINITY]);
}

/// A value whose destructor computes a gradient (adroit code run from a drop), recording the
/// result.
struct GradientOnDrop(std::rc::Rc<std::cell::Cell<Option<f64>>>);

impl Drop for GradientOnDrop {
    fn drop(&mut self) {
        self.0.set(Some(gradient(|v| v[0] * v[0], &[3.0])[0]));
    }
}

#[test]
fn a_custom_pullback_owning_a_value_that_computes_a_gradient_on_drop() {
    // A hunt: the tape's custom rules were dropped inside the tape pool's borrow, so the
    // drop's gradient hit "RefCell already borrowed" — the finished call's result was lost,
    // and during unwinding (the user's closure panicking after recording the rule) the
    // process aborted.
    let seen = std::rc::Rc::new(std::cell::Cell::new(None));
    let guard = GradientOnDrop(seen.clone());
    let g = gradient(
        move |v: &[Var<f64>]| {
            let a = v[0] * v[0];
            // The pullback owns the guard: it is dropped with the finished tape.
            let out = adroit_reverse::custom_rule(&[a], &[a.value()], move |w: &[f64]| {
                let _ = &guard;
                vec![w[0]]
            });
            out[0]
        },
        &[2.0],
    );
    assert_eq!(g, vec![4.0]);
    assert_eq!(
        seen.get(),
        Some(6.0),
        "the guard's gradient ran when the tape was freed"
    );

    let seen = std::rc::Rc::new(std::cell::Cell::new(None));
    let guard = GradientOnDrop(seen.clone());
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        gradient(
            move |v: &[Var<f64>]| -> Var<f64> {
                let owned = guard;
                let _ =
                    adroit_reverse::custom_rule(&[v[0]], &[v[0].value()], move |w: &[f64]| {
                        let _ = &owned;
                        vec![w[0]]
                    });
                panic!("the user's function fails after recording the rule")
            },
            &[1.0],
        )
    }));
    assert!(caught.is_err());
    assert_eq!(
        seen.get(),
        Some(6.0),
        "the guard's gradient ran during unwinding"
    );
    // The thread's tapes still work.
    assert_eq!(gradient(|v| v[0] * v[1], &[2.0, 5.0]), vec![5.0, 2.0]);
}

/// A value whose destructor computes a matrix-tape gradient, counting the runs.
struct MatrixGradientOnDrop(std::rc::Rc<std::cell::Cell<u32>>);

impl Drop for MatrixGradientOnDrop {
    fn drop(&mut self) {
        use adroit_reverse::matrix::{self, MatVar};
        let g = matrix::gradient(
            |m: &[MatVar<f64>]| (m[0] * m[0]).sum(),
            &[nalgebra::dmatrix![3.0]],
        );
        assert_eq!(g[0][(0, 0)], 6.0);
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn matrix_rules_owning_a_value_that_computes_a_gradient_on_drop() {
    // A hunt (session 61): the matrix tape dropped a custom rule's pullback and a checkpointed
    // function while this thread's tape stack was borrowed — when recycling a finished tape
    // (a rule the sweep did not reach), when discarding a rule no input needed, and when
    // closing a scope a panic unwound through. The destructor's gradient then panicked
    // ("called while another matrix operation was recording": the finished call's result was
    // lost), and during unwinding the process aborted.
    use adroit_reverse::matrix::{self, MatVar};
    use nalgebra::{DMatrix, dmatrix};
    use std::panic::{AssertUnwindSafe, catch_unwind};
    let runs = std::rc::Rc::new(std::cell::Cell::new(0));
    let guard = || MatrixGradientOnDrop(runs.clone());
    let owning_rule = |input: MatVar<f64>, guard: MatrixGradientOnDrop| {
        matrix::custom_rule(&[input], input.value() * 4.0, move |g: &DMatrix<f64>| {
            let _ = &guard;
            vec![g * 4.0]
        })
    };
    let x = [dmatrix![1.0, 2.0]];

    // A rule whose result the loss does not read: the sweep never reaches it.
    let g = matrix::gradient(
        |m| {
            let _unread = owning_rule(m[0], guard());
            m[0].sum()
        },
        &x,
    );
    assert_eq!((g[0].clone(), runs.get()), (dmatrix![1.0, 1.0], 1));
    // A rule on a constant (no input needs it): discarded when recorded.
    let g = matrix::gradient(
        |m| {
            let c = owning_rule(MatVar::constant(dmatrix![1.0, 1.0]), guard());
            m[0].component_mul(c).sum()
        },
        &x,
    );
    assert_eq!((g[0].clone(), runs.get()), (dmatrix![4.0, 4.0], 2));
    // A rule the sweep runs, and a checkpointed function owning a guard, read and unread.
    let g = matrix::gradient(
        |m| {
            let owned = guard();
            let unread = guard();
            let read = matrix::checkpoint(
                move |q| {
                    let _ = &owned;
                    q[0] * 3.0
                },
                &[m[0]],
            );
            let _unread = matrix::checkpoint(
                move |q| {
                    let _ = &unread;
                    q[0].exp()
                },
                &[m[0]],
            );
            (owning_rule(m[0], guard()) + read).sum()
        },
        &x,
    );
    assert_eq!((g[0].clone(), runs.get()), (dmatrix![7.0, 7.0], 5));
    // A pullback holding such a rule, dropped.
    let (value, pullback) = matrix::pullback(|m| owning_rule(m[0], guard()), &x);
    assert_eq!(pullback.call(&dmatrix![1.0, -1.0])[0], dmatrix![4.0, -4.0]);
    drop(pullback);
    assert_eq!((value, runs.get()), (dmatrix![4.0, 8.0], 6));
    // The user's function panics after recording a rule and a checkpoint: the scope is closed
    // while unwinding, and the guards' gradients run then (this aborted).
    let caught = catch_unwind(AssertUnwindSafe(|| {
        matrix::gradient(
            |m| -> MatVar<f64> {
                let owned = guard();
                let _ = owning_rule(m[0], guard());
                let _ = matrix::checkpoint(
                    move |q| {
                        let _ = &owned;
                        q[0].sum()
                    },
                    &[m[0]],
                );
                panic!("the user's function fails after recording the rules")
            },
            &x,
        )
    }));
    assert!(caught.is_err());
    assert_eq!(runs.get(), 8, "both guards' gradients ran during unwinding");
    // A rule given a variable of a finished call: the stale-variable panic, the guard dropped.
    let mut leaked = None;
    let _ = matrix::gradient(
        |m| {
            leaked = Some(m[0]);
            m[0].sum()
        },
        &x,
    );
    let caught = catch_unwind(AssertUnwindSafe(|| {
        matrix::gradient(
            |m| {
                let owned = guard();
                let stale = [leaked.unwrap()];
                let y = matrix::custom_rule(&stale, dmatrix![0.0, 0.0], move |g| {
                    let _ = &owned;
                    vec![g.clone()]
                });
                (y + m[0]).sum()
            },
            &x,
        )
    }));
    let message = *caught.unwrap_err().downcast::<String>().unwrap();
    assert!(message.contains("from another tape"), "{message}");
    assert_eq!(runs.get(), 9);
    // The thread's matrix tapes still work.
    assert_eq!(
        matrix::gradient(|m| m[0].component_mul(m[0]).sum(), &x)[0],
        dmatrix![2.0, 4.0]
    );
}

#[test]
fn a_gradient_in_a_thread_local_destructor_at_thread_exit() {
    // A hunt: the tape pool (a thread-local) may already be gone then; the gradient aborted
    // the process ("cannot access a Thread Local Storage value during or after destruction").
    struct OnExit(std::sync::mpsc::Sender<Vec<f64>>);
    impl Drop for OnExit {
        fn drop(&mut self) {
            let _ = self.0.send(gradient(|v| v[0].sin() * v[1], &[0.0, 2.0]));
        }
    }
    thread_local! {
        static ON_EXIT: std::cell::RefCell<Option<OnExit>> = const { std::cell::RefCell::new(None) };
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // The slot's destructor is registered before the tape pool's, so (destructors running
        // in reverse order) the pool is gone when it runs.
        ON_EXIT.with(|slot| *slot.borrow_mut() = Some(OnExit(tx)));
        let _ = gradient(|v| v[0], &[1.0]);
    })
    .join()
    .unwrap();
    assert_eq!(rx.recv().unwrap(), vec![2.0, 0.0]);
}

#[test]
fn a_matrix_gradient_in_a_thread_local_destructor_at_thread_exit() {
    // As above, for the matrix tape: its tape stack and buffer pool are thread-locals too
    // (the process aborted: "thread local panicked on drop").
    use adroit_reverse::matrix::{self, MatVar};
    use nalgebra::dmatrix;
    struct OnExit(std::sync::mpsc::Sender<Vec<nalgebra::DMatrix<f64>>>);
    impl Drop for OnExit {
        fn drop(&mut self) {
            let x = dmatrix![1.0, 2.0; 3.0, 4.0];
            let g = matrix::gradient(|v: &[MatVar<f64>]| (v[0] * v[0]).sum(), &[x]);
            // A second call reuses the stand-in stack; f32 has its own.
            let again = matrix::gradient(|v: &[MatVar<f64>]| v[0].sum(), &[dmatrix![5.0]]);
            let single = matrix::gradient(|v: &[MatVar<f32>]| v[0].sum(), &[dmatrix![5.0_f32]]);
            assert_eq!((again[0][(0, 0)], single[0][(0, 0)]), (1.0, 1.0));
            let _ = self.0.send(g);
        }
    }
    thread_local! {
        static ON_EXIT: std::cell::RefCell<Option<OnExit>> = const { std::cell::RefCell::new(None) };
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        ON_EXIT.with(|slot| *slot.borrow_mut() = Some(OnExit(tx)));
        let _ = matrix::gradient(|v: &[MatVar<f64>]| v[0].sum(), &[dmatrix![1.0]]);
    })
    .join()
    .unwrap();
    // ∂/∂X Σ(X·X) = 𝟏·Xᵀ + Xᵀ·𝟏 (𝟏 all ones): [3 7; 3 7] + [4 4; 6 6].
    assert_eq!(rx.recv().unwrap(), vec![dmatrix![7.0, 11.0; 9.0, 13.0]]);
}

#[test]
fn an_f32_matrix_product_in_a_thread_local_destructor_after_the_kernels_buffer_is_gone() {
    // With the feature `gemm`, 64 × 64 f32 products run on the gemm crate, whose kernel keeps
    // a thread-local buffer (created at the thread's first such product, so destroyed before
    // a thread-local registered earlier): a product in that one's destructor runs on
    // matrixmultiply instead (gemm panicked there, and the process aborted).
    use adroit_reverse::matrix::{self, MatVar};
    use nalgebra::DMatrix;
    let x = DMatrix::from_fn(64, 64, |i, j| ((i * 3 + j * 5) % 7) as f32 - 3.0);
    let ones = DMatrix::from_element(64, 64, 1.0_f32);
    // ∂/∂X Σ(X·X) = 𝟏·Xᵀ + Xᵀ·𝟏 (𝟏 all ones; small integers, exact on either kernel).
    let expected = &ones * x.transpose() + x.transpose() * &ones;
    let gradient = move || {
        matrix::gradient(
            |v: &[MatVar<f32>]| (v[0] * v[0]).sum(),
            std::slice::from_ref(&x),
        )
    };
    struct OnExit<G: FnMut() -> Vec<DMatrix<f32>>>(G, std::sync::mpsc::Sender<Vec<DMatrix<f32>>>);
    impl<G: FnMut() -> Vec<DMatrix<f32>>> Drop for OnExit<G> {
        fn drop(&mut self) {
            let _ = self.1.send((self.0)());
        }
    }
    type Slot = Option<Box<dyn std::any::Any>>;
    thread_local! {
        static ON_EXIT: std::cell::RefCell<Slot> = const { std::cell::RefCell::new(None) };
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let during = gradient.clone();
    std::thread::spawn(move || {
        ON_EXIT.with(|slot| *slot.borrow_mut() = Some(Box::new(OnExit(gradient, tx))));
        let _ = during();
    })
    .join()
    .unwrap();
    assert_eq!(rx.recv().unwrap(), vec![expected]);
}

/// adroit-forward's documented limit "Second derivatives near overflow" holds for the
/// forward-over-reverse Hessian too: the naive `ln(exp(x))` at 400 gives 1 (exact 0; JAX's
/// `hessian` and PyTorch's give 1 as well), its stable form `x` gives 0 (from a user trial).
#[test]
fn forward_over_reverse_second_derivatives_near_overflow() {
    let naive = hessian(|x| x[0].exp().ln(), &[400.0_f64]);
    assert_eq!(naive[(0, 0)], 1.0);
    let fine = hessian(|x| x[0].exp().ln(), &[300.0_f64]);
    assert!(fine[(0, 0)].abs() < 1e-12, "{fine}");
    let stable = hessian(|x| x[0] * 1.0, &[400.0_f64]);
    assert_eq!(stable[(0, 0)], 0.0);
}

/// The forward-over-reverse Hessian of `x/y` at a huge divisor keeps both halves of
/// `∂²/∂y² = 2x/y³` (it gave 1e-300 for 2e-300: the rule's `∂y` is now `−(x/y)/y` there).
#[test]
fn division_hessian_at_a_huge_divisor() {
    let h = hessian(|v| v[0] / v[1], &[1e300_f64, 1e200]);
    let exact = 2.0 * (1e300 / 1e200) / 1e200 / 1e200;
    assert!(
        ((h[(1, 1)] - exact) / exact).abs() < 1e-14,
        "{:e}",
        h[(1, 1)]
    );
    // the mixed partial −1/y² = −1e-400 underflows to (−)0
    assert_eq!(h[(0, 1)], 0.0);
}

/// `mul_add` where `x·a` overflows but the fused `x·a + b` does not: the tape's value was ∞
/// (found by an audit of the nalgebra traits); now the fused primal, with the partials of
/// `x·a + b` and a symmetric forward-over-reverse Hessian.
#[test]
fn mul_add_keeps_the_fused_primal_where_the_product_overflows() {
    let (x, a, b) = (1.5e154_f64, 1.5e154, -1e308);
    let (v, g) = adroit_reverse::value_and_gradient(|v| v[0].mul_add(v[1], v[2]), &[x, a, b]);
    assert_eq!((v, g), (x.mul_add(a, b), vec![a, x, 1.0]));
    let h = hessian(|v| v[0].mul_add(v[1], v[2]), &[x, a, b]);
    assert_eq!((h[(0, 1)], h[(1, 0)], h[(2, 2)]), (1.0, 1.0, 0.0));
    // The larger factor is halved: the adjoint of the other stays finite ((1e308, 2, −1e308)
    // gave ∂a = ∞; a review).
    let cases = [
        ([1e308_f64, 2.0, -1e308], [2.0, 1e308, 1.0]),
        ([2.0, 1e308, -1e308], [1e308, 2.0, 1.0]),
        ([1e308, 3.0, f64::NEG_INFINITY], [3.0, 1e308, 1.0]),
    ];
    for (point, expected) in cases {
        let (v, g) = adroit_reverse::value_and_gradient(|v| v[0].mul_add(v[1], v[2]), &point);
        assert_eq!(v, point[0].mul_add(point[1], point[2]));
        assert_eq!(g, expected, "{point:?}");
    }
    let (v, g) = adroit_reverse::value_and_gradient(
        |v| v[0].mul_add(v[1], v[2]),
        &[1e300_f64, 1e300, f64::NEG_INFINITY],
    );
    assert_eq!((v, g), (f64::NEG_INFINITY, vec![0.0, 0.0, 1.0]));
}

/// The forward-over-reverse Hessian of `log_b(x)` at `x = 0` is symmetric: both mixed entries
/// are the one-sided limit −∞ of `−1/(x·b·ln²b)` (the entry read from `∂x` was 0; found by an
/// audit of the nalgebra traits).
#[test]
fn log_hessian_at_zero_is_symmetric() {
    for b in [2.0_f64, 0.5] {
        let h = hessian(|v| v[0].log(v[1]), &[0.0, b]);
        assert_eq!(
            (h[(0, 1)], h[(1, 0)]),
            (f64::NEG_INFINITY, f64::NEG_INFINITY),
            "{h}"
        );
    }
}

/// `cholesky()` on `Var`s accepts a positive semi-definite matrix whose zero pivot is computed
/// from the inputs, where `f64` gives `None` (documented in the crate docs; a user trial):
/// `ln det` of `[[a, b], [b, c]]` at (1, 1, 1) is −∞ with infinite partials.
#[test]
fn cholesky_of_a_semi_definite_matrix_of_variables() {
    let (value, g) = adroit_reverse::value_and_gradient(
        |p| {
            let m = nalgebra::DMatrix::from_row_slice(2, 2, &[p[0], p[1], p[1], p[2]]);
            let l = m.cholesky().expect("Some, unlike f64").l();
            l[(0, 0)].ln() + l[(1, 1)].ln()
        },
        &[1.0_f64, 1.0, 1.0],
    );
    assert_eq!(value, f64::NEG_INFINITY);
    assert!(g.iter().all(|d| d.is_infinite()), "{g:?}");
    let plain = nalgebra::DMatrix::from_row_slice(2, 2, &[1.0_f64, 1.0, 1.0, 1.0]);
    assert!(plain.cholesky().is_none());
}

#[test]
fn log_ndtr_hessian_far_left_is_minus_one() {
    // (ln Φ)''(x) = −1 + 1/x² − … → −1 far left (mpmath). The reverse-mode Hessian was −∞ for
    // x in about (−2e161, −5.6e153) in f64 and (−3.4e20, −7.7e18) in f32: the second derivative
    // of ln(½ erfcx(−x/√2)), −1/u² with u ≈ 1e-154, overflowed (forward mode was right).
    use adroit_forward::normal::log_ndtr;
    for x in [-6e153_f64, -1e154, -1e160, -1e200, -1e300] {
        let h = hessian(|v| log_ndtr(v[0]), &[x]);
        assert!((h[(0, 0)] + 1.0).abs() < 1e-15, "{x}: {h}");
        let g = gradient(|v| log_ndtr(v[0]), &[x]);
        // The first derivative, −x − 1/x + …, is −x to rounding.
        assert!((g[0] / -x - 1.0).abs() < 4.0 * f64::EPSILON, "{x}: {g:?}");
        let d2 = adroit_forward::second_derivative(|y| log_ndtr(y), x);
        assert!((d2 + 1.0).abs() < 1e-15, "{x}: {d2}");
    }
    for x in [-1e19_f32, -1e20, -3e20] {
        let h = hessian(|v| log_ndtr(v[0]), &[x]);
        assert!((h[(0, 0)] + 1.0).abs() < 1e-6, "{x}: {h}");
    }
    // Either side of where the two formulas meet (t = −x/√2 at √max/1024), −1 and −x as well.
    // (Their `ln` terms are far below rounding there, so this checks the overflow, not them.)
    let meet = f64::MAX.sqrt() / 1024.0 * std::f64::consts::SQRT_2;
    for x in [-meet * (1.0 - 1e-12), -meet * (1.0 + 1e-12)] {
        let h = hessian(|v| log_ndtr(v[0]), &[x]);
        assert!((h[(0, 0)] + 1.0).abs() < 1e-15, "{x}: {h}");
        let g = gradient(|v| log_ndtr(v[0]), &[x]);
        assert!((g[0] / -x - 1.0).abs() < 4.0 * f64::EPSILON, "{x}: {g:?}");
    }
    // At −∞ the value is −∞ and the slope +∞, as before.
    let g = gradient(|v| log_ndtr(v[0]), &[f64::NEG_INFINITY]);
    assert_eq!(g[0], f64::INFINITY);
}

#[test]
fn log10_gradient_is_not_flushed_near_the_largest_float() {
    // The rule adroit-forward fixed (1/(x·ln 10) overflowed to 0), through the tape: mpmath
    // gives 2.554673422960305e-309 at 1.7e308, 1.4476e-39 at 3e38 in f32.
    let g = gradient(|v| v[0].log10(), &[1.7e308_f64]);
    assert!((g[0] / 2.554673422960305e-309 - 1.0).abs() < 1e-12, "{g:?}");
    let g = gradient(|v| v[0].log10(), &[3e38_f32]);
    assert!((g[0] / 1.4476e-39 - 1.0).abs() < 1e-4, "{g:?}");
}

#[test]
fn log_second_derivative_in_a_tiny_base_is_the_formula_or_its_overflow() {
    // ∂²/∂b² log_b(x) = ln x·(2 + ln b)/(b²·ln³b) (mpmath: 7.8066501701109071e294 at
    // (1 + 1e-10, 1e-155)); NaN below b ≈ 1.5e-154 before the fix, as in forward mode.
    let h = hessian(|v| v[0].log(v[1]), &[1.0000000001, 1e-155]);
    let exact = 7.806_650_170_110_907e294;
    assert!(((h[(1, 1)] - exact) / exact).abs() < 1e-12, "{h}");
    let exact_mixed = -7.850_642_954_953_288e149;
    assert!(
        ((h[(0, 1)] - exact_mixed) / exact_mixed).abs() < 1e-12,
        "{h}"
    );
    assert!(
        ((h[(1, 0)] - exact_mixed) / exact_mixed).abs() < 1e-12,
        "{h}"
    );
    let h = hessian(|v| v[0].log(v[1]), &[8.0, 1e-160]);
    assert_eq!(h[(1, 1)], f64::INFINITY, "{h}");
    let h = hessian(|v| v[0].log(v[1]), &[0.5, 1e-200]);
    assert_eq!(h[(1, 1)], f64::NEG_INFINITY, "{h}");
}

#[test]
fn powf_exponent_derivatives_where_the_power_and_its_slope_overflow() {
    // ∂p = xᵖ·ln|x| and ∂²/∂p² = xᵖ·ln²|x| at (0.9, −6740), where xᵖ and xᵖ⁻¹ overflow:
    // finite (mpmath), ±∞ before the fix, in reverse mode too.
    let (x, p) = (0.9, -6740.0);
    let g = gradient(|v| v[0].powf(v[1]), &[x, p]);
    let dp = -2.680_181_878_319_517_6e307;
    assert!(((g[1] - dp) / dp).abs() < 1e-13, "{g:?}");
    let h = hessian(|v| v[0].powf(v[1]), &[x, p]);
    let dpp = 2.823_853_447_565_057_7e306;
    assert!(((h[(1, 1)] - dpp) / dpp).abs() < 1e-13, "{h}");
    assert_eq!(
        (h[(0, 1)], h[(1, 0)]),
        (f64::INFINITY, f64::INFINITY),
        "{h}"
    );
}

#[test]
fn powf_mixed_partial_at_a_tiny_base_and_a_small_exponent() {
    // xᵖ⁻¹(1 + p·ln x) at (1e-306, 1e-10) is 9.9999985908179973e305 (mpmath); the entry that
    // forward-over-reverse reads from ∂x was −∞ (its slope in p passed through xᵖ⁻¹·ln x).
    let h = hessian(|v| v[0].powf(v[1]), &[1e-306, 1e-10]);
    let mixed = 9.999_998_590_817_997e305;
    assert!(((h[(0, 1)] - mixed) / mixed).abs() < 1e-13, "{h}");
    assert!(((h[(1, 0)] - mixed) / mixed).abs() < 1e-13, "{h}");
}
