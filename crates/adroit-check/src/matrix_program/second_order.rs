//! The second-order check of a matrix program: the matrix tape's Hessian-vector product (the
//! program recorded on `Dual<f64>` entries by `matrix::hvp`) against the scalar tape's
//! (`adroit_reverse::hvp` of the program written entry by entry).

use super::MatProgram;
use super::check::{ORDER_PROBES, widen_to_change};
use super::expr::{MatBinary, MatExpr, MatReduce, MatUnary};
use super::scalar_eval::split_by;
use super::sum_order::with_probe;
use adroit_reverse::matrix;
use nalgebra::DMatrix;

/// Largest intermediate magnitude of a program [`check_hvp`] compares: beyond, the two tapes'
/// summation orders make second derivatives differ by more than rounding at the result's
/// scale (products of large values), which the first-order check's probes handle and this
/// simpler check does not.
const LARGEST_INTERMEDIATE: f64 = 1e3;

/// True when `e` uses no operation with a kink (`abs`, `clamp`, `max`, the extrema), so that
/// both tapes take the same smooth path and their second derivatives differ by rounding only.
///
/// # Example
/// ```
/// use adroit_check::matrix_program::{MatExpr, MatUnary, smooth};
/// let x = || Box::new(MatExpr::Input(0));
/// assert!(smooth(&MatExpr::Unary(MatUnary::Tanh, x())));
/// assert!(!smooth(&MatExpr::Unary(MatUnary::Abs, x())));
/// ```
pub fn smooth(e: &MatExpr) -> bool {
    match e {
        MatExpr::Input(_) | MatExpr::Identity(_) => true,
        MatExpr::Unary(op, a) => !matches!(op, MatUnary::Abs | MatUnary::Clamp) && smooth(a),
        MatExpr::Binary(op, a, b) => *op != MatBinary::Max && smooth(a) && smooth(b),
        MatExpr::Reduce(r, a) => {
            let kink = matches!(
                r,
                MatReduce::Max | MatReduce::Min | MatReduce::MaxAlong(_) | MatReduce::MinAlong(_)
            );
            !kink && smooth(a)
        }
        MatExpr::ZipMap(a, b, c) | MatExpr::MatMulAdd(a, b, c) => {
            smooth(a) && smooth(b) && smooth(c)
        }
        MatExpr::MatMul(a, b)
        | MatExpr::Cat { a, b, .. }
        | MatExpr::Solve(a, b)
        | MatExpr::TriangularSolve { t: a, b, .. } => smooth(a) && smooth(b),
        MatExpr::Transpose(a)
        | MatExpr::Inverse(a)
        | MatExpr::LogAbsDet(a)
        | MatExpr::Det(a)
        | MatExpr::Cholesky(a)
        | MatExpr::Softmax(_, a)
        | MatExpr::LogSoftmax(_, a)
        | MatExpr::Reshape(_, _, a)
        | MatExpr::Affine { x: a, .. }
        | MatExpr::Block { x: a, .. }
        | MatExpr::StridedRows { x: a, .. }
        | MatExpr::TakeRowsPadded { x: a, .. }
        | MatExpr::ScatterAddRows { x: a, .. }
        | MatExpr::TakeAlong { x: a, .. } => smooth(a),
    }
}

