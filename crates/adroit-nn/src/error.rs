//! [`NnError`]: everything a user or a data file can get wrong.

use std::fmt;

/// An error of `adroit-nn`: shapes that come from data, invalid configurations, files, and a
/// training step or optimiser step refused because a loss, gradient or updated parameter was
/// not finite.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
/// use adroit_nn::{Activation, Dense, Layer, NnError};
/// // A layer of 2 inputs and 1 output.
/// let layer = Dense::from_parts(dmatrix![1.0, 2.0], None, Activation::Identity).unwrap();
/// // Data of 3 features × 4 samples for a layer that takes 2 features:
/// let err = layer.predict(&DMatrix::zeros(3, 4)).unwrap_err();
/// assert!(matches!(err, NnError::ShapeMismatch { expected: (2, 4), found: (3, 4), .. }));
/// assert!(err.to_string().contains("expected 2×4, found 3×4"));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum NnError {
    /// Two arrays that must agree do not: `what` names them.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::adroit_reverse::matrix::MatVar;
    /// use adroit_nn::losses::{Agg, mse};
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Dense, Layer, NnError, gradient};
    /// let layer = Dense::from_parts(dmatrix![1.0, 2.0], None, Activation::Identity).unwrap();
    /// let x = dmatrix![1.0; 1.0];
    /// let target = dmatrix![0.0; 0.0]; // 2 × 1 for a layer of 1 output: one row too many
    /// let result = gradient(&layer, |m, ctx| {
    ///     mse(m.forward(MatVar::constant(x.clone()), ctx), &target, Agg::Mean)
    /// });
    /// match result {
    ///     Err(NnError::ShapeMismatch { expected, found, .. }) => {
    ///         assert_eq!((expected, found), ((2, 1), (1, 1))) // the target's, the prediction's
    ///     }
    ///     _ => panic!("mse accepted a 1 × 1 prediction for a 2 × 1 target"),
    /// }
    /// ```
    ShapeMismatch {
        /// What was being done (e.g. `"mse: prediction and target shapes must agree (expected: the target's, found: the prediction's)"`).
        what: String,
        /// The expected shape (rows, columns).
        expected: (usize, usize),
        /// The shape found.
        found: (usize, usize),
    },
    /// A configuration value is out of its valid range.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::NnError;
    /// use adroit_nn::data::DataLoader;
    /// use adroit_nn::nalgebra::DMatrix;
    /// let (x, y) = (DMatrix::<f64>::zeros(2, 8), DMatrix::zeros(1, 8));
    /// let err = DataLoader::new(x, y, 0).unwrap_err(); // batches of 0 samples
    /// assert!(matches!(err, NnError::InvalidConfig { name: "batch size", .. }));
    /// ```
    InvalidConfig {
        /// The parameter.
        name: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// There is no data where some is needed (an empty dataset or split).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::NnError;
    /// let err = adroit_nn::data::accuracy(&[], &[]).unwrap_err();
    /// assert!(matches!(err, NnError::EmptyData { .. }));
    /// ```
    EmptyData {
        /// What was empty.
        what: String,
    },
    /// Data holds a value it cannot (an infinity where statistics are learnt, a NaN or
    /// infinity in validation data or in a loader asked to
    /// [`check_finite`](crate::data::DataLoader::check_finite), or a weight file's `F64` value
    /// beyond an `f32` model's range).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::NnError;
    /// use adroit_nn::data::Standardizer;
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// let err = Standardizer::fit(&dmatrix![1.0, f64::INFINITY, 3.0]).unwrap_err();
    /// assert!(matches!(err, NnError::InvalidData { .. }));
    /// assert_eq!(err.to_string(), "invalid data: Standardizer::fit input, feature 0, sample 1 is inf");
    /// ```
    InvalidData {
        /// What is wrong, and where.
        what: String,
    },
    /// A weight file could not be read or written.
    Io {
        /// The file.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// A weight file is not valid safetensors (truncated, corrupted header, bad offsets).
    InvalidFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A weight file lacks a parameter of the model (strict loading). Like PyTorch's
    /// `load_state_dict` error, it lists every missing parameter and every tensor of the file
    /// the model has no parameter for, so a file of another architecture is diagnosed at once.
    MissingTensor {
        /// The file.
        path: String,
        /// The missing parameters, in the model's order (e.g. `layers.0.weight`); never empty.
        names: Vec<String>,
        /// The file's tensors without a parameter, sorted.
        unexpected: Vec<String>,
    },
    /// A weight file holds tensors the model has no parameter for (loading is strict, as
    /// PyTorch's `load_state_dict` by default: a file of another architecture is refused
    /// rather than partly loaded).
    UnexpectedTensors {
        /// The file.
        path: String,
        /// The tensors without a parameter, sorted.
        names: Vec<String>,
    },
    /// A tensor of a weight file has an element type that does not load into a float model
    /// (neither `F32` nor `F64`, which convert into each other).
    DtypeMismatch {
        /// The parameter name.
        name: String,
        /// The model's type (`F32` or `F64`), and the other float type it converts from.
        expected: String,
        /// The file's type.
        found: String,
    },
    /// A tensor of a weight file has another shape than the model's parameter.
    TensorShapeMismatch {
        /// The parameter name.
        name: String,
        /// The model's shape.
        expected: Vec<usize>,
        /// The file's shape.
        found: Vec<usize>,
    },
    /// A weight file is of another architecture than the model, in more than one way: several
    /// tensors of other shapes than their parameters, or such a tensor together with missing
    /// parameters or unexpected tensors (strict loading). As PyTorch's `load_state_dict`
    /// error, it lists every problem at once (one shape mismatch alone is a
    /// [`TensorShapeMismatch`](NnError::TensorShapeMismatch), missing or unexpected tensors
    /// alone a [`MissingTensor`](NnError::MissingTensor) or
    /// [`UnexpectedTensors`](NnError::UnexpectedTensors)).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{self, SeedableRng};
    /// use adroit_nn::{Activation, Chain, Dense, NnError, io};
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let file = format!("adroit-doc-architecture-{}.safetensors", std::process::id());
    /// let path = std::env::temp_dir().join(file);
    /// let saved = Chain::<f32>::new().push(Dense::new(2, 8, Activation::Relu, &mut rng));
    /// io::save_safetensors(&saved, &path).unwrap();
    /// // Another first layer (2 → 16) and a second layer the file does not have:
    /// let mut model = Chain::<f32>::new()
    ///     .push(Dense::new(2, 16, Activation::Relu, &mut rng))
    ///     .push(Dense::new(16, 1, Activation::Identity, &mut rng));
    /// let err = io::load_safetensors(&mut model, &path).unwrap_err();
    /// std::fs::remove_file(&path).unwrap();
    /// let NnError::ArchitectureMismatch { shapes, missing, unexpected, .. } = &err else {
    ///     panic!("{err}")
    /// };
    /// assert_eq!(shapes[0].name, "layers.0.weight");
    /// assert_eq!((&shapes[0].expected, &shapes[0].found), (&vec![16, 2], &vec![8, 2]));
    /// assert_eq!(shapes[1].name, "layers.0.bias");
    /// assert_eq!(missing[..], ["layers.1.weight", "layers.1.bias"]);
    /// assert!(unexpected.is_empty());
    /// ```
    ArchitectureMismatch {
        /// The file.
        path: String,
        /// The tensors of other shapes than their parameters, in the model's order (boxed
        /// slices, as the two lists below, keep the error small).
        shapes: Box<[TensorShape]>,
        /// The parameters the file has no tensor for, in the model's order (strict loading;
        /// empty when loading partially).
        missing: Box<[String]>,
        /// The file's tensors the model has no parameter for, sorted (strict loading; empty
        /// when loading partially).
        unexpected: Box<[String]>,
    },
    /// The loss, a gradient or an updated parameter became NaN or infinite: the step was
    /// refused (and [`train`](crate::train()) stopped), and the model keeps the parameters from
    /// before this step.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::optim::{Descent, step};
    /// use adroit_nn::{Activation, Dense, NnError};
    /// let mut layer = Dense::from_parts(dmatrix![1.0], None, Activation::Identity).unwrap();
    /// // A model-shaped gradient holding a NaN:
    /// let bad = Dense::from_parts(dmatrix![f64::NAN], None, Activation::Identity).unwrap();
    /// let err = step(&mut Descent::new(0.1), &mut layer, bad).unwrap_err();
    /// let what = "gradient of weight".to_string();
    /// assert_eq!(err, NnError::NonFinite { epoch: 0, batch: 0, what });
    /// assert_eq!(layer.weight, dmatrix![1.0]); // unchanged
    /// // outside `train`, the message does not point at a batch
    /// let text = err.to_string();
    /// assert!(text.starts_with("non-finite gradient of weight at epoch 0, batch 0 of `train`"));
    /// ```
    NonFinite {
        /// The epoch (from 0; numbered as [`EpochMetrics::epoch`](crate::EpochMetrics::epoch);
        /// 0 outside [`train`](crate::train())).
        epoch: usize,
        /// The batch within the epoch (from 0).
        batch: usize,
        /// `"loss"`, `"gradient of <parameter>"` or `"update of <parameter>"` (the update
        /// would overflow the parameter); `train` appends a hint when the batch's data is not
        /// finite (`"loss (the batch's inputs hold 1 NaN or infinite entry)"`).
        what: String,
    },
    /// A model cannot be [`Cast`](crate::Cast) to another element type: it holds a layer
    /// whose [`Layer::cast_into`](crate::Layer::cast_into) leaves its slot empty (a layer of
    /// your own that does not implement [`Cast`](crate::Cast)).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::adroit_reverse::matrix::MatVar;
    /// use adroit_nn::nalgebra::DMatrix;
    /// use adroit_nn::{Activation, Cast, Chain, Context, Layer, NnError};
    /// #[derive(Clone)]
    /// struct Twice; // a layer for f64 only, without `cast_into`
    /// impl Layer<f64> for Twice {
    ///     fn forward(&self, x: MatVar<f64>, _: &mut Context<f64>) -> MatVar<f64> { x * 2.0 }
    ///     fn visit<'a>(&'a self, _: &str, _: &mut dyn FnMut(&str, &'a DMatrix<f64>)) {}
    ///     fn visit_mut(&mut self, _: &mut dyn FnMut(&mut DMatrix<f64>)) {}
    /// }
    /// let inner = Chain::new().push(Activation::Relu).push(Twice);
    /// let model = Chain::new().push(Activation::Tanh).push(inner);
    /// let err = model.cast::<f32>().unwrap_err();
    /// let layer = "layers.1.layers.1".to_string(); // the path, as parameter names
    /// let (layer_type, target) = ("Twice".to_string(), "f32".to_string());
    /// assert_eq!(err, NnError::NotCastable { layer, layer_type, target });
    /// ```
    NotCastable {
        /// The layer's path in the model (`layers.2.layers.0`, as parameter names give it).
        layer: String,
        /// The layer's type (`Twice`).
        layer_type: String,
        /// The element type asked for (`f32`, `Dual<f64>`, …).
        target: String,
    },
}

impl fmt::Display for NnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NnError::ShapeMismatch {
                what,
                expected,
                found,
            } => write!(
                f,
                "shape mismatch in {what}: expected {}×{}, found {}×{}",
                expected.0, expected.1, found.0, found.1
            ),
            NnError::InvalidConfig { name, reason } => write!(f, "invalid {name}: {reason}"),
            NnError::NotCastable {
                layer,
                layer_type,
                target,
            } => write!(
                f,
                "{layer} ({layer_type}) cannot be cast to {target}: implement `Cast` for it and \
                 override `Layer::cast_into` with `slot.fill(self)`"
            ),
            NnError::EmptyData { what } => write!(f, "no data: {what} is empty"),
            NnError::InvalidData { what } => write!(f, "invalid data: {what}"),
            NnError::Io { path, message } => write!(f, "cannot access {path}: {message}"),
            NnError::InvalidFile { path, reason } => {
                write!(f, "{path} is not a valid safetensors file: {reason}")
            }
            NnError::MissingTensor {
                path,
                names,
                unexpected,
            } => {
                write!(f, "{path} has no tensor {}", names.join(", "))?;
                if !unexpected.is_empty() {
                    write!(
                        f,
                        "; it has tensors the model has no parameter for: {}",
                        unexpected.join(", ")
                    )?;
                }
                Ok(())
            }
            NnError::UnexpectedTensors { path, names } => write!(
                f,
                "{path} has tensors the model has no parameter for: {}",
                names.join(", ")
            ),
            NnError::DtypeMismatch {
                name,
                expected,
                found,
            } => {
                write!(
                    f,
                    "tensor {name} has type {found}, the model needs {expected}"
                )
            }
            NnError::TensorShapeMismatch {
                name,
                expected,
                found,
            } => write_shape_mismatch(f, name, expected, found),
            NnError::ArchitectureMismatch {
                path,
                shapes,
                missing,
                unexpected,
            } => {
                write!(f, "{path} is of another architecture than the model")?;
                let mut separator = ": ";
                for shape in shapes {
                    f.write_str(separator)?;
                    write_shape_mismatch(f, &shape.name, &shape.expected, &shape.found)?;
                    separator = "; ";
                }
                if !missing.is_empty() {
                    write!(f, "{separator}it has no tensor {}", missing.join(", "))?;
                    separator = "; ";
                }
                if !unexpected.is_empty() {
                    write!(
                        f,
                        "{separator}it has tensors the model has no parameter for: {}",
                        unexpected.join(", ")
                    )?;
                }
                Ok(())
            }
            NnError::NonFinite { epoch, batch, what } => {
                // Outside `train` (a `train_step` or `step` of one's own) both are 0: say so
                // rather than point at a first batch that may not be the one.
                let place = if (*epoch, *batch) == (0, 0) {
                    "at epoch 0, batch 0 of `train` (or in a step outside it)".to_string()
                } else {
                    format!("at epoch {epoch}, batch {batch}")
                };
                write!(
                    f,
                    "non-finite {what} {place}; the step was refused, the model keeps its last \
                     good parameters"
                )
            }
        }
    }
}

