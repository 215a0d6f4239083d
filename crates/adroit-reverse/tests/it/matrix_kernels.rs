//! The matrix tape's inner loops at every length and layout their fast paths distinguish:
//! sums (eight interleaved running sums and a remainder), rows of two-row matrices (the
//! stride-2 gather and scatter of `x[::2]`, `x[1::2]`) against other strides, and the
//! entry-wise products of pullbacks (into a new buffer or in place) — each against a plain
//! reference computed here.

use adroit_reverse::adroit_forward::chain_product;
use adroit_reverse::matrix::{self, Along, MatVar};
use nalgebra::DMatrix;

/// Deterministic values of mixed sign and magnitude (no two alike).
fn values(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let unit = (state >> 11) as f64 / (1u64 << 53) as f64;
            (unit - 0.4) * 10f64.powi((state % 7) as i32 - 3)
        })
        .collect()
}

/// `Σ v` to within an ulp: Neumaier's compensated sum.
fn compensated_sum(v: &[f64]) -> f64 {
    let (mut sum, mut lost) = (0.0_f64, 0.0_f64);
    for &x in v {
        let t = sum + x;
        lost += if sum.abs() >= x.abs() {
            (sum - t) + x
        } else {
            (x - t) + sum
        };
        sum = t;
    }
    sum + lost
}

/// The sum of all entries through the tape (value of `sum`).
fn tape_sum<T: matrix::MatScalar>(m: &DMatrix<T>) -> T {
    matrix::value_and_gradient(|p| p[0].sum(), &[m]).0
}

#[test]
fn f64_sums_at_every_length_stay_within_the_interleaved_bound() {
    // Eight running sums of ⌊n/8⌋ terms each, combined pairwise, then up to seven more terms
    // in order: at most ⌊n/8⌋ + 2 + (n mod 8) roundings of ε/2 each, within
    // (n/8 + 4)·ε·Σ|x| (Higham, Accuracy and Stability of Numerical Algorithms, §4.2).
    for n in (0..=70).chain([1000, 4099]) {
        let v = values(n, n as u64 + 1);
        let got = tape_sum(&DMatrix::from_column_slice(n, 1, &v));
        let exact = compensated_sum(&v);
        let magnitude: f64 = v.iter().map(|x| x.abs()).sum();
        let bound = (n as f64 / 8.0 + 4.0) * f64::EPSILON * magnitude;
        assert!((got - exact).abs() <= bound, "n = {n}: {got} vs {exact}");
    }
}

#[test]
fn f64_sums_of_integers_are_exact_at_every_length() {
    for n in 0..=70 {
        let v: Vec<f64> = (0..n).map(|i| (i * i % 11) as f64 - 5.0).collect();
        let want: f64 = v.iter().sum();
        assert_eq!(
            tape_sum(&DMatrix::from_column_slice(n, 1, &v)),
            want,
            "n = {n}"
        );
    }
}

#[test]
fn f32_sums_are_the_f64_sum_rounded_once() {
    for n in (0..=70).chain([1000, 4099]) {
        let v: Vec<f32> = values(n, 7 * n as u64 + 3)
            .iter()
            .map(|&x| x as f32)
            .collect();
        let wide: Vec<f64> = v.iter().map(|&x| f64::from(x)).collect();
        let got = tape_sum(&DMatrix::from_column_slice(n, 1, &v));
        let want = compensated_sum(&wide) as f32;
        // The f64 running sums are far more precise than f32's rounding: at most one f32 ulp
        // from the correctly rounded sum.
        let ulp = want.abs().max(f32::MIN_POSITIVE) * f32::EPSILON;
        assert!((got - want).abs() <= ulp, "n = {n}: {got} vs {want}");
    }
    // 2²⁴ and then ones: an f32 running sum holding 2²⁴ drops every one added to it (the
    // spacing there is 2), f64 ones keep them all: 2²⁴ + 8000, which f32 represents.
    let mut v = vec![1.0_f32; 8001];
    v[0] = 16_777_216.0;
    assert_eq!(
        tape_sum(&DMatrix::from_column_slice(8001, 1, &v)),
        16_785_216.0
    );
}

