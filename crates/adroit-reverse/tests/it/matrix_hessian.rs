//! Second derivatives of matrix code (`matrix::hessian`, `hvp`, `value_gradient_and_hessian`)
//! against independent references: central finite differences of the first-order matrix
//! gradient for every recorded operation, and the scalar tape's Hessian of the same function
//! written entry by entry.

use adroit_reverse::adroit_forward::rules::{Sin, Tanh};
use adroit_reverse::adroit_forward::{Dual, DualVec, log_exp};
use adroit_reverse::matrix::{self, Along, MatScalar, MatVar};
use nalgebra::{DMatrix, DVector, dmatrix};
use num_traits::Float;

/// A deterministic matrix with entries in (−1, 1), distinct.
fn mat(rows: usize, cols: usize, seed: u64) -> DMatrix<f64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    DMatrix::from_fn(rows, cols, |_, _| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    })
}

/// `m` in `T` (the tests' data in the function's scalar type).
fn lift<T: MatScalar>(m: &DMatrix<f64>) -> MatVar<T> {
    MatVar::constant(m.clone().cast())
}

/// The flattened gradient of `f` (inputs concatenated, column-major).
fn flat_gradient(f: fn(&[MatVar<f64>]) -> MatVar<f64>, x: &[DMatrix<f64>]) -> DVector<f64> {
    let g = matrix::gradient(f, x);
    DVector::from_iterator(
        g.iter().map(DMatrix::len).sum(),
        g.iter().flat_map(|m| m.iter().copied()),
    )
}

/// `x` with flattened entry `index` moved by `h`.
fn moved(x: &[DMatrix<f64>], index: usize, h: f64) -> Vec<DMatrix<f64>> {
    let mut out = x.to_vec();
    let mut rest = index;
    for m in &mut out {
        if rest < m.len() {
            m.as_mut_slice()[rest] += h;
            return out;
        }
        rest -= m.len();
    }
    panic!("index {index} out of range");
}

/// Column `j` of the Hessian by central differences of the gradient (error O(h²) + O(ε/h)).
fn fd_hessian(f: fn(&[MatVar<f64>]) -> MatVar<f64>, x: &[DMatrix<f64>]) -> DMatrix<f64> {
    let n: usize = x.iter().map(DMatrix::len).sum();
    let h = 1e-5;
    let mut out = DMatrix::zeros(n, n);
    for j in 0..n {
        let column =
            (flat_gradient(f, &moved(x, j, h)) - flat_gradient(f, &moved(x, j, -h))) / (2.0 * h);
        out.set_column(j, &column);
    }
    out
}

/// `matrix::hessian` of `f` against finite differences of its gradient, and its symmetry;
/// `hvp` against the Hessian times a direction; the value and gradient of
/// `value_gradient_and_hessian` against the first-order call's. Returns the Hessian.
macro_rules! check {
    ($f:ident, $x:expr) => {{
        let x: Vec<DMatrix<f64>> = $x;
        let name = stringify!($f);
        let (value, grads, h) = matrix::value_gradient_and_hessian($f, &x);
        let (value1, grads1) = matrix::value_and_gradient($f, &x);
        let scale = h.amax().max(1.0);
        assert!(
            (value - value1).abs() <= 1e-14 * value1.abs().max(1.0),
            "{name}: value"
        );
        for (g, g1) in grads.iter().zip(&grads1) {
            assert!(
                (g - g1).amax() <= 1e-13 * scale,
                "{name}: gradient {g} vs {g1}"
            );
        }
        let reference = fd_hessian($f, &x);
        let err = (&h - &reference).amax();
        assert!(
            err <= 1e-6 * scale,
            "{name}: Hessian\n{h}\nvs finite differences\n{reference}"
        );
        assert!(
            (&h - h.transpose()).amax() <= 1e-13 * scale,
            "{name}: not symmetric\n{h}"
        );
        assert!(h.amax() > 1e-3, "{name}: a second derivative is reached");
        // hvp along a direction with every entry nonzero
        let v: Vec<DMatrix<f64>> = x
            .iter()
            .enumerate()
            .map(|(k, m)| mat(m.nrows(), m.ncols(), 100 + k as u64))
            .collect();
        let hv = matrix::hvp($f, &x, &v);
        let (value2, grads2, hv2) = matrix::value_gradient_and_hvp($f, &x, &v);
        assert!(
            (value2 - value1).abs() <= 1e-14 * value1.abs().max(1.0),
            "{name}: value"
        );
        for ((g, g1), (p, p1)) in grads2.iter().zip(&grads1).zip(hv.iter().zip(&hv2)) {
            assert!((g - g1).amax() <= 1e-13 * scale, "{name}: gradient");
            assert_eq!(p, p1, "{name}: the same recording's product");
        }
        let flat_v = DVector::from_iterator(h.ncols(), v.iter().flat_map(|m| m.iter().copied()));
        let expected = &h * flat_v;
        let got = DVector::from_iterator(h.ncols(), hv.iter().flat_map(|m| m.iter().copied()));
        assert!(
            (&got - &expected).amax() <= 1e-13 * scale * h.ncols() as f64,
            "{name}: hvp"
        );
        h
    }};
}

