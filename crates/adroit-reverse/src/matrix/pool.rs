//! Matrix buffers of finished recordings, kept per thread and element type for the next ones.
//!
//! A gradient call allocates the same buffers every time (node values, saved derivatives,
//! adjoints). Taken from the allocator and given back each call, buffers of tens of kilobytes
//! and more are returned to the kernel by glibc's heap trimming and page-faulted afresh on the
//! next call: the array-form Rosenbrock gradient at n = 10⁴ took 45 µs or 124 µs (2.5 M page
//! faults in 3 s) depending on the allocator's state. Here the tape hands its buffers back when
//! a recording ends, and operations draw from them.

use super::MatScalar;
use nalgebra::DMatrix;

/// At most this many bytes are kept per thread and element type (beyond, buffers are freed).
pub(crate) const MAX_KEPT_BYTES: usize = 256 << 20;

/// At most this many buffers are kept per size class (the capacities from `2ᵏ` to `2ᵏ⁺¹ − 1`).
const MAX_PER_CLASS: usize = 64;

/// Buffers below this many entries are left to the allocator (its small-object caches are as
/// fast as the pool, and they are never trimmed).
const MIN_POOLED_LEN: usize = 64;

/// Free buffers by size class: class `k` holds capacities in `[2ᵏ, 2ᵏ⁺¹)`.
pub(crate) struct BufferPool<T> {
    classes: Vec<Vec<Vec<T>>>,
    bytes: usize,
}

impl<T: MatScalar> BufferPool<T> {
    /// An empty pool.
    pub(crate) const fn new() -> Self {
        Self {
            classes: Vec::new(),
            bytes: 0,
        }
    }

    /// A kept buffer with room for `len` entries (its length and contents unspecified), if any.
    fn take(&mut self, len: usize) -> Option<Vec<T>> {
        // Only `len`'s own class, so a buffer is never more than twice what it holds (the next
        // class would fit too, at up to four times).
        let class = len.ilog2() as usize;
        let list = self.classes.get_mut(class)?;
        let at = list.iter().rposition(|v| v.capacity() >= len)?;
        let found = list.swap_remove(at);
        self.bytes -= found.capacity() * size_of::<T>();
        Some(found)
    }

    /// Keeps `buffer` for a later [`take`](Self::take). When the pool is full, buffers of
    /// other sizes are freed to make room, largest first (so a new workload's sizes replace an
    /// old one's); a buffer over the whole budget, or beyond its class's count, is freed.
    fn put(&mut self, buffer: Vec<T>) {
        let (capacity, size) = (buffer.capacity(), buffer.capacity() * size_of::<T>());
        if capacity < MIN_POOLED_LEN || size > MAX_KEPT_BYTES {
            return;
        }
        let class = capacity.ilog2() as usize;
        if self.classes.len() <= class {
            self.classes.resize_with(class + 1, Vec::new);
        }
        if self.classes[class].len() >= MAX_PER_CLASS {
            return;
        }
        let mut evict = self.classes.len();
        while self.bytes + size > MAX_KEPT_BYTES && evict > 0 {
            evict -= 1;
            if evict == class {
                continue;
            }
            while self.bytes + size > MAX_KEPT_BYTES {
                let Some(old) = self.classes[evict].pop() else {
                    break;
                };
                self.bytes -= old.capacity() * size_of::<T>();
            }
        }
        // Still full: the room is held by buffers of this very size, enough of them.
        if self.bytes + size <= MAX_KEPT_BYTES {
            self.classes[class].push(buffer);
            self.bytes += size;
        }
    }

    /// The bytes kept now.
    pub(crate) fn kept_bytes(&self) -> usize {
        self.bytes
    }
}

impl<T: MatScalar> Default for BufferPool<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// A kept buffer for `len` entries from this thread's pool (none for small ones).
#[inline]
fn take<T: MatScalar>(len: usize) -> Option<Vec<T>> {
    if len < MIN_POOLED_LEN {
        return None;
    }
    take_pooled(len)
}

/// The pool's side of [`take`], out of line so that the small-buffer test inlines alone.
#[inline(never)]
fn take_pooled<T: MatScalar>(len: usize) -> Option<Vec<T>> {
    T::with_pool(|pool| pool.take(len)).flatten()
}

