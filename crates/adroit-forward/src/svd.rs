//! [`svd`]: the thin singular value decomposition of a matrix of duals with exact tangents,
//! where nalgebra's iteration on the duals loses them (see the crate docs, "Eigendecompositions
//! and SVD"); and the matching pullback, which adroit-reverse's `svd` records.

use crate::jacobi_svd::{is_accurate, jacobi_svd};
use crate::svd_ties::SvdTies;
use crate::symmetric_eigen::signed_unit_columns;
use crate::{TangentLanes, chain_matmul};
use nalgebra::{DMatrix, DVector, RealField};
use num_traits::Float;

/// A thin singular value decomposition `(U, σ, Vᵀ)` of an `m × n` matrix: `U` (`m × k`), `σ`
/// (`k`) and `Vᵀ` (`k × n`), `k = min(m, n)`, as [`svd`] (and adroit-reverse's `svd`) return it.
pub type Svd<S> = (DMatrix<S>, DVector<S>, DMatrix<S>);

/// The thin SVD `a = U·diag(σ)·Vᵀ` of the matrix `a + t·ȧ` (entries `Dual::new(a, ȧ)`, or
/// [`DualVec`](crate::DualVec)s with one `ȧ` per tangent lane, as the chunked functions seed
/// them: any [`TangentLanes`] type) with the exact first derivatives in `t` of `U`, `σ` and
/// `Vᵀ`: nalgebra's `svd` of the primal part (checked: where it does not reproduce the matrix
/// to working accuracy — nalgebra 0.35 misses by up to 5e-3 relative at a repeated singular
/// value beside a smaller one, the symptom of nalgebra issue #1172 — recomputed by one-sided
/// Jacobi), and
/// the tangents of first-order perturbation theory (JAX's `svd` JVP rule; Townsend 2016,
/// "Differentiating the singular value decomposition"). With `P = Uᵀ·ȧ·V`,
///
/// `σ̇ᵢ = Pᵢᵢ`,  `U̇ = U·(F ∘ (P·S + S·Pᵀ)) + (I − UUᵀ)·ȧ·V·S⁻¹`,
/// `V̇ = V·(F ∘ (S·P + Pᵀ·S)) + (I − VVᵀ)·ȧᵀ·U·S⁻¹`,
///
/// `S = diag(σ)`, `Fᵢⱼ = 1/(σⱼ² − σᵢ²)` off the diagonal and 0 on it; the projection terms are
/// formed only for a tall (`U`) or wide (`V`) matrix, where they are not zero. The
/// coefficients are formed split, `Sᵢⱼ/(σⱼ − σᵢ) ± Kᵢⱼ/(σⱼ + σᵢ)` (`+` for `U`, `−` for `V`)
/// with `S` and `K` the symmetric and antisymmetric parts of `P`: `S` mixes a repeated pair,
/// `K` turns `U` against `V` and stays finite there.
///
/// `a.svd(true, true)` on the dual matrix differentiates nalgebra's iterations instead: it
/// gives zero singular-vector tangents at a diagonal or triangular matrix (the deflation sets
/// zero-valued entries to zero, tangents included) and wrong singular-value tangents at a
/// rank-deficient one (rotations built from rounding-sized values amplify their tangents).
///
/// `a`: `m × n`; returns `U` (`m × k`, orthonormal columns), `σ` (`k`, non-negative,
/// descending as nalgebra sorts them) and `Vᵀ` (`k × n`), `k = min(m, n)`. Each singular pair
/// `(uᵢ, vᵢ)` has nalgebra's sign; a product `uᵢ·vᵢᵀ` does not depend on it.
///
/// Where the derivative does not exist the tangents follow the crate's zero convention: a
/// zero numerator gives 0, else the quotient is infinite. So `σ̇` is always finite (`uᵢᵀȧvᵢ`
/// for nalgebra's basis, also at a zero or repeated singular value, where `σ` has a kink or
/// the basis is not unique), and the tangents of the simple non-zero singular values and
/// their vectors are exact also when other singular values are zero (a rank-deficient
/// matrix) — to rounding amplified by the gap: beside another singular value `δ` away
/// (relatively) the vectors' tangents are off by about `ε/δ` (a gradient of order 1 of a
/// linear function written through `U·S·Vᵀ`: 1e-8 at `δ = 1e-8`, 1.6e-5 at `1e-11`; JAX's the
/// same); the singular vectors of a repeated non-zero singular value (repeated up to
/// rounding too: values within 8ε of the larger, relatively — 8 to 16 ulps — count as one), and those of a zero
/// one in a tall or wide matrix, get infinite or NaN tangents under a perturbation that mixes
/// them (JAX gives NaN there too), while those of a repeated zero singular value get 0 there
/// (the numerator vanishes with σ) — neither is a derivative, which does not exist. A
/// perturbation that does not mix a repeated pair — scaling (`ȧ = a`) or turning (`ȧ = W·a`,
/// `ȧ = a·W`, `W` antisymmetric) — gets finite tangents, exact where the result does not
/// depend on the basis chosen inside the pair (the polar factor `U·Vᵀ`; tested): between
/// singular values within `8·max(m, n)·ε·max σ` of each other (nalgebra returns a repeated one
/// a few ulps apart), an entry of `S` within the error it is formed with (the product's
/// rounding, and the computed vectors' own error: zero where the decomposition is exact)
/// counts as zero, as in [`symmetric_eigen`](crate::symmetric_eigen). Singular values that
/// are equal only up to rounding but farther apart than that (larger matrices) give a mixing
/// perturbation large finite tangents, not a derivative. At a
/// rank-deficient matrix `U̇·S·Vᵀ + U·Ṡ·Vᵀ + U·S·V̇ᵀ` misses the part of `ȧ` between the null
/// spaces off their diagonal (no differentiable choice carries it). `F` is formed from the
/// singular values scaled by a power of two near the largest, so no scale of `a` overflows
/// `σ²`. Singular values below about 1e-162 of the largest are not resolved by nalgebra's
/// decomposition (its accuracy is absolute, `ε·σ_max`: `diag(1, 2e-164, 1e-164)` comes back
/// with zeros, `diag(1, 2e-162, 1e-162)` with vectors whose tangents are wrong): their
/// vectors' tangents are then those of zero singular values. An entry that
/// is NaN or infinite makes every result NaN (nalgebra's iteration would not end). A matrix
/// with a zero dimension gives empty results. First order: for second derivatives use
/// [`svd_hyperdual`](crate::svd_hyperdual); nested duals (`T = Dual<f64>`) would get their
/// inner level from nalgebra's iteration on `T`, with its failures at the matrices named above.
///
/// # Example
/// ```
/// use adroit_forward::{Dual, svd};
/// use adroit_forward::nalgebra::DMatrix;
/// // [[2, t], [0, 1]]: σ₁ = 2 + t²/3 + …, so σ̇₁ = 0 at t = 0; the left vector of σ₁ turns:
/// // u₁ = (1, t/3) + O(t²), so the sign-free product u₁₀·u₁₁ has slope 1/3.
/// let (c, t) = (Dual::constant, Dual::new(0.0_f64, 1.0));
/// let a = DMatrix::from_row_slice(2, 2, &[c(2.0), t, c(0.0), c(1.0)]);
/// let (u, sigma, v_t) = svd(&a);
/// assert_eq!((sigma[0].value(), sigma[0].tangent()), (2.0, 0.0));
/// assert!(((u[(0, 0)] * u[(1, 0)]).tangent() - 1.0 / 3.0).abs() < 1e-15);
/// // U·diag(σ)·Vᵀ reproduces the input, tangents included
/// let back = &u * DMatrix::from_diagonal(&sigma) * &v_t;
/// assert!((back[(0, 1)].tangent() - 1.0).abs() < 1e-15);
/// ```
#[track_caller]
pub fn svd<D: TangentLanes>(a: &DMatrix<D>) -> Svd<D> {
    let (m, n) = a.shape();
    let k = m.min(n);
    if k == 0 {
        return empty_svd(m, n);
    }
    let primal = a.map(|x| x.primal_value());
    let (u, s, v_t) = primal_svd(primal.clone());
    let ties = SvdTies::new(&primal, &u, &s, &v_t);
    let zero = <D::Real as num_traits::Zero>::zero();
    let lanes: Vec<Svd<D::Real>> = (0..D::LANES)
        .map(|l| {
            svd_jvp((&u, &s, &v_t), &a.map(|x| x.lane(l)), ties.as_ref(), |_| {
                zero
            })
        })
        .collect();
    let u_out = DMatrix::from_fn(m, k, |i, j| {
        D::from_lanes(u[(i, j)], |l| lanes[l].0[(i, j)])
    });
    let s_out = DVector::from_fn(k, |i, _| D::from_lanes(s[i], |l| lanes[l].1[i]));
    let v_t_out = DMatrix::from_fn(k, n, |i, j| {
        D::from_lanes(v_t[(i, j)], |l| lanes[l].2[(i, j)])
    });
    (u_out, s_out, v_t_out)
}

