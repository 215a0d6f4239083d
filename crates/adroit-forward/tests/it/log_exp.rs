//! The `log_exp` functions: values, first and second derivatives against mpmath references
//! (`tools/gen_log_exp_reference.py`) through `Dual`, the hyper-dual, `gradient` and `hessian`
//! (ties and far tails included), `f32` against the same references, and the edge
//! conventions at the infinities, the domain boundaries and NaN.

use crate::log_exp_reference::{
    LOG_LOGISTIC, LOG1M_EXP, LOG1P_EXP, LOGADDEXP, LOGISTIC, LOGIT, LOGSUBEXP, LOGSUMEXP,
};
use adroit_forward::log_exp::{
    log_logistic, log1m_exp, log1p_exp, logaddexp, logistic, logit, logsubexp, logsumexp,
};
use adroit_forward::{Dual, HyperDual, gradient, hessian, second_derivative};
use num_traits::{Float, Zero};

/// `|got − want| ≤ k·ε·|want|` (or equal, for infinities), with an absolute floor at the
/// smallest normal so that subnormal references compare.
#[track_caller]
fn close<T: Float + std::fmt::Debug>(got: T, want: f64, k: f64, what: &str) {
    let got = got.to_f64().unwrap();
    let eps = T::epsilon().to_f64().unwrap();
    let floor = T::min_positive_value().to_f64().unwrap();
    let bound = k * eps * want.abs() + floor;
    assert!(
        got == want || (got - want).abs() <= bound,
        "{what}: {got:e} vs reference {want:e}"
    );
}

type Unary<S> = fn(S) -> S;
/// A function's name, its forms on `Dual` and `HyperDual`, and its reference rows.
type UnaryCase<T> = (
    &'static str,
    Unary<Dual<T>>,
    Unary<HyperDual<T>>,
    &'static [(f64, [f64; 3])],
);

fn unary_cases<T: Float>() -> [UnaryCase<T>; 5] {
    [
        ("logistic", logistic, logistic, &LOGISTIC),
        ("logit", logit, logit, &LOGIT),
        ("log1p_exp", log1p_exp, log1p_exp, &LOG1P_EXP),
        ("log_logistic", log_logistic, log_logistic, &LOG_LOGISTIC),
        ("log1m_exp", log1m_exp, log1m_exp, &LOG1M_EXP),
    ]
}

fn unary_against_references<T: Float + std::fmt::Debug>() {
    let mut checked = 0;
    for (name, on_dual, on_hyper, rows) in unary_cases::<T>() {
        for &(x64, [value, d1, d2]) in rows {
            let x = T::from(x64).unwrap();
            if x.to_f64().unwrap() != x64 || !x.is_finite() {
                continue; // not a value of T: the f64 reference is at another point
            }
            checked += 1;
            let what = |part: &str| format!("{name}({x64:e}) {part}");
            let y = on_dual(Dual::variable(x));
            close(y.value(), value, 4.0, &what("value"));
            close(y.tangent(), d1, 8.0, &what("f'"));
            // relative also near the zeros of f'' (the logistic function's inflection at 0,
            // logit's at ½: the tanh and atanh forms)
            close(second_derivative(on_hyper, x), d2, 16.0, &what("f''"));
        }
    }
    let f64_points: usize = unary_cases::<f64>().iter().map(|c| c.3.len()).sum();
    assert!(
        checked >= f64_points / 3,
        "{checked} of {f64_points} points"
    );
}

