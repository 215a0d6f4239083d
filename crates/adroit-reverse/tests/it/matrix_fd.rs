//! Matrix operations against an independent reference: the same function on plain nalgebra
//! matrices, differentiated by central finite differences, over every broadcast pattern,
//! both reduction directions and products with transposes and aliased operands.

use adroit_reverse::adroit_forward::rules;
use adroit_reverse::matrix::{self, Along, MatVar};
use nalgebra::DMatrix;

// ---------- tiny deterministic RNG ----------
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
    fn mat(&mut self, r: usize, c: usize) -> DMatrix<f64> {
        DMatrix::from_fn(r, c, |_, _| self.next())
    }
    fn pos(&mut self, r: usize, c: usize) -> DMatrix<f64> {
        DMatrix::from_fn(r, c, |_, _| 0.5 + self.next().abs())
    }
}

fn bshape(a: (usize, usize), b: (usize, usize)) -> (usize, usize) {
    (a.0.max(b.0), a.1.max(b.1))
}
fn bc(m: &DMatrix<f64>, s: (usize, usize)) -> DMatrix<f64> {
    DMatrix::from_fn(s.0, s.1, |i, j| {
        m[(
            if m.nrows() == 1 { 0 } else { i },
            if m.ncols() == 1 { 0 } else { j },
        )]
    })
}

fn fd(f: &dyn Fn(&[DMatrix<f64>]) -> f64, x: &[DMatrix<f64>]) -> Vec<DMatrix<f64>> {
    let h = 1e-6;
    x.iter()
        .enumerate()
        .map(|(k, m)| {
            DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| {
                let mut p = x.to_vec();
                p[k][(i, j)] += h;
                let fp = f(&p);
                p[k][(i, j)] -= 2.0 * h;
                let fm = f(&p);
                (fp - fm) / (2.0 * h)
            })
        })
        .collect()
}

fn close(a: &DMatrix<f64>, b: &DMatrix<f64>, tol: f64) -> bool {
    a.shape() == b.shape()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| (x - y).abs() <= tol * (1.0 + y.abs()))
}

fn check(
    name: &str,
    tape: impl Fn(&[MatVar<f64>]) -> MatVar<f64>,
    reference: &dyn Fn(&[DMatrix<f64>]) -> f64,
    x: &[DMatrix<f64>],
) {
    let (v, g) = matrix::value_and_gradient(|m| tape(m), x);
    let rv = reference(x);
    assert!(
        (v - rv).abs() <= 1e-9 * (1.0 + rv.abs()),
        "{name}: value {v} vs {rv}"
    );
    let rg = fd(reference, x);
    for k in 0..x.len() {
        assert!(
            close(&g[k], &rg[k], 1e-5),
            "{name}: grad {k}\n{}\nvs fd\n{}",
            g[k],
            rg[k]
        );
    }
}

const SHAPES: [(usize, usize); 6] = [(1, 1), (1, 4), (4, 1), (3, 4), (4, 3), (2, 2)];

#[test]
fn broadcast_binary_ops_vs_fd() {
    let mut rng = Rng(7);
    for &sa in &SHAPES {
        for sb in [sa, (sa.0, 1), (1, sa.1), (1, 1)] {
            for swap in [false, true] {
                let (sa, sb) = if swap { (sb, sa) } else { (sa, sb) };
                let s = bshape(sa, sb);
                let w = rng.mat(s.0, s.1);
                let (a, b) = (rng.mat(sa.0, sa.1), rng.pos(sb.0, sb.1));
                for op in 0..5 {
                    let w2 = w.clone();
                    let tape = move |m: &[MatVar<f64>]| {
                        let r = match op {
                            0 => m[0] + m[1],
                            1 => m[0] - m[1],
                            2 => m[0].component_mul(m[1]),
                            3 => m[0].component_div(m[1]),
                            _ => m[0].zip_rule(m[1], rules::Max),
                        };
                        r.weighted_sum(w2.clone())
                    };
                    let w3 = w.clone();
                    let reference = move |x: &[DMatrix<f64>]| {
                        let (a, b) = (bc(&x[0], s), bc(&x[1], s));
                        let r = match op {
                            0 => &a + &b,
                            1 => &a - &b,
                            2 => a.component_mul(&b),
                            3 => a.component_div(&b),
                            _ => a.zip_map(&b, f64::max),
                        };
                        r.component_mul(&w3).sum()
                    };
                    check(
                        &format!("op{op} {sa:?} {sb:?}"),
                        tape,
                        &reference,
                        &[a.clone(), b.clone()],
                    );
                }
            }
        }
    }
}

