//! [`SvdTies`]: singular values equal up to rounding in [`svd`](crate::svd)'s tangents and
//! its pullback — which pairs are near, how far the computed singular vectors are from exact,
//! and which parts of a perturbation or cotangent in the singular bases are rounding.

use crate::symmetric_eigen::{
    abs_product, column_norms, departure, near_pairs, rounding_factor, signed_unit_columns,
    snap_tied,
};
use nalgebra::{DMatrix, DVector, RealField};
use num_traits::Float;

/// The pairs of singular values equal up to rounding in a thin SVD `(U, σ, Vᵀ)` of an
/// `m × n` matrix, and the error of each computed singular pair — what decides where a part of
/// `UᵀȦV` (or of the cotangents `UᵀŪ + VᵀV̄`) counts as zero, as adroit-forward's
/// `symmetric_eigen` does for eigenvalues (see its `snap_tied`).
#[doc(hidden)]
#[derive(Debug)]
pub struct SvdTies<T: nalgebra::Scalar> {
    /// `near[(k, l)]`: `k ≠ l` and `|σₖ − σₗ| ≤ 8·max(m, n)·ε·max σ` (a backward-stable SVD's
    /// singular values carry absolute errors of order `ε·‖A‖₂`, so an exactly repeated one comes
    /// out a few ulps apart, more for larger matrices).
    near: DMatrix<bool>,
    /// Per singular pair `k`: `rₖ/gapₖ + rₖ/σₖ` plus the departure of `uₖ` and of `vₖ` from
    /// orthogonality (`maxₗ|(UᵀU − I)ₖₗ|`, likewise `V`), with `rₖ` the larger of
    /// `‖A·vₖ − σₖ·uₖ‖` and `‖Aᵀ·uₖ − σₖ·vₖ‖` and `gapₖ` the distance from `σₖ` to the nearest
    /// singular value not near it (Wedin: the angle between the computed vectors and their
    /// cluster's singular subspaces) — and `rₖ/σₖ` the error of pairing `uₖ` with `vₖ` inside
    /// the cluster. Zero where the decomposition is exact (a diagonal matrix).
    errors: DVector<T>,
    /// `8·max(m, n)·ε`.
    factor: T,
}

impl<T: Float + RealField> SvdTies<T> {
    /// The ties of the thin SVD `(u, s, v_t)` of `a` (`m × n`), or `None` when no two singular
    /// values are near (then nothing is snapped and the errors are not formed).
    pub fn new(a: &DMatrix<T>, u: &DMatrix<T>, s: &DVector<T>, v_t: &DMatrix<T>) -> Option<Self> {
        let size = a.nrows().max(a.ncols());
        let near = near_pairs(s, size);
        if !near.iter().any(|&b| b) {
            return None;
        }
        let v = v_t.transpose();
        let sigma = DMatrix::from_diagonal(s);
        let left = column_norms(&(a * &v - u * &sigma));
        let right = column_norms(&(a.transpose() * u - &v * &sigma));
        let (u_gram, v_gram) = (u.transpose() * u, v_t * &v);
        let k = s.len();
        let errors = DVector::from_fn(k, |i, _| {
            let residual = Float::max(left[i], right[i]);
            let orthogonality = departure(&u_gram, i) + departure(&v_gram, i);
            if residual.is_zero() {
                return orthogonality;
            }
            let gap = (0..k)
                .filter(|&j| j != i && !near[(j, i)])
                .fold(T::infinity(), |m, j| Float::min(m, Float::abs(s[i] - s[j])));
            residual / gap + residual / s[i] + orthogonality
        });
        Some(Self {
            near,
            errors,
            factor: rounding_factor(size),
        })
    }

    /// `sym` (the symmetric part of `P = UᵀȦV`, `k × k`) with its entries between near singular
    /// values replaced by `zeroed(entry)` where they are within the error they are formed with:
    /// half the sum over `(i, j)` and `(j, i)` of `8·max(m, n)·ε·(|Uᵀ|·|Ȧ|·|V|)ᵢⱼ` (the product's
    /// rounding; none where `uᵢ` and `vⱼ` are signed unit vectors, `signed_unit_columns`: a
    /// turning perturbation's `S` is as small as the gap and exact at a diagonal matrix) and
    /// `errᵢ·‖Ȧvⱼ‖ + errⱼ·‖Ȧᵀuᵢ‖` (the vectors' own error).
    pub fn snap_perturbation(
        &self,
        sym: DMatrix<T>,
        (u, dot, v): (&DMatrix<T>, &DMatrix<T>, &DMatrix<T>),
        zeroed: impl Fn(T) -> T,
    ) -> DMatrix<T> {
        let k = sym.nrows();
        let threshold = || {
            let product = abs_product(&abs_product(&u.transpose(), dot), v);
            let dot_v = column_norms(&(dot * v));
            let dot_t_u = column_norms(&(dot.transpose() * u));
            let (unit_u, unit_v) = (signed_unit_columns(u), signed_unit_columns(v));
            let entry = |i: usize, j: usize| {
                let rounding = if unit_u[i] && unit_v[j] {
                    T::zero()
                } else {
                    self.factor * product[(i, j)]
                };
                rounding + self.errors[i] * dot_v[j] + self.errors[j] * dot_t_u[i]
            };
            let half = T::one() / (T::one() + T::one());
            DMatrix::from_fn(k, k, |i, j| half * (entry(i, j) + entry(j, i)))
        };
        snap_tied(sym, &self.near, threshold, zeroed)
    }

    /// `z = UᵀŪ + VᵀV̄` (`k × k`, `V̄` the cotangent of `V`, the transpose of `Vᵀ`'s) with its
    /// entries between near singular values replaced by `zeroed(entry)` where they are within
    /// the error they are formed with: `8·max(m, n)·ε·(|Uᵀ|·|Ū| + |Vᵀ|·|V̄|)ᵢⱼ` plus
    /// `errᵢ·(‖ūⱼ‖ + ‖v̄ⱼ‖)`, a pair's two entries zeroed together when each is within its own
    /// (`snap_tied`). Not the antisymmetric part the pullback reads: for a
    /// loss that does not depend on the basis the difference of the pair's entries is the gap
    /// times a divided difference, not rounding (as in `symmetric_eigen`'s pullback).
    pub fn snap_cotangent(
        &self,
        z: DMatrix<T>,
        (u, u_bar): (&DMatrix<T>, &DMatrix<T>),
        (v_t, v_t_bar): (&DMatrix<T>, &DMatrix<T>),
        zeroed: impl Fn(T) -> T,
    ) -> DMatrix<T> {
        let k = z.nrows();
        let threshold = || {
            let v_bar = v_t_bar.transpose();
            let (u_part, v_part) = (abs_product(&u.transpose(), u_bar), abs_product(v_t, &v_bar));
            let (u_norms, v_norms) = (column_norms(u_bar), column_norms(&v_bar));
            let (unit_u, unit_v) = (
                signed_unit_columns(u),
                signed_unit_columns(&v_t.transpose()),
            );
            DMatrix::from_fn(k, k, |i, j| {
                let u_rounding = if unit_u[i] { T::zero() } else { u_part[(i, j)] };
                let v_rounding = if unit_v[i] { T::zero() } else { v_part[(i, j)] };
                self.factor * (u_rounding + v_rounding) + self.errors[i] * (u_norms[j] + v_norms[j])
            })
        };
        snap_tied(z, &self.near, threshold, zeroed)
    }
}
