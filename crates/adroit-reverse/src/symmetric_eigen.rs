//! [`symmetric_eigen`]: the eigendecomposition of a symmetric matrix of variables as one
//! recorded node with the exact pullback, where nalgebra's iteration on `Var`s drops the
//! eigenvector derivatives at matrices whose off-diagonal part is zero in value.

use crate::{TapeScalar, Var, custom_rule};
use adroit_forward::__private::EigenvectorErrors;
use adroit_forward::chain_matmul;
use nalgebra::{DMatrix, DVector, RealField};

/// Eigenvalues and unit eigenvectors (one per column) of the symmetric matrix `a`, recorded
/// as one node whose pullback is that of first-order perturbation theory (JAX's `eigh` rule):
/// for cotangents `λ̄`, `V̄`,
///
/// `Ā = V·(diag(λ̄) + F ∘ (Vᵀ·V̄))·Vᵀ`,  `Fᵢⱼ = 1/(λⱼ − λᵢ)` off the diagonal, 0 on it,
///
/// folded onto the lower triangle of `a`, which is all that is read (as nalgebra's
/// `symmetric_eigen`): each entry below the diagonal receives `Āᵢⱼ + Āⱼᵢ`, the upper triangle
/// nothing. Values are nalgebra's `SymmetricEigen` of the primal matrix the lower triangle
/// defines, in its order — unsorted, unlike [`MatVar::symmetric_eigen`](crate::matrix::MatVar::symmetric_eigen)'s
/// ascending order (NumPy's `eigh`): code moved between the two tapes must not index
/// eigenpairs by position — (all NaN when an entry of the lower triangle is NaN or infinite); a
/// 0 × 0 matrix gives empty results.
///
/// `a.symmetric_eigen()` on a `DMatrix<Var<f64>>` differentiates nalgebra's iterations instead,
/// and gives zero eigenvector derivatives where an off-diagonal entry is zero in value (a
/// diagonal matrix moved off its diagonal). At a repeated eigenvalue the eigenvectors are not
/// differentiable: an eigenvector cotangent that mixes the pair gives infinite or NaN
/// contributions; losses of the eigenvalues alone stay finite. Between eigenvalues equal up
/// to rounding (within `8nε·max|λ|`: what nalgebra returns for an exactly repeated one) the
/// pair's two cotangent entries in the eigenbasis, `(Vᵀ·V̄)ₖₗ` and `(Vᵀ·V̄)ₗₖ`, count as not
/// mixing (0) when each is within the error it is formed with, as in adroit-forward's
/// [`symmetric_eigen`](adroit_forward::symmetric_eigen), and are both kept otherwise (their
/// difference is what the gap divides: a smooth loss of the pair's whole space, such as a
/// projector onto both vectors, is then accurate to about `ε/gap` — 1 % at a gap of 1e-13 in
/// a test); a mixing pair gives contributions of size 1/gap, finite and not a derivative. A basis-independent loss written
/// through the eigenvectors (`yᵀA⁻¹y`) is best computed by Cholesky or LU where eigenvalues
/// may repeat (adroit-forward's crate docs, "Eigendecompositions and SVD").
///
/// Second derivatives: under [`hessian`](crate::hessian) and [`hvp`](crate::hvp) the node's
/// values are adroit-forward's [`symmetric_eigen`](adroit_forward::symmetric_eigen) of the
/// dual matrix (exact tangents, also at a diagonal matrix) and the pullback is evaluated in
/// dual arithmetic, so Hessians are exact where the eigenvalues are well separated (tested
/// against perturbation theory and central differences). Beside two close eigenvalues they
/// lose accuracy, also for a function of another, well-separated eigenpair: the pullback goes
/// through every eigenvector, and the close pair's `1/gap` terms must cancel, which they do
/// not in floating point — errors growing like `ε/gap` (a review measured 3e-9 at gap 1e-8,
/// 3e-3 at 1e-14, on entries of size 1; at `diag(1e-20, 2e-20, 1)` the entries along the
/// pair's mixing direction come out 0 where −1.2 and 0.8 are exact, and the Hessian
/// unsymmetric; tested). adroit-forward's `hessian` through `symmetric_eigen_hyperdual` is
/// exact there. Where eigenvalues are repeated, they are not exact either,
/// also for a function of a simple eigenpair beside the repeated ones: the pullback goes
/// through every eigenvector, and the repeated ones' tangents are infinite or arbitrary (`v₀² +
/// 2v₀v₁` of the top eigenvector of `2I + 3uuᵀ`: −0.0601 here, −0.0759 exact) — adroit-forward's
/// `hessian` through `symmetric_eigen_hyperdual` divides only by the gaps to the simple
/// eigenvalue and is exact there. A smooth function of the spectrum (`Σ ln λ = ln det`, `Σλ²`)
/// has no second derivative through the decomposition at a repeated eigenvalue in either mode
/// (infinite or NaN; at eigenvalues equal up to rounding, finite and wrong; JAX's are NaN or
/// wrong too): compute it by Cholesky, LU or a trace. There the non-finite results of the two
/// modes can differ (infinite in one, NaN in the other).
///
/// # Panics
/// If `a` is not square, or holds variables of another scope.
///
/// # Example
/// ```
/// use adroit_reverse::nalgebra::DMatrix;
/// use adroit_reverse::{Var, gradient, symmetric_eigen};
/// // d/dt of (v₀·v₁) for the eigenvector of λ = 1 of [[1, t], [t, 3]] at t = 0: −½.
/// let g = gradient(
///     |x| {
///         let (one, three) = (Var::constant(1.0_f64), Var::constant(3.0));
///         let a = DMatrix::from_row_slice(2, 2, &[one, x[0], x[0], three]);
///         let (values, vectors) = symmetric_eigen(&a);
///         let k = if values[0].value() < 2.0 { 0 } else { 1 };
///         vectors[(0, k)] * vectors[(1, k)]
///     },
///     &[0.0],
/// );
/// assert!((g[0] + 0.5).abs() < 1e-15);
/// ```
#[track_caller]
pub fn symmetric_eigen<T>(a: &DMatrix<Var<T>>) -> (DVector<Var<T>>, DMatrix<Var<T>>)
where
    T: TapeScalar + RealField,
{
    let n = a.nrows();
    let primal = adroit_forward::__private::symmetric_from_lower(a, Var::value);
    if n == 0 {
        return (
            DVector::from_vec(Vec::new()),
            DMatrix::from_vec(0, 0, Vec::new()),
        );
    }
    // Exact tangents for a dual `T`, as in `svd`.
    let (lambda, v) = T::eigen_symmetric(&primal);
    let outputs: Vec<T> = lambda.iter().chain(v.iter()).copied().collect();
    let rule = EigenPullback::new(&primal, lambda, v);
    let pullback = move |w: &[T]| {
        let v_bar = DMatrix::from_column_slice(n, n, &w[n..]);
        rule.apply(&w[..n], &v_bar).as_slice().to_vec()
    };
    let out = custom_rule(a.as_slice(), &outputs, pullback);
    let values = DVector::from_column_slice(&out[..n]);
    let vectors = DMatrix::from_column_slice(n, n, &out[n..]);
    (values, vectors)
}

