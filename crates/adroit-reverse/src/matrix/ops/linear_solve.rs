//! Linear systems `A·X = B`, inverses and log-determinants as nodes, by an LU factorisation
//! with partial pivoting (nalgebra's `lu`), its factors saved for the pullback.

use crate::matrix::gemm::{Operand, pullback_product};
use crate::matrix::tape::{Backward, Grads};
use crate::matrix::triangular::{has_zero_pivot, solve_triangular};
use crate::matrix::value::NodeValue;
use crate::matrix::var::shape_str;
use crate::matrix::{MatScalar, MatVar, pool};
use nalgebra::{DMatrix, Dyn, PermutationSequence};
use std::cell::OnceCell;

/// The factors of `P·A = L·U` (nalgebra's LU with partial pivoting), unpacked once for the
/// pullbacks, which may run many times (a pullback called with several cotangents).
pub(super) struct Factors<T: MatScalar> {
    p: PermutationSequence<Dyn>,
    l: DMatrix<T>,
    u: DMatrix<T>,
}

impl<T: MatScalar> Factors<T> {
    /// The factors of `a` (square), or of a NaN matrix of its shape when an entry is NaN or
    /// infinite (LU would return finite limits for some placements of an infinity and NaN for
    /// others; as `singular_values`, NaN throughout).
    pub(super) fn of(a: &DMatrix<T>) -> Self {
        // Values only: a dual with a finite value and an infinite tangent (a `√` at 0 feeding
        // `A`) is a matrix with infinite derivatives, not an undefined one.
        let a = if a.iter().all(|v| v.is_finite()) {
            a.clone()
        } else {
            DMatrix::from_element(a.nrows(), a.ncols(), T::undefined())
        };
        let (p, l, u) = a.lu().unpack();
        Self { p, l, u }
    }

    /// True when a pivot's value is zero, or NaN (the factors of a matrix with a NaN or
    /// infinite entry, see [`of`](Self::of)): either way no solve is defined, and a pullback
    /// gives NaN for a non-zero cotangent column and 0 for a zero one. nalgebra's triangular
    /// solves test `is_zero`, which for a dual (under `matrix::hvp`/`hessian`) means zero in
    /// every part: a pivot `Dual(0, t)` would pass, and the solve return infinities where a
    /// plain float's gives `None`.
    pub(super) fn singular(&self) -> bool {
        has_zero_pivot(&self.u)
    }

    /// `A⁻¹·B`, or `None` for a zero pivot.
    fn solve(&self, b: &DMatrix<T>) -> Option<DMatrix<T>> {
        if self.u.is_empty() {
            // 0 × 0 (nalgebra's triangular solves underflow their index there)
            return Some(b.clone());
        }
        if self.singular() {
            return None;
        }
        let mut x = b.clone();
        self.p.permute_rows(&mut x);
        if !self
            .l
            .solve_lower_triangular_with_diag_mut(&mut x, T::one())
        {
            return None;
        }
        self.u.solve_upper_triangular(&x)
    }

    /// `A⁻ᵀ·G`: `Aᵀ = Uᵀ·Lᵀ·P`, so two triangular solves with the transposed factors and the
    /// inverse row permutation. At a zero pivot (a singular `A`) the columns of `G` that are
    /// not zero give NaN and the zero ones 0 (a zero cotangent contributes nothing, as
    /// elsewhere on the tape).
    fn solve_transposed(&self, g: &DMatrix<T>) -> DMatrix<T> {
        if self.u.is_empty() {
            return g.clone();
        }
        let solved = if self.singular() {
            None
        } else {
            // (blocked: most of the work on the product kernel)
            solve_triangular(&self.u, false, true, g)
                .and_then(|t| solve_triangular(&self.l, true, true, &t))
        };
        match solved {
            Some(mut w) => {
                // A NaN from `0·∞` in the substitution (an infinite cotangent, or one that
                // overflows on the way at a tiny pivot, meeting a zero factor entry): formed
                // again term by term with the tape's convention.
                #[allow(clippy::eq_op)] // v − v: NaN in any part, for a dual its tangents too
                if w.iter().any(|&v| !(v - v).is_zero()) {
                    pool::recycle(w);
                    w = self.solve_transposed_term_by_term(g);
                }
                self.p.inv_permute_rows(&mut w);
                w
            }
            None => undefined_where_nonzero(g),
        }
    }

