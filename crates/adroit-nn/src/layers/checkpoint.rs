//! [`Checkpoint`]: a layer whose activations are recomputed in the backward pass instead of
//! kept.

use crate::layer::key;
use crate::{Cast, CastSlot, Context, Layer, NnError};
use adroit_reverse::matrix::{self, MatScalar, MatVar};
use nalgebra::DMatrix;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

/// Wraps a layer (typically a [`Chain`](crate::Chain) of several) so that a gradient does not
/// keep its intermediate activations: its forward pass is recorded as one node, run again in
/// the backward pass (gradient checkpointing: PyTorch's `torch.utils.checkpoint` and
/// `checkpoint_sequential`, JAX's `jax.checkpoint`; adroit-reverse's
/// [`matrix::checkpoint`]). Memory for time: each checkpointed block costs one more forward
/// pass, and a gradient holds one block's activations at a time plus every block's output.
/// Worth it for deep models on large batches; where the weights outweigh the activations it
/// saves nothing.
///
/// The same function and the same parameters as the wrapped layer: `visit` and `visit_mut`
/// are its own (parameter names unchanged, so weight files and optimizer state carry over),
/// and gradients, Hessians and training steps through it equal the wrapped layer's (up to the
/// rounding of summing a parameter's contributions in another order). Input and output as the
/// wrapped layer's (features × batch).
///
/// Randomness: the block draws from its context's RNG as the wrapped layer would (its first
/// run continues the stream and hands it on; its second run, in the backward pass, replays
/// the same draws), so dropout masks are the wrapped layer's, inside the block and after it
/// (if the block panics, the context's RNG is left where the block started).
///
/// State (a [`BatchNorm`](crate::BatchNorm)'s running statistics inside the block) is the
/// wrapped layer's too: the block's first run proposes its new values, once per forward call,
/// from those already proposed in this pass (a block called twice moves them twice, in
/// order, as the wrapped layer would); the run in the backward pass repeats the forward
/// computation without proposing again.
///
/// Parameter reads are checked as the wrapped layer's: [`train_step`](crate::train_step)'s
/// test for a parameter a layer lists but does not read (or reads as a constant), and for a
/// matrix it reads but does not list, sees what the block's forward pass read.
///
/// Casting ([`Cast`], also inside a [`Chain`](crate::Chain), and so
/// [`hessian`](crate::hessian)) gives the wrapped layer's cast, without the checkpoint: the
/// same function, the same dropout masks.
///
/// Each `Checkpoint` owns its layer: a clone is a deep copy (two clones pushed into a chain
/// are two layers with parameters of their own, as two clones of the wrapped layer would be).
/// The layer is shared (an [`Arc`]) only with the recordings that run it again; changing its
/// parameters ([`visit_mut`](Layer::visit_mut), an optimizer step) while one is still alive
/// (a kept `MatPullback`) copies it first, so the recording keeps the old values.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::DMatrix;
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Chain, Checkpoint, Dense, Layer, MatVar, gradient, losses};
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let block = |rng: &mut StdRng| {
///     Chain::<f64>::new()
///         .push(Dense::new(16, 16, Activation::Tanh, rng))
///         .push(Dense::new(16, 16, Activation::Tanh, rng))
/// };
/// let (a, b) = (block(&mut rng), block(&mut rng));
/// let plain = Chain::new().push(a.clone()).push(b.clone());
/// let checkpointed = Chain::new().push(Checkpoint::new(a)).push(Checkpoint::new(b));
/// let x = DMatrix::from_fn(16, 64, |i, j| ((i * 3 + j) as f64).sin()); // features × batch
/// let loss = |m: &Chain<f64>, ctx: &mut _| {
///     losses::mse(m.forward(MatVar::constant(x.clone()), ctx), &DMatrix::zeros(16, 64), losses::Agg::Mean)
/// };
/// let (l0, g0) = gradient(&plain, loss).unwrap();
/// let (l1, g1) = gradient(&checkpointed, loss).unwrap();
/// assert_eq!(l0, l1);
/// let (mut v0, mut v1) = (Vec::new(), Vec::new());
/// g0.visit("", &mut |name, p| v0.push((name.to_string(), p.clone())));
/// g1.visit("", &mut |name, p| v1.push((name.to_string(), p.clone())));
/// for ((n0, p0), (n1, p1)) in v0.iter().zip(&v1) {
///     assert_eq!(n0, n1); // the same parameter names
///     assert!((p0 - p1).amax() < 1e-15);
/// }
/// ```
#[derive(Debug)]
pub struct Checkpoint<L> {
    inner: Arc<L>,
}

impl<L: Clone> Clone for Checkpoint<L> {
    /// A deep copy: a layer with parameters of its own (sharing them would tie two layers by
    /// address, and a gradient would reach only one of them).
    fn clone(&self) -> Self {
        Self::new(L::clone(&self.inner))
    }
}

impl<L> Checkpoint<L> {
    /// Wraps `inner`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Checkpoint, Dense, Layer};
    /// let dense = Dense::from_parts(dmatrix![2.0], None, Activation::Identity).unwrap();
    /// let wrapped = Checkpoint::new(dense.clone());
    /// assert_eq!(wrapped.predict(&dmatrix![3.0]).unwrap(), dense.predict(&dmatrix![3.0]).unwrap());
    /// ```
    pub fn new(inner: L) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The wrapped layer.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Checkpoint, Dense};
    /// let wrapped = Checkpoint::new(Dense::from_parts(dmatrix![2.0], None, Activation::Identity).unwrap());
    /// assert_eq!(wrapped.inner().weight, dmatrix![2.0]);
    /// ```
    pub fn inner(&self) -> &L {
        &self.inner
    }
}

