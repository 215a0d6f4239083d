//! `erf` and `erfc` on tape variables: gradients equal forward mode's (the same rules) in f64
//! and f32, and forward-over-reverse Hessians and HVPs (`Var<DualVec>`) equal the hyper-dual
//! ones, mixed partials included.

use adroit_forward::SpecialFunctions;

/// `erf(x·y) + erfc(x − y)·x`, generic over every number type with the error function.
fn f<S: SpecialFunctions>(v: &[S]) -> S {
    (v[0] * v[1]).erf() + (v[0] - v[1]).erfc() * v[0]
}

agree_with_forward_mode! {
    f at [(0.6, -0.4), (-1.5, 2.0), (0.0, 0.0), (3.0, 0.25)];
    erf_and_erfc_agree_with_forward_mode_f64: f64;
    erf_and_erfc_agree_with_forward_mode_f32: f32;
}

/// `erfcx` on both sides of its method changes (2 and 12) and negative, times a variable.
fn g<S: SpecialFunctions>(v: &[S]) -> S {
    v[0].erfcx() * v[1] + (v[1] * v[1]).erfcx()
}

agree_with_forward_mode! {
    g at [(0.6, -0.4), (-1.5, 2.0), (2.5, 0.25), (15.0, 3.5), (-4.0, 1.0)];
    erfcx_agrees_with_forward_mode_f64: f64;
    erfcx_agrees_with_forward_mode_f32: f32;
}

/// `ln Φ` and `Φ` (adroit-forward's `normal`) in both tails and across their switches at ±1.
fn h<S: SpecialFunctions>(v: &[S]) -> S {
    use adroit_forward::normal::{log_ndtr, ndtr};
    log_ndtr(v[0] * v[1]) + ndtr(v[0] - v[1]) * v[1]
}

agree_with_forward_mode! {
    h at [(0.6, -0.4), (-1.5, 2.0), (6.0, 1.5), (-30.0, 1.25), (0.5, 2.5)];
    log_ndtr_agrees_with_forward_mode_f64: f64;
    log_ndtr_agrees_with_forward_mode_f32: f32;
}

/// `ndtri` in the middle (`|x| < 1`) and both tails, of a product and of a variable's image in
/// `(0, 1)`.
fn ndtri_of<S: SpecialFunctions>(v: &[S]) -> S {
    (v[0] * v[1]).ndtri() + (v[1] * v[1] / (S::one() + v[1] * v[1])).ndtri() * v[0]
}

agree_with_forward_mode! {
    ndtri_of at [(0.5, 0.9), (0.01, 0.3), (0.999, 0.999), (1e-6, 4.0), (0.7, 0.5)];
    ndtri_agrees_with_forward_mode_f64: f64;
    ndtri_agrees_with_forward_mode_f32: f32;
}

/// The incomplete gamma functions (generic code: the tape records each term of the series
/// or level of the fraction) on both sides of their switch at `x = a + 1`, integer and
/// Stirling-form shapes included.
fn incomplete_gamma_of<S: SpecialFunctions>(v: &[S]) -> S {
    use adroit_forward::incomplete_gamma::{gammainc, gammaincc};
    gammainc(v[0], v[1]) + gammaincc(v[0] * v[0], v[1] + v[0]) * v[1]
}

// (a Hessian within 64 ε of its largest entry: the two modes round the series' and the
// fraction's tens of terms in different orders, 6 ε apart at (3, 2.5))
agree_with_forward_mode! {
    incomplete_gamma_of at [(0.5, 0.3), (2.0, 5.0), (3.0, 2.5), (12.0, 11.0), (1.5, 40.0)],
        hessian within 64.0;
    incomplete_gamma_agrees_with_forward_mode_f64: f64;
    incomplete_gamma_agrees_with_forward_mode_f32: f32;
}

