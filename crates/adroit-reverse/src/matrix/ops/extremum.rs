//! Maxima and minima, over all entries or along a dimension, with the cotangent shared equally
//! among tied entries.

use super::reduce::Weighted;
use super::{Along, Partial};
use crate::matrix::{MatScalar, MatVar, all_finite, pool};
use nalgebra::DMatrix;

/// Which extremum a reduction takes.
#[derive(Clone, Copy)]
enum Pick {
    Max,
    Min,
}

impl Pick {
    /// The extremum of `line`: NaN if an entry is NaN, `−∞` for a max and `+∞` for a min of
    /// no entries.
    fn best<T: MatScalar>(self, mut line: impl Iterator<Item = T>) -> T {
        // From the first entry, not the identity `∓∞`: a lone `−∞` (max) or `+∞` (min) keeps
        // its own perturbations (a dual's tangent; the identity's would be 0).
        let Some(mut best) = line.next() else {
            return match self {
                Pick::Max => T::neg_infinity(),
                Pick::Min => T::infinity(),
            };
        };
        // Selects, not branches (a max pool's windows are short and their entries in no
        // order, so branches would mispredict); NaN anywhere makes the result undefined.
        let mut nan = best.is_nan();
        for v in line {
            nan |= v.is_nan();
            // Of a ±0 tie, +0 is the max and −0 the min, in either order (as JAX).
            let better = match self {
                Pick::Max => {
                    (v > best) | ((v == best) & best.is_sign_negative() & !v.is_sign_negative())
                }
                Pick::Min => {
                    (v < best) | ((v == best) & !best.is_sign_negative() & v.is_sign_negative())
                }
            };
            best = if better { v } else { best };
        }
        if nan {
            // NaN in every part: its derivatives of every order are undefined too.
            T::undefined()
        } else {
            best
        }
    }

    /// The extremum of `line` (see [`best`](Self::best)) and the share of its cotangent each
    /// entry equal to it gets (NaN entries when it is NaN; see [`chosen`]): `1/k` for `k` such
    /// entries.
    fn reduce<T: MatScalar>(self, line: impl Iterator<Item = T> + Clone) -> (T, T) {
        let best = self.best(line.clone());
        let count = line.clone().filter(|&v| chosen(v, best)).count();
        let share = share_of(count);
        let value = if count > 1 {
            tie_mean(line, best, share)
        } else {
            best
        };
        (value, share)
    }

    /// [`reduce`](Self::reduce) of one stored line, its share written to `weights` at the
    /// entries equal to the extremum and 0 elsewhere: one pass after the extremum's (the
    /// short columns of a max pool's windows, many of them).
    fn reduce_into<T: MatScalar>(self, line: &[T], weights: &mut [T]) -> T {
        let best = self.best(line.iter().copied());
        let mut count = 0;
        for (w, &v) in weights.iter_mut().zip(line) {
            let hit = chosen(v, best);
            count += usize::from(hit);
            *w = if hit { T::one() } else { T::zero() };
        }
        if count <= 1 {
            return best;
        }
        let share = share_of(count);
        for w in weights.iter_mut() {
            *w *= share;
        }
        tie_mean(line.iter().copied(), best, share)
    }
}

/// `1/count`, the cotangent's share of each of `count` tied entries (0 for none).
fn share_of<T: MatScalar>(count: usize) -> T {
    match count {
        0 => T::zero(),
        1 => T::one(),
        _ => T::one() / T::from_usize(count).unwrap_or_else(T::nan),
    }
}

/// `best` with its perturbations the mean of the tied entries' (`best + Σ share·(v − best)`,
/// each difference's value taken as 0), so that the value's derivative is the pullback's,
/// `1/k` per tied entry — on duals (under `matrix::hvp`/`hessian`) the first entry's tangent
/// alone made the Hessian of `max(x)²` at a tie `[[1, 0], [1, 0]]`, not symmetric. On plain
/// floats every such difference is `0` and nothing is added. The value is `best`'s, its sign of
/// zero included. At an infinite tie too, where the values' difference `∞ − ∞` is NaN but the
/// tangents' is defined: the tangent of `max` over `(∞, ∞)` with tangents `(1, 2)` is 1.5, as
/// JAX's `jvp` of `jnp.max`. Where that sum's tangents are not finite (a tied tangent infinite
/// or NaN, or differences that overflow) the tangents are summed directly, `Σ share·t`: `∞`
/// for tangents `(∞, 1)` or `(∞, ∞)`, NaN for `(∞, −∞)`, 0 for `(MAX, −MAX)`; for a
/// multi-direction dual, all its directions so, the finite ones then rounded as that sum rounds
/// (`Σ 0.1·1` over ten ties is `1 − ε/2`, not 1). An undefined extremum (NaN) stays NaN in
/// every part.
fn tie_mean<T: MatScalar>(line: impl Iterator<Item = T> + Clone, best: T, share: T) -> T {
    let tied = line.filter(move |&v| chosen(v, best));
    let mean = tied.clone().fold(best, |total, v| {
        let difference = (v - best).with_value_of(T::zero());
        if difference.is_zero() {
            total
        } else {
            total + difference * share
        }
    });
    // The tangents only: adding a difference of value +0 would turn a −0 extremum into +0.
    let mean = mean.with_value_of(best);
    // Its tangents alone (the value may be ±∞) checked in every part.
    if best.is_nan() || all_finite(&[mean.with_value_of(T::zero())]) {
        return mean;
    }
    let direct = tied.fold(T::zero(), |total, v| {
        total + v.with_value_of(T::zero()) * share
    });
    direct.with_value_of(best)
}

