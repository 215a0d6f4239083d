//! Saving and loading a model's parameters as safetensors.

use super::header::{data_size, duplicate_tensor_name, offsets_past_the_data};
use super::{io_error, write_atomically};
use crate::error::TensorShape;
use crate::visit_order::check_visit_order;
use crate::{Layer, NnError};
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;
use safetensors::SafeTensorError;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::io::Read;
use std::path::Path;

/// The safetensors element type of `T`.
fn dtype<T: MatScalar>() -> Dtype {
    if size_of::<T>() == 4 {
        Dtype::F32
    } else {
        Dtype::F64
    }
}

/// The other float type of a weight file.
fn other<T: MatScalar>() -> Dtype {
    if dtype::<T>() == Dtype::F32 {
        Dtype::F64
    } else {
        Dtype::F32
    }
}

/// Row-major little-endian bytes of a matrix.
fn to_bytes<T: MatScalar>(m: &DMatrix<T>) -> Vec<u8> {
    let mut out = Vec::with_capacity(m.len() * size_of::<T>());
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            let v = m[(i, j)].to_f64().unwrap_or(f64::NAN);
            if size_of::<T>() == 4 {
                out.extend_from_slice(&(v as f32).to_le_bytes());
            } else {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    out
}

/// A matrix from row-major little-endian bytes (length already checked).
fn from_bytes<T: MatScalar>(bytes: &[u8], file: Dtype, rows: usize, cols: usize) -> DMatrix<T> {
    let value = |k: usize| -> T {
        if file == Dtype::F32 {
            let b: [u8; 4] = bytes[4 * k..4 * k + 4].try_into().unwrap_or([0; 4]);
            T::from_f32(f32::from_le_bytes(b)).unwrap_or_else(T::zero)
        } else {
            let b: [u8; 8] = bytes[8 * k..8 * k + 8].try_into().unwrap_or([0; 8]);
            T::from_f64(f64::from_le_bytes(b)).unwrap_or_else(T::zero)
        }
    };
    DMatrix::from_fn(rows, cols, |i, j| value(i * cols + j))
}

/// Writes every parameter and state matrix (running statistics, [`Layer::visit_state`]) of
/// `model` to `path` in the safetensors format, atomically: the file
/// is written under a temporary name in the same directory, flushed to disk, then renamed, so a
/// crash never leaves a half-written file at `path`.
///
/// # Errors
/// [`NnError::Io`] if the file cannot be written; [`NnError::InvalidFile`] if the safetensors
/// encoder refuses a tensor; [`NnError::InvalidConfig`] if two parameters of the model share a
/// name; [`NnError::InvalidData`] naming the parameter and entry of a NaN or infinite value (the
/// loaders refuse those, so such a file could not be read back). Nothing is written on error.
///
/// # Example
/// ```
/// use adroit_nn::rand;
/// use adroit_nn::{Activation, Dense, io};
/// use adroit_nn::rand::SeedableRng;
/// let model = Dense::<f32>::new(3, 2, Activation::Relu, &mut rand::rngs::StdRng::seed_from_u64(0));
/// let path = std::env::temp_dir().join(format!("adroit-doc-{}.safetensors", std::process::id()));
/// io::save_safetensors(&model, &path).unwrap();
/// let mut other = Dense::<f32>::new(3, 2, Activation::Relu, &mut rand::rngs::StdRng::seed_from_u64(1));
/// io::load_safetensors(&mut other, &path).unwrap();
/// assert_eq!(other, model);
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn save_safetensors<T: MatScalar, M: Layer<T>>(
    model: &M,
    path: impl AsRef<Path>,
) -> Result<(), NnError> {
    let path = path.as_ref();
    let bytes = encode(model, &path.display().to_string())?;
    write_atomically(path, &bytes)
}

/// The bytes [`save_safetensors`] writes, in memory (to send elsewhere, or to embed).
///
/// # Errors
/// [`NnError::InvalidFile`] (its `path` naming the in-memory bytes) if the safetensors encoder
/// refuses a tensor; [`NnError::InvalidConfig`] if two parameters of the model share a name;
/// [`NnError::InvalidData`] for
/// a NaN or infinite parameter, as [`save_safetensors`].
///
/// # Example
/// ```
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Dense, io};
/// let model = Dense::<f64>::new(2, 3, Activation::Tanh, &mut StdRng::seed_from_u64(0));
/// let bytes = io::to_safetensors_bytes(&model).unwrap();
/// let mut copy = Dense::<f64>::new(2, 3, Activation::Tanh, &mut StdRng::seed_from_u64(1));
/// io::load_safetensors_bytes(&mut copy, &bytes).unwrap();
/// assert_eq!(copy, model);
/// ```
pub fn to_safetensors_bytes<T: MatScalar, M: Layer<T>>(model: &M) -> Result<Vec<u8>, NnError> {
    encode(model, IN_MEMORY)
}

