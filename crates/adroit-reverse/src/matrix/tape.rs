//! The matrix tape: one node per whole-matrix operation, holding its value and a small
//! backward rule; swept backwards once per gradient.

use super::pool;
use super::value::NodeValue;
use super::{MatScalar, MatVar};
use crate::matrix::anomaly::{BackwardNan, MatrixNan};
use crate::scope::{ScopeStack, ScopedTape};
use nalgebra::DMatrix;
use std::cell::Cell;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};

/// The backward rule of one recorded operation.
///
/// Each implementation is a small struct in `matrix/ops/` naming what it saves from the forward
/// pass (parent indices, and matrices such as a derivative) and turning the node's adjoint into
/// contributions to its parents' adjoints through [`Grads::accumulate`].
pub(crate) trait Backward<T: MatScalar> {
    /// `adjoint`: the node's adjoint (its shape); `values`: every node's value on the tape.
    fn backward(&self, adjoint: DMatrix<T>, values: &[NodeValue<T>], grads: &mut Grads<'_, T>);

    /// [`Self::backward`] for an adjoint with `value` in every entry (of the node's `shape`):
    /// rules that can use it without the entries (a scaled saved derivative instead of an
    /// entry-wise product) override it; by default the entries are written out.
    fn backward_uniform(
        &self,
        value: T,
        shape: (usize, usize),
        values: &[NodeValue<T>],
        grads: &mut Grads<'_, T>,
    ) {
        self.backward(
            Adjoint::Uniform { value, shape }.into_dense(),
            values,
            grads,
        );
    }

    /// Gives the matrices this rule saved back to the buffer pool when the recording ends
    /// (by default they are simply freed).
    fn release(self: Box<Self>) {}

    /// True for a rule that owns the user's values (a custom rule's pullback, a checkpointed
    /// function), whose destructors may run adroit code — a gradient, which borrows this
    /// thread's tape stack. The tape never drops such a rule while that stack is borrowed
    /// (inside it that was a "called while another matrix operation was recording" panic,
    /// and an abort when it happened while unwinding): an unneeded one is kept until the
    /// recording is released ([`recycle`]).
    fn owns_user_values(&self) -> bool {
        false
    }

    /// [`Self::backward`] in the tape's last sweep (a gradient call's only one), consuming
    /// the rule: by default the same, then [`Self::release`].
    fn backward_once(
        self: Box<Self>,
        adjoint: DMatrix<T>,
        values: &[NodeValue<T>],
        grads: &mut Grads<'_, T>,
    ) {
        self.backward(adjoint, values, grads);
        self.release();
    }

    /// [`Self::backward_uniform`] in the tape's last sweep, consuming the rule: rules whose
    /// pullback is a saved matrix scaled by the value override it to hand that matrix on
    /// instead of a scaled copy; by default the same as `backward_uniform`, then
    /// [`Self::release`].
    fn backward_uniform_once(
        self: Box<Self>,
        value: T,
        shape: (usize, usize),
        values: &[NodeValue<T>],
        grads: &mut Grads<'_, T>,
    ) {
        self.backward_uniform(value, shape, values, grads);
        self.release();
    }
}

/// A node's adjoint during the backward sweep.
pub(crate) enum Adjoint<T> {
    /// Entry by entry.
    Dense(DMatrix<T>),
    /// `value` in every entry of a `shape` matrix: the pullback of a sum or a mean (Zygote's
    /// `Fill`), kept as one number until a rule needs the entries.
    Uniform { value: T, shape: (usize, usize) },
}

impl<T: MatScalar> Adjoint<T> {
    /// The entries.
    pub(crate) fn into_dense(self) -> DMatrix<T> {
        match self {
            Adjoint::Dense(m) => m,
            Adjoint::Uniform { value, shape } => {
                let mut m = pool::overwritten(shape.0, shape.1);
                m.as_mut_slice().fill(value);
                m
            }
        }
    }
}

/// Adjoints being accumulated during a backward sweep.
///
/// Accumulation is entry-wise addition in the order contributions arrive, whatever their form:
/// a uniform contribution `u` added to entries `a` gives `a + u` entry by entry, two uniform
/// ones `u + v`, exactly what adding their written-out entries would give.
pub(crate) struct Grads<'a, T> {
    adjoints: Vec<Option<Adjoint<T>>>,
    requires_grad: &'a [bool],
    /// On a watched sweep ([`detect_anomaly`](crate::matrix::detect_anomaly)), the nodes whose
    /// adjoints the current rule added to, to be checked for NaN after it; `None` unwatched.
    touched: Option<Vec<u32>>,
}

