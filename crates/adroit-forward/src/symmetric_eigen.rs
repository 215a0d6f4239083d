//! [`symmetric_eigen`]: the eigendecomposition of a symmetric matrix of duals with exact
//! tangents, where nalgebra's iteration on the duals drops them (see the crate docs,
//! "Eigendecompositions and SVD").

use crate::TangentLanes;
use crate::eigenvector_errors::{EigenvectorErrors, rotation_threshold};
use nalgebra::{DMatrix, DVector, RealField};
use num_traits::Float;

/// Eigenvalues and eigenvectors of the symmetric matrix `a + t·ȧ` (entries `Dual::new(a, ȧ)`,
/// or [`DualVec`](crate::DualVec)s with one `ȧ` per tangent lane: any [`TangentLanes`] type)
/// with their exact first derivatives in `t`: nalgebra's `SymmetricEigen` of the primal part,
/// and the tangents of first-order perturbation theory (JAX's `eigh` JVP rule),
///
/// `λ̇ᵢ = vᵢᵀ·ȧ·vᵢ`,  `v̇ᵢ = Σⱼ≠ᵢ vⱼ·(vⱼᵀ·ȧ·vᵢ)/(λᵢ − λⱼ)`.
///
/// Unlike `a.symmetric_eigen()` on the dual matrix, this keeps the eigenvector tangents where
/// an off-diagonal entry is zero in value but perturbed (a diagonal matrix moved off its
/// diagonal), which nalgebra's deflation drops.
///
/// `a`: `n × n`, read from its lower triangle as nalgebra's `symmetric_eigen` does (the
/// tangent too); returns the `n` eigenvalues and the `n × n` matrix of unit eigenvectors (one
/// per column), in the order of nalgebra's `SymmetricEigen` of the primal matrix that the
/// lower triangle defines (not sorted: JAX's `eigh` sorts ascending). At a repeated
/// eigenvalue the eigenvectors are not differentiable: a perturbation that mixes the pair
/// gives them infinite or NaN tangents; one that does not gives finite ones (0 for the pair's
/// share), which can still be wrong where the pair is coupled through a third eigenvector
/// (that needs degenerate perturbation theory, not implemented; a constant matrix gives zero
/// tangents); the eigenvalues' tangents stay finite, `diag(VᵀȧV)` for the basis returned. The
/// quotients use the computed gaps, so distinct eigenvalues keep their tangents however close
/// (exact at a diagonal matrix, whose decomposition is exact; elsewhere of relative accuracy
/// about `ε·max|λ|/gap`). Between eigenvalues equal up to rounding (within `8nε·max|λ|`:
/// nalgebra returns an exactly repeated one a few ulps apart) an entry of `VᵀȧV` within the
/// error it is formed with (`8nε·|Vᵀ|·|ȧ|·|V|` for the product's rounding, plus what the
/// computed vectors' own error carries into it, direction by direction: each vector's
/// component along every eigenvector outside its cluster, bounded from its residual, times
/// `ȧ`'s coupling in that direction, its departure from orthogonality, and a pair's residual
/// inside its cluster where the decomposition left the pair unresolved; zero for an entry
/// formed exactly, as at a diagonal matrix) counts as zero, so a perturbation
/// that does not mix the pair (`ȧ = I`, `ȧ = a`) gives 0 as in exact arithmetic; one that
/// mixes it gives the quotient by the computed gap, large, finite and not a derivative — unless
/// its mixing part is below that error: beside a simple eigenvalue closer than about
/// `1e-8·max|λ|` the bound grows like `1/gap²` (a review measured mixing parts up to 3e-9
/// taken as zero at a neighbour 1e-9 away, 6e-5 at 1e-11), and the pair's tangents come out 0.
/// `VᵀȧV` is taken symmetric (as it is in exact arithmetic), so a smooth function of the
/// matrix written through its eigenvectors (`Σₖ f(λₖ)·vₖvₖᵀ`) gets its pair's terms as a
/// divided difference `(f(λₖ) − f(λₗ))/(λₖ − λₗ)` times the mixing part — but formed from two
/// terms of size `|f|·|mixing|/gap` that cancel, so its absolute error is about
/// `ε·|f|·|mixing|/gap`: fine beside well-separated eigenvalues, and at eigenvalues equal up
/// to rounding only while the mixing part is tiny (`cᵀ·exp(A)·c` within 2e-12 at an exact tie
/// for a mixing part of 1e-9, tested against its Taylor series; mixing parts of order 1 gave
/// tangents 0.7 % off in that 4 × 4 case, −11.34375 for −11.266346333051725, and 6.5 % off in
/// a 3 × 3 one, 2.750 for 2.941259778483617 — finite and wrong, where JAX's `eigh` gives NaN).
/// Differentiate such a function at a repeated eigenvalue by other means: its series, or for
/// `exp` nalgebra's own `exp` of the dual matrix (a Padé approximant with scaling and
/// squaring: −11.266346333051747 and 2.941259778483631 in those cases). An
/// entry of the lower triangle (the part read) that is NaN or infinite makes every result NaN.
/// A 0 × 0 matrix gives empty results.
///
/// # Panics
/// If `a` is not square.
///
/// # Example
/// ```
/// use adroit_forward::{Dual, symmetric_eigen};
/// use adroit_forward::nalgebra::DMatrix;
/// // diag(1, 3) + t·(E₁₂ + E₂₁): eigenvalues 2 ∓ √(1 + t²), flat at t = 0; the eigenvector of
/// // λ = 1 is (1, −t/2) + O(t²), so its entries' product has slope −½ (sign-free).
/// let (c, t) = (Dual::constant, Dual::new(0.0_f64, 1.0));
/// let a = DMatrix::from_row_slice(2, 2, &[c(1.0), t, t, c(3.0)]);
/// let (values, vectors) = symmetric_eigen(&a);
/// let k = if values[0].value() < 2.0 { 0 } else { 1 };
/// assert_eq!((values[k].value(), values[k].tangent()), (1.0, 0.0));
/// let product = vectors[(0, k)] * vectors[(1, k)];
/// assert!((product.tangent() + 0.5).abs() < 1e-15);
/// ```
#[track_caller]
pub fn symmetric_eigen<D: TangentLanes>(a: &DMatrix<D>) -> (DVector<D>, DMatrix<D>) {
    let n = a.nrows();
    let primal = symmetric_from_lower(a, |x| x.primal_value());
    if n == 0 {
        return (
            DVector::from_vec(Vec::new()),
            DMatrix::from_vec(0, 0, Vec::new()),
        );
    }
    let (lambda, v) = primal_symmetric_eigen(primal.clone());
    let zero = <D::Real as num_traits::Zero>::zero();
    // Per tangent lane: ȧ in the eigenbasis, Vᵀ·ȧ·V, and V̇ = V·(F ∘ VᵀȧV) with
    // Fⱼᵢ = 1/(λᵢ − λⱼ) off the diagonal, 0 on it. A zero numerator gives 0 even at a repeated
    // eigenvalue (0/0): constant inputs, or a perturbation that does not mix the pair, leave
    // the eigenvectors' tangents finite.
    let near = near_ties(&lambda);
    let errors = near
        .iter()
        .any(|&b| b)
        .then(|| EigenvectorErrors::new(&primal, &lambda, &v, &near));
    let lanes: Vec<_> = (0..D::LANES)
        .map(|l| {
            let dot = symmetric_from_lower(a, |x| x.lane(l));
            let rotated = symmetric_part(v.transpose() * &dot * &v);
            let threshold = errors
                .as_ref()
                .map(|errors| rotation_threshold(&v, &dot, &rotated, errors));
            let rotated = snap_tied(
                rotated,
                &near,
                || threshold.expect("a pair is near"),
                |_| zero,
            );
            let weighted = DMatrix::from_fn(n, n, |j, i| {
                if i == j {
                    zero
                } else {
                    gap_quotient(rotated[(j, i)], lambda[i] - lambda[j])
                }
            });
            let v_dot: DMatrix<D::Real> = &v * weighted;
            (rotated, v_dot)
        })
        .collect();
    let values = DVector::from_fn(n, |i, _| D::from_lanes(lambda[i], |l| lanes[l].0[(i, i)]));
    let vectors = DMatrix::from_fn(n, n, |r, c| {
        D::from_lanes(v[(r, c)], |l| lanes[l].1[(r, c)])
    });
    (values, vectors)
}

