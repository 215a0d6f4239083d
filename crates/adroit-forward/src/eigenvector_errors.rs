//! [`EigenvectorErrors`]: how far the computed eigenvectors of a symmetric matrix are from
//! exact, direction by direction — what decides which entries of `VᵀȦV` (or `VᵀV̄`) between
//! eigenvalues equal up to rounding are rounding themselves ([`snap_tied`](crate::symmetric_eigen::snap_tied)).

use crate::symmetric_eigen::{
    abs_product, column_norms, departure, rounding_factor, signed_unit_columns,
};
use nalgebra::{DMatrix, DVector, RealField};
use num_traits::Float;

/// The errors of the computed unit eigenvectors `V` (eigenvalues `λ`) of a symmetric `n × n`
/// matrix `A`, for the eigenvectors near a tie.
///
/// The computed `vₖ` has the component `cⱼₖ = ṽⱼᵀrₖ/(λⱼ − λₖ)` along each exact eigenvector
/// `ṽⱼ` outside its cluster (`rₖ = A·vₖ − λₖ·vₖ`, projected on `(A − λₖ)ṽⱼ = (λⱼ − λₖ)ṽⱼ`:
/// exact for the exact `ṽⱼ`, `λⱼ`, which the computed ones stand for); a component inside the
/// cluster is only a choice of basis. So the error that `vₖ` carries into an entry `vₖᵀXₗ` of `VᵀX` is
/// `Σⱼ cⱼₖ·vⱼᵀXₗ`, bounded by `Σⱼ |cⱼₖ|·|(VᵀX)ⱼₗ|` — direction by direction, where
/// `‖cₖ‖·‖Xₗ‖` (Cauchy–Schwarz) over-counted by 1e8 when `vₖ` leans towards a close neighbour
/// that `X` hardly meets (a review's counterexample: a mixing entry 5e-7 snapped at a
/// threshold 1.2e-6). Plus what that sum leaves out: `vₖ`'s departure from orthogonality, and
/// the second-order terms (the computed `vⱼ` standing for `ṽⱼ`), each times `‖Xₗ‖`.
#[doc(hidden)]
#[derive(Debug)]
pub struct EigenvectorErrors<T: nalgebra::Scalar> {
    /// `coefficients[(j, k)]`: a bound on `|cⱼₖ|`, `(|vⱼᵀrₖ| + 8nε·|vⱼ|ᵀ(|A|·|vₖ| + |λₖ|·|vₖ|))
    /// / |λⱼ − λₖ|` (the computed residual's own rounding included) for `j` not near `k`, 0
    /// otherwise. Zero where the decomposition is exact (a diagonal matrix).
    coefficients: DMatrix<T>,
    /// Per `k`: `vₖ`'s departure from orthogonality (`maxₗ|(VᵀV − I)ₖₗ|`) plus `‖cₖ‖` times the
    /// largest error of any vector (`maxⱼ ‖cⱼ‖ + departureⱼ`): the multiplier of `‖Xₗ‖`.
    slack: DVector<T>,
    /// For a near pair `(k, l)`: `|vₖᵀrₗ| + |vₗᵀrₖ|`, the residual inside the cluster — the
    /// backward error of a decomposition that left the pair unresolved (nalgebra deflates an
    /// off-diagonal 1e-17 of `[[1, δ], [δ, 1]]` and returns `V = I`: `vₖᵀ·A·vₗ = δ`); 0 otherwise.
    within: DMatrix<T>,
    /// `‖A·vₖ‖` per `k`: the scale `within` is relative to.
    images: Vec<T>,
    /// `‖A‖_F`.
    norm: T,
}

impl<T: Float + RealField> EigenvectorErrors<T> {
    /// The errors of `(lambda, v)`, the decomposition of `a`; `near` from
    /// [`near_ties`](crate::symmetric_eigen::near_ties).
    pub fn new(a: &DMatrix<T>, lambda: &DVector<T>, v: &DMatrix<T>, near: &DMatrix<bool>) -> Self {
        let n = lambda.len();
        let residual = a * v - v * DMatrix::from_diagonal(lambda);
        let projected = v.transpose() * &residual;
        let abs_v = v.map(Float::abs);
        let scale = abs_product(a, v) + &abs_v * DMatrix::from_diagonal(&lambda.map(Float::abs));
        let rounding = abs_v.transpose() * scale * rounding_factor::<T>(n);
        let coefficients = DMatrix::from_fn(n, n, |j, k| {
            if j == k || near[(j, k)] {
                T::zero()
            } else {
                let bound = Float::abs(projected[(j, k)]) + rounding[(j, k)];
                if bound.is_zero() {
                    T::zero()
                } else {
                    bound / Float::abs(lambda[j] - lambda[k])
                }
            }
        });
        let gram = v.transpose() * v;
        let norms = column_norms(&coefficients);
        let departures: Vec<T> = (0..n).map(|k| departure(&gram, k)).collect();
        let largest = (0..n).fold(T::zero(), |m, j| Float::max(m, norms[j] + departures[j]));
        let slack = DVector::from_fn(n, |k, _| departures[k] + norms[k] * largest);
        let within = DMatrix::from_fn(n, n, |k, l| {
            if near[(k, l)] {
                Float::abs(projected[(k, l)]) + Float::abs(projected[(l, k)])
            } else {
                T::zero()
            }
        });
        Self {
            coefficients,
            slack,
            within,
            images: column_norms(&(a * v)),
            norm: frobenius(a),
        }
    }