impl<T: MatScalar> Grads<'_, T> {
    /// True when node `i` leads to an input, so its adjoint is worth computing.
    pub(crate) fn wants(&self, i: u32) -> bool {
        self.requires_grad[i as usize]
    }

    /// [`Self::wants`] for a rule about to add to node `i`'s adjoint, noting `i` on a watched
    /// sweep (every accumulation goes through here).
    #[inline]
    fn claim(&mut self, i: u32) -> bool {
        let wanted = self.wants(i);
        if wanted && let Some(touched) = &mut self.touched {
            touched.push(i);
        }
        wanted
    }

    /// The first adjoint among those the last rule added to that gained a NaN in an entry free
    /// of one before, as (node, entry in column-major order), on a watched sweep. `tainted`
    /// holds, for each adjoint with NaN, which entries held one (updated here, so that a NaN
    /// passed on earlier is not blamed on a later rule, while a new NaN in another entry of the
    /// same adjoint still is). Clears the list.
    fn first_new_nan(&mut self, tainted: &mut [Option<Vec<bool>>]) -> Option<(u32, usize)> {
        let touched = self.touched.as_mut()?;
        let mut found = None;
        for j in touched.drain(..) {
            let Some(adjoint) = self.adjoints[j as usize].as_ref() else {
                continue;
            };
            let before = &mut tainted[j as usize];
            let new = match before {
                None => nan_entry(adjoint),
                Some(mask) => new_nan_entry(adjoint, mask),
            };
            if let Some(k) = new {
                *before = Some(nan_mask(adjoint));
                found = found.or(Some((j, k)));
            }
        }
        found
    }

    /// Adds `block` to the block at `start` of node `i`'s adjoint (of shape `shape`), creating
    /// that adjoint as zeros if it has none yet: a view's pullback costs its block, not the
    /// whole parent, when many views of one matrix are taken.
    pub(crate) fn accumulate_block(
        &mut self,
        i: u32,
        start: (usize, usize),
        shape: (usize, usize),
        block: &DMatrix<T>,
    ) {
        if !self.claim(i) {
            return;
        }
        let slot = &mut self.adjoints[i as usize];
        if slot.is_none() && block.nrows() == 1 {
            *slot = Some(Adjoint::Dense(fresh_with_row(shape, start, block)));
            return;
        }
        let adjoint = match slot.take() {
            Some(adjoint) => adjoint.into_dense(),
            None => pool::zeros(shape.0, shape.1),
        };
        let adjoint = slot.insert(Adjoint::Dense(adjoint));
        let Adjoint::Dense(adjoint) = adjoint else {
            unreachable!("inserted as entries just above")
        };
        // Column by column over plain slices (nalgebra's strided `view_mut() +=` does not
        // vectorise).
        let (stride, (i, j)) = (adjoint.nrows(), start);
        let (rows, target) = (block.nrows(), adjoint.as_mut_slice());
        if rows == 1 {
            // One entry per column; `i < stride` up front lets the loop run without bounds
            // tests.
            assert!(i < stride);
            let target = &mut target[j * stride..(j + block.ncols()) * stride];
            match (stride, i) {
                // Even or odd entries (`x[::2]`, `x[1::2]`): with the stride and the offset
                // known at compile time the loop vectorises.
                (2, 0) => scatter_add::<T, 2, 0>(block.as_slice(), target),
                (2, _) => scatter_add::<T, 2, 1>(block.as_slice(), target),
                _ => {
                    for (column, &b) in target.chunks_exact_mut(stride).zip(block.as_slice()) {
                        column[i] += b;
                    }
                }
            }
            return;
        }
        for (c, column) in block.as_slice().chunks_exact(rows.max(1)).enumerate() {
            let at = (j + c) * stride + i;
            for (t, &b) in target[at..at + rows].iter_mut().zip(column) {
                *t += b;
            }
        }
    }

    /// Adds `rows` (`count × cols`) to rows `first, first + stride, …` of node `i`'s adjoint
    /// (of shape `shape`), creating that adjoint as zeros if it has none yet: the pullback of
    /// [`MatVar::strided_rows`](crate::matrix::MatVar::strided_rows).
    pub(crate) fn accumulate_strided_rows(
        &mut self,
        i: u32,
        (first, stride): (usize, usize),
        shape: (usize, usize),
        rows: &DMatrix<T>,
    ) {
        let Some(adjoint) = self.dense_adjoint_mut(i, shape) else {
            return;
        };
        let (count, target) = (rows.nrows(), adjoint.as_mut_slice());
        if shape.1 == 1 {
            // A column (the common case, `x[::2]` of a vector): no split into columns.
            if count > 0 {
                scatter_add_every(rows.as_slice(), stride, &mut target[first..]);
            }
            return;
        }
        let columns = target.chunks_exact_mut(shape.0.max(1));
        for (column, part) in columns.zip(rows.as_slice().chunks_exact(count.max(1))) {
            scatter_add_every(part, stride, &mut column[first..]);
        }
    }

    /// Node `i`'s adjoint (of shape `shape`) as entries to add contributions into, created as
    /// zeros if it has none yet; `None` when node `i` leads to no input. For pullbacks that
    /// touch a few entries of a large parent (a pick by index), which would otherwise build
    /// and add a parent-sized matrix of mostly zeros.
    pub(crate) fn dense_adjoint_mut(
        &mut self,
        i: u32,
        shape: (usize, usize),
    ) -> Option<&mut DMatrix<T>> {
        if !self.claim(i) {
            return None;
        }
        let slot = &mut self.adjoints[i as usize];
        if !matches!(slot, Some(Adjoint::Dense(_))) {
            let dense = match slot.take() {
                Some(adjoint) => adjoint.into_dense(),
                None => pool::zeros(shape.0, shape.1),
            };
            *slot = Some(Adjoint::Dense(dense));
        }
        let Some(Adjoint::Dense(adjoint)) = slot else {
            unreachable!("made dense just above")
        };
        Some(adjoint)
    }

    /// Adds `contribution` to node `i`'s adjoint (with [`Self::accumulate_block`],
    /// [`Self::accumulate_strided_rows`] and [`Self::dense_adjoint_mut`], the only places
    /// gradients are accumulated).
    pub(crate) fn accumulate(&mut self, i: u32, contribution: DMatrix<T>) {
        if !self.claim(i) {
            return;
        }
        let slot = &mut self.adjoints[i as usize];
        match slot {
            Some(Adjoint::Dense(adjoint)) => {
                *adjoint += &contribution;
                pool::recycle(contribution);
            }
            Some(Adjoint::Uniform { value, .. }) => {
                let mut contribution = contribution;
                contribution.add_scalar_mut(*value);
                *slot = Some(Adjoint::Dense(contribution));
            }
            None => *slot = Some(Adjoint::Dense(contribution)),
        }
    }

    /// Adds a contribution in either form to node `i`'s adjoint.
    pub(crate) fn accumulate_adjoint(&mut self, i: u32, contribution: Adjoint<T>) {
        match contribution {
            Adjoint::Dense(m) => self.accumulate(i, m),
            Adjoint::Uniform { value, shape } => self.accumulate_uniform(i, value, shape),
        }
    }

    /// Adds `value` to every entry of node `i`'s adjoint (of shape `shape`), keeping it one
    /// number while every contribution is uniform.
    #[inline]
    pub(crate) fn accumulate_uniform(&mut self, i: u32, value: T, shape: (usize, usize)) {
        if !self.claim(i) {
            return;
        }
        let slot = &mut self.adjoints[i as usize];
        match slot {
            Some(Adjoint::Dense(adjoint)) => adjoint.add_scalar_mut(value),
            Some(Adjoint::Uniform { value: sum, .. }) => *sum += value,
            None => *slot = Some(Adjoint::Uniform { value, shape }),
        }
    }
}