/// The pairs `(k, l)`, `k ≠ l`, of eigenvalues equal up to rounding: `|λₖ − λₗ| ≤ 8nε·max|λ|`
/// (a backward-stable eigensolver's eigenvalues carry absolute errors of order `nε·‖A‖₂`, so an
/// exactly repeated eigenvalue of a rotated matrix comes out a few ulps apart). It only
/// decides where rounding-size numerators count as zero ([`snap_tied`]; the hyper-dual's
/// second-order numerators likewise): the quotients keep the computed gaps, so distinct
/// eigenvalues closer than that (of a diagonal matrix, whose decomposition is exact) keep
/// their exact tangents. Shared with [`symmetric_eigen_hyperdual`](crate::symmetric_eigen_hyperdual) and
/// adroit-reverse's `symmetric_eigen`.
#[doc(hidden)]
pub fn near_ties<T: Float + nalgebra::Scalar>(lambda: &DVector<T>) -> DMatrix<bool> {
    near_pairs(lambda, lambda.len())
}

/// The pairs `(k, l)`, `k ≠ l`, of `values` within `8·size·ε·max|x|` of each other: those equal
/// up to the rounding of a decomposition of a `size × size` matrix ([`near_ties`]; the
/// singular values of an `m × n` matrix with `size = max(m, n)`).
pub(crate) fn near_pairs<T: Float + nalgebra::Scalar>(
    values: &DVector<T>,
    size: usize,
) -> DMatrix<bool> {
    let n = values.len();
    let rounding = rounding_of(values.as_slice(), size);
    DMatrix::from_fn(n, n, |k, l| {
        k != l && Float::abs(values[k] - values[l]) <= rounding
    })
}

