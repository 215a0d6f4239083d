//! The tape: a flat, struct-of-arrays record of every operation, swept backwards once per
//! gradient.
//!
//! Node `i` stores two parent indices and the two local partials `∂nodeᵢ/∂parent`, computed
//! from the rule table at record time. Node 0 is a sink that absorbs the unused second slot of
//! unary nodes and inputs, so the sweep needs no branch on arity. Custom rules (user pullbacks)
//! live in a side table and are marked by [`CUSTOM`] in the first parent slot.

use crate::TapeScalar;
use crate::var::Var;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};

/// Marker in the first parent slot of a node produced by a custom rule.
pub(crate) const CUSTOM: u32 = u32::MAX;
/// Marker in the second parent slot of a custom output whose pullback runs at another output.
const CUSTOM_SILENT: u32 = u32::MAX;

/// The pullback closure of a custom rule: output cotangents to input cotangents.
pub(crate) type CustomPullback<T> = Box<dyn Fn(&[T]) -> Vec<T>>;

/// A custom rule's record: the tape indices of its inputs and outputs, and its pullback.
struct Custom<T> {
    inputs: Vec<u32>,
    first_output: u32,
    n_outputs: u32,
    pullback: CustomPullback<T>,
    /// Where the rule was recorded (named when its pullback misbehaves).
    at: &'static Location<'static>,
}

/// One recording: the operations of one differentiation scope.
pub struct Tape<T> {
    /// Unique across threads and time; 0 means "no tape" (no scope active).
    id: u64,
    parents: Vec<[u32; 2]>,
    partials: Vec<[T; 2]>,
    customs: Vec<Custom<T>>,
    /// Recording second partials (see [`set_local`](Self::set_local)).
    local: bool,
}

/// The size of one element of `v`, read from its type (so memory accounting follows the
/// node arrays' actual layout).
fn element_size<E>(_: &Vec<E>) -> usize {
    size_of::<E>()
}