fn binary_against_references<T: Float + std::fmt::Debug + nalgebra::Scalar>() {
    type Binary<S> = fn(S, S) -> S;
    type BinaryCase<S> = (&'static str, Binary<S>, &'static [(f64, f64, [f64; 6])]);
    fn cases<S: Float>() -> [BinaryCase<S>; 2] {
        [
            ("logaddexp", logaddexp, &LOGADDEXP),
            ("logsubexp", logsubexp, &LOGSUBEXP),
        ]
    }
    for (i, (name, plain, rows)) in cases::<T>().into_iter().enumerate() {
        for &(a, b, [value, da, db, haa, hab, hbb]) in rows {
            let p = [T::from(a).unwrap(), T::from(b).unwrap()];
            if p[0].to_f64().unwrap() != a || p[1].to_f64().unwrap() != b {
                continue;
            }
            let what = |part: &str| format!("{name}({a:e}, {b:e}) {part}");
            close(plain(p[0], p[1]), value, 4.0, &what("value"));
            let f = |v: &[Dual<T>]| cases::<Dual<T>>()[i].1(v[0], v[1]);
            let g = gradient(f, &p);
            close(g[0], da, 8.0, &what("∂a"));
            close(g[1], db, 8.0, &what("∂b"));
            let h = hessian(|v| cases()[i].1(v[0], v[1]), &p);
            close(h[(0, 0)], haa, 16.0, &what("∂aa"));
            close(h[(0, 1)], hab, 16.0, &what("∂ab"));
            close(h[(1, 1)], hbb, 16.0, &what("∂bb"));
        }
    }
}

fn logsumexp_against_references<T: Float + std::fmt::Debug + nalgebra::Scalar>() {
    for (x, value, grad, hess) in LOGSUMEXP {
        let p: Vec<T> = x.iter().map(|&v| T::from(v).unwrap()).collect();
        if p.iter().zip(&x).any(|(a, &b)| a.to_f64().unwrap() != b) {
            continue;
        }
        let what = |part: &str| format!("logsumexp({x:?}) {part}");
        close(logsumexp(&p), value, 4.0, &what("value"));
        let g = gradient(|v| logsumexp(v), &p);
        let h = hessian(|v| logsumexp(v), &p);
        for i in 0..3 {
            close(g[i], grad[i], 8.0, &what(&format!("∂{i}")));
            for j in 0..3 {
                close(h[(i, j)], hess[i][j], 16.0, &what(&format!("∂{i}∂{j}")));
            }
        }
    }
}

both_precisions! {
    unary_functions_match_the_references => unary_against_references;
    logaddexp_and_logsubexp_match_the_references => binary_against_references;
    logsumexp_matches_the_references => logsumexp_against_references;
}

