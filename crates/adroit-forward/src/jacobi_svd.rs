//! A check of nalgebra's thin SVD and the fallback used where it fails: one-sided Jacobi.
//!
//! nalgebra's `svd` (0.35) can return a decomposition that does not reproduce its matrix:
//! `A = Q·diag(1, 1, 1e-3)·Rᵀ` for rotations `Q`, `R` comes back with `‖A − U·Σ·Vᵀ‖` up to
//! 5e-3·max|A| (in 465 of 500 rotations tried, 3 × 3; its singular values 1 + 2.6e-8 and
//! 1e-3·(1 + 2.6e-8)), as do some rank-deficient matrices (the symptom of nalgebra issue
//! #1172, reported there for a rank-deficient 3 × 3). [`primal_svd`](crate::svd::primal_svd)
//! checks every decomposition ([`is_accurate`]) and recomputes a failed one with
//! [`jacobi_svd`].

use crate::Svd;
use crate::symmetric_eigen::largest_magnitude;
use nalgebra::{DMatrix, DVector, RealField};
use num_traits::Float;

/// Whether `(u, s, v_t)` is an SVD of `a` (`m × n`) to working accuracy: `U·diag(σ)·Vᵀ`
/// within `8·max(m, n)·ε·‖A‖_F` of `a` entry by entry, `UᵀU` and `VᵀV` within
/// `8·max(m, n)·ε` of the identity, and `σ` non-negative and descending. A backward-stable
/// SVD meets this with a wide margin (its errors are `O(ε·‖A‖₂)`); nalgebra's failures miss
/// it by orders of magnitude.
pub(crate) fn is_accurate<T: Float + RealField>(a: &DMatrix<T>, (u, s, v_t): &Svd<T>) -> bool {
    let (m, n) = a.shape();
    let factor = T::epsilon() * T::from(8 * m.max(n)).unwrap_or_else(T::one);
    // ‖A‖_F, scaled by the largest entry so that the squares neither overflow nor underflow
    let norm = scaled_norm(a.iter());
    let back = u * DMatrix::from_diagonal(s) * v_t;
    let reproduces = back
        .iter()
        .zip(a.iter())
        .all(|(&b, &x)| Float::abs(b - x) <= factor * norm);
    let orthonormal = |gram: DMatrix<T>| {
        let k = gram.nrows();
        (0..k).all(|i| {
            (0..k).all(|j| {
                let target = if i == j { T::one() } else { T::zero() };
                Float::abs(gram[(i, j)] - target) <= factor
            })
        })
    };
    let ordered =
        s.iter().all(|&x| x >= T::zero()) && s.as_slice().windows(2).all(|w| w[0] >= w[1]);
    reproduces && ordered && orthonormal(u.transpose() * u) && orthonormal(v_t * v_t.transpose())
}

