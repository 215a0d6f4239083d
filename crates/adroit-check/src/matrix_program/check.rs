//! The matrix tape checked against the scalar tape on a matrix program.

use super::MatProgram;
use super::scalar_eval::to_matrix;
use adroit_reverse::matrix;
use nalgebra::DMatrix;

/// Relative tolerance of the comparisons, to the largest entry compared.
const TOLERANCE: f64 = 1e-9;

/// Relative tolerance to the entry itself: an entry built from huge terms (an exponential of a
/// sum, found by fuzzing at 2.6e43 with a relative difference of 2.5e-8) magnifies the tapes'
/// different rounding more than perturbing the inputs shows.
const ENTRY_TOLERANCE: f64 = 1e-6;

/// How many times `ε · (largest intermediate value) · Σ|cotangent|` the gradient comparisons
/// allow besides (see `check`).
const ROUNDING_FACTOR: f64 = 1e3;

/// How many times `ε · (the scale of the adjoints reaching the input)` the gradient comparisons allow where
/// they fail without it (see `check`): each contribution an entry receives rounds it at the
/// scale of that adjoint, and an entry of a fuzzed program receives a few dozen at most.
const ADJOINT_ROUNDING_FACTOR: f64 = 64.0;

/// How many times `ε · (the scale of the terms an entry's gradient is summed from)` the
/// gradient comparisons allow as their last retry (see `check`).
const TERM_ROUNDING_FACTOR: f64 = 64.0;

/// The factors the inputs are scaled by to measure the reference's sensitivity to rounding.
/// One factor (`1 + 4ε`) missed a program whose gradient, through `sin` of an argument near
/// 1e64, swings between −1.0e68 and +1.3e68 with one-ulp changes of the inputs but happened to
/// move by 1e-14 at that factor; three, on both sides, catch such noise.
const NUDGES: [f64; 3] = [
    1.0 + 4.0 * f64::EPSILON,
    1.0 - 4.0 * f64::EPSILON,
    1.0 + 16.0 * f64::EPSILON,
];

/// How many summation orders probe the reference's sensitivity to the order of its sums (see
/// `check`; a quarter of them fuse the products' multiply-adds, a quarter move each product
/// term by `±ε` of itself). Twelve, not six: the fuzzed softmax of a product whose terms
/// `±8.5e35` cancel to `2.8e14` (the matrix tape, as NumPy's BLAS, left `2⁶⁶` and so another
/// maximum) moved in none of six probes and in some of twelve. Only a retried comparison runs
/// them.
pub(super) const ORDER_PROBES: u64 = 12;

/// How many times the reference's largest change under [`ORDER_PROBES`] the retried
/// comparisons allow, entry by entry: the fuzzed program of a softmax line split by rounding
/// needs 11; a factor of 1000 on a coarser probe let planted value errors pass.
const ORDER_FACTOR: f64 = 30.0;

/// The largest intermediate magnitude up to which values are compared strictly (an entry
/// finite in one tape and not in the other fails): a product of two entries is then at most
/// 1e300, and a sum of up to 1e8 such terms cannot overflow in any order.
const OVERFLOW_SAFE: f64 = 1e150;

/// How many times the reference's own sensitivity to rounding (see `compare`) the
/// comparisons allow: the two tapes sum the same terms in different orders (blocked matrix
/// products, f64 accumulators, the order of the backward sweep), which moves an ill-conditioned
/// result as much as perturbing its inputs by a few ulps does.
const SENSITIVITY_FACTOR: f64 = 1e3;

/// The largest scale of the adjoints reaching an input up to which a gradient entry finite on
/// one tape only fails the check: products of two such adjoints or of one with an intermediate
/// value (at most [`OVERFLOW_SAFE`]) stay finite in any order.
const GRADIENT_OVERFLOW_SAFE: f64 = 1e150;

/// `2⁻⁵¹²`: the cotangent scaled by it (exactly) re-takes a gradient entry that overflowed in
/// one tape's order only, the gradient being linear in the cotangent; [`RESCALE_UP`] scales
/// the result back.
pub(crate) const RESCALE_DOWN: f64 = f64::from_bits(511 << 52);

/// `2⁵¹²`.
pub(crate) const RESCALE_UP: f64 = f64::from_bits(1535 << 52);

/// Replaces each entry of `got` that is not finite where `other`'s is by `small`'s entry
/// times [`RESCALE_UP`] (`small`: the gradient of the cotangent times [`RESCALE_DOWN`] on
/// `got`'s tape), when that is finite: the gradient without the overflow of an adjoint on the
/// way, or the `∞ − ∞` of two (found by fuzzing: `a·tanh b` with `a` near 7.5e307 and
/// cotangent 3.6, whose scalar-tape adjoint `3.6·a` overflowed before `tanh′ b` scaled it to
/// 1.7e47 — until that tape folded `tanh`'s partial into the product's first).
/// An infinity or NaN of the derivatives themselves stays one at the smaller scale (unless an
/// adjoint meeting it underflows to 0 there: `0·∞ = 0`).
fn retake_overflowed(got: &mut [DMatrix<f64>], small: &[DMatrix<f64>], other: &[DMatrix<f64>]) {
    for ((g, s), o) in got.iter_mut().zip(small).zip(other) {
        for ((g, &s), &o) in g.iter_mut().zip(s.iter()).zip(o.iter()) {
            let retaken = s * RESCALE_UP;
            if !g.is_finite() && o.is_finite() && retaken.is_finite() {
                *g = retaken;
            }
        }
    }
}

/// Per input, the scale at which adjoints reach it and the rounding allowed for them.
#[derive(Clone, Copy, Debug)]
struct AdjointScale {
    /// [`MatProgram::largest_adjoints`]'s; where an adjoint can overflow (`may_overflow` of
    /// [`adjoint_scales`]), at least the one measured from the cotangent times
    /// [`RESCALE_DOWN`] and scaled back by [`RESCALE_UP`] — `+∞` where that is beyond `f64`'s
    /// range.
    scale: f64,
    /// [`ADJOINT_ROUNDING_FACTOR`]` · ε · scale`, formed at the smaller scale before scaling
    /// back, so that it stays finite where `scale` is not (up to a scale of about 1e322).
    rounding: f64,
}