/// Source of unique tape ids (never 0).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl<T: TapeScalar> Tape<T> {
    /// An empty tape without an id (its buffers not yet allocated).
    const fn none() -> Self {
        Self {
            id: 0,
            parents: Vec::new(),
            partials: Vec::new(),
            customs: Vec::new(),
            local: false,
        }
    }

    /// Turns `self` (an unused tape, its buffers kept for their capacity) into a fresh tape
    /// with a new id and its sink node.
    fn reset(&mut self) {
        self.id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        self.parents.clear();
        self.partials.clear();
        self.customs.clear();
        self.local = false;
        self.parents.push([0, 0]);
        self.partials.push([T::zero(), T::zero()]);
    }

    /// This tape's id.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Whether operations record second partials: each rule evaluated on operands seeded in
    /// lanes of their own (the first operand in lane 0, the second in lane 1;
    /// [`local_rules`](crate::local_rules)), so that a partial's tangent lanes hold the rule's
    /// second partials `∂²/∂x∂(x, y)` and not a chunk's directions, and every value recorded
    /// without tangents. Set by the second-order adjoint recording of
    /// [`hessian`](crate::hessian) on a fresh tape, before any operation.
    #[inline(always)]
    pub(crate) fn is_local(&self) -> bool {
        self.local
    }

    /// Makes this tape record second partials (see [`is_local`](Self::is_local)).
    pub(crate) fn set_local(&mut self) {
        self.local = true;
    }

    /// Whether a custom rule (a pullback without second partials) was recorded.
    pub(crate) fn has_custom(&self) -> bool {
        !self.customs.is_empty()
    }

    /// Every node's parents and partials, the sink first.
    pub(crate) fn nodes(&self) -> (&[[u32; 2]], &[[T; 2]]) {
        (&self.parents, &self.partials)
    }

    /// Number of nodes (including the sink).
    pub(crate) fn len(&self) -> usize {
        self.parents.len()
    }

    /// Bytes held by the node arrays (capacity, not just length), with the custom rules'
    /// records (not the heap data a custom rule owns).
    pub(crate) fn bytes(&self) -> usize {
        self.parents.capacity() * element_size(&self.parents)
            + self.partials.capacity() * element_size(&self.partials)
            + self.customs.capacity() * element_size(&self.customs)
    }

    /// Bytes of the recorded nodes (length, not capacity), counted as [`bytes`](Self::bytes).
    pub(crate) fn bytes_used(&self) -> usize {
        self.parents.len() * element_size(&self.parents)
            + self.partials.len() * element_size(&self.partials)
            + self.customs.len() * element_size(&self.customs)
    }

    /// Panics unless `var` was recorded on this tape (constants are always accepted).
    #[inline(always)]
    #[track_caller]
    pub(crate) fn check(&self, var: &Var<T>) {
        let tape = var.tape_id();
        if tape != self.id && tape != 0 {
            stale_variable(tape, self.id);
        }
    }

    /// Panics unless `n` more nodes fit (indices stay below the [`CUSTOM`] marker).
    #[inline(always)]
    pub(crate) fn check_room(&self, n: usize) {
        if self.len().saturating_add(n) > CUSTOM as usize {
            tape_full();
        }
    }

    /// Panics unless a custom rule over `inputs` with `n_outputs` outputs can be recorded: its
    /// inputs belong to this tape and its nodes and side-table entry fit.
    #[track_caller]
    pub(crate) fn check_custom(&self, inputs: &[Var<T>], n_outputs: usize) {
        for x in inputs {
            self.check(x);
        }
        self.check_room(n_outputs.saturating_add(inputs.len()));
        // The rule's id must stay below the marker of silent outputs.
        if self.customs.len() >= CUSTOM_SILENT as usize {
            tape_full();
        }
    }

    // The pushes below do not check anything (callers run `check`, `check_room` and
    // `check_custom` first, on a shared reference): they are called through an exclusive
    // reference to the active tape, during which nothing may panic (see `active`).

    /// Appends a node and returns its index.
    #[inline(always)]
    fn push(&mut self, parents: [u32; 2], partials: [T; 2]) -> u32 {
        let index = self.parents.len();
        self.parents.push(parents);
        self.partials.push(partials);
        index as u32
    }

    /// Records `n` independent variables (inputs) at once; returns the index of the first.
    pub(crate) fn push_inputs(&mut self, n: usize) -> u32 {
        let first = self.len();
        let end = first + n;
        self.parents.resize(end, [0, 0]);
        self.partials.resize(end, [T::zero(), T::zero()]);
        first as u32
    }

    /// The node of `x` with its pending scale recorded: `x`'s own node when the scale is 1,
    /// else a new node `scale · x`.
    #[inline(always)]
    pub(crate) fn materialize(&mut self, x: &Var<T>) -> u32 {
        if x.is_scaled() {
            self.push_unary(x.index(), x.pending_scale())
        } else {
            x.index()
        }
    }

    /// The parent and partial of an operand `x` with partial `d`: `x`'s node and `d · scale`
    /// when that product is a normal number (or `d` is zero), else the node of `x`
    /// [materialized](Self::materialize) and `d` itself, so that no rounding to zero or
    /// overflow happens that the chain of two nodes would not have.
    #[inline(always)]
    pub(crate) fn folded_parent(&mut self, x: &Var<T>, d: T) -> (u32, T) {
        if !x.is_scaled() {
            return (x.index(), d);
        }
        let partial = d * x.pending_scale();
        if partial.is_normal() || d.is_zero() {
            (x.index(), partial)
        } else {
            (self.materialize(x), d)
        }
    }

    /// Records `f(x)` with partial `d`, `x` being node `x`.
    #[inline(always)]
    pub(crate) fn push_unary(&mut self, x: u32, d: T) -> u32 {
        self.push([x, 0], [d, T::zero()])
    }

    /// Records `f(x, y)` with partials `dx`, `dy`, `x` and `y` being nodes `x` and `y`.
    #[inline(always)]
    pub(crate) fn push_binary(&mut self, x: u32, y: u32, dx: T, dy: T) -> u32 {
        self.push([x, y], [dx, dy])
    }

    /// Records a custom rule (checked by [`check_custom`](Self::check_custom)): one node per
    /// output, the pullback in the side table. Returns the index of the first output node.
    /// Constant inputs map to the sink. With `scales_to_pullback`, an input with a pending
    /// scale maps to its node as it is, the pullback returning cotangents for the nodes (it
    /// applies the scales itself: a checkpoint's second run, whose inputs carry them); else
    /// such an input gets its node first.
    pub(crate) fn push_custom(
        &mut self,
        inputs: &[Var<T>],
        n_outputs: usize,
        pullback: CustomPullback<T>,
        at: &'static Location<'static>,
        scales_to_pullback: bool,
    ) -> u32 {
        let inputs = inputs
            .iter()
            .map(|x| {
                if x.is_constant() {
                    0
                } else if scales_to_pullback {
                    x.index()
                } else {
                    self.materialize(x)
                }
            })
            .collect();
        let id = self.customs.len() as u32;
        let first = self.len() as u32;
        for k in 0..n_outputs {
            // The sweep reaches the last output first; its adjoint and all others are final
            // then, so the pullback runs there.
            let marker = if k + 1 == n_outputs {
                id
            } else {
                CUSTOM_SILENT
            };
            self.push([CUSTOM, marker], [T::zero(), T::zero()]);
        }
        self.customs.push(Custom {
            inputs,
            first_output: first,
            n_outputs: n_outputs as u32,
            pullback,
            at,
        });
        first
    }

    /// The reverse sweep: given `adjoint` seeded at the outputs (length [`len`](Self::len)),
    /// accumulates every node's adjoint into its parents, from the last seeded node (below
    /// `end`: [`sweep_end`](Self::sweep_end)) down to node `first` (nodes below it, such as the
    /// inputs, have no parents to reach).
    ///
    /// A zero adjoint or a zero partial contributes nothing (`0·∞` would be NaN; see
    /// [`adroit_forward::chain_product`]). Gradients are accumulated here and only here.
    ///
    /// Each node's adjoint is reset to zero once it has been propagated, so on return
    /// `adjoint[first..]` is all zero again (only the entries below `first` hold results):
    /// the buffer is reused without being cleared first (see [`TapePool::take_adjoint`]).
    pub(crate) fn sweep(&self, adjoint: &mut [T], first: usize, end: usize) {
        assert_eq!(
            adjoint.len(),
            self.len(),
            "adjoint buffer has the wrong length"
        );
        let first = first.max(1);
        let end = end.min(self.len());
        if !self.customs.is_empty() {
            self.sweep_with_customs(adjoint, first, end);
        } else if T::FOLDS {
            self.sweep_carried(adjoint, first, end);
        } else {
            self.sweep_elementary(adjoint, first, end);
        }
    }

    /// Where a sweep seeded at nodes below `seeded_end` must start: `seeded_end` (every node
    /// above the last seeded one has a zero adjoint), moved past the remaining outputs of a
    /// custom rule whose pullback runs at its last output.
    pub(crate) fn sweep_end(&self, seeded_end: usize) -> usize {
        let mut end = seeded_end.min(self.len());
        while end > 0 && end < self.len() && self.parents[end - 1] == [CUSTOM, CUSTOM_SILENT] {
            end += 1;
        }
        end
    }

    /// The sweep of a tape with custom nodes: the marker tested at every node.
    fn sweep_with_customs(&self, adjoint: &mut [T], first: usize, end: usize) {
        for i in (first..end).rev() {
            let [p0, p1] = self.parents[i];
            if p0 == CUSTOM {
                // The rule's last output runs the pullback over all its outputs' adjoints (the
                // silent ones, below it, are reset when the sweep reaches them).
                if p1 != CUSTOM_SILENT {
                    self.run_custom(&self.customs[p1 as usize], adjoint);
                }
                adjoint[i] = T::zero();
                continue;
            }
            let a = adjoint[i];
            adjoint[i] = T::zero();
            if a.is_zero() {
                continue;
            }
            let [w0, w1] = self.partials[i];
            // A zero partial contributes nothing, even against an infinite adjoint.
            if !w0.is_zero() {
                adjoint[p0 as usize] = adjoint[p0 as usize] + T::sweep_product(a, w0);
            }
            if !w1.is_zero() {
                adjoint[p1 as usize] = adjoint[p1 as usize] + T::sweep_product(a, w1);
            }
        }
    }

    /// The sweep of a tape without custom nodes: no marker test, and the first parent updated
    /// without branching.
    #[inline]
    fn sweep_elementary(&self, adjoint: &mut [T], first: usize, end: usize) {
        let (parents, partials) = (&self.parents[..end], &self.partials[..end]);
        let adjoint = &mut adjoint[..end];
        for i in (first..end).rev() {
            let a = adjoint[i];
            adjoint[i] = T::zero();
            if a.is_zero() {
                continue;
            }
            let ([p0, p1], [w0, w1]) = (parents[i], partials[i]);
            // A zero partial contributes nothing, even against an infinite adjoint.
            let c0 = if w0.is_zero() {
                T::zero()
            } else {
                T::sweep_product(a, w0)
            };
            adjoint[p0 as usize] = adjoint[p0 as usize] + c0;
            // Unary nodes and constant operands leave the second partial zero: skip it.
            if !w1.is_zero() {
                adjoint[p1 as usize] = adjoint[p1 as usize] + T::sweep_product(a, w1);
            }
        }
    }

    /// [`sweep_elementary`](Self::sweep_elementary) for the plain floats, with the
    /// contribution to the node just below carried in a register.
    ///
    /// Node `i − 1` (the operation recorded just before node `i`) is the most frequent parent:
    /// a chain of operations reads it through memory right after storing it, and each such
    /// store-to-load round trip is on the sweep's critical path. Node `i`'s contribution to it
    /// is kept in `carry` instead and added when the sweep reaches `i − 1`, after every
    /// contribution stored from nodes above `i`, which is where memory would have added it:
    /// the sums are the same, term by term and in the same order. (A node with both parents
    /// `i − 1` stores both, so that they too are added in order; an input takes no carry.)
    /// When no contribution is carried `carry` is `+0`, which changes a node's adjoint only
    /// from `−0` to `+0`, and a zero adjoint is skipped either way. The dual types keep the
    /// plain loop: a dual addition at every node costs them more than the round trips.
    #[inline]
    fn sweep_carried(&self, adjoint: &mut [T], first: usize, end: usize) {
        let (parents, partials) = (&self.parents[..end], &self.partials[..end]);
        let adjoint = &mut adjoint[..end];
        let mut carry = T::zero();
        for i in (first..end).rev() {
            let a = adjoint[i] + carry;
            adjoint[i] = T::zero();
            carry = T::zero();
            if a.is_zero() {
                continue;
            }
            let ([p0, p1], [w0, w1]) = (parents[i], partials[i]);
            // Only a node that this sweep reaches takes a carry (not an input below `first`).
            let below = if i > first { i as u32 - 1 } else { CUSTOM };
            // A zero partial contributes nothing, even against an infinite adjoint. Unary
            // nodes and constant operands leave the second partial zero: skip it.
            let second = !w1.is_zero();
            let c0 = if w0.is_zero() {
                T::zero()
            } else {
                T::sweep_product(a, w0)
            };
            if p0 == below && !(second && p1 == below) {
                carry = c0;
            } else {
                adjoint[p0 as usize] = adjoint[p0 as usize] + c0;
            }
            if second {
                let c1 = T::sweep_product(a, w1);
                if p1 == below && p0 != below {
                    carry = c1;
                } else {
                    adjoint[p1 as usize] = adjoint[p1 as usize] + c1;
                }
            }
        }
    }

    /// The forward sweep, a Jacobian-vector product on the recorded partials: given `tangent`
    /// seeded at the inputs (nodes below `first`, the sink's entry zero; every entry from
    /// `first` on zero), sets the tangent of every later node below `end` (see
    /// [`sweep_end`](Self::sweep_end)) to `Σ partial · parent's tangent`.
    ///
    /// The conventions of [`sweep`](Self::sweep): a zero partial or a zero tangent contributes
    /// nothing, even against an infinite one. A custom rule, which has only a pullback, is
    /// pushed forward through its Jacobian's rows, its pullback called once per output (when
    /// any of its inputs' tangents is non-zero); its outputs' tangents are set when the sweep
    /// reaches its last output (none of them is read before that: nodes are recorded in order).
    /// A first parent that is the node just below (the most frequent case) has its tangent
    /// read from a register holding the value just stored, not through memory (testing the
    /// second parent too made a sweep over sparse tangents 10–25 % slower).
    pub(crate) fn sweep_forward(&self, tangent: &mut [T], first: usize, end: usize) {
        assert_eq!(
            tangent.len(),
            self.len(),
            "tangent buffer has the wrong length"
        );
        let term = |t: T, w: T| {
            if t.is_zero() || w.is_zero() {
                T::zero()
            } else {
                T::sweep_product(t, w)
            }
        };
        let start = first.max(1);
        let end = end.min(self.len());
        if start >= end {
            return;
        }
        let mut below = tangent[start - 1];
        for i in start..end {
            let [p0, p1] = self.parents[i];
            if p0 == CUSTOM {
                if p1 != CUSTOM_SILENT {
                    self.push_custom_forward(&self.customs[p1 as usize], tangent);
                }
                // A silent output's tangent is set with the last one; no node but the rule's
                // next output follows it, and that one does not read `below`.
                below = tangent[i];
                continue;
            }
            let [w0, w1] = self.partials[i];
            let t0 = if p0 as usize + 1 == i {
                below
            } else {
                tangent[p0 as usize]
            };
            let t = term(t0, w0) + term(tangent[p1 as usize], w1);
            tangent[i] = t;
            below = t;
        }
    }

    /// One custom rule in the forward sweep: each output's tangent is its Jacobian row (the
    /// pullback of that output's unit cotangent) times the inputs' tangents.
    fn push_custom_forward(&self, custom: &Custom<T>, tangent: &mut [T]) {
        let first = custom.first_output as usize;
        let m = custom.n_outputs as usize;
        let inputs: Vec<T> = custom.inputs.iter().map(|&j| tangent[j as usize]).collect();
        if inputs.iter().all(|t| t.is_zero()) {
            return;
        }
        let mut unit = vec![T::zero(); m];
        for k in 0..m {
            unit[k] = T::one();
            let row = (custom.pullback)(&unit);
            unit[k] = T::zero();
            assert!(
                row.len() == inputs.len(),
                "custom rule (recorded at {}): the pullback returned {} cotangents for {} inputs",
                custom.at,
                row.len(),
                inputs.len()
            );
            tangent[first + k] = row
                .iter()
                .zip(&inputs)
                .filter(|(w, t)| !w.is_zero() && !t.is_zero())
                .fold(T::zero(), |sum, (&w, &t)| sum + T::sweep_product(t, w));
        }
    }

    /// Runs one custom pullback: output adjoints in, input adjoints accumulated.
    fn run_custom(&self, custom: &Custom<T>, adjoint: &mut [T]) {
        let first = custom.first_output as usize;
        let outputs = &adjoint[first..first + custom.n_outputs as usize];
        if outputs.iter().all(|a| a.is_zero()) {
            return;
        }
        let cotangents = (custom.pullback)(outputs);
        assert!(
            cotangents.len() == custom.inputs.len(),
            "custom rule (recorded at {}): the pullback returned {} cotangents for {} inputs",
            custom.at,
            cotangents.len(),
            custom.inputs.len()
        );
        for (&input, ct) in custom.inputs.iter().zip(cotangents) {
            adjoint[input as usize] = adjoint[input as usize] + ct;
        }
    }
}