/// The first entry of `adjoint` (column-major) that is NaN, if any.
fn nan_entry<T: MatScalar>(adjoint: &Adjoint<T>) -> Option<usize> {
    match adjoint {
        Adjoint::Dense(m) => m.iter().position(|v| v.is_nan()),
        Adjoint::Uniform { value, .. } => value.is_nan().then_some(0),
    }
}

/// Which entries of `adjoint` (column-major) hold NaN.
fn nan_mask<T: MatScalar>(adjoint: &Adjoint<T>) -> Vec<bool> {
    match adjoint {
        Adjoint::Dense(m) => m.iter().map(|v| v.is_nan()).collect(),
        Adjoint::Uniform { value, shape } => vec![value.is_nan(); shape.0 * shape.1],
    }
}

/// The first entry of `adjoint` (column-major) holding a NaN where `before` had none.
fn new_nan_entry<T: MatScalar>(adjoint: &Adjoint<T>, before: &[bool]) -> Option<usize> {
    match adjoint {
        Adjoint::Dense(m) => m
            .iter()
            .zip(before)
            .position(|(v, &was)| v.is_nan() && !was),
        Adjoint::Uniform { value, .. } => {
            if value.is_nan() {
                before.iter().position(|&was| !was)
            } else {
                None
            }
        }
    }
}

/// A `shape` matrix of zeros but for the one-row `block` at `start`, written in one pass (a
/// view's pullback when its parent has no adjoint yet: zeros, then the block added, took two).
fn fresh_with_row<T: MatScalar>(
    shape: (usize, usize),
    (i, j): (usize, usize),
    block: &DMatrix<T>,
) -> DMatrix<T> {
    let stride = shape.0;
    assert!(i < stride && block.nrows() == 1);
    let mut adjoint = pool::overwritten(shape.0, shape.1);
    let (before, rest) = adjoint.as_mut_slice().split_at_mut(j * stride);
    let (middle, after) = rest.split_at_mut(block.ncols() * stride);
    before.fill(T::zero());
    after.fill(T::zero());
    match (stride, i) {
        (2, 0) => write_pairs::<T, 0>(block.as_slice(), middle),
        (2, _) => write_pairs::<T, 1>(block.as_slice(), middle),
        _ => {
            for (column, &b) in middle.chunks_exact_mut(stride).zip(block.as_slice()) {
                column.fill(T::zero());
                column[i] = b;
            }
        }
    }
    adjoint
}