/// The SVD of an `m × n` matrix with a zero dimension: `m × 0`, `0` and `0 × n` (shared with
/// [`svd_hyperdual`](crate::svd_hyperdual) and adroit-reverse's `svd`).
#[doc(hidden)]
pub fn empty_svd<S: nalgebra::Scalar>(m: usize, n: usize) -> Svd<S> {
    (
        DMatrix::from_vec(m, 0, Vec::new()),
        DVector::from_vec(Vec::new()),
        DMatrix::from_vec(0, n, Vec::new()),
    )
}

/// nalgebra's thin SVD of `a` (`m × n`, both at least 1), singular values descending; all NaN
/// when an entry is NaN or infinite (nalgebra's iteration would then never end, or panic).
/// Where nalgebra's result does not reproduce `a` to working accuracy (it can miss by 5e-3
/// relative at a repeated singular value beside a smaller one: see `jacobi_svd`), the
/// decomposition is recomputed by one-sided Jacobi.
#[doc(hidden)]
pub fn primal_svd<T: RealField + Float>(a: DMatrix<T>) -> Svd<T> {
    let (m, n) = a.shape();
    let k = m.min(n);
    if !a.iter().all(|v| Float::is_finite(*v)) {
        let nan = <T as Float>::nan();
        return (
            DMatrix::from_element(m, k, nan),
            DVector::from_element(k, nan),
            DMatrix::from_element(k, n, nan),
        );
    }
    let svd = a.clone().svd(true, true);
    let u = svd.u.expect("U was requested");
    let v_t = svd.v_t.expect("Vᵀ was requested");
    let result = (u, svd.singular_values, v_t);
    let result = if is_accurate(&a, &result) {
        result
    } else {
        jacobi_svd(a.clone())
    };
    exact_at_unit_pairs(&a, result)
}