fn products<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
    // matmul with a transpose, broadcasting division and scaling
    let y = m[0].matmul(m[1].transpose()).tanh();
    let z = y.component_div(m[2].exp()) * T::from(0.5).unwrap() + T::one();
    z.component_mul(z).sum()
}

#[test]
fn products_maps_and_broadcasting() {
    check!(products, vec![mat(3, 2, 1), mat(4, 2, 2), mat(1, 4, 3)]);
}

fn affine_layer<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
    // a two-layer network's softmax cross-entropy against fixed labels
    let x = lift::<T>(&mat(3, 5, 9));
    let h = m[0].affine(x, m[1]).map(|v| log_exp::log1p_exp(v));
    let logits = m[2].matmul(h);
    let picked = logits
        .logsoftmax(Along::Rows)
        .take_along(Along::Rows, &[0, 1, 1, 0, 1]);
    -picked.mean()
}

#[test]
fn affine_softplus_logsoftmax_take_along() {
    check!(affine_layer, vec![mat(4, 3, 4), mat(4, 1, 5), mat(2, 4, 6)]);
}

fn reductions<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
    let a = m[0];
    let rows = a.sum_along(Along::Rows).map_rule(Sin).sum();
    let cols = a.mean_along(Along::Cols).powi(3).mean();
    let lse = a.logsumexp(Along::Cols).sum() + a.logsumexp(Along::Rows).mean();
    let soft = a.softmax(Along::Cols).component_mul(a).sum();
    let weighted = a.component_mul(a).weighted_sum(mat(3, 4, 7).cast());
    rows + cols + lse + soft + weighted
}

#[test]
fn sums_means_logsumexp_softmax_weighted_sum() {
    check!(reductions, vec![mat(3, 4, 8)]);
}

fn extrema<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
    // away from ties: the second derivative is the chosen entries'
    let a = m[0].component_mul(m[0]);
    a.max_along(Along::Rows).sum() + a.min_along(Along::Cols).powi(2).sum() + a.max().exp()
}

#[test]
fn maxima_and_minima() {
    check!(extrema, vec![mat(3, 4, 10)]);
}

fn shapes<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
    let a = m[0];
    let r = a.reshape(4, 3).view((1, 0), (2, 3));
    let parts = MatVar::vcat(&[a.rows(0, 1), a.strided_rows(1, 2, 1)]);
    let joined = MatVar::hcat(&[parts.columns(0, 2), a.columns(2, 2)]);
    let sq = a.view((0, 0), (3, 3));
    r.component_mul(r).sum() * joined.tanh().sum()
        + sq.diagonal().exp().sum()
        + sq.matmul(sq).trace()
}

#[test]
fn reshapes_views_concatenation_diagonals() {
    check!(shapes, vec![mat(3, 4, 11)]);
}

fn solves<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
    let identity: DMatrix<f64> = DMatrix::identity(3, 3) * 2.0;
    let a = m[0] + lift::<T>(&identity);
    let x = a.solve(m[1]);
    x.component_mul(x).sum() + a.inverse().trace() + a.logabsdet()
}

#[test]
fn solve_inverse_logabsdet() {
    check!(solves, vec![mat(3, 3, 12), mat(3, 2, 13)]);
}

fn singular<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
    let s = m[0].singular_values();
    s.sum() + s.powi(3).sum()
}

