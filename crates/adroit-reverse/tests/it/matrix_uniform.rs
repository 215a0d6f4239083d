//! Uniform adjoints: the pullback of a sum or a mean is one number spread over the entries,
//! kept as that number while the rules below it can use it (a saved derivative scaled instead
//! of multiplied entry by entry). Every gradient must be the same bit for bit as with the
//! entries written out — here forced by `weighted_sum` with weights of one, whose pullback is
//! entry-wise — whatever the mix and order of uniform and entry-wise contributions.

use adroit_reverse::matrix::{self, Along, MatVar};
use nalgebra::DMatrix;
use num_traits::Float;

/// Deterministic entries in (−2, 2), none zero.
fn mat(rows: usize, cols: usize, seed: usize) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |i, j| {
        (((i * 7 + j * 13 + seed * 31) % 17) as f64 + 0.5) / 4.5 - 2.0
    })
}

/// Equal bit for bit (signed zeros included), any NaN equal to any NaN.
fn same(a: &DMatrix<f64>, b: &DMatrix<f64>) -> bool {
    a.shape() == b.shape()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits())
}

/// `y.sum()` (uniform pullback) against `y.weighted_sum(1)` (entry-wise pullback), scaled by
/// `scale` (a multiple of the mean's pullback too), for the function `body` of `inputs`.
fn compare(inputs: &[DMatrix<f64>], body: impl Fn(&[MatVar<f64>]) -> MatVar<f64>) {
    for scale in [1.0, -0.375, 3.0e-5] {
        let (_, uniform) = matrix::pullback(|p| body(p).sum(), inputs);
        let (_, entrywise) = matrix::pullback(
            |p| {
                let y = body(p);
                let ones = DMatrix::from_element(y.nrows(), y.ncols(), 1.0);
                y.weighted_sum(ones)
            },
            inputs,
        );
        let n = matrix::pullback(&body, inputs).0.len();
        let (_, mean) = matrix::pullback(|p| body(p).mean(), inputs);
        let seed = DMatrix::from_element(1, 1, scale);
        let (a, b) = (uniform.call(&seed), entrywise.call(&seed));
        // The mean's pullback spreads scale/n: the sum's, seeded with scale/n, is the
        // same number.
        let c = mean.call(&seed);
        let d = uniform.call(&DMatrix::from_element(1, 1, scale / n as f64));
        for k in 0..inputs.len() {
            assert!(
                same(&a[k], &b[k]),
                "input {k}, scale {scale}:\n{}\n{}",
                a[k],
                b[k]
            );
            assert!(
                same(&c[k], &d[k]),
                "mean, input {k}, scale {scale}:\n{}\n{}",
                c[k],
                d[k]
            );
        }
    }
}

#[test]
fn uniform_pullbacks_through_element_wise_operations_match_the_entries() {
    let (x, y) = (mat(3, 4, 1), mat(3, 4, 2));
    let (column, row) = (mat(3, 1, 3), mat(1, 4, 4));
    // A fused node, with broadcasting (the column and row inputs reduce their scaled
    // partials), a map of any function, the linear maps (constant partials) and a chain.
    compare(&[x.clone(), y.clone()], |p| {
        MatVar::zip_map([p[0], p[1]], |[a, b]| a * b.sin() + a / b)
    });
    compare(&[x.clone(), column.clone(), row.clone()], |p| {
        MatVar::zip_map([p[0], p[1], p[2]], |[a, b, c]| a * b - c * c)
    });
    compare(std::slice::from_ref(&x), |p| p[0].map(|v| v.exp() * v));
    compare(std::slice::from_ref(&x), |p| (p[0] * 2.5 + 1.0) * -4.0);
    compare(std::slice::from_ref(&x), |p| p[0] * 0.0);
    compare(std::slice::from_ref(&x), |p| {
        (p[0].tanh() * 3.0).map(|v| v * v).sum_along(Along::Rows)
    });
    // A reduction below the sum: its pullback passes the uniform cotangent on.
    compare(std::slice::from_ref(&x), |p| {
        p[0].mean_along(Along::Cols).map(|v| v.cos())
    });
}

/// A node receiving uniform and entry-wise contributions in every order: the adjoint is their
/// entry-wise sum in arrival order (exact here: dyadic values).
#[test]
fn uniform_and_entry_wise_contributions_accumulate_in_any_order() {
    let x = DMatrix::from_fn(2, 4, |i, j| (i + 2 * j) as f64 * 0.25 - 1.0);
    let w = DMatrix::from_fn(2, 4, |i, j| (3 * i + j) as f64 - 2.0);
    type Loss = fn(MatVar<f64>, &DMatrix<f64>) -> MatVar<f64>;
    let orders: [Loss; 4] = [
        |x, w| x.sum() + x.mean() * 3.0 + x.weighted_sum(w.clone()),
        |x, w| x.weighted_sum(w.clone()) + x.sum() + x.mean() * 3.0,
        |x, w| x.mean() * 3.0 + x.weighted_sum(w.clone()) + x.sum(),
        // Views add their blocks into an adjoint that may already be uniform, or not yet.
        |x, w| x.sum() + x.rows(1, 1).sum() * 2.0 + x.mean() * 3.0 + x.weighted_sum(w.clone()),
    ];
    for (k, order) in orders.into_iter().enumerate() {
        let g = matrix::gradient(|p| order(p[0], &w), std::slice::from_ref(&x));
        let extra = if k == 3 { 2.0 } else { 0.0 };
        let want = DMatrix::from_fn(2, 4, |i, j| {
            1.0 + 3.0 / 8.0 + w[(i, j)] + if i == 1 { extra } else { 0.0 }
        });
        assert_eq!(g[0], want, "order {k}");
    }
    let g = matrix::gradient(
        |p| p[0].rows(0, 1).sum() * 2.0 + p[0].sum(),
        std::slice::from_ref(&x),
    );
    assert_eq!(
        g[0],
        DMatrix::from_fn(2, 4, |i, _| if i == 0 { 3.0 } else { 1.0 })
    );
}

