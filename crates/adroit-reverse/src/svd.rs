//! [`svd`]: the thin singular value decomposition of a matrix of variables as one recorded node
//! with the exact pullback, where nalgebra's iteration on `Var`s gets the derivatives wrong at
//! triangular, diagonal and rank-deficient matrices.

use crate::{TapeScalar, Var, custom_rule};
use adroit_forward::__private::{SvdTies, empty_svd, svd_pullback};
use adroit_forward::Svd;
use nalgebra::{DMatrix, DVector, RealField};

/// The thin SVD `a = U·diag(σ)·Vᵀ`, recorded as one node whose pullback is the transpose of
/// adroit-forward's [`svd`](adroit_forward::svd) tangents (Townsend 2016, "Differentiating
/// the singular value decomposition"): for cotangents `Ū`, `σ̄`, `V̄ᵀ`,
///
/// `Ā = U·(G·S + S·H + diag(σ̄))·Vᵀ + (I − UUᵀ)·Ū·S⁻¹·Vᵀ + U·S⁻¹·V̄ᵀ·(I − VVᵀ)`,
///
/// `S = diag(σ)`, `G = F ∘ (UᵀŪ − ŪᵀU)`, `H = F ∘ (VᵀV̄ − V̄ᵀV)`, `Fᵢⱼ = 1/(σⱼ² − σᵢ²)` off the
/// diagonal and 0 on it (the last two terms only for a tall or a wide matrix). Values are
/// nalgebra's `svd` of the primal matrix: `U` (`m × k`), `σ` (`k`, descending) and `Vᵀ`
/// (`k × n`), `k = min(m, n)`, each singular pair with nalgebra's sign.
///
/// `a.svd(true, true)` on a `DMatrix<Var<f64>>` differentiates nalgebra's iterations instead,
/// which gives zero singular-vector derivatives at a diagonal or triangular matrix and wrong
/// singular-value derivatives at a rank-deficient one. Here a loss of the singular values
/// alone has the gradient `Σ σ̄ᵢ·uᵢvᵢᵀ`, finite everywhere (also at a zero or repeated
/// singular value, where it is that of nalgebra's basis); the singular vectors of a repeated
/// singular value, and those of a zero one in a tall or wide matrix, are not differentiable: a
/// cotangent that mixes them gives infinite or NaN contributions, and those of a repeated zero
/// singular value none (the zero convention: a zero numerator gives 0; as in the tangents).
/// A cotangent reaching a zero singular value's vectors only through that value (a loss
/// written through `U·S·Vᵀ`, smooth there) is 0 there, so the gradient is finite and silently
/// misses the part between the null spaces: `cᵀ·U·S·Vᵀ·d` at a 4 × 3 matrix of rank 2 came
/// out 5 % off its gradient `c·dᵀ`, and at the 1 × 3 zero matrix two of its three entries
/// were 0 (JAX gives NaN).
/// Between singular values within `8·max(m, n)·ε·max σ` of each other (nalgebra returns a
/// repeated one a few ulps apart) an entry of `UᵀŪ + VᵀV̄` within the error it is formed with
/// counts as zero, as in adroit-forward's [`svd`](adroit_forward::svd), so cotangents that do
/// not mix the pair (a constant `‖U‖²` term) leave the gradient finite and exact. The entries
/// are judged each against its own error (a pair's two zeroed together, only when both are
/// within), so a pair's two never cancel into a silent 0: a basis-independent
/// loss written through the vectors (`yᵀA⁻¹y`, the polar factor `⟨C, U·Vᵀ⟩`) gets infinite or
/// NaN contributions at a repeated singular value (tested), and finite, wrong ones at
/// singular values equal only up to rounding but more than 8ε apart relatively (larger
/// matrices; a review found 4 × 4 ones 5e-15 apart 25 % off).
/// Compute such losses by Cholesky or LU where singular values may repeat (adroit-forward's
/// crate docs, "Eigendecompositions and SVD").
/// An entry that is NaN or infinite makes every result NaN.
///
/// Second derivatives: under [`hessian`](crate::hessian) and [`hvp`](crate::hvp) the values
/// are adroit-forward's [`svd`](adroit_forward::svd) of the dual matrix and the pullback runs
/// in dual arithmetic, so Hessians are exact where the singular values are distinct and
/// non-zero and no two are equal up to rounding (as adroit-forward's
/// [`svd_hyperdual`](adroit_forward::svd_hyperdual), whose docs give the exception beside a
/// near pair; tested against it and central differences, also at a diagonal matrix).
///
/// # Panics
/// If `a` holds variables of another scope.
///
/// # Example
/// ```
/// use adroit_reverse::nalgebra::DMatrix;
/// use adroit_reverse::{gradient, svd};
/// // The nuclear norm Σσᵢ has the gradient U·Vᵀ: for [[2, x], [0, 1]] at x = 0, U = V = I up
/// // to signs, so ∂/∂x = 0; its largest singular value at x = 1 has the gradient u₁v₁ᵀ.
/// let nuclear = |x: &[adroit_reverse::Var<f64>]| {
///     let c = adroit_reverse::Var::constant;
///     let a = DMatrix::from_row_slice(2, 2, &[c(2.0), x[0], c(0.0), c(1.0)]);
///     svd(&a).1.sum()
/// };
/// assert!(gradient(nuclear, &[0.0])[0].abs() < 1e-15);
/// let a = DMatrix::from_row_slice(2, 2, &[2.0_f64, 1.0, 0.0, 1.0]);
/// let g = gradient(
///     |x| svd(&DMatrix::from_column_slice(2, 2, x)).1[0],
///     a.as_slice(),
/// );
/// let plain = a.svd(true, true);
/// let (u, v_t) = (plain.u.unwrap(), plain.v_t.unwrap());
/// let expected = u.column(0) * v_t.row(0);
/// assert!(g.iter().zip(expected.iter()).all(|(g, e): (&f64, &f64)| (g - e).abs() < 1e-14));
/// ```
#[track_caller]
pub fn svd<T>(a: &DMatrix<Var<T>>) -> Svd<Var<T>>
where
    T: TapeScalar + RealField,
{
    let (m, n) = a.shape();
    let k = m.min(n);
    if k == 0 {
        return empty_svd(m, n);
    }
    // Exact tangents for a dual `T` (under `hessian`/`hvp`), see `thin_svd`.
    let primal = a.map(|x| x.value());
    let rule = SvdPullback::new(&primal, T::thin_svd(&primal));
    let outputs = rule.stacked();
    let pullback = move |w: &[T]| rule.apply(w).as_slice().to_vec();
    let out = custom_rule(a.as_slice(), &outputs, pullback);
    let (out_u, rest) = out.split_at(m * k);
    let (out_s, out_v_t) = rest.split_at(k);
    (
        DMatrix::from_column_slice(m, k, out_u),
        DVector::from_column_slice(out_s),
        DMatrix::from_column_slice(k, n, out_v_t),
    )
}