/// The thin SVD of `a` (`m × n`, finite, both at least 1) by one-sided Jacobi (Hestenes 1958;
/// Demmel & Veselić 1992, "Jacobi's method is more accurate than QR"): plane rotations of the
/// columns of `W = A·V` until every pair is orthogonal to `√m·ε` relative, then `σⱼ = ‖wⱼ‖`,
/// `uⱼ = wⱼ/σⱼ` (a zero column's `u` completed orthonormally), sorted descending. A wide
/// matrix is decomposed through its transpose. Slower than nalgebra's bidiagonal QR (several
/// sweeps of `O(m·n²)`), so only used where that fails.
pub(crate) fn jacobi_svd<T: Float + RealField>(a: DMatrix<T>) -> Svd<T> {
    let (m, n) = a.shape();
    if m < n {
        let (u, s, v_t) = jacobi_svd(a.transpose());
        return (v_t.transpose(), s, u.transpose());
    }
    // Scaled to a largest entry of 1 (no column norm overflows); each column's sums of squares
    // are formed on the column divided by its own largest entry, so that a column far below
    // the largest (1e-160 of it) does not underflow into subnormal squares.
    let largest = largest_magnitude(a.iter());
    let scale = if largest > T::zero() {
        largest
    } else {
        T::one()
    };
    let mut w = a / scale;
    let mut v = DMatrix::identity(n, n);
    let tolerance = T::epsilon() * Float::sqrt(T::from(m).unwrap_or_else(T::one));
    for _ in 0..MAX_SWEEPS {
        let mut rotated = false;
        for p in 0..n {
            for q in p + 1..n {
                let (mp, mq) = (
                    largest_magnitude(w.column(p).iter()),
                    largest_magnitude(w.column(q).iter()),
                );
                if mp.is_zero() || mq.is_zero() {
                    continue;
                }
                // α', β', γ': the squared norms and the inner product of the columns scaled to
                // a largest entry of 1 (α = mp²·α', β = mq²·β', γ = mp·mq·γ').
                let (mut alpha, mut beta, mut gamma) = (T::zero(), T::zero(), T::zero());
                for r in 0..m {
                    let (x, y) = (w[(r, p)] / mp, w[(r, q)] / mq);
                    alpha += x * x;
                    beta += y * y;
                    gamma += x * y;
                }
                if Float::abs(gamma) <= tolerance * Float::sqrt(alpha) * Float::sqrt(beta) {
                    continue;
                }
                rotated = true;
                let (c, s) = rotation(alpha, beta, gamma, mq / mp);
                rotate(&mut w, p, q, c, s);
                rotate(&mut v, p, q, c, s);
            }
        }
        if !rotated {
            break;
        }
    }
    let norms: Vec<T> = (0..n).map(|j| scaled_norm(w.column(j).iter())).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| {
        norms[j]
            .partial_cmp(&norms[i])
            .unwrap_or(core::cmp::Ordering::Equal)
    });
    let mut u = DMatrix::zeros(m, n);
    let mut zero_columns = Vec::new();
    for (c, &j) in order.iter().enumerate() {
        if norms[j] > T::zero() {
            // divided by the column's largest entry first, then by the scaled norm: a unit
            // vector also for a column of subnormal-squared entries
            let mj = largest_magnitude(w.column(j).iter());
            let unit_scaled = w.column(j) / mj;
            u.set_column(c, &(&unit_scaled / (norms[j] / mj)));
        } else {
            zero_columns.push(c);
        }
    }
    complete(&mut u, &zero_columns);
    let s = DVector::from_fn(n, |c, _| norms[order[c]] * scale);
    let v_t = DMatrix::from_fn(n, n, |c, r| v[(r, order[c])]);
    (u, s, v_t)
}

/// Sweeps of one-sided Jacobi before giving up (it converges quadratically: a handful for
/// small matrices, 21–30 measured at 100 × 100 with clustered or graded singular values).
const MAX_SWEEPS: usize = 60;

/// `‖x‖₂`, formed on `x` divided by its largest entry (no overflow or underflow of the squares).
fn scaled_norm<'a, T: Float + RealField>(xs: impl Iterator<Item = &'a T> + Clone) -> T {
    let largest = largest_magnitude(xs.clone());
    if largest.is_zero() {
        return T::zero();
    }
    let sum = xs.fold(T::zero(), |acc, &x| acc + (x / largest) * (x / largest));
    largest * Float::sqrt(sum)
}

/// The rotation `(c, s)` that makes two columns orthogonal, from their scaled squared norms
/// `α'`, `β'`, inner product `γ'` and the ratio `r = mq/mp` of their largest entries:
/// `t = tan θ` is the smaller root of `t² + 2ζt − 1 = 0`, `ζ = (β − α)/(2γ)`, formed as `M/E`
/// with `M`, `E` of moderate size (divided by `mp²` for `r ≤ 1`, by `mq²` above), and
/// `t = E/(2M)` (its limit) where `|ζ|` exceeds `√max`.
fn rotation<T: Float + RealField>(alpha: T, beta: T, gamma: T, r: T) -> (T, T) {
    let two = T::one() + T::one();
    let (numerator, denominator) = if r <= T::one() {
        (r * r * beta - alpha, two * r * gamma)
    } else {
        (beta - alpha / (r * r), two * gamma / r)
    };
    let zeta = numerator / denominator;
    // |ζ| + √(1 + ζ²) overflows above ~9e307 (t came out 0: a review's finding); beyond
    // √(max) the limit t = 1/(2ζ) is exact to rounding.
    let t = if Float::abs(zeta) < Float::sqrt(<T as Float>::max_value()) {
        Float::signum(zeta) / (Float::abs(zeta) + Float::hypot(T::one(), zeta))
    } else {
        denominator / (two * numerator)
    };
    let c = T::one() / Float::hypot(T::one(), t);
    (c, c * t)
}