#[test]
fn sums_keep_their_edge_values_at_every_length() {
    for n in 1..=20 {
        for at in [0, n / 2, n - 1] {
            let with = |x: f64| {
                let mut v = vec![1.5; n];
                v[at] = x;
                DMatrix::from_column_slice(n, 1, &v)
            };
            assert!(tape_sum(&with(f64::NAN)).is_nan(), "NaN at {at} of {n}");
            assert_eq!(tape_sum(&with(f64::INFINITY)), f64::INFINITY);
            assert_eq!(tape_sum(&with(f64::NEG_INFINITY)), f64::NEG_INFINITY);
        }
        // +∞ and −∞ together: NaN, wherever they sit.
        let mut v = vec![0.0; n.max(2)];
        let last = v.len() - 1;
        (v[0], v[last]) = (f64::INFINITY, f64::NEG_INFINITY);
        assert!(tape_sum(&DMatrix::from_column_slice(v.len(), 1, &v)).is_nan());
        // A sum of negative zeros starts from +0 (as NumPy's).
        let zeros = DMatrix::from_element(n, 1, -0.0_f64);
        assert!(tape_sum(&zeros).is_sign_positive(), "n = {n}");
    }
    assert_eq!(tape_sum(&DMatrix::<f64>::zeros(0, 3)), 0.0);
}

#[test]
fn sums_along_rows_and_weighted_sums_match_the_reference_at_every_length() {
    for rows in [0, 1, 7, 8, 9, 17, 33] {
        let x = DMatrix::from_column_slice(rows, 3, &values(rows * 3, rows as u64 + 9));
        let w = DMatrix::from_column_slice(rows, 3, &values(rows * 3, rows as u64 + 99));
        let (column_sums, _) = matrix::value_and_gradient(
            |p| {
                let s = p[0].sum_along(Along::Rows);
                s.weighted_sum(DMatrix::from_row_slice(1, 3, &[1.0, 1e3, 1e6]))
            },
            &[&x],
        );
        let want: f64 = (0..3)
            .map(|j| compensated_sum(x.column(j).as_slice()) * [1.0, 1e3, 1e6][j])
            .sum();
        let scale: f64 = x.iter().map(|v| v.abs()).sum::<f64>() * 1e6 + 1.0;
        assert!(
            (column_sums - want).abs() <= 1e-14 * scale,
            "{rows} rows: {column_sums} vs {want}"
        );
        let (weighted, g) = matrix::value_and_gradient(|p| p[0].weighted_sum(w.clone()), &[&x]);
        let products: Vec<f64> = x.iter().zip(w.iter()).map(|(a, b)| a * b).collect();
        let magnitude: f64 = products.iter().map(|v| v.abs()).sum();
        let exact = compensated_sum(&products);
        assert!((weighted - exact).abs() <= 1e-15 * (magnitude + 1.0) * (rows as f64 + 8.0));
        assert_eq!(g[0], w);
    }
}

/// Rows of matrices with 1 to 4 rows and 0 to 19 columns, one row at a time: the stride-2
/// gather and scatter (two-row matrices, both offsets) and the general ones agree with
/// nalgebra's row and with the gradient written out — the row's pullback writing a fresh
/// adjoint, or adding into one that a later operation on the whole matrix wrote first.
#[test]
fn single_rows_gather_and_scatter_at_every_stride_and_offset() {
    for stride in 1..=4 {
        for cols in 0..20 {
            let x = DMatrix::from_column_slice(stride, cols, &values(stride * cols, 5));
            let halves = DMatrix::from_element(stride, cols, 0.5);
            let weights = DMatrix::from_fn(1, cols, |_, j| j as f64 + 1.0);
            for (i, whole_too) in (0..stride).flat_map(|i| [(i, false), (i, true)]) {
                let (value, g) = matrix::value_and_gradient(
                    |p| {
                        let row = p[0].rows(i, 1);
                        assert_eq!(row.value(), x.rows(i, 1).into_owned());
                        let loss = row.weighted_sum(weights.clone());
                        if whole_too {
                            // Recorded after the row: its pullback runs first.
                            loss + p[0].weighted_sum(halves.clone())
                        } else {
                            loss
                        }
                    },
                    &[&x],
                );
                let base = if whole_too { 0.5 } else { 0.0 };
                let want = DMatrix::from_fn(stride, cols, |r, c| {
                    base + if r == i { c as f64 + 1.0 } else { 0.0 }
                });
                assert_eq!(g[0], want, "row {i} of {stride}×{cols}, whole: {whole_too}");
                let row: f64 = (0..cols).map(|c| x[(i, c)] * (c as f64 + 1.0)).sum();
                let exact = row + base * x.sum();
                assert!((value - exact).abs() <= 1e-12 * (1.0 + exact.abs()));
            }
        }
    }
}