/// Each input's [`AdjointScale`]. `largest_adjoints` leaves out adjoints that overflow, so
/// without the smaller scale a gradient taken again there (see `retake_overflowed`) would be
/// held to the rounding of the adjoints that stayed finite (found by fuzzing: `exp` of a sum
/// holding `M·((X − X)·Xᵀ)` with `M` a product of eight `X·Xᵀ`: the matrix tape's `+∂ − ∂` of
/// the difference was `∞ − ∞` at full scale, and at `2⁻⁵¹²` rounded at the scale of
/// `2.8e317`, the gradient's entries off by 1.5e-6 of themselves, 4e303 allowed).
fn adjoint_scales(
    program: &MatProgram,
    cotangent: &DMatrix<f64>,
    may_overflow: bool,
) -> Vec<AdjointScale> {
    let allowance = |scale: f64| ADJOINT_ROUNDING_FACTOR * f64::EPSILON * scale;
    let mut scales: Vec<AdjointScale> = program
        .largest_adjoints(cotangent)
        .into_iter()
        .map(|scale| AdjointScale {
            scale,
            rounding: allowance(scale),
        })
        .collect();
    if may_overflow {
        let small = program.largest_adjoints(&(cotangent * RESCALE_DOWN));
        for (a, s) in scales.iter_mut().zip(small) {
            a.scale = a.scale.max(s * RESCALE_UP);
            a.rounding = a.rounding.max(allowance(s) * RESCALE_UP);
        }
    }
    scales
}

/// True when some entry is finite in one of `a` and `b` only.
fn finite_on_one_side(a: &[DMatrix<f64>], b: &[DMatrix<f64>]) -> bool {
    a.iter().zip(b).any(|(a, b)| {
        a.iter()
            .zip(b.iter())
            .any(|(x, y)| x.is_finite() != y.is_finite())
    })
}

/// The first entry (column-major) that is finite in one of `got` and `want` and not in the
/// other (NaN against ±∞ counts as agreeing: both lost).
fn finiteness_mismatch(got: &DMatrix<f64>, want: &DMatrix<f64>) -> Option<usize> {
    got.iter()
        .zip(want.iter())
        .position(|(g, w)| g.is_finite() != w.is_finite())
}

/// Compares `got` with `want` wherever both are finite, to `TOLERANCE · (1 + the largest
/// finite entry of either) + ENTRY_TOLERANCE · |want| + SENSITIVITY_FACTOR · (the largest
/// finite |want − perturbed|)` over the `perturbed` references, computed from inputs scaled by
/// each of [`NUDGES`] (the program's conditioning: `sin` of a product of large entries, an
/// exponential of a sum). With
/// `strict_finiteness`, an entry finite in one and not in the other must be beyond `1e100` in
/// the finite one (where the two summation orders can overflow differently), unless its
/// `entry_extra` is `+∞` (a probed order made the difference, see `widen_to_change`); without
/// it such entries are skipped. `extra` is added to every entry's bound, and `entry_extra` (of
/// `want`'s shape) entry by entry.
fn compare(
    what: &str,
    got: &DMatrix<f64>,
    want: &DMatrix<f64>,
    perturbed: &[DMatrix<f64>],
    strict_finiteness: bool,
    extra: f64,
    entry_extra: Option<&DMatrix<f64>>,
) -> Result<(), String> {
    if got.shape() != want.shape() {
        return Err(format!(
            "{what}: shape {:?}, expected {:?}",
            got.shape(),
            want.shape()
        ));
    }
    let largest = got
        .iter()
        .chain(want.iter())
        .filter(|v| v.is_finite())
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    let sensitivity = perturbed
        .iter()
        .flat_map(|p| want.iter().zip(p.iter()).map(|(a, b)| (a - b).abs()))
        .filter(|d| d.is_finite())
        .fold(0.0_f64, f64::max);
    let common = TOLERANCE * (1.0 + largest) + SENSITIVITY_FACTOR * sensitivity + extra;
    for (k, (&g, &w)) in got.iter().zip(want.iter()).enumerate() {
        let order_allowance = entry_extra.map_or(0.0, |e| e[k]);
        let bound = common + ENTRY_TOLERANCE * w.abs() + order_allowance;
        let ok = match (g.is_finite(), w.is_finite()) {
            (true, true) => (g - w).abs() <= bound,
            (false, false) => true,
            // Finite on one tape only where a probed order of the sums makes the entry finite
            // where the reference's does not, or the reverse (its allowance is then unbounded,
            // see `widen_to_change`): found by fuzzing, the exponential of a product whose
            // terms near 5e40 cancel to 0 in the reference's order and to a residue in the
            // tape's (1.2e24 in NumPy's), e^0 = 1 against +∞. (The allowance alone: `bound` is
            // +∞ for every infinite reference too, which must not pass a finite tape value.)
            _ if !strict_finiteness || order_allowance == f64::INFINITY => true,
            (true, false) => g.abs() > 1e100,
            (false, true) => w.abs() > 1e100,
        };
        if !ok {
            let (i, j) = (k % got.nrows().max(1), k / got.nrows().max(1));
            return Err(format!(
                "{what}[({i}, {j})]: matrix tape {g:e}, scalar reference {w:e} (bound {bound:e})"
            ));
        }
    }
    Ok(())
}

/// Entry by entry, [`ORDER_FACTOR`] times the largest finite change of the reference value
/// `want` when its sums are taken in [`ORDER_PROBES`] other orders
/// ([`MatProgram::eval_reordered`]).
fn internal_sensitivity(program: &MatProgram, want: &DMatrix<f64>) -> DMatrix<f64> {
    let mut internal = DMatrix::zeros(want.nrows(), want.ncols());
    for pattern in 0..ORDER_PROBES {
        widen_to_change(
            internal.as_mut_slice(),
            &program.eval_reordered(pattern),
            want.as_slice(),
        );
    }
    internal
}

