//! [`Validation`]: the loss on held-out data after every epoch (Keras's `validation_data`).

use super::{Callback, Control, EpochMetrics};
use crate::layer::check_data;
use crate::{Context, Layer, Mode, NnError};
use adroit_reverse::matrix::{self, MatScalar, MatVar};
use nalgebra::DMatrix;

/// A callback that evaluates `loss(model(x), y)` on held-out data after every epoch, in
/// [`Mode::Eval`] (no dropout), and adds it to the epoch's metrics as `val_loss` (or the name
/// given to [`named`](Self::named)) — Keras's `fit(validation_data=…)`. Put it first in the
/// callback list, so that [`EarlyStopping`](super::EarlyStopping) and
/// [`KeepBest`](super::KeepBest) can monitor it (`.monitor("val_loss", false)`): unlike the
/// training loss, which is measured while the epoch's steps move the parameters, it scores
/// the model as it is at the end of the epoch.
///
/// `x`: features × samples, `y`: the targets' rows × samples (the layout of
/// [`DataLoader`](crate::data::DataLoader)). `loss` is one of [`crate::losses`] (or any
/// function returning a 1 × 1 loss), usually the training loss. The held-out set is evaluated
/// in batches of [`batch_size`](Self::batch_size) samples (all of it at once by default) and
/// the batches' losses are averaged weighted by their sample counts, as the training loss of
/// an epoch is (Keras's `validation_batch_size`): with a mean-aggregated loss the metric is
/// the mean loss per sample whatever the batch size; with [`Agg::Sum`](crate::losses::Agg)
/// it is the sum over one batch, so give it the training batch size to compare it with the
/// training loss. The metric is the loss as `f64`; a NaN or infinite loss is recorded as it
/// is (never an improvement for `EarlyStopping` or `KeepBest`). Other held-out metrics (e.g.
/// accuracy) are a closure callback away, as in the [`Callback`] example.
///
/// # Example
/// ```
/// use adroit_nn::data::DataLoader;
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
/// use adroit_nn::optim::Descent;
/// use adroit_nn::{Activation, Dense, EarlyStopping, TrainConfig, Validation, train};
/// // Learn y = 2x on x = 0…3; hold out x = 4 and 5.
/// let x = DMatrix::from_fn(1, 4, |_, j| j as f64);
/// let (x_val, y_val) = (dmatrix![4.0, 5.0], dmatrix![8.0, 10.0]);
/// let mut model = Dense::from_parts(dmatrix![0.0], None, Activation::Identity).unwrap();
/// let mut loader = DataLoader::new(x.clone(), x.map(|v| 2.0 * v), 4).unwrap();
/// let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
/// let mut validation = Validation::new(&model, x_val, y_val, loss).unwrap();
/// let mut stop = EarlyStopping::new(2, 0.0).monitor("val_loss", false);
/// let config = TrainConfig { epochs: 5, ..TrainConfig::default() };
/// let history = train(
///     &mut model, &mut loader, loss, &mut Descent::new(0.1), &config,
///     &mut [&mut validation, &mut stop],
/// )
/// .unwrap();
/// // After epoch 0 the weight is 2 − 2·0.3 = 1.4: the held-out loss is mean((0.6·x)²) = 7.38.
/// assert!((history.epochs[0].get("val_loss").unwrap() - 7.38).abs() < 1e-12);
/// // The model keeps improving on the held-out data, so early stopping never stops it.
/// assert!(!history.stopped_early && history.epochs.len() == 5);
/// ```
#[derive(Clone)]
pub struct Validation<T: MatScalar, L> {
    x: DMatrix<T>,
    y: DMatrix<T>,
    loss: L,
    name: String,
    batch_size: Option<usize>,
}

