//! [`Pullback`]: a recorded function's vector-Jacobian product, callable many times, and its
//! Jacobian-vector product on the same recording.

use crate::record::Recording;
use crate::{TapeScalar, Var};

/// The pullback (VJP) of a function recorded by [`pullback`](crate::pullback): maps a cotangent
/// `w` of the outputs to the cotangent `wᵀJ` of the inputs. It owns the tape, so it can be
/// called any number of times with different cotangents; each call is one backward sweep. Its
/// [`pushforward`](Self::pushforward) runs the same recording forwards, `v ↦ Jv` (JAX's
/// `linearize`).
///
/// It is not `Send`: it holds its recording's tape, whose custom rules are closures that need
/// not be `Send`; call it on the thread that recorded it (record again on another thread).
/// ```compile_fail,E0277
/// fn on_another_thread<S: Send>(_: S) {}
/// let (_, pb) = adroit_reverse::pullback(|x| vec![x[0] * x[0]], &[1.0]);
/// on_another_thread(pb);
/// ```
///
/// # Example
/// ```
/// // f(x, y) = (x·y, x + y) at (2, 3), recorded once
/// let (y, pb) = adroit_reverse::pullback(|x| vec![x[0] * x[1], x[0] + x[1]], &[2.0, 3.0]);
/// assert_eq!(y, vec![6.0, 5.0]);
/// // wᵀJ with J = [[y, x], [1, 1]]: w = (1, 1) and w = (1, −1)
/// assert_eq!(pb.call(&[1.0, 1.0]), vec![4.0, 3.0]);
/// assert_eq!(pb.call(&[1.0, -1.0]), vec![2.0, 1.0]);
/// ```
pub struct Pullback<T: TapeScalar> {
    recording: Recording<T>,
    outputs: Vec<Var<T>>,
}

/// Shows the numbers of inputs, outputs and recorded nodes (not the tape's contents).
impl<T: TapeScalar> std::fmt::Debug for Pullback<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pullback")
            .field("n_inputs", &self.n_inputs())
            .field("n_outputs", &self.n_outputs())
            .field("tape_nodes", &self.recording.tape().len())
            .finish()
    }
}

impl<T: TapeScalar> Pullback<T> {
    pub(crate) fn new(recording: Recording<T>, outputs: Vec<Var<T>>) -> Self {
        Self { recording, outputs }
    }

    /// Number of outputs `m` (the length of the cotangent to pass).
    ///
    /// # Example
    /// ```
    /// let (_, pb) = adroit_reverse::pullback(|x| vec![x[0], x[0] * x[1], x[1]], &[1.0, 2.0]);
    /// assert_eq!(pb.n_outputs(), 3);
    /// assert_eq!(pb.call(&[0.0, 1.0, 0.0]).len(), pb.n_inputs());
    /// ```
    pub fn n_outputs(&self) -> usize {
        self.outputs.len()
    }

    /// Number of inputs `n` (the length of the returned cotangent).
    ///
    /// # Example
    /// ```
    /// let (_, pb) = adroit_reverse::pullback(|x| vec![x[0] * x[1] * x[2]], &[1.0, 2.0, 3.0]);
    /// assert_eq!(pb.n_inputs(), 3);
    /// assert_eq!(pb.call(&[1.0]), vec![6.0, 3.0, 2.0]);
    /// ```
    pub fn n_inputs(&self) -> usize {
        self.recording.n_inputs
    }

    /// Bytes of tape held (node arrays and the custom rules' table, capacity included), for
    /// memory accounting. Not counted: what a custom rule's pullback owns on the heap (the
    /// values its closure captured; a [`checkpoint`](crate::checkpoint)ed segment's input
    /// values and function), which only the closure knows.
    ///
    /// # Example
    /// ```
    /// let (_, pb) = adroit_reverse::pullback(|x| vec![x[0] * x[1] + x[0]], &[2.0, 3.0]);
    /// // each f64 node holds two parent indices (2 × 4 bytes) and two partials (2 × 8 bytes)
    /// assert!(pb.tape_bytes() >= 24 * pb.tape_len());
    /// ```
    pub fn tape_bytes(&self) -> usize {
        self.recording.tape().bytes()
    }

    /// Bytes of the recorded nodes (their count times the bytes per node, with the custom
    /// rules' table entries), the tape's memory without spare capacity;
    /// [`tape_bytes`](Self::tape_bytes) counts the capacity held. Neither counts the heap data
    /// a custom rule's pullback owns (its captured values: for a rule capturing a 2 × 6
    /// Jacobian, 96 bytes per step here against about 290 measured in the process).
    ///
    /// # Example
    /// ```
    /// // 24 bytes per node for f64: two u32 parents and two f64 partials.
    /// let (_, pb) = adroit_reverse::pullback(|x| vec![x[0] * x[1] + x[0]], &[2.0, 3.0]);
    /// assert_eq!(pb.tape_bytes_used(), 24 * pb.tape_len());
    /// ```
    pub fn tape_bytes_used(&self) -> usize {
        self.recording.tape().bytes_used()
    }

