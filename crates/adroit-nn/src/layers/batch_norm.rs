//! [`BatchNorm`]: normalisation of each feature over the batch, with running statistics.

use super::normalise::{check_epsilon, standardise};
use crate::cast::{cast_entry, cast_matrix};
use crate::error::check_shape;
use crate::{Cast, CastSlot, Context, Layer, Mode, NnError};
use adroit_reverse::matrix::{Along, MatScalar, MatVar};
use nalgebra::DMatrix;

/// Batch normalisation (Ioffe & Szegedy 2015) of `x`: `features × batch`, as Flux's
/// `BatchNorm` and PyTorch's `BatchNorm1d` on 2-D input, with their defaults (`momentum` 0.1,
/// `ε` = 1e-5):
///
/// - [`Mode::Train`]: `y = γ ⊙ (x − μ_B)/√(σ²_B + ε) + β`, with the mean `μ_B` and the
///   biased variance `σ²_B` of each feature (row) over the batch (columns), differentiated
///   through; and the running statistics move towards the batch's (proposed with
///   [`Context::update_state`], set by [`train_step`](crate::train_step) when the step
///   succeeds): `running_mean ← (1 − momentum)·running_mean + momentum·μ_B`,
///   `running_var ← (1 − momentum)·running_var + momentum·σ²_B·m/(m − 1)` for a batch of `m`
///   samples (the unbiased variance, as PyTorch and Flux; PyTorch's momentum convention,
///   which is `1 −` Keras's). Once per forward call: a loss that runs the layer on two
///   batches moves them twice, in order, as PyTorch and Flux do. Separate passes (gradient
///   accumulation over micro-batches in a loop of your own, with
///   [`gradient_with_state`](crate::gradient_with_state)) each start from the stored values:
///   apply each pass's [`StateUpdates`](crate::StateUpdates) before the next pass, or only the
///   last one counts. [`gradient`](crate::gradient) and [`gradient_with`](crate::gradient_with)
///   borrow the model and drop the new values: with them (and
///   [`optim::step`](crate::optim::step)) the statistics never move — use
///   [`train_step`](crate::train_step), [`train`](crate::train()) or `gradient_with_state`.
///   The model-shaped gradient `gradient` returns holds copies of the running statistics in
///   those fields (state has no gradient).
/// - [`Mode::Eval`] ([`Layer::predict`], validation): `y = γ ⊙ (x − running_mean)/√(running_var
///   + ε) + β`, each sample on its own.
///
/// `γ` (`scale`, initialised to 1; PyTorch's `weight`) and `β` (`bias`, 0) are trained
/// parameters, `features × 1`; `running_mean` (0) and `running_var` (1), `features × 1`, are
/// state ([`Layer::visit_state`]): saved and loaded with the parameters by [`io`](crate::io)
/// under those names, never seen by optimisers or gradients. From PyTorch: rename `weight`
/// to `scale` and drop `num_batches_tracked` (no counterpart here) before loading; its 1-D
/// buffers and bias load into the `features × 1` matrices. (Loading such a file unchanged
/// with `load_safetensors_partial` would leave `scale` at 1: check its report's `missing`.)
///
/// Training needs at least two samples per batch (the variance of one sample is 0, and the
/// running variance's correction `m/(m − 1)` infinite): a batch of one in [`Mode::Train`] is
/// an [`NnError::InvalidData`] from [`train_step`](crate::train_step) and
/// [`gradient`](crate::gradient) (PyTorch raises the same; drop the last partial batch with
/// [`DataLoader::drop_last`](crate::data::DataLoader::drop_last)). A feature whose squared
/// deviations overflow (a spread above ~1.8e19 in `f32`) is normalised as
/// [`LayerNorm`](crate::LayerNorm) does it, finite, but its running variance would be
/// infinite: the training step stops with [`NnError::NonFinite`] and keeps the last good
/// state.
///
/// # Example
/// ```
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
/// use adroit_nn::optim::Descent;
/// use adroit_nn::{BatchNorm, Layer, train_step};
/// let mut bn = BatchNorm::<f64>::new(2);
/// // 2 features × 4 samples: feature 0 has mean 2.5 and variance 1.25 (unbiased 5/3).
/// let x = dmatrix![1.0, 2.0, 3.0, 4.0; 10.0, 10.0, 10.0, 10.0];
/// let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
/// train_step(&mut bn, &x, &DMatrix::zeros(2, 4), &loss, &mut Descent::new(0.0), 0).unwrap();
/// assert!((bn.running_mean[0] - 0.25).abs() < 1e-15); // 0.9·0 + 0.1·2.5
/// assert!((bn.running_var[0] - (0.9 + 0.1 * 5.0 / 3.0)).abs() < 1e-15);
/// assert!((bn.running_mean[1] - 1.0).abs() < 1e-15 && (bn.running_var[1] - 0.9).abs() < 1e-15);
/// // Evaluation normalises with the running statistics.
/// let y = bn.predict(&dmatrix![0.25; 1.0]).unwrap();
/// assert!(y.abs().max() < 1e-15);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct BatchNorm<T> {
    /// `γ`, `features × 1`.
    pub scale: DMatrix<T>,
    /// `β`, `features × 1`.
    pub bias: DMatrix<T>,
    /// The running mean of each feature, `features × 1` (state, not trained).
    pub running_mean: DMatrix<T>,
    /// The running (unbiased) variance of each feature, `features × 1` (state, not trained).
    pub running_var: DMatrix<T>,
    /// The weight of a batch's statistics in the running ones, in `[0, 1]` (0.1).
    pub momentum: T,
    /// `ε`, added to the variance (1e-5).
    pub epsilon: T,
}

