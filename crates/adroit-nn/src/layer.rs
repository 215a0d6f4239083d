//! The [`Layer`] trait and the [`Context`] a forward pass runs in.

use crate::NnError;
use adroit_reverse::matrix::{self, MatScalar, MatVar};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Whether a forward pass is for training (dropout active) or evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Training: stochastic layers (dropout) are active.
    Train,
    /// Evaluation: stochastic layers are the identity.
    Eval,
}

/// A building block of a model: a differentiable map of a `features × batch` matrix (one
/// sample per column, as Flux) with named parameters.
///
/// Implement it to write your own layer: `forward` uses [`Context::param`] to read each
/// parameter (so gradients reach it), and `visit`/`visit_mut` list the parameters in one fixed
/// order.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra;
/// use adroit_nn::{Context, Layer};
/// use adroit_nn::adroit_reverse::matrix::MatVar;
/// use adroit_nn::nalgebra::DMatrix;
///
/// /// y = s ⊙ x with a learned per-feature scale s.
/// #[derive(Clone)]
/// struct Scale { s: DMatrix<f64> }
///
/// impl Layer<f64> for Scale {
///     fn forward(&self, x: MatVar<f64>, ctx: &mut Context<f64>) -> MatVar<f64> {
///         x.component_mul(ctx.param(&self.s))
///     }
///     fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<f64>)) {
///         f(&format!("{prefix}s"), &self.s);
///     }
///     fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<f64>)) {
///         f(&mut self.s);
///     }
/// }
///
/// let layer = Scale { s: DMatrix::from_element(2, 1, 3.0) };
/// let (loss, grad) = adroit_nn::gradient(&layer, |m, ctx| {
///     Ok(m.forward(MatVar::constant(nalgebra::dmatrix![1.0; 2.0]), ctx).sum())
/// }).unwrap();
/// assert_eq!((loss, grad.s), (9.0, nalgebra::dmatrix![1.0; 2.0]));
/// ```
pub trait Layer<T: MatScalar> {
    /// The output for input `x` (`features × batch`).
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T>;

    /// Calls `f(name, parameter)` for every parameter, in a fixed order; names are prefixed
    /// with `prefix` (e.g. `layers.0.weight`).
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>));

    /// Calls `f` on every parameter mutably, in the same order as [`visit`](Self::visit).
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>));

    /// Calls `f` on every parameter, in the same order as [`visit`](Self::visit), without
    /// building names (what every training step uses). The default goes through `visit`; the
    /// layers of this crate override it so that no name is formatted.
    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&'a DMatrix<T>)) {
        self.visit("", &mut |_, p| f(p));
    }

    /// The number of input features, when the layer fixes it (used to validate data).
    fn input_size(&self) -> Option<usize> {
        None
    }

    /// True when the output always has the input's number of features (dropout,
    /// normalisation, element-wise activations), so that a [`Chain`](crate::Chain) starting
    /// with such layers takes its input size from the first layer that fixes one. The default,
    /// `false`, is the safe answer for a layer that does not say.
    fn preserves_size(&self) -> bool {
        false
    }

    /// The output for a plain `features × batch` matrix, in [`Mode::Eval`].
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] if `x` does not have [`input_size`](Self::input_size) rows.
    fn predict(&self, x: &DMatrix<T>) -> Result<DMatrix<T>, NnError> {
        check_input(self.input_size(), x)?;
        let (y, _) = matrix::pullback(
            |_| {
                self.forward(
                    MatVar::constant(x.clone()),
                    &mut Context::new(Mode::Eval, 0),
                )
            },
            &[],
        );
        Ok(y)
    }
}

/// Checks that `x` has `expected` rows (features), if the model fixes them.
pub(crate) fn check_input<T>(expected: Option<usize>, x: &DMatrix<T>) -> Result<(), NnError> {
    match expected {
        Some(n) if n != x.nrows() => Err(NnError::ShapeMismatch {
            what: "model input (features × batch)".to_string(),
            expected: (n, x.ncols()),
            found: x.shape(),
        }),
        _ => Ok(()),
    }
}

/// The state of one forward pass: the recorded variable of each parameter, the [`Mode`] and
/// the random-number generator of stochastic layers.
pub struct Context<T: MatScalar> {
    /// Parameter addresses and their variables (a short list: a linear scan beats hashing).
    bindings: Vec<(usize, MatVar<T>)>,
    mode: Mode,
    rng: StdRng,
}

impl<T: MatScalar> Context<T> {
    /// A context in `mode` with no bound parameters (they are read as constants) and a
    /// dropout RNG seeded with `seed`.
    pub fn new(mode: Mode, seed: u64) -> Self {
        Self {
            bindings: Vec::new(),
            mode,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// Makes `param` read as `var` in this pass (how gradients reach parameters).
    pub fn bind(&mut self, param: &DMatrix<T>, var: MatVar<T>) {
        let k = key(param);
        match self.bindings.iter_mut().find(|(p, _)| *p == k) {
            Some(binding) => binding.1 = var,
            None => self.bindings.push((k, var)),
        }
    }

    /// The variable of a parameter: the bound one during a gradient computation, else a
    /// constant copy.
    pub fn param(&self, param: &DMatrix<T>) -> MatVar<T> {
        let k = key(param);
        self.bindings
            .iter()
            .find(|(p, _)| *p == k)
            .map_or_else(|| MatVar::constant(param.clone()), |(_, var)| *var)
    }

    /// Training or evaluation.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The random-number generator of stochastic layers.
    pub fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }
}

/// A parameter's identity: its address (stable while the model is borrowed).
pub(crate) fn key<T>(param: &DMatrix<T>) -> usize {
    param as *const DMatrix<T> as usize
}