/// `(u, s, v_t)` with `σₖ = |Aᵣ꜀|` where `uₖ = ±eᵣ` and `vₖ = ±e꜀` (signed unit vectors, with
/// the signs of `Aᵣ꜀`): the exact singular value `uₖᵀ·A·vₖ`, where nalgebra's can come back an
/// ulp off (it scales the matrix by its largest entry and back: `diag(1.9, 1.9 − 12ε, 0.5)`
/// gave 0.49999999999999994), which made tangents between close singular values of a diagonal
/// matrix a few percent off. The order stays descending (re-sorted, pairs moved with their
/// values, should an ulp swap two).
fn exact_at_unit_pairs<T: RealField + Float>(
    a: &DMatrix<T>,
    (mut u, mut s, mut v_t): Svd<T>,
) -> Svd<T> {
    let unit_u = signed_unit_columns(&u);
    let unit_v = signed_unit_columns(&v_t.transpose());
    let mut changed = false;
    for k in 0..s.len() {
        if !(unit_u[k] && unit_v[k]) {
            continue;
        }
        let r = u.column(k).iter().position(|x| !x.is_zero());
        let c = v_t.row(k).iter().position(|x| !x.is_zero());
        let (Some(r), Some(c)) = (r, c) else {
            continue;
        };
        let entry = a[(r, c)];
        if entry * u[(r, k)] * v_t[(k, c)] >= T::zero() && s[k] != Float::abs(entry) {
            s[k] = Float::abs(entry);
            changed = true;
        }
    }
    if changed && s.as_slice().windows(2).any(|w| w[0] < w[1]) {
        let mut order: Vec<usize> = (0..s.len()).collect();
        order.sort_by(|&i, &j| {
            s[j].partial_cmp(&s[i])
                .unwrap_or(core::cmp::Ordering::Equal)
        });
        let (u0, s0, v0) = (u.clone(), s.clone(), v_t.clone());
        for (new, &old) in order.iter().enumerate() {
            u.set_column(new, &u0.column(old));
            s[new] = s0[old];
            v_t.set_row(new, &v0.row(old));
        }
    }
    (u, s, v_t)
}

