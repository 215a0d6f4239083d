//! `logsumexp`, `softmax` and `logsoftmax` along a dimension, numerically stable (the maximum
//! is subtracted before exponentiating, so logits of ±1000 give no overflow or NaN).

use super::Along;
use super::reduce::{broadcast, sum_along};
use crate::matrix::tape::{Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;
use num_traits::Float;

/// Softmax and log-sum-exp of every column (`Along::Rows`) or row (`Along::Cols`).
fn softmax_lse<T: MatScalar>(x: &DMatrix<T>, along: Along) -> (DMatrix<T>, DMatrix<T>) {
    match along {
        Along::Rows => {
            let mut soft = x.clone();
            // An empty line has lse = ln 0 = −∞ (and no softmax entries).
            let mut lse = DMatrix::from_element(1, x.ncols(), T::neg_infinity());
            let rows = x.nrows().max(1);
            let columns = soft.as_mut_slice().chunks_exact_mut(rows);
            for (col, l) in columns.zip(lse.as_mut_slice()) {
                let max = col
                    .iter()
                    .fold(T::neg_infinity(), |m, &v| if v > m { v } else { m });
                // An all −∞ (or empty) column keeps lse = −∞ instead of producing NaN here.
                let shift = if max.is_finite() { max } else { T::zero() };
                let mut total = T::zero();
                for v in col.iter_mut() {
                    *v = Float::exp(*v - shift);
                    total += *v;
                }
                for v in col.iter_mut() {
                    *v /= total;
                }
                *l = shift + Float::ln(total);
            }
            (soft, lse)
        }
        Along::Cols => {
            let (soft, lse) = softmax_lse(&x.transpose(), Along::Rows);
            (soft.transpose(), lse.transpose())
        }
    }
}

/// Backward of `logsumexp`: `∂x = softmax(x) ⊙ G` (G repeated along the dimension). Saves the
/// softmax.
struct LogSumExp<T> {
    a: u32,
    softmax: DMatrix<T>,
}

impl<T: MatScalar> Backward<T> for LogSumExp<T> {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        grads.accumulate(
            self.a,
            broadcast(&g, self.softmax.shape()).component_mul(&self.softmax),
        );
    }
}

/// Backward of `softmax`: `∂x = s ⊙ (G − Σ_along(G ⊙ s))`. Saves the output `s`.
struct Softmax<T> {
    a: u32,
    along: Along,
    softmax: DMatrix<T>,
}

impl<T: MatScalar> Backward<T> for Softmax<T> {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        let inner = sum_along(&g.component_mul(&self.softmax), self.along);
        let centred = &g - broadcast(&inner, g.shape());
        grads.accumulate(self.a, centred.component_mul(&self.softmax));
    }
}

/// Backward of `logsoftmax`: `∂x = G − softmax(x) ⊙ Σ_along G`. Saves the softmax.
struct LogSoftmax<T> {
    a: u32,
    along: Along,
    softmax: DMatrix<T>,
}

impl<T: MatScalar> Backward<T> for LogSoftmax<T> {
    fn backward(&self, mut g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        match self.along {
            Along::Rows => {
                // Column by column, in `g`'s buffer: g − s·Σ g.
                let rows = g.nrows().max(1);
                let columns = g.as_mut_slice().chunks_exact_mut(rows);
                for (column, s) in columns.zip(self.softmax.as_slice().chunks_exact(rows)) {
                    let total = column.iter().fold(T::zero(), |t, &v| t + v);
                    column.iter_mut().zip(s).for_each(|(v, &p)| *v -= p * total);
                }
                grads.accumulate(self.a, g);
            }
            Along::Cols => {
                let total = broadcast(&sum_along(&g, self.along), g.shape());
                grads.accumulate(self.a, g - total.component_mul(&self.softmax));
            }
        }
    }
}

impl<T: MatScalar> MatVar<T> {
    /// `log Σ exp(x)` along a dimension: `1 × cols` for [`Along::Rows`], `rows × 1` for
    /// [`Along::Cols`]. Stable for large logits; `−∞` for a line of `−∞`.
    #[track_caller]
    pub fn logsumexp(self, along: Along) -> Self {
        let a = self.index();
        self.unary_op(|x| {
            let (softmax, lse) = softmax_lse(x, along);
            (lse, Box::new(LogSumExp { a, softmax }))
        })
    }

    /// `exp(xᵢ) / Σⱼ exp(xⱼ)` along a dimension (each column sums to 1 for [`Along::Rows`]).
    /// Stable for large logits.
    #[track_caller]
    pub fn softmax(self, along: Along) -> Self {
        let a = self.index();
        self.unary_op(|x| {
            let (softmax, _) = softmax_lse(x, along);
            (softmax.clone(), Box::new(Softmax { a, along, softmax }))
        })
    }

    /// `xᵢ − log Σⱼ exp(xⱼ)` along a dimension; stable (finite for logits of ±1000).
    #[track_caller]
    pub fn logsoftmax(self, along: Along) -> Self {
        let a = self.index();
        self.unary_op(|x| {
            let (softmax, lse) = softmax_lse(x, along);
            let mut out = x.clone();
            match along {
                Along::Rows => {
                    for (mut column, &l) in out.column_iter_mut().zip(lse.iter()) {
                        column.add_scalar_mut(-l);
                    }
                }
                Along::Cols => out -= broadcast(&lse, x.shape()),
            }
            (out, Box::new(LogSoftmax { a, along, softmax }))
        })
    }
}