/// Finished tapes and adjoint buffers kept for reuse, per thread and scalar type (so a gradient
/// call in a loop allocates nothing once warm, and large tapes do not page-fault afresh on every
/// call).
pub struct TapePool<T> {
    /// Boxed because a scope's tape needs a stable address; reusing the box saves an
    /// allocation per scope.
    #[allow(clippy::vec_box)]
    spare_tapes: Vec<Box<Tape<T>>>,
    /// All zero (every user resets what it wrote before returning it), so reusing it needs
    /// no clearing.
    spare_adjoint: Vec<T>,
}

/// How many finished tapes a thread keeps for reuse, per scalar type.
const MAX_SPARE_TAPES: usize = 4;

/// The most buffer memory a thread keeps for reuse per scalar type, spare tapes and adjoint
/// buffer each (256 MiB: a tape of ~10⁷ binary operations in `f64`). A larger recording's
/// buffers are freed when its call ends, so one huge gradient does not hold its memory for the
/// thread's lifetime; smaller ones are reused, so a gradient in a loop allocates nothing.
pub(crate) const MAX_KEPT_BYTES: usize = 256 << 20;

impl<T: TapeScalar> TapePool<T> {
    /// An empty pool.
    pub const fn new() -> Self {
        Self {
            spare_tapes: Vec::new(),
            spare_adjoint: Vec::new(),
        }
    }

