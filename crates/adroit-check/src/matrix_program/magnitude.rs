//! The magnitude of the terms a program's gradient is summed from: forward mode over the
//! absolute values of the partials, so that no two paths cancel.

use super::MatProgram;
use super::scalar_eval::split_by;
use super::sum_order::with_probe;
use adroit_forward::rules::{BinaryRule, UnaryRule};
use adroit_forward::{ChainRule, chain_product};

/// A value and, for one seeded input entry, the sum over every path from it of the product of
/// the absolute values of the partials along the path (the `|∂|` forward mode of running
/// error analysis): `Σ |cᵢ|·paths` over a result's entries bounds, term by term, what its
/// weighted sum's derivative is added up from, in any order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Magnitude {
    /// The primal value.
    value: f64,
    /// The sum of the paths' absolute products (≥ 0).
    paths: f64,
}

impl ChainRule for Magnitude {
    type Primal = f64;

    fn primal(&self) -> f64 {
        self.value
    }

    fn constant(value: f64) -> Self {
        Self { value, paths: 0.0 }
    }

    fn is_identically_zero(&self) -> bool {
        self.value == 0.0 && self.paths == 0.0
    }

    fn apply_unary<R: UnaryRule>(self, rule: R) -> Self {
        let (value, d) = rule.eval(self.value);
        Self {
            value,
            paths: chain_product(d.abs(), self.paths),
        }
    }

    fn apply_binary<R: BinaryRule>(self, other: Self, rule: R) -> Self {
        let (value, dx, dy) = rule.eval(self.value, other.value);
        Self {
            value,
            paths: chain_product(dx.abs(), self.paths) + chain_product(dy.abs(), other.paths),
        }
    }

    fn shift(self, c: f64) -> Self {
        Self {
            value: self.value + c,
            paths: self.paths,
        }
    }

    fn scale(self, c: f64) -> Self {
        Self {
            value: self.value * c,
            paths: chain_product(c.abs(), self.paths),
        }
    }

    fn unscale(self, c: f64) -> Self {
        Self {
            value: self.value / c,
            paths: if self.paths == 0.0 {
                0.0
            } else {
                self.paths / c.abs()
            },
        }
    }
}

adroit_forward::impl_scalar_traits!([] Magnitude, f64);

impl MatProgram {
    /// Per input and entry (column-major), `Σₒ |cotangentₒ|·(paths from the entry to result
    /// entry o)` ([`Magnitude`]), the largest finite one over the program's own summation
    /// order and each of `probes` ([`eval_reordered`](Self::eval_reordered)'s): the scale of
    /// the terms that entry's gradient is summed from, at values as any of those orders
    /// computes them. A sum cancelling to far below its terms (a line of `±1.6e40` weights
    /// against equal entries) leaves a rounding at the terms' scale in one order and nothing
    /// in another, and what is computed from it inherits that: the gradient's rounding is at
    /// most a few `ε` of this scale in every order. One evaluation per input entry and order.
    pub(crate) fn gradient_term_scales(&self, cotangent: &[f64], probes: u64) -> Vec<Vec<f64>> {
        let flat = self.flat_inputs();
        let sizes: Vec<usize> = flat.iter().map(Vec::len).collect();
        let all = flat.concat();
        let mut scales = vec![0.0_f64; all.len()];
        let orders = std::iter::once(None).chain((0..probes).map(Some));
        for probe in orders {
            for (seeded, scale) in scales.iter_mut().enumerate() {
                let point: Vec<Magnitude> = all
                    .iter()
                    .enumerate()
                    .map(|(j, &value)| Magnitude {
                        value,
                        paths: if j == seeded { 1.0 } else { 0.0 },
                    })
                    .collect();
                let run = || self.eval_probed(&split_by(&point, &sizes));
                let result = match probe {
                    None => run(),
                    Some(seed) => with_probe(seed, run),
                };
                let weighted: f64 = result
                    .iter()
                    .zip(cotangent)
                    .map(|(r, c)| chain_product(c.abs(), r.paths))
                    .sum();
                if weighted.is_finite() {
                    *scale = scale.max(weighted);
                }
            }
        }
        split_by(&scales, &sizes)
    }
}

#[cfg(test)]
mod tests {
    use crate::matrix_program::{MatBinary, MatExpr, MatProgram, MatUnary, check};
    use adroit_reverse::matrix;
    use nalgebra::{DMatrix, dmatrix};