/// Checks the Hessian-vector product of `Σ weights ⊙ program(X)` along `direction` (one
/// matrix per input, of its shape): the matrix tape's (`matrix::hvp`, also through
/// `matrix::value_gradient_and_hvp`, whose value and gradient must equal the first-order
/// call's) against the scalar tape's, within `1e-9` of the larger of 1 and the product's
/// largest entry plus `1e-9·max|W|·M²` for the program's largest intermediate magnitude `M`.
/// Where an entry is outside that, the comparison is repeated allowing, entry by entry, 30
/// times the scalar reference's largest change when its sums are taken in twelve other orders
/// (the probes of [`check`](super::check)): a sum that cancels exactly leaves a rounding
/// residue that each order leaves differently, and a second derivative can carry it at a
/// large scale (`x·tanh s`, `tanh″ s ≈ −2s` for such an `s`; found by fuzzing).
///
/// # Errors
/// The first disagreement, naming the entry, both values and the program.
///
/// # Panics
/// If `weights` is not of the program's shape or `direction` not of its inputs' shapes.
///
/// # Example
/// ```
/// use adroit_check::matrix_program::{MatExpr, MatProgram, MatUnary, check_hvp};
/// use adroit_check::nalgebra::{self, dmatrix};
/// let p = MatProgram {
///     inputs: vec![dmatrix![1.0, -2.0; 0.5, 3.0]],
///     expr: MatExpr::Unary(MatUnary::Tanh, Box::new(MatExpr::Input(0))),
/// };
/// let w = dmatrix![1.0, 0.5; -1.0, 2.0];
/// assert!(check_hvp(&p, &w, &[dmatrix![0.1, 0.2; 0.3, 0.4]]).is_ok());
/// ```
pub fn check_hvp(
    program: &MatProgram,
    weights: &DMatrix<f64>,
    direction: &[DMatrix<f64>],
) -> Result<(), String> {
    assert_eq!(
        weights.shape(),
        program.shape(),
        "check_hvp: weights of the wrong shape"
    );
    let fail = |e: String| format!("{e}\n  program {:?}", program.expr);
    let recorded =
        |m: &[matrix::MatVar<_>]| program.eval_tape(m).weighted_sum(weights.clone().cast());
    let tape = matrix::hvp(recorded, &program.inputs, direction);
    let (value, grads, tape2) = matrix::value_gradient_and_hvp(
        |m| program.eval_tape(m).weighted_sum(weights.clone().cast()),
        &program.inputs,
        direction,
    );
    let (value1, grads1) = matrix::value_and_gradient(
        |m| program.eval_tape(m).weighted_sum(weights.clone()),
        &program.inputs,
    );
    if tape != tape2 {
        return Err(fail("hvp and value_gradient_and_hvp differ".to_string()));
    }
    let same = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
    if !same(value, value1)
        || grads
            .iter()
            .zip(&grads1)
            .any(|(a, b)| a.iter().zip(b.iter()).any(|(x, y)| !same(*x, *y)))
    {
        return Err(fail(format!(
            "the dual recording's value or gradient differs from the first-order call's: {value} vs {value1}"
        )));
    }
    assert!(
        direction
            .iter()
            .zip(&program.inputs)
            .all(|(v, x)| v.shape() == x.shape()),
        "check_hvp: a direction of the wrong shape"
    );
    let got: Vec<f64> = tape.iter().flat_map(|m| m.iter().copied()).collect();
    compare_hvp(program, weights, direction, &got).map_err(fail)
}

/// [`check_hvp`]'s comparison of the matrix tape's product `got` (flattened input by input,
/// column-major) with the scalar tape's, without the program in the error.
fn compare_hvp(
    program: &MatProgram,
    weights: &DMatrix<f64>,
    direction: &[DMatrix<f64>],
    got: &[f64],
) -> Result<(), String> {
    let scalar = scalar_hvp(program, weights, direction, None);
    let scale = scalar.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
    let largest = program
        .largest_intermediate()
        .unwrap_or(f64::INFINITY)
        .max(1.0);
    // 0 for zero weights even where an intermediate overflowed (`largest` +∞), not 0·∞.
    let terms = match weights.amax() {
        0.0 => 0.0,
        w => w * largest * largest,
    };
    let bound = 1e-9 * (scale + terms);
    // NaN on either side fails, even with an unbounded allowance (a NaN difference is within
    // no bound): stricter than the first-order check, which passes an entry finite on one
    // side only where a probe changes its finiteness.
    let first_miss = |allowance: &[f64]| {
        got.iter()
            .zip(&scalar)
            .zip(allowance)
            .position(|((a, b), extra)| {
                let within = (a - b).abs() <= bound + extra;
                !within
            })
    };
    if first_miss(&vec![0.0; got.len()]).is_none() {
        return Ok(());
    }
    // Repeated allowing, entry by entry, 30 times the scalar reference's change when
    // its sums are taken in other orders (as the first-order check does): found by fuzzing,
    // `x·tanh s` with `s = Σᵢ c·x₁ᵢ` over entries `x₁ᵢ` that sum to 0 exactly, so that `s` is
    // the products' rounding residue (2.6e-13) — which the tapes' orders leave differently —
    // and `tanh″ s ≈ −2s` carries it into the product, times derivatives of `s` near 1e4:
    // 1.1e-5 apart at 2778.
    let mut allowance = vec![0.0; got.len()];
    for probe in 0..ORDER_PROBES {
        widen_to_change(
            &mut allowance,
            &scalar_hvp(program, weights, direction, Some(probe)),
            &scalar,
        );
    }
    match first_miss(&allowance) {
        None => Ok(()),
        Some(k) => Err(format!(
            "hvp entry {k}: matrix tape {} vs scalar tape {} (bound {bound:e}, {:e} for the \
             order of the sums)",
            got[k], scalar[k], allowance[k]
        )),
    }
}