/// The even and odd entries of a vector, through a `2 × n/2` reshape, both used (their
/// scatters add into one adjoint): the gradient of Σ aᵢ·bᵢ is (bᵢ, aᵢ) interleaved.
#[test]
fn even_and_odd_entries_scatter_into_one_adjoint() {
    for n in [2, 4, 6, 8, 10, 18, 64, 130] {
        let x = DMatrix::from_column_slice(n, 1, &values(n, n as u64));
        let want = DMatrix::from_fn(n, 1, |k, _| if k % 2 == 0 { x[k + 1] } else { x[k - 1] });
        // Either row taken first (the one taken last writes the fresh adjoint, the other adds).
        for odd_first in [false, true] {
            let g = matrix::gradient(
                |p| {
                    let pairs = p[0].reshape(2, n / 2);
                    let (a, b) = if odd_first {
                        let b = pairs.rows(1, 1);
                        (pairs.rows(0, 1), b)
                    } else {
                        let a = pairs.rows(0, 1);
                        (a, pairs.rows(1, 1))
                    };
                    a.component_mul(b).sum()
                },
                &[&x],
            );
            assert_eq!(g[0], want, "n = {n}, odd row first: {odd_first}");
        }
    }
}

/// A pullback that multiplies one cotangent by two saved partials (`zip_map`'s first
/// argument into a new buffer, its last in place; a broadcast product's two sides) keeps
/// `chain_product`'s convention in both, entry by entry: zero cotangents against infinite
/// partials give 0, NaN partials against non-zero cotangents NaN.
#[test]
fn pullback_products_keep_the_chain_product_convention_in_both_buffers() {
    let specials = [
        0.0,
        -0.0,
        1.0,
        -2.5,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
    ];
    let n = specials.len();
    let a = DMatrix::from_fn(n * n, 1, |k, _| specials[k / n]);
    let b = DMatrix::from_fn(n * n, 1, |k, _| specials[k % n]);
    for cotangent in specials {
        let seed = DMatrix::from_element(n * n, 1, cotangent);
        let (_, pullback) = matrix::pullback(
            |p| MatVar::zip_map([p[0], p[1]], |[x, y]| x * y),
            &[a.clone(), b.clone()],
        );
        let g = pullback.call(&seed);
        let (_, broadcast) =
            matrix::pullback(|p| p[0].component_mul(p[1]), &[a.clone(), b.clone()]);
        let h = broadcast.call(&seed);
        for k in 0..n * n {
            // ∂(xy)/∂x = y, ∂(xy)/∂y = x.
            let (da, db) = (
                chain_product(b[k], cotangent),
                chain_product(a[k], cotangent),
            );
            for (got, want) in [(g[0][k], da), (g[1][k], db), (h[0][k], da), (h[1][k], db)] {
                assert!(
                    got == want || (got.is_nan() && want.is_nan()),
                    "cotangent {cotangent}, x = {}, y = {}: {got} vs {want}",
                    a[k],
                    b[k]
                );
            }
        }
    }
}

/// The matrix product's pullback keeps `chain_product`'s convention: a sample (column) the
/// loss never reads contributes 0 to the weight gradient even when it holds ∞ or NaN (the
/// kernel's plain `0·∞` made the whole row of the gradient NaN); a read one still gives
/// NaN or ∞ where the plain product does. Checked against the scalar tape's gradient.
#[test]
fn product_pullbacks_keep_the_chain_product_convention() {
    use adroit_reverse::{Var, gradient};
    let w = DMatrix::from_row_slice(2, 2, &[0.1, 0.2, 0.3, 0.4]);
    for bad in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
        for read in [(0, 0), (0, 1), (1, 0), (1, 1)] {
            let x = DMatrix::from_row_slice(2, 2, &[1.0, bad, 2.0, 0.5]);
            // Both operands' gradients: W·X with W and X both inputs.
            let got = matrix::gradient(|p| (p[0] * p[1]).view(read, (1, 1)).sum(), &[&w, &x]);
            let flat: Vec<f64> = w.iter().chain(x.iter()).copied().collect();
            let want = gradient(
                |v: &[Var<f64>]| {
                    let (i, j) = read;
                    // (W·X)[i, j] = Σₖ W[i, k]·X[k, j], column-major inputs.
                    v[i] * v[4 + 2 * j] + v[2 + i] * v[4 + 2 * j + 1]
                },
                &flat,
            );
            let got: Vec<f64> = got[0].iter().chain(got[1].iter()).copied().collect();
            for (k, (g, e)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g.is_nan() && e.is_nan()) || g == e,
                    "bad = {bad}, read {read:?}, entry {k}: {g} vs {e}"
                );
            }
        }
    }
    // The user trial's case: the loss reads the first sample only.
    let x = DMatrix::from_row_slice(2, 2, &[1.0, f64::INFINITY, 2.0, 0.5]);
    let g = matrix::gradient(
        |p| {
            (p[0] * MatVar::constant(x.clone()))
                .view((0, 0), (1, 1))
                .sum()
        },
        &[&w],
    );
    assert_eq!(g[0], DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 0.0, 0.0]));
}