/// Per input and entry, [`ORDER_FACTOR`] times the largest finite change of the reference
/// gradients `want` when the forward sums are taken in [`ORDER_PROBES`] other orders.
fn internal_gradient_sensitivity(
    program: &MatProgram,
    cotangent: &DMatrix<f64>,
    want: &[DMatrix<f64>],
) -> Vec<DMatrix<f64>> {
    let mut internal: Vec<DMatrix<f64>> = want
        .iter()
        .map(|w| DMatrix::zeros(w.nrows(), w.ncols()))
        .collect();
    for pattern in 0..ORDER_PROBES {
        let probed = program.gradient_reordered(cotangent.as_slice(), pattern);
        for ((e, p), w) in internal.iter_mut().zip(&probed).zip(want) {
            widen_to_change(e.as_mut_slice(), p, w.as_slice());
        }
    }
    internal
}

/// Raises each `allowance` entry to [`ORDER_FACTOR`] times its finite change `|probed − want|`
/// (all column-major, of one shape), and to `+∞` where the change is not finite although one
/// of the probe and `want` is (both finite, the change overflowing, included): an order of the
/// sums that overflows an entry (or, where the reference overflows, one that does not) puts
/// its rounding beyond `f64`'s range. (Found
/// by fuzzing: in `(Q·[F; F]ᵀ)·(Q·[F; F]ᵀ)ᵀ` two terms of ±1e164 cancel exactly in the
/// reference's order and leave 1e148 with fused multiply-adds — the matrix tape's order, and a
/// probe's — which the backward pass multiplies by entries of `F` near 1e228: the probe's
/// gradient overflowed and was left out, the tape's came out at 5e297 against 1e97, and the
/// exact one is 4.5e153. And the reverse: in `sin(exp(P·X))` terms near 1.5e41 cancel to
/// 1.5e26 in the reference's order, whose `exp` overflows and `sin` is NaN, and to −1.2e26 in
/// the tape's, whose `sin(exp)` is 0.)
pub(super) fn widen_to_change(allowance: &mut [f64], probed: &[f64], want: &[f64]) {
    for ((a, &p), &w) in allowance.iter_mut().zip(probed).zip(want) {
        let change = (p - w).abs();
        if change.is_finite() {
            *a = a.max(ORDER_FACTOR * change);
        } else if w.is_finite() || p.is_finite() {
            *a = f64::INFINITY;
        }
    }
}

/// `want + weight·(nudged − want)` entry by entry (`nudged` where either is not finite).
fn scaled_change(want: &DMatrix<f64>, mut nudged: DMatrix<f64>, weight: f64) -> DMatrix<f64> {
    for (n, &w) in nudged.iter_mut().zip(want.iter()) {
        if n.is_finite() && w.is_finite() {
            *n = w + weight * (*n - w);
        }
    }
    nudged
}

/// The scalar reference at `flat` (the inputs, column-major): the value on `f64` and the
/// gradient of `Σ weights ⊙ result` on the scalar tape, split per input.
fn reference(
    program: &MatProgram,
    flat: &[Vec<f64>],
    weights: &[f64],
) -> (DMatrix<f64>, Vec<DMatrix<f64>>) {
    let value = to_matrix(program.shape(), program.eval_scalar(flat));
    (value, program.scalar_gradient_at(flat, weights))
}