impl<T: MatScalar> BatchNorm<T> {
    /// Normalisation of `features` with `γ = 1`, `β = 0`, running mean 0 and variance 1,
    /// `momentum` 0.1 and `ε` = 1e-5 (PyTorch's and Flux's defaults).
    ///
    /// # Panics
    /// If `features` entries of `T` are more bytes than an allocation can hold
    /// (`isize::MAX`).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{BatchNorm, Layer};
    /// let bn = BatchNorm::<f64>::new(2);
    /// assert_eq!((bn.momentum, bn.epsilon), (0.1, 1e-5));
    /// // Before any training step, evaluation divides by √(1 + ε) only.
    /// let y = bn.predict(&dmatrix![2.0; -1.0]).unwrap();
    /// assert!((y[0] - 2.0 / (1.0 + 1e-5f64).sqrt()).abs() < 1e-15);
    /// ```
    #[track_caller]
    pub fn new(features: usize) -> Self {
        crate::init::check_size::<T>("BatchNorm::new", features, 1);
        Self {
            scale: DMatrix::from_element(features, 1, T::one()),
            bias: DMatrix::zeros(features, 1),
            running_mean: DMatrix::zeros(features, 1),
            running_var: DMatrix::from_element(features, 1, T::one()),
            momentum: T::from_f64(0.1).unwrap_or_else(T::zero),
            epsilon: T::from_f64(1e-5).unwrap_or_else(T::zero),
        }
    }

    /// The same layer with another `momentum`.
    ///
    /// # Panics
    /// If `momentum` is not in `[0, 1]` (a programmer error; a field set by hand out of range
    /// is an [`NnError::InvalidConfig`] from [`Layer::check_params`] instead).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::BatchNorm;
    /// assert_eq!(BatchNorm::<f64>::new(3).with_momentum(0.01).momentum, 0.01);
    /// ```
    #[track_caller]
    pub fn with_momentum(mut self, momentum: T) -> Self {
        assert!(
            momentum >= T::zero() && momentum <= T::one(),
            "BatchNorm: momentum {momentum:?} is not in [0, 1]"
        );
        self.momentum = momentum;
        self
    }

    /// The running statistics moved towards a batch's mean and biased variance (`m` samples),
    /// from the values this pass already proposed, if any (a layer run twice in one pass moves
    /// them twice, as PyTorch's and Flux's do), else the stored ones.
    fn proposed(
        &self,
        ctx: &Context<T>,
        mean: &DMatrix<T>,
        var: &DMatrix<T>,
        m: usize,
    ) -> [DMatrix<T>; 2] {
        let keep = T::one() - self.momentum;
        let m = T::from_usize(m).unwrap_or_else(T::one);
        let unbiased = m / (m - T::one());
        let current = |state: &DMatrix<T>| ctx.proposed_state(state).unwrap_or(state).clone();
        let mean = current(&self.running_mean).zip_map(mean, |r, b| keep * r + self.momentum * b);
        let var = current(&self.running_var)
            .zip_map(var, |r, b| keep * r + self.momentum * (b * unbiased));
        [mean, var]
    }
}