/// Array code: the incomplete gamma entry by entry in a fused element-wise node
/// (`MatVar::zip_map`), its matrix gradient equal to forward mode's per entry, and its
/// Hessian (forward-over-reverse on the matrix tape) equal to the hyper-dual one.
#[test]
fn incomplete_gamma_in_array_code() {
    use adroit_forward::incomplete_gamma::gammainc;
    use adroit_reverse::matrix::{self, MatVar};
    use nalgebra::dmatrix;
    let a = dmatrix![0.5_f64, 2.0; 7.5, 30.0];
    let x = dmatrix![0.2_f64, 3.5; 6.0, 28.0];
    let f = |m: &[MatVar<f64>]| MatVar::zip_map([m[0], m[1]], |[a, x]| gammainc(a, x)).sum();
    let grads = matrix::gradient(f, &[a.clone(), x.clone()]);
    for i in 0..4 {
        let g = adroit_forward::gradient(|v| gammainc(v[0], v[1]), &[a[i], x[i]]);
        assert!(
            (grads[0][i] - g[0]).abs() <= 4.0 * f64::EPSILON * g[0].abs(),
            "∂a {i}"
        );
        assert!(
            (grads[1][i] - g[1]).abs() <= 4.0 * f64::EPSILON * g[1].abs(),
            "∂x {i}"
        );
    }
    let h = matrix::hessian(
        |m| MatVar::zip_map([m[0], m[1]], |[a, x]| gammainc(a, x)).sum(),
        &[a.clone(), x.clone()],
    );
    for i in 0..4 {
        let hd = adroit_forward::hessian(|v| gammainc(v[0], v[1]), &[a[i], x[i]]);
        // entries i (a's) and 4 + i (x's): one 2 × 2 block per entry, zeros elsewhere
        let block = [h[(i, i)], h[(i, 4 + i)], h[(4 + i, i)], h[(4 + i, 4 + i)]];
        let want = [hd[(0, 0)], hd[(0, 1)], hd[(1, 0)], hd[(1, 1)]];
        for (got, want) in block.iter().zip(want) {
            assert!(
                (got - want).abs() <= 1e-13 * hd.amax(),
                "entry {i}: {block:?} vs {want}"
            );
        }
    }
    assert_eq!(h[(0, 1)], 0.0); // entries do not interact
}

/// The tape's gradient and Hessian of the incomplete gamma where e⁻ˣ is close to subnormal
/// while the result is normal (a review: the adjoint of xᵃ carried e⁻ˣ/Γ(a + 1) and lost its
/// digits, 4.7e-9 relative at (9.9, 707); in f32 60 % at (9.9, 86)).
#[test]
fn incomplete_gamma_reverse_where_e_to_the_minus_x_is_tiny() {
    use adroit_forward::incomplete_gamma::gammainc;
    macro_rules! check {
        ($t:ty, $points:expr, $tolerance:expr) => {
            for (a, x) in $points {
                let p: [$t; 2] = [a, x];
                let reverse = adroit_reverse::gradient(|v| gammainc(v[0], v[1]), &p);
                let forward = adroit_forward::gradient(|v| gammainc(v[0], v[1]), &p);
                let scale = forward[0].abs().max(forward[1].abs());
                for k in 0..2 {
                    let what = format!("∂{k} at ({a}, {x}): {reverse:?} vs {forward:?}");
                    assert!(
                        (reverse[k] - forward[k]).abs() <= $tolerance * scale,
                        "{what}"
                    );
                }
                let h = adroit_reverse::hessian(|v| gammainc(v[0], v[1]), &p);
                let hd = adroit_forward::hessian(|v| gammainc(v[0], v[1]), &p);
                let bound = $tolerance * hd.amax();
                assert!(
                    (&h - &hd).amax() <= bound,
                    "Hessian at ({a}, {x}): {h} vs {hd}"
                );
                assert!(
                    (h[(0, 1)] - h[(1, 0)]).abs() <= bound,
                    "symmetry at ({a}, {x})"
                );
            }
        };
    }
    check!(
        f64,
        [(9.9, 707.0), (9.0, 700.0), (5.0, 690.0), (9.9, 600.0)],
        1e-13
    );
    check!(f32, [(9.9, 86.0), (9.9, 80.0), (5.0, 75.0)], 1e-5);
    // and at small x, where exp(a·ln x)'s derivatives cancelled on the tape (a third review:
    // −0.5 for P(1, x)'' = −1 at 1e-30)
    check!(
        f64,
        [(1.0, 1e-30), (1.0, 1e-15), (2.0, 1e-20), (1.5, 1e-8)],
        1e-13
    );
    check!(f32, [(1.0, 1e-9), (1.0, 1e-6)], 1e-5);
    let h = adroit_reverse::hessian(|v| gammainc(v[0], v[1]), &[1.0_f64, 1e-30]);
    assert!((h[(1, 1)] + 1.0).abs() < 1e-13, "{h}");
}

/// From a subagent's f32 hunt: the tape's ∂P/∂x for a shape in [½, 1) at a tiny x was −∞ (the
/// shared rule's x·xᵃ⁻¹, whose slope overflowed); exact x^(a−1)/Γ(a), in range.
#[test]
fn gammainc_x_partial_of_a_shape_below_one_at_a_tiny_x() {
    use adroit_forward::incomplete_gamma::gammainc;
    let g = adroit_reverse::gradient(|v| gammainc(v[0], v[1]), &[0.5_f32, 1e-30]);
    let want = 1e15 / std::f64::consts::PI.sqrt();
    assert!((f64::from(g[1]) / want - 1.0).abs() < 1e-5, "{g:?}");
}
