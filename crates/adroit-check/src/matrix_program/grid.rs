//! The scalar reference's matrices: plain column-major storage of any `Float`.

use adroit_reverse::matrix::Along;
use num_traits::Float;

/// A column-major matrix of scalars (nalgebra's `DMatrix` needs its scalar trait, which
/// `Var<T>` has only for `f32`/`f64`; plain storage keeps this generic over any `Float`).
#[derive(Clone, Debug)]
pub(super) struct Grid<S> {
    /// Rows.
    pub(super) rows: usize,
    /// Columns.
    pub(super) cols: usize,
    /// The entries, column-major.
    pub(super) data: Vec<S>,
}

impl<S: Float> Grid<S> {
    pub(super) fn from_fn(rows: usize, cols: usize, f: impl FnMut(usize, usize) -> S) -> Self {
        let mut f = f;
        let data = (0..cols)
            .flat_map(|j| (0..rows).map(move |i| (i, j)))
            .map(|(i, j)| f(i, j))
            .collect();
        Self { rows, cols, data }
    }

    /// The `n × n` identity.
    pub(super) fn identity(n: usize) -> Self {
        Self::from_fn(n, n, |i, j| if i == j { S::one() } else { S::zero() })
    }

    pub(super) fn at(&self, i: usize, j: usize) -> S {
        self.data[j * self.rows + i]
    }

    /// Entry `(i, j)` of this operand broadcast to a larger shape.
    pub(super) fn broadcast_at(&self, i: usize, j: usize) -> S {
        self.at(
            if self.rows == 1 { 0 } else { i },
            if self.cols == 1 { 0 } else { j },
        )
    }

    pub(super) fn map(&self, f: impl Fn(S) -> S) -> Self {
        Self {
            rows: self.rows,
            cols: self.cols,
            data: self.data.iter().map(|&v| f(v)).collect(),
        }
    }

    /// The lines along `along` (columns for `Along::Rows`), each as a list of positions.
    pub(super) fn lines(&self, along: Along) -> Vec<Vec<(usize, usize)>> {
        match along {
            Along::Rows => (0..self.cols)
                .map(|j| (0..self.rows).map(|i| (i, j)).collect())
                .collect(),
            Along::Cols => (0..self.rows)
                .map(|i| (0..self.cols).map(|j| (i, j)).collect())
                .collect(),
        }
    }
}