/// An empty vector with room for `len` entries, from this thread's pool when it has one.
pub(crate) fn with_capacity<T: MatScalar>(len: usize) -> Vec<T> {
    match take(len) {
        Some(mut v) => {
            v.clear();
            v
        }
        None => Vec::with_capacity(len),
    }
}

/// A `rows × cols` matrix whose entries the caller overwrites, every one, before reading any
/// (they hold a previous computation's values, or zeros).
pub(crate) fn overwritten<T: MatScalar>(rows: usize, cols: usize) -> DMatrix<T> {
    match take(rows * cols) {
        Some(mut v) => {
            v.resize(rows * cols, T::zero());
            DMatrix::from_vec(rows, cols, v)
        }
        None => DMatrix::zeros(rows, cols),
    }
}

/// A `rows × cols` matrix of zeros.
pub(crate) fn zeros<T: MatScalar>(rows: usize, cols: usize) -> DMatrix<T> {
    match take(rows * cols) {
        Some(mut v) => {
            v.clear();
            v.resize(rows * cols, T::zero());
            DMatrix::from_vec(rows, cols, v)
        }
        None => DMatrix::zeros(rows, cols),
    }
}

/// `m` with a buffer of exactly its size (a pooled one can be up to twice as large): for
/// matrices handed to the caller, who may keep many.
pub(crate) fn exact<T: MatScalar>(m: DMatrix<T>) -> DMatrix<T> {
    if m.data.as_vec().capacity() == m.len() {
        return m;
    }
    let copy = DMatrix::from_column_slice(m.nrows(), m.ncols(), m.as_slice());
    recycle(m);
    copy
}

/// A copy of `m`.
pub(crate) fn copy<T: MatScalar>(m: &DMatrix<T>) -> DMatrix<T> {
    match take(m.len()) {
        Some(mut v) => {
            v.clear();
            v.extend_from_slice(m.as_slice());
            DMatrix::from_vec(m.nrows(), m.ncols(), v)
        }
        None => m.clone(),
    }
}

/// Gives `m`'s buffer back to this thread's pool.
#[inline]
pub(crate) fn recycle<T: MatScalar>(m: DMatrix<T>) {
    let buffer: Vec<T> = m.data.into();
    if buffer.capacity() >= MIN_POOLED_LEN {
        put_pooled(buffer);
    }
}

/// The pool's side of [`recycle`], out of line.
#[inline(never)]
fn put_pooled<T: MatScalar>(buffer: Vec<T>) {
    T::with_pool(|pool| pool.put(buffer));
}

/// The bytes of matrix buffers this thread's pool holds now for element type `T` (see
/// [`release_buffers`]); at most 256 MiB.
///
/// # Example
/// ```
/// use adroit_reverse::matrix::{self, MatVar};
/// use adroit_reverse::nalgebra::DMatrix;
/// let x = DMatrix::from_element(100, 10, 0.5_f32);
/// let _ = matrix::gradient(|m| m[0].tanh().sum(), &[&x]);
/// // tanh's values stay pooled (its saved derivatives, scaled, became the gradient)
/// assert!(matrix::pooled_bytes::<f32>() >= 100 * 10 * 4);
/// matrix::release_buffers::<f32>();
/// assert_eq!(matrix::pooled_bytes::<f32>(), 0);
/// ```
pub fn pooled_bytes<T: MatScalar>() -> usize {
    T::with_pool(|pool| pool.kept_bytes()).unwrap_or(0)
}

