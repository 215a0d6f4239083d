//! Triangular systems `T·X = B` and `Tᵀ·X = B` as nodes (with a Cholesky factor: `A⁻¹·B` and
//! whitening), by substitution (nalgebra's triangular solves) below 64 rows, blocked above, with
//! most of the work on the product kernel (`matrix::triangular`, where its accuracy at
//! ill-conditioned matrices is measured).

use super::linear_solve::{assert_system, undefined_where_nonzero};
use crate::matrix::gemm::{Operand, pullback_product};
use crate::matrix::tape::{Backward, Grads};
use crate::matrix::triangular::solve_triangular;
use crate::matrix::value::NodeValue;
use crate::matrix::{MatScalar, MatVar, pool};
use nalgebra::DMatrix;

/// Which triangle of the matrix is read, and whether it is applied transposed.
#[derive(Clone, Copy)]
struct Form {
    lower: bool,
    transposed: bool,
}

impl Form {
    /// `op(T)⁻¹·B` for `op` the identity or the transpose, reading `T`'s triangle only;
    /// `None` at a zero or NaN diagonal entry.
    fn solve<T: MatScalar>(self, t: &DMatrix<T>, b: &DMatrix<T>) -> Option<DMatrix<T>> {
        solve_triangular(t, self.lower, self.transposed, b)
    }

    /// The same form with the transpose toggled: `op(T)⁻ᵀ`.
    fn adjoint(self) -> Self {
        Self {
            lower: self.lower,
            transposed: !self.transposed,
        }
    }

    /// `m` with the entries outside the triangle read set to zero.
    fn keep_triangle<T: MatScalar>(self, mut m: DMatrix<T>) -> DMatrix<T> {
        let n = m.nrows();
        for (j, column) in m.as_mut_slice().chunks_exact_mut(n.max(1)).enumerate() {
            if self.lower {
                column[..j.min(n)].fill(T::zero());
            } else if j + 1 < n {
                column[j + 1..].fill(T::zero());
            }
        }
        m
    }
}

/// Backward of `X = op(T)⁻¹·B`: `B̄ = op(T)⁻ᵀ·X̄`; `T̄ = −B̄·Xᵀ` for `op` the identity,
/// `−X·B̄ᵀ` for the transpose, kept to the triangle read (Giles 2008, as for a general solve).
struct TriangularSolve<T> {
    t: u32,
    b: u32,
    form: Form,
    matrix: DMatrix<T>,
    x: DMatrix<T>,
}

impl<T: MatScalar> Backward<T> for TriangularSolve<T> {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        if !(grads.wants(self.t) || grads.wants(self.b)) {
            return pool::recycle(g);
        }
        let b_bar = self
            .form
            .adjoint()
            .solve(&self.matrix, &g)
            .map(|mut b_bar| {
                // A zero cotangent column contributes nothing, also where substitution met an
                // infinite entry of T (0·∞; a review).
                for (j, column) in g.column_iter().enumerate() {
                    if column.iter().all(|v| v.is_zero()) {
                        b_bar.column_mut(j).fill(T::zero());
                    }
                }
                b_bar
            })
            .unwrap_or_else(|| undefined_where_nonzero(&g));
        pool::recycle(g);
        if grads.wants(self.t) {
            let mut t_bar = if self.form.transposed {
                pullback_product(Operand::plain(&self.x), Operand::transposed(&b_bar))
            } else {
                pullback_product(Operand::plain(&b_bar), Operand::transposed(&self.x))
            };
            t_bar.neg_mut();
            grads.accumulate(self.t, self.form.keep_triangle(t_bar));
        }
        grads.accumulate(self.b, b_bar);
    }
}

impl<T: MatScalar> MatVar<T> {
    /// Records `op(self)⁻¹·b` for the triangle and form given.
    #[track_caller]
    fn triangular_solve(self, b: Self, form: Form, name: &str) -> Self {
        let letter = if form.lower { 'L' } else { 'U' };
        assert_system(name, letter, self.shape(), b.shape());
        let (t_index, b_index) = (self.index(), b.index());
        self.binary_op(b, |t, rhs| {
            let x = form
                .solve(t, rhs)
                .unwrap_or_else(|| DMatrix::from_element(rhs.nrows(), rhs.ncols(), T::undefined()));
            let backward = TriangularSolve {
                t: t_index,
                b: b_index,
                form,
                matrix: pool::copy(t),
                x: pool::copy(&x),
            };
            (x, Box::new(backward))
        })
    }