#[test]
fn singular_values() {
    check!(singular, vec![mat(4, 3, 14)]);
    // at a diagonal matrix, where nalgebra's iteration run on duals gets tangents wrong
    let diagonal = DMatrix::from_fn(4, 3, |i, j| if i == j { [3.0, -2.0, 1.0][i] } else { 0.0 });
    check!(singular, vec![diagonal]);
}

fn fused<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
    let term = MatVar::zip_map([m[0], m[1]], |[a, b]| {
        let (u, v) = (b - a * a, a.sin());
        let ten = num_traits::cast::<f64, DualVec<T, 2>>(10.0).unwrap();
        u * u * ten + v * v.exp()
    });
    let mapped = m[0].map_with_derivative(|x| (Float::sinh(x), Float::cosh(x)));
    let rule = m[1].map_rule(Tanh);
    term.sum() + mapped.component_mul(rule).sum()
}

#[test]
fn zip_map_map_with_derivative_map_rule() {
    check!(fused, vec![mat(2, 3, 15), mat(2, 3, 16)]);
}

/// `x³` entry by entry with its own pullback `3x²·Ȳ`, written in the matrix's scalar type so
/// that on duals it carries its own derivative.
fn cube<T: MatScalar>(x: MatVar<T>) -> MatVar<T> {
    let value = x.value();
    let out = value.map(|v| v * v * v);
    matrix::custom_rule(&[x], out, move |g| {
        vec![value.zip_map(g, |v, g| T::from(3.0).unwrap() * v * v * g)]
    })
}

fn custom<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
    cube(m[0].matmul(m[1])).sum()
}

#[test]
fn custom_rule_written_generically() {
    check!(custom, vec![mat(2, 3, 17), mat(3, 2, 18)]);
}

/// A one-hidden-layer network's loss, matrix form (features × batch).
fn network<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
    let x = lift::<T>(&mat(3, 4, 19));
    let y = lift::<T>(&mat(1, 4, 20));
    let h = m[0].affine(x, m[1]).tanh();
    let e = m[2].matmul(h) - y;
    e.component_mul(e).mean()
}

/// The same loss entry by entry on the scalar tape: weights `w₁` (2 × 3), `b` (2), `w₂` (1 × 2),
/// flattened column-major in that order.
fn network_scalar<S: Float>(p: &[S]) -> S {
    let (x, y) = (mat(3, 4, 19), mat(1, 4, 20));
    let w1 = |i: usize, j: usize| p[j * 2 + i];
    let (b, w2) = (&p[6..8], &p[8..10]);
    let mut total = S::zero();
    for n in 0..4 {
        let mut out = S::zero();
        for i in 0..2 {
            let mut z = b[i];
            for j in 0..3 {
                z = z + w1(i, j) * S::from(x[(j, n)]).unwrap();
            }
            out = out + w2[i] * z.tanh();
        }
        let e = out - S::from(y[(0, n)]).unwrap();
        total = total + e * e;
    }
    total / S::from(4.0).unwrap()
}

#[test]
fn network_hessian_equals_the_scalar_tapes() {
    let x = vec![mat(2, 3, 21), mat(2, 1, 22), mat(1, 2, 23)];
    let h = check!(network, x.clone());
    let flat: Vec<f64> = x.iter().flat_map(|m| m.iter().copied()).collect();
    let scalar = adroit_reverse::hessian(|p| network_scalar(p), &flat);
    assert!(
        (&h - &scalar).amax() <= 1e-14 * scalar.amax(),
        "{h}\nvs the scalar tape's\n{scalar}"
    );
}

#[test]
fn hessian_spans_several_chunks() {
    // 3·5 + 5 = 20 entries: two recordings of twelve directions
    let h = check!(products_small, vec![mat(3, 5, 24), mat(5, 1, 25)]);
    assert_eq!(h.shape(), (20, 20));
}

fn products_small<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
    m[0].matmul(m[1]).tanh().powi(2).sum()
}

#[test]
fn single_precision_agrees_with_double() {
    let x = vec![mat(3, 2, 26), mat(4, 2, 27), mat(1, 4, 28)];
    let x32: Vec<DMatrix<f32>> = x.iter().map(|m| m.clone().cast()).collect();
    let h = matrix::hessian(products, &x);
    let h32 = matrix::hessian(products, &x32);
    let err = (h32.cast::<f64>() - &h).amax();
    assert!(err <= 1e-4 * h.amax(), "f32 Hessian off by {err}");
    let v32: Vec<DMatrix<f32>> = x32.iter().map(|m| m.map(|_| 1.0)).collect();
    let hv = matrix::hvp(products, &x32, &v32);
    assert_eq!(hv.len(), 3);
    assert_eq!(hv[2].shape(), (1, 4));
}