/// The scalar tape's Hessian-vector product of `Σ weights ⊙ program(X)` along `direction`,
/// flattened input by input, column-major; with `probe`, its sums taken in that probe's order
/// ([`with_probe`], as [`MatProgram::eval_reordered`]).
fn scalar_hvp(
    program: &MatProgram,
    weights: &DMatrix<f64>,
    direction: &[DMatrix<f64>],
    probe: Option<u64>,
) -> Vec<f64> {
    let sizes: Vec<usize> = program.inputs.iter().map(DMatrix::len).collect();
    let flat_x: Vec<f64> = program.flat_inputs().concat();
    let flat_v: Vec<f64> = direction.iter().flat_map(|m| m.iter().copied()).collect();
    let hvp = || {
        adroit_reverse::hvp(
            |x| {
                let parts = split_by(x, &sizes);
                let out = match probe {
                    Some(_) => program.eval_probed(&parts),
                    None => program.eval_scalar(&parts),
                };
                out.iter()
                    .zip(weights.iter())
                    .fold(num_traits::Zero::zero(), |acc, (&y, &w)| acc + y * w)
            },
            &flat_x,
            &flat_v,
        )
    };
    match probe {
        Some(seed) => with_probe(seed, hvp),
        None => hvp(),
    }
}

/// [`check_hvp`] on the program, weights and direction decoded from `data` (the direction's
/// entries `sin(0.618·(5k + 3i + j + len))`, `len` the byte count), when the program is
/// [`smooth`] and its intermediate values stay within 1e3 (else nothing is checked). Returns
/// whether it checked.
///
/// # Errors
/// As [`check_hvp`].
///
/// # Example
/// ```
/// use adroit_check::matrix_program::check_hvp_bytes;
/// // every decoded program is either checked and agrees, or skipped: never an error
/// for seed in 0..20_u8 {
///     let data: Vec<u8> = (0..24).map(|i| seed.wrapping_mul(31).wrapping_add(i * 7)).collect();
///     assert!(check_hvp_bytes(&data).is_ok());
/// }
/// ```
pub fn check_hvp_bytes(data: &[u8]) -> Result<bool, String> {
    let (program, weights) = MatProgram::decode(data);
    let Some(largest) = program.largest_intermediate() else {
        return Ok(false);
    };
    if !smooth(&program.expr) || largest > LARGEST_INTERMEDIATE {
        return Ok(false);
    }
    let direction = direction_of(&program, data.len());
    check_hvp(&program, &weights, &direction).map(|()| true)
}

/// [`check_hvp_bytes`]'s direction for `program` decoded from `len` bytes: entry `(i, j)` of
/// input `k` is `sin(0.618·(len + 5k + 3i + j))`.
fn direction_of(program: &MatProgram, len: usize) -> Vec<DMatrix<f64>> {
    program
        .inputs
        .iter()
        .enumerate()
        .map(|(k, m)| {
            DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| {
                ((len + k * 5 + i * 3 + j) as f64 * 0.618).sin()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The order retry of the fuzzed program of `tanh` of a cancelled sum: its first entries
    /// move by 5e-5 between orders, the others by 2e-13 — a planted error of 1e-2 at the first
    /// or 1e-5 at another still fails.
    #[test]
    fn the_order_retry_still_catches_planted_errors() {
        let data = include_bytes!(
            "../../../../fuzz/seeds/matrix_program_hvp/regression-tanh-of-a-cancelled-sum"
        );
        assert_eq!(check_hvp_bytes(data), Ok(true));
        let (program, weights) = MatProgram::decode(data);
        let direction = direction_of(&program, data.len());
        let want = scalar_hvp(&program, &weights, &direction, None);
        assert!(compare_hvp(&program, &weights, &direction, &want).is_ok());
        for (k, error) in [(0, 1e-2), (5, 1e-5)] {
            let mut planted = want.clone();
            planted[k] += error;
            let err = compare_hvp(&program, &weights, &direction, &planted).unwrap_err();
            assert!(err.starts_with(&format!("hvp entry {k}:")), "{err}");
        }
    }

    /// Zero weights on a program whose exponential overflows: both products are 0, and the
    /// bound is not `0·∞` (NaN, which failed every entry).
    #[test]
    fn zero_weights_compare_beside_an_overflow() {
        use nalgebra::dmatrix;
        let program = MatProgram {
            inputs: vec![dmatrix![800.0, 1.0]],
            expr: MatExpr::Unary(MatUnary::Exp, Box::new(MatExpr::Input(0))),
        };
        assert_eq!(program.largest_intermediate(), None);
        let direction = [dmatrix![1.0, -0.5]];
        assert_eq!(check_hvp(&program, &dmatrix![0.0, 0.0], &direction), Ok(()));
    }
}
