//! The scalar reference's linear algebra: Gaussian elimination with partial pivoting,
//! Cholesky's factorisation and substitution, written out entry by entry on [`Grid`]s, so
//! that the scalar tape differentiates the algorithms themselves — independently of the
//! closed-form pullbacks of the matrix tape (Giles 2008; Murray 2016) that they check.
//! Each follows the documented convention of its [`MatVar`](adroit_reverse::matrix::MatVar)
//! counterpart where it has no result (all NaN, or `−∞` for a singular `logabsdet`).

use super::grid::Grid;
use num_traits::Float;

/// `rows × cols` entries of `value` (constants).
fn filled<S: Float>(rows: usize, cols: usize, value: S) -> Grid<S> {
    Grid::from_fn(rows, cols, |_, _| value)
}

/// The LU factorisation `P·A = L·U` of a square matrix: `L` (unit diagonal) below the
/// diagonal and `U` on and above it, in one grid; `rows[k]` is the row of `A` that became
/// row `k`.
struct Lu<S> {
    packed: Grid<S>,
    rows: Vec<usize>,
    /// An odd number of row swaps (`det P = −1`).
    odd: bool,
}

/// `A`'s LU factorisation with partial pivoting (at each step the first row of largest
/// magnitude in the column), or `None` where a pivot is zero or an entry is not finite.
fn lu<S: Float>(a: &Grid<S>) -> Option<Lu<S>> {
    if a.data.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let n = a.rows;
    let mut m = a.clone();
    let mut rows: Vec<usize> = (0..n).collect();
    let mut odd = false;
    for k in 0..n {
        let mut p = k;
        for i in k + 1..n {
            if m.at(i, k).abs() > m.at(p, k).abs() {
                p = i;
            }
        }
        if m.at(p, k) == S::zero() {
            return None;
        }
        if p != k {
            odd = !odd;
            rows.swap(k, p);
            for j in 0..n {
                m.data.swap(j * n + k, j * n + p);
            }
        }
        let pivot = m.at(k, k);
        for i in k + 1..n {
            let factor = m.at(i, k) / pivot;
            m.data[k * n + i] = factor;
            for j in k + 1..n {
                m.data[j * n + i] = m.at(i, j) - factor * m.at(k, j);
            }
        }
    }
    Some(Lu {
        packed: m,
        rows,
        odd,
    })
}

impl<S: Float> Lu<S> {
    /// `A⁻¹·B` by forward substitution with `L` and back substitution with `U`.
    fn solve(&self, b: &Grid<S>) -> Grid<S> {
        let n = self.packed.rows;
        let f = &self.packed;
        let mut x = b.clone();
        for j in 0..b.cols {
            let mut y: Vec<S> = self.rows.iter().map(|&r| b.at(r, j)).collect();
            for i in 0..n {
                for k in 0..i {
                    y[i] = y[i] - f.at(i, k) * y[k];
                }
            }
            for i in (0..n).rev() {
                for k in i + 1..n {
                    y[i] = y[i] - f.at(i, k) * y[k];
                }
                y[i] = y[i] / f.at(i, i);
            }
            x.data[j * n..(j + 1) * n].copy_from_slice(&y);
        }
        x
    }
}

/// `A⁻¹·B` (all NaN where `A` is singular or not finite).
pub(super) fn solve<S: Float>(a: &Grid<S>, b: &Grid<S>) -> Grid<S> {
    lu(a).map_or_else(|| filled(b.rows, b.cols, S::nan()), |f| f.solve(b))
}

/// `A⁻¹` (all NaN where `A` is singular or not finite).
pub(super) fn inverse<S: Float>(a: &Grid<S>) -> Grid<S> {
    solve(a, &Grid::identity(a.rows))
}

/// `ln|det A|`, `1 × 1`: `Σ ln|Uₖₖ|`; `−∞` at a zero pivot, NaN where an entry is not
/// finite.
pub(super) fn logabsdet<S: Float>(a: &Grid<S>) -> Grid<S> {
    let value = match lu(a) {
        Some(f) => (0..a.rows).fold(S::zero(), |t, k| t + f.packed.at(k, k).abs().ln()),
        None if a.data.iter().all(|v| v.is_finite()) => S::neg_infinity(),
        None => S::nan(),
    };
    filled(1, 1, value)
}

/// `det A`, `1 × 1`: `det P · Π Uₖₖ`; 0 at a zero pivot, NaN where an entry is not finite.
pub(super) fn det<S: Float>(a: &Grid<S>) -> Grid<S> {
    let value = match lu(a) {
        Some(f) => {
            let product = (0..a.rows).fold(S::one(), |t, k| t * f.packed.at(k, k));
            if f.odd { -product } else { product }
        }
        None if a.data.iter().all(|v| v.is_finite()) => S::zero(),
        None => S::nan(),
    };
    filled(1, 1, value)
}

/// The lower Cholesky factor of `½A + ½Aᵀ` (zeros above the diagonal), or all NaN where a
/// pivot `Sⱼⱼ − Σₖ Lⱼₖ²` is not positive or an entry not finite.
pub(super) fn cholesky<S: Float>(a: &Grid<S>) -> Grid<S> {
    let n = a.rows;
    let half = S::from(0.5).unwrap_or_else(S::nan);
    let sym = Grid::from_fn(n, n, |i, j| half * a.at(i, j) + half * a.at(j, i));
    let undefined = || filled(n, n, S::nan());
    if sym.data.iter().any(|v| !v.is_finite()) {
        return undefined();
    }
    let mut l = filled(n, n, S::zero());
    for j in 0..n {
        let pivot = (0..j).fold(sym.at(j, j), |d, k| d - l.at(j, k) * l.at(j, k));
        if !(pivot > S::zero() && pivot.is_finite()) {
            return undefined();
        }
        let diagonal = pivot.sqrt();
        l.data[j * n + j] = diagonal;
        for i in j + 1..n {
            let rest = (0..j).fold(sym.at(i, j), |d, k| d - l.at(i, k) * l.at(j, k));
            l.data[j * n + i] = rest / diagonal;
        }
    }
    l
}

/// `T⁻¹·B` (`transposed` false) or `T⁻ᵀ·B`, reading only `T`'s lower (`lower`) or upper
/// triangle, by substitution; all NaN where a diagonal entry is zero or NaN.
pub(super) fn triangular_solve<S: Float>(
    t: &Grid<S>,
    b: &Grid<S>,
    lower: bool,
    transposed: bool,
) -> Grid<S> {
    let n = t.rows;
    if (0..n).any(|i| t.at(i, i) == S::zero() || t.at(i, i).is_nan()) {
        return filled(b.rows, b.cols, S::nan());
    }
    // The matrix solved with, entry (i, k), and whether it is lower triangular.
    let m = |i: usize, k: usize| if transposed { t.at(k, i) } else { t.at(i, k) };
    let forward = lower != transposed;
    let mut x = b.clone();
    for j in 0..b.cols {
        let order: Vec<usize> = if forward {
            (0..n).collect()
        } else {
            (0..n).rev().collect()
        };
        for (step, &i) in order.iter().enumerate() {
            let mut v = b.at(i, j);
            for &k in &order[..step] {
                v = v - m(i, k) * x.data[j * n + k];
            }
            x.data[j * n + i] = v / m(i, i);
        }
    }
    x
}