/// Zero, infinite and NaN cotangents take the entry-wise path, with its convention: a zero
/// cotangent against an infinite partial contributes 0, an infinite one against a zero
/// partial 0, a NaN one NaN.
#[test]
fn zero_infinite_and_nan_cotangents_keep_the_convention() {
    // √x at 0 has an infinite derivative; x·0 a zero one.
    let x = DMatrix::from_row_slice(1, 3, &[0.0, 4.0, 0.25]);
    let (_, pullback) = matrix::pullback(
        |p| MatVar::zip_map([p[0]], |[a]| a.sqrt() + a * 0.0).sum(),
        std::slice::from_ref(&x),
    );
    let at = |c: f64| pullback.call(&DMatrix::from_element(1, 1, c))[0].clone();
    assert_eq!(at(0.0), DMatrix::from_row_slice(1, 3, &[0.0, 0.0, 0.0]));
    assert_eq!(
        at(1.0),
        DMatrix::from_row_slice(1, 3, &[f64::INFINITY, 0.25, 1.0])
    );
    assert_eq!(
        at(f64::INFINITY).map(|v| v.is_infinite()),
        DMatrix::from_element(1, 3, true)
    );
    assert!(at(f64::NAN).iter().all(|v| v.is_nan()));
    let (_, zero_slope) = matrix::pullback(|p| (p[0] * 0.0).sum(), std::slice::from_ref(&x));
    let g = zero_slope.call(&DMatrix::from_element(1, 1, f64::INFINITY));
    assert_eq!(g[0], DMatrix::zeros(1, 3));
}

#[test]
fn a_gradient_call_gives_the_numbers_of_a_repeatable_pullback_bit_for_bit() {
    // `value_and_gradient` sweeps once and lets element-wise rules hand their saved
    // derivatives on (scaled in place); `pullback` keeps them for further calls. Both must
    // give the same numbers: uniform adjoints of 1, of 3 and of a mean, a broadcast input,
    // an unused input, and partials that cannot be scaled (∞ from sqrt at 0; a zero value).
    let a = DMatrix::from_fn(3, 4, |i, j| (i as f64 - 1.0) * 0.7 + j as f64 * 0.3);
    let b = DMatrix::from_fn(1, 4, |_, j| 0.2 * j as f64 - 0.3);
    let c = DMatrix::from_fn(3, 4, |i, j| if (i + j) % 3 == 0 { 0.0 } else { 0.5 });
    type Loss = fn(&[MatVar<f64>]) -> MatVar<f64>;
    let losses: [(&str, Loss); 7] = [
        ("map sum", |m| m[0].tanh().sum()),
        ("map scaled", |m| m[0].map(|v| v.sin()).sum() * 3.0),
        ("zip mean", |m| {
            MatVar::zip_map([m[0], m[1]], |[x, y]| x * y.exp()).mean()
        }),
        ("zip one input", |m| {
            MatVar::zip_map([m[0], m[2]], |[x, y]| x.atan2(y)).sum()
        }),
        ("sqrt at 0", |m| m[2].sqrt().sum()),
        ("zip sqrt at 0", |m| {
            MatVar::zip_map([m[2], m[0]], |[x, y]| x.sqrt() * y).sum()
        }),
        ("zero cotangent", |m| m[0].tanh().sum() * 0.0 + m[1].sum()),
    ];
    for (name, loss) in losses {
        let inputs = [a.clone(), b.clone(), c.clone()];
        let (v, g) = matrix::value_and_gradient(loss, &inputs);
        let (y, pb) = matrix::pullback(loss, &inputs);
        let g2 = pb.call(&DMatrix::from_element(1, 1, 1.0));
        assert_eq!(y[(0, 0)].to_bits(), v.to_bits(), "{name}");
        for (k, (x, x2)) in g.iter().zip(&g2).enumerate() {
            let same = x
                .iter()
                .zip(x2.iter())
                .all(|(p, q)| p.to_bits() == q.to_bits());
            assert!(same, "{name}: input {k}: {x} vs {x2}");
        }
        // And a second call of the pullback is unchanged (its saved derivatives intact).
        assert_eq!(
            pb.call(&DMatrix::from_element(1, 1, 1.0))[0],
            g2[0],
            "{name}"
        );
    }
}
