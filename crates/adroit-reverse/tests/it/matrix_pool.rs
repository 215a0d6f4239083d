//! The matrix tape's buffer pool: results are bit-identical whatever stale buffers the pool
//! holds (f64 and f32, every pooled operation), and gradients come back at their exact size.
//! (A dropped pullback giving its buffers back is tested inside the crate, where the pool can be
//! seen.)

use adroit_reverse::adroit_forward::rules::Max;
use adroit_reverse::matrix::{self, Along, MatScalar, MatVar};
use adroit_reverse::nalgebra::DMatrix;
use adroit_reverse::num_traits::Float;

fn seeded<T: MatScalar>(rows: usize, cols: usize, seed: usize) -> DMatrix<T> {
    DMatrix::from_fn(rows, cols, |i, j| {
        T::from_f64(((seed + 3 * i + 7 * j) % 17) as f64 / 11.0 - 0.7).unwrap()
    })
}

fn c<T: MatScalar>(x: f64) -> T {
    T::from_f64(x).unwrap()
}

/// Every operation that takes or gives back pooled buffers, on shapes of 64 entries or more:
/// broadcasting in every direction (`zip_map`'s general path, the binary rules), the scalar
/// operations, the softmax family along both dimensions, weighted sums, concatenation, views
/// (one-row blocks too), products, reshapes, vectors.
fn battery<T: MatScalar + Float>(m: &[MatVar<T>]) -> MatVar<T> {
    let (a, r, col, s, w, wide, long, row) = (m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7]);
    let zm = MatVar::zip_map([a, r, col, s], |[a, b, c, d]| a * b + c.sin() * d + a * a);
    let bm =
        a.component_mul(col) + a.component_div(r.exp()) + a.zip_rule(s, Max) + col.component_mul(r);
    let lin = (a * c::<T>(3.0) + c::<T>(1.0)) - a / c::<T>(4.0) + (-a) + (a - c::<T>(0.5));
    let sm = a.logsoftmax(Along::Cols) + a.softmax(Along::Rows) + a.logsumexp(Along::Cols);
    let ws = a.weighted_sum(seeded(12, 10, 5));
    let hc = MatVar::hcat(&[a, a.exp()]);
    let one_row = wide.rows(1, 1);
    let cols = wide.columns(3, 80);
    let red = hc.sum_along(Along::Rows).sum()
        + hc.mean_along(Along::Cols).sum()
        + one_row.tanh().sum()
        + cols.sum_along(Along::Rows).exp().sum();
    let mm = (a.transpose() * w.transpose()).component_mul(MatVar::constant(seeded(10, 10, 2)));
    let outer = long.component_mul(row);
    let vecs = long.softmax(Along::Rows).sum()
        + long.logsoftmax(Along::Cols).sum()
        + row.logsumexp(Along::Cols).sum()
        + outer.tanh().mean()
        + long.transpose().component_mul(row).sum()
        + MatVar::vcat(&[row, row.tanh()]).sum();
    zm.sum() + bm.tanh().sum() + lin.sum() + sm.sum() + ws + red + mm.reshape(20, 5).sum() + vecs
}

fn inputs<T: MatScalar>() -> Vec<DMatrix<T>> {
    vec![
        seeded(12, 10, 0),
        seeded(12, 1, 1),
        seeded(1, 10, 2),
        seeded(1, 1, 3),
        seeded(10, 12, 4),
        seeded(2, 100, 6),
        seeded(100, 1, 7),
        seeded(1, 100, 8),
    ]
}

/// Fills the pool's size classes from 64 to 4096 entries with buffers of NaN (the values and
/// derivatives of a recording whose every entry is NaN).
fn poison<T: MatScalar + Float>() {
    for len in (64..4096).step_by(5) {
        let _ = matrix::gradient(
            |m| m[0].map_with_derivative(|_| (T::nan(), T::nan())).sum(),
            &[DMatrix::<T>::zeros(len, 1)],
        );
    }
}