/// `target[2c + I] = block[c]`, `target[2c + 1 − I] = 0`.
#[inline(always)]
fn write_pairs<T: MatScalar, const I: usize>(block: &[T], target: &mut [T]) {
    for (pair, &b) in target.chunks_exact_mut(2).zip(block) {
        pair[I] = b;
        pair[1 - I] = T::zero();
    }
}

/// `target[k·stride] += part[k]` for every `k` (`target` reaches the last of those entries);
/// the loop vectorises for stride 2 (`x[::2]`, `x[1::2]`), with the stride known at compile
/// time.
fn scatter_add_every<T: MatScalar>(part: &[T], stride: usize, target: &mut [T]) {
    // Entries whose whole stride lies inside `target`, then the last one alone if not (the
    // division by a constant stride where it is one).
    let whole = match stride {
        1 => {
            for (t, &p) in target.iter_mut().zip(part) {
                *t += p;
            }
            return;
        }
        2 => {
            let whole = part.len().min(target.len() / 2);
            scatter_add::<T, 2, 0>(&part[..whole], target);
            whole
        }
        _ => {
            let whole = part.len().min(target.len() / stride);
            for (column, &p) in target.chunks_exact_mut(stride).zip(&part[..whole]) {
                column[0] += p;
            }
            whole
        }
    };
    for (k, &p) in part.iter().enumerate().skip(whole) {
        target[k * stride] += p;
    }
}

/// `target[c·S + I] += block[c]`, stride and offset known at compile time.
#[inline(always)]
fn scatter_add<T: MatScalar, const S: usize, const I: usize>(block: &[T], target: &mut [T]) {
    for (column, &b) in target.chunks_exact_mut(S).zip(block) {
        column[I] += b;
    }
}

/// One recording of matrix operations.
pub struct MatTape<T> {
    id: u64,
    /// The recorded nodes, boxed so that moving the tape (between the thread's scope stack
    /// and a gradient call, several times per call) moves a pointer — 15 % of the time of a
    /// one-node gradient call (BENCHMARKS.md §U.13); `None` only for the placeholder of
    /// [`MatTape::none`], which records nothing: an operation on it fails the id check of its
    /// operands or, having none, panics in [`no_recording`].
    nodes: Option<Box<Nodes<T>>>,
    /// Whether each recorded result is checked for NaN
    /// ([`detect_anomaly`](crate::matrix::detect_anomaly)), until the first is found, and each
    /// backward sweep's rules.
    watch: bool,
    /// The first NaN a watched recording met, for the operation to report at the user's line
    /// ([`take_anomaly`](Self::take_anomaly)).
    anomaly: Option<Box<MatrixNan>>,
}

/// A [`MatTape`]'s nodes.
pub struct Nodes<T> {
    values: Vec<NodeValue<T>>,
    backwards: Vec<Option<Box<dyn Backward<T>>>>,
    /// Rules owning the user's values that no input needed (see
    /// [`Backward::owns_user_values`]), kept until the recording is released.
    unneeded: Vec<Box<dyn Backward<T>>>,
    requires_grad: Vec<bool>,
    /// On a watched tape, each operation's node and the line that recorded it, for the backward
    /// sweep's report ([`detect_anomaly`](crate::matrix::detect_anomaly)); empty unwatched.
    locations: Vec<(u32, &'static Location<'static>)>,
    /// The backward sweep's adjoint slots, kept empty between sweeps for their buffer.
    adjoint_slots: Cell<Vec<Option<Adjoint<T>>>>,
}

impl<T> std::ops::Deref for MatTape<T> {
    type Target = Nodes<T>;

    fn deref(&self) -> &Nodes<T> {
        self.nodes.as_deref().unwrap_or_else(|| no_recording())
    }
}

impl<T> std::ops::DerefMut for MatTape<T> {
    fn deref_mut(&mut self) -> &mut Nodes<T> {
        self.nodes.as_deref_mut().unwrap_or_else(|| no_recording())
    }
}

/// The placeholder tape was asked for its nodes: an operation that reads no variable (a
/// custom rule or a checkpoint without inputs) outside every recording. (An operation on a
/// variable fails its tape-id check first, and `MatVar::constant` has a check of its own.)
#[cold]
#[inline(never)]
fn no_recording() -> ! {
    panic!(
        "adroit-reverse: no matrix recording is active: matrix operations (custom_rule and \
         checkpoint too, even without inputs) run only inside matrix::gradient, \
         matrix::pullback and the other matrix differentiation calls, or matrix::evaluate"
    )
}