impl<T, L> Validation<T, L>
where
    T: MatScalar,
    L: Fn(MatVar<T>, &DMatrix<T>) -> Result<MatVar<T>, NnError>,
{
    /// Held-out inputs `x` (features × samples) and targets `y` (rows × samples), checked
    /// against `model` now — one evaluation — so that a mistake is an error here rather than
    /// after the first epoch's training.
    ///
    /// # Errors
    /// [`NnError::EmptyData`] for no samples; [`NnError::InvalidData`] if `x` or `y` holds a
    /// NaN or infinite entry (naming the first: every held-out loss would be NaN, silently);
    /// [`NnError::ShapeMismatch`] if `x` and `y` have different sample counts, `x` does not
    /// have the model's input features, or the loss refuses the model's output for `y` (the
    /// loss's own error, naming both shapes); the error of the model's
    /// [`check_params`](crate::Layer::check_params) ([`NnError::InvalidConfig`] for layers that
    /// do not fit together or an activation parameter out of range).
    ///
    /// # Panics
    /// If `loss` returns a matrix that is not 1 × 1 (a programmer error, as in
    /// [`train`](crate::train)); if the model does not state its
    /// [`input_size`](Layer::input_size) and its forward pass panics on `x` (as
    /// [`predict`](Layer::predict) would).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::losses::{Agg, mse};
    /// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
    /// use adroit_nn::{Activation, Dense, NnError, Validation};
    /// let model = Dense::from_parts(dmatrix![1.0, 1.0], None, Activation::Identity).unwrap();
    /// let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    /// // Three held-out samples of 2 features, but targets for two samples:
    /// let err = Validation::new(&model, DMatrix::zeros(2, 3), DMatrix::zeros(1, 2), loss);
    /// assert!(matches!(err, Err(NnError::ShapeMismatch { .. })));
    /// // A sample of 3 features for a model of 2:
    /// let err = Validation::new(&model, DMatrix::zeros(3, 2), DMatrix::zeros(1, 2), loss);
    /// assert!(matches!(err, Err(NnError::ShapeMismatch { .. })));
    /// ```
    pub fn new<M: Layer<T>>(
        model: &M,
        x: DMatrix<T>,
        y: DMatrix<T>,
        loss: L,
    ) -> Result<Self, NnError> {
        if x.ncols() == 0 {
            return Err(NnError::EmptyData {
                what: "the validation data (no samples)".into(),
            });
        }
        if x.ncols() != y.ncols() {
            return Err(NnError::ShapeMismatch {
                what: "validation data: targets for the inputs' samples (columns)".into(),
                expected: (y.nrows(), x.ncols()),
                found: y.shape(),
            });
        }
        crate::data::check_finite_entries(&[
            ("validation inputs", &x),
            ("validation targets", &y),
        ])?;
        let validation = Self {
            x,
            y,
            loss,
            name: "val_loss".into(),
            batch_size: None,
        };
        validation.evaluate(model)?;
        Ok(validation)
    }

    /// Records the metric under `name` instead of `val_loss`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::losses::{Agg, mae};
    /// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
    /// use adroit_nn::{Activation, Callback, Control, Dense, EpochMetrics, Validation};
    /// let model = Dense::from_parts(dmatrix![2.0], None, Activation::Identity).unwrap();
    /// let loss = |p, t: &DMatrix<f64>| mae(p, t, Agg::Mean);
    /// let mut val = Validation::new(&model, dmatrix![1.0, 2.0], dmatrix![1.0, 1.0], loss)
    ///     .unwrap()
    ///     .named("val_mae");
    /// let mut metrics = EpochMetrics { epoch: 0, loss: 0.0, extra: vec![] };
    /// assert_eq!(val.on_epoch_end(&model, &mut metrics), Control::Continue);
    /// assert_eq!(metrics.get("val_mae"), Some(2.0)); // mean(|2 − 1|, |4 − 1|)
    /// ```
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// Evaluates the held-out set in batches of `batch_size` samples (the last may be
    /// smaller), averaging their losses weighted by sample count — for a held-out set too
    /// large to evaluate at once, or to put a summed loss on the training loss's scale.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] (`"batch size"`) if `batch_size` is 0 (as
    /// [`DataLoader::new`](crate::data::DataLoader::new)).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::losses::{Agg, mse};
    /// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
    /// use adroit_nn::{Activation, Dense, Validation};
    /// let model = Dense::from_parts(dmatrix![1.0], None, Activation::Identity).unwrap();
    /// let (x, y) = (dmatrix![1.0, 2.0, 3.0], dmatrix![0.0, 0.0, 0.0]);
    /// // Summed squared errors 1 + 4 | 9 in batches of 2: (2·5 + 1·9) / 3.
    /// let sum = |p, t: &DMatrix<f64>| mse(p, t, Agg::Sum);
    /// let val = Validation::new(&model, x.clone(), y.clone(), sum).unwrap().batch_size(2).unwrap();
    /// assert_eq!(val.evaluate(&model).unwrap(), 19.0 / 3.0);
    /// // A mean loss gives the mean per sample, 14 / 3, whatever the batch size.
    /// let mean = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    /// let val = Validation::new(&model, x, y, mean).unwrap().batch_size(2).unwrap();
    /// assert!((val.evaluate(&model).unwrap() - 14.0 / 3.0).abs() < 1e-15);
    /// ```
    pub fn batch_size(mut self, batch_size: usize) -> Result<Self, NnError> {
        if batch_size == 0 {
            return Err(NnError::InvalidConfig {
                name: "batch size",
                reason: "must be at least 1 (Validation::batch_size)".into(),
            });
        }
        self.batch_size = Some(batch_size);
        Ok(self)
    }

    /// The loss of `model` on the held-out data, in [`Mode::Eval`].
    ///
    /// # Errors
    /// As [`new`](Self::new): [`NnError::ShapeMismatch`] if the model does not take the
    /// held-out inputs or the loss refuses its output for the targets; the model's
    /// [`check_params`](crate::Layer::check_params) error; the first error a layer reported
    /// with [`Context::fail`].
    ///
    /// # Panics
    /// If `loss` returns a matrix that is not 1 × 1.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::losses::{Agg, mse};
    /// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
    /// use adroit_nn::{Activation, Dense, Validation};
    /// let model = Dense::from_parts(dmatrix![3.0], None, Activation::Identity).unwrap();
    /// let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    /// let val = Validation::new(&model, dmatrix![1.0, 2.0], dmatrix![2.0, 4.0], loss).unwrap();
    /// assert_eq!(val.evaluate(&model).unwrap(), 2.5); // mean((3 − 2)², (6 − 4)²)
    /// ```
    pub fn evaluate<M: Layer<T>>(&self, model: &M) -> Result<f64, NnError> {
        model.check_params()?;
        check_data(model, &self.x)?;
        let samples = self.x.ncols();
        let size = self.batch_size.unwrap_or(samples).min(samples);
        let mut total = super::SampleMean::over(samples);
        for start in (0..samples).step_by(size) {
            let n = size.min(samples - start);
            // The whole set is read in place; a batch of it is copied.
            let batch;
            let (x, y) = if n == samples {
                (&self.x, &self.y)
            } else {
                batch = (
                    self.x.columns(start, n).into_owned(),
                    self.y.columns(start, n).into_owned(),
                );
                (&batch.0, &batch.1)
            };
            // Weighted by its samples (as the training loss of an epoch).
            total.add(self.batch_loss(model, x, y)?, n);
        }
        Ok(total.mean())
    }

    /// The loss of one batch, in [`Mode::Eval`]: the model's output, then the loss at it
    /// ([`losses::evaluate`](crate::losses::evaluate)); a layer's reported error first.
    fn batch_loss<M: Layer<T>>(
        &self,
        model: &M,
        x: &DMatrix<T>,
        y: &DMatrix<T>,
    ) -> Result<f64, NnError> {
        let mut ctx = Context::new(Mode::Eval, 0);
        let prediction = matrix::evaluate(|m| model.forward(m[0], &mut ctx), &[x]);
        if let Some(e) = ctx.take_outcome().1 {
            return Err(e);
        }
        let value = crate::losses::evaluate(&self.loss, &prediction, y)?;
        Ok(value.to_f64().unwrap_or(f64::NAN))
    }

    /// Panics (a programmer error) naming `e`: the model given to `train` is not the one
    /// checked in `new`.
    #[track_caller]
    fn misfit(e: &NnError) -> ! {
        panic!(
            "Validation: the model does not fit the held-out data it was checked against in \
             `Validation::new` (was another model trained?): {e}"
        )
    }
}