    /// A fresh tape with a new id and no buffers to reuse (when this thread's pool cannot be
    /// reached: during its teardown).
    pub(crate) fn unpooled_tape() -> Box<Tape<T>> {
        let mut tape = Box::new(Tape::none());
        tape.reset();
        tape
    }

    /// A fresh tape with a new id, reusing a spare one's buffers when there is one.
    pub(crate) fn fresh_tape(&mut self) -> Box<Tape<T>> {
        let mut tape = self
            .spare_tapes
            .pop()
            .unwrap_or_else(|| Box::new(Tape::none()));
        tape.reset();
        tape
    }

    /// Keeps a finished tape's buffers for reuse (its custom rules already dropped, by
    /// [`recycle`]).
    fn keep(&mut self, mut tape: Box<Tape<T>>) {
        // The node arrays and the custom-rule table's capacity (48 bytes an entry for f64,
        // kept by `clear`).
        let held = |t: &Tape<T>| t.bytes() + t.customs.capacity() * size_of::<Custom<T>>();
        let kept: usize = self.spare_tapes.iter().map(|t| held(t)).sum();
        if self.spare_tapes.len() < MAX_SPARE_TAPES && kept + held(&tape) <= MAX_KEPT_BYTES {
            tape.id = 0;
            tape.customs.clear();
            self.spare_tapes.push(tape);
        }
    }