    /// `Uᵀ⁻¹` then `Lᵀ⁻¹` applied to `g` (before the row permutation) by substitution, each term
    /// by [`chain_product`](adroit_forward::chain_product): a zero factor entry against an
    /// infinite entry of `g` (or the reverse) contributes 0, as in every pullback of the tape
    /// (nalgebra's substitution gives NaN there). `U`'s pivots are not zero (the caller's
    /// solve succeeded).
    fn solve_transposed_term_by_term(&self, g: &DMatrix<T>) -> DMatrix<T> {
        let (l, u) = (&self.l, &self.u);
        let n = u.nrows();
        let mut w = g.clone();
        for mut column in w.column_iter_mut() {
            // Uᵀ·y = g: yᵢ = (gᵢ − Σⱼ₍ⱼ<ᵢ₎ Uⱼᵢ·yⱼ) / Uᵢᵢ
            for i in 0..n {
                let terms = (0..i).fold(T::zero(), |sum, j| {
                    sum + T::tape_product(u[(j, i)], column[j])
                });
                column[i] = (column[i] - terms) / u[(i, i)];
            }
            // Lᵀ·w = y, unit diagonal: wᵢ = yᵢ − Σⱼ₍ⱼ>ᵢ₎ Lⱼᵢ·wⱼ
            for i in (0..n).rev() {
                let terms = (i + 1..n).fold(T::zero(), |sum, j| {
                    sum + T::tape_product(l[(j, i)], column[j])
                });
                column[i] -= terms;
            }
        }
        w
    }

    /// `A⁻ᵀ`, by [`solve_transposed`](Self::solve_transposed) of the identity (NaN columns at
    /// a singular `A`).
    pub(super) fn inverse_transposed(&self) -> DMatrix<T> {
        let n = self.u.nrows();
        self.solve_transposed(&DMatrix::identity(n, n))
    }

    /// The upper factor `U`.
    pub(super) fn u(&self) -> &DMatrix<T> {
        &self.u
    }

    /// `det A = det P · Π Uᵢᵢ` (1 for a `0 × 0` matrix).
    pub(super) fn det(&self) -> T {
        let pivots = self.u.diagonal().iter().fold(T::one(), |p, &d| p * d);
        self.p.determinant::<T>() * pivots
    }

    /// `ln|det A| = Σ ln|Uᵢᵢ|`.
    fn log_abs_det(&self) -> T {
        let ln_abs = |d: T| num_traits::Float::ln(num_traits::Float::abs(d));
        self.u
            .diagonal()
            .iter()
            .fold(T::zero(), |sum, &d| sum + ln_abs(d))
    }
}

/// A singular system's pullback for the right-hand side (no `A⁻ᵀ·G` exists): per column of
/// the cotangent `g`, 0 where it is zero (a zero cotangent contributes nothing), NaN where it
/// is not — but for zero values carrying tangents (a dual cotangent under `matrix::hvp`), the
/// value 0 as for a plain float, the tangents undefined. Shared by the LU and triangular solves.
pub(super) fn undefined_where_nonzero<T: MatScalar>(g: &DMatrix<T>) -> DMatrix<T> {
    let mut out = pool::overwritten(g.nrows(), g.ncols());
    for (column, mut target) in g.column_iter().zip(out.column_iter_mut()) {
        let entry = if column.iter().all(|v| v.is_zero()) {
            T::zero()
        } else if column.iter().all(|&v| v == T::zero()) {
            T::undefined().with_value_of(T::zero())
        } else {
            T::undefined()
        };
        target.fill(entry);
    }
    out
}