/// Shows the metric's name and the held-out data's shapes (the loss, often a closure, has no
/// `Debug`).
impl<T: MatScalar, L> std::fmt::Debug for Validation<T, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validation")
            .field("name", &self.name)
            .field("x", &self.x.shape())
            .field("y", &self.y.shape())
            .finish_non_exhaustive()
    }
}

impl<T, L, M> Callback<T, M> for Validation<T, L>
where
    T: MatScalar,
    L: Fn(MatVar<T>, &DMatrix<T>) -> Result<MatVar<T>, NnError>,
    M: Layer<T>,
{
    /// Refuses an epoch whose metrics already hold one of this name (two `Validation`s left
    /// at `val_loss`: the second would be hidden): [`NnError::InvalidConfig`] (`"metric
    /// names"`), which [`train`](crate::train) stops with at the end of the first epoch.
    fn check_metrics(&self, metrics: &EpochMetrics) -> Result<(), NnError> {
        if metrics.get(&self.name).is_none() {
            return Ok(());
        }
        Err(NnError::InvalidConfig {
            name: "metric names",
            reason: format!(
                "Validation: the epoch's metrics already hold {:?} (give each Validation its \
                 own name with `named`)",
                self.name
            ),
        })
    }

    /// Adds the held-out loss to `metrics`.
    ///
    /// # Panics
    /// If the model no longer fits the data it was checked against in
    /// [`new`](Validation::new), naming the error; if `metrics` already holds a metric of
    /// this name (called by hand: [`train`](crate::train) reports it as an error first, see
    /// [`check_metrics`](Callback::check_metrics)).
    fn on_epoch_end(&mut self, model: &M, metrics: &mut EpochMetrics) -> Control {
        if let Err(e) = Callback::<T, M>::check_metrics(self, metrics) {
            panic!("{e}");
        }
        match self.evaluate(model) {
            Ok(value) => metrics.extra.push((self.name.clone(), value)),
            Err(e) => Self::misfit(&e),
        }
        Control::Continue
    }

    /// Checks, before any step, that the model [`train`](crate::train) was given fits the
    /// held-out data.
    ///
    /// # Panics
    /// If it does not (another model than the one checked in [`new`](Validation::new)),
    /// naming the error — before the first epoch's training rather than after it.
    fn on_train_begin(&mut self, model: &M) {
        if let Err(e) = self.evaluate(model) {
            Self::misfit(&e);
        }
    }
}
