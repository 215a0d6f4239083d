//! Triangular systems with many right-hand sides, blocked so that most of the work runs on the
//! matrix-product kernel: nalgebra's substitution runs at a few GFLOP/s (0.85 ms for a 200 × 200
//! lower-triangular matrix and 200 right-hand sides on the project's machine, against 0.21 ms
//! for a product of the same size), and the Cholesky pullback needs two such solves.
//!
//! With many right-hand sides a diagonal block is applied as its inverse (formed by
//! substitution), which is not backward stable as substitution is: for the Cholesky factor of a
//! 200 × 200 squared-exponential kernel plus `σ²I` and 200 right-hand sides, the residual
//! `‖Lᵀx − p‖∞` was 2.8e-14 against substitution's 2.5e-14 at `σ² = 10⁻²`, 3.3e-11 against
//! 1.4e-12 at 10⁻⁶ and 1.8e-7 against 2.4e-10 at 10⁻¹⁰, while the two solutions agreed to
//! 5e-15, 7e-13 and 2e-10 relative — far inside the error the matrix's conditioning allows
//! either (its condition number grows as `1/σ²`). A diagonal block whose condition estimate
//! `max|D|·max|D⁻¹|` reaches `1/√ε` is solved by substitution instead (its inverse can overflow
//! where substitution's result is finite); the kernels above stay below that (same figures with
//! and without the rule, measured on a like kernel).

use super::finite::all_finite;
use super::gemm::{Operand, product};
use super::{MatScalar, pool};
use nalgebra::DMatrix;
use num_traits::Float;

/// Rows per block: below two blocks, nalgebra's substitution alone.
const BLOCK: usize = 32;

/// `op(T)⁻¹·B` for the `n × n` matrix `t`, of which only the lower (`lower`) or upper triangle,
/// diagonal included, is read; `op` the transpose with `transposed`. `None` at a zero or NaN
/// diagonal entry (values compared: a dual zero with a tangent is zero).
///
/// With an infinite or NaN entry anywhere in `t` or `b`, nalgebra's substitution alone: such
/// entries propagate as in substitution, whatever `n` and the number of columns (blocked
/// results depended on both). Callers apply the tape's conventions on top.
pub(crate) fn solve_triangular<T: MatScalar>(
    t: &DMatrix<T>,
    lower: bool,
    transposed: bool,
    b: &DMatrix<T>,
) -> Option<DMatrix<T>> {
    if has_zero_pivot(t) {
        return None;
    }
    let n = t.nrows();
    // Non-finite entries: substitution throughout, so that they propagate as substitution's
    // whatever n and the number of columns (blocks' inverses and products spread them
    // differently; a review).
    if n < 2 * BLOCK || b.ncols() == 0 || !triangle_finite(t, lower) || !all_finite(b.as_slice()) {
        return small_solve(t, lower, transposed, b);
    }
    // op(T) is lower triangular when `lower` and not `transposed` or the reverse: forward
    // substitution, blocks top to bottom; else back substitution, bottom to top.
    let forward = lower != transposed;
    let mut starts: Vec<usize> = (0..n).step_by(BLOCK).collect();
    if !forward {
        starts.reverse();
    }
    let k = b.ncols();
    let mut x = pool::copy(b);
    for r0 in starts {
        let r1 = (r0 + BLOCK).min(n);
        // The solved rows this block depends on: above it (forward) or below it.
        let (c0, c1) = if forward { (0, r0) } else { (r1, n) };
        let mut rhs = x.rows(r0, r1 - r0).into_owned();
        if c1 > c0 {
            // op(T)[r0..r1, c0..c1] · X[c0..c1, :]
            let left = if transposed {
                Operand::block(t, (c0, r0), (c1 - c0, r1 - r0), true)
            } else {
                Operand::block(t, (r0, c0), (r1 - r0, c1 - c0), false)
            };
            let solved = Operand::block(&x, (c0, 0), (c1 - c0, k), false);
            let update = product(left, solved);
            rhs -= &update;
            pool::recycle(update);
        }
        // The diagonal block: with as many right-hand sides as its rows or more, its inverse
        // by substitution (small) applied on the kernel; with fewer, substitution.
        let width = r1 - r0;
        // The block's read triangle only: the other is not part of the system.
        let block = t.view((r0, r0), (width, width));
        let diagonal = if lower {
            block.lower_triangle()
        } else {
            block.upper_triangle()
        };
        let inverse = if k >= width {
            let identity = DMatrix::identity(width, width);
            Some(small_solve(&diagonal, lower, transposed, &identity)?)
                .filter(|inverse| well_conditioned(&diagonal, inverse))
        } else {
            None
        };
        let block = match inverse {
            Some(inverse) => product(Operand::plain(&inverse), Operand::plain(&rhs)),
            None => small_solve(&diagonal, lower, transposed, &rhs)?,
        };
        x.rows_mut(r0, width).copy_from(&block);
        pool::recycle(block);
    }
    Some(x)
}