/// Panics unless `A·X = B` (`a` and `b` the shapes, `letter` naming `A` in the message) has `A`
/// square and `B` with `A`'s row count, naming the operation and both shapes.
#[track_caller]
pub(super) fn assert_system(name: &str, letter: char, a: (usize, usize), b: (usize, usize)) {
    assert!(
        a.0 == a.1 && b.0 == a.0,
        "{name}: {letter}·X = B needs {letter} square and B with {letter}'s row count, got \
         {letter} {} and B {}",
        shape_str(a),
        shape_str(b)
    );
}

/// `−P·Qᵀ` with the pullbacks' `0·∞ = 0` convention (`matrix::gemm`): a zero cotangent column
/// meeting an infinite or NaN entry contributes 0, not NaN.
fn negated_product_transposed<T: MatScalar>(p: &DMatrix<T>, q: &DMatrix<T>) -> DMatrix<T> {
    let mut out = pullback_product(Operand::plain(p), Operand::transposed(q));
    out.neg_mut();
    out
}

/// `m ← cotangent·m` entry by entry with the tape's `0·∞ = 0` convention
/// ([`chain_product`](adroit_forward::chain_product)): an infinite cotangent leaves the zeros
/// of `A⁻ᵀ` zero.
pub(super) fn scale_by_cotangent<T: MatScalar>(m: &mut DMatrix<T>, cotangent: T) {
    for v in m.iter_mut() {
        *v = T::tape_product(cotangent, *v);
    }
}

/// Backward of `X = A⁻¹·B`: `B̄ = A⁻ᵀ·X̄`, `Ā = −B̄·Xᵀ` (Giles 2008, "An extended collection of
/// matrix derivative results for forward and reverse mode AD").
struct Solve<T: MatScalar> {
    a: u32,
    b: u32,
    factors: Factors<T>,
    x: DMatrix<T>,
}

impl<T: MatScalar> Backward<T> for Solve<T> {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        if grads.wants(self.a) || grads.wants(self.b) {
            let b_bar = self.factors.solve_transposed(&g);
            if grads.wants(self.a) {
                grads.accumulate(self.a, negated_product_transposed(&b_bar, &self.x));
            }
            grads.accumulate(self.b, b_bar);
        }
        pool::recycle(g);
    }
}

/// Backward of `X = A⁻¹`: `Ā = −Xᵀ·X̄·Xᵀ`.
struct Inverse<T> {
    a: u32,
    x: DMatrix<T>,
}

impl<T: MatScalar> Backward<T> for Inverse<T> {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        let left = pullback_product(Operand::transposed(&self.x), Operand::plain(&g));
        grads.accumulate(self.a, negated_product_transposed(&left, &self.x));
        pool::recycle(g);
    }
}

/// Backward of `ln|det A|`: `Ā = ḡ·A⁻ᵀ`.
struct LogAbsDet<T: MatScalar> {
    a: u32,
    factors: Factors<T>,
    /// `A⁻ᵀ`, formed by the first pullback call that needs it (O(n³)) and kept for the next
    /// ones (a pullback called with several cotangents).
    inverse_t: OnceCell<DMatrix<T>>,
}

impl<T: MatScalar> Backward<T> for LogAbsDet<T> {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        // A zero cotangent contributes nothing (and skips forming A⁻ᵀ).
        if !g[0].is_zero() && grads.wants(self.a) {
            let inverse_t = self
                .inverse_t
                .get_or_init(|| self.factors.inverse_transposed());
            let mut contribution = pool::copy(inverse_t);
            scale_by_cotangent(&mut contribution, g[0]);
            grads.accumulate(self.a, contribution);
        }
        pool::recycle(g);
    }

    fn backward_once(self: Box<Self>, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        let cotangent = g[0];
        pool::recycle(g);
        self.consume(cotangent, grads);
    }

    /// A gradient call's seed (a uniform adjoint, also when scaled on its way here).
    fn backward_uniform_once(
        self: Box<Self>,
        value: T,
        _: (usize, usize),
        _: &[NodeValue<T>],
        grads: &mut Grads<'_, T>,
    ) {
        self.consume(value, grads);
    }

    fn release(self: Box<Self>) {
        if let Some(inverse_t) = self.inverse_t.into_inner() {
            pool::recycle(inverse_t);
        }
    }
}

