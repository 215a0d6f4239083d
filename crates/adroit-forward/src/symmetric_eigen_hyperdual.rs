//! [`symmetric_eigen_hyperdual`]: the eigendecomposition of a symmetric matrix of hyper-duals
//! with exact first and second derivatives, where nalgebra's iteration on the hyper-duals gives
//! NaN or drops them (see the crate docs, "Eigendecompositions and SVD").

use crate::HyperDualVec;
use crate::eigenvector_errors::{EigenvectorErrors, rotation_threshold};
use crate::symmetric_eigen::{
    abs_product, gap_quotient, near_ties, rounding_factor, snap_tied, symmetric_from_lower,
    symmetric_part,
};
use nalgebra::{DMatrix, DVector, RealField};
use num_traits::Float;

/// Eigenvalues and eigenvectors of the symmetric matrix
/// `A = A₀ + Σᵢ sᵢ·Aᵢ + Σⱼ tⱼ·Bⱼ + Σᵢⱼ sᵢtⱼ·Cᵢⱼ` (entries `HyperDualVec::new(a₀, aᵢ, bⱼ, cᵢⱼ)`)
/// with their exact first derivatives in `s` and `t` and mixed second derivatives `∂²/∂sᵢ∂tⱼ`:
/// nalgebra's `SymmetricEigen` of `A₀`, and second-order perturbation theory. With
/// `Ãᵢ = VᵀAᵢV`, `B̃ⱼ = VᵀBⱼV`, `C̃ᵢⱼ = VᵀCᵢⱼV` (eigenbasis of `A₀`, eigenvalues `λₖ`),
///
/// - `∂λₖ/∂sᵢ = (Ãᵢ)ₖₖ`, `∂λₖ/∂tⱼ = (B̃ⱼ)ₖₖ`,
/// - `∂²λₖ/∂sᵢ∂tⱼ = (C̃ᵢⱼ)ₖₖ + 2·Σₗ≠ₖ (Ãᵢ)ₗₖ(B̃ⱼ)ₗₖ/(λₖ − λₗ)`,
/// - `vₖ = V·cₖ` with `∂cₖ/∂sᵢ = Σₗ≠ₖ eₗ(Ãᵢ)ₗₖ/(λₖ − λₗ)` (likewise for `tⱼ`), and the mixed part
///   `(∂²cₖ)ₗ = ((Ãᵢ·∂ₜcₖ)ₗ − ∂ₛλₖ·(∂ₜcₖ)ₗ + (B̃ⱼ·∂ₛcₖ)ₗ − ∂ₜλₖ·(∂ₛcₖ)ₗ + (C̃ᵢⱼ)ₗₖ)/(λₖ − λₗ)`
///   for `l ≠ k` and `(∂²cₖ)ₖ = −∂ₛcₖ·∂ₜcₖ` (unit length to second order)
///
/// (the classical Rayleigh–Schrödinger expansion; its first-order part is JAX's `eigh` JVP
/// and [`symmetric_eigen`](crate::symmetric_eigen)'s). Use it for Hessians through
/// eigenvalues or eigenvectors: nalgebra's `symmetric_eigen` on a hyper-dual matrix whose
/// off-diagonal part is zero in value but perturbed gives NaN eigenvalues or zero second
/// derivatives.
///
/// `a`: `n × n`, read from its lower triangle as nalgebra's `symmetric_eigen` does (every
/// perturbation part too); returns the `n` eigenvalues and the `n × n` matrix of unit
/// eigenvectors (one per column), in the order of nalgebra's `SymmetricEigen` of the primal
/// matrix (not sorted: JAX's `eigh` sorts ascending; pick an eigenvalue by its `value()`). At
/// a repeated eigenvalue a quotient with a zero numerator is taken as 0 (as in
/// [`symmetric_eigen`](crate::symmetric_eigen)); a perturbation that mixes the pair gives
/// infinite or NaN parts (large finite ones where the pair is equal only up to rounding; so a
/// smooth function of the spectrum, `Σ ln λ`, gets no second derivative there: compute it by
/// Cholesky); a function of a simple eigenpair divides only by the gaps to its eigenvalue and
/// stays exact beside repeated ones; between eigenvalues equal up to rounding, a perturbation
/// part of rounding size counts as zero, as in [`symmetric_eigen`](crate::symmetric_eigen).
/// Beside two close but distinct eigenvalues (gap `δ`), second derivatives that go through
/// the pair under perturbations mixing it carry rounding errors growing like `ε/δ²`
/// (measured for `cᵀ·exp(A)·c` through the eigenvectors: 5e-5 relative at `δ = 1e-8`, 5e-2
/// at 1e-11; first derivatives stay exact there, see
/// [`symmetric_eigen`](crate::symmetric_eigen)): compute such functions without the
/// decomposition where eigenvalues may be close.
/// An entry of the lower triangle (the part read) that is NaN or infinite makes every result
/// NaN. A 0 × 0 matrix gives empty results.
///
/// # Panics
/// If `a` is not square.
///
/// # Example
/// ```
/// use adroit_forward::{HyperDual, symmetric_eigen_hyperdual};
/// use adroit_forward::nalgebra::DMatrix;
/// // diag(1, 3) + t·(E₁₂ + E₂₁): eigenvalues 2 ∓ √(1 + t²), so λ'' = ∓1 at t = 0 (nalgebra's
/// // own iteration on these hyper-duals gives NaN for one of them)
/// let (c, t) = (HyperDual::constant, HyperDual::variable(0.0_f64));
/// let a = DMatrix::from_row_slice(2, 2, &[c(1.0), t, t, c(3.0)]);
/// let (values, _) = symmetric_eigen_hyperdual(&a);
/// for v in values.iter() {
///     let expected = if v.value() < 2.0 { -1.0 } else { 1.0 };
///     assert_eq!((v.eps1()[0], v.eps12()[0][0]), (0.0, expected));
/// }
/// ```
#[track_caller]
#[allow(clippy::type_complexity)] // the two results, as `symmetric_eigen` returns them
pub fn symmetric_eigen_hyperdual<T, const M: usize, const N: usize>(
    a: &DMatrix<HyperDualVec<T, M, N>>,
) -> (
    DVector<HyperDualVec<T, M, N>>,
    DMatrix<HyperDualVec<T, M, N>>,
)
where
    T: Float + RealField,
{
    let primal = symmetric_from_lower(a, |x| x.value());
    let n = primal.nrows();
    if n == 0 {
        let zero = HyperDualVec::constant(T::zero());
        return (
            DVector::from_element(0, zero),
            DMatrix::from_element(0, 0, zero),
        );
    }
    let (lambda, v) = crate::symmetric_eigen::primal_symmetric_eigen(primal.clone());
    let near = near_ties(&lambda);
    let errors = near
        .iter()
        .any(|&b| b)
        .then(|| EigenvectorErrors::new(&primal, &lambda, &v, &near));
    let vt = v.transpose();
    // In the eigenbasis, with rounding between eigenvalues equal up to rounding set to 0
    // (`snap_tied`), and the error it was formed with (only where a pair is near: zeros
    // otherwise, unread).
    // Also returns the product before snapping: a near pair's mixing entry is divided by the
    // pair's gap only in the pair's own coefficients, and elsewhere (a simple eigenvector's
    // second-order numerator, `(Ãᵢ·∂ₜcₖ)ₗ`) it is a genuine term however small (the part
    // `P·Ȧ·P` within the pair's space, which does not depend on the basis): zeroed there it
    // made the top eigenvector's ∂²/∂s∂t 63 % low beside a pair 1e-12 apart.
    let rotate = |part: DMatrix<T>| {
        // Symmetric as `part` is (see `symmetric_part`): a near pair's contributions then
        // cancel as in exact arithmetic.
        let rotated = symmetric_part(&vt * &part * &v);
        let threshold = match &errors {
            Some(errors) => rotation_threshold(&v, &part, &rotated, errors),
            None => DMatrix::zeros(n, n),
        };
        let snapped = snap_tied(rotated.clone(), &near, || threshold.clone(), |_| T::zero());
        (snapped, rotated, threshold)
    };
    let rotate_all = |parts: Vec<DMatrix<T>>| {
        let mut out = (Vec::new(), Vec::new(), Vec::new());
        for part in parts {
            let (snapped, raw, threshold) = rotate(part);
            out.0.push(snapped);
            out.1.push(raw);
            out.2.push(threshold);
        }
        out
    };
    let (a1, a1_raw, a1_error) = rotate_all(
        (0..M)
            .map(|i| symmetric_from_lower(a, |x| x.eps1()[i]))
            .collect(),
    );
    let (a2, a2_raw, a2_error) = rotate_all(
        (0..N)
            .map(|j| symmetric_from_lower(a, |x| x.eps2()[j]))
            .collect(),
    );
    // `num/(λₖ − λₗ)` off the diagonal, 0 for a zero numerator (even at a repeated eigenvalue).
    let quotient = |num: T, l: usize, k: usize| {
        if l == k {
            T::zero()
        } else {
            gap_quotient(num, lambda[k] - lambda[l])
        }
    };
    // First-order eigenvector coefficients in the eigenbasis: column k is ∂cₖ.
    let first =
        |rotated: &DMatrix<T>| DMatrix::from_fn(n, n, |l, k| quotient(rotated[(l, k)], l, k));
    let c1: Vec<DMatrix<T>> = a1.iter().map(first).collect();
    let c2: Vec<DMatrix<T>> = a2.iter().map(first).collect();
    // `x·(y/(λₖ − λₗ))` for the eigenvalues' mixed part, with `c = y/(λₖ − λₗ)`: divided
    // before the product, so that the second derivative of a matrix of scale `s` (about `s`)
    // does not pass through `x·y` (about `s²`, which overflowed from `s` ≈ 1e155 and lost
    // precision below 1e-154); 0 for `x = 0`, as `quotient` takes a zero numerator.
    let cross = |x: T, c: T| if x.is_zero() { T::zero() } else { x * c };
    let factor = rounding_factor::<T>(n);

    let mut lambda12 = vec![[[T::zero(); N]; M]; n];
    let mut v12: Vec<[[T; N]; M]> = vec![[[T::zero(); N]; M]; n * n];
    for i in 0..M {
        for j in 0..N {
            let (c12, _, c12_error) = rotate(symmetric_from_lower(a, |x| x.eps12()[i][j]));
            let (a_c2, b_c1) = (&a1_raw[i] * &c2[j], &a2_raw[j] * &c1[i]);
            // The error the coefficients' numerators (below) are formed with, from their
            // factors' (between eigenvalues equal up to rounding, a numerator within it is
            // rounding over rounding, as `snap_tied` takes for the first order).
            let numerator_bound = errors.as_ref().map(|_| {
                abs_product(&a1_error[i], &c2[j]) + abs_product(&a2_error[j], &c1[i]) + c12_error
            });
            let mut coefficients = DMatrix::zeros(n, n);
            for k in 0..n {
                let (ds, dt) = (a1[i][(k, k)], a2[j][(k, k)]);
                let mut mixed = c12[(k, k)];
                for l in (0..n).filter(|&l| l != k) {
                    mixed += cross(a1[i][(l, k)], c2[j][(l, k)]);
                    mixed += cross(a2[j][(l, k)], c1[i][(l, k)]);
                    let numerator = a_c2[(l, k)] - ds * c2[j][(l, k)] + b_c1[(l, k)]
                        - dt * c1[i][(l, k)]
                        + c12[(l, k)];
                    let rounding = numerator_bound.as_ref().is_some_and(|bound| {
                        let products = Float::abs(ds) * Float::abs(c2[j][(l, k)])
                            + Float::abs(dt) * Float::abs(c1[i][(l, k)]);
                        near[(l, k)] && Float::abs(numerator) <= bound[(l, k)] + factor * products
                    });
                    coefficients[(l, k)] = if rounding {
                        T::zero()
                    } else {
                        quotient(numerator, l, k)
                    };
                }
                lambda12[k][i][j] = mixed;
                coefficients[(k, k)] = -c1[i].column(k).dot(&c2[j].column(k));
            }
            let vectors = &v * coefficients;
            for (entry, &x) in v12.iter_mut().zip(vectors.iter()) {
                entry[i][j] = x;
            }
        }
    }
    let v1: [DMatrix<T>; M] = core::array::from_fn(|i| &v * &c1[i]);
    let v2: [DMatrix<T>; N] = core::array::from_fn(|j| &v * &c2[j]);

    let values = DVector::from_fn(n, |k, _| {
        HyperDualVec::new(
            lambda[k],
            core::array::from_fn(|i| a1[i][(k, k)]),
            core::array::from_fn(|j| a2[j][(k, k)]),
            lambda12[k],
        )
    });
    let vectors = DMatrix::from_fn(n, n, |r, c| {
        HyperDualVec::new(
            v[(r, c)],
            core::array::from_fn(|i| v1[i][(r, c)]),
            core::array::from_fn(|j| v2[j][(r, c)]),
            v12[c * n + r],
        )
    });
    (values, vectors)
}