    /// An all-zero adjoint buffer of length at least `len` (the spare one, grown if needed:
    /// only new entries are written).
    pub(crate) fn take_adjoint(&mut self, len: usize) -> Vec<T> {
        let mut buf = std::mem::take(&mut self.spare_adjoint);
        if buf.len() < len {
            buf.resize(len, T::zero());
        }
        buf
    }

    /// Keeps an adjoint buffer for reuse. Every entry must be zero again (a buffer left
    /// half-used by a panic is dropped instead, by unwinding, never returned).
    pub(crate) fn return_adjoint(&mut self, buf: Vec<T>) {
        debug_assert!(
            buf.iter().all(|a| a.is_zero()),
            "adjoint buffer returned dirty"
        );
        if buf.capacity() > self.spare_adjoint.capacity()
            && buf.capacity() * size_of::<T>() <= MAX_KEPT_BYTES
        {
            self.spare_adjoint = buf;
        }
    }
}

impl<T: TapeScalar> Default for TapePool<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Returns a finished tape's buffers to this thread's pool (dropping them if the pool is gone,
/// during thread teardown, or busy).
///
/// The custom rules' pullbacks are dropped first, outside the pool's borrow: they own user
/// values whose destructors may run adroit code — a gradient, which takes a tape from the
/// pool (inside the borrow that was a "RefCell already borrowed" panic, and an abort when it
/// happened while unwinding).
pub(crate) fn recycle<T: TapeScalar>(mut tape: Box<Tape<T>>) {
    tape.customs.clear();
    let _ = T::tape_pool().try_with(|pool| {
        if let Ok(mut pool) = pool.try_borrow_mut() {
            pool.keep(tape);
        }
    });
}

#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn stale_variable(var_tape: u64, active: u64) -> ! {
    if active == 0 {
        panic!(
            "adroit-reverse: a Var was used outside the scope that recorded it (no gradient, \
             pullback or jacobian call is recording on this thread now: the call has returned, \
             the variable was sent to another thread, or a custom rule's pullback is running \
             in its backward sweep). Variables live only inside the closure passed to that \
             call, on its thread; keep plain values (`.value()`) instead."
        )
    } else {
        panic!(
            "adroit-reverse: a Var from another tape (tape #{var_tape}) was mixed with the tape \
             recording now (tape #{active}): it comes from a finished or outer scope, or from \
             another thread. Pass values into the closure instead of capturing variables."
        )
    }
}