/// Columns `p`, `q` of `x` ← `(c·x_p − s·x_q, s·x_p + c·x_q)`.
fn rotate<T: Float + RealField>(x: &mut DMatrix<T>, p: usize, q: usize, c: T, s: T) {
    for r in 0..x.nrows() {
        let (a, b) = (x[(r, p)], x[(r, q)]);
        x[(r, p)] = c * a - s * b;
        x[(r, q)] = s * a + c * b;
    }
}

/// Fills the columns `missing` of `u` (its other columns orthonormal) with unit vectors
/// orthogonal to all the others: for each, the unit vector `eᵢ` that keeps the most after
/// projecting out the columns so far (twice, for orthogonality to working accuracy).
fn complete<T: Float + RealField>(u: &mut DMatrix<T>, missing: &[usize]) {
    let m = u.nrows();
    let mut filled: Vec<usize> = (0..u.ncols()).filter(|c| !missing.contains(c)).collect();
    for &c in missing {
        let mut best: Option<(T, DVector<T>)> = None;
        for i in 0..m {
            let mut x = DVector::from_fn(m, |r, _| if r == i { T::one() } else { T::zero() });
            for _ in 0..2 {
                for &f in &filled {
                    let projection = u.column(f).dot(&x);
                    x -= u.column(f) * projection;
                }
            }
            let norm = x.norm();
            if best.as_ref().is_none_or(|(b, _)| norm > *b) {
                best = Some((norm, x));
            }
        }
        if let Some((norm, x)) = best {
            u.set_column(c, &(x / norm));
        }
        filled.push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::{is_accurate, jacobi_svd};
    use nalgebra::{DMatrix, DVector};

    /// A fixed pseudo-random `rows × cols` matrix in `[−1, 1)`.
    fn matrix(rows: usize, cols: usize, phase: f64) -> DMatrix<f64> {
        DMatrix::from_fn(rows, cols, |i, j| {
            let k = (i * cols + j) as f64;
            (((k * 12.9898 + phase * 78.233).sin() * 43758.5453).fract()).abs() * 2.0 - 1.0
        })
    }

    /// Jacobi's decomposition passes the accuracy check, and its singular values equal
    /// nalgebra's where nalgebra's passes too: shapes from 1 × 1 to 7 × 4 and 4 × 7, scales
    /// 1e-300 to 1e300.
    #[test]
    fn jacobi_reproduces_matrices_of_every_shape_and_scale() {
        for (rows, cols) in [
            (1, 1),
            (1, 4),
            (4, 1),
            (3, 3),
            (5, 3),
            (3, 5),
            (7, 4),
            (4, 7),
        ] {
            for scale in [1e-300, 1.0, 1e300] {
                let a = matrix(rows, cols, 0.3) * scale;
                let svd = jacobi_svd(a.clone());
                assert!(is_accurate(&a, &svd), "{rows}×{cols}, {scale:e}");
                let plain = a.clone().svd(false, false).singular_values;
                for (j, n) in svd.1.iter().zip(plain.iter()) {
                    assert!((j - n).abs() <= 1e-14 * plain[0], "{j} against {n}");
                }
            }
        }
    }

    /// Zero and rank-deficient matrices: the zero singular values' vectors are completed
    /// orthonormally; f32.
    #[test]
    fn jacobi_completes_the_vectors_of_zero_singular_values() {
        let zero = DMatrix::<f64>::zeros(3, 2);
        let svd = jacobi_svd(zero.clone());
        assert!(is_accurate(&zero, &svd));
        assert_eq!(svd.1.as_slice(), [0.0, 0.0]);
        let mut a = DMatrix::zeros(4, 3);
        a[(0, 0)] = 2.0;
        a[(1, 0)] = 1.0;
        let svd = jacobi_svd(a.clone());
        assert!(is_accurate(&a, &svd));
        assert!((svd.1[0] - 5.0_f64.sqrt()).abs() < 1e-15 && svd.1[1] == 0.0);
        let rank_two = matrix(5, 2, 1.1) * matrix(2, 4, 2.3);
        assert!(is_accurate(&rank_two, &jacobi_svd(rank_two.clone())));
        let single = matrix(4, 3, 0.8).map(|x| x as f32);
        assert!(is_accurate(&single, &jacobi_svd(single.clone())));
    }

    /// A column far below the largest (its squares subnormal) keeps full precision: σ and a
    /// unit `u` (its squared norm underflowed: `u` came out 1.0000056, σ off by 5e-6; a
    /// review's finding); graded columns mixed by rotations too.
    #[test]
    fn jacobi_keeps_columns_far_below_the_largest() {
        let a = DMatrix::from_diagonal(&DVector::from_column_slice(&[1.0_f64, 3e-160]));
        let (u, s, v_t) = jacobi_svd(a.clone());
        assert_eq!(s.as_slice(), [1.0, 3e-160]);
        assert_eq!((u[(1, 1)].abs(), v_t[(1, 1)].abs()), (1.0, 1.0));
        // strongly graded columns: σₖ is the k-th column's part orthogonal to the earlier ones,
        // |Rₖₖ| of a QR factorisation, to rounding
        let base = matrix(4, 3, 0.7);
        let grades = [1.0, 1e-150, 1e-300];
        let graded = &base * DMatrix::from_diagonal(&DVector::from_column_slice(&grades));
        let svd = jacobi_svd(graded.clone());
        assert!(is_accurate(&graded, &svd));
        let r = base.qr().r();
        for k in 1..3 {
            let expected = grades[k] * r[(k, k)].abs();
            assert!(
                (svd.1[k] / expected - 1.0).abs() < 1e-14,
                "{} against {expected}",
                svd.1[k]
            );
        }
    }

    /// The rotation of columns whose scales differ by more than `√max`: `t = 1/(2ζ)` (it was 0
    /// where `|ζ| + √(1 + ζ²)` overflowed, and the sweeps never converged: a review's finding).
    #[test]
    fn the_rotation_keeps_tiny_angles() {
        let (c, s) = super::rotation(1.0_f64, 1.0, 0.2, 2.5e-308);
        assert_eq!(c, 1.0);
        assert!(s < 0.0 && (s / -5e-309 - 1.0).abs() < 1e-12, "{s:e}");
        let a = DMatrix::from_row_slice(2, 2, &[1e100_f64, 5e-209, 0.0, 2.5e-208]);
        let svd = jacobi_svd(a.clone());
        assert!(is_accurate(&a, &svd));
        assert!((svd.1[1] / 2.5e-208 - 1.0).abs() < 1e-12, "{:e}", svd.1[1]);
    }

    /// The check rejects a decomposition off by more than rounding: a singular value changed
    /// by 1e-10 relative, a vector turned by 1e-10.
    #[test]
    fn the_check_rejects_inexact_decompositions() {
        let a = matrix(4, 3, 0.5);
        let (u, s, v_t) = jacobi_svd(a.clone());
        assert!(is_accurate(&a, &(u.clone(), s.clone(), v_t.clone())));
        let mut off = s.clone();
        off[1] *= 1.0 + 1e-10;
        assert!(!is_accurate(&a, &(u.clone(), off, v_t.clone())));
        let (c, sn) = (1e-10_f64.cos(), 1e-10_f64.sin());
        let mut turned = u.clone();
        for r in 0..4 {
            turned[(r, 0)] = c * u[(r, 0)] - sn * u[(r, 1)];
            turned[(r, 1)] = sn * u[(r, 0)] + c * u[(r, 1)];
        }
        assert!(!is_accurate(&a, &(turned, s.clone(), v_t.clone())));
        let unordered = DVector::from_fn(3, |i, _| s[2 - i]);
        assert!(!is_accurate(&a, &(u, unordered, v_t)));
    }
}