/// Means divide the sum by the count before rounding (NumPy's and JAX's `sum / n`): the mean
/// of equal entries is that entry (`sum · (1/n)` made the mean of 49 ones 0.9999999999999999,
/// and of seven f32 sevens 7.0000005), and the pullback is `g / n`.
#[test]
fn means_of_equal_entries_are_exact_and_pull_back_g_over_n() {
    for n in [1, 3, 7, 49, 98, 103, 107, 1000] {
        let ones = DMatrix::from_element(n, 1, 1.0_f64);
        let (m, g) = matrix::value_and_gradient(|p| p[0].mean(), &[&ones]);
        assert_eq!(m, 1.0, "n = {n}");
        assert_eq!(g[0], DMatrix::from_element(n, 1, 1.0 / n as f64));
        let sevens = DMatrix::from_element(n, 1, 7.0_f32);
        assert_eq!(tape_sum_mean_f32(&sevens), 7.0, "f32, n = {n}");
        // Along either dimension: every line's mean is exact.
        let wide = DMatrix::from_element(3, n, 1.0_f64);
        let (_, rows) = matrix::pullback(
            |p| p[0].mean_along(Along::Cols),
            std::slice::from_ref(&wide),
        );
        let (v, _) = matrix::pullback(
            |p| p[0].mean_along(Along::Cols),
            std::slice::from_ref(&wide),
        );
        assert_eq!(v, DMatrix::from_element(3, 1, 1.0));
        let (v, _) = matrix::pullback(|p| p[0].mean_along(Along::Rows), &[wide.transpose()]);
        assert_eq!(v, DMatrix::from_element(1, 3, 1.0));
        let g = rows.call(&DMatrix::from_element(3, 1, 2.0));
        assert_eq!(g[0], DMatrix::from_element(3, n, 2.0 / n as f64));
    }
    // f32 entries of any value: the f64 sum is exact. f64 entries whose sum rounds: the
    // rounding shows, as in NumPy (`np.mean([0.1] * 3)` is 0.10000000000000002) — what the
    // docs say.
    let tenths = DMatrix::from_element(3, 1, 0.1_f32);
    assert_eq!(tape_sum_mean_f32(&tenths), 0.1);
    let tenths = DMatrix::from_element(3, 1, 0.1_f64);
    let (m, _) = matrix::value_and_gradient(|p| p[0].mean(), &[&tenths]);
    assert_eq!(m, 0.10000000000000002);
}

/// The mean of an f32 matrix through the tape.
fn tape_sum_mean_f32(m: &DMatrix<f32>) -> f32 {
    matrix::value_and_gradient(|p| p[0].mean(), &[m]).0
}