#[test]
fn hvp_tangent_of_the_gradient_is_exact_for_a_quadratic() {
    // f(A) = Σ (A·B)² with B fixed: H·V = 2·V·B·Bᵀ exactly (small integers)
    fn f<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        let y = m[0].matmul(lift::<T>(&dmatrix![1.0, 2.0; -1.0, 3.0]));
        y.component_mul(y).sum()
    }
    let (a, v) = (dmatrix![1.0, 2.0; 3.0, 4.0], dmatrix![1.0, 0.0; -2.0, 1.0]);
    let b = dmatrix![1.0, 2.0; -1.0, 3.0];
    assert_eq!(
        matrix::hvp(f, &[a], std::slice::from_ref(&v))[0],
        2.0 * v * &b * b.transpose()
    );
}

#[test]
fn no_entries_records_once_for_the_value() {
    fn f<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        m[0].sum() + T::from(2.0).unwrap()
    }
    let (value, grads, h) = matrix::value_gradient_and_hessian(f, &[DMatrix::<f64>::zeros(0, 3)]);
    assert_eq!((value, grads[0].shape(), h.shape()), (2.0, (0, 3), (0, 0)));
}

#[test]
#[should_panic(expected = "matrix::hvp: input 1 is 2×1 but its direction is 1×2")]
fn hvp_names_a_direction_of_the_wrong_shape() {
    fn f<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        m[0].matmul(m[1]).sum()
    }
    let x = [dmatrix![1.0, 2.0], dmatrix![3.0; 4.0]];
    matrix::hvp(f, &x, &[dmatrix![1.0, 0.0], dmatrix![1.0, 0.0]]);
}

#[test]
fn duals_inside_hvp_are_first_order_duals_of_the_data() {
    // the function sees Dual<f64> entries: primal the point, tangent the direction
    let seen = std::cell::Cell::new(Dual::new(0.0, 0.0));
    let _ = matrix::hvp(
        |m: &[MatVar<Dual<f64>>]| {
            seen.set(m[0].value()[(0, 1)]);
            m[0].sum()
        },
        &[dmatrix![1.0, 2.0]],
        &[dmatrix![0.5, -3.0]],
    );
    assert_eq!((seen.get().value(), seen.get().tangent()), (2.0, -3.0));
}

// ---------- a review's cases: duals where a plain float's shortcut or convention misled ----------

/// Equal entry by entry, NaN matching NaN.
fn same(a: &DMatrix<f64>, b: &DMatrix<f64>) -> bool {
    a.shape() == b.shape()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
}

#[test]
fn a_cotangent_of_value_one_keeps_its_tangent() {
    // exp(Σ ln x) = x₀·x₁: the seed reaching ln's partials is exp(0) = 1 with a tangent
    fn product<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        m[0].ln().sum().exp()
    }
    let h = matrix::hessian(product, &[dmatrix![2.0, 0.5]]);
    assert!((h - dmatrix![0.0, 1.0; 1.0, 0.0]).amax() < 1e-15);
    // ½(Σx²)² at (1, 0): Hessian 4xxᵀ + 2(Σx²)I = diag(6, 2)
    fn quartic<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        let s = m[0].component_mul(m[0]).sum();
        s.component_mul(s) * T::from(0.5).unwrap()
    }
    let h = check!(quartic, vec![dmatrix![1.0, 0.0]]);
    assert_eq!(h, dmatrix![6.0, 0.0; 0.0, 2.0]);
    assert_eq!(
        matrix::hvp(quartic, &[dmatrix![1.0, 0.0]], &[dmatrix![1.0, 0.0]])[0],
        dmatrix![6.0, 0.0]
    );
}