fn bits<T: MatScalar + Float>(v: &[DMatrix<T>]) -> Vec<Vec<u64>> {
    v.iter()
        .map(|m| m.iter().map(|x| x.to_f64().unwrap().to_bits()).collect())
        .collect()
}

fn same_from_stale_buffers<T: MatScalar + Float>() {
    let x = inputs::<T>();
    let fresh = {
        let x = x.clone();
        std::thread::spawn(move || {
            let (v, g) = matrix::value_and_gradient(battery, &x);
            (v.to_f64().unwrap().to_bits(), bits(&g))
        })
        .join()
        .unwrap()
    };
    for _ in 0..3 {
        poison::<T>();
        let (v, g) = matrix::value_and_gradient(battery, &x);
        assert_eq!(v.to_f64().unwrap().to_bits(), fresh.0);
        assert_eq!(bits(&g), fresh.1);
    }
}

#[test]
fn every_pooled_operation_is_bit_identical_over_stale_buffers_f64() {
    same_from_stale_buffers::<f64>();
}

#[test]
fn every_pooled_operation_is_bit_identical_over_stale_buffers_f32() {
    same_from_stale_buffers::<f32>();
}

#[test]
fn a_pullback_called_again_after_other_recordings_reused_the_pool() {
    let x = inputs::<f64>();
    let (_, pb) = matrix::pullback(|m| MatVar::hcat(&[battery(m) + m[0], m[0].exp()]), &x);
    let cotangent = seeded::<f64>(12, 20, 9);
    let first = bits(&pb.call(&cotangent));
    for _ in 0..3 {
        poison::<f64>();
        let _ = matrix::value_and_gradient(battery, &x);
        assert_eq!(bits(&pb.call(&cotangent)), first);
    }
}

/// The capacity of a gradient's buffer.
fn capacity(m: &DMatrix<f64>) -> usize {
    m.data.as_vec().capacity()
}

#[test]
fn gradients_come_back_at_their_exact_size() {
    std::thread::spawn(|| {
        // A recording of 100-entry buffers, then one of 64: the pool could serve the second
        // from the first's buffers, but the caller's gradient is exactly 64 entries.
        let big = [DMatrix::from_element(100, 1, 0.1)];
        let _ = matrix::gradient(|m| m[0].exp().exp().exp().exp().sum(), &big);
        let g = matrix::gradient(
            |m| m[0].exp().exp().sum(),
            &[DMatrix::from_element(64, 1, 0.1)],
        );
        assert_eq!((g[0].len(), capacity(&g[0])), (64, 64));
        let (_, pb) = matrix::pullback(|m| m[0].exp(), &[DMatrix::from_element(64, 1, 0.1)]);
        let g = pb.call(&DMatrix::from_element(64, 1, 1.0));
        assert_eq!(capacity(&g[0]), 64);
    })
    .join()
    .unwrap();
}

/// `MatVar::map_slices` hands its kernel zeroed buffers: an entry the kernel leaves alone is 0,
/// never a previous computation's pooled data (a review found a kernel writing only values got
/// the derivatives of an earlier call on the thread).
#[test]
fn map_slices_buffers_start_as_zeros_not_pooled_data() {
    let earlier = DMatrix::from_fn(16, 16, |i, j| 424_242.0 + (i + j) as f64);
    for _ in 0..3 {
        let (_, pullback) = matrix::pullback(|m| m[0] * 2.0 + m[0], std::slice::from_ref(&earlier));
        drop(pullback.call(&DMatrix::from_element(16, 16, 1.0)));
    }
    let values_only = |x: &[f64], value: &mut [f64], derivative: &mut [f64]| {
        assert!(value.iter().chain(derivative.iter()).all(|&v| v == 0.0));
        value.copy_from_slice(x);
    };
    let g = matrix::gradient(
        |m| m[0].map_slices(values_only).sum(),
        &[DMatrix::zeros(16, 16)],
    );
    assert_eq!(g[0], DMatrix::zeros(16, 16));
}
