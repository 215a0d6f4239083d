//! Standardisation along one dimension, shared by [`LayerNorm`](crate::LayerNorm) (over each
//! sample's features), [`GroupNorm`](crate::GroupNorm) (over each image's groups of channels)
//! and [`BatchNorm`](crate::BatchNorm) (over each feature's batch).

use crate::NnError;
use adroit_reverse::matrix::{Along, MatScalar, MatVar};
use nalgebra::DMatrix;

/// `Err(InvalidConfig)` naming `name` (e.g. `"LayerNorm epsilon"`) unless `ε` is finite and
/// `≥ 0` (a negative one could make `σ² + ε` negative, its root NaN; PyTorch does not check).
pub(super) fn check_epsilon<T: MatScalar>(name: &'static str, epsilon: T) -> Result<(), NnError> {
    if epsilon >= T::zero() && epsilon.is_finite() {
        return Ok(());
    }
    Err(NnError::InvalidConfig {
        name,
        reason: format!("{epsilon:?} is not finite and ≥ 0"),
    })
}

/// `(x − μ)/√(σ² + ε)` with the mean `μ` and the biased variance `σ²` of `x` along `along`,
/// and the values of `μ` and `σ²` (`1 × cols` along [`Along::Rows`], `rows × 1` along
/// [`Along::Cols`]).
pub(super) struct Standardised<T: MatScalar> {
    /// `(x − μ)/√(σ² + ε)`, the shape of `x`.
    pub(super) output: MatVar<T>,
    /// `μ`'s value.
    pub(super) mean: DMatrix<T>,
    /// `σ²`'s value (∞ where the squared deviations overflow).
    pub(super) var: DMatrix<T>,
}

/// See [`Standardised`]. Where the squared deviations of a slice overflow `σ²` (a spread above
/// ~1.8e19 in `f32`, ~1e154 in `f64`; `σ² = ∞` would make the output 0 with zero gradients,
/// silently), the slices are standardised by [`rescaled`] instead: the same function, finite.
pub(super) fn standardise<T: MatScalar>(x: MatVar<T>, along: Along, epsilon: T) -> Standardised<T> {
    let mean = x.mean_along(along);
    let centred = x - mean;
    let var = centred.component_mul(centred).mean_along(along);
    let output = if var.value().iter().any(|v| v.is_infinite()) {
        rescaled(centred, along, epsilon)
    } else {
        centred.component_div((var + epsilon).sqrt())
    };
    Standardised {
        output,
        mean: mean.value(),
        var: var.value(),
    }
}

/// `(x − μ)/√(σ² + ε)` for `centred = x − μ` whose squares overflow: each slice divided first
/// by `c = max(1, max |x − μ|)`, a constant, and `ε` by `c²` — the same function of `x` for any
/// constant `c`, so the same derivatives.
fn rescaled<T: MatScalar>(centred: MatVar<T>, along: Along, epsilon: T) -> MatVar<T> {
    let values = centred.value();
    let largest = |slice: &mut dyn Iterator<Item = &T>| {
        slice
            .map(|&v| num_traits::Float::abs(v))
            .fold(T::one(), |m, a| if a > m { a } else { m })
    };
    let spread = match along {
        Along::Rows => DMatrix::from_fn(1, values.ncols(), |_, j| {
            largest(&mut values.column(j).iter())
        }),
        Along::Cols => {
            DMatrix::from_fn(values.nrows(), 1, |i, _| largest(&mut values.row(i).iter()))
        }
    };
    let eps = spread.map(|c| epsilon / (c * c));
    let scaled = centred.component_div(MatVar::constant(spread));
    let var = scaled.component_mul(scaled).mean_along(along);
    scaled.component_div((var + MatVar::constant(eps)).sqrt())
}