    /// Number of nodes recorded (inputs and operations, plus one sink node).
    ///
    /// # Example
    /// ```
    /// // 1 sink + 2 inputs + 2 operations (`*`, `+`)
    /// let (_, pb) = adroit_reverse::pullback(|x| vec![x[0] * x[1] + x[0]], &[2.0, 3.0]);
    /// assert_eq!(pb.tape_len(), 5);
    /// ```
    pub fn tape_len(&self) -> usize {
        self.recording.tape().len()
    }

    /// `J·v`, the Jacobian-vector product (JVP): `tangent` (`n` entries, one per input) to the
    /// output tangent (`m` entries), by one forward sweep over the recorded partials — no
    /// second evaluation of the function (JAX's `linearize`: record once, then push tangents
    /// forward and pull cotangents back; over elementary operations each sweep costs about what
    /// the other does). Forward mode on the same recording: for `n < m` a whole Jacobian costs
    /// `n` sweeps of this, against `m` of [`call`](Self::call) — but a custom rule costs a
    /// pullback call per output here against one there (measured: 400× a
    /// [`call`](Self::call) for the [`svd`](crate::svd) node of a 20 × 20 matrix, and a
    /// [`checkpoint`](crate::checkpoint) of 100 outputs 60×).
    ///
    /// The tape's conventions hold (a zero partial or tangent contributes nothing, even against
    /// an infinite one, as adroit-forward's duals). A custom rule, which has only a pullback,
    /// is pushed forward through its Jacobian: its pullback is called once per output (for a
    /// [`checkpoint`](crate::checkpoint)ed segment, a recomputation each), skipped when its
    /// inputs' tangents are all zero. Where infinite partials meet cancelling terms the order
    /// of accumulation matters and a JVP can differ from forward mode on duals (see the crate
    /// docs).
    ///
    /// # Panics
    /// If `tangent.len() != self.n_inputs()`.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::num_traits::Float;
    /// // f(x, y) = (x·y, sin x) at (2, 3): J = [[3, 2], [cos 2, 0]]
    /// let (_, pb) = adroit_reverse::pullback(|x| vec![x[0] * x[1], x[0].sin()], &[2.0, 3.0]);
    /// assert_eq!(pb.pushforward(&[1.0, 0.0]), vec![3.0, 2.0_f64.cos()]); // column 1
    /// assert_eq!(pb.pushforward(&[0.0, 1.0]), vec![2.0, 0.0]); // column 2
    /// // the same numbers as forward mode's JVP
    /// use adroit_reverse::adroit_forward;
    /// let (_, jv) = adroit_forward::jvp(|x| vec![x[0] * x[1], x[0].sin()], &[2.0, 3.0], &[1.0, -1.0]);
    /// assert_eq!(pb.pushforward(&[1.0, -1.0]), jv);
    /// ```
    #[doc(alias = "jvp")]
    #[doc(alias = "linearize")]
    #[track_caller]
    pub fn pushforward(&self, tangent: &[T]) -> Vec<T> {
        assert_eq!(
            tangent.len(),
            self.n_inputs(),
            "pushforward: the tangent has {} entries but the function has {} inputs",
            tangent.len(),
            self.n_inputs()
        );
        self.recording.forward(tangent, &self.outputs)
    }

    /// `wᵀJ`: `cotangent` (`m` entries, one per output) to the input cotangent (`n` entries).
    ///
    /// # Panics
    /// If `cotangent.len() != self.n_outputs()`.
    ///
    /// # Example
    /// ```
    /// let (y, pb) = adroit_reverse::pullback(|x| vec![x[0] * x[1], x[0]], &[2.0, 3.0]);
    /// assert_eq!(y, vec![6.0, 2.0]);
    /// assert_eq!(pb.call(&[1.0, 0.0]), vec![3.0, 2.0]);
    /// assert_eq!(pb.call(&[0.0, 1.0]), vec![1.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn call(&self, cotangent: &[T]) -> Vec<T> {
        assert_eq!(
            cotangent.len(),
            self.outputs.len(),
            "pullback: the cotangent has {} entries but the function has {} outputs",
            cotangent.len(),
            self.outputs.len()
        );
        self.recording
            .backward(self.outputs.iter().zip(cotangent.iter().copied()))
    }
}
