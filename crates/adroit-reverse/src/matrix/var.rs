//! [`MatVar`]: a tracked matrix, a `Copy` handle to a node of the thread's matrix tape.

use super::MatScalar;
use super::tape::{Backward, UnwrapStale};
use nalgebra::DMatrix;
use std::fmt;

/// A tracked matrix: the handle of one node (an input, a constant or the result of a
/// whole-matrix operation) on the matrix tape of the scope that created it.
///
/// Operations on `MatVar`s ([`matmul`](Self::matmul) or `*`, `+`/`-` and
/// [`component_mul`](Self::component_mul) with broadcasting, [`map`](Self::map), reductions,
/// [`softmax`](Self::softmax), ...) each record one node whose backward rule works on whole
/// matrices, like Zygote's array rules. Shapes are checked when an operation is recorded; a
/// mismatch panics with both shapes in the message.
///
/// `MatVar`s exist only inside the closure passed to [`gradient`](super::gradient),
/// [`value_and_gradient`](super::value_and_gradient), [`pullback`](super::pullback) (or
/// another differentiation call) or [`evaluate`](super::evaluate); using one elsewhere
/// panics.
///
/// # Example
/// ```
/// use adroit_reverse::nalgebra;
/// use adroit_reverse::matrix;
/// use adroit_reverse::nalgebra::dmatrix;
/// // ∂/∂W Σ (W x)ᵢ² = 2 (W x) xᵀ
/// let w = dmatrix![1.0, 2.0; 3.0, 4.0];
/// let x = dmatrix![1.0; 1.0];
/// let g = matrix::gradient(
///     |p| {
///         let y = p[0] * matrix::MatVar::constant(x.clone());
///         y.component_mul(y).sum()
///     },
///     &[w],
/// );
/// assert_eq!(g[0], dmatrix![6.0, 6.0; 14.0, 14.0]);
/// ```
#[derive(Clone, Copy)]
pub struct MatVar<T> {
    index: u32,
    tape: u64,
    rows: usize,
    cols: usize,
    _element: std::marker::PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for MatVar<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MatVar({}×{}, node {} of tape #{})",
            self.rows, self.cols, self.index, self.tape
        )
    }
}

impl<T: MatScalar> MatVar<T> {
    pub(crate) fn new(index: u32, tape: u64, (rows, cols): (usize, usize)) -> Self {
        Self {
            index,
            tape,
            rows,
            cols,
            _element: std::marker::PhantomData,
        }
    }

    pub(crate) fn index(&self) -> u32 {
        self.index
    }

    pub(crate) fn tape_id(&self) -> u64 {
        self.tape
    }