    #[test]
    fn paths_add_up_without_cancelling() {
        // x·y − x·y: the gradient is 0, its terms y, −y, x, −x; weighted by |−2|.
        let x = |k| Box::new(MatExpr::Input(k));
        let product = || Box::new(MatExpr::Binary(MatBinary::Mul, x(0), x(1)));
        let p = MatProgram {
            inputs: vec![dmatrix![3.0], dmatrix![-5.0]],
            expr: MatExpr::Binary(MatBinary::Sub, product(), product()),
        };
        let scales = p.gradient_term_scales(&[-2.0], 0);
        assert_eq!(scales, vec![vec![20.0], vec![12.0]]);
    }

    /// A well-conditioned program's term scales are a small multiple of its gradient, so the
    /// allowance they give (`64ε` of them) stays far below any error worth catching.
    #[test]
    fn a_well_conditioned_gradient_keeps_a_tight_allowance() {
        let x = |k| Box::new(MatExpr::Input(k));
        let p = MatProgram {
            inputs: vec![
                dmatrix![0.5, -1.0; 2.0, 0.25],
                dmatrix![1.5, 0.3; -0.7, 2.0],
            ],
            expr: MatExpr::Binary(
                MatBinary::Add,
                Box::new(MatExpr::Unary(
                    MatUnary::Tanh,
                    Box::new(MatExpr::MatMul(x(0), x(1))),
                )),
                x(0),
            ),
        };
        let cotangent = dmatrix![1.0, -0.5; 0.25, 2.0];
        let (_, pullback) = matrix::pullback(|m| p.eval_tape(m), &p.inputs);
        let grads = pullback.call(&cotangent);
        let scales = p.gradient_term_scales(cotangent.as_slice(), 6);
        for (g, s) in grads.iter().zip(&scales) {
            let largest = g.amax();
            for &s in s {
                assert!(
                    64.0 * f64::EPSILON * s <= 1e-12 * largest,
                    "{s} for {largest}"
                );
            }
        }
    }

    /// The fuzzed program this scale was made for: `(X·a)(X·a)ᵀ` with `X` rank one along `x`
    /// (entries to 1e23) and `a` holding `−1.6e40` at the entries where `x` is `∓0.5`, so
    /// `X·a` cancels two terms near 3e62 to 2.3e37 on the scalar tape (its products rounded
    /// apart, then summed) and leaves 1.45e46 on the matrix tape (fused multiply-adds): the
    /// values differ 1e17-fold and input 2's gradient is −8.4e62 against 1.4e93. Both are
    /// rounding at the terms' scale, which the order probes reach in the values but not in
    /// the gradient (the scalar tape's sweep sums in its own order). `64ε` times the term
    /// scale, at the probed values, exceeds the difference 1e4-fold.
    #[test]
    fn a_product_cancelled_below_its_terms_checks() {
        let (p, cotangent) = MatProgram::decode(include_bytes!(
            "../../tests/data/matrix_program_cancelled_product"
        ));
        let sizes: Vec<usize> = p.inputs.iter().map(DMatrix::len).collect();
        assert_eq!(sizes, [8, 1, 1]);
        let (value, pullback) = matrix::pullback(|m| p.eval_tape(m), &p.inputs);
        let want = DMatrix::from_column_slice(
            value.nrows(),
            value.ncols(),
            &p.eval_scalar(&p.flat_inputs()),
        );
        assert!(
            value.amax() > 1e10 * want.amax(),
            "{} against {}",
            value.amax(),
            want.amax()
        );
        let got = pullback.call(&cotangent)[2][0];
        let reference = adroit_reverse::gradient(
            |x| {
                let parts = super::split_by(x, &sizes);
                super::super::scalar_eval::weighted_sum(
                    &p.eval_scalar(&parts),
                    cotangent.as_slice(),
                )
            },
            &p.flat_inputs().concat(),
        )[9];
        assert!(
            (got - reference).abs() > 1e20 * reference.abs(),
            "{got} against {reference}"
        );
        let scales = p.gradient_term_scales(cotangent.as_slice(), 6);
        assert!(1e4 * (got - reference).abs() < 64.0 * f64::EPSILON * scales[2][0]);
        // without the probed values, the terms' scale is 1e9 smaller: too small
        let unprobed = p.gradient_term_scales(cotangent.as_slice(), 0);
        assert!((got - reference).abs() > 64.0 * f64::EPSILON * unprobed[2][0]);
        check(&p, &cotangent).unwrap();
    }
}