/// True when the triangle of `t` that is read (the lower one with `lower`, diagonal included)
/// is finite: an infinity in the other triangle changes nothing.
fn triangle_finite<T: MatScalar>(t: &DMatrix<T>, lower: bool) -> bool {
    let n = t.nrows();
    t.as_slice()
        .chunks_exact(n.max(1))
        .enumerate()
        .all(|(j, column)| {
            let read = if lower { &column[j..] } else { &column[..=j] };
            all_finite(read)
        })
}

/// True when a diagonal block may be applied as its inverse: `max|D|·max|D⁻¹|` (an estimate of
/// its condition number) below `1/√ε`. Beyond, the product with the inverse loses the accuracy
/// substitution keeps, and an inverse whose entries reach `d⁻³²` for small diagonal entries `d`
/// can overflow where substitution's solution is finite (NaN results for finite
/// inputs, depending on the number of right-hand sides). Values compared for dual entries.
fn well_conditioned<T: MatScalar>(diagonal: &DMatrix<T>, inverse: &DMatrix<T>) -> bool {
    let largest = |m: &DMatrix<T>| {
        m.iter().fold(T::zero(), |l, &v| {
            let a = Float::abs(v);
            if a > l || a.is_nan() { a } else { l }
        })
    };
    let estimate = largest(diagonal) * largest(inverse);
    estimate < Float::recip(Float::sqrt(<T as Float>::epsilon()))
}

/// True when a diagonal entry's value is zero or NaN: no triangular solve is defined. Values
/// compared: nalgebra's substitution tests `is_zero`, which a dual zero carrying a tangent (under
/// `matrix::hvp`/`hessian`) is not, and would divide by it.
pub(crate) fn has_zero_pivot<T: MatScalar>(t: &DMatrix<T>) -> bool {
    t.diagonal().iter().any(|&d| d == T::zero() || d.is_nan())
}