/// Checks the matrix tape on `program` against the scalar tape: the value of
/// [`MatProgram::eval_tape`] against [`MatProgram::eval_scalar`] on `f64`, and the pullback of
/// `cotangent` (the result's shape) through the matrix tape — called twice, and once more
/// through a fresh recording whose buffers come from the first one's, both bit-identical; and
/// the gradient call of the result's sum (one sweep, consuming the rules, from a uniform
/// adjoint) bit-identical to the pullback of ones —
/// against the gradient of `Σ cotangent ⊙ result` on `Var<f64>`. The tolerance, where both
/// are finite: `1e-9` relative to the largest entry compared, plus `1e-6` relative to the
/// entry, plus 1000 times the reference's largest
/// change when every input is scaled by `1 + 4ε`, `1 − 4ε` or `1 + 16ε` (the last change
/// divided by 4; the two tapes round differently, and an ill-conditioned program magnifies
/// that). A value entry finite in one and not in the other
/// fails unless the finite one is beyond `1e100` — when every finite intermediate value is
/// within `1e150`; beyond, the two summation orders can overflow differently and later
/// operations map that to any value, so such entries are skipped (found by fuzzing:
/// a softmax of a product overflowing in one order only gave 0 against NaN).
/// A value comparison that fails is repeated allowing, entry by entry, 30 times the reference's
/// largest change when its sums (products, reductions, log-sum-exps) are taken in twelve other
/// orders, three with fused multiply-adds and three with each product's terms moved by `±ε` of
/// themselves (their rounding at full size, which a cancelling sum leaves and a later product
/// can square; found by fuzzing): the order of sums is what two correct implementations differ
/// in, and scaling the inputs does not probe it — it keeps entries that are equal by structure
/// equal, where a blocked product splits them (a softmax of a line of equal entries near 5e307
/// is uniform in one tape and one-hot in the other; found by fuzzing). Gradients get the same
/// probe as a last retry, after the adjoint allowance below (a kink reached through rounding:
/// the maximum of 1 and a softmax's sum, 1 on one tape and `1 − ε` on the other, sends the
/// cotangent one way or splits it). An entry whose finiteness a probed order changes (infinite
/// or NaN where the reference's order keeps it finite, or the reverse) gets no bound from that
/// retry: that order puts its rounding beyond `f64`'s range (found by fuzzing, a fused order
/// leaving 1e148 of two cancelling terms of ±1e164 that the backward pass multiplies by
/// 1e228); an entry finite on one tape only passes there, values and gradients alike (e⁰ = 1
/// against +∞ for terms near 5e40 that cancel in one order only). Gradients are
/// compared only when every
/// intermediate value is finite ([`MatProgram::largest_intermediate`]: through an overflow
/// each tape applies the `0·∞ = 0` convention in its own order), there where both are finite,
/// with `1000·ε·M·Σ|cotangent|` more allowed for the largest intermediate magnitude `M` (a term
/// of that size rounds by `ε·M` in either tape). In a program where an adjoint can overflow
/// at all (`Σ|cotangent|` times the largest finite intermediate magnitude beyond `1e150`), an
/// entry finite on one tape only is first taken again on the other tape from the cotangent
/// scaled by `2⁻⁵¹²` (a power of two: exact unless something underflows), then scaled back:
/// an adjoint that overflowed in that tape's order, or met another as `∞ − ∞`, does not at
/// that scale, while an infinite derivative stays infinite — unless the adjoint it meets
/// underflows to 0 at that scale (below about 7e-170 at the cotangent's, where `0·∞ = 0`):
/// found by fuzzing, 1.7e47 on the matrix tape against +∞ and NaN on the scalar tape, whose
/// `cotangent·a` came before `tanh′ b`. An entry still finite on one tape only fails where
/// the adjoints reaching its input stay at most `1e150` (their scale `A` below), far from
/// overflow in any order (before, a pullback returning NaN passed: one planted in
/// the product's `∂A` is caught now in 1422 of 3000 random programs, in none before).
///
/// An adjoint can exceed every intermediate value (a product's adjoint is the product of two
/// of them). Where two such contributions cancel in one input's adjoint — `x − x` feeding a
/// product: `+∂` and `−∂` arrive separately, as in PyTorch and JAX — what that input had
/// received before is rounded at their scale, differently in each tape's order. So where a
/// gradient comparison fails, it is repeated with `64·ε·A` more allowed, `A` the scale at
/// which adjoints reach that input: its uses' adjoints and every node's adjoint carried to it
/// by the node's derivative ([`MatProgram::largest_adjoints`], three more scalar gradients;
/// in a program where an adjoint can overflow as above, three more from the cotangent scaled
/// by `2⁻⁵¹²`, scaled back — beyond `f64`'s range, `A` is `+∞` and the allowance formed at
/// the smaller scale: adjoints that overflow are otherwise left out, and a gradient taken
/// again at that scale rounds at theirs);
/// a wrong derivative is off by a fraction of the adjoints themselves, far beyond that. Where
/// the adjoints reaching an input exceed its gradient by about `1/(64ε)` (≈ 7e13), that
/// gradient is thus not checked: its digits are lost to the cancellation in either tape's
/// order (two fuzzed programs in `tests/it/matrix_program.rs`).
///
/// The last retry (after the order probe) allows, entry by entry, `64·ε` times the scale of
/// the terms that entry is summed from: `Σ |cotangent|` times the sum over every path from
/// the entry to the result of the absolute partials' products (forward mode on absolute
/// partials, no path cancelling another), at the values of the program's own order and of
/// each order probe, the largest. A sum that cancels far below its terms (a line of weights
/// of ±1.6e40 against equal entries: 2.3e37 on the scalar tape, 1.45e46 on the matrix tape,
/// found by fuzzing) makes the values of everything after it differ between orders, which
/// the probes show in the values but not in the gradient, since the scalar tape sweeps in its
/// own order whatever the probe. Planted errors (a product's value or `∂A` off
/// by 1e-4, `∂A` off by 1e-7, `∂A` all NaN) were caught in 974, 972, 128 and 1407 of 3000
/// random 64-byte programs with this retry and without it.
///
/// # Errors
/// The first disagreement, naming the program, the quantity and the entry.
///
/// # Panics
/// If `cotangent` is not of the result's shape, or the program is not shape-consistent.
///
/// # Example
/// ```
/// use adroit_check::matrix_program::{MatBinary, MatExpr, MatProgram, check};
/// use adroit_check::nalgebra::{self, dmatrix};
/// let x = || Box::new(MatExpr::Input(0));
/// // max(A, Aᵀ) has ties on the diagonal: both tapes split the cotangent ½/½
/// let p = MatProgram {
///     inputs: vec![dmatrix![1.0, 2.0; 3.0, 4.0]],
///     expr: MatExpr::Binary(MatBinary::Max, x(), Box::new(MatExpr::Transpose(x()))),
/// };
/// assert!(check(&p, &dmatrix![1.0, -1.0; 0.5, 2.0]).is_ok());
/// ```
pub fn check(program: &MatProgram, cotangent: &DMatrix<f64>) -> Result<(), String> {
    let shape = program.shape();
    assert_eq!(
        cotangent.shape(),
        shape,
        "check: the cotangent is {}×{} but the program's result is {}×{}",
        cotangent.nrows(),
        cotangent.ncols(),
        shape.0,
        shape.1
    );
    let fail = |e: String| format!("{e}\n  program {:?}", program.expr);
    // The matrix tape: one recording, its pullback called twice.
    let (value, pullback) = matrix::pullback(|m| program.eval_tape(m), &program.inputs);
    let grads = pullback.call(cotangent);
    let again = pullback.call(cotangent);
    let ones = DMatrix::from_element(shape.0, shape.1, 1.0);
    let with_ones = pullback.call(&ones);
    // The cotangent scaled down, for gradient entries that overflow in one tape's order only.
    let small = pullback.call(&(cotangent * RESCALE_DOWN));
    drop(pullback);
    let bits =
        |m: &[DMatrix<f64>]| -> Vec<u64> { m.iter().flatten().map(|v| v.to_bits()).collect() };
    if bits(&grads) != bits(&again) {
        return Err(fail(
            "the pullback called twice gave different gradients".into(),
        ));
    }
    // A second recording, on the buffers the first gave back: the same bits.
    let (_, second) = matrix::value_and_gradient(
        |m| program.eval_tape(m).weighted_sum(cotangent.clone()),
        &program.inputs,
    );
    if bits(&second) != bits(&grads) {
        return Err(fail("a second recording gave different gradients".into()));
    }
    // A gradient call's single sweep, which consumes the rules, seeded by a sum (a uniform
    // adjoint, which maps and `zip_map` scale their saved derivatives by, in place), against
    // the repeatable sweep seeded by the same ones written out: the same bits.
    let (_, summed) = matrix::value_and_gradient(|m| program.eval_tape(m).sum(), &program.inputs);
    if bits(&summed) != bits(&with_ones) {
        return Err(fail(
            "the gradient of the sum differs from the pullback of ones".into(),
        ));
    }
    // The scalar reference, and again from inputs scaled by each of NUDGES (its conditioning).
    let flat = program.flat_inputs();
    let (want_value, mut want_grads) = reference(program, &flat, cotangent.as_slice());
    let mut grads = grads;
    // Only where an adjoint can overflow at all: the cotangent's weight times the largest
    // finite intermediate value beyond OVERFLOW_SAFE (else a pullback overflowing at normal
    // scale — a wrong one — would be taken again at a scale where it does not; the review's
    // planted `((g·2¹⁰²⁰)·d)·2⁻¹⁰²⁰` passed).
    let weight: f64 = cotangent.iter().map(|w| w.abs()).sum();
    let may_overflow = weight * program.largest_finite_intermediate() > OVERFLOW_SAFE;
    if may_overflow && finite_on_one_side(&grads, &want_grads) {
        let scaled = cotangent * RESCALE_DOWN;
        let (_, want_small) = reference(program, &flat, scaled.as_slice());
        let want_before = want_grads.clone();
        retake_overflowed(&mut want_grads, &want_small, &grads);
        retake_overflowed(&mut grads, &small, &want_before);
    }
    let mut nudged_values = Vec::with_capacity(NUDGES.len());
    let mut nudged_grads: Vec<Vec<DMatrix<f64>>> = vec![Vec::new(); want_grads.len()];
    for factor in NUDGES {
        let nudged: Vec<Vec<f64>> = flat
            .iter()
            .map(|v| v.iter().map(|x| x * factor).collect())
            .collect();
        let (value, grads) = reference(program, &nudged, cotangent.as_slice());
        // Each change scaled to a nudge of 4ε, the size SENSITIVITY_FACTOR was set for (a
        // well-conditioned program moves in proportion to the nudge).
        let weight = 4.0 * f64::EPSILON / (factor - 1.0).abs();
        nudged_values.push(scaled_change(&want_value, value, weight));
        for ((all, g), w) in nudged_grads.iter_mut().zip(grads).zip(&want_grads) {
            all.push(scaled_change(w, g, weight));
        }
    }
    // Where an intermediate value is beyond OVERFLOW_SAFE (or not finite), a sum can overflow
    // in one tape's order and not in the other's (1e308 + 1e308 − 1e308), and what follows
    // maps that anywhere (a softmax line holding +∞ is 0 and NaN, holding 1.7e308 is 0 and
    // 1): entries finite in one tape only are then skipped, as for gradients.
    let largest = program.largest_intermediate();
    // Infinities made entry by entry (e⁸⁰⁰) do not depend on summation order: strictness is
    // decided by the finite intermediates, so ∞ edge cases (tanh ∞, a softmax line holding
    // ∞) stay checked.
    let overflow_free = program.largest_finite_intermediate() <= OVERFLOW_SAFE;
    let compare_value = |entry_extra| {
        compare(
            "value",
            &value,
            &want_value,
            &nudged_values,
            overflow_free,
            0.0,
            entry_extra,
        )
    };
    if compare_value(None).is_err() {
        // Repeated allowing, entry by entry, ORDER_FACTOR times the reference's change when
        // its sums are taken in other orders: scaling the inputs keeps entries that are equal
        // by structure equal, which the two tapes' summation orders need not (a softmax of a
        // line of equal entries near 5e307 is uniform in one tape and one-hot in the other).
        compare_value(Some(&internal_sensitivity(program, &want_value))).map_err(fail)?;
    }
    // Gradients through an overflow (an infinite intermediate, a NaN from a line holding +∞)
    // follow each tape's 0·∞ convention in its own order: compared only for programs finite
    // throughout, and there where both are finite (the backward pass can still overflow).
    // A term of the size of the largest intermediate value M rounds by ε·M: with the
    // cotangent's weight, that much is allowed on top (a softmax of entries near 1e131 gave
    // `1 − s` = ε on one tape and 0 on the other, times 1e131).
    if let Some(magnitude) = largest {
        let weight: f64 = cotangent.iter().map(|w| w.abs()).sum();
        let rounding = ROUNDING_FACTOR * f64::EPSILON * magnitude * weight;
        // Found lazily (it costs one more reference): an adjoint can exceed every value (a
        // product's is a product of two), and where two such contributions cancel in an
        // input's adjoint (`x − x` feeding a product: `+∂`, then `−∂`), what that input had
        // received before is rounded at their scale — differently in each tape's order.
        let mut adjoints = None;
        let mut probed = None;
        let mut terms = None;
        for (k, ((g, w), n)) in grads.iter().zip(&want_grads).zip(&nudged_grads).enumerate() {
            let what = format!("gradient of input {k}");
            // An entry finite on one tape only (after `retake_overflowed`): a tolerance says
            // nothing about it, and the backward pass can overflow in one order only — but not
            // where the adjoints reaching the input stay far from overflow (a pullback giving
            // NaN passed before).
            if let Some(at) = finiteness_mismatch(g, w) {
                let largest = adjoints
                    .get_or_insert_with(|| adjoint_scales(program, cotangent, may_overflow));
                // Unless a probed order of the sums makes every such entry's finiteness differ
                // as well (see `widen_to_change`): found by fuzzing, a product of X·Xᵀ with
                // X = [−3.5; 3.5] and a column of equal entries near 1e57 is exactly 0 in the
                // reference's order, leaving every later product and the whole gradient 0, and
                // a rounding residue with fused multiply-adds — the tape's order and a probe's
                // — which later products overflow to ±∞ (the tape's gradient NaN).
                let mut order_made = || {
                    let internal = probed.get_or_insert_with(|| {
                        internal_gradient_sensitivity(program, cotangent, &want_grads)
                    });
                    g.iter()
                        .zip(w.iter())
                        .zip(internal[k].iter())
                        .all(|((g, w), a)| g.is_finite() == w.is_finite() || *a == f64::INFINITY)
                };
                if largest[k].scale <= GRADIENT_OVERFLOW_SAFE && !order_made() {
                    let (i, j) = (at % g.nrows().max(1), at / g.nrows().max(1));
                    return Err(fail(format!(
                        "{what}[({i}, {j})]: matrix tape {:e}, scalar reference {:e} (finite on \
                         one tape only, with the adjoints reaching the input at most {:e})",
                        g[at], w[at], largest[k].scale
                    )));
                }
            }
            if compare(&what, g, w, n, false, rounding, None).is_ok() {
                continue;
            }
            let largest =
                adjoints.get_or_insert_with(|| adjoint_scales(program, cotangent, may_overflow));
            let extra = largest[k].rounding;
            if compare(&what, g, w, n, false, rounding + extra, None).is_ok() {
                continue;
            }
            // The order of the sums, probed as for values: a kink reached through rounding (a
            // max of 1 and a softmax's sum, 1 on one tape and 1 − ε on the other, splits its
            // cotangent on one side only).
            let internal = probed.get_or_insert_with(|| {
                internal_gradient_sensitivity(program, cotangent, &want_grads)
            });
            if compare(&what, g, w, n, false, rounding + extra, Some(&internal[k])).is_ok() {
                continue;
            }
            // Last, the scale of the terms each entry is summed from, at the values any of
            // those orders computes: a sum cancelling far below its terms leaves a rounding at
            // their scale in one order and none in another, and what is computed from it —
            // the scalar tape's gradient sweeps in its own order whatever the probe — inherits
            // that (a product with weights of ±1.6e40 against equal entries: 2.3e37 on the
            // scalar tape, 1.45e46 on the matrix tape, found by fuzzing).
            let scales = terms.get_or_insert_with(|| {
                program.gradient_term_scales(cotangent.as_slice(), ORDER_PROBES)
            });
            let mut allowance = internal[k].clone();
            for (a, s) in allowance.iter_mut().zip(&scales[k]) {
                *a += TERM_ROUNDING_FACTOR * f64::EPSILON * s;
            }
            compare(&what, g, w, n, false, rounding + extra, Some(&allowance)).map_err(fail)?;
        }
    }
    Ok(())
}