fn lse_col(c: &[f64]) -> f64 {
    let m = c.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + c.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

/// Reference: apply per-column (Rows) or per-row (Cols) function.
fn lines(x: &DMatrix<f64>, along: Along) -> Vec<Vec<f64>> {
    match along {
        Along::Rows => (0..x.ncols())
            .map(|j| x.column(j).iter().cloned().collect())
            .collect(),
        Along::Cols => (0..x.nrows())
            .map(|i| x.row(i).iter().cloned().collect())
            .collect(),
    }
}
fn unlines(l: Vec<Vec<f64>>, shape: (usize, usize), along: Along) -> DMatrix<f64> {
    DMatrix::from_fn(shape.0, shape.1, |i, j| match along {
        Along::Rows => l[j][i],
        Along::Cols => l[i][j],
    })
}

#[test]
fn softmax_family_and_reductions_vs_fd() {
    let mut rng = Rng(11);
    for &s in &SHAPES {
        for along in [Along::Rows, Along::Cols] {
            let x = rng.mat(s.0, s.1) * 3.0;
            let w = rng.mat(s.0, s.1);
            let lshape = match along {
                Along::Rows => (1, s.1),
                Along::Cols => (s.0, 1),
            };
            let wl = rng.mat(lshape.0, lshape.1);
            // softmax
            let (w1, w2) = (w.clone(), w.clone());
            check(
                &format!("softmax {s:?} {along:?}"),
                move |m| m[0].softmax(along).weighted_sum(w1.clone()),
                &move |x| {
                    let l = lines(&x[0], along)
                        .into_iter()
                        .map(|c| {
                            let e = lse_col(&c);
                            c.iter().map(|v| (v - e).exp()).collect()
                        })
                        .collect();
                    unlines(l, s, along).component_mul(&w2).sum()
                },
                std::slice::from_ref(&x),
            );
            // logsoftmax
            let (w1, w2) = (w.clone(), w.clone());
            check(
                &format!("logsoftmax {s:?} {along:?}"),
                move |m| {
                    (m[0]
                        .logsoftmax(along)
                        .component_mul(MatVar::constant(w1.clone())))
                    .sum()
                },
                &move |x| {
                    let l = lines(&x[0], along)
                        .into_iter()
                        .map(|c| {
                            let e = lse_col(&c);
                            c.iter().map(|v| v - e).collect()
                        })
                        .collect();
                    unlines(l, s, along).component_mul(&w2).sum()
                },
                std::slice::from_ref(&x),
            );
            // logsumexp, sum_along, mean_along
            for kind in 0..3 {
                let (w1, w2) = (wl.clone(), wl.clone());
                check(
                    &format!("reduce{kind} {s:?} {along:?}"),
                    move |m| {
                        let r = match kind {
                            0 => m[0].logsumexp(along),
                            1 => m[0].sum_along(along),
                            _ => m[0].mean_along(along),
                        };
                        r.weighted_sum(w1.clone())
                    },
                    &move |x| {
                        let l: Vec<f64> = lines(&x[0], along)
                            .into_iter()
                            .map(|c| match kind {
                                0 => lse_col(&c),
                                1 => c.iter().sum(),
                                _ => c.iter().sum::<f64>() / c.len() as f64,
                            })
                            .collect();
                        let r = DMatrix::from_fn(lshape.0, lshape.1, |i, j| l[i + j]);
                        r.component_mul(&w2).sum()
                    },
                    std::slice::from_ref(&x),
                );
            }
            // broadcasting a reduction back: x - mean_along(x)  (column/row operand on the right)
            // and mean_along(x) - x (on the left)
            for left in [false, true] {
                let (w1, w2) = (w.clone(), w.clone());
                check(
                    &format!("centre {s:?} {along:?} left={left}"),
                    move |m| {
                        let mu = m[0].mean_along(along);
                        let d = if left { mu - m[0] } else { m[0] - mu };
                        d.component_mul(d).weighted_sum(w1.clone())
                    },
                    &move |x| {
                        let mu = match along {
                            Along::Rows => DMatrix::from_fn(1, s.1, |_, j| x[0].column(j).mean()),
                            Along::Cols => DMatrix::from_fn(s.0, 1, |i, _| x[0].row(i).mean()),
                        };
                        let mu = bc(&mu, s);
                        let d = if left { &mu - &x[0] } else { &x[0] - &mu };
                        d.component_mul(&d).component_mul(&w2).sum()
                    },
                    std::slice::from_ref(&x),
                );
            }
        }
    }
}

#[test]
fn matmul_vs_fd() {
    let mut rng = Rng(3);
    for (m, k, n) in [
        (1, 1, 1),
        (1, 3, 1),
        (3, 1, 4),
        (4, 3, 2),
        (2, 5, 1),
        (1, 4, 3),
        (17, 9, 13),
    ] {
        let (a, b) = (rng.mat(m, k), rng.mat(k, n));
        let w = rng.mat(m, n);
        let wt = rng.mat(n, m);
        let (w1, w2) = (w.clone(), w.clone());
        check(
            &format!("matmul {m}x{k}x{n}"),
            move |v| (v[0] * v[1]).weighted_sum(w1.clone()),
            &move |x| (&x[0] * &x[1]).component_mul(&w2).sum(),
            &[a.clone(), b.clone()],
        );
        // transposes and self-products (aliasing of the same node in both operands)
        let (w1, w2) = (wt.clone(), wt.clone());
        check(
            &format!("matmul-t {m}x{k}x{n}"),
            move |v| {
                (v[1].transpose() * v[0].transpose())
                    .tanh()
                    .weighted_sum(w1.clone())
            },
            &move |x| {
                (x[1].transpose() * x[0].transpose())
                    .map(f64::tanh)
                    .component_mul(&w2)
                    .sum()
            },
            &[a.clone(), b.clone()],
        );
        let sq = rng.mat(m, m);
        check(
            &format!("A*A {m}"),
            |v| (v[0] * v[0]).sum(),
            &|x| (&x[0] * &x[0]).sum(),
            &[sq],
        );
        let c = rng.mat(m, k);
        check(
            &format!("A*At {m}x{k}"),
            |v| {
                (v[0] * v[0].transpose())
                    .component_mul(v[0] * v[0].transpose())
                    .sum()
            },
            &|x| {
                let p = &x[0] * x[0].transpose();
                p.component_mul(&p).sum()
            },
            &[c],
        );
    }
}

/// Blocks and concatenation, against plain nalgebra and finite differences: every block of
/// a 3 × 4 matrix, and `vcat`/`hcat` of parts (one repeated) whose result feeds a product,
/// so that each part's adjoint block differs.
#[test]
fn views_and_concatenation_vs_fd() {
    let mut rng = Rng(11);
    let a = rng.mat(3, 4);
    for (i, j, r, c) in [
        (0, 0, 3, 4),
        (1, 2, 2, 2),
        (2, 0, 1, 4),
        (0, 3, 3, 1),
        (1, 1, 0, 2),
    ] {
        let w = rng.mat(r, c);
        let w2 = w.clone();
        check(
            &format!("view ({i}, {j}) {r}×{c}"),
            move |m| (m[0].view((i, j), (r, c)).tanh()).weighted_sum(w.clone()),
            &move |x| {
                x[0].view((i, j), (r, c))
                    .map(f64::tanh)
                    .component_mul(&w2)
                    .sum()
            },
            std::slice::from_ref(&a),
        );
    }
    let w = rng.mat(3, 3);
    let (w1, w2) = (w.clone(), w.clone());
    check(
        "rows and columns",
        move |m| {
            (m[0]
                .rows(1, 2)
                .component_mul(m[0].columns(1, 2).transpose()))
            .sum()
                + m[0].columns(0, 3).transpose().weighted_sum(w1.clone())
        },
        &move |x| {
            let r = x[0]
                .rows(1, 2)
                .component_mul(&x[0].columns(1, 2).transpose());
            r.sum() + x[0].columns(0, 3).transpose().component_mul(&w2).sum()
        },
        std::slice::from_ref(&rng.mat(3, 3)),
    );
    let (p, q) = (rng.mat(2, 3), rng.mat(1, 3));
    let right = rng.mat(3, 2);
    let (r1, r2) = (right.clone(), right.clone());
    check(
        "vcat",
        move |m| {
            (MatVar::vcat(&[m[0], m[1], m[0]]) * MatVar::constant(r1.clone()))
                .tanh()
                .sum()
        },
        &move |x| {
            let mut s = DMatrix::zeros(5, 3);
            s.rows_mut(0, 2).copy_from(&x[0]);
            s.rows_mut(2, 1).copy_from(&x[1]);
            s.rows_mut(3, 2).copy_from(&x[0]);
            (s * &r2).map(f64::tanh).sum()
        },
        &[p, q],
    );
    let (p, q) = (rng.mat(3, 1), rng.mat(3, 2));
    let left = rng.mat(2, 3);
    let (l1, l2) = (left.clone(), left.clone());
    check(
        "hcat",
        move |m| {
            (MatVar::constant(l1.clone()) * MatVar::hcat(&[m[1], m[0]]))
                .tanh()
                .sum()
        },
        &move |x| {
            let mut s = DMatrix::zeros(3, 3);
            s.columns_mut(0, 2).copy_from(&x[1]);
            s.columns_mut(2, 1).copy_from(&x[0]);
            (&l2 * s).map(f64::tanh).sum()
        },
        &[p, q],
    );
}