/// Matrix tape ids share nothing with scalar tapes; never 0.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl<T: MatScalar> ScopedTape for MatTape<T> {
    fn none() -> Self {
        MatTape::none()
    }

    fn id(&self) -> u64 {
        self.id
    }
}

impl<T: MatScalar> MatTape<T> {
    pub(crate) const fn none() -> Self {
        Self {
            id: 0,
            nodes: None,
            watch: false,
            anomaly: None,
        }
    }

    fn fresh() -> Self {
        let mut tape = Self::none();
        tape.id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        tape.nodes = Some(Box::new(Nodes {
            values: Vec::new(),
            backwards: Vec::new(),
            unneeded: Vec::new(),
            requires_grad: Vec::new(),
            locations: Vec::new(),
            adjoint_slots: Cell::new(Vec::new()),
        }));
        tape
    }

    /// Panics unless `x` was recorded on this tape.
    #[track_caller]
    pub(crate) fn check(&self, x: &MatVar<T>) {
        if x.tape_id() != self.id {
            stale_matrix(x.tape_id(), self.id);
        }
    }

    /// `Err(Stale)` naming the first of `vars` not recorded on this tape: the caller returns it
    /// out of the thread-local access and panics there with [`UnwrapStale`], so that the panic
    /// names the user's line (a `#[track_caller]` location does not pass into closures).
    pub(crate) fn stale_among(&self, vars: &[MatVar<T>]) -> Result<(), Stale> {
        match vars.iter().find(|x| x.tape_id() != self.id) {
            Some(x) => Err(Stale {
                var_tape: x.tape_id(),
                active: self.id,
            }),
            None => Ok(()),
        }
    }

    /// The value of node `x`.
    #[track_caller]
    pub(crate) fn value(&self, x: &MatVar<T>) -> &DMatrix<T> {
        self.check(x);
        self.values[x.index() as usize].get()
    }

    /// The value of node `x`, moved out of a recording about to end (a copy for a borrowed
    /// input). The node is left holding an empty matrix.
    #[track_caller]
    pub(crate) fn take_value(&mut self, x: &MatVar<T>) -> DMatrix<T> {
        self.check(x);
        let slot = &mut self.values[x.index() as usize];
        match std::mem::replace(slot, NodeValue::Data(DMatrix::zeros(0, 0))) {
            NodeValue::Owned(m) | NodeValue::Data(m) => m,
            borrowed @ NodeValue::Borrowed(_) => {
                let m = borrowed.get().clone();
                *slot = borrowed;
                m
            }
        }
    }

    /// Records a node computed from `parents` by the operation at `at` (the user's line);
    /// `backward` is never run when no parent leads to an input (then dropped at once, or kept
    /// until the recording is released if it [owns the user's
    /// values](Backward::owns_user_values)). On a watched tape
    /// ([`detect_anomaly`](crate::matrix::detect_anomaly)) the first NaN in a result is kept,
    /// to be reported when the recording ends ([`take_anomaly`](Self::take_anomaly)): checking
    /// after every operation instead cost a small array gradient 0.6 % more instructions
    /// unwatched.
    #[track_caller]
    pub(crate) fn record(
        &mut self,
        at: &'static Location<'static>,
        parents: &[MatVar<T>],
        value: DMatrix<T>,
        backward: Box<dyn Backward<T>>,
    ) -> MatVar<T> {
        let mut requires_grad = false;
        for p in parents {
            self.check(p);
            requires_grad |= self.requires_grad[p.index() as usize];
        }
        if self.watch {
            self.note_nan(at, parents, &value);
        }
        let backward = if requires_grad {
            Some(backward)
        } else {
            if backward.owns_user_values() {
                self.unneeded.push(backward);
            }
            None
        };
        self.push(NodeValue::Owned(value), backward, requires_grad)
    }

    /// Keeps the line `at` of the operation about to be recorded, for the backward sweep's
    /// report, and the first NaN of `value`, its result on `parents`, then stops watching
    /// results (for [`detect_anomaly`](crate::matrix::detect_anomaly); out of line, so that the
    /// unwatched tape pays one test).
    #[cold]
    #[inline(never)]
    fn note_nan(
        &mut self,
        at: &'static Location<'static>,
        parents: &[MatVar<T>],
        value: &DMatrix<T>,
    ) {
        let node = self.values.len() as u32;
        self.locations.push((node, at));
        let Some(k) = value.iter().position(|v| v.is_nan()) else {
            return;
        };
        let in_operands = parents.iter().any(|p| {
            let operand = self.values[p.index() as usize].get();
            operand.iter().any(|v| v.is_nan())
        });
        self.anomaly = Some(Box::new(MatrixNan {
            at,
            entry: (k % value.nrows(), k / value.nrows()),
            shape: value.shape(),
            in_operands,
        }));
        self.watch = false;
    }