/// `f32` `tanh`, `sigmoid`, `exp`, `ln`, `softplus`, `log_sigmoid`, `ndtr` and `softmax`
/// (vectorised kernels) against the same maps
/// in `f64` (the C library's functions through the rule table), value and gradient, at mixed
/// magnitudes,
/// both signs, zeros, large arguments and the infinities: within a few `f32` ulps, with the
/// rule table's edge values (σ(±∞) = 1, 0; derivatives 0 there; −0 kept by `tanh`).
#[test]
fn f32_vectorised_kernels_match_the_f64_maps() {
    let mut x64 = values(200, 7);
    x64.extend([
        0.0,
        -0.0,
        0.5,
        -0.5,
        1.0,
        -1.0,
        20.0,
        -20.0,
        90.0,
        -90.0,
        1000.0,
        -1000.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ]);
    let x32: Vec<f32> = x64.iter().map(|&v| v as f32).collect();
    let x64: Vec<f64> = x32.iter().map(|&v| f64::from(v)).collect();
    let n = x64.len();
    let m32 = DMatrix::from_vec(n, 1, x32);
    let m64 = DMatrix::from_vec(n, 1, x64);
    let ulps = |a: f32, b: f64| {
        let b = b as f32;
        let key = |v: f32| {
            let i = i64::from(v.to_bits() as i32);
            if i < 0 { i64::from(i32::MIN) - i } else { i }
        };
        if a == b { 0 } else { key(a).abs_diff(key(b)) }
    };
    type Map32 = fn(MatVar<f32>) -> MatVar<f32>;
    type Map64 = fn(MatVar<f64>) -> MatVar<f64>;
    let cases: [(&str, Map32, Map64, [u64; 2]); 8] = [
        ("tanh", MatVar::tanh, MatVar::tanh, [4, 6]),
        ("sigmoid", MatVar::sigmoid, MatVar::sigmoid, [3, 6]),
        ("exp", MatVar::exp, MatVar::exp, [1, 1]),
        ("softplus", MatVar::softplus, MatVar::softplus, [4, 3]),
        ("ndtr", MatVar::ndtr, MatVar::ndtr, [3, 3]),
        // ln of |x| (negative entries give NaN in both; see the assertions below).
        ("ln", |m| m.abs().ln(), |m| m.abs().ln(), [2, 1]),
        (
            "log_sigmoid",
            MatVar::log_sigmoid,
            MatVar::log_sigmoid,
            [4, 3],
        ),
        // One column: exp(x − max)/Σ in f32 against f64 (its pullback of ones is 0 up to
        // rounding, so its gradient is not compared).
        (
            "softmax",
            |m| m.softmax(Along::Rows),
            |m| m.softmax(Along::Rows),
            [4, u64::MAX],
        ),
    ];
    for (name, f32_map, f64_map, [value_bound, gradient_bound]) in cases {
        let (y32, g32) = matrix::pullback(|m| f32_map(m[0]), std::slice::from_ref(&m32));
        let (y64, g64) = matrix::pullback(|m| f64_map(m[0]), std::slice::from_ref(&m64));
        let (d32, d64) = (
            g32.call(&DMatrix::from_element(n, 1, 1.0)).remove(0),
            g64.call(&DMatrix::from_element(n, 1, 1.0)).remove(0),
        );
        for i in 0..n {
            let at = m32[i];
            assert!(
                ulps(y32[i], y64[i]) <= value_bound,
                "{name}({at:e}): {} against {:e}",
                y32[i],
                y64[i]
            );
            assert!(
                ulps(d32[i], d64[i]) <= gradient_bound,
                "{name}'({at:e}): {} against {:e}",
                d32[i],
                d64[i]
            );
        }
    }
    let (y, g) = matrix::value_and_gradient(
        |m| m[0].tanh().sum(),
        &[DMatrix::from_vec(1, 1, vec![-0.0f32])],
    );
    assert!(y == 0.0 && g[0][0] == 1.0);
    let t = matrix::pullback(|m| m[0].tanh(), &[DMatrix::from_vec(1, 1, vec![-0.0f32])]).0;
    assert!(t[0].is_sign_negative());
    let s = |x: f32| matrix::pullback(|m| m[0].sigmoid(), &[DMatrix::from_vec(1, 1, vec![x])]).0[0];
    assert_eq!(
        (s(f32::INFINITY), s(f32::NEG_INFINITY), s(0.0)),
        (1.0, 0.0, 0.5)
    );
    assert!(s(f32::NAN).is_nan());
    // softplus: +∞ and 0 at ±∞, tiny values kept; ln σ: −∞ at −∞, −0 at +∞.
    let p =
        |x: f32| matrix::pullback(|m| m[0].softplus(), &[DMatrix::from_vec(1, 1, vec![x])]).0[0];
    assert_eq!(
        (p(f32::INFINITY), p(f32::NEG_INFINITY), p(-100.0)),
        (f32::INFINITY, 0.0, (-100.0f64).exp() as f32)
    );
    let l =
        |x: f32| matrix::pullback(|m| m[0].log_sigmoid(), &[DMatrix::from_vec(1, 1, vec![x])]).0[0];
    assert_eq!(
        (l(f32::NEG_INFINITY), l(-1000.0)),
        (f32::NEG_INFINITY, -1000.0)
    );
    assert!(l(f32::INFINITY) == 0.0 && l(f32::INFINITY).is_sign_negative());
    assert!(p(f32::NAN).is_nan() && l(f32::NAN).is_nan());
    // ln: the rule table's edges, −∞ and +∞ at ±0, NaN with slope 1/x below 0.
    let ln = |x: f32| {
        let (y, pb) = matrix::pullback(|m| m[0].ln(), &[DMatrix::from_vec(1, 1, vec![x])]);
        (
            y[0],
            pb.call(&DMatrix::from_element(1, 1, 1.0)).remove(0)[0],
        )
    };
    assert_eq!(ln(0.0), (f32::NEG_INFINITY, f32::INFINITY));
    assert_eq!(ln(-0.0), (f32::NEG_INFINITY, f32::INFINITY));
    assert_eq!(ln(f32::INFINITY), (f32::INFINITY, 0.0));
    assert!(ln(-4.0).0.is_nan() && ln(-4.0).1 == -0.25);
}