    /// What a pair's unresolved residual (`within`) allows in the entry `(k, l)` of `VᵀX`:
    /// `(|vₖᵀrₗ| + |vₗᵀrₖ|)` times how much of `A` the perturbation `X` can carry, bounded both
    /// at the pair, `(‖Xₖ‖ + ‖Xₗ‖)/(‖Avₖ‖ + ‖Avₗ‖)`, and overall, `‖X‖_F/‖A‖_F`. So `X = A` (or
    /// `αA + βI`, or the cotangent `2AV` of `Σλ` written through the vectors) counts as not
    /// mixing the pair (a review's counterexample: `[[1, δ], [δ, 1]]` with `Ȧ = A` gave NaN or
    /// tangents up to 2), while a mixing part above that is kept — also for a pair far below
    /// `‖A‖` under `X = I + ηM` (the pair's bound alone, 1/|λ| there, took η ≤ 1e-7 as rounding
    /// at λ = 1e-6, ‖A‖ = 1e3), and beside large entries of `X` far from the pair (the overall
    /// bound alone). With `x_norms[k] = ‖Xₖ‖` and `x_norm = ‖X‖_F`.
    pub fn within_clusters(&self, x_norms: &[T], x_norm: T) -> DMatrix<T> {
        let n = self.within.nrows();
        let overall = if self.norm.is_zero() {
            T::zero()
        } else {
            x_norm / self.norm
        };
        DMatrix::from_fn(n, n, |k, l| {
            let scale = self.images[k] + self.images[l];
            if self.within[(k, l)].is_zero() || scale.is_zero() {
                T::zero()
            } else {
                let local = (x_norms[k] + x_norms[l]) / scale;
                self.within[(k, l)] * Float::min(local, overall)
            }
        })
    }

    /// The error that the vectors carry into each entry of `projected = VᵀX` (`n × p`):
    /// `Σⱼ |cⱼₖ|·|projectedⱼₗ| + slackₖ·‖Xₗ‖`, with `x_norms[l] = ‖Xₗ‖`.
    pub fn of_projection(&self, projected: &DMatrix<T>, x_norms: &[T]) -> DMatrix<T> {
        let directed = self.coefficients.transpose() * projected.map(Float::abs);
        DMatrix::from_fn(projected.nrows(), projected.ncols(), |k, l| {
            directed[(k, l)] + self.slack[k] * x_norms[l]
        })
    }
}

/// The thresholds of [`snap_tied`](crate::symmetric_eigen::snap_tied) for `rotated = Vᵀ·ȧ·V`:
/// `8nε·(|Vᵀ|·|ȧ|·|V|)ₖₗ`, the rounding in forming it (none where `vₖ` and `vₗ` are signed unit
/// vectors: `signed_unit_columns`), plus a pair's unresolved residual
/// ([`EigenvectorErrors::within_clusters`]), plus what the vectors' errors carry
/// into it from both sides, `Eₖₗ + Eₗₖ` with `E` from [`EigenvectorErrors::of_projection`]
/// (`ȧ` symmetric: `vₖᵀȧ·δvₗ` is the mirror of `δvₗᵀȧ·vₖ`). Shared by
/// [`symmetric_eigen`](crate::symmetric_eigen) and
/// [`symmetric_eigen_hyperdual`](crate::symmetric_eigen_hyperdual).
pub(crate) fn rotation_threshold<T: Float + RealField>(
    v: &DMatrix<T>,
    dot: &DMatrix<T>,
    rotated: &DMatrix<T>,
    errors: &EigenvectorErrors<T>,
) -> DMatrix<T> {
    let n = v.ncols();
    let product = abs_product(&abs_product(&v.transpose(), dot), v);
    let dot_norms = column_norms(&(dot * v));
    let carried = errors.of_projection(rotated, &dot_norms);
    let within = errors.within_clusters(&dot_norms, frobenius(dot));
    let factor = rounding_factor::<T>(n);
    let unit = signed_unit_columns(v);
    DMatrix::from_fn(n, n, |k, l| {
        let rounding = if unit[k] && unit[l] {
            T::zero()
        } else {
            factor * product[(k, l)]
        };
        rounding + carried[(k, l)] + carried[(l, k)] + within[(k, l)]
    })
}

/// `‖m‖_F`. Shared with adroit-reverse's `symmetric_eigen`.
#[doc(hidden)]
pub fn frobenius<T: Float + RealField>(m: &DMatrix<T>) -> T {
    Float::sqrt(
        column_norms(m)
            .iter()
            .fold(T::zero(), |acc, &x| acc + x * x),
    )
}
