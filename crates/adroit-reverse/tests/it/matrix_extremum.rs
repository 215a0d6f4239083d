//! `max`, `min`, `max_along`, `min_along` on the matrix tape: values against nalgebra's, gradients
//! against central finite differences away from ties and against the scalar tape, ties shared
//! equally (JAX's `jnp.max` / PyTorch's `amax`), NaN and empty lines.

use adroit_reverse::adroit_forward::Dual;
use adroit_reverse::matrix::{self, Along, MatVar};
use nalgebra::{DMatrix, dmatrix};
use num_traits::Float;

/// Distinct pseudo-random entries (no ties), `rows × cols`.
fn distinct(rows: usize, cols: usize) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |i, j| {
        let k = (i * cols + j) as f64;
        ((k * 12.9898 + 3.1).sin() * 43758.5453).fract()
    })
}

/// The four reductions, each followed by a weighted sum so that every output's cotangent
/// differs, as one scalar loss of `x`.
fn loss(x: MatVar<f64>, which: usize, w: &DMatrix<f64>) -> MatVar<f64> {
    let y = match which {
        0 => x.max(),
        1 => x.min(),
        2 => x.max_along(Along::Rows),
        3 => x.max_along(Along::Cols),
        4 => x.min_along(Along::Rows),
        _ => x.min_along(Along::Cols),
    };
    let shape = y.shape();
    y.weighted_sum(w.view((0, 0), shape).into_owned())
}

/// The same loss on plain matrices.
fn plain(x: &DMatrix<f64>, which: usize, w: &DMatrix<f64>) -> f64 {
    let col_max = |j: usize| x.column(j).max();
    let col_min = |j: usize| x.column(j).min();
    let row_max = |i: usize| x.row(i).max();
    let row_min = |i: usize| x.row(i).min();
    match which {
        0 => x.max() * w[(0, 0)],
        1 => x.min() * w[(0, 0)],
        2 => (0..x.ncols()).map(|j| col_max(j) * w[(0, j)]).sum(),
        3 => (0..x.nrows()).map(|i| row_max(i) * w[(i, 0)]).sum(),
        4 => (0..x.ncols()).map(|j| col_min(j) * w[(0, j)]).sum(),
        _ => (0..x.nrows()).map(|i| row_min(i) * w[(i, 0)]).sum(),
    }
}

#[test]
fn values_and_gradients_match_finite_differences_away_from_ties() {
    let x = distinct(4, 5);
    let w = distinct(5, 6).map(|v| v + 0.5);
    for which in 0..6 {
        let (value, g) = matrix::value_and_gradient(|m| loss(m[0], which, &w), &[&x]);
        assert!((value - plain(&x, which, &w)).abs() < 1e-15, "{which}");
        let h = 1e-7;
        for i in 0..x.nrows() {
            for j in 0..x.ncols() {
                let (mut p, mut m) = (x.clone(), x.clone());
                p[(i, j)] += h;
                m[(i, j)] -= h;
                let fd = (plain(&p, which, &w) - plain(&m, which, &w)) / (2.0 * h);
                assert!(
                    (g[0][(i, j)] - fd).abs() < 1e-7,
                    "{which} ({i}, {j}): {} vs {fd}",
                    g[0][(i, j)]
                );
            }
        }
    }
}

#[test]
fn ties_share_the_cotangent_equally() {
    // Three equal maxima get a third each (a chain of scalar max calls gives ¼, ¼, ½).
    let x = dmatrix![2.0, 1.0; 2.0, 2.0];
    let (v, g) = matrix::value_and_gradient(|m| m[0].max(), &[&x]);
    let third = 1.0 / 3.0;
    assert_eq!((v, g[0].clone()), (2.0, dmatrix![third, 0.0; third, third]));
    let scalar = adroit_reverse::gradient(|v| v[0].max(v[1]).max(v[3]), &[2.0_f64, 2.0, 1.0, 2.0]);
    assert_eq!(scalar, vec![0.25, 0.25, 0.0, 0.5]);
    // ±0 tie: shared, and the value is +0 for a max, −0 for a min, in either order (as JAX)
    let (v, g) = matrix::value_and_gradient(|m| m[0].min(), &[dmatrix![0.0, -0.0, 1.0]]);
    assert_eq!(g[0], dmatrix![0.5, 0.5, 0.0]);
    assert!(v == 0.0 && v.is_sign_negative());
    for zeros in [dmatrix![-0.0, 0.0], dmatrix![0.0, -0.0]] {
        let (max, _) = matrix::value_and_gradient(|m| m[0].max(), std::slice::from_ref(&zeros));
        let (min, _) = matrix::value_and_gradient(|m| m[0].min(), &[zeros]);
        assert!(max.is_sign_positive() && min.is_sign_negative());
    }
    // along: each column's tie shares that column's cotangent
    let (y, pb) = matrix::pullback(|m| m[0].max_along(Along::Rows), &[x]);
    assert_eq!(y, dmatrix![2.0, 2.0]);
    assert_eq!(
        pb.call(&dmatrix![4.0, 6.0])[0],
        dmatrix![2.0, 0.0; 2.0, 6.0]
    );
}

/// Each entry's value and tangent.
fn parts(m: &DMatrix<Dual<f64>>) -> DMatrix<(f64, f64)> {
    m.map(|v| (v.value(), v.tangent()))
}