/// The check of the `matrix_program` fuzz target: [`MatProgram::decode`] then [`check`].
///
/// # Errors
/// As [`check`].
///
/// # Example
/// ```
/// use adroit_check::matrix_program::{MatExpr, MatProgram, check_bytes};
/// use adroit_check::adroit_reverse::matrix::Along;
/// // one 8 × 5 input; softmax along rows (tag 9) of a product (tag 6) of the input (tag 0,
/// // input 0) and the input again (transposed to fit); then two bytes seeding the cotangent
/// let bytes = [0, 4, 3, 9, 3, 9, 6, 0, 0, 0, 0, 5, 7];
/// let (p, _) = MatProgram::decode(&bytes);
/// let x = || Box::new(MatExpr::Input(0));
/// let product = MatExpr::MatMul(x(), Box::new(MatExpr::Transpose(x())));
/// assert_eq!(p.expr, MatExpr::Softmax(Along::Rows, Box::new(product)));
/// assert!(check_bytes(&bytes).is_ok());
/// ```
pub fn check_bytes(data: &[u8]) -> Result<(), String> {
    let (program, cotangent) = MatProgram::decode(data);
    check(&program, &cotangent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overflowed_entry_is_taken_again_from_the_scaled_gradient() {
        let inf = f64::INFINITY;
        let other = vec![dmatrix![1.0, 2.0, 3.0, 4.0, f64::NAN]];
        let mut got = vec![dmatrix![inf, f64::NAN, -inf, 4.0, inf]];
        let small = vec![dmatrix![
            RESCALE_DOWN,
            2.0 * RESCALE_DOWN,
            -inf,
            5.0 * RESCALE_DOWN,
            RESCALE_DOWN
        ]];
        retake_overflowed(&mut got, &small, &other);
        // Overflow and ∞ − ∞ taken again; a true infinity, a finite entry and an entry not
        // finite on the other side either left alone.
        assert_eq!(got[0].columns(0, 4), dmatrix![1.0, 2.0, -inf, 4.0]);
        assert_eq!(got[0][4], inf);
        assert_eq!(RESCALE_DOWN * RESCALE_UP, 1.0);
        assert_eq!(RESCALE_DOWN, 2.0_f64.powi(-512));
        assert!(finite_on_one_side(&got, &other));
        assert!(!finite_on_one_side(&other, &other));
    }

    #[test]
    fn an_entry_finite_on_one_side_only_is_found() {
        let want = dmatrix![1.0, 2.0; 3.0, 4.0];
        assert_eq!(finiteness_mismatch(&want, &want), None);
        assert_eq!(
            finiteness_mismatch(&dmatrix![1.0, 2.0; f64::NAN, 4.0], &want),
            Some(1)
        );
        let lost = dmatrix![f64::NAN, f64::INFINITY; 3.0, 4.0];
        assert_eq!(finiteness_mismatch(&want, &lost), Some(0));
        assert_eq!(finiteness_mismatch(&lost, &lost.map(|v| -v)), None);
    }
    use crate::matrix_program::{MatExpr, MatUnary};
    use adroit_reverse::matrix::Along;
    use nalgebra::dmatrix;

    #[test]
    fn reordering_the_sums_of_a_well_conditioned_program_moves_it_by_ulps() {
        // tanh(A·B) + A: other summation orders move each entry by a few ε of its size, so
        // the value comparison's retry still refuses an error of 1e-5 (its other tolerances
        // allow 1e-6 of the entry).
        let x = |k| Box::new(MatExpr::Input(k));
        let program = MatProgram {
            inputs: vec![
                dmatrix![0.5, -1.0; 2.0, 0.25],
                dmatrix![1.5, 0.3; -0.7, 2.0],
            ],
            expr: MatExpr::Binary(
                crate::matrix_program::MatBinary::Add,
                Box::new(MatExpr::Unary(
                    MatUnary::Tanh,
                    Box::new(MatExpr::MatMul(x(0), x(1))),
                )),
                x(0),
            ),
        };
        let want = to_matrix(program.shape(), program.eval_scalar(&program.flat_inputs()));
        let internal = internal_sensitivity(&program, &want);
        for (e, w) in internal.iter().zip(want.iter()) {
            assert!(
                *e <= ORDER_FACTOR * 8.0 * f64::EPSILON * w.abs(),
                "{e} for {w}"
            );
        }
        // The same for its gradients.
        let cotangent = dmatrix![1.0, -0.5; 0.25, 2.0];
        let grads = program.scalar_gradient(&cotangent);
        for (e, g) in internal_gradient_sensitivity(&program, &cotangent, &grads)
            .iter()
            .zip(&grads)
        {
            for (e, g) in e.iter().zip(g.iter()) {
                assert!(
                    *e <= ORDER_FACTOR * 16.0 * f64::EPSILON * g.abs().max(1.0),
                    "{e} for {g}"
                );
            }
        }
        let got = want.map(|w| w + 1e-5);
        let perturbed = std::slice::from_ref(&want);
        let refused = compare("value", &got, &want, perturbed, true, 0.0, Some(&internal));
        assert!(refused.is_err());
    }

    /// An entry finite on one side only passes a strict comparison where a probed order made
    /// the difference (an unbounded allowance, either way round), and nowhere else: not for
    /// an infinite reference against a small finite value, although its bound is +∞ too.
    #[test]
    fn finiteness_differences_pass_only_where_an_order_probe_made_one() {
        let (inf, nan) = (f64::INFINITY, f64::NAN);
        let mut allowance = [0.0; 4];
        // probes against want: finite vs ∞, NaN vs finite, finite vs NaN, NaN vs ∞
        widen_to_change(
            &mut allowance,
            &[1.0, nan, -3.0, nan],
            &[inf, 2.0, nan, inf],
        );
        assert_eq!(allowance, [inf, inf, inf, 0.0]);
        // both finite, their change overflowing (a gradient flipping sign near 1e308)
        let mut allowance = [0.0];
        widen_to_change(&mut allowance, &[1e308], &[-1e308]);
        assert_eq!(allowance, [inf]);
        let want = dmatrix![inf, nan];
        let got = dmatrix![5.0, 0.0];
        let perturbed = std::slice::from_ref(&want);
        assert!(compare("value", &got, &want, perturbed, true, 0.0, None).is_err());
        let finite_allowance = dmatrix![1.0, 1.0];
        let refused = compare(
            "value",
            &got,
            &want,
            perturbed,
            true,
            0.0,
            Some(&finite_allowance),
        );
        assert!(refused.unwrap_err().starts_with("value[(0, 0)]"));
        // a finite tape value against a NaN reference, alone
        let only_second = compare(
            "value",
            &dmatrix![inf, 0.0],
            &want,
            perturbed,
            true,
            0.0,
            None,
        );
        let message = only_second.unwrap_err();
        assert!(message.starts_with("value[(0, 1)]"), "{message}");
        let unbounded = dmatrix![inf, inf];
        assert!(compare("value", &got, &want, perturbed, true, 0.0, Some(&unbounded)).is_ok());
        // without strictness such entries are skipped, as before
        assert!(compare("value", &got, &want, perturbed, false, 0.0, None).is_ok());
    }

    /// Programs whose values are determined in double precision although they look fragile:
    /// the order probes move them by far less than an error of 1e-4 of the value, which an
    /// earlier probe (every node nudged, ×1000) let pass in each of them.
    #[test]
    fn the_order_probes_leave_determined_values_checked() {
        use crate::matrix_program::{MatBinary, MatReduce};
        let x = |k| Box::new(MatExpr::Input(k));
        let exp = |e: Box<MatExpr>| Box::new(MatExpr::Unary(MatUnary::Exp, e));
        let programs = [
            // A softmax of a tie built by element-wise operations on equal operands.
            MatProgram::decode(include_bytes!(
                "../../../../fuzz/seeds/matrix_program/regression-softmax-gradient-through-overflow"
            ))
            .0,
            // (X − X)⊙exp(exp X) + tanh Y: exactly tanh Y.
            MatProgram {
                inputs: vec![dmatrix![3.5, 3.6; 3.4, 3.55], dmatrix![0.3, -0.2; 0.1, 0.7]],
                expr: MatExpr::Binary(
                    MatBinary::Add,
                    Box::new(MatExpr::Binary(
                        MatBinary::Mul,
                        Box::new(MatExpr::Binary(MatBinary::Sub, x(0), x(0))),
                        exp(exp(x(0))),
                    )),
                    Box::new(MatExpr::Unary(MatUnary::Tanh, x(1))),
                ),
            },
            // exp(Σ exp(exp X) − Σ exp(exp X) + Y) and (A·E) − (A·E): copies of one sum, or
            // of one product, are summed alike (a review: keyed by how many sums came
            // before, the probe split them).
            MatProgram {
                inputs: vec![dmatrix![3.5, 3.6; 3.4, 3.55], dmatrix![0.3, -0.2; 0.1, 0.7]],
                expr: MatExpr::Unary(
                    MatUnary::Exp,
                    Box::new(MatExpr::Binary(
                        MatBinary::Add,
                        Box::new(MatExpr::Binary(
                            MatBinary::Sub,
                            Box::new(MatExpr::Reduce(MatReduce::Sum, exp(exp(x(0))))),
                            Box::new(MatExpr::Reduce(MatReduce::Sum, exp(exp(x(0))))),
                        )),
                        x(1),
                    )),
                ),
            },
            MatProgram {
                inputs: vec![
                    dmatrix![0.3, -1.2, 0.7; 2.0, 0.25, -0.5],
                    dmatrix![1.5; -0.75; 3.0],
                ],
                expr: MatExpr::Binary(
                    MatBinary::Sub,
                    Box::new(MatExpr::MatMul(x(0), exp(exp(x(1))))),
                    Box::new(MatExpr::MatMul(x(0), exp(exp(x(1))))),
                ),
            },
            // A softmax down a column of a broadcast row exp(exp c) + 0: uniform.
            MatProgram {
                inputs: vec![dmatrix![3.6, 3.3], dmatrix![0.0; 0.0; 0.0; 0.0]],
                expr: MatExpr::Softmax(
                    Along::Rows,
                    Box::new(MatExpr::Binary(MatBinary::Add, exp(exp(x(0))), x(1))),
                ),
            },
        ];
        for program in &programs {
            let want = to_matrix(program.shape(), program.eval_scalar(&program.flat_inputs()));
            let largest = want.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
            let internal = internal_sensitivity(program, &want);
            assert!(
                internal.amax() <= 1e-6 * largest.max(1.0),
                "{:?}: allowance {:e} for values up to {largest:e}",
                program.expr,
                internal.amax()
            );
        }
    }

    #[test]
    fn a_wrong_derivative_on_the_matrix_tape_is_caught() {
        // sin with the derivative −cos: the comparison against the scalar reference fails at
        // every entry where cos ≠ 0.
        let program = MatProgram {
            inputs: vec![dmatrix![0.5, -1.0; 2.0, 0.25]],
            expr: MatExpr::Unary(MatUnary::Sin, Box::new(MatExpr::Input(0))),
        };
        let cotangent = dmatrix![1.0, 1.0; 1.0, 1.0];
        let wrong = matrix::gradient(
            |m| m[0].map_with_derivative(|x| (x.sin(), -x.cos())).sum(),
            &program.inputs,
        );
        let flat = program.flat_inputs();
        let (_, want) = reference(&program, &flat, cotangent.as_slice());
        let err =
            compare("gradient", &wrong[0], &want[0], &want[..1], true, 0.0, None).unwrap_err();
        assert!(err.starts_with("gradient[(0, 0)]"), "{err}");
        // still with the adjoints' rounding allowed (the retry of a failed comparison)
        let extra =
            ADJOINT_ROUNDING_FACTOR * f64::EPSILON * program.largest_adjoints(&cotangent)[0];
        assert!(
            compare(
                "gradient",
                &wrong[0],
                &want[0],
                &want[..1],
                true,
                extra,
                None
            )
            .is_err()
        );
        assert!(check(&program, &cotangent).is_ok());
    }

    #[test]
    fn the_tolerance_grows_with_the_references_sensitivity() {
        let (got, want) = (dmatrix![1.0 + 1e-5], dmatrix![1.0]);
        assert!(
            compare(
                "x",
                &got,
                &want,
                std::slice::from_ref(&want),
                true,
                0.0,
                None
            )
            .is_err()
        );
        // A reference that moves by 1e-8 when its inputs move by 4 ulps allows 1e-5.
        assert!(compare("x", &got, &want, &[dmatrix![1.0 + 1e-8]], true, 0.0, None).is_ok());
    }

    /// The adjoints' rounding is allowed per input, as far as the adjoints reach it: huge
    /// adjoints of one input (a product 1e-7·1e7·1e7) leave another input's comparison as
    /// tight as ever (with one allowance for the whole program, or one per input from every
    /// node that reads it, a doubled gradient of input 3 passed — also when input 3 entered
    /// the huge product through a factor of 1e-14).
    #[test]
    fn the_adjoint_allowance_is_per_input() {
        use crate::matrix_program::{MatBinary, MatReduce};
        let input = |k| Box::new(MatExpr::Input(k));
        let chain = MatExpr::MatMul(Box::new(MatExpr::MatMul(input(0), input(1))), input(2));
        let lse = MatExpr::Reduce(MatReduce::LogSumExp(Along::Rows), input(3));
        let program = MatProgram {
            inputs: vec![
                dmatrix![1e-7],
                dmatrix![1e7],
                dmatrix![1e7],
                dmatrix![0.3; -1.2; 2.0],
            ],
            expr: MatExpr::Binary(MatBinary::Add, Box::new(chain), Box::new(lse.clone())),
        };
        let cotangent = dmatrix![1.0];
        let largest = program.largest_adjoints(&cotangent);
        // 1e14 reaches input 0 (propagation sums along the path: a few times that)
        assert!((1e14..1e15).contains(&largest[0]), "{largest:?}");
        assert!(largest[3] <= 10.0, "{largest:?}");
        let (_, want) = reference(&program, &program.flat_inputs(), cotangent.as_slice());
        let doubled = &want[3] * 2.0;
        let extra = ADJOINT_ROUNDING_FACTOR * f64::EPSILON * largest[3];
        let err = compare("g", &doubled, &want[3], &want[3..], false, extra, None).unwrap_err();
        assert!(err.starts_with("g[("), "{err}");
        assert!(check(&program, &cotangent).is_ok());
        // ((x0·Σx3)·x1)·x2 + lse(x3), x0 = 1e-14: input 3 is read under the 1e14 adjoint, but
        // reached by it only through the factor 1e-14.
        let sum3 = MatExpr::Reduce(MatReduce::Sum, input(3));
        let inner = MatExpr::MatMul(input(0), Box::new(sum3));
        let chain = MatExpr::MatMul(
            Box::new(MatExpr::MatMul(Box::new(inner), input(1))),
            input(2),
        );
        let mut program = program;
        program.inputs[0] = dmatrix![1e-14];
        program.expr = MatExpr::Binary(MatBinary::Add, Box::new(chain), Box::new(lse));
        let largest = program.largest_adjoints(&cotangent);
        assert!(largest[0] >= 1e14 && largest[3] <= 10.0, "{largest:?}");
        assert!(check(&program, &cotangent).is_ok());
    }

    /// Adjoints beyond `f64`'s range at the cotangent's scale (the fuzzed program of
    /// [`adjoint_scales`]): their scale is `+∞`, but the allowance stays finite — 4e303 against
    /// gradient entries near 5e306, so an error of 1 % still fails.
    #[test]
    fn adjoints_beyond_range_get_a_finite_allowance() {
        let (program, cotangent) = MatProgram::decode(include_bytes!(
            "../../../../fuzz/seeds/matrix_program/regression-adjoints-beyond-range-after-a-retake"
        ));
        let scales = adjoint_scales(&program, &cotangent, true);
        assert_eq!(scales[0].scale, f64::INFINITY);
        assert!((1e303..1e305).contains(&scales[0].rounding), "{scales:?}");
        // At the cotangent's scale alone the overflowed adjoints are left out.
        let full = adjoint_scales(&program, &cotangent, false);
        assert!(
            full[0].scale.is_finite() && full[0].rounding < 1e296,
            "{full:?}"
        );
        let want = program.scalar_gradient(&cotangent);
        let off = &want[0] * 1.01;
        let extra = scales[0].rounding;
        assert!(compare("g", &off, &want[0], &[], false, extra, None).is_err());
        assert!(check(&program, &cotangent).is_ok());
    }

    #[test]
    fn non_finite_entries_agree_only_beyond_overflow_range() {
        let inf = dmatrix![f64::INFINITY];
        let agree = |got: &DMatrix<f64>, want: &DMatrix<f64>, strict: bool| {
            compare(
                "x",
                got,
                want,
                std::slice::from_ref(&inf),
                strict,
                0.0,
                None,
            )
            .is_ok()
        };
        assert!(agree(&inf, &dmatrix![f64::NAN], true));
        assert!(agree(&inf, &dmatrix![1e300], true));
        assert!(!agree(&inf, &dmatrix![1.0], true));
        assert!(!agree(&dmatrix![1.0], &dmatrix![f64::NAN], true));
        assert!(agree(&dmatrix![1.0], &dmatrix![f64::NAN], false));
    }
}