/// The pullback of a symmetric eigendecomposition (first-order perturbation theory, JAX's
/// `eigh` rule, with the tie conventions documented on [`symmetric_eigen`]), shared by
/// [`symmetric_eigen`] and the matrix tape's
/// [`MatVar::symmetric_eigen`](crate::matrix::MatVar::symmetric_eigen): what the forward pass
/// saves, and the map from the cotangents `(λ̄, V̄)` to `Ā` folded onto the lower triangle.
pub(crate) struct EigenPullback<T: TapeScalar + RealField> {
    /// Eigenvalues, `n`.
    lambda: DVector<T>,
    /// Unit eigenvectors, one per column, `n × n`.
    v: DMatrix<T>,
    /// The pairs of eigenvalues equal up to rounding.
    near: DMatrix<bool>,
    /// The computed vectors' errors, where some pair is near (else unused).
    errors: Option<EigenvectorErrors<T>>,
}

impl<T: TapeScalar + RealField> EigenPullback<T> {
    /// Saves the decomposition `(lambda, v)` of the symmetric matrix `primal` (`n ≥ 0`).
    pub(crate) fn new(primal: &DMatrix<T>, lambda: DVector<T>, v: DMatrix<T>) -> Self {
        let near = adroit_forward::__private::near_ties(&lambda);
        let errors = near
            .iter()
            .any(|&b| b)
            .then(|| EigenvectorErrors::new(primal, &lambda, &v, &near));
        Self {
            lambda,
            v,
            near,
            errors,
        }
    }