/// nalgebra's substitution.
fn small_solve<T: MatScalar>(
    t: &DMatrix<T>,
    lower: bool,
    transposed: bool,
    b: &DMatrix<T>,
) -> Option<DMatrix<T>> {
    match (lower, transposed) {
        (true, false) => t.solve_lower_triangular(b),
        (true, true) => t.tr_solve_lower_triangular(b),
        (false, false) => t.solve_upper_triangular(b),
        (false, true) => t.tr_solve_upper_triangular(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use adroit_forward::Dual;

    /// A well-conditioned `n × n` matrix, full (both triangles), with entries from `entry`.
    fn matrix<T: MatScalar>(
        n: usize,
        cols: usize,
        entry: impl Fn(usize, usize) -> T,
    ) -> DMatrix<T> {
        DMatrix::from_fn(n, cols, entry)
    }

    fn wave(i: usize, j: usize) -> f64 {
        ((i * 7 + j * 13) as f64 * 0.37).sin()
    }

    #[test]
    fn blocked_solves_equal_nalgebras_substitution() {
        for n in [2 * BLOCK, 150] {
            let t = matrix(n, n, |i, j| {
                if i == j {
                    3.0 + wave(i, j)
                } else {
                    0.3 * wave(i, j)
                }
            });
            for k in [1, 7, n] {
                let b = matrix(n, k, |i, j| wave(j, i));
                for (lower, transposed) in
                    [(true, false), (true, true), (false, false), (false, true)]
                {
                    let blocked = solve_triangular(&t, lower, transposed, &b).unwrap();
                    let plain = small_solve(&t, lower, transposed, &b).unwrap();
                    let err = (&blocked - &plain).amax() / plain.amax();
                    assert!(
                        err < 1e-13,
                        "n {n}, k {k}, lower {lower}, transposed {transposed}: {err}"
                    );
                }
            }
        }
    }

    #[test]
    fn blocked_solves_on_duals_carry_the_tangents() {
        let n = 130;
        let t = matrix(n, n, |i, j| {
            let v = if i == j {
                3.0 + wave(i, j)
            } else {
                0.3 * wave(i, j)
            };
            Dual::new(v, wave(j, i))
        });
        let b = matrix(n, 3, |i, j| Dual::new(wave(i, j), wave(i + 1, j)));
        for (lower, transposed) in [(true, false), (true, true), (false, false), (false, true)] {
            let blocked = solve_triangular(&t, lower, transposed, &b).unwrap();
            let plain = small_solve(&t, lower, transposed, &b).unwrap();
            for (x, y) in blocked.iter().zip(plain.iter()) {
                assert!(
                    (x.value() - y.value()).abs() < 1e-12,
                    "{lower} {transposed}"
                );
                assert!(
                    (x.tangent() - y.tangent()).abs() < 1e-11,
                    "{lower} {transposed}"
                );
            }
        }
    }

    /// Every form's blocked solve equals substitution entry for entry (NaN matching NaN).
    #[track_caller]
    fn assert_as_substitution(t: &DMatrix<f64>, b: &DMatrix<f64>) {
        for (lower, transposed) in [(true, false), (true, true), (false, false), (false, true)] {
            let blocked = solve_triangular(t, lower, transposed, b).unwrap();
            let plain = small_solve(t, lower, transposed, b).unwrap();
            for (x, y) in blocked.iter().zip(plain.iter()) {
                let (n, k) = b.shape();
                assert!(
                    x == y || (x.is_nan() && y.is_nan()),
                    "n {n}, k {k}: {x} vs {y}"
                );
            }
        }
    }

    #[test]
    fn non_finite_entries_propagate_as_in_substitution_whatever_the_blocking() {
        // T = 2I, B's first entry infinite: substitution gives ∞ then NaN down the column
        for (n, k) in [(64, 1), (64, 40), (150, 3), (150, 150)] {
            let t = DMatrix::<f64>::identity(n, n) * 2.0;
            let mut b = matrix(n, k, wave);
            b[(0, 0)] = f64::INFINITY;
            assert_as_substitution(&t, &b);
        }
    }

    #[test]
    fn infinities_in_the_matrix_propagate_as_in_substitution_too() {
        // a review's cases: an infinite entry of T in the last (short) block or inside a block,
        // any number of columns
        for (n, at) in [(130, (127, 125)), (64, (40, 2)), (130, (129, 1))] {
            let mut t = matrix(n, n, |i, j| if i == j { 2.0 } else { 0.3 * wave(i, j) });
            t[at] = f64::INFINITY;
            t[(at.1, at.0)] = f64::NEG_INFINITY;
            for k in [1, 2, 5, 31, 32, 40] {
                let b = matrix(n, k, |i, j| wave(j, i));
                assert_as_substitution(&t, &b);
            }
        }
    }

    #[test]
    fn a_dual_zero_pivot_carrying_a_tangent_is_none() {
        // nalgebra's substitution tests `is_zero`, which a dual zero with a tangent is not
        let n = 130;
        let mut t = matrix(n, n, |i, j| Dual::new(if i == j { 2.0 } else { 0.0 }, 0.0));
        t[(100, 100)] = Dual::new(0.0, 1.0);
        let b = matrix(n, 2, |i, j| Dual::new(wave(i, j), 0.0));
        assert!(solve_triangular(&t, true, false, &b).is_none());
        assert!(
            solve_triangular(
                &t.view((0, 0), (4, 4)).into_owned(),
                true,
                true,
                &b.rows(0, 4).into_owned()
            )
            .is_some()
        );
    }

    #[test]
    fn a_zero_pivot_is_none_in_any_block() {
        let n = 150;
        let mut t = matrix(n, n, |i, j| if i == j { 2.0 } else { 0.1 * wave(i, j) });
        t[(120, 120)] = 0.0;
        let b = matrix(n, 2, wave);
        assert!(solve_triangular(&t, true, false, &b).is_none());
        t[(120, 120)] = f64::NAN;
        assert!(solve_triangular(&t, false, true, &b).is_none());
    }

    #[test]
    fn ill_conditioned_diagonal_blocks_are_solved_by_substitution() {
        // a review: L bidiagonal with diagonal d and subdiagonal 1; each column of B is L·e₀,
        // so X = e₀ exactly (substitution's result), for any number of columns; the diagonal
        // blocks' inverses (entries up to d⁻³²) overflowed into NaN results from 32 columns on
        fn bidiagonal<T: MatScalar>(n: usize, d: T) -> DMatrix<T> {
            DMatrix::from_fn(n, n, |i, j| {
                if i == j {
                    d
                } else if i == j + 1 {
                    T::one()
                } else {
                    T::zero()
                }
            })
        }
        fn check<T: MatScalar>(n: usize, d: T) {
            let l = bidiagonal(n, d);
            for k in [31, 32, 40, n] {
                let b = DMatrix::from_fn(n, k, |i, _| l[(i, 0)]);
                let x = solve_triangular(&l, true, false, &b).expect("no zero pivot");
                let e0 = DMatrix::from_fn(n, k, |i, _| if i == 0 { T::one() } else { T::zero() });
                assert_eq!(x, e0, "n {n}, k {k}");
            }
        }
        check(64, 1e-10_f64);
        check(100, 1e-10_f64);
        check(64, 0.05_f32);
        // and a well-conditioned matrix still takes the blocked path: the same solution as
        // substitution to rounding, not bit for bit
        let t = DMatrix::from_fn(96, 96, |i, j| {
            if i == j {
                3.0 + wave(i, j)
            } else {
                0.3 * wave(i, j)
            }
        });
        let b = DMatrix::from_fn(96, 64, wave);
        let blocked = solve_triangular(&t, true, false, &b).unwrap();
        let substituted = small_solve(&t, true, false, &b).unwrap();
        assert!((&blocked - &substituted).amax() < 1e-12);
        assert_ne!(blocked, substituted, "the blocked path was not taken");
    }

    #[test]
    fn entries_of_the_triangle_not_read_change_nothing() {
        // a review: an infinity above the diagonal of a lower solve sent the whole solve to
        // substitution (other rounding, and slower)
        let n = 130;
        let t = DMatrix::from_fn(n, n, |i, j| {
            if i == j {
                3.0 + wave(i, j)
            } else {
                0.3 * wave(i, j)
            }
        });
        let b = DMatrix::from_fn(n, 40, wave);
        for (lower, transposed) in [(true, false), (true, true), (false, false), (false, true)] {
            let clean = solve_triangular(&t, lower, transposed, &b).unwrap();
            let mut dirty = t.clone();
            // far from the diagonal, and inside the first diagonal block
            let (first, second, third) = if lower {
                ((0, n - 1), (1, n - 1), (0, 1))
            } else {
                ((n - 1, 0), (n - 2, 0), (1, 0))
            };
            dirty[first] = f64::INFINITY;
            dirty[second] = f64::NAN;
            dirty[third] = 1e300;
            let got = solve_triangular(&dirty, lower, transposed, &b).unwrap();
            assert_eq!(got, clean, "lower {lower}, transposed {transposed}");
        }
    }
}
