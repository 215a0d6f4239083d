//! [`svd_hyperdual`]: the thin SVD of a matrix of hyper-duals with exact first and second
//! derivatives, where nalgebra's iteration on the hyper-duals panics, loops or drops them (see
//! the crate docs, "Eigendecompositions and SVD").

use crate::svd::{empty_svd, svd_jvp};
use crate::svd_ties::SvdTies;
use crate::{DualVec, HyperDualVec, Svd, svd};
use nalgebra::{DMatrix, DVector, RealField};
use num_traits::Float;

/// The thin SVD `(U, σ, Vᵀ)` of `A = A₀ + Σᵢ sᵢ·Aᵢ + Σⱼ tⱼ·Bⱼ + Σᵢⱼ sᵢtⱼ·Cᵢⱼ` (entries
/// `HyperDualVec::new(a₀, aᵢ, bⱼ, cᵢⱼ)`) with exact first derivatives in `s` and `t` and mixed
/// second derivatives `∂²/∂sᵢ∂tⱼ` — what [`hessian`](crate::hessian) needs through an SVD.
///
/// Formed by applying [`svd`]'s tangent map twice: the SVD of `A₀ + Σ sᵢ·Aᵢ` with its exact
/// `s`-derivatives ([`svd`] on [`DualVec`]s), then the tangent map at that decomposition,
/// evaluated in `DualVec` arithmetic, for the directions `Bⱼ + Σᵢ sᵢ·Cᵢⱼ`: its value is the
/// `t`-derivative, its `s`-derivative the mixed second one. So it has [`svd`]'s conventions
/// (nalgebra's order and signs; σ normalised by the largest; a zero numerator gives 0; NaN
/// results for a NaN or infinite entry). **Exact where every singular value is simple and
/// non-zero and no two are equal up to rounding** (full rank, distinct σ; triangular and
/// diagonal matrices included, where
/// nalgebra's `a.svd(true, true)` on hyper-duals can panic with "Singular value was NaN" or
/// never return). At a rank-deficient matrix, or one with a repeated singular value, even the
/// second derivatives of the other, simple pairs can come out wrong or NaN (for example
/// `∂²(v₁₁v₁₂)/∂a₂₀∂a₂₁` at diag(2, 0, 0) is 0 in one order for 0.25, and a 3 × 2 matrix of
/// rank 1 gives NaN): the second pass differentiates the first pass's choice of basis inside
/// the degenerate cluster, where degenerate perturbation theory would rotate it to the
/// perturbation (not implemented). Second derivatives of symmetric functions of the singular
/// values there (`Σσᵢ² = ‖A‖²`) are not right either. Likewise beside two singular values
/// equal up to rounding but distinct (within `8·max(m, n)·ε·max σ`, where the first pass
/// takes a perturbation part of rounding size as zero): a mixing part below that error is
/// dropped, and with it its share of other pairs' second derivatives (a review measured
/// `∂²((cᵀu₀)(dᵀv₀))` of the top pair 100 % low beside a pair 1e-14 apart with a third
/// value 1e-12 away, and reverse-mode Hessians through `svd` unsymmetric there) — not
/// fixed. Farther apart, beside two close distinct singular values (gap `δ`), second
/// derivatives that go through the pair under perturbations mixing it carry rounding errors
/// growing like `ε/δ²`, also at a diagonal matrix (a review measured `[U·sin(Σ)·Vᵀ]₀₀` of
/// `[[1.9, s], [t, 1.9 − δ]]`: 2e-4 relative at `δ = 1e-6`, 0 for −0.1285 at 1e-9; as for
/// [`symmetric_eigen_hyperdual`](crate::symmetric_eigen_hyperdual)). The second derivatives
/// of another, well-separated pair's singular *vectors* lose precision there too, as `δ`
/// shrinks, since their second-order terms hold the close pair's first-order rotation (a hunt
/// measured `U₀₀·(Vᵀ)₀₂` of the top pair, σ = 5, beside σ = 2 + δ and 2: Hessian errors
/// 1.2e-5 relative at `δ = 1e-12`, 4e-3 at 1e-14, NaN at 3e-15; JAX's `hessian` through its
/// SVD was off by as much), though not its singular value, exact at every `δ`.
///
/// `a`: `m × n`; returns `U` (`m × k`), `σ` (`k`, descending) and `Vᵀ` (`k × n`),
/// `k = min(m, n)`.
///
/// # Example
/// ```
/// use adroit_forward::{HyperDual, svd_hyperdual};
/// use adroit_forward::nalgebra::DMatrix;
/// // [[2, t], [0, 1]]: σ₁ = 2 + t²/3 + O(t⁴), so σ₁'' = 2/3 at t = 0 (nalgebra's own svd on
/// // these hyper-duals panics)
/// let (c, t) = (HyperDual::constant, HyperDual::variable(0.0_f64));
/// let a = DMatrix::from_row_slice(2, 2, &[c(2.0), t, c(0.0), c(1.0)]);
/// let (_, sigma, _) = svd_hyperdual(&a);
/// assert_eq!((sigma[0].value(), sigma[0].eps1()[0]), (2.0, 0.0));
/// assert!((sigma[0].eps12()[0][0] - 2.0 / 3.0).abs() < 1e-14);
/// ```
pub fn svd_hyperdual<T, const M: usize, const N: usize>(
    a: &DMatrix<HyperDualVec<T, M, N>>,
) -> Svd<HyperDualVec<T, M, N>>
where
    T: Float + RealField,
    DualVec<T, M>: Float + RealField,
{
    let (m, n) = a.shape();
    let k = m.min(n);
    if k == 0 {
        return empty_svd(m, n);
    }
    // The decomposition with its exact s-derivatives.
    let inner = a.map(|h| DualVec::new(h.value(), h.eps1()));
    let (u, s, v_t) = svd(&inner);
    let ties = SvdTies::new(&inner, &u, &s, &v_t);
    // Per t-direction j: the tangent map in DualVec arithmetic, along Bⱼ + Σᵢ sᵢ·Cᵢⱼ.
    let lanes: Vec<Svd<DualVec<T, M>>> = (0..N)
        .map(|j| {
            let dot = a.map(|h| {
                let (eps2, eps12) = (h.eps2(), h.eps12());
                DualVec::new(eps2[j], core::array::from_fn(|i| eps12[i][j]))
            });
            // Rounding between near singular values is zeroed in value only: an entry 0 in
            // value at a diagonal matrix can carry an s-derivative.
            let zeroed = |x: DualVec<T, M>| DualVec::new(T::zero(), x.tangents());
            svd_jvp((&u, &s, &v_t), &dot, ties.as_ref(), zeroed)
        })
        .collect();
    let assemble = |p: &DualVec<T, M>, d: &dyn Fn(usize) -> DualVec<T, M>| {
        HyperDualVec::new(
            p.value(),
            p.tangents(),
            core::array::from_fn(|j| d(j).value()),
            core::array::from_fn(|i| core::array::from_fn(|j| d(j).tangents()[i])),
        )
    };
    let u_out = DMatrix::from_fn(m, k, |r, c| assemble(&u[(r, c)], &|j| lanes[j].0[(r, c)]));
    let s_out = DVector::from_fn(k, |i, _| assemble(&s[i], &|j| lanes[j].1[i]));
    let v_t_out = DMatrix::from_fn(k, n, |r, c| assemble(&v_t[(r, c)], &|j| lanes[j].2[(r, c)]));
    (u_out, s_out, v_t_out)
}