/// `m` (an `n × n` perturbation or cotangent in the eigenbasis) with its entries between
/// eigenvalues equal up to rounding (`near` from [`near_ties`]) replaced by `zeroed(entry)`
/// where they are rounding themselves, a pair's two entries `(k, l)` and `(l, k)` together:
/// each at most its entry of `threshold()`, the error with
/// which they were formed (`rotation_threshold` for `Vᵀ·Ȧ·V`: the product's rounding and
/// the computed eigenvectors' own error; never above zero for an entry formed exactly, as at a
/// diagonal matrix whose `V` is exact). A perturbation that does not mix such a pair (`Ȧ = I`,
/// `Ȧ = A`) then gives the pair's quotients 0, as in exact arithmetic, where rounding over
/// rounding gave arbitrary finite tangents; a larger entry, which mixes the pair, is kept.
/// `threshold` is called only when a pair is near. `zeroed` gives 0 for a plain float; for a
/// dual whose value is compared (adroit-reverse's pullback under a Hessian), 0 in value with
/// the tangents kept. Shared as [`near_ties`].
#[doc(hidden)]
pub fn snap_tied<T: Float + nalgebra::Scalar>(
    mut m: DMatrix<T>,
    near: &DMatrix<bool>,
    threshold: impl FnOnce() -> DMatrix<T>,
    zeroed: impl Fn(T) -> T,
) -> DMatrix<T> {
    if !near.iter().any(|&b| b) {
        return m;
    }
    let threshold = threshold();
    let n = m.nrows();
    for l in 0..n {
        for k in (l + 1..n).filter(|&k| near[(k, l)] || near[(l, k)]) {
            // The pair's two entries together: both are rounding, or both are kept. Zeroing
            // one alone turns their difference, which the pullback divides by the gap, into
            // the other entry (a projector onto both vectors, whose two entries are equal:
            // 1e13 for −0.67 at a gap of 1e-13, when the thresholds differed).
            let within = |(r, c): (usize, usize)| Float::abs(m[(r, c)]) <= threshold[(r, c)];
            if within((k, l)) && within((l, k)) {
                m[(k, l)] = zeroed(m[(k, l)]);
                m[(l, k)] = zeroed(m[(l, k)]);
            }
        }
    }
    m
}