/// Calls `f` on every matrix a weight file holds for `model`, named: its parameters
/// ([`Layer::visit`]), then its state ([`Layer::visit_state`]: running statistics, as
/// PyTorch's state dict holds buffers).
fn visit_tensors<'a, T: MatScalar, M: Layer<T>>(
    model: &'a M,
    f: &mut dyn FnMut(&str, &'a DMatrix<T>),
) {
    model.visit("", f);
    model.visit_state("", f);
}

/// [`visit_tensors`] mutably, in the same order.
fn visit_tensors_mut<T: MatScalar, M: Layer<T>>(model: &mut M, f: &mut dyn FnMut(&mut DMatrix<T>)) {
    model.visit_mut(f);
    model.visit_state_mut(f);
}

/// What errors name as the `path` of bytes held in memory.
const IN_MEMORY: &str = "(in-memory bytes)";

/// Every parameter of `model` as safetensors bytes; `source` names the destination in errors.
fn encode<T: MatScalar, M: Layer<T>>(model: &M, source: &str) -> Result<Vec<u8>, NnError> {
    refuse_duplicate_names(model, source)?;
    refuse_non_finite(model)?;
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    visit_tensors(model, &mut |name, p| {
        tensors.push((name.to_string(), vec![p.nrows(), p.ncols()], to_bytes(p)))
    });
    let views = tensors
        .iter()
        .map(|(name, shape, data)| {
            TensorView::new(dtype::<T>(), shape.clone(), data)
                .map(|v| (name.clone(), v))
                .map_err(|e| NnError::InvalidFile {
                    path: source.to_string(),
                    reason: e.to_string(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    safetensors::tensor::serialize(views, &None).map_err(|e| NnError::InvalidFile {
        path: source.to_string(),
        reason: e.to_string(),
    })
}

/// Loads every parameter and state matrix of `model` from the safetensors file at `path`. Every tensor is
/// checked (present, `F32` or `F64`, a shape that fits: see [the module](super)) before any parameter is changed, so on error
/// the model is untouched. A tensor of the other float type is converted to the model's (as
/// PyTorch's `load_state_dict` copies into the parameter's dtype): `F32` into an `f64` model
/// exactly, `F64` into an `f32` model rounded to nearest (values below `f32`'s smallest
/// subnormal become ±0, as the cast does) — refused with [`NnError::InvalidData`] if a finite
/// value overflows `f32`.
///
/// # Errors
/// [`NnError::Io`] if the file cannot be read or is not a regular file; [`NnError::InvalidFile`]
/// if it is truncated or corrupted (the reason in words) or lists a tensor name twice;
/// [`NnError::InvalidConfig`] if two parameters of the model share a name;
/// [`NnError::TensorShapeMismatch`] naming the one tensor of another shape than its
/// parameter; [`NnError::MissingTensor`] if the file lacks a parameter (naming every missing
/// parameter and every tensor without one), [`NnError::UnexpectedTensors`] if it has all of
/// them and more (strict loading, as PyTorch's `load_state_dict` default);
/// [`NnError::ArchitectureMismatch`] listing every tensor of another shape and every missing
/// and unexpected one, when there is more than one such problem and one is a shape (these
/// four take precedence over the two below); [`NnError::DtypeMismatch`] naming a tensor that
/// is not `F32` or `F64`;
/// [`NnError::InvalidData`] naming the tensor and entry of a NaN
/// or infinite value, or of an `F64` value that does not fit an `f32` model;
/// [`NnError::InvalidFile`] also for values the model's
/// [`check_params`](crate::Layer::check_params) refuses (a negative BatchNorm running
/// variance). On any error the model is unchanged.
///
/// # Example
/// ```
/// use adroit_nn::rand::{self, SeedableRng};
/// use adroit_nn::{Activation, Dense, NnError, io};
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let file = format!("adroit-doc-load-{}.safetensors", std::process::id());
/// let path = std::env::temp_dir().join(file);
/// io::save_safetensors(&Dense::<f32>::new(3, 2, Activation::Relu, &mut rng), &path).unwrap();
/// // A layer of another shape is refused, naming every tensor that does not fit, and left
/// // as it was.
/// let mut wider = Dense::<f32>::new(3, 4, Activation::Relu, &mut rng);
/// let before = wider.clone();
/// let err = io::load_safetensors(&mut wider, &path).unwrap_err();
/// assert_eq!(wider, before);
/// let message = "is of another architecture than the model: tensor weight has shape [2, 3], \
///                the model needs [4, 3]; tensor bias has shape [2, 1], the model needs [4, 1]";
/// assert_eq!(err.to_string(), format!("{} {message}", path.display()));
/// // A model of the other float type loads the values converted (f32 → f64 exactly).
/// let mut double = Dense::<f64>::new(3, 2, Activation::Relu, &mut rng);
/// io::load_safetensors(&mut double, &path).unwrap();
/// let mut single = Dense::<f32>::new(3, 2, Activation::Relu, &mut rng);
/// io::load_safetensors(&mut single, &path).unwrap();
/// assert_eq!(double.weight, single.weight.map(f64::from));
/// // A missing file is an error.
/// std::fs::remove_file(&path).unwrap();
/// assert!(matches!(io::load_safetensors(&mut double, &path), Err(NnError::Io { .. })));
/// ```
pub fn load_safetensors<T: MatScalar, M: Layer<T>>(
    model: &mut M,
    path: impl AsRef<Path>,
) -> Result<(), NnError> {
    load(model, path.as_ref(), true).map(|_| ())
}

/// [`load_safetensors`] from bytes in memory (`include_bytes!`, a network read, or
/// [`to_safetensors_bytes`]): every parameter of `model`, all checked before any is set.
///
/// # Errors
/// As [`load_safetensors`] but for reading a file ([`NnError::Io`]); the errors' `path` names
/// the in-memory bytes. A byte string that is not a valid safetensors file is an
/// [`NnError::InvalidFile`] — never a panic (fuzzed: `fuzz/`'s `weights_load`).
///
/// # Example
/// ```
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Dense, NnError, io};
/// let mut model = Dense::<f32>::new(3, 2, Activation::Relu, &mut StdRng::seed_from_u64(0));
/// let before = model.clone();
/// let err = io::load_safetensors_bytes(&mut model, b"not a weight file").unwrap_err();
/// assert!(matches!(err, NnError::InvalidFile { .. }));
/// assert_eq!(model, before); // untouched
/// ```
pub fn load_safetensors_bytes<T: MatScalar, M: Layer<T>>(
    model: &mut M,
    bytes: &[u8],
) -> Result<(), NnError> {
    load_bytes(model, bytes, true).map(|_| ())
}

/// [`load_safetensors_partial`] from bytes in memory (PyTorch's `load_state_dict(strict=False)`
/// on a state dict at hand): the parameters the bytes have, the others left as they are.
///
/// # Errors
/// As [`load_safetensors_partial`] but for reading a file; the errors' `path` names the
/// in-memory bytes. On any error the model is unchanged.
///
/// # Example
/// ```
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Chain, Dense, io};
/// let mut rng = StdRng::seed_from_u64(0);
/// let backbone = Chain::new().push(Dense::<f32>::new(4, 8, Activation::Relu, &mut rng));
/// let bytes = io::to_safetensors_bytes(&backbone).unwrap();
/// let mut model = Chain::new()
///     .push(Dense::<f32>::new(4, 8, Activation::Relu, &mut rng))
///     .push(Dense::new(8, 1, Activation::Identity, &mut rng));
/// let report = io::load_safetensors_bytes_partial(&mut model, &bytes).unwrap();
/// assert_eq!(report.missing, ["layers.1.weight", "layers.1.bias"]);
/// assert_eq!(model.layer::<Dense<f32>>(0), backbone.layer::<Dense<f32>>(0));
/// ```
pub fn load_safetensors_bytes_partial<T: MatScalar, M: Layer<T>>(
    model: &mut M,
    bytes: &[u8],
) -> Result<LoadReport, NnError> {
    load_bytes(model, bytes, false)
}

/// [`load`] for bytes in memory.
fn load_bytes<T: MatScalar, M: Layer<T>>(
    model: &mut M,
    bytes: &[u8],
    strict: bool,
) -> Result<LoadReport, NnError> {
    refuse_duplicate_names(model, IN_MEMORY)?;
    check_visit_order(model)?;
    decode_into(model, bytes, IN_MEMORY, strict)
}

/// What [`load_safetensors_partial`] did: tensor names, each list sorted as the model visits
/// its parameters (`loaded`, `missing`) or alphabetically (`unexpected`).
///
/// # Example
/// ```
/// use adroit_nn::io::LoadReport;
/// let report = LoadReport::default();
/// assert!(report.loaded.is_empty() && report.missing.is_empty() && report.unexpected.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// The model's parameters set from the file.
    pub loaded: Vec<String>,
    /// The model's parameters the file has no tensor for (left as they were); PyTorch's
    /// `missing_keys`.
    pub missing: Vec<String>,
    /// The file's tensors the model has no parameter for (ignored); PyTorch's
    /// `unexpected_keys`.
    pub unexpected: Vec<String>,
}

/// Loads the parameters of `model` that the safetensors file at `path` has, leaves the others
/// as they are, ignores tensors the model has no parameter for, and reports which were which
/// (PyTorch's `load_state_dict(strict=False)`): e.g. to start a model from a smaller or
/// differently headed one. A tensor the file does have must still fit its parameter; every
/// tensor is checked before any parameter is changed, so on error the model is untouched.
/// `F32` and `F64` tensors convert to the model's type as in [`load_safetensors`].
///
/// # Errors
/// [`NnError::Io`] if the file cannot be read or is not a regular file;
/// [`NnError::InvalidFile`] if it is truncated or corrupted or lists a tensor name twice;
/// [`NnError::InvalidConfig`] if two parameters of the model share a name;
/// [`NnError::TensorShapeMismatch`] naming the one tensor that does not fit its parameter,
/// [`NnError::ArchitectureMismatch`] listing them when several do (these take precedence
/// over the two below);
/// [`NnError::DtypeMismatch`] naming a tensor that is not `F32` or `F64`;
/// [`NnError::InvalidData`] naming the tensor and
/// entry of a NaN or infinite value, or of an `F64` value that does not fit an `f32` model. On
/// any error the model is unchanged.
///
/// # Example
/// ```
/// use adroit_nn::rand::{self, SeedableRng};
/// use adroit_nn::{Activation, Chain, Dense, io};
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let path = std::env::temp_dir().join(format!("adroit-doc-partial-{}.safetensors", std::process::id()));
/// // A trained first layer (4 → 8) starts a deeper model: its parameters load, the new
/// // layer keeps its initial weights.
/// let backbone = Chain::new().push(Dense::<f32>::new(4, 8, Activation::Relu, &mut rng));
/// io::save_safetensors(&backbone, &path).unwrap();
/// let mut model = Chain::new()
///     .push(Dense::<f32>::new(4, 8, Activation::Relu, &mut rng))
///     .push(Dense::new(8, 1, Activation::Identity, &mut rng));
/// let head = model.layer::<Dense<f32>>(1).unwrap().clone();
/// let report = io::load_safetensors_partial(&mut model, &path).unwrap();
/// assert_eq!(report.loaded, ["layers.0.weight", "layers.0.bias"]);
/// assert_eq!(report.missing, ["layers.1.weight", "layers.1.bias"]);
/// assert!(report.unexpected.is_empty());
/// assert_eq!(model.layer::<Dense<f32>>(0), backbone.layer::<Dense<f32>>(0));
/// assert_eq!(model.layer::<Dense<f32>>(1), Some(&head));
/// // The other way round, the file's extra tensors are reported and ignored.
/// io::save_safetensors(&model, &path).unwrap();
/// let mut small = Chain::new().push(Dense::<f32>::new(4, 8, Activation::Relu, &mut rng));
/// let report = io::load_safetensors_partial(&mut small, &path).unwrap();
/// assert_eq!(report.unexpected, ["layers.1.bias", "layers.1.weight"]);
/// // Strict loading refuses both.
/// assert!(io::load_safetensors(&mut small, &path).is_err());
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn load_safetensors_partial<T: MatScalar, M: Layer<T>>(
    model: &mut M,
    path: impl AsRef<Path>,
) -> Result<LoadReport, NnError> {
    load(model, path.as_ref(), false)
}

/// What is wrong with a file the safetensors parser refused, in words (its errors print
/// only their variant names), with the variant after it.
fn describe(e: &SafeTensorError) -> String {
    use SafeTensorError as E;
    let what = match e {
        E::HeaderTooSmall => {
            "too short: a safetensors file starts with its header's length in 8 bytes"
        }
        E::InvalidHeaderLength => {
            "the header length it states does not fit in the file (truncated, or not a \
             safetensors file)"
        }
        E::HeaderTooLarge => {
            "its header is over the 100 MB safetensors allows (not a safetensors file?)"
        }
        E::InvalidHeader => "its header is not UTF-8 text",
        E::InvalidHeaderStart => "its header does not start with `{` (not a safetensors file?)",
        E::InvalidHeaderDeserialization | E::JsonError(_) => {
            "its header is not valid safetensors JSON (each tensor needs a known dtype, a shape \
             of non-negative integers and two data offsets)"
        }
        E::MetadataIncompleteBuffer => {
            "its tensors' offsets do not cover the data exactly: the file is truncated or has \
             bytes appended"
        }
        E::ValidationOverflow => "a tensor's shape or byte size overflows",
        E::InvalidOffset(name) => {
            return format!("tensor `{name}` has invalid data offsets (InvalidOffset)");
        }
        E::TensorInvalidInfo => "a tensor's dtype, shape and data offsets disagree",
        _ => return e.to_string(),
    };
    format!("{what} ({e:?})")
}

/// Refuses a model whose `Layer::visit` gives two parameters the same name (a file holds one
/// tensor per name: saving would fail in the encoder, loading would copy one tensor into both):
/// the model's fault, not the file's, so [`NnError::InvalidConfig`] naming `source` too.
fn refuse_duplicate_names<T: MatScalar, M: Layer<T>>(
    model: &M,
    source: &str,
) -> Result<(), NnError> {
    let mut names = std::collections::HashSet::new();
    let mut duplicate = None;
    visit_tensors(model, &mut |name, _| {
        if !names.insert(name.to_string()) {
            duplicate.get_or_insert_with(|| name.to_string());
        }
    });
    match duplicate {
        None => Ok(()),
        Some(name) => Err(NnError::InvalidConfig {
            name: "parameter names",
            reason: format!(
                "the model has two parameters named `{name}` (writing or reading {source}); each \
                 needs its own name (check the prefixes a custom layer's `visit` passes)"
            ),
        }),
    }
}

/// Refuses a model holding a NaN or infinite parameter, naming its first such entry: the
/// loaders refuse those values, so a file written from it could not be read back.
fn refuse_non_finite<T: MatScalar, M: Layer<T>>(model: &M) -> Result<(), NnError> {
    let mut found = None;
    visit_tensors(model, &mut |name, p| {
        if found.is_none()
            && let Some(k) = p.iter().position(|v| !v.is_finite())
        {
            found = Some((name.to_string(), k % p.nrows(), k / p.nrows(), p[k]));
        }
    });
    match found {
        None => Ok(()),
        Some((name, i, j, value)) => Err(NnError::InvalidData {
            what: format!(
                "parameter {name}, entry ({i}, {j}), is {value}: only finite parameters are \
                 saved (the loaders refuse others; was the model diverged or edited by hand?)"
            ),
        }),
    }
}

/// Reads and checks the file's tensor for every parameter of `model`, then sets them all;
/// `strict`: a missing or an unexpected tensor is an error.
fn load<T: MatScalar, M: Layer<T>>(
    model: &mut M,
    path: &Path,
    strict: bool,
) -> Result<LoadReport, NnError> {
    let source = path.display().to_string();
    // Refused before the file is read.
    refuse_duplicate_names(model, &source)?;
    check_visit_order(model)?;
    // Only a regular file (or a link to one): reading a device such as /dev/zero would not
    // end, and a FIFO would block.
    let kind = std::fs::metadata(path).map_err(|e| io_error(path, e))?;
    if !kind.is_file() {
        return Err(NnError::Io {
            path: source,
            message: "not a regular file (a directory, device or pipe)".into(),
        });
    }
    // The header first: a file that is not a safetensors file, or whose size is not the one
    // its header gives, is refused without reading its data (a 1 GB file of zeros was read
    // whole before its error: 2.8 s and 1 GB of memory).
    let mut file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let file_len = kind.len();
    let mut bytes = Vec::new();
    if file_len >= 8 {
        bytes.resize(8, 0);
        file.read_exact(&mut bytes).map_err(|e| io_error(path, e))?;
        let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap_or_default());
        // A length over the safetensors limit of 100 MB or past the file (the first bytes of
        // any other file, read as a length, mostly are): the parser's error from those 8.
        if header_len > HEADER_LIMIT || header_len > file_len - 8 {
            return decode_into(model, &bytes, &source, strict);
        }
        bytes.resize(8 + header_len as usize, 0);
        file.read_exact(&mut bytes[8..])
            .map_err(|e| io_error(path, e))?;
        let data = file_len - 8 - header_len;
        match data_size(&bytes) {
            // Not a header the parser takes: its error, from the header alone.
            None => return decode_into(model, &bytes, &source, strict),
            Some(size) if size != data => {
                return Err(NnError::InvalidFile {
                    path: source,
                    reason: format!(
                        "{} (its header gives {size} bytes of data, the file holds {data})",
                        describe(&SafeTensorError::MetadataIncompleteBuffer)
                    ),
                });
            }
            Some(_) => {}
        }
    }
    // The rest (or all of a file too short for a header, for the parser's error).
    file.read_to_end(&mut bytes)
        .map_err(|e| io_error(path, e))?;
    decode_into(model, &bytes, &source, strict)
}

/// The largest header the `safetensors` parser reads (its `MAX_HEADER_SIZE`, 100 MB).
const HEADER_LIMIT: u64 = 100_000_000;

/// [`load`] from bytes in memory (the model's names already checked by
/// [`refuse_duplicate_names`]); `source` names the bytes in errors.
fn decode_into<T: MatScalar, M: Layer<T>>(
    model: &mut M,
    bytes: &[u8],
    source: &str,
    strict: bool,
) -> Result<LoadReport, NnError> {
    // Before the parser, whose sums of such offsets can overflow (a panic in debug builds).
    if let Some((name, offsets)) = offsets_past_the_data(bytes) {
        return Err(NnError::InvalidFile {
            path: source.to_string(),
            reason: format!(
                "{} (tensor `{name}`'s data offsets {offsets:?} reach past the data)",
                describe(&SafeTensorError::MetadataIncompleteBuffer)
            ),
        });
    }
    let file = SafeTensors::deserialize(bytes).map_err(|e| NnError::InvalidFile {
        path: source.to_string(),
        reason: describe(&e),
    })?;
    if let Some(name) = duplicate_tensor_name(bytes) {
        return Err(NnError::InvalidFile {
            path: source.to_string(),
            reason: format!(
                "its header lists tensor `{name}` twice (which one is meant is not decidable)"
            ),
        });
    }
    let mut values: Vec<Option<DMatrix<T>>> = Vec::new();
    let mut report = LoadReport::default();
    // Tensors of other shapes than their parameters: all of them, so that a file of another
    // architecture is diagnosed at once (with the missing and unexpected ones).
    let mut shapes = Vec::new();
    // The first other problem of a tensor (its type, a non-finite value): tensors after a
    // problem are not read, only their shapes checked.
    let mut failure = None;
    let mut names = std::collections::HashSet::new();
    visit_tensors(model, &mut |name, p| {
        names.insert(name.to_string());
        let size = (p.nrows(), p.ncols());
        let value = match file.tensor(name) {
            Err(_) => {
                report.missing.push(name.to_string());
                None
            }
            Ok(tensor) => match shape_problem(name, &tensor, size) {
                Some(problem) => {
                    shapes.push(problem);
                    None
                }
                None if failure.is_some()
                    || !shapes.is_empty()
                    || (strict && !report.missing.is_empty()) =>
                {
                    None
                }
                None => match read_tensor::<T>(name, &tensor, size) {
                    Ok(m) => {
                        report.loaded.push(name.to_string());
                        Some(m)
                    }
                    Err(e) => {
                        failure = Some(e);
                        None
                    }
                },
            },
        };
        values.push(value);
    });
    report.unexpected = file
        .names()
        .into_iter()
        .filter(|n| !names.contains(n.as_str()))
        .cloned()
        .collect();
    report.unexpected.sort();
    // Loading partially, missing and unexpected tensors are reported, not refused (and
    // loading strictly, there are none when it succeeds).
    let (missing, unexpected) = if strict {
        (
            std::mem::take(&mut report.missing),
            std::mem::take(&mut report.unexpected),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let path = source.to_string();
    match (shapes.len(), missing.is_empty(), unexpected.is_empty()) {
        (0, true, true) => {}
        (1, true, true) => return Err(shapes.remove(0).into_error()),
        (0, true, false) => {
            return Err(NnError::UnexpectedTensors {
                path,
                names: unexpected,
            });
        }
        (0, false, _) => {
            return Err(NnError::MissingTensor {
                path,
                names: missing,
                unexpected,
            });
        }
        _ => {
            return Err(NnError::ArchitectureMismatch {
                path,
                shapes: shapes.into(),
                missing: missing.into(),
                unexpected: unexpected.into(),
            });
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let mut next = values.into_iter();
    let mut previous = Vec::new();
    visit_tensors_mut(model, &mut |p| {
        previous.push(next.next().flatten().map(|mut v| {
            std::mem::swap(p, &mut v);
            v
        }));
    });
    // Values the model itself refuses (a negative BatchNorm running variance) are refused
    // here too, and undone: they would fail its next use instead.
    if let Err(e) = model.check_params() {
        let mut back = previous.into_iter();
        visit_tensors_mut(model, &mut |p| {
            if let Some(Some(v)) = back.next() {
                *p = v;
            }
        });
        return Err(NnError::InvalidFile {
            path,
            reason: format!("its values do not fit the model: {e}"),
        });
    }
    Ok(report)
}

/// The tensor `name`'s shape against its parameter's `rows × cols`, whatever its element
/// type: `None` if it fits.
fn shape_problem(
    name: &str,
    tensor: &TensorView<'_>,
    (rows, cols): (usize, usize),
) -> Option<TensorShape> {
    let shape = tensor.shape();
    // A parameter also loads from a tensor whose trailing dimensions flatten to its columns
    // row-major: a 1-D `[n]` for an `n × 1` vector (PyTorch biases), and `[rows, d₁, …, dₖ]`
    // with `d₁⋯dₖ = cols` (PyTorch's 4-D convolution weights, as `weight.reshape(rows, -1)`).
    let trailing = || shape[1..].iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    let fits = shape == [rows, cols]
        || (cols == 1 && shape == [rows])
        || (shape.len() > 2 && shape[0] == rows && trailing() == Some(cols));
    (!fits).then(|| TensorShape {
        name: name.to_string(),
        expected: vec![rows, cols],
        found: shape.to_vec(),
    })
}

/// The tensor `name`, whose shape fits (see [`shape_problem`]), as a `rows × cols` matrix, if
/// it is `F32` or `F64` (converted to `T`, refusing an overflow) and finite.
fn read_tensor<T: MatScalar>(
    name: &str,
    tensor: &TensorView<'_>,
    (rows, cols): (usize, usize),
) -> Result<DMatrix<T>, NnError> {
    // F32 and F64 both load into either model type (as PyTorch's `load_state_dict` copies
    // into the parameter's dtype; F64 → f32 rounds to nearest).
    if !matches!(tensor.dtype(), Dtype::F32 | Dtype::F64) {
        return Err(NnError::DtypeMismatch {
            name: name.to_string(),
            expected: format!("{:?} (or {:?}, converted)", dtype::<T>(), other::<T>()),
            found: format!("{:?}", tensor.dtype()),
        });
    }
    let m = from_bytes::<T>(tensor.data(), tensor.dtype(), rows, cols);
    // The stored F64 values themselves, for an f32 model only (into f64 they are `m`).
    let stored = (tensor.dtype() == Dtype::F64 && dtype::<T>() == Dtype::F32)
        .then(|| from_bytes::<f64>(tensor.data(), Dtype::F64, rows, cols));
    // A NaN or infinite parameter is refused as a value beyond f32's range is: a model
    // holding one predicts NaN, and training from it stops at its first batch with a hint
    // about the data (PyTorch loads such a file silently).
    let stored_at = |k: usize| match &stored {
        Some(wide) => wide[k],
        None => m[k].to_f64().unwrap_or(f64::NAN),
    };
    if let Some(k) = (0..m.len()).find(|&k| !stored_at(k).is_finite()) {
        let (i, j) = (k % rows, k / rows);
        return Err(NnError::InvalidData {
            what: format!(
                "tensor {name}, entry ({i}, {j}), is {}: parameters must be finite (was the \
                 file saved from a diverged model?)",
                stored_at(k)
            ),
        });
    }
    if let Some(wide) = &stored {
        // Narrowing: a finite F64 beyond f32's range would become ±∞ without a word.
        if let Some(k) = (0..m.len()).find(|&k| wide[k].is_finite() && !m[k].is_finite()) {
            let (i, j) = (k % rows, k / rows);
            return Err(NnError::InvalidData {
                what: format!(
                    "tensor {name}, entry ({i}, {j}), is {:e}, beyond the f32 model's range",
                    wide[k]
                ),
            });
        }
    }
    Ok(m)
}
