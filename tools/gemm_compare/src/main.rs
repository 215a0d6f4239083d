//! Times `C = op(A)·op(B)` (f32, column-major, one thread or the count given as argument)
//! for the products of one 784-512-512-10 batch-128 training step and of one 784-128-10
//! batch-64 step, then `Aᵀ·B` (the left operand read transposed) at depths 32 to 1024 and a few
//! small products, on `matrixmultiply`, `gemm` 0.19 with its AVX-512 kernels (`x86-v4`; adroit's
//! `f32` kernel with the feature `gemm`, but for `Aᵀ·B` deeper than 256, where it was slower)
//! and `faer` 0.24, and prints medians and GFLOP/s.
//!
//! Not a criterion benchmark on purpose: it is a one-off library comparison kept out of the
//! workspace (so CI does not build three GEMM libraries); the figures are quoted in
//! `BENCHMARKS.md` §5.

use faer::{Accum, MatMut, MatRef, Par};
use std::time::Instant;

/// Median of `times` (seconds).
fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Deterministic entries in [−0.5, 0.5).
fn entries(len: usize, multiplier: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * multiplier) % 1000) as f32 / 1000.0 - 0.5)
        .collect()
}

/// One product `C (m×n) = op(A) (m×k) · op(B) (k×n)`; `a_t`: A stored as k×m and read
/// transposed, `b_t`: B stored as n×k and read transposed.
fn compare(name: &str, (m, k, n): (usize, usize, usize), a_t: bool, b_t: bool, threads: usize) {
    let a = entries(m * k, 7919);
    let b = entries(k * n, 104_729);
    let mut c = [vec![0f32; m * n], vec![0f32; m * n], vec![0f32; m * n]];
    let (a_rs, a_cs) = if a_t {
        (k as isize, 1)
    } else {
        (1, m as isize)
    };
    let (b_rs, b_cs) = if b_t {
        (n as isize, 1)
    } else {
        (1, k as isize)
    };
    let par = if threads > 1 {
        Par::rayon(threads)
    } else {
        Par::Seq
    };
    let mut times = [Vec::new(), Vec::new(), Vec::new()];
    for _ in 0..100 {
        let start = Instant::now();
        // SAFETY: the strides address exactly the m×k and k×n entries of `a` and `b`; `c[0]`
        // is a distinct m×n column-major buffer.
        unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                1.0,
                a.as_ptr(),
                a_rs,
                a_cs,
                b.as_ptr(),
                b_rs,
                b_cs,
                0.0,
                c[0].as_mut_ptr(),
                1,
                m as isize,
            );
        }
        times[0].push(start.elapsed().as_secs_f64());

        let start = Instant::now();
        // SAFETY: as above (gemm takes column stride before row stride).
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                c[1].as_mut_ptr(),
                m as isize,
                1,
                false,
                a.as_ptr(),
                a_cs,
                a_rs,
                b.as_ptr(),
                b_cs,
                b_rs,
                0.0f32,
                1.0f32,
                false,
                false,
                false,
                if threads > 1 {
                    gemm::Parallelism::Rayon(threads)
                } else {
                    gemm::Parallelism::None
                },
            );
        }
        times[1].push(start.elapsed().as_secs_f64());

        let start = Instant::now();
        let lhs = if a_t {
            MatRef::from_column_major_slice(&a, k, m).transpose()
        } else {
            MatRef::from_column_major_slice(&a, m, k)
        };
        let rhs = if b_t {
            MatRef::from_column_major_slice(&b, n, k).transpose()
        } else {
            MatRef::from_column_major_slice(&b, k, n)
        };
        let dst = MatMut::from_column_major_slice_mut(&mut c[2], m, n);
        faer::linalg::matmul::matmul(dst, Accum::Replace, lhs, rhs, 1.0f32, par);
        times[2].push(start.elapsed().as_secs_f64());
    }
    let diff = c[0]
        .iter()
        .zip(&c[1])
        .chain(c[0].iter().zip(&c[2]))
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    let flops = 2.0 * (m * n * k) as f64;
    print!("| {name} | {m}×{k}×{n} |");
    for t in times.map(median) {
        print!(" {:.1} µs ({:.0} GFLOP/s) |", t * 1e6, flops / t / 1e9);
    }
    println!(" {diff:.1e} |");
}

/// One training step's products: name, `(m, k, n)`, A read transposed, B read transposed.
type Products = &'static [(&'static str, (usize, usize, usize), bool, bool)];

/// The products of one 784-512-512-10 batch-128 step and one 784-128-10 batch-64 step (`in ×
/// batch` activations, as adroit's `Dense`).
const STEPS: [(&str, Products); 3] = [
    (
        "784-512-512-10, batch 128",
        &[
            ("W₁·X", (512, 784, 128), false, false),
            ("W₂·H₁", (512, 512, 128), false, false),
            ("W₃·H₂", (10, 512, 128), false, false),
            ("G₁·Xᵀ", (512, 128, 784), false, true),
            ("G₂·H₁ᵀ", (512, 128, 512), false, true),
            ("G₃·H₂ᵀ", (10, 128, 512), false, true),
            ("W₂ᵀ·G₂", (512, 512, 128), true, false),
            ("W₃ᵀ·G₃", (512, 10, 128), true, false),
        ],
    ),
    (
        "784-128-10, batch 64",
        &[
            ("W₁·X", (128, 784, 64), false, false),
            ("W₂·H₁", (10, 128, 64), false, false),
            ("G₁·Xᵀ", (128, 64, 784), false, true),
            ("G₂·H₁ᵀ", (10, 64, 128), false, true),
            ("W₂ᵀ·G₂", (128, 10, 64), true, false),
        ],
    ),
    (
        "Aᵀ·B (the left operand read transposed) by depth, and small products",
        &[
            ("Aᵀ·B", (512, 32, 128), true, false),
            ("Aᵀ·B", (512, 64, 128), true, false),
            ("Aᵀ·B", (512, 128, 128), true, false),
            ("Aᵀ·B", (512, 256, 128), true, false),
            ("Aᵀ·B", (256, 256, 64), true, false),
            ("Aᵀ·B", (128, 128, 64), true, false),
            ("Aᵀ·B", (784, 128, 64), true, false),
            ("Aᵀ·B", (128, 1024, 64), true, false),
            ("Aᵀ·B", (128, 512, 128), true, false),
            ("Aᵀ·B", (2048, 128, 64), true, false),
            ("Aᵀ·B", (1024, 256, 128), true, false),
            ("Aᵀ·B", (256, 512, 256), true, false),
            ("A·B", (64, 64, 64), false, false),
            ("A·B", (32, 64, 32), false, false),
            ("A·Bᵀ", (64, 32, 64), false, true),
            ("Aᵀ·B", (64, 64, 64), true, false),
        ],
    ),
];

fn main() {
    // Threads for gemm and faer; matrixmultiply reads MATMUL_NUM_THREADS.
    let threads: usize = std::env::args()
        .nth(1)
        .map_or(1, |t| t.parse().expect("thread count"));
    println!("threads: {threads} (matrixmultiply: MATMUL_NUM_THREADS)");
    for (step, products) in STEPS {
        println!("\n{step}:\n");
        println!(
            "| product | m×k×n | matrixmultiply 0.3 | gemm 0.19 (x86-v4) | faer 0.24 | max diff |"
        );
        println!("|---|---|---|---|---|---|");
        for &(name, shape, a_t, b_t) in products {
            compare(name, shape, a_t, b_t, threads);
        }
    }
}