    /// The NaN a watched recording met, taken (see [`record`](Self::record)).
    pub(crate) fn take_anomaly(&mut self) -> Option<Box<MatrixNan>> {
        self.anomaly.take()
    }

    /// Records a leaf: an input (`requires_grad`) or a constant.
    pub(crate) fn leaf(&mut self, value: DMatrix<T>, requires_grad: bool) -> MatVar<T> {
        self.push(NodeValue::Data(value), None, requires_grad)
    }

    /// Records an input whose value is borrowed (see [`NodeValue::borrowed`]).
    pub(crate) fn borrowed_input(&mut self, value: NodeValue<T>) -> MatVar<T> {
        self.push(value, None, true)
    }

    /// Records a constant whose value is borrowed (see [`NodeValue::borrowed`]): no operation
    /// on it keeps a backward rule.
    pub(crate) fn borrowed_constant(&mut self, value: NodeValue<T>) -> MatVar<T> {
        self.push(value, None, false)
    }

    fn push(
        &mut self,
        value: NodeValue<T>,
        backward: Option<Box<dyn Backward<T>>>,
        requires_grad: bool,
    ) -> MatVar<T> {
        let index = u32::try_from(self.values.len()).expect("matrix tape exceeds 2³² nodes");
        let shape = value.get().shape();
        self.values.push(value);
        self.backwards.push(backward);
        self.requires_grad.push(requires_grad);
        MatVar::new(index, self.id, shape)
    }

    /// The backward sweep from `output` seeded with `seed` (its shape); returns the adjoints of
    /// nodes `0..n_inputs` (zeros where the output does not depend on an input).
    pub(crate) fn backward(
        &self,
        output: &MatVar<T>,
        seed: Adjoint<T>,
        n_inputs: usize,
    ) -> Vec<DMatrix<T>> {
        self.sweep(output, seed, n_inputs, |i, adjoint, values, grads| {
            let Some(rule) = &self.backwards[i] else {
                return Some(adjoint);
            };
            match adjoint {
                Adjoint::Dense(adjoint) => rule.backward(adjoint, values, grads),
                Adjoint::Uniform { value, shape } => {
                    rule.backward_uniform(value, shape, values, grads);
                }
            }
            None
        })
    }

    /// [`Self::backward`] as the tape's last sweep (a gradient call, after which the tape is
    /// recycled): each rule is consumed as the sweep reaches it
    /// ([`Backward::backward_once`]), so it can hand its saved matrices on.
    pub(crate) fn backward_once(
        &mut self,
        output: &MatVar<T>,
        seed: Adjoint<T>,
        n_inputs: usize,
    ) -> Vec<DMatrix<T>> {
        let mut rules = std::mem::take(&mut self.backwards);
        let gradients = self.sweep(output, seed, n_inputs, |i, adjoint, values, grads| {
            let Some(rule) = rules[i].take() else {
                return Some(adjoint);
            };
            match adjoint {
                Adjoint::Dense(adjoint) => rule.backward_once(adjoint, values, grads),
                Adjoint::Uniform { value, shape } => {
                    rule.backward_uniform_once(value, shape, values, grads);
                }
            }
            None
        });
        // The rules the sweep did not reach (no adjoint) are released with the tape.
        self.backwards = rules;
        gradients
    }

    /// The backward sweep: seeds `output`, then hands each node's adjoint, last node first,
    /// to `step`, which applies the node's rule or, for a node without one, gives the adjoint
    /// back to stay in its slot; returns the inputs' adjoints.
    fn sweep(
        &self,
        output: &MatVar<T>,
        seed: Adjoint<T>,
        n_inputs: usize,
        mut step: impl FnMut(
            usize,
            Adjoint<T>,
            &[NodeValue<T>],
            &mut Grads<'_, T>,
        ) -> Option<Adjoint<T>>,
    ) -> Vec<DMatrix<T>> {
        self.check(output);
        // The adjoint slots of the last sweep on this thread's tapes, emptied (a `Vec` less to
        // allocate per gradient).
        let mut adjoints = self.adjoint_slots.take();
        adjoints.resize_with(self.values.len(), || None);
        let mut grads = Grads {
            adjoints,
            requires_grad: &self.requires_grad,
            touched: None,
        };
        grads.accumulate_adjoint(output.index(), seed);
        let mut anomaly = None;
        if self.watch || crate::matrix::anomaly::watching() {
            anomaly = self.watched_steps(output, n_inputs, &mut grads, &mut step);
        } else {
            for i in (0..self.values.len()).rev() {
                if let Some(adjoint) = grads.adjoints[i].take()
                    && let Some(kept) = step(i, adjoint, &self.values, &mut grads)
                {
                    grads.adjoints[i] = Some(kept);
                }
            }
        }
        let gradients = (0..n_inputs)
            .map(|i| match grads.adjoints[i].take() {
                Some(adjoint) => adjoint.into_dense(),
                None => {
                    let (r, c) = self.values[i].get().shape();
                    pool::zeros(r, c)
                }
            })
            .map(pool::exact)
            .collect();
        // Every slot is empty by now (each node's adjoint is taken when the sweep reaches it,
        // the inputs' just above; constants get none): keep the buffer for the next sweep.
        let mut adjoints = grads.adjoints;
        debug_assert!(
            adjoints.iter().all(Option::is_none),
            "an adjoint left in its slot"
        );
        adjoints.clear();
        self.adjoint_slots.set(adjoints);
        if let Some(anomaly) = anomaly {
            crate::matrix::anomaly::backward_nan(&anomaly);
        }
        gradients
    }