/// Row `k`'s largest departure of the Gram matrix `gram` (`VᵀV`) from the identity: how far
/// the computed vector `k` is from orthogonal to the others and from unit length.
pub(crate) fn departure<T: Float + RealField>(gram: &DMatrix<T>, k: usize) -> T {
    (0..gram.ncols()).fold(T::zero(), |m, l| {
        let target = if k == l { T::one() } else { T::zero() };
        Float::max(m, Float::abs(gram[(k, l)] - target))
    })
}

/// Whether each column of `m` is a signed unit vector `±eᵣ` (one non-zero entry, ±1): a
/// product `vₖᵀ·X·vₗ` of such columns is one entry of `X` up to sign, formed without rounding,
/// so the thresholds of [`snap_tied`] allow it no rounding (at a diagonal or permuted-diagonal
/// matrix, whose decomposition is exact, a genuine entry as small as a gap is kept). Shared as
/// [`near_ties`].
#[doc(hidden)]
pub fn signed_unit_columns<T: Float + nalgebra::Scalar>(m: &DMatrix<T>) -> Vec<bool> {
    m.column_iter()
        .map(|c| {
            // compared in value (`!=`, not `is_zero`): a dual's entry 0 in value counts as 0
            let nonzero: Vec<T> = c.iter().copied().filter(|&x| x != T::zero()).collect();
            nonzero.len() == 1 && Float::abs(nonzero[0]) == T::one()
        })
        .collect()
}

/// `(m + mᵀ)/2`: `Vᵀ·Ȧ·V` of a symmetric `Ȧ` as the symmetric matrix it is, its rounding
/// made the same on both sides of the diagonal. The pair `(k, l)` of close eigenvalues enters
/// a function of the matrix through `(Rₗₖ·f(λₖ) − Rₖₗ·f(λₗ))/(λₖ − λₗ)`: with `R` symmetric
/// that is `R`'s entry times a divided difference; with the product's unequal rounding the
/// difference `Rₗₖ − Rₖₗ` over the gap added an error (3e-4 relative for `cᵀ·exp(A)·c` at a
/// gap of 1e-14). Shared as [`near_ties`].
#[doc(hidden)]
pub fn symmetric_part<T: Float + nalgebra::Scalar>(m: DMatrix<T>) -> DMatrix<T> {
    let half = T::one() / (T::one() + T::one());
    DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| (m[(i, j)] + m[(j, i)]) * half)
}

/// `|a|·|b|`, entry by entry: the scale of the rounding in `a·b` (see [`snap_tied`]).
#[doc(hidden)]
pub fn abs_product<T: Float + nalgebra::Scalar>(a: &DMatrix<T>, b: &DMatrix<T>) -> DMatrix<T> {
    DMatrix::from_fn(a.nrows(), b.ncols(), |i, j| {
        (0..a.ncols()).fold(T::zero(), |acc, k| {
            acc + Float::abs(a[(i, k)]) * Float::abs(b[(k, j)])
        })
    })
}

/// The Euclidean norm of each column of `m`. Shared as [`near_ties`].
#[doc(hidden)]
pub fn column_norms<T: Float + nalgebra::Scalar>(m: &DMatrix<T>) -> Vec<T> {
    m.column_iter()
        .map(|c| Float::sqrt(c.iter().fold(T::zero(), |acc, &x| acc + x * x)))
        .collect()
}