/// What a block's first run read, proposed and reported, and where it left the RNG.
struct BlockRun<T: MatScalar> {
    /// The addresses of the parameters it read.
    read: Vec<usize>,
    /// Its reads of matrices it does not list.
    unbound: usize,
    /// The state values it proposed (by address).
    state: Vec<(usize, DMatrix<T>)>,
    /// The first error a layer of the block reported.
    error: Option<NnError>,
    /// The RNG after its draws.
    rng: rand::rngs::StdRng,
}

impl<T: MatScalar, L: Layer<T> + Clone + 'static> Layer<T> for Checkpoint<L> {
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        // The block's inputs: `x`, then the wrapped layer's parameters as this pass has them
        // (tracked variables in a gradient, constants otherwise), their reads noted below.
        let mut params = Vec::new();
        self.inner.visit_params(&mut |p| params.push(p));
        let mut inputs = vec![x];
        inputs.extend(params.iter().map(|p| ctx.param_quietly(p)));
        // Each run of the block starts from this RNG state, and from the state values this
        // pass already proposed for the block's layers (a layer run twice in one pass, tied
        // weights or a loss over two batches, moves its running statistics from the first
        // call's; they started from the stored values, and the second call's update replaced
        // the first's: a subagent's hunt). The first run hands back where it ended and what it
        // read.
        let (mode, start) = (ctx.mode(), ctx.rng().clone());
        let mut proposed = Vec::new();
        self.inner.visit_state("", &mut |_, s| {
            if let Some(value) = ctx.proposed_state(s) {
                proposed.push((key(s), value.clone()));
            }
        });
        let first_run: Rc<RefCell<Option<BlockRun<T>>>> = Rc::default();
        let (layer, report) = (Arc::clone(&self.inner), Rc::clone(&first_run));
        let y = matrix::checkpoint(
            move |q| {
                let mut block = Context::with_rng(mode, start.clone());
                for (k, value) in &proposed {
                    block.propose_at(*k, value.clone());
                }
                let mut k = 1;
                layer.visit_params(&mut |p| {
                    block.bind(p, q[k]);
                    k += 1;
                });
                let y = layer.forward(q[0], &mut block);
                let mut report = report.borrow_mut();
                // Only the first run's proposals count: the second, in the backward pass,
                // repeats them (a running statistic must move once per step).
                if report.is_none() {
                    let (read, unbound) = block.reads();
                    let (state, error) = block.take_outcome();
                    *report = Some(BlockRun {
                        read,
                        unbound,
                        state,
                        error,
                        rng: block.into_rng(),
                    });
                }
                y
            },
            &inputs,
        );
        if let Some(run) = first_run.borrow_mut().take() {
            *ctx.rng() = run.rng;
            for p in &params {
                if run.read.contains(&key(p)) {
                    ctx.note_read(p);
                }
            }
            ctx.note_unbound_reads(run.unbound);
            for (k, value) in run.state {
                ctx.propose_at(k, value);
            }
            if let Some(error) = run.error {
                ctx.fail(error);
            }
        }
        y
    }

    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        self.inner.visit(prefix, f);
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        Arc::make_mut(&mut self.inner).visit_mut(f);
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&'a DMatrix<T>)) {
        self.inner.visit_params(f);
    }

    fn visit_state<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        self.inner.visit_state(prefix, f);
    }

    fn visit_state_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        Arc::make_mut(&mut self.inner).visit_state_mut(f);
    }

    fn input_size(&self) -> Option<usize> {
        self.inner.input_size()
    }

    fn preserves_size(&self) -> bool {
        self.inner.preserves_size()
    }

    fn output_size(&self) -> Option<usize> {
        self.inner.output_size()
    }

    fn output_size_for(&self, input: usize) -> Result<Option<usize>, NnError> {
        self.inner.output_size_for(input)
    }

    fn input_image_shape(&self) -> Option<(usize, usize, usize)> {
        self.inner.input_image_shape()
    }

    fn output_image_shape(&self) -> Option<(usize, usize, usize)> {
        self.inner.output_image_shape()
    }

    fn mask_value(&self) -> Option<f64> {
        self.inner.mask_value()
    }

    fn check_params(&self) -> Result<(), NnError> {
        self.inner.check_params()
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        self.inner.cast_into(slot)
    }
}

/// The wrapped layer cast (see [`Cast`]), without the checkpoint: the same function and
/// parameters, for a model cast to another precision or to dual numbers (a Hessian), where
/// the memory trade was made for the model it wraps.
impl<L: Cast> Cast for Checkpoint<L> {
    type Output<U: MatScalar> = L::Output<U>;

    fn cast<U: MatScalar>(&self) -> Result<L::Output<U>, NnError> {
        self.inner.cast::<U>()
    }
}