#[test]
fn a_constant_partial_of_value_one_keeps_its_tangent() {
    // y = x·c with c = x₀ read by value (a constant to the sweep, moving with x in the
    // forward direction): the Hessian is the Jacobian of the gradient 2c²x, continuous at c = 1
    fn scaled<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        let c = m[0].value()[(0, 0)];
        let y = m[0] * c;
        y.component_mul(y).sum()
    }
    let at_one = matrix::hessian(scaled, &[dmatrix![1.0, 2.0]]);
    let near_one = matrix::hessian(scaled, &[dmatrix![1.0 + 1e-12, 2.0]]);
    assert!(
        (&at_one - &near_one).amax() < 1e-10,
        "{at_one} vs {near_one}"
    );
    assert!((at_one - dmatrix![6.0, 0.0; 8.0, 2.0]).amax() < 1e-12);
}

#[test]
fn a_zero_times_infinity_in_a_dual_product_is_zero_as_entry_by_entry() {
    // z = √aᵀ·b at a = (0, 1), b = (0, 1): √'(0) = ∞ meets b₀ = 0
    fn by_product<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        let z = m[0].sqrt().transpose().matmul(m[1]);
        z.component_mul(z).sum()
    }
    fn by_entries<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        let z = m[0].sqrt().component_mul(m[1]).sum();
        z.component_mul(z).sum()
    }
    let x = [dmatrix![0.0; 1.0], dmatrix![0.0; 1.0]];
    let (h, reference) = (
        matrix::hessian(by_product, &x),
        matrix::hessian(by_entries, &x),
    );
    assert!(same(&h, &reference), "{h}\nvs\n{reference}");
    assert_eq!((h[(1, 0)], h[(3, 0)]), (0.0, 0.0));
}

#[test]
fn a_zero_adjoint_with_a_tangent_against_an_infinite_partial_is_zero() {
    // √(x⊙x)⊙y at (0, 0): as the scalar tape (its sweep product) and forward mode
    fn f<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        m[0].component_mul(m[0]).sqrt().component_mul(m[1]).sum()
    }
    fn scalar<S: Float>(x: &[S]) -> S {
        (x[0] * x[0]).sqrt() * x[1]
    }
    let h = matrix::hessian(f, &[dmatrix![0.0], dmatrix![0.0]]);
    let reference = adroit_reverse::hessian(|x| scalar(x), &[0.0, 0.0]);
    assert!(
        same(&h, &reference),
        "{h}\nvs the scalar tape's\n{reference}"
    );
    assert!(!h[(0, 0)].is_nan());
}

#[test]
fn ties_of_extrema_share_the_second_derivative_too() {
    fn max_squared<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        m[0].max().powi(2).sum()
    }
    fn min_along_squared<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        m[0].min_along(Along::Rows).powi(2).sum()
    }
    fn pairwise<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        m[0].rows(0, 1)
            .zip_rule(m[0].rows(1, 1), adroit_forward::rules::Max)
            .powi(2)
            .sum()
    }
    let tie = dmatrix![1.0; 1.0];
    let h = matrix::hessian(max_squared, std::slice::from_ref(&tie));
    assert_eq!(h, DMatrix::from_element(2, 2, 0.5));
    assert_eq!(h, matrix::hessian(pairwise, std::slice::from_ref(&tie)));
    assert_eq!(h, matrix::hessian(min_along_squared, &[tie]));
    // plain floats: the value is the first tied entry's, the sign of zero kept
    let (v, _) = matrix::pullback(|m| m[0].min(), &[dmatrix![0.0, -0.0]]);
    assert!(v[(0, 0)] == 0.0 && v[(0, 0)].is_sign_negative());
}

#[test]
fn repeated_singular_values_give_nan_second_derivatives() {
    // documented: the singular vectors' tangents are infinite there (as JAX's svd rule)
    fn nuclear<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        m[0].singular_values().sum()
    }
    let rotation = dmatrix![0.6, -0.8; 0.8, 0.6];
    let g = matrix::gradient(nuclear, std::slice::from_ref(&rotation));
    assert!(g[0].iter().all(|v| v.is_finite()));
    let h = matrix::hessian(nuclear, &[rotation]);
    assert!(h.iter().all(|v| v.is_nan()), "{h}");
}