/// `8nε`: the relative rounding of an `n × n` eigendecomposition's results and of products of
/// `n × n` matrices, with a margin. Shared as [`near_ties`].
#[doc(hidden)]
pub fn rounding_factor<T: Float>(n: usize) -> T {
    T::epsilon() * T::from(8 * n).unwrap_or_else(T::one)
}

/// `8nε` times the largest `|x|` of `xs`: the rounding of an `n × n` eigendecomposition's
/// results of that scale.
pub(crate) fn rounding_of<T: Float>(xs: &[T], n: usize) -> T {
    rounding_factor::<T>(n) * largest_magnitude(xs)
}

/// The largest `|x|` of `xs` (0 for none; a NaN is skipped, as by `f64::max`). Shared with
/// `jacobi_svd`.
pub(crate) fn largest_magnitude<'a, T: Float + 'a>(xs: impl IntoIterator<Item = &'a T>) -> T {
    xs.into_iter()
        .fold(T::zero(), |m, &x| Float::max(m, Float::abs(x)))
}

/// `num / gap` with the zero convention: a zero numerator gives 0 whatever the gap (also at a
/// repeated eigenvalue). Shared as [`near_ties`].
#[doc(hidden)]
#[inline]
pub fn gap_quotient<T: Float>(num: T, gap: T) -> T {
    if num.is_zero() { T::zero() } else { num / gap }
}

/// nalgebra's `SymmetricEigen` of the symmetric `primal` (`n ≥ 1`): eigenvalues and unit
/// eigenvectors; all NaN when an entry is NaN or infinite (nalgebra's `f64` decomposition then
/// returns some finite numbers among NaN, e.g. an eigenvalue 1 of a matrix holding a NaN).
/// Shared with [`symmetric_eigen_hyperdual`](crate::symmetric_eigen_hyperdual) and
/// adroit-reverse's `symmetric_eigen`.
#[doc(hidden)]
pub fn primal_symmetric_eigen<T: Float + RealField>(
    primal: DMatrix<T>,
) -> (DVector<T>, DMatrix<T>) {
    let n = primal.nrows();
    if !primal.iter().all(|v| Float::is_finite(*v)) {
        let nan = <T as Float>::nan();
        return (
            DVector::from_element(n, nan),
            DMatrix::from_element(n, n, nan),
        );
    }
    let mut eig = primal.clone().symmetric_eigen();
    // Where a computed eigenvector is a signed unit vector `±eᵣ` its eigenvalue is the
    // diagonal entry `Aᵣᵣ` (its Rayleigh quotient, exact): nalgebra's may come back an ulp
    // off (it scales the matrix by its largest entry and back), and at a diagonal matrix the
    // tangents divide by those eigenvalues' gaps — one ulp in a gap of one ulp halved them.
    for (k, unit) in signed_unit_columns(&eig.eigenvectors)
        .into_iter()
        .enumerate()
    {
        if unit && let Some(r) = eig.eigenvectors.column(k).iter().position(|x| !x.is_zero()) {
            eig.eigenvalues[k] = primal[(r, r)];
        }
    }
    (eig.eigenvalues, eig.eigenvectors)
}

/// The symmetric `n × n` matrix that the lower triangle of `a` defines, entry by entry through
/// `f` (what nalgebra's `symmetric_eigen` reads; shared with adroit-reverse's
/// `symmetric_eigen`).
///
/// # Panics
/// If `a` is not square, naming `symmetric_eigen`.
#[doc(hidden)]
#[track_caller]
pub fn symmetric_from_lower<S, T>(a: &DMatrix<S>, f: impl Fn(&S) -> T) -> DMatrix<T>
where
    S: nalgebra::Scalar,
    T: nalgebra::Scalar,
{
    assert!(
        a.is_square(),
        "symmetric_eigen: the matrix must be square, not {}×{}",
        a.nrows(),
        a.ncols()
    );
    let n = a.nrows();
    DMatrix::from_fn(
        n,
        n,
        |i, j| if i >= j { f(&a[(i, j)]) } else { f(&a[(j, i)]) },
    )
}
