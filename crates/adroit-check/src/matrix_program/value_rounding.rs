//! A bound on the rounding of a program's values: first-order running error analysis, in
//! which no two contributions cancel.

use super::MatProgram;
use super::sum_order::with_probe;
use adroit_forward::rules::{BinaryRule, UnaryRule};
use adroit_forward::{ChainRule, chain_product};

/// A value and `E`, the bound in units of `ε` on the rounding it carries: each operation adds
/// its own result's rounding `|v|` to its operands' `E` carried by the absolute partials,
/// `E(f(a, b)) = |f| + |∂ₐf|·E(a) + |∂_bf|·E(b)` (inputs and constants exact). `ε·E` bounds,
/// to first order, how far any summation order can move the value.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rounding {
    /// The primal value.
    value: f64,
    /// The rounding bound, in units of `ε` (≥ 0).
    bound: f64,
}

impl ChainRule for Rounding {
    type Primal = f64;

    fn primal(&self) -> f64 {
        self.value
    }

    fn constant(value: f64) -> Self {
        Self { value, bound: 0.0 }
    }

    fn is_identically_zero(&self) -> bool {
        self.value == 0.0 && self.bound == 0.0
    }

    fn apply_unary<R: UnaryRule>(self, rule: R) -> Self {
        let (value, d) = rule.eval(self.value);
        Self {
            value,
            bound: value.abs() + chain_product(d.abs(), self.bound),
        }
    }

    fn apply_binary<R: BinaryRule>(self, other: Self, rule: R) -> Self {
        let (value, dx, dy) = rule.eval(self.value, other.value);
        Self {
            value,
            bound: value.abs()
                + chain_product(dx.abs(), self.bound)
                + chain_product(dy.abs(), other.bound),
        }
    }

    fn shift(self, c: f64) -> Self {
        let value = self.value + c;
        Self {
            value,
            bound: value.abs() + self.bound,
        }
    }

    fn scale(self, c: f64) -> Self {
        let value = self.value * c;
        Self {
            value,
            bound: value.abs() + chain_product(c.abs(), self.bound),
        }
    }

    fn unscale(self, c: f64) -> Self {
        let value = self.value / c;
        Self {
            value,
            bound: value.abs()
                + if self.bound == 0.0 {
                    0.0
                } else {
                    self.bound / c.abs()
                },
        }
    }
}

adroit_forward::impl_scalar_traits!([] Rounding, f64);

impl MatProgram {
    /// Per result entry (column-major), the rounding bound `E` of [`Rounding`] — in units of
    /// `ε`, how far rounding can move the value in any summation order, to first order — the
    /// largest finite one over the program's own order and each of `probes`
    /// ([`eval_reordered`](Self::eval_reordered)'s). A sum that cancels far below its terms
    /// (weights of ±1.6e40 against equal entries) has `E` at the terms' scale.
    pub(crate) fn value_rounding_bounds(&self, probes: u64) -> Vec<f64> {
        let point: Vec<Vec<Rounding>> = self
            .flat_inputs()
            .iter()
            .map(|v| v.iter().map(|&x| Rounding::constant(x)).collect())
            .collect();
        let mut bounds: Vec<f64> = Vec::new();
        for probe in std::iter::once(None).chain((0..probes).map(Some)) {
            let run = || self.eval_probed(&point);
            let result = match probe {
                None => run(),
                Some(seed) => with_probe(seed, run),
            };
            bounds.resize(result.len(), 0.0);
            for (b, r) in bounds.iter_mut().zip(&result) {
                if r.bound.is_finite() {
                    *b = b.max(r.bound);
                }
            }
        }
        bounds
    }
}

#[cfg(test)]
mod tests {
    use crate::matrix_program::{MatBinary, MatExpr, MatProgram};
    use nalgebra::dmatrix;

    #[test]
    fn each_operation_adds_its_own_rounding() {
        // (x·y) + z at (3, −5, 16): |−15| for the product, then |1| + 1·15 for the sum
        let x = |k| Box::new(MatExpr::Input(k));
        let p = MatProgram {
            inputs: vec![dmatrix![3.0], dmatrix![-5.0], dmatrix![16.0]],
            expr: MatExpr::Binary(
                MatBinary::Add,
                Box::new(MatExpr::Binary(MatBinary::Mul, x(0), x(1))),
                x(2),
            ),
        };
        assert_eq!(p.value_rounding_bounds(0), vec![16.0]);
    }

    /// The fuzzed mutation of `magnitude.rs`'s cancelled product that failed the value
    /// comparison: the matrix tape's value is 1e17 times the scalar tape's (both rounding of a
    /// sum cancelling ±3e62 terms), within `4ε` of the bound at the probed orders, not at the
    /// program's own.
    #[test]
    fn a_value_cancelled_below_its_terms_checks() {
        use crate::matrix_program::check_bytes;
        use adroit_reverse::matrix;
        let bytes = include_bytes!("../../tests/data/matrix_program_cancelled_product_value");
        let (p, _) = MatProgram::decode(bytes);
        let (value, _) = matrix::pullback(|m| p.eval_tape(m), &p.inputs);
        let want = p.eval_scalar(&p.flat_inputs());
        let (i, gap) = value
            .iter()
            .zip(&want)
            .map(|(v, w)| (v - w).abs())
            .enumerate()
            .fold((0, 0.0_f64), |m, (i, d)| if d > m.1 { (i, d) } else { m });
        assert!(gap > 1e10 * want[i].abs(), "{gap} at {i}, {}", want[i]);
        let probed = p.value_rounding_bounds(6);
        let own = p.value_rounding_bounds(0);
        assert!(gap < 4.0 * f64::EPSILON * probed[i]);
        assert!(gap > 4.0 * f64::EPSILON * own[i]);
        check_bytes(bytes).unwrap();
    }
}
