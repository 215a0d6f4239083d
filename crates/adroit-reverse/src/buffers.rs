//! Giving back the memory the thread keeps between gradient calls.

use crate::scalar::TapeScalar;
use crate::tape::TapePool;

/// Frees the buffers this thread keeps for reuse by later calls with scalar type `T`.
///
/// Each API call ([`gradient`](crate::gradient), [`pullback`](crate::pullback), ...) records on
/// a fresh tape of its own; when the call ends the tape's *contents* are gone, but its buffers
/// (up to four finished tapes, 24 bytes per recorded binary operation for `f64`, and the largest
/// adjoint buffer, at most 256 MiB of each per thread and scalar type) stay with the thread so
/// that the next call allocates nothing. A recording too large for that is freed when its call
/// ends; the memory kept stays reserved until the thread ends or this function is called, and
/// later calls then allocate afresh. Tapes in use (an open scope, a live
/// [`Pullback`](crate::Pullback)) are not affected. The matrix-level operations of
/// [`matrix`](crate::matrix) keep their buffers apart, freed by
/// [`matrix::release_buffers`](crate::matrix::release_buffers).
///
/// # Example
/// ```
/// let big = vec![1.0_f64; 100_000];
/// let g = adroit_reverse::gradient(|x| x.iter().map(|&v| v * v).sum(), &big);
/// assert_eq!(g[0], 2.0);
/// // the tape (about 300,000 nodes, ~7 MB) and its adjoints (2.4 MB) are freed now
/// adroit_reverse::release_buffers::<f64>();
/// ```
pub fn release_buffers<T: TapeScalar>() {
    let old = T::tape_pool().with(|pool| std::mem::take(&mut *pool.borrow_mut()));
    drop::<TapePool<T>>(old);
}
