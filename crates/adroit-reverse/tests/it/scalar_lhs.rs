//! A plain number on the left of a matrix variable (`c / X`, `c − X`, `c·X`, `c + X`): values
//! and gradients against the same computation on the scalar tape and against the formulas.

use adroit_forward::Dual;
use adroit_reverse::matrix::{self, MatVar};
use adroit_reverse::{Var, gradient};
use nalgebra::{DMatrix, dmatrix};

#[test]
fn scalar_on_the_left_matches_the_scalar_tape() {
    let x: DMatrix<f64> = dmatrix![0.5, -2.0; 3.0, 0.25];
    let c = 1.5;
    // Σ (c/x + (c − x)·x + c·x + (c + x)²) on the matrix tape ...
    let (value, g) = matrix::value_and_gradient(
        |v: &[MatVar<f64>]| {
            let x = v[0];
            let square = (c + x).component_mul(c + x);
            ((c / x) + (c - x).component_mul(x) + c * x + square).sum()
        },
        std::slice::from_ref(&x),
    );
    // ... and the same sum on the scalar tape.
    let f = |v: &[Var<f64>]| {
        v.iter()
            .map(|&x| c / x + (c - x) * x + c * x + (c + x) * (c + x))
            .fold(Var::constant(0.0), |a, b| a + b)
    };
    let scalar = gradient(f, x.as_slice());
    assert_eq!(scalar.len(), 4);
    for (k, ((&xk, &gk), &sk)) in x.iter().zip(g[0].iter()).zip(&scalar).enumerate() {
        // d/dx [c/x + cx − x² + cx + (c + x)²] = −c/x² + 2c + 2c (the x² terms cancel)
        let formula = -c / (xk * xk) + 4.0 * c;
        assert!((gk - sk).abs() < 1e-12, "entry {k}");
        assert!((gk - formula).abs() < 1e-12, "entry {k}");
    }
    let expected: f64 = x
        .iter()
        .map(|&x| c / x + (c - x) * x + c * x + (c + x) * (c + x))
        .sum();
    assert!((value - expected).abs() < 1e-12);
}

#[test]
fn scalar_divided_by_a_zero_entry_follows_the_division_rule() {
    // c / x at x = 0: value ±∞ and derivative −∞ (−c/x² with the rule's sign), as the scalar
    // tape gives for the same entry.
    let x: DMatrix<f64> = dmatrix![0.0, 2.0];
    let (_, g) = matrix::value_and_gradient(
        |v: &[MatVar<f64>]| (1.0 / v[0]).sum(),
        std::slice::from_ref(&x),
    );
    let scalar = gradient(|v: &[Var<f64>]| 1.0 / v[0] + 1.0 / v[1], x.as_slice());
    assert_eq!(g[0].as_slice(), &scalar[..]);
    assert_eq!(g[0][(0, 1)], -0.25);
}

#[test]
fn a_dual_primal_on_the_left_of_a_nested_variable() {
    // For Var<Dual<f64>> (forward-over-reverse) a plain Dual<f64> may stand on the left as a
    // plain f64 does for Var<f64>: f(x) = c·x + c/x + (c − x) + (c + x) with c = 2 + 1ε
    // (a constant carrying a perturbation) at x = 3.
    let c = Dual::new(2.0, 1.0);
    let g = gradient(
        |v: &[Var<Dual<f64>>]| c * v[0] + c / v[0] + (c - v[0]) + (c + v[0]),
        &[Dual::constant(3.0)],
    );
    // ∂f/∂x = c − c/x² − 1 + 1 = c·(1 − 1/9); its value and its ε-part (∂c = 1).
    assert!((g[0].value() - 2.0 * 8.0 / 9.0).abs() < 1e-14);
    assert!((g[0].tangent() - 8.0 / 9.0).abs() < 1e-14);
    let g32 = gradient(
        |v: &[Var<Dual<f32>>]| Dual::new(2.0f32, 1.0) * v[0],
        &[Dual::constant(3.0f32)],
    );
    assert_eq!((g32[0].value(), g32[0].tangent()), (2.0, 1.0));
}

/// `f(x, y) = 3x²y + y/2 − 1/x + 2(1 − y) + x % 2.5 + 7 % y + z`, `z = ((xy + 1)·2 − ½)/4` built
/// by assign operators, written with plain literals around the variables whatever their type.
macro_rules! literal_body {
    ($x:expr, $y:expr) => {{
        let (x, y) = ($x, $y);
        let mut z = x * y;
        z += 1.0;
        z *= 2.0;
        z -= 0.5;
        z /= 4.0;
        z %= 100.0;
        3.0 * x * x * y + y / 2.0 - 1.0 / x + (1.0 - y) * 2.0 + x % 2.5 + 7.0 % y + z
    }};
}

/// The analytic Hessian of `literal_body` at `(x, y)` (`0 < x < 2.5`, `y > 0`).
fn literal_hessian(x: f64, y: f64) -> [[f64; 2]; 2] {
    let mixed = 6.0 * x + 0.5;
    [[6.0 * y - 2.0 / (x * x * x), mixed], [mixed, 0.0]]
}

#[test]
fn plain_floats_on_both_sides_in_hessian_and_hvp() {
    // `hessian` records Var<DualVec<f64, 12>>, `hvp` Var<Dual<f64>>: literals must work on
    // both sides of both, as they do for Var<f64> (JAX's `hessian(lambda x: 3.0 * x[0]**2)`).
    let (x, y) = (1.2, 2.0);
    let want = literal_hessian(x, y);
    let h = adroit_reverse::hessian(|v| literal_body!(v[0], v[1]), &[x, y]);
    for (i, row) in want.iter().enumerate() {
        for (j, &w) in row.iter().enumerate() {
            assert!(
                (h[(i, j)] - w).abs() < 1e-12,
                "H[{i}][{j}] = {} vs {w}",
                h[(i, j)]
            );
        }
    }
    let hv = adroit_reverse::hvp(|v| literal_body!(v[0], v[1]), &[x, y], &[1.0, -1.0]);
    assert!((hv[0] - (want[0][0] - want[0][1])).abs() < 1e-12);
    assert!((hv[1] - (want[1][0] - want[1][1])).abs() < 1e-12);
    // First derivatives and the value through the nested operators (the Hessian misses the
    // piecewise-linear terms): ∂x = 6xy + 1/x² + 1 + y/2, ∂y = 3x² + ½ − 2 − trunc(7/y) + x/2.
    let (value, g) = adroit_reverse::value_and_gradient(
        |v: &[Var<Dual<f64>>]| literal_body!(v[0], v[1]),
        &[Dual::constant(x), Dual::constant(y)],
    );
    assert_eq!(value.value(), literal_body!(x, y));
    let want_x = 6.0 * x * y + 1.0 / (x * x) + 1.0 + y / 2.0;
    let want_y = 3.0 * x * x + 0.5 - 2.0 - (7.0_f64 / y).trunc() + x / 2.0;
    assert!(
        (g[0].value() - want_x).abs() < 1e-12,
        "{} vs {want_x}",
        g[0].value()
    );
    assert!(
        (g[1].value() - want_y).abs() < 1e-12,
        "{} vs {want_y}",
        g[1].value()
    );
    let h32 = adroit_reverse::hessian(|v| literal_body!(v[0], v[1]), &[1.2_f32, 2.0]);
    assert!((f64::from(h32[(0, 0)]) - want[0][0]).abs() < 1e-4);
    assert!((f64::from(h32[(1, 0)]) - want[1][0]).abs() < 1e-4);
}