    /// The sweep's steps on a watched tape, or inside
    /// [`detect_anomaly`](crate::matrix::detect_anomaly): as the unwatched loop, and the first
    /// rule that turns a cotangent free of NaN into contributions holding one is returned (one
    /// passing on a NaN it was given is not). Out of line, so that the unwatched sweep pays one
    /// test.
    #[cold]
    #[inline(never)]
    fn watched_steps(
        &self,
        output: &MatVar<T>,
        n_inputs: usize,
        grads: &mut Grads<'_, T>,
        step: &mut impl FnMut(
            usize,
            Adjoint<T>,
            &[NodeValue<T>],
            &mut Grads<'_, T>,
        ) -> Option<Adjoint<T>>,
    ) -> Option<BackwardNan> {
        // Which entries of which adjoints hold a NaN already (passed on, not made, by later
        // rules).
        let mut tainted: Vec<Option<Vec<bool>>> = vec![None; self.values.len()];
        if let Some(seeded) = grads.adjoints[output.index() as usize].as_ref() {
            tainted[output.index() as usize] = nan_entry(seeded).map(|_| nan_mask(seeded));
        }
        grads.touched = Some(Vec::new());
        let mut anomaly = None;
        for i in (0..self.values.len()).rev() {
            let Some(adjoint) = grads.adjoints[i].take() else {
                continue;
            };
            if let Some(kept) = step(i, adjoint, &self.values, grads) {
                grads.adjoints[i] = Some(kept);
            }
            if let Some((j, k)) = grads.first_new_nan(&mut tainted)
                && tainted[i].is_none()
            {
                anomaly = Some(self.backward_nan_report(i, (j, k), n_inputs));
                grads.touched = None;
            }
        }
        grads.touched = None;
        anomaly
    }

    /// The report of the rule of node `i` that gave node `j`'s adjoint a NaN at entry `k`
    /// (column-major); nodes `0..n_inputs` are the call's inputs.
    #[cold]
    #[inline(never)]
    fn backward_nan_report(&self, i: usize, (j, k): (u32, usize), n_inputs: usize) -> BackwardNan {
        let at = self
            .locations
            .binary_search_by_key(&(i as u32), |&(node, _)| node)
            .ok()
            .map(|found| self.locations[found].1);
        let shape = self.values[j as usize].get().shape();
        BackwardNan {
            at,
            entry: (k % shape.0.max(1), k / shape.0.max(1)),
            shape,
            input: (j as usize) < n_inputs,
        }
    }

    /// The id of this tape.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Number of recorded nodes (inputs included).
    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }
}

/// This thread's matrix tapes for one element type: the active one and the suspended outer
/// ones.
pub struct MatTapeStack<T> {
    scopes: ScopeStack<MatTape<T>>,
    /// A finished tape whose (emptied) buffers the next scope reuses.
    spare: Option<MatTape<T>>,
}

impl<T: MatScalar> MatTapeStack<T> {
    /// An empty stack.
    pub const fn new() -> Self {
        Self {
            scopes: ScopeStack {
                active: MatTape::none(),
                suspended: Vec::new(),
            },
            spare: None,
        }
    }

    /// A fresh tape with a new id, reusing the spare tape's buffers when there is one.
    fn fresh_tape(&mut self) -> MatTape<T> {
        let mut tape = match self.spare.take() {
            Some(mut tape) => {
                tape.id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                tape
            }
            None => MatTape::fresh(),
        };
        tape.watch = crate::matrix::anomaly::watching();
        tape.anomaly = None;
        tape
    }

    /// Keeps a finished tape's buffers (its rules already released, see [`recycle`]) for
    /// the next scope.
    fn keep(&mut self, tape: MatTape<T>) {
        debug_assert!(tape.backwards.is_empty() && tape.unneeded.is_empty());
        self.spare = Some(tape);
    }