impl std::error::Error for NnError {}

/// `tensor <name> has shape <found>, the model needs <expected>`, with a hint when `found` looks
/// like a grouped convolution's weight given to a layer built without groups.
fn write_shape_mismatch(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    expected: &[usize],
    found: &[usize],
) -> fmt::Result {
    write!(
        f,
        "tensor {name} has shape {found:?}, the model needs {expected:?}"
    )?;
    // A 3-D or 4-D weight of the model's rows whose kernels are a whole fraction of
    // its columns, in a number of groups that also divides the rows (the output
    // channels): a grouped convolution's, given to a layer built without groups.
    if let ([rows, per_group @ ..], [model_rows, columns]) = (found, expected)
        && matches!(per_group.len(), 2 | 3)
        && rows == model_rows
        && let Some(kernels) = per_group.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
        && kernels > 0
        && columns % kernels == 0
        && let groups = columns / kernels
        && groups > 1
        && rows % groups == 0
    {
        if per_group.len() == 2 {
            write!(
                f,
                " (a grouped convolution's weight, of {groups} groups? build the \
                 layer with Conv1d::grouped or Conv1d::from_grouped_parts)"
            )?;
        } else {
            write!(
                f,
                " (a grouped convolution's weight, of {groups} groups? build the \
                 layer with Conv2d::grouped or Conv2d::from_grouped_parts; \
                 ConvTranspose2d takes no groups)"
            )?;
        }
    }
    Ok(())
}

/// One tensor of a weight file whose shape does not fit its parameter (in
/// [`NnError::ArchitectureMismatch`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorShape {
    /// The parameter name.
    pub name: String,
    /// The model's shape.
    pub expected: Vec<usize>,
    /// The file's shape.
    pub found: Vec<usize>,
}

impl TensorShape {
    /// The error of this mismatch alone.
    #[cfg(feature = "safetensors")]
    pub(crate) fn into_error(self) -> NnError {
        NnError::TensorShapeMismatch {
            name: self.name,
            expected: self.expected,
            found: self.found,
        }
    }
}

/// `Ok(())` when `found == expected`, else a [`NnError::ShapeMismatch`].
pub(crate) fn check_shape(
    what: &str,
    expected: (usize, usize),
    found: (usize, usize),
) -> Result<(), NnError> {
    if expected == found {
        Ok(())
    } else {
        Err(NnError::ShapeMismatch {
            what: what.to_string(),
            expected,
            found,
        })
    }
}