    /// `Ā = V·(diag(λ̄) + F ∘ (Vᵀ·V̄))·Vᵀ` folded onto the lower triangle (each entry below
    /// the diagonal receives `Āᵢⱼ + Āⱼᵢ`, the upper triangle 0). `lambda_bar`: `n`; `v_bar`:
    /// `n × n`.
    pub(crate) fn apply(&self, lambda_bar: &[T], v_bar: &DMatrix<T>) -> DMatrix<T> {
        let (lambda, v) = (&self.lambda, &self.v);
        let n = lambda.len();
        // Products with the 0·∞ = 0 convention: an infinite cotangent (`sqrt` of a zero
        // eigenvalue) meets the zeros of the eigenvectors. Between eigenvalues equal up to
        // rounding, an entry within the error it is formed with counts as zero (`snap_tied`) —
        // in value only: under `hessian` an entry 0 in value can carry a tangent (at a
        // diagonal matrix). Not the difference of the pair's two entries, which only the
        // folded gradient reads: for a smooth function of the spectrum it is the gap times a
        // divided difference (`yᵀA⁻¹y`), not rounding.
        let projected = chain_matmul(&v.transpose(), v_bar);
        let projected = match &self.errors {
            Some(errors) => {
                let threshold = cotangent_threshold(v, v_bar, &projected, errors);
                let zeroed = |x: T| x - x.detached();
                adroit_forward::__private::snap_tied(projected, &self.near, || threshold, zeroed)
            }
            None => projected,
        };
        // A zero numerator gives 0 even at a repeated eigenvalue (0/0), so eigenvalue-only
        // losses stay finite there (the convention that a zero cotangent is never NaN).
        // Identically zero (`is_zero`): an entry 0 in value can carry a tangent, whose
        // second-order part `==` (values only) would drop.
        let inner = DMatrix::from_fn(n, n, |i, j| {
            if i == j {
                lambda_bar[i]
            } else {
                adroit_forward::__private::gap_quotient(projected[(i, j)], lambda[j] - lambda[i])
            }
        });
        let full = chain_matmul(&chain_matmul(v, &inner), &v.transpose());
        // Fold onto the lower triangle, the entries the function reads.
        DMatrix::from_fn(n, n, |i, j| {
            if i > j {
                full[(i, j)] + full[(j, i)]
            } else if i == j {
                full[(i, i)]
            } else {
                T::zero()
            }
        })
    }
}

/// The thresholds of adroit-forward's `snap_tied` for `projected = Vᵀ·V̄`: `8nε·(|Vᵀ|·|V̄|)ₖₗ`,
/// the rounding in forming it (none where `vₖ` is a signed unit vector), a pair's unresolved
/// residual (`EigenvectorErrors::within_clusters`), plus what the computed `vₖ`'s own error carries into it
/// (`errors`, adroit-forward's `EigenvectorErrors`: direction by direction, `V̄` exact).
fn cotangent_threshold<T: TapeScalar + RealField>(
    v: &DMatrix<T>,
    v_bar: &DMatrix<T>,
    projected: &DMatrix<T>,
    errors: &EigenvectorErrors<T>,
) -> DMatrix<T> {
    let n = v.ncols();
    let product = adroit_forward::__private::abs_product(&v.transpose(), v_bar);
    let factor: T = adroit_forward::__private::rounding_factor(n);
    let norms = adroit_forward::__private::column_norms(v_bar);
    let carried = errors.of_projection(projected, &norms);
    let within = errors.within_clusters(&norms, adroit_forward::__private::frobenius(v_bar));
    let unit = adroit_forward::__private::signed_unit_columns(v);
    DMatrix::from_fn(n, n, |k, l| {
        let rounding = if unit[k] {
            T::zero()
        } else {
            factor * product[(k, l)]
        };
        rounding + carried[(k, l)] + within[(k, l)]
    })
}