/// True when `v` is the extremum `best` (equal, or both NaN).
fn chosen<T: MatScalar>(v: T, best: T) -> bool {
    // `|` and `&`, not `||` and `&&`: no branch to mispredict on entries in no order.
    (v == best) | (v.is_nan() & best.is_nan())
}

/// The extrema of `x` (over all entries, or along a dimension: `1 × cols` for
/// [`Along::Rows`], `rows × 1` for [`Along::Cols`]) and the weights of the pullback (`x`'s
/// shape).
fn extrema<T: MatScalar>(
    x: &DMatrix<T>,
    along: Option<Along>,
    pick: Pick,
) -> (DMatrix<T>, DMatrix<T>) {
    let (rows, cols) = x.shape();
    let mut weights = pool::zeros(rows, cols);
    let out = match along {
        None => {
            let (best, share) = pick.reduce(x.iter().copied());
            for (w, &v) in weights.iter_mut().zip(x.iter()) {
                if chosen(v, best) {
                    *w = share;
                }
            }
            DMatrix::from_element(1, 1, best)
        }
        Some(Along::Rows) if rows > 0 => {
            // Column by column along the storage (many short columns: a max pool's windows).
            let mut out = DMatrix::from_element(1, cols, T::zero());
            let lines = x.as_slice().chunks_exact(rows);
            let shares = weights.as_mut_slice().chunks_exact_mut(rows);
            for ((line, w), o) in lines.zip(shares).zip(out.iter_mut()) {
                *o = pick.reduce_into(line, w);
            }
            out
        }
        Some(Along::Rows) => DMatrix::from_element(1, cols, pick.best(core::iter::empty())),
        Some(Along::Cols) => DMatrix::from_fn(rows, 1, |i, _| {
            let (best, share) = pick.reduce(x.row(i).iter().copied());
            for j in 0..cols {
                if chosen(x[(i, j)], best) {
                    weights[(i, j)] = share;
                }
            }
            best
        }),
    };
    (out, weights)
}

impl<T: MatScalar> MatVar<T> {
    #[track_caller]
    fn extremum(self, along: Option<Along>, pick: Pick) -> Self {
        let (a, shape) = (self.index(), self.shape());
        self.unary_op(|x| {
            let (out, weights) = extrema(x, along, pick);
            let weights = Partial::Matrix(weights);
            (out, Box::new(Weighted { a, shape, weights }))
        })
    }

    /// The largest entry, as a 1 × 1 matrix (JAX's `jnp.max`, PyTorch's `amax`): NaN if an
    /// entry is NaN, `−∞` for a matrix of no entries.
    ///
    /// Pullback: the cotangent goes to the largest entry, shared equally among tied ones (`1/k`
    /// each of `k`, as JAX's and PyTorch's `amax`; a chain of scalar `max` calls would give
    /// ½, ¼, ¼ instead); to the NaN entries when the result is NaN (JAX's gradient is NaN at
    /// every entry then; a chain of scalar `max` calls, as `f64::max`, passes over a NaN and
    /// gives the largest other entry, its cotangent there); nowhere for no entries.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    /// // two entries tie for the maximum 3: each gets half of the cotangent
    /// let (v, g) = matrix::value_and_gradient(|m| m[0].max(), &[dmatrix![3.0, 1.0; 2.0, 3.0]]);
    /// assert_eq!((v, g[0].clone()), (3.0, dmatrix![0.5, 0.0; 0.0, 0.5]));
    /// ```
    #[track_caller]
    pub fn max(self) -> Self {
        self.extremum(None, Pick::Max)
    }

    /// The smallest entry, as a 1 × 1 matrix (`+∞` for no entries); otherwise as
    /// [`max`](Self::max).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    /// let (v, g) = matrix::value_and_gradient(|m| m[0].min(), &[dmatrix![3.0, -1.0, 2.0]]);
    /// assert_eq!((v, g[0].clone()), (-1.0, dmatrix![0.0, 1.0, 0.0]));
    /// ```
    #[track_caller]
    pub fn min(self) -> Self {
        self.extremum(None, Pick::Min)
    }

    /// Maxima along a dimension: `1 × cols` for [`Along::Rows`] (each column's), `rows × 1`
    /// for [`Along::Cols`] (each row's); each line as [`max`](Self::max) (ties share its
    /// cotangent; `−∞` for a line of no entries).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix::{self, Along};
    /// use adroit_reverse::nalgebra::dmatrix;
    /// // each column's maximum (1 × 2); its cotangent flows to that entry
    /// let x = dmatrix![1.0, 5.0; 4.0, 2.0];
    /// let (y, pb) = matrix::pullback(|m| m[0].max_along(Along::Rows), &[x]);
    /// assert_eq!(y, dmatrix![4.0, 5.0]);
    /// assert_eq!(pb.call(&dmatrix![1.0, 2.0])[0], dmatrix![0.0, 2.0; 1.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn max_along(self, along: Along) -> Self {
        self.extremum(Some(along), Pick::Max)
    }

    /// Minima along a dimension (shapes as [`max_along`](Self::max_along); `+∞` for a line of
    /// no entries).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix::{self, Along};
    /// use adroit_reverse::nalgebra::dmatrix;
    /// // each row's minimum (2 × 1); the tie in the second row shares its cotangent
    /// let x = dmatrix![1.0, 5.0; 2.0, 2.0];
    /// let (y, pb) = matrix::pullback(|m| m[0].min_along(Along::Cols), &[x]);
    /// assert_eq!(y, dmatrix![1.0; 2.0]);
    /// assert_eq!(pb.call(&dmatrix![1.0; 1.0])[0], dmatrix![1.0, 0.0; 0.5, 0.5]);
    /// ```
    #[track_caller]
    pub fn min_along(self, along: Along) -> Self {
        self.extremum(Some(along), Pick::Min)
    }
}
