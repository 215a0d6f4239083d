//! Fixed test matrices shared by the SVD tests of both crates (adroit-reverse includes this
//! file).

use nalgebra::{DMatrix, DVector};

/// A fixed, unremarkable `rows × cols` matrix: pseudo-random entries in `[−1, 1)` (the
/// fractional part of a scaled sine; a plain `sin(k·c + phase)` would be of rank 2).
pub(crate) fn matrix(rows: usize, cols: usize, phase: f64) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |i, j| {
        let k = (i * cols + j) as f64;
        let r = ((k * 12.9898 + phase * 78.233).sin() * 43758.5453).fract();
        2.0 * r.abs() - 1.0
    })
}

/// The factors `x`, `y` of the rank-one matrix `x·yᵀ` where an audit found nalgebra's SVD on
/// dual numbers and on tape variables wrong (`σ₁' = 0.926` along the ones matrix).
pub(crate) fn rank_one_factors() -> (DVector<f64>, DVector<f64>) {
    (
        DVector::from_column_slice(&[0.1, 0.2, 0.3, 0.4]),
        DVector::from_column_slice(&[0.3, 0.1, -0.7, 0.9]),
    )
}

/// `Q·diag(σ)·Rᵀ` (`rows × cols`, `σ.len() ≤ min(rows, cols)`) for fixed orthogonal `Q`, `R`
/// (the Q factors of [`matrix`]es of `phase`): the singular values chosen, a repeated one
/// included — which nalgebra returns a few ulps apart.
pub(crate) fn with_singular_values(
    sigma: &[f64],
    rows: usize,
    cols: usize,
    phase: f64,
) -> DMatrix<f64> {
    let k = sigma.len();
    let q = matrix(rows, rows, phase).qr().q();
    let r = matrix(cols, cols, phase + 0.7).qr().q();
    let diagonal = DMatrix::from_diagonal(&DVector::from_column_slice(sigma));
    q.columns(0, k) * diagonal * r.columns(0, k).transpose()
}
