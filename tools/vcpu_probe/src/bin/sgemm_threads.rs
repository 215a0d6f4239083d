//! The first layer's product of the 784-128-10 step (128 × 784 times 784 × 64, f32) on
//! matrixmultiply, 1,500 times; prints the median and the 10th and 90th percentiles. The thread
//! count is matrixmultiply's `MATMUL_NUM_THREADS`.

use std::time::Instant;

fn main() {
    let (m, k, n) = (128usize, 784usize, 64usize);
    let a = vec![0.5f32; m * k];
    let b = vec![0.25f32; k * n];
    let mut c = vec![0.0f32; m * n];
    let reps = 1500;
    let mut micros: Vec<f64> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            // SAFETY: a is m × k, b is k × n and c is m × n, all column-major with the strides
            // given, so every entry the kernel reads or writes lies inside its vector; c is a
            // unique borrow.
            unsafe {
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    1.0,
                    a.as_ptr(),
                    1,
                    m as isize,
                    b.as_ptr(),
                    1,
                    k as isize,
                    0.0,
                    c.as_mut_ptr(),
                    1,
                    m as isize,
                );
            }
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    micros.sort_by(f64::total_cmp);
    println!(
        "{m}x{k}x{n}: median {:.1} µs, p10 {:.1}, p90 {:.1}",
        micros[reps / 2],
        micros[reps / 10],
        micros[reps * 9 / 10]
    );
}