impl<T: MatScalar> Layer<T> for BatchNorm<T> {
    /// See [`BatchNorm`]; `x`: `features × batch`.
    ///
    /// # Panics
    /// If `x` does not have `features` rows, or `scale` is not a column of which `bias`,
    /// `running_mean` and `running_var` have the shape ([`Layer::predict`] and
    /// [`train`](crate::train()) report these as errors first, as for
    /// [`LayerNorm`](crate::LayerNorm)).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        let features = self.scale.nrows();
        assert!(
            self.scale.ncols() == 1,
            "BatchNorm: the scale is {}×{}, not a column ({features}×1)",
            self.scale.nrows(),
            self.scale.ncols()
        );
        for (name, m) in [
            ("bias", &self.bias),
            ("running_mean", &self.running_mean),
            ("running_var", &self.running_var),
        ] {
            assert!(
                m.shape() == self.scale.shape(),
                "BatchNorm: the {name} is {}×{}, not {features}×1 (the scale's shape)",
                m.nrows(),
                m.ncols()
            );
        }
        assert!(
            x.nrows() == features,
            "BatchNorm: the input has {} rows (features) but the layer normalises {features} \
             (its scale is {features}×1)",
            x.nrows()
        );
        let normalised = match ctx.mode() {
            Mode::Train => {
                let m = x.ncols();
                let batch = standardise(x, Along::Cols, self.epsilon);
                if m < 2 {
                    ctx.fail(NnError::InvalidData {
                        what: format!(
                            "BatchNorm in training needs at least 2 samples per batch, got {m} \
                             (a batch's variance needs two; drop the last partial batch, or \
                             use LayerNorm)"
                        ),
                    });
                } else {
                    let [mean, var] = self.proposed(ctx, &batch.mean, &batch.var, m);
                    ctx.update_state(&self.running_mean, mean);
                    ctx.update_state(&self.running_var, var);
                }
                batch.output
            }
            Mode::Eval => {
                let inv_std = self
                    .running_var
                    .map(|v| T::one() / num_traits::Float::sqrt(v + self.epsilon));
                (x - MatVar::constant(self.running_mean.clone()))
                    .component_mul(MatVar::constant(inv_std))
            }
        };
        normalised.component_mul(ctx.param(&self.scale)) + ctx.param(&self.bias)
    }

    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        f(&format!("{prefix}scale"), &self.scale);
        f(&format!("{prefix}bias"), &self.bias);
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        f(&mut self.scale);
        f(&mut self.bias);
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&'a DMatrix<T>)) {
        f(&self.scale);
        f(&self.bias);
    }

    fn visit_state<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        f(&format!("{prefix}running_mean"), &self.running_mean);
        f(&format!("{prefix}running_var"), &self.running_var);
    }

    fn visit_state_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        f(&mut self.running_mean);
        f(&mut self.running_var);
    }

    /// `scale`, `bias`, `running_mean` and `running_var` must all be `features × 1`, the
    /// running variance must not be negative, `momentum` must be in `[0, 1]` and `ε` finite
    /// and not negative.
    fn check_params(&self) -> Result<(), NnError> {
        let features = (self.scale.nrows(), 1);
        check_shape("BatchNorm scale", features, self.scale.shape())?;
        check_shape("BatchNorm bias", features, self.bias.shape())?;
        check_shape(
            "BatchNorm running_mean",
            features,
            self.running_mean.shape(),
        )?;
        check_shape("BatchNorm running_var", features, self.running_var.shape())?;
        let invalid = |name, reason: String| Err(NnError::InvalidConfig { name, reason });
        if !(self.momentum >= T::zero() && self.momentum <= T::one()) {
            return invalid(
                "BatchNorm momentum",
                format!("{:?} is not in [0, 1]", self.momentum),
            );
        }
        check_epsilon("BatchNorm epsilon", self.epsilon)?;
        if let Some(i) = self.running_var.iter().position(|&v| v < T::zero()) {
            return invalid(
                "BatchNorm running_var",
                format!(
                    "entry {i} is {:?}, a variance cannot be negative",
                    self.running_var[i]
                ),
            );
        }
        Ok(())
    }

    fn input_size(&self) -> Option<usize> {
        Some(self.scale.nrows())
    }

    fn preserves_size(&self) -> bool {
        true
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// Parameters, running statistics, `momentum` and `ε` converted (see [`Cast`]).
impl<T: MatScalar> Cast for BatchNorm<T> {
    type Output<U: MatScalar> = BatchNorm<U>;

    fn cast<U: MatScalar>(&self) -> Result<BatchNorm<U>, NnError> {
        Ok(BatchNorm {
            scale: cast_matrix(&self.scale),
            bias: cast_matrix(&self.bias),
            running_mean: cast_matrix(&self.running_mean),
            running_var: cast_matrix(&self.running_var),
            momentum: cast_entry(self.momentum),
            epsilon: cast_entry(self.epsilon),
        })
    }
}