impl<T: MatScalar> LogAbsDet<T> {
    /// The tape's last sweep with cotangent `ḡ`: `A⁻ᵀ` (formed now, or by an earlier call) is
    /// scaled in place into the contribution; a zero cotangent contributes nothing.
    fn consume(self: Box<Self>, cotangent: T, grads: &mut Grads<'_, T>) {
        if cotangent.is_zero() || !grads.wants(self.a) {
            return self.release();
        }
        let LogAbsDet {
            a,
            factors,
            inverse_t,
        } = *self;
        let mut contribution = inverse_t
            .into_inner()
            .unwrap_or_else(|| factors.inverse_transposed());
        scale_by_cotangent(&mut contribution, cotangent);
        grads.accumulate(a, contribution);
    }
}

/// Panics unless `shape` is square, naming the operation.
#[track_caller]
pub(super) fn assert_square(what: &str, shape: (usize, usize)) {
    assert!(
        shape.0 == shape.1,
        "{what}: the matrix is {}, not square",
        shape_str(shape)
    );
}

impl<T: MatScalar> MatVar<T> {
    /// `X = A⁻¹·B`, the solution of the linear system `A·X = B` (`self` is `A`, `n × n`; `b`
    /// is `n × k`; the result `n × k`), by LU with partial pivoting (nalgebra's
    /// `lu().solve`; NumPy's and JAX's `linalg.solve`), without forming `A⁻¹`.
    ///
    /// Pullback: `B̄ = A⁻ᵀ·X̄` (two triangular solves with the saved factors) and
    /// `Ā = −B̄·Xᵀ` (Giles 2008), with the pullbacks' `0·∞ = 0` convention (an infinite entry
    /// of `B` in a column the loss does not read leaves `Ā` finite). A singular `A` (a zero
    /// pivot), or one with a NaN or infinite entry, gives all-NaN values and NaN partials for
    /// every non-zero cotangent column (a zero one contributes nothing); a nearly singular one,
    /// large ones (decide on the condition of the primal matrix).
    ///
    /// # Panics
    /// If `A` is not square or `b` has not `n` rows (both shapes in the message), or either
    /// holds variables of another scope.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// use adroit_reverse::matrix;
    /// // bᵀ·A⁻¹·b for A = diag(2, 4), b = (1, 1): 0.75; ∂/∂b = 2·A⁻¹·b = (1, 0.5),
    /// // ∂/∂A = −A⁻ᵀ·b·bᵀ·A⁻ᵀ = −[[1/4, 1/8], [1/8, 1/16]].
    /// let (value, grads) = matrix::value_and_gradient(
    ///     |m| (m[1].transpose() * m[0].solve(m[1])).sum(),
    ///     &[dmatrix![2.0, 0.0; 0.0, 4.0], dmatrix![1.0; 1.0]],
    /// );
    /// assert_eq!(value, 0.75);
    /// assert_eq!(grads[1], dmatrix![1.0; 0.5]);
    /// assert_eq!(grads[0], dmatrix![-0.25, -0.125; -0.125, -0.0625]);
    /// ```
    #[track_caller]
    pub fn solve(self, b: Self) -> Self {
        assert_system("solve", 'A', self.shape(), b.shape());
        let (a_index, b_index) = (self.index(), b.index());
        self.binary_op(b, |a, rhs| {
            let factors = Factors::of(a);
            let x = factors
                .solve(rhs)
                .unwrap_or_else(|| DMatrix::from_element(rhs.nrows(), rhs.ncols(), T::undefined()));
            let backward = Solve {
                a: a_index,
                b: b_index,
                factors,
                x: pool::copy(&x),
            };
            (x, Box::new(backward))
        })
    }