/// Frees the matrix buffers this thread keeps for reuse by later matrix-level calls with
/// element type `T`.
///
/// When a [`gradient`](crate::matrix::gradient) or
/// [`value_and_gradient`](crate::matrix::value_and_gradient) call ends, or a
/// [`MatPullback`](crate::matrix::MatPullback) is dropped, the buffers of its computed node
/// values, saved derivatives and adjoints (those of 64 entries or more; not the caller's data:
/// constants and a pullback's copies of its inputs are freed) stay with the thread, at most
/// 256 MiB per thread and element type (when full, other sizes make room, largest first), and
/// later operations take them instead of allocating: the allocator would otherwise return large
/// buffers to the kernel between calls and page-fault them in afresh (the array-form Rosenbrock
/// gradient at n = 10⁶ took 20 ms that way and 6.8 ms with the pool, BENCHMARKS.md §1).
/// Matrices handed to the caller (gradients, values) are the caller's, of exactly their size.
/// This function frees what the pool holds now; later calls refill it.
///
/// # Example
/// ```
/// use adroit_reverse::matrix;
/// use adroit_reverse::nalgebra::DMatrix;
/// let x = DMatrix::from_element(1000, 100, 0.5_f64);
/// let g = matrix::gradient(|m| m[0].tanh().sum(), &[x]);
/// assert_eq!(g[0].shape(), (1000, 100));
/// matrix::release_buffers::<f64>(); // the pooled 0.8 MB of tanh's values is freed now
/// ```
pub fn release_buffers<T: MatScalar>() {
    let old = T::with_pool(std::mem::take);
    drop(old);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::scalar::sealed::Sealed;

    #[test]
    fn a_kept_buffer_is_reused_for_the_same_or_a_smaller_size() {
        let mut pool = BufferPool::<f64>::new();
        let buffer = vec![1.0; 1000];
        let address = buffer.as_ptr();
        pool.put(buffer);
        assert_eq!(pool.kept_bytes(), 8000);
        // 1000 is in class 9 ([512, 1024)): a request for 1001 does not fit it.
        assert!(pool.take(1001).is_none());
        let again = pool.take(600).unwrap();
        assert_eq!(again.as_ptr(), address);
        assert_eq!(pool.kept_bytes(), 0);
        assert!(pool.take(600).is_none());
    }

    #[test]
    fn release_buffers_empties_this_threads_pool() {
        recycle(DMatrix::<f32>::zeros(100, 3));
        assert!(f32::with_pool(|pool| pool.kept_bytes()).unwrap() >= 1200);
        release_buffers::<f32>();
        assert_eq!(f32::with_pool(|pool| pool.kept_bytes()), Some(0));
    }

    #[test]
    fn a_dropped_pullback_gives_its_saved_matrices_to_the_pool() {
        std::thread::spawn(|| {
            use crate::matrix::{Along, MatVar};
            type Function = fn(&[MatVar<f64>]) -> MatVar<f64>;
            let kept = || f64::with_pool(|pool| pool.kept_bytes()).unwrap();
            let inputs = [
                DMatrix::from_element(100, 1, 0.1),
                DMatrix::from_element(100, 1, 0.2),
            ];
            // The matrices of 100 entries each function's tape keeps (the input's copy is
            // freed): two exps' values and saved derivatives; a product's value and its two
            // saved partials (one for a map); then a max's weights (its 1 × 1 value is not
            // pooled); the softmax that logsumexp saves; softmax's and logsoftmax's value and
            // softmax.
            let cases: [(Function, usize); 8] = [
                (|m| m[0].exp().exp(), 4),
                (|m| m[0].component_mul(m[1]), 3),
                (|m| MatVar::zip_map([m[0], m[1]], |[a, b]| a * b), 3),
                (|m| m[0].map(|v| v * v), 2),
                (|m| m[0].component_mul(m[1]).max(), 4),
                (|m| m[0].logsumexp(Along::Rows), 1),
                (|m| m[0].softmax(Along::Rows), 2),
                (|m| m[0].logsoftmax(Along::Rows), 2),
            ];
            for (f, matrices) in cases {
                let (_, pb) = crate::matrix::pullback(f, &inputs);
                let before = kept();
                drop(pb);
                assert_eq!(kept() - before, matrices * 100 * 8);
            }
        })
        .join()
        .unwrap();
    }

    #[test]
    fn constants_and_copied_inputs_are_freed_not_pooled() {
        std::thread::spawn(|| {
            use crate::matrix::MatVar;
            let data = DMatrix::from_element(1000, 1, 1.0);
            let _ = crate::matrix::gradient(
                |m| {
                    MatVar::constant(data.clone())
                        .sum()
                        .component_mul(m[0])
                        .sum()
                },
                &[DMatrix::from_element(1, 1, 2.0)],
            );
            let (_, pb) = crate::matrix::pullback(|m| m[0].sum(), std::slice::from_ref(&data));
            drop(pb);
            // Only results of 64 entries or more are pooled: here the 1000-entry adjoint of
            // the pullback's input is handed to no one (the pullback was not called).
            assert_eq!(pooled_bytes::<f64>(), 0);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_buffer_over_twice_the_request_is_not_taken() {
        let mut pool = BufferPool::<f64>::new();
        pool.put(Vec::with_capacity(3000));
        assert!(pool.take(1500).is_none());
        assert!(pool.take(3001).is_none());
        assert_eq!(pool.take(2100).unwrap().capacity(), 3000);
    }

    #[test]
    fn a_full_pool_makes_room_for_other_sizes_largest_first() {
        let mut pool = BufferPool::<f64>::new();
        let quarter = MAX_KEPT_BYTES / 4 / size_of::<f64>();
        for _ in 0..4 {
            pool.put(Vec::with_capacity(quarter));
        }
        assert_eq!(pool.kept_bytes(), MAX_KEPT_BYTES);
        pool.put(Vec::with_capacity(1000));
        pool.put(Vec::with_capacity(quarter / 2));
        // One of the quarters made room for both.
        assert_eq!(pool.kept_bytes(), (3 * quarter + quarter / 2 + 1000) * 8);
        assert_eq!(pool.take(1000).unwrap().capacity(), 1000);
        assert_eq!(pool.take(quarter / 2).unwrap().capacity(), quarter / 2);
    }

    #[test]
    fn small_buffers_and_overflowing_ones_are_not_kept() {
        let mut pool = BufferPool::<f32>::new();
        pool.put(vec![0.0; MIN_POOLED_LEN - 1]);
        assert_eq!(pool.kept_bytes(), 0);
        let huge = MAX_KEPT_BYTES / size_of::<f32>() + 1;
        pool.put(Vec::with_capacity(huge));
        assert_eq!(pool.kept_bytes(), 0);
        for _ in 0..MAX_PER_CLASS + 5 {
            pool.put(Vec::with_capacity(100));
        }
        assert_eq!(pool.kept_bytes(), MAX_PER_CLASS * 100 * size_of::<f32>());
    }

    #[test]
    fn overwritten_and_zeros_have_the_shape_asked() {
        recycle(DMatrix::<f64>::from_element(20, 10, 7.0));
        let m = overwritten::<f64>(10, 15);
        assert_eq!(m.shape(), (10, 15));
        recycle(m);
        let z = zeros::<f64>(15, 10);
        assert!(z.iter().all(|&v| v == 0.0));
        let c = copy(&z);
        assert_eq!(c, z);
    }

    /// A composite of every operation that draws from the pool, as array code does it.
    fn composite(m: &[crate::matrix::MatVar<f64>]) -> crate::matrix::MatVar<f64> {
        use crate::matrix::{Along, MatVar};
        use num_traits::Float;
        let h = (m[0] * m[1] + m[2]).tanh(); // 16×8 · 8×16 + 16×1 → 16×16
        let s = h.logsoftmax(Along::Rows).component_mul(h.transpose());
        let r = s.reshape(32, 8).rows(0, 16); // 16×8
        let z = MatVar::zip_map([r, m[0]], |[a, w]| a * w + a.sin());
        let c = MatVar::vcat(&[z, z.softmax(Along::Cols)]); // 32×8
        let p = c
            .component_div(c.map(|v| v * v + 2.0))
            .logsumexp(Along::Rows);
        p.sum() + c.columns(2, 4).mean_along(Along::Cols).sum() + m[1].powi(2).mean()
    }

    #[test]
    fn gradients_are_the_same_from_a_pool_of_stale_buffers() {
        let w = DMatrix::from_fn(16, 8, |i, j| ((3 * i + 5 * j) % 11) as f64 / 7.0 - 0.6);
        let x = DMatrix::from_fn(8, 16, |i, j| ((7 * i + 2 * j) % 13) as f64 / 9.0 - 0.7);
        let b = DMatrix::from_fn(16, 1, |i, _| i as f64 / 20.0);
        let inputs = [w, x, b];
        // A fresh thread has an empty pool.
        let fresh = {
            let inputs = inputs.clone();
            std::thread::spawn(move || crate::matrix::value_and_gradient(composite, &inputs))
                .join()
                .unwrap()
        };
        // Here every size class holds buffers of NaN, and the function runs three times.
        for len in (64..1200).step_by(7) {
            recycle(DMatrix::from_element(len, 1, f64::NAN));
        }
        for _ in 0..3 {
            let again = crate::matrix::value_and_gradient(composite, &inputs);
            assert_eq!(again.0.to_bits(), fresh.0.to_bits());
            for (g, f) in again.1.iter().zip(&fresh.1) {
                assert!(
                    g.iter()
                        .zip(f.iter())
                        .all(|(a, b)| a.to_bits() == b.to_bits())
                );
                assert!(g.iter().all(|v| v.is_finite()));
            }
        }
    }
}