/// The documented conventions at the infinities, the domain boundaries, ties and NaN.
#[test]
fn edge_conventions() {
    let (inf, nan) = (f64::INFINITY, f64::NAN);
    let d = |f: fn(Dual<f64>) -> Dual<f64>, x: f64| {
        let y = f(Dual::variable(x));
        (y.value(), y.tangent())
    };
    assert_eq!(d(logistic, -inf), (0.0, 0.0));
    assert_eq!(d(logistic, inf), (1.0, 0.0));
    assert_eq!(d(logit, 0.0), (-inf, inf));
    assert_eq!(d(logit, 1.0), (inf, inf));
    assert!(logit(1.5_f64).is_nan() && logit(-0.5_f64).is_nan());
    assert_eq!(d(log1p_exp, inf), (inf, 1.0));
    assert_eq!(d(log1p_exp, -inf), (0.0, 0.0));
    assert_eq!(d(log_logistic, -inf), (-inf, 1.0));
    assert_eq!(d(log1m_exp, 0.0), (-inf, -inf));
    assert_eq!(d(log1m_exp, -0.0), (-inf, -inf));
    assert_eq!(d(log1m_exp, -inf), (0.0, -0.0));
    assert!(log1m_exp(1e-300_f64).is_nan());
    for f in [logistic, logit, log1p_exp, log_logistic, log1m_exp] {
        let (v, t) = d(f, nan);
        assert!(v.is_nan() && t.is_nan());
    }
    // outside the domain the derivatives are NaN too (the formulas' would be finite)
    for (f, x) in [(logit as fn(_) -> _, 1.5), (logit, -0.5), (log1m_exp, 0.5)] {
        let (v, t) = d(f, x);
        assert!(v.is_nan() && t.is_nan(), "at {x}: {v}, {t}");
    }
    // ... and the second derivatives (a review found 0 there)
    for (f, x) in [(logit as fn(_) -> _, 2.0), (logit, nan), (log1m_exp, 1.0)] {
        assert!(second_derivative(f, x).is_nan(), "f''({x})");
    }
    let h = hessian(|v| logsubexp(v[0], v[1]), &[1.0, 2.0]);
    assert!(h.iter().all(|p| p.is_nan()), "{h}");
    let h = hessian(|v| logsumexp(v), &[nan, 1.0]);
    assert!(h.iter().all(|p| p.is_nan()), "{h}");
    let g = gradient(|v| logsubexp(v[0], v[1]), &[0.0, 1.0]);
    assert!(g.iter().all(|p| p.is_nan()), "{g:?}");
    let g = gradient(|v| logsumexp(v), &[1.0, nan]);
    assert!(g.iter().all(|p| p.is_nan()), "{g:?}");
    // logaddexp: +∞ wins, −∞ drops out, infinite ties give the tie with partials ½
    let g = |a: f64, b: f64| gradient(|v| logaddexp(v[0], v[1]), &[a, b]);
    assert_eq!(logaddexp(inf, 3.0), inf);
    assert_eq!(g(inf, 3.0), vec![1.0, 0.0]);
    assert_eq!(logaddexp(-inf, 3.0), 3.0);
    assert_eq!(g(-inf, 3.0), vec![0.0, 1.0]);
    for tie in [inf, -inf] {
        assert_eq!(logaddexp(tie, tie), tie);
        assert_eq!(g(tie, tie), vec![0.5, 0.5]);
    }
    assert!(logaddexp(nan, 1.0).is_nan() && logaddexp(1.0, nan).is_nan());
    // logsubexp: −∞ at a tie, a where b = −∞ (partials 1, 0), NaN below the diagonal
    let g = |a: f64, b: f64| gradient(|v| logsubexp(v[0], v[1]), &[a, b]);
    assert_eq!(logsubexp(2.0, 2.0), -inf);
    assert_eq!(g(2.0, 2.0), vec![inf, -inf]);
    assert_eq!(g(2.0, -inf), vec![1.0, 0.0]);
    assert_eq!(logsubexp(-inf, -inf), -inf);
    assert!(logsubexp(1.0, 2.0).is_nan() && logsubexp(nan, -inf).is_nan());
    // logsumexp: −∞ when empty or all −∞, +∞ with an infinite maximum; partials of a tie among
    // the entries equal to an infinite maximum (as logaddexp's); NaN wins
    assert_eq!(logsumexp::<f64>(&[]), -inf);
    assert_eq!(logsumexp(&[-inf, -inf]), -inf);
    assert_eq!(gradient(|v| logsumexp(v), &[-inf, -inf]), vec![0.5, 0.5]);
    assert_eq!(
        gradient(|v| logsumexp(v), &[1.0, inf, inf]),
        vec![0.0, 0.5, 0.5]
    );
    assert_eq!(
        gradient(|v| logsumexp(v), &[1.0, inf, 2.0]),
        vec![0.0, 1.0, 0.0]
    );
    assert!(logsumexp(&[1.0, nan, inf]).is_nan());
}

/// The softplus pitfall the module documents: the `max`/`abs` form has the right gradient but a
/// zero second derivative at 0; `log1p_exp` has the true ¼.
#[test]
fn softplus_by_max_and_abs_loses_the_curvature_that_log1p_exp_keeps() {
    let kinked = |x: HyperDual<f64>| x.max(HyperDual::zero()) + (-x.abs()).exp().ln_1p();
    assert_eq!(second_derivative(kinked, 0.0), 0.0);
    assert_eq!(second_derivative(|x| log1p_exp(x), 0.0), 0.25);
    assert_eq!(
        adroit_forward::derivative(|x: Dual<f64>| log1p_exp(x), 0.0),
        0.5
    );
}