#[cold]
#[inline(never)]
fn tape_full() -> ! {
    panic!("adroit-reverse: the tape exceeds 2³² − 1 nodes")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random tapes whose nodes mostly take the node just below as a parent (once, twice, or
    /// not at all), with zero, tiny and huge partials and adjoints seeded anywhere: the
    /// carried sweep gives the same bits as the plain sweep (every contribution through
    /// memory), adjoint by adjoint.
    fn check_carry_keeps_the_order<T: TapeScalar>(value: impl Fn(f64) -> T) {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..300 {
            let mut tape = Tape::<T>::none();
            tape.reset();
            let n_inputs = (next() % 4) as usize;
            let first = tape.push_inputs(n_inputs) as usize + n_inputs;
            let end = first + 40;
            let number = |next: &mut dyn FnMut() -> u64| {
                let magnitude = [0.0, 1e-300, 1.0, 3.7, 1e300][(next() % 5) as usize];
                let sign = if next().is_multiple_of(2) { 1.0 } else { -1.0 };
                sign * magnitude * (1.0 + (next() % 1000) as f64 / 997.0)
            };
            for i in first..end {
                let below = (i - 1) as u32;
                let parent = |next: &mut dyn FnMut() -> u64| match next() % 3 {
                    0 => below,
                    1 => (next() % i as u64) as u32,
                    _ => (next() % i as u64).min(1) as u32,
                };
                let (p0, p1) = (parent(&mut next), parent(&mut next));
                let (w0, w1) = (number(&mut next), number(&mut next));
                tape.push_binary(p0, p1, value(w0), value(w1));
            }
            let mut seeded = vec![T::zero(); tape.len()];
            for _ in 0..3 {
                let at = first + (next() % 40) as usize;
                seeded[at] = seeded[at] + value(number(&mut next));
            }
            let (mut carried, mut memory) = (seeded.clone(), seeded);
            tape.sweep_carried(&mut carried, first, end);
            tape.sweep_elementary(&mut memory, first, end);
            let bits = |v: &[T]| format!("{v:?}");
            assert_eq!(bits(&carried), bits(&memory));
        }
    }

    #[test]
    fn the_carried_sweep_sums_in_the_order_of_memory() {
        check_carry_keeps_the_order::<f64>(|v| v);
        check_carry_keeps_the_order::<f32>(|v| v as f32);
        // Both parents of node 3 are node 2, which also gets a term from node 4: carrying
        // node 3's first term would add 1 + (1/11 − 1/11) instead of (1 + 1/11) − 1/11, which
        // rounds to 0.9999999999999999.
        let mut tape = Tape::<f64>::none();
        tape.reset();
        let first = tape.push_inputs(1) as usize + 1;
        let a = 1.0 / 11.0;
        tape.push_binary(1, 0, 1.0, 0.0);
        tape.push_binary(2, 2, a, -a);
        tape.push_binary(3, 2, 1.0, 1.0);
        let mut carried = vec![0.0; tape.len()];
        carried[4] = 1.0;
        let mut memory = carried.clone();
        let end = tape.len();
        tape.sweep_carried(&mut carried, first, end);
        tape.sweep_elementary(&mut memory, first, end);
        assert_eq!(memory[1], 0.9999999999999999);
        assert_eq!(format!("{carried:?}"), format!("{memory:?}"));
    }

    /// Buffers above the cap are freed, smaller ones kept (capacities are only reserved here,
    /// so the test touches no memory).
    #[test]
    fn the_pool_keeps_at_most_max_kept_bytes() {
        let mut pool = TapePool::<f64>::new();
        let mut huge = Box::new(Tape::<f64>::none());
        huge.parents
            .reserve(MAX_KEPT_BYTES / size_of::<[u32; 2]>() + 1);
        pool.keep(huge);
        assert!(pool.spare_tapes.is_empty());
        let mut small = Box::new(Tape::<f64>::none());
        small.parents.reserve(1000);
        pool.keep(small);
        assert_eq!(pool.spare_tapes.len(), 1);
        // A custom-rule table counts too.
        let mut customs = Box::new(Tape::<f64>::none());
        customs
            .customs
            .reserve(MAX_KEPT_BYTES / size_of::<Custom<f64>>() + 1);
        pool.keep(customs);
        assert_eq!(pool.spare_tapes.len(), 1);
        pool.return_adjoint(Vec::with_capacity(MAX_KEPT_BYTES / 8 + 1));
        assert_eq!(pool.spare_adjoint.capacity(), 0);
        pool.return_adjoint(Vec::with_capacity(1000));
        assert!(pool.spare_adjoint.capacity() >= 1000);
    }
}