/// The singular values divided by the power of two at or above the largest (1 when it is 0
/// or not finite; the one below where that would overflow, σ above 2¹⁰²³ in `f64`), and that
/// divisor: `F`'s denominators are formed from these, so that they neither overflow (σ above
/// ~1e154 in `f64`, ~1e19 in `f32`) nor underflow. A power of two divides exactly: dividing
/// by the largest itself rounded the quotients, and the difference of two singular values a
/// few ulps apart came out 1–2 % off.
fn normalised<T: Float + RealField>(s: &DVector<T>) -> (DVector<T>, T) {
    let largest = s.iter().fold(T::zero(), |m, &v| Float::max(m, v));
    let scale = if largest > T::zero() && Float::is_finite(largest) {
        let exponent = Float::ceil(Float::log2(largest));
        // `log2` of a value near the top of the range can round up to the exponent that
        // overflows (`log2(f64::MAX)` is 1024): step down until the power is finite.
        (0..3)
            .map(|k| Float::exp2(exponent - T::from(k).unwrap_or_else(T::zero)))
            .find(|p| Float::is_finite(*p))
            .unwrap_or_else(T::one)
    } else {
        T::one()
    };
    (s.map(|v| v / scale), scale)
}

/// `num / den` with the zero convention: a zero numerator gives 0 whatever the denominator.
fn quotient<T: Float>(num: T, den: T) -> T {
    if num.is_zero() { T::zero() } else { num / den }
}

/// `num / σ` for a singular value `σ`, with the zero convention; for dual numbers (second
/// order) a numerator zero in value over a `σ` zero in value gives 0 too, tangents included:
/// dividing gave a NaN value (`0/0`) where the plain computation, which the values must
/// repeat, gives 0 (a rank-deficient tall matrix's `matrix::value_gradient_and_hessian`: an
/// all-NaN gradient where `matrix::gradient`'s is finite). Only here: between tied singular
/// values ([`across_gaps`]) the `0/0` of a dual stays NaN, which a Hessian there must be
/// (read as 0 it came out finite and 10 % off). For plain floats the second test is the first.
fn over_singular_value<T: Float>(num: T, sigma: T) -> T {
    if num == T::zero() && sigma == T::zero() {
        T::zero()
    } else {
        quotient(num, sigma)
    }
}

/// `x/den/scale` with the zero convention: the quotient by `den` (a denominator formed from the
/// normalised singular values, [`normalised`]) first — dividing `x` by a huge scale first
/// underflowed next to tiny `ŝ` (diag(1e300, 2e275, 1e275) lost a tangent 3.3e-276) — unless
/// it overflows (close singular values, large `x`), then the scale first.
fn scaled_quotient<T: Float>(x: T, den: T, scale: T) -> T {
    let q = quotient(x, den);
    if Float::is_finite(q) || !Float::is_finite(x) {
        q / scale
    } else {
        quotient(x / scale, den)
    }
}