    /// `X = L⁻¹·B` for `self` = `L`, `n × n`, of which only the lower triangle (diagonal
    /// included) is read — a [`cholesky`](Self::cholesky) factor, say; `b` is `n × k`, the
    /// result `n × k`. Forward substitution (nalgebra's `solve_lower_triangular` below 64 rows,
    /// blocked above: see the module docs; SciPy's and JAX's `solve_triangular(lower=True)`).
    /// Infinite or NaN entries propagate as substitution's (`0·∞ = NaN` in its terms), but a
    /// zero cotangent column still contributes nothing.
    ///
    /// Pullback: `B̄ = L⁻ᵀ·X̄`, `L̄ = −tril(B̄·Xᵀ)` (Giles 2008; zero above the diagonal, which is
    /// not read). A zero (or NaN) diagonal entry gives all-NaN values, NaN partials in `B̄` for
    /// every non-zero cotangent column (a zero one contributes nothing), as [`solve`](Self::solve),
    /// and NaN in `L̄`'s whole triangle unless the cotangent is all zero. An infinite diagonal
    /// entry is not an error: the substitution's result is passed on (its row of `X` is 0).
    ///
    /// # Panics
    /// If `L` is not square or `b` has not `n` rows (both shapes in the message), or either
    /// holds variables of another scope.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// use adroit_reverse::matrix;
    /// // L = [[2, 0], [1, 1]], b = (2, 3): x = (1, 2); the upper entry 9 is not read.
    /// let (x, _) = matrix::pullback(
    ///     |m| m[0].solve_lower_triangular(m[1]),
    ///     &[dmatrix![2.0, 9.0; 1.0, 1.0], dmatrix![2.0; 3.0]],
    /// );
    /// assert_eq!(x, dmatrix![1.0; 2.0]);
    /// ```
    #[track_caller]
    pub fn solve_lower_triangular(self, b: Self) -> Self {
        let form = Form {
            lower: true,
            transposed: false,
        };
        self.triangular_solve(b, form, "solve_lower_triangular")
    }

    /// `X = L⁻ᵀ·B`, the solution of `Lᵀ·X = B`, for `self` = `L` (`n × n`, lower triangle read,
    /// diagonal included); `b` and the result `n × k`. Back substitution with the transpose
    /// (nalgebra's `tr_solve_lower_triangular`; SciPy's `solve_triangular(lower=True,
    /// trans='T')`). With a Cholesky factor `L` of `A`, `A⁻¹·B` is
    /// `L.tr_solve_lower_triangular(L.solve_lower_triangular(B))`.
    ///
    /// Pullback: `B̄ = L⁻¹·X̄`, `L̄ = −tril(X·B̄ᵀ)`; a zero diagonal entry as in
    /// [`solve_lower_triangular`](Self::solve_lower_triangular).
    ///
    /// # Panics
    /// If `L` is not square or `b` has not `n` rows (both shapes in the message), or either
    /// holds variables of another scope.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// use adroit_reverse::matrix;
    /// // Lᵀ = [[2, 1], [0, 1]], b = (4, 2): x = (1, 2).
    /// let (x, _) = matrix::pullback(
    ///     |m| m[0].tr_solve_lower_triangular(m[1]),
    ///     &[dmatrix![2.0, 0.0; 1.0, 1.0], dmatrix![4.0; 2.0]],
    /// );
    /// assert_eq!(x, dmatrix![1.0; 2.0]);
    /// ```
    #[track_caller]
    pub fn tr_solve_lower_triangular(self, b: Self) -> Self {
        let form = Form {
            lower: true,
            transposed: true,
        };
        self.triangular_solve(b, form, "tr_solve_lower_triangular")
    }