/// Near the inflection points the second derivatives keep their relative precision (a review:
/// `σ''(1e-16)` came out `−2.8e-17` for `−1.25e-17`, and 0 below `1e-17`).
#[test]
fn second_derivatives_near_inflection_points_are_relative() {
    for x in [1e-16, -3e-200, 0.5e-8, -0.7] {
        // σ'' = σ(1 − σ)(1 − 2σ) ≈ −x/8 near 0; in closed form through tanh: −σ'·tanh(x/2)
        let t = (0.5 * x).tanh();
        let want = -(0.25 * (1.0 - t * t)) * t;
        let got = second_derivative(|v: HyperDual<f64>| logistic(v), x);
        assert!(
            (got - want).abs() <= 4.0 * f64::EPSILON * want.abs(),
            "σ''({x}): {got} vs {want}"
        );
    }
    // logit'' = (2p − 1)/(p(1 − p))² at p = ½ − 2⁻⁵⁴: −2⁻⁵³/(1/16) = −16·2⁻⁵³
    let p = 0.5 - 2f64.powi(-54);
    let want = (2.0 * p - 1.0) / (p * (1.0 - p)).powi(2);
    let got = second_derivative(|v: HyperDual<f64>| logit(v), p);
    assert!(
        (got - want).abs() <= 4.0 * f64::EPSILON * want.abs(),
        "logit''({p}): {got} vs {want}"
    );
}

/// `softmax` and `logsoftmax` against their closed forms at moderate logits (values, Jacobian
/// `s(δ − s)`, and the Hessian of `logsoftmax(x)₀` through the second-order dual, whose closed
/// form is `−(diag(s) − s·sᵀ)`), and at the edges.
#[test]
fn softmax_and_logsoftmax_match_their_closed_forms() {
    use adroit_forward::log_exp::{logsoftmax, softmax};
    use adroit_forward::{hessian, jacobian};
    let x = [0.3_f64, -1.2, 2.0, 0.0];
    let e: Vec<f64> = x.iter().map(|v| v.exp()).collect();
    let total: f64 = e.iter().sum();
    let s: Vec<f64> = e.iter().map(|v| v / total).collect();
    for (got, want) in softmax(&x).iter().zip(&s) {
        assert!((got - want).abs() < 1e-15);
    }
    for (got, want) in logsoftmax(&x).iter().zip(&s) {
        assert!((got - want.ln()).abs() < 1e-15);
    }
    let j = jacobian(|v| softmax(v), &x);
    let h = hessian(|v| logsoftmax(v)[0], &x);
    for r in 0..4 {
        for c in 0..4 {
            let delta = if r == c { 1.0 } else { 0.0 };
            assert!(
                (j[(r, c)] - s[r] * (delta - s[c])).abs() < 1e-15,
                "J[{r}][{c}]"
            );
            assert!(
                (h[(r, c)] + (s[r] * delta - s[r] * s[c])).abs() < 1e-15,
                "H[{r}][{c}]"
            );
        }
    }
    // edges: +∞ ties share the probability, NaN poisons, empty, all −∞
    assert_eq!(
        softmax(&[f64::INFINITY, 1.0, f64::INFINITY]),
        [0.5, 0.0, 0.5]
    );
    assert!(softmax(&[1.0, f64::NAN]).iter().all(|v| v.is_nan()));
    assert!(softmax::<f64>(&[]).is_empty());
    let uniform = logsoftmax(&[f64::NEG_INFINITY; 4]);
    assert!(uniform.iter().all(|&v| (v + 4f64.ln()).abs() < 1e-15));
    // −∞ among finite entries: probability 0, log-probability −∞
    let y = logsoftmax(&[0.0, f64::NEG_INFINITY]);
    assert_eq!((y[0], y[1]), (0.0, f64::NEG_INFINITY));
}