/// `xᵢⱼ/(σⱼ − σᵢ)` off the diagonal and 0 on it, for the normalised singular values `ŝ` and
/// their divisor `scale` ([`normalised`]): 0 between two zero singular values (the zero
/// convention: the numerator vanishes with σ), and with the denominator 0 between singular
/// values within 8ε of the pair's larger, relatively (8 to 16 ulps): their difference is
/// rounding, and its reciprocal gave finite, wrong derivatives (a Hessian of Σσ² off by 0.5
/// at a rotation whose σ's came out 1 ulp apart) where a tie's are infinite or NaN. A
/// numerator of rounding size between near singular values is set to zero before
/// ([`SvdTies`]). Divided by the difference directly: the form `xᵢⱼ·(ŝⱼ + ŝᵢ)/(ŝⱼ² − ŝᵢ²)`
/// underflowed to 0 for two singular values both below ~1e-154 of the largest.
fn across_gaps<T: Float + RealField>(x: &DMatrix<T>, s_hat: &DVector<T>, scale: T) -> DMatrix<T> {
    let eight_ulps = T::epsilon() * T::from(8.0).unwrap_or_else(T::one);
    DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| {
        if i == j || (s_hat[j] + s_hat[i]).is_zero() {
            return T::zero();
        }
        let difference = s_hat[j] - s_hat[i];
        let tie = Float::abs(difference) <= eight_ulps * Float::max(s_hat[j], s_hat[i]);
        let gap = if tie { T::zero() } else { difference };
        scaled_quotient(x[(i, j)], gap, scale)
    })
}

/// `xᵢⱼ/(σⱼ + σᵢ)` off the diagonal and 0 on it (and 0 between two zero singular values, the
/// zero convention), from the normalised singular values as [`across_gaps`]: the part of the
/// singular vectors' tangents that turns `U` and `V` against each other, finite at a repeated
/// non-zero singular value.
fn across_sums<T: Float + RealField>(x: &DMatrix<T>, s_hat: &DVector<T>, scale: T) -> DMatrix<T> {
    DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| {
        let sum = s_hat[j] + s_hat[i];
        if i == j || sum.is_zero() {
            T::zero()
        } else {
            scaled_quotient(x[(i, j)], sum, scale)
        }
    })
}

/// Divides column `j` of `x` by `σⱼ` (zero convention).
fn over_sigma<T: Float + RealField>(mut x: DMatrix<T>, s: &DVector<T>) -> DMatrix<T> {
    for (j, mut column) in x.column_iter_mut().enumerate() {
        column.apply(|v| *v = over_singular_value(*v, s[j]));
    }
    x
}

/// The tangents `(U̇, σ̇, V̇ᵀ)` of the thin SVD `(u, s, v_t)` for the input tangent `dot`
/// (formulas on [`svd`]), with `ties` ([`SvdTies`] of the decomposition) deciding which
/// entries of `P`'s symmetric part are rounding, replaced by `zeroed(entry)` (0 for a plain
/// float; 0 in value with the tangents kept for a dual, as in [`svd_hyperdual`](crate::svd_hyperdual)).
pub(crate) fn svd_jvp<T: Float + RealField>(
    (u, s, v_t): (&DMatrix<T>, &DVector<T>, &DMatrix<T>),
    dot: &DMatrix<T>,
    ties: Option<&SvdTies<T>>,
    zeroed: impl Fn(T) -> T,
) -> Svd<T> {
    let (m, n, k) = (u.nrows(), v_t.ncols(), s.len());
    let v = v_t.transpose();
    let dot_v = dot * &v;
    let p = u.transpose() * &dot_v;
    let s_dot = p.diagonal();
    // With S and K the symmetric and antisymmetric parts of P, the coefficients of U̇ in U are
    // Sᵢⱼ/(σⱼ − σᵢ) + Kᵢⱼ/(σⱼ + σᵢ) and those of V̇ in V Sᵢⱼ/(σⱼ − σᵢ) − Kᵢⱼ/(σⱼ + σᵢ) (the
    // formulas on `svd`, split): S mixes a repeated pair, K turns U against V and stays finite.
    let half = T::one() / (T::one() + T::one());
    let sym = (&p + p.transpose()) * half;
    let skew = (&p - p.transpose()) * half;
    let sym = match ties {
        Some(ties) => ties.snap_perturbation(sym, (u, dot, &v), zeroed),
        None => sym,
    };
    let (s_hat, scale) = normalised(s);
    let (mixing, turning) = (
        across_gaps(&sym, &s_hat, scale),
        across_sums(&skew, &s_hat, scale),
    );
    let mut u_dot = u * (&mixing + &turning);
    let mut v_dot = &v * (&mixing - &turning);
    if m > k {
        let outside = &dot_v - u * (u.transpose() * &dot_v);
        u_dot += over_sigma(outside, s);
    }
    if n > k {
        let dot_t_u = dot.transpose() * u;
        let outside = &dot_t_u - &v * (v_t * &dot_t_u);
        v_dot += over_sigma(outside, s);
    }
    (u_dot, s_dot, v_dot.transpose())
}