    /// A constant matrix on the active tape (not differentiated).
    ///
    /// # Panics
    /// Outside every matrix recording: a [`gradient`](super::gradient),
    /// [`pullback`](super::pullback) or other differentiation call, or
    /// [`evaluate`](super::evaluate) (matrix code run for its value alone). The message names
    /// the caller's line.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix::{self, MatVar};
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // ∂/∂A sum((A − C) ⊙ (A − C)) = 2(A − C); C gets no gradient
    /// let c = dmatrix![1.0, 1.0];
    /// let g = matrix::gradient(
    ///     |m| {
    ///         let d = m[0] - MatVar::constant(c.clone());
    ///         d.component_mul(d).sum()
    ///     },
    ///     &[dmatrix![3.0, 1.0]],
    /// );
    /// assert_eq!(g[0], dmatrix![4.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn constant(value: DMatrix<T>) -> Self {
        let recorded = T::with_mat_tapes(|stack| {
            let tape = stack.active();
            (tape.id() != 0).then(|| tape.leaf(value, false))
        });
        // Out here, not in a closure, so that the panic names the caller's line.
        match recorded {
            Some(var) => var,
            None => panic!(
                "adroit-reverse: MatVar::constant called outside every matrix recording: \
                 matrix code runs inside matrix::gradient, matrix::pullback (or another \
                 differentiation call), or matrix::evaluate for its value alone"
            ),
        }
    }

    /// `(rows, cols)`.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix::{self, MatVar};
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// let g = matrix::gradient(
    ///     |m| {
    ///         assert_eq!((m[0].shape(), m[0].transpose().shape()), ((2, 3), (3, 2)));
    ///         m[0].sum()
    ///     },
    ///     &[nalgebra::DMatrix::<f64>::zeros(2, 3)],
    /// );
    /// assert_eq!(g[0].shape(), (2, 3));
    /// ```
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// Number of rows.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix::{self, Along};
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// let g = matrix::gradient(
    ///     |m| {
    ///         assert_eq!((m[0].nrows(), m[0].sum_along(Along::Cols).nrows()), (2, 2));
    ///         m[0].sum()
    ///     },
    ///     &[nalgebra::DMatrix::<f64>::zeros(2, 3)],
    /// );
    /// assert_eq!(g[0].nrows(), 2);
    /// ```
    pub fn nrows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix::{self, Along};
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// let g = matrix::gradient(
    ///     |m| {
    ///         assert_eq!((m[0].ncols(), m[0].sum_along(Along::Cols).ncols()), (3, 1));
    ///         m[0].sum()
    ///     },
    ///     &[nalgebra::DMatrix::<f64>::zeros(2, 3)],
    /// );
    /// assert_eq!(g[0].ncols(), 3);
    /// ```
    pub fn ncols(&self) -> usize {
        self.cols
    }

    /// A copy of the value.
    ///
    /// # Panics
    /// If the variable is stale: recorded in a gradient or pullback call that has returned, or
    /// on another thread's tape (see [`MatVar`]).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix::{self, MatVar};
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // A ⊙ A with one factor frozen through its value: gradient A, not 2A
    /// let a = dmatrix![1.0, -2.0; 3.0, 0.5];
    /// let g = matrix::gradient(
    ///     |m| {
    ///         assert_eq!(m[0].value(), a);
    ///         m[0].component_mul(MatVar::constant(m[0].value())).sum()
    ///     },
    ///     &[a.clone()],
    /// );
    /// assert_eq!(g[0], a);
    /// ```
    #[track_caller]
    pub fn value(&self) -> DMatrix<T> {
        let value = T::with_mat_tapes(|stack| {
            let tape = stack.active();
            tape.stale_among(std::slice::from_ref(self))?;
            Ok(tape.value(self).clone())
        });
        value.unwrap_or_else_stale()
    }

    /// The value of a 1 × 1 matrix (a scalar loss).
    ///
    /// # Panics
    /// If the shape is not 1 × 1, or the variable is stale (as [`value`](Self::value)).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix::{self, MatVar};
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// let g = matrix::gradient(
    ///     |m| {
    ///         let loss = m[0].sum();
    ///         assert_eq!(loss.scalar(), 10.0);
    ///         loss
    ///     },
    ///     &[dmatrix![1.0, 2.0; 3.0, 4.0]],
    /// );
    /// assert_eq!(g[0], dmatrix![1.0, 1.0; 1.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn scalar(&self) -> T {
        assert!(
            self.shape() == (1, 1),
            "MatVar::scalar needs a 1×1 matrix, not {}×{}",
            self.rows,
            self.cols
        );
        // Read in place: `value` would copy the matrix (an allocation per call).
        let value = T::with_mat_tapes(|stack| {
            let tape = stack.active();
            tape.stale_among(std::slice::from_ref(self))?;
            Ok(tape.value(self)[(0, 0)])
        });
        value.unwrap_or_else_stale()
    }

    /// Records `forward(value)` as a node with parent `self`.
    #[track_caller]
    pub(crate) fn unary_op(
        self,
        forward: impl FnOnce(&DMatrix<T>) -> (DMatrix<T>, Box<dyn Backward<T>>),
    ) -> Self {
        // The user's line, for `detect_anomaly` (a location does not pass into closures).
        let at = std::panic::Location::caller();
        let recorded = T::with_mat_tapes(|stack| {
            let tape = stack.active();
            tape.stale_among(&[self])?;
            let (value, backward) = forward(tape.value(&self));
            Ok(tape.record(at, &[self], value, backward))
        });
        recorded.unwrap_or_else_stale()
    }

    /// Records `forward(values)` as a node whose parents are `inputs`.
    #[track_caller]
    pub(crate) fn nary_op<const K: usize>(
        inputs: [Self; K],
        forward: impl FnOnce([&DMatrix<T>; K]) -> (DMatrix<T>, Box<dyn Backward<T>>),
    ) -> Self {
        // The user's line, for `detect_anomaly` (a location does not pass into closures).
        let at = std::panic::Location::caller();
        let recorded = T::with_mat_tapes(|stack| {
            let tape = stack.active();
            tape.stale_among(&inputs)?;
            let (value, backward) = forward(inputs.each_ref().map(|x| tape.value(x)));
            Ok(tape.record(at, &inputs, value, backward))
        });
        recorded.unwrap_or_else_stale()
    }

    /// Records `forward(value, other value)` as a node with parents `self` and `other`.
    #[track_caller]
    pub(crate) fn binary_op(
        self,
        other: Self,
        forward: impl FnOnce(&DMatrix<T>, &DMatrix<T>) -> (DMatrix<T>, Box<dyn Backward<T>>),
    ) -> Self {
        // The user's line, for `detect_anomaly` (a location does not pass into closures).
        let at = std::panic::Location::caller();
        let recorded = T::with_mat_tapes(|stack| {
            let tape = stack.active();
            tape.stale_among(&[self, other])?;
            let (value, backward) = forward(tape.value(&self), tape.value(&other));
            Ok(tape.record(at, &[self, other], value, backward))
        });
        recorded.unwrap_or_else_stale()
    }
}

/// Panics, naming the operation and its two factors' shapes, if a `rows × cols` result of `T`
/// would have more entries than `usize` counts or more bytes than an allocation can hold:
/// reachable without the memory only through a product of empty operands (`m × 0` times
/// `0 × n`), which hold no entries yet can name any dimensions, so `matmul` and `affine` check
/// here first. nalgebra's constructors do not check the product of the dimensions (a wrapped
/// one gives a matrix that indexes past its buffer). A countable result too large for the
/// machine's memory fails as any allocation does.
#[track_caller]
pub(crate) fn assert_countable<T>(
    name: &str,
    (rows, cols): (usize, usize),
    (a, b): ((usize, usize), (usize, usize)),
) {
    let bytes = rows
        .checked_mul(cols)
        .and_then(|n| n.checked_mul(size_of::<T>()));
    // The message is formatted only on failure: this runs on every product.
    assert!(
        bytes.is_some_and(|b| b <= isize::MAX as usize),
        "{name}: the {rows}×{cols} result of {} · {} has more entries than usize can count",
        shape_str(a),
        shape_str(b)
    );
}

/// Formats a shape as `rows×cols` for error messages.
pub(crate) fn shape_str((r, c): (usize, usize)) -> String {
    format!("{r}×{c}")
}