    /// True when no scope is open (the active tape is the placeholder of id 0).
    pub(crate) fn is_idle(&self) -> bool {
        self.scopes.active.id() == 0 && self.scopes.suspended.is_empty()
    }

    /// The tape recording now.
    pub(crate) fn active(&mut self) -> &mut MatTape<T> {
        &mut self.scopes.active
    }

    /// The NaN noted by the outermost open recording that met one (the earliest: a recording
    /// inside another starts after everything the outer one recorded so far), taken.
    pub(crate) fn take_earliest_anomaly(&mut self) -> Option<Box<MatrixNan>> {
        let scopes = &mut self.scopes;
        scopes
            .suspended
            .iter_mut()
            .chain(std::iter::once(&mut scopes.active))
            .find_map(MatTape::take_anomaly)
    }
}

/// Releases a finished recording: its values and the matrices its rules saved go to the buffer
/// pool, and its buffers are kept for this thread's next scope. The rules are released first,
/// while this thread's tape stack is not borrowed: those that own the user's values may run
/// adroit code as they are dropped (see [`Backward::owns_user_values`]). A tape that cannot be
/// kept (the stack busy or gone) is dropped.
pub(crate) fn recycle<T: MatScalar>(mut tape: MatTape<T>) {
    tape.id = 0;
    for value in tape.values.drain(..) {
        if let NodeValue::Owned(m) = value {
            pool::recycle(m);
        }
    }
    tape.backwards
        .drain(..)
        .flatten()
        .for_each(Backward::release);
    tape.unneeded.clear();
    tape.requires_grad.clear();
    tape.locations.clear();
    T::try_with_mat_tapes(|stack| stack.keep(tape));
}

impl<T: MatScalar> Default for MatTapeStack<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// An open matrix-recording scope; restores the outer tape when finished or dropped.
pub(crate) struct MatScope<T: MatScalar> {
    id: u64,
    _not_send: std::marker::PhantomData<*const T>,
}

impl<T: MatScalar> MatScope<T> {
    pub(crate) fn enter() -> Self {
        let id = T::with_mat_tapes(|stack| {
            let fresh = stack.fresh_tape();
            stack.scopes.open(fresh)
        });
        Self {
            id,
            _not_send: std::marker::PhantomData,
        }
    }

    pub(crate) fn finish(self) -> MatTape<T> {
        let tape = T::with_mat_tapes(|stack| stack.scopes.close(self.id));
        std::mem::forget(self);
        tape
    }
}

impl<T: MatScalar> Drop for MatScope<T> {
    /// Closes the scope (a panic is unwinding through the recording) and drops its tape after
    /// the thread's tape stack is given back: the tape's rules may own the user's values, whose
    /// destructors may run adroit code (see [`Backward::owns_user_values`]).
    fn drop(&mut self) {
        let mut closed = None;
        T::try_with_mat_tapes(|stack| closed = Some(stack.scopes.close(self.id)));
        drop(closed);
    }
}

/// A variable of another tape met by an operation (see [`MatTape::stale_among`]).
pub(crate) struct Stale {
    var_tape: u64,
    active: u64,
}

/// `Result<_, Stale>::unwrap_or_else_stale`: the value, or the stale-variable panic at the
/// caller's location.
pub(crate) trait UnwrapStale<R> {
    /// The value, or the panic naming the problem.
    fn unwrap_or_else_stale(self) -> R;
}

impl<R> UnwrapStale<R> for Result<R, Stale> {
    #[track_caller]
    #[inline]
    fn unwrap_or_else_stale(self) -> R {
        match self {
            Ok(r) => r,
            Err(Stale { var_tape, active }) => stale_matrix(var_tape, active),
        }
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn stale_matrix(var_tape: u64, active: u64) -> ! {
    if active == 0 {
        panic!(
            "adroit-reverse: a MatVar was used outside the scope that recorded it (no \
             matrix::gradient, matrix::pullback or matrix::evaluate call is running on this \
             thread now: the call \
             has returned, or the variable was sent to another thread). Variables live only \
             inside the closure passed to that call, on its thread; keep plain matrices \
             (`.value()`) instead."
        )
    } else {
        panic!(
            "adroit-reverse: a MatVar from another tape (tape #{var_tape}) was mixed with the \
             tape recording now (tape #{active}): it comes from a finished or outer scope, or \
             from another thread. Pass matrices into the closure instead of capturing \
             variables, or carry a value as a constant (`MatVar::constant(m.value())`, \
             PyTorch's `.detach()`). (A gradient of a gradient is not recorded on the matrix tape: use \
             matrix::hvp or matrix::hessian for second derivatives.)"
        )
    }
}