/// The pullback of the thin SVD `(u, s, v_t)` of an `m × n` matrix: the cotangent of the input
/// for cotangents `(ū, σ̄, v̄ᵀ)` of the outputs — the transpose of [`svd`]'s tangent map,
///
/// `Ā = U·(G·S + S·H + diag(σ̄))·Vᵀ + (I − UUᵀ)·Ū·S⁻¹·Vᵀ + U·S⁻¹·V̄ᵀ·(I − VVᵀ)`,
///
/// `G = F ∘ (UᵀŪ − ŪᵀU)`, `H = F ∘ (VᵀV̄ − V̄ᵀV)`, with [`svd`]'s `F` and zero convention
/// (the projection terms only for a tall or wide matrix). For adroit-reverse's `svd`.
#[doc(hidden)]
pub fn svd_pullback<T: Float + RealField>(
    (u, s, v_t): (&DMatrix<T>, &DVector<T>, &DMatrix<T>),
    (u_bar, s_bar, v_t_bar): (&DMatrix<T>, &DVector<T>, &DMatrix<T>),
    ties: Option<&SvdTies<T>>,
    zeroed: impl Fn(T) -> T,
) -> DMatrix<T> {
    let (m, n, k) = (u.nrows(), v_t.ncols(), s.len());
    // Every product and scaling with the 0·∞ = 0 convention (`chain_matmul`,
    // `chain_product`): an infinite cotangent (`sqrt` of a zero singular value) meets the
    // zeros of the singular vectors.
    let ut_ubar = chain_matmul(&u.transpose(), u_bar);
    let vt_vbar = chain_matmul(v_t, &v_t_bar.transpose());
    // The transpose of `svd_jvp`'s split: with X = UᵀŪ, Y = VᵀV̄, the core is
    // sym(Z ∘ E⁻) + skew(W ∘ E⁺), Z = X + Y, W = X − Y, E∓ᵢⱼ = 1/(σⱼ ∓ σᵢ) — equal to
    // G·S + S·H above. Z's entries between near singular values are snapped each against its own
    // error, a pair's two together (`SvdTies::snap_cotangent`), so a pair's two entries are
    // never cancelled into a silent 0.
    let z = &ut_ubar + &vt_vbar;
    let w = &ut_ubar - &vt_vbar;
    let z = match ties {
        Some(ties) => ties.snap_cotangent(z, (u, u_bar), (v_t, v_t_bar), zeroed),
        None => z,
    };
    let (s_hat, scale) = normalised(s);
    let (mixing, turning) = (
        across_gaps(&z, &s_hat, scale),
        across_sums(&w, &s_hat, scale),
    );
    let half = T::one() / (T::one() + T::one());
    let core = DMatrix::from_fn(k, k, |i, j| {
        let diagonal = if i == j { s_bar[i] } else { T::zero() };
        half * (mixing[(i, j)] + mixing[(j, i)])
            + half * (turning[(i, j)] - turning[(j, i)])
            + diagonal
    });
    let mut a_bar = chain_matmul(&chain_matmul(u, &core), v_t);
    if m > k {
        let outside = u_bar - chain_matmul(u, &ut_ubar);
        a_bar += chain_matmul(&over_sigma(outside, s), v_t);
    }
    if n > k {
        let outside = v_t_bar - chain_matmul(&vt_vbar.transpose(), v_t);
        let scaled = DMatrix::from_fn(k, n, |i, j| over_singular_value(outside[(i, j)], s[i]));
        a_bar += chain_matmul(u, &scaled);
    }
    a_bar
}
