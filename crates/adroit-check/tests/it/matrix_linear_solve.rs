//! Property suite: the matrix tape's `solve`, `inverse` and `logabsdet` against the scalar
//! tape through nalgebra's LU on `Var`s (entry by entry) and finite differences, on random
//! sizes (1 to 5) and random well-conditioned matrices whose LU needs row swaps; the matrix
//! pullback called with several cotangents.

use adroit_check::fd;
use adroit_check::strategy::{config, matrix};
use adroit_reverse::Var;
use adroit_reverse::matrix::{self as mat, MatVar};
use nalgebra::DMatrix;
use proptest::prelude::*;

/// One case: `A` (`n × n`), `B`, `W` (`n × k`), `V` (`n × n`).
#[derive(Clone, Debug)]
struct Case {
    a: DMatrix<f64>,
    b: DMatrix<f64>,
    w: DMatrix<f64>,
    v: DMatrix<f64>,
}

/// `A = P·D`: `D` strictly diagonally dominant (entries in [−1, 1] plus `±(n + 1)` on the
/// diagonal, so its condition number stays below about `2n + 1`), its rows permuted by a
/// random `P` — so partial pivoting swaps rows, and the determinant takes either sign.
fn cases() -> impl Strategy<Value = Case> {
    (1usize..=5, 1usize..=3).prop_flat_map(|(n, k)| {
        let order = Just((0..n).collect::<Vec<_>>()).prop_shuffle();
        let signs = proptest::collection::vec(any::<bool>(), n);
        (
            matrix::<f64>(n, n, -1.0, 1.0),
            signs,
            order,
            matrix::<f64>(n, k, -2.0, 2.0),
            matrix::<f64>(n, k, -1.0, 1.0),
            matrix::<f64>(n, n, -1.0, 1.0),
        )
            .prop_map(move |(m, signs, order, b, w, v)| {
                let shift = (n + 1) as f64;
                let d = DMatrix::from_fn(n, n, |i, j| {
                    let diagonal = if signs[i] { shift } else { -shift };
                    m[(i, j)] + if i == j { diagonal } else { 0.0 }
                });
                let a = DMatrix::from_fn(n, n, |i, j| d[(order[i], j)]);
                Case { a, b, w, v }
            })
    })
}

/// `L(A, B) = Σ W ⊙ A⁻¹(A⁻¹B) + ½ Σ W ⊙ A⁻¹B + 0.7·ln|det A| + Σ V ⊙ A⁻¹` on the matrix tape
/// (a solve whose right-hand side is itself a node, a `B` read twice).
fn loss_matrix(m: &[MatVar<f64>], c: &Case) -> MatVar<f64> {
    let x1 = m[0].solve(m[1]);
    let x2 = m[0].solve(x1);
    x2.weighted_sum(c.w.clone())
        + x1.weighted_sum(c.w.clone()) * 0.5
        + m[0].logabsdet() * 0.7
        + m[0].inverse().weighted_sum(c.v.clone())
}

/// The same loss entry by entry through nalgebra's LU on scalar variables (or plain floats).
fn loss_entries<S>(a: DMatrix<S>, b: &DMatrix<S>, c: &Case) -> S
where
    S: nalgebra::RealField + Copy,
{
    let lu = a.lu();
    let x1 = lu.solve(b).expect("a well-conditioned A");
    let x2 = lu.solve(&x1).expect("a well-conditioned A");
    let inverse = lu.try_inverse().expect("a well-conditioned A");
    let weighted = |x: &DMatrix<S>, w: &DMatrix<f64>| {
        x.iter().zip(w.iter()).fold(S::zero(), |s, (&x, &w)| {
            s + x * nalgebra::convert::<f64, S>(w)
        })
    };
    weighted(&x2, &c.w)
        + weighted(&x1, &c.w) * nalgebra::convert::<f64, S>(0.5)
        + lu.determinant().abs().ln() * nalgebra::convert::<f64, S>(0.7)
        + weighted(&inverse, &c.v)
}

/// `A`'s entries then `B`'s, column-major.
fn flat(a: &DMatrix<f64>, b: &DMatrix<f64>) -> Vec<f64> {
    a.iter().chain(b.iter()).copied().collect()
}

/// `v` split back into `A` (`n × n`) and `B` (`n × k`).
fn split<S: nalgebra::Scalar + Copy>(v: &[S], n: usize, k: usize) -> (DMatrix<S>, DMatrix<S>) {
    (
        DMatrix::from_column_slice(n, n, &v[..n * n]),
        DMatrix::from_column_slice(n, k, &v[n * n..]),
    )
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn solve_inverse_logabsdet_match_the_scalar_tape_and_differences(c in cases()) {
        let (n, k) = c.b.shape();
        let (value, grads) =
            mat::value_and_gradient(|m| loss_matrix(m, &c), &[c.a.clone(), c.b.clone()]);
        let x0 = flat(&c.a, &c.b);
        let (scalar_value, scalar) = adroit_reverse::value_and_gradient(
            |v: &[Var<f64>]| {
                let (a, b) = split(v, n, k);
                loss_entries(a, &b, &c)
            },
            &x0,
        );
        let numeric = fd::gradient(
            |v: &[f64]| {
                let (a, b) = split(v, n, k);
                loss_entries(a, &b, &c)
            },
            &x0,
        );
        prop_assert!(
            (value - scalar_value).abs() <= 1e-12 * (1.0 + scalar_value.abs()),
            "value: matrix {value} vs scalar {scalar_value}"
        );
        let matrix_flat = flat(&grads[0], &grads[1]);
        for i in 0..matrix_flat.len() {
            let (m, s, d) = (matrix_flat[i], scalar[i], numeric[i]);
            prop_assert!(
                (m - s).abs() <= 1e-11 * (1.0 + s.abs()),
                "entry {i}: matrix {m} vs scalar {s}"
            );
            prop_assert!(
                (m - d).abs() <= 1e-6 * (1.0 + d.abs()),
                "entry {i}: matrix {m} vs fd {d}"
            );
        }
    }

    #[test]
    fn the_pullback_of_a_solve_serves_many_cotangents(
        c in cases(),
        scales in proptest::collection::vec(-2.0..2.0_f64, 3),
    ) {
        // X = A⁻¹B + ln|det A| (broadcast) pulled back with W·s for several s (0 among them):
        // each call is s times the first one's, up to rounding, and the same cotangent again
        // gives the same bits.
        let inputs = [c.a.clone(), c.b.clone()];
        let (_, pb) = mat::pullback(|m| m[0].solve(m[1]) + m[0].logabsdet(), &inputs);
        let unit = pb.call(&c.w);
        for &s in scales.iter().chain(&[0.0]) {
            let scaled = pb.call(&(&c.w * s));
            for (got, one) in scaled.iter().zip(&unit) {
                let want = one * s;
                let scale = 1.0 + one.amax() * s.abs();
                prop_assert!((got - &want).amax() <= 1e-12 * scale, "s = {s}: {got} vs {want}");
            }
        }
        prop_assert_eq!(pb.call(&c.w), unit);
    }
}