#[test]
fn a_singular_solve_gives_the_first_order_results_under_the_hessian() {
    fn f<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        m[0].solve(m[1]).sum()
    }
    let x = [dmatrix![1.0, 2.0; 2.0, 4.0], dmatrix![1.0; 1.0]];
    let (value, grads) = matrix::value_and_gradient(f, &x);
    let (value2, grads2, h) = matrix::value_gradient_and_hessian(f, &x);
    assert!(value.is_nan() && value2.is_nan());
    for (g, g2) in grads.iter().zip(&grads2) {
        assert!(same(g, g2), "{g} vs {g2}");
    }
    assert!(h.iter().all(|v| v.is_nan()), "{h} {grads2:?}");
}

// ---------- a second review's cases ----------

#[test]
fn a_tie_of_zeros_keeps_its_sign_under_the_hessian() {
    // 1/max(x) at x = (−0, −0): e^(1/−0) = 0 in f64; +0 would give e^∞ = ∞
    fn f<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        m[0].max().map(|v| v.recip().exp()).sum()
    }
    let x = [dmatrix![-0.0, -0.0]];
    let (value, grads) = matrix::value_and_gradient(f, &x);
    let (value2, grads2, _) = matrix::value_gradient_and_hessian(f, &x);
    assert_eq!((value, value2), (0.0, 0.0));
    assert!(same(&grads[0], &grads2[0]), "{} vs {}", grads[0], grads2[0]);
    // min over {−0, +0} is −0 with the tangents' mean
    fn g<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        let low = m[0].min();
        low.map(|v| v.recip().atan()).sum() + low.component_mul(low).sum()
    }
    let x = [dmatrix![-0.0_f64, 0.0]];
    let (value, grads) = matrix::value_and_gradient(g, &x);
    let (value2, grads2, h) = matrix::value_gradient_and_hessian(g, &x);
    assert_eq!(value.to_bits(), value2.to_bits());
    assert!(same(&grads[0], &grads2[0]));
    assert_eq!(h, DMatrix::from_element(2, 2, 0.5)); // (min²)'' shared by the tie
}

#[test]
fn an_infinite_tangent_in_a_solved_matrix_is_not_an_undefined_matrix() {
    // √ at 0 feeds A: finite values, an infinite derivative in one direction only
    fn f<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        (m[1] + m[0].sqrt()).logabsdet()
    }
    let x = [dmatrix![0.0], dmatrix![2.0, 0.5; 0.25, 1.0]];
    let (value, grads) = matrix::value_and_gradient(f, &x);
    let (value2, grads2, h) = matrix::value_gradient_and_hessian(f, &x);
    assert_eq!(value, value2);
    for (a, b) in grads.iter().zip(&grads2) {
        assert!(same(a, b), "{a} vs {b}");
    }
    // the Hessian's block of A alone is finite and equals the first-order-only function's
    fn g<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        m[0].logabsdet()
    }
    let block = matrix::hessian(g, &[dmatrix![2.0, 0.5; 0.25, 1.0]]);
    assert!(
        (h.view((1, 1), (4, 4)) - &block).amax() < 1e-15,
        "{h}\nvs\n{block}"
    );
    let hv = matrix::hvp(f, &x, &[dmatrix![0.0], dmatrix![1.0, 0.0; 0.0, 0.0]]);
    let expected = block.column(0);
    assert!((DVector::from_column_slice(hv[1].as_slice()) - expected).amax() < 1e-15);
}

#[test]
fn a_zero_valued_cotangent_with_a_tangent_meets_an_infinite_partial_as_zero() {
    // Σy · Σ√x at x = (0, 1): the uniform cotangent reaching √'s partial (∞ at 0) is Σy's
    fn f<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        m[1].sum().component_mul(m[0].sqrt().sum())
    }
    fn scalar<S: Float>(x: &[S]) -> S {
        (x[2] + x[3]) * (x[0].sqrt() + x[1].sqrt())
    }
    let x = [dmatrix![0.0, 1.0], dmatrix![1.0, -1.0]];
    let (_, grads) = matrix::value_and_gradient(f, &x);
    let (_, grads2, h) = matrix::value_gradient_and_hessian(f, &x);
    for (a, b) in grads.iter().zip(&grads2) {
        assert!(same(a, b), "{a} vs {b}");
    }
    let reference = adroit_reverse::hessian(|p| scalar(p), &[0.0, 1.0, 1.0, -1.0]);
    assert!(
        same(&h, &reference),
        "{h}\nvs the scalar tape's\n{reference}"
    );
}