#[test]
fn the_tangent_of_a_tie_is_the_mean_of_the_tied_entries_even_at_infinity() {
    // On dual entries the extremum's tangent is the tied entries' mean, as its pullback's
    // 1/k shares; at ±∞ too, where the values' difference is NaN (JAX 0.10.2's jvp of
    // jnp.max/jnp.min gives 1.5, 2.5 and (2, 4) on these).
    let d = Dual::new;
    let inf = f64::INFINITY;
    let x = dmatrix![d(inf, 1.0), d(inf, 2.0), d(1.0, 5.0)];
    let y = matrix::evaluate(|m| m[0].max(), &[x]);
    assert_eq!(parts(&y), dmatrix![(inf, 1.5)]);
    let x = dmatrix![d(-inf, 1.0), d(-inf, 4.0), d(2.0, 0.0)];
    let y = matrix::evaluate(|m| m[0].min(), &[x]);
    assert_eq!(parts(&y), dmatrix![(-inf, 2.5)]);
    // along a dimension (`Along::Rows` and `Along::Cols` take separate paths): a column of ∞
    // and one of finite values
    let x = dmatrix![d(inf, 1.0), d(1.0, 2.0); d(inf, 3.0), d(1.0, 6.0)];
    let y = matrix::evaluate(|m| m[0].max_along(Along::Rows), std::slice::from_ref(&x));
    assert_eq!(parts(&y), dmatrix![(inf, 2.0), (1.0, 4.0)]);
    let y = matrix::evaluate(|m| m[0].max_along(Along::Cols), &[x.transpose()]);
    assert_eq!(parts(&y), dmatrix![(inf, 2.0); (1.0, 4.0)]);
}

#[test]
fn an_extremum_at_the_identity_or_with_infinite_tangents_keeps_its_tangent() {
    // A max of −∞ entries (a min of +∞) is an entry, not the identity with tangent 0; a tied
    // entry's infinite tangent gives the mean's, ∞, or NaN for opposite infinities (as JAX
    // 0.10.2's jvp of jnp.max/jnp.min on the same entries).
    let d = Dual::new;
    let inf = f64::INFINITY;
    let max = |x: DMatrix<Dual<f64>>| parts(&matrix::evaluate(|m| m[0].max(), &[x]))[0];
    assert_eq!(max(dmatrix![d(-inf, 5.0)]), (-inf, 5.0));
    assert_eq!(max(dmatrix![d(-inf, 1.0), d(-inf, 3.0)]), (-inf, 2.0));
    assert_eq!(max(dmatrix![d(1.0, inf), d(1.0, 1.0)]), (1.0, inf));
    assert_eq!(max(dmatrix![d(2.0, inf), d(2.0, inf)]), (2.0, inf));
    assert_eq!(max(dmatrix![d(inf, inf), d(inf, 1.0)]), (inf, inf));
    let (value, tangent) = max(dmatrix![d(2.0, inf), d(2.0, -inf)]);
    assert!(value == 2.0 && tangent.is_nan());
    let y = matrix::evaluate(|m| m[0].min(), &[dmatrix![d(inf, 5.0)]]);
    assert_eq!(parts(&y), dmatrix![(inf, 5.0)]);
    // one entry per line: each line's own tangent, along either dimension
    let x = dmatrix![d(-inf, 5.0), d(-inf, 7.0)];
    let y = matrix::evaluate(|m| m[0].max_along(Along::Rows), std::slice::from_ref(&x));
    assert_eq!(parts(&y), dmatrix![(-inf, 5.0), (-inf, 7.0)]);
    let y = matrix::evaluate(|m| m[0].max_along(Along::Cols), &[x.transpose()]);
    assert_eq!(parts(&y), dmatrix![(-inf, 5.0); (-inf, 7.0)]);
    // an undefined (NaN) extremum stays NaN in every part, finite tangents or not
    let (value, tangent) = max(dmatrix![d(f64::NAN, 1.0), d(f64::NAN, inf)]);
    assert!(value.is_nan() && tangent.is_nan());
}

#[test]
fn nan_propagates_and_empty_lines_give_the_identity() {
    // A NaN entry makes the extremum NaN (as jnp.max); the cotangent goes to the NaN entries.
    let x = dmatrix![1.0, f64::NAN; 3.0, 2.0];
    let (y, pb) = matrix::pullback(|m| m[0].max_along(Along::Rows), std::slice::from_ref(&x));
    assert!(y[(0, 0)] == 3.0 && y[(0, 1)].is_nan());
    assert_eq!(
        pb.call(&dmatrix![1.0, 1.0])[0],
        dmatrix![0.0, 1.0; 1.0, 0.0]
    );
    let (v, _) = matrix::value_and_gradient(|m| m[0].min(), &[x]);
    assert!(v.is_nan());
    // No entries: −∞ for a max, +∞ for a min (the reductions' identities), no gradient.
    let (y, pb) = matrix::pullback(|m| m[0].max_along(Along::Rows), &[DMatrix::zeros(0, 2)]);
    assert_eq!(y, dmatrix![f64::NEG_INFINITY, f64::NEG_INFINITY]);
    assert_eq!(pb.call(&dmatrix![1.0, 1.0])[0].shape(), (0, 2));
    let (v, g) = matrix::value_and_gradient(|m| m[0].min(), &[DMatrix::<f64>::zeros(3, 0)]);
    assert_eq!((v, g[0].shape()), (f64::INFINITY, (3, 0)));
}

#[test]
fn f32_and_a_max_pooled_loss() {
    let x = distinct(3, 4).map(|v| v as f32);
    let (v, g) = matrix::value_and_gradient(|m| m[0].max_along(Along::Rows).sum(), &[&x]);
    let expected: f32 = (0..4).map(|j| x.column(j).max()).sum();
    assert!((v - expected).abs() < 1e-6);
    // one 1 per column, at its maximum
    for j in 0..4 {
        let k = x.column(j).imax();
        assert_eq!(g[0].column(j).iter().copied().collect::<Vec<_>>(), {
            let mut e = vec![0.0_f32; 3];
            e[k] = 1.0;
            e
        });
    }
}