    /// `X = A⁻¹·B` from a Cholesky factor `self` = `L` of `A = L·Lᵀ` (`n × n`, lower triangle
    /// read, as [`cholesky`](Self::cholesky) returns it); `b` and the result `n × k`. The
    /// forward and the back substitution,
    /// `L.tr_solve_lower_triangular(L.solve_lower_triangular(B))` (JAX's
    /// `cho_solve((L, True), B)`, PyTorch's `cholesky_solve(B, L)`), each with its own pullback
    /// (see [`solve_lower_triangular`](Self::solve_lower_triangular)); `L̄` is lower
    /// triangular.
    ///
    /// # Panics
    /// If `L` is not square or `b` has not `n` rows (both shapes in the message), or either
    /// holds variables of another scope.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// use adroit_reverse::matrix;
    /// // A = [[4, 2], [2, 2]] = L·Lᵀ with L = [[2, 0], [1, 1]]; A·(1, 1) = (6, 4).
    /// let (x, _) = matrix::pullback(
    ///     |m| m[0].cholesky().expect("positive definite").cholesky_solve(m[1]),
    ///     &[dmatrix![4.0, 2.0; 2.0, 2.0], dmatrix![6.0; 4.0]],
    /// );
    /// assert!((x - dmatrix![1.0; 1.0]).amax() < 1e-15);
    /// ```
    #[track_caller]
    pub fn cholesky_solve(self, b: Self) -> Self {
        let (forward, back) = (
            Form {
                lower: true,
                transposed: false,
            },
            Form {
                lower: true,
                transposed: true,
            },
        );
        let z = self.triangular_solve(b, forward, "cholesky_solve");
        self.triangular_solve(z, back, "cholesky_solve")
    }

    /// `X = U⁻¹·B` for `self` = `U`, `n × n`, of which only the upper triangle (diagonal
    /// included) is read; `b` and the result `n × k` (nalgebra's `solve_upper_triangular`).
    ///
    /// Pullback: `B̄ = U⁻ᵀ·X̄`, `Ū = −triu(B̄·Xᵀ)`; a zero diagonal entry as in
    /// [`solve_lower_triangular`](Self::solve_lower_triangular).
    ///
    /// # Panics
    /// If `U` is not square or `b` has not `n` rows (both shapes in the message), or either
    /// holds variables of another scope.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// use adroit_reverse::matrix;
    /// // U = [[2, 1], [0, 1]], b = (4, 2): x = (1, 2); the lower entry 7 is not read.
    /// let (x, _) = matrix::pullback(
    ///     |m| m[0].solve_upper_triangular(m[1]),
    ///     &[dmatrix![2.0, 1.0; 7.0, 1.0], dmatrix![4.0; 2.0]],
    /// );
    /// assert_eq!(x, dmatrix![1.0; 2.0]);
    /// ```
    #[track_caller]
    pub fn solve_upper_triangular(self, b: Self) -> Self {
        let form = Form {
            lower: false,
            transposed: false,
        };
        self.triangular_solve(b, form, "solve_upper_triangular")
    }

    /// `X = U⁻ᵀ·B`, the solution of `Uᵀ·X = B`, for `self` = `U` (`n × n`, upper triangle
    /// read); `b` and the result `n × k` (nalgebra's `tr_solve_upper_triangular`).
    ///
    /// Pullback: `B̄ = U⁻¹·X̄`, `Ū = −triu(X·B̄ᵀ)`; a zero diagonal entry as in
    /// [`solve_lower_triangular`](Self::solve_lower_triangular).
    ///
    /// # Panics
    /// If `U` is not square or `b` has not `n` rows (both shapes in the message), or either
    /// holds variables of another scope.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// use adroit_reverse::matrix;
    /// // Uᵀ = [[2, 0], [1, 1]], b = (2, 3): x = (1, 2).
    /// let (x, _) = matrix::pullback(
    ///     |m| m[0].tr_solve_upper_triangular(m[1]),
    ///     &[dmatrix![2.0, 1.0; 0.0, 1.0], dmatrix![2.0; 3.0]],
    /// );
    /// assert_eq!(x, dmatrix![1.0; 2.0]);
    /// ```
    #[track_caller]
    pub fn tr_solve_upper_triangular(self, b: Self) -> Self {
        let form = Form {
            lower: false,
            transposed: true,
        };
        self.triangular_solve(b, form, "tr_solve_upper_triangular")
    }
}