#[test]
fn stop_gradient_freezes_in_both_orders_where_value_freezes_in_one() {
    fn frozen<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        let y = m[0].tanh();
        y.component_mul(m[0].stop_gradient()).sum()
    }
    fn by_value<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        let y = m[0].tanh();
        y.component_mul(MatVar::constant(m[0].value())).sum()
    }
    let a = dmatrix![0.5, -1.25];
    // first order: the same gradient, tanh'(a)·a
    let (g, g2) = (
        matrix::gradient(frozen, &[&a]),
        matrix::gradient(by_value, &[&a]),
    );
    assert_eq!(g, g2);
    // second order: a frozen factor is constant (diagonal tanh''(a)·a); read by value it moves
    // with the direction (diagonal tanh''(a)·a + tanh'(a): the derivative of the gradient)
    let (h, h2) = (
        matrix::hessian(frozen, &[&a]),
        matrix::hessian(by_value, &[&a]),
    );
    for i in 0..2 {
        let t = a[i].tanh();
        let (d1, d2) = (1.0 - t * t, -2.0 * t * (1.0 - t * t));
        assert!((h[(i, i)] - d2 * a[i]).abs() < 1e-15, "{h}");
        assert!((h2[(i, i)] - (d2 * a[i] + d1)).abs() < 1e-15, "{h2}");
    }
    assert_eq!((h[(0, 1)], h2[(0, 1)]), (0.0, 0.0));
}

/// `matrix::hessian_chunked::<N>` for every supported chunk size equals `matrix::hessian` bit
/// for bit (2 + 6 = 8 entries: one, several and partial chunks), and
/// `value_gradient_and_hessian_chunked` equals `value_gradient_and_hessian`.
#[test]
fn hessian_chunked_equals_hessian_for_every_chunk_size() {
    fn check<const N: usize>(x: &[DMatrix<f64>])
    where
        DualVec<f64, N>: MatScalar,
    {
        let expected = matrix::hessian(affine_layer, x);
        assert_eq!(
            matrix::hessian_chunked::<N, _, _, _>(affine_layer, x),
            expected,
            "N = {N}"
        );
        assert_eq!(
            matrix::value_gradient_and_hessian_chunked::<N, _, _, _>(affine_layer, x),
            matrix::value_gradient_and_hessian(affine_layer, x),
            "N = {N}"
        );
    }
    let x = [mat(4, 3, 4), mat(4, 1, 5), mat(2, 4, 6)];
    check::<1>(&x);
    check::<2>(&x);
    check::<4>(&x);
    check::<8>(&x);
    check::<12>(&x);
}

/// The three functions of a line's log-sum-exp, each read so that every line has a nonzero
/// cotangent: `Σ lse`, the first entry of every line's softmax, the last of its log-softmax.
fn softmax_family<T: MatScalar>(m: &[MatVar<T>], along: Along, which: usize) -> MatVar<T> {
    let line_end = |v: MatVar<T>, first: bool| match (along, first) {
        (Along::Rows, true) => v.rows(0, 1),
        (Along::Rows, false) => v.rows(v.nrows() - 1, 1),
        (Along::Cols, true) => v.columns(0, 1),
        (Along::Cols, false) => v.columns(v.ncols() - 1, 1),
    };
    match which {
        0 => m[0].logsumexp(along).sum(),
        1 => line_end(m[0].softmax(along), true).sum(),
        _ => line_end(m[0].logsoftmax(along), false).sum(),
    }
}