/// The pullback of a thin SVD (the rule documented on [`svd`]), shared by [`svd`] and the
/// matrix tape's [`MatVar::svd`](crate::matrix::MatVar::svd): the factors and their ties
/// saved by the forward pass, and the map from the stacked cotangents to `Ā`.
pub(crate) struct SvdPullback<T: TapeScalar + RealField> {
    u: DMatrix<T>,
    s: DVector<T>,
    v_t: DMatrix<T>,
    ties: Option<SvdTies<T>>,
}

impl<T: TapeScalar + RealField> SvdPullback<T> {
    /// Saves `factors`, the thin SVD `(U, σ, Vᵀ)` of `primal` (`k = min(m, n) ≥ 1`).
    pub(crate) fn new(primal: &DMatrix<T>, factors: Svd<T>) -> Self {
        let (u, s, v_t) = factors;
        let ties = SvdTies::new(primal, &u, &s, &v_t);
        Self { u, s, v_t, ties }
    }

    /// The factors' entries stacked: `U` (column-major), then `σ`, then `Vᵀ` (column-major),
    /// `m·k + k + k·n` values — the layout [`apply`](Self::apply) reads cotangents in.
    pub(crate) fn stacked(&self) -> Vec<T> {
        let (u, s, v_t) = (&self.u, &self.s, &self.v_t);
        u.iter()
            .chain(s.iter())
            .chain(v_t.iter())
            .copied()
            .collect()
    }

    /// `Ā` (`m × n`) for the cotangents `w`, stacked as [`stacked`](Self::stacked).
    pub(crate) fn apply(&self, w: &[T]) -> DMatrix<T> {
        let (m, k, n) = (self.u.nrows(), self.s.len(), self.v_t.ncols());
        let (w_u, rest) = w.split_at(m * k);
        let (w_s, w_v_t) = rest.split_at(k);
        let cotangents = (
            &DMatrix::from_column_slice(m, k, w_u),
            &DVector::from_column_slice(w_s),
            &DMatrix::from_column_slice(k, n, w_v_t),
        );
        // Rounding between near singular values is zeroed in value only: under `hessian` an
        // entry 0 in value can carry a tangent (at a diagonal matrix).
        let zeroed = |x: T| x - x.detached();
        let factors = (&self.u, &self.s, &self.v_t);
        svd_pullback(factors, cotangents, self.ties.as_ref(), zeroed)
    }
}