    /// The inverse `A⁻¹` of a square matrix (`n × n`), by LU with partial pivoting (nalgebra's
    /// `lu().try_inverse`). To solve a system, [`solve`](Self::solve) is cheaper and more
    /// accurate than multiplying by the inverse.
    ///
    /// Pullback: `Ā = −A⁻ᵀ·X̄·A⁻ᵀ` (with the `0·∞ = 0` convention). A singular `A`, or one
    /// with a NaN or infinite entry, gives all-NaN values and partials.
    ///
    /// # Panics
    /// If the matrix is not square (its shape in the message), or holds variables of another
    /// scope.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// use adroit_reverse::matrix;
    /// // Σ (A⁻¹)ᵢⱼ for A = diag(2, 4): 0.75, gradient −A⁻ᵀ·1·1ᵀ·A⁻ᵀ.
    /// let (value, grads) =
    ///     matrix::value_and_gradient(|m| m[0].inverse().sum(), &[dmatrix![2.0, 0.0; 0.0, 4.0]]);
    /// assert_eq!(value, 0.75);
    /// assert_eq!(grads[0], dmatrix![-0.25, -0.125; -0.125, -0.0625]);
    /// ```
    #[track_caller]
    pub fn inverse(self) -> Self {
        assert_square("inverse", self.shape());
        let a_index = self.index();
        self.unary_op(|a| {
            let n = a.nrows();
            let x = Factors::of(a)
                .solve(&DMatrix::identity(n, n))
                .unwrap_or_else(|| DMatrix::from_element(n, n, T::undefined()));
            let backward = Inverse {
                a: a_index,
                x: pool::copy(&x),
            };
            (x, Box::new(backward))
        })
    }

    /// `ln|det A|` of a square matrix, `1 × 1` (NumPy's and JAX's `slogdet`, its second part;
    /// Zygote's `logabsdet`), as `Σ ln|Uᵢᵢ|` of the LU factorisation, so that it neither
    /// overflows nor underflows where `det A` would. `0` for a `0 × 0` matrix.
    ///
    /// Pullback: `Ā = ḡ·A⁻ᵀ` (two triangular solves per column with the saved factors, once:
    /// a [`pullback`](crate::matrix::pullback) called again reuses `A⁻ᵀ`; none for a zero
    /// cotangent, which contributes nothing). A singular `A` gives `−∞` and NaN
    /// partials, one with a NaN or infinite entry NaN.
    ///
    /// # Panics
    /// If the matrix is not square (its shape in the message), or holds variables of another
    /// scope.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// use adroit_reverse::matrix;
    /// // ln|det [[0, 2], [−3, 1]]| = ln 6; gradient A⁻ᵀ.
    /// let a = dmatrix![0.0, 2.0; -3.0, 1.0];
    /// let (value, grads) = matrix::value_and_gradient(|m| m[0].logabsdet(), &[a.clone()]);
    /// assert!((value - 6.0_f64.ln()).abs() < 1e-15);
    /// let expected = a.try_inverse().unwrap().transpose();
    /// assert!((&grads[0] - expected).abs().max() < 1e-15);
    /// ```
    #[track_caller]
    pub fn logabsdet(self) -> Self {
        assert_square("logabsdet", self.shape());
        let a_index = self.index();
        self.unary_op(|a| {
            let factors = Factors::of(a);
            let value = factors.log_abs_det();
            let backward = LogAbsDet {
                a: a_index,
                factors,
                inverse_t: OnceCell::new(),
            };
            (DMatrix::from_element(1, 1, value), Box::new(backward))
        })
    }
}