/// A line of only −∞ has an undefined softmax (its gradient is NaN): its second derivatives
/// are NaN too — "an undefined result is NaN in every part" — where the division's tangents
/// had left them 0; the other line's block is its own Hessian, finite. Short lines and long
/// ones (exponentiated together or one by one), along both dimensions.
#[test]
fn second_derivatives_along_a_line_of_only_minus_infinity_are_nan() {
    for length in [3, 20] {
        let good = mat(length, 1, 7);
        let mut x = DMatrix::from_element(length, 2, f64::NEG_INFINITY);
        x.column_mut(1).copy_from(&good);
        for along in [Along::Rows, Along::Cols] {
            let (x, good) = match along {
                Along::Rows => (x.clone(), good.clone()),
                Along::Cols => (x.transpose(), good.transpose()),
            };
            // Storage indices of the −∞ line and the finite one.
            let (masked, finite): (Vec<usize>, Vec<usize>) = match along {
                Along::Rows => ((0..length).collect(), (length..2 * length).collect()),
                Along::Cols => (
                    (0..length).map(|c| 2 * c).collect(),
                    (0..length).map(|c| 2 * c + 1).collect(),
                ),
            };
            for which in 0..3 {
                let f = |m: &[MatVar<_>]| softmax_family(m, along, which);
                let (_, g, h) = matrix::value_gradient_and_hessian(f, &[&x]);
                let alone = matrix::hessian(f, &[&good]);
                for &i in &masked {
                    assert!(g[0][i].is_nan(), "{which} along {along:?}, length {length}");
                    for j in 0..2 * length {
                        assert!(h[(i, j)].is_nan(), "H[{i}, {j}]: {}", h[(i, j)]);
                    }
                }
                for (a, &i) in finite.iter().enumerate() {
                    for (b, &j) in finite.iter().enumerate() {
                        assert_eq!(h[(i, j)], alone[(a, b)], "{which} along {along:?}");
                    }
                }
                let ones = DMatrix::from_element(x.nrows(), x.ncols(), 1.0);
                let hv = matrix::hvp(|m| softmax_family(m, along, which), &[&x], &[ones]);
                assert!(masked.iter().all(|&i| hv[0][i].is_nan()));
            }
        }
    }
}

/// `Σ ((x + a)(x − b)/c)²` entry by entry: its gradient `2h·h'` and Hessian (diagonal)
/// `2(h'² + h·h'')`, with `h = (x + a)(x − b)/c`, `h' = (2x + a − b)/c`, `h'' = 2/c`.
fn shifted_square(x: f64, (a, b, c): (f64, f64, f64)) -> (f64, f64) {
    let h = (x + a) * (x - b) / c;
    let dh = (2.0 * x + a - b) / c;
    (2.0 * h * dh, 2.0 * (dh * dh + h * 2.0 / c))
}

/// `(a, b, c)` of [`shifted_square`] and [`shifted_square_sum`].
const SHIFTS: (f64, f64, f64) = (1.5, 0.5, 4.0);

/// `Σ ((x + a)(x − b)/c)²` over the entries of `m[0]`, with `(a, b, c)` = [`SHIFTS`] as plain
/// `f64` on the right of each operator.
fn shifted_square_sum<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T>
where
    MatVar<T>: std::ops::Add<f64, Output = MatVar<T>>
        + std::ops::Sub<f64, Output = MatVar<T>>
        + std::ops::Div<f64, Output = MatVar<T>>,
{
    let (a, b, c) = SHIFTS;
    let h = (m[0] + a).component_mul(m[0] - b) / c;
    h.component_mul(h).sum()
}

/// A plain `f64` on the right of `+`, `−`, `/` with a matrix of duals (code that names `f64`
/// rather than `T`'s own constants, as code written for `matrix::hvp` or `matrix::hessian`
/// alone does) is the entries' constant, as with a plain matrix: its second derivatives are
/// the formula's.
#[test]
fn plain_numbers_on_the_right_of_a_matrix_of_duals() {
    let x = dmatrix![0.3, -1.2; 2.0, 0.7];
    let v = dmatrix![1.0, -0.5; 0.25, 2.0];
    let hv = matrix::hvp(
        shifted_square_sum::<Dual<f64>>,
        std::slice::from_ref(&x),
        std::slice::from_ref(&v),
    );
    let chunk = matrix::hessian(
        shifted_square_sum::<DualVec<f64, { adroit_reverse::HESSIAN_CHUNK }>>,
        std::slice::from_ref(&x),
    );
    for k in 0..4 {
        let (_, second) = shifted_square(x[k], SHIFTS);
        for (got, want) in [(hv[0][k], second * v[k]), (chunk[(k, k)], second)] {
            assert!(
                (got - want).abs() <= 1e-14 * want.abs().max(1.0),
                "{got} vs {want}"
            );
        }
    }
    assert_eq!(chunk.iter().filter(|e| **e != 0.0).count(), 4, "diagonal");
    let (_, g) = matrix::value_and_gradient(shifted_square_sum::<f64>, std::slice::from_ref(&x));
    for k in 0..4 {
        let (first, _) = shifted_square(x[k], SHIFTS);
        assert!((g[0][k] - first).abs() <= 1e-14 * first.abs().max(1.0));
    }
}
