//! Weight files in the safetensors format (Hugging Face), so parameters move to and from
//! PyTorch and other tools. Tensor names follow the model's structure (`weight`,
//! `layers.0.bias`, ...); each parameter is stored as a 2-D tensor `[rows, cols]` in row-major
//! order (safetensors' and PyTorch's layout), as `F32` or `F64`.

use crate::{Layer, NnError};
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::io::Write;
use std::path::Path;

/// The safetensors element type of `T`.
fn dtype<T: MatScalar>() -> Dtype {
    if size_of::<T>() == 4 {
        Dtype::F32
    } else {
        Dtype::F64
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
fn from_bytes<T: MatScalar>(bytes: &[u8], rows: usize, cols: usize) -> DMatrix<T> {
    let value = |k: usize| -> T {
        if size_of::<T>() == 4 {
            let b: [u8; 4] = bytes[4 * k..4 * k + 4].try_into().unwrap_or([0; 4]);
            T::from_f32(f32::from_le_bytes(b)).unwrap_or_else(T::zero)
        } else {
            let b: [u8; 8] = bytes[8 * k..8 * k + 8].try_into().unwrap_or([0; 8]);
            T::from_f64(f64::from_le_bytes(b)).unwrap_or_else(T::zero)
        }
    };
    DMatrix::from_fn(rows, cols, |i, j| value(i * cols + j))
}

fn io_error(path: &Path, e: std::io::Error) -> NnError {
    NnError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Writes every parameter of `model` to `path` in the safetensors format, atomically: the file
/// is written under a temporary name in the same directory, flushed to disk, then renamed, so a
/// crash never leaves a half-written file at `path`.
///
/// # Errors
/// [`NnError::Io`] if the file cannot be written.
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
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    model.visit("", &mut |name, p| {
        tensors.push((name.to_string(), vec![p.nrows(), p.ncols()], to_bytes(p)))
    });
    let views = tensors
        .iter()
        .map(|(name, shape, data)| {
            TensorView::new(dtype::<T>(), shape.clone(), data)
                .map(|v| (name.clone(), v))
                .map_err(|e| NnError::InvalidFile {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = safetensors::tensor::serialize(views, &None).map_err(|e| NnError::InvalidFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    write_atomically(path, &bytes)
}

/// Writes `bytes` to `path` atomically: under a temporary name in the same directory, flushed
/// to disk, then renamed over `path`, so a crash or an error never leaves a partial file there
/// (a previous file stays intact until the rename). The temporary is removed on error.
///
/// # Errors
/// [`NnError::Io`] naming `path` if the file cannot be written.
///
/// # Example
/// ```
/// let path = std::env::temp_dir().join(format!("adroit-doc-atomic-{}.txt", std::process::id()));
/// adroit_nn::io::write_atomically(&path, b"epoch,loss\n0,1.5\n").unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"epoch,loss\n0,1.5\n");
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn write_atomically(path: impl AsRef<Path>, bytes: &[u8]) -> Result<(), NnError> {
    let path = path.as_ref();
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Unique per process and call, so concurrent saves to one path never share a temporary.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // At most 100 bytes of the name, so the temporary stays within the usual 255-byte limit
    // on a file name whenever the target's own name does.
    let mut stem_len = 0;
    let stem: String = file_name
        .chars()
        .take_while(|c| {
            stem_len += c.len_utf8();
            stem_len <= 100
        })
        .collect();
    let tmp = dir.join(format!(".{stem}.{}.{n}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable (best effort: not every platform opens directories).
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_error(path, e)
    })
}

/// Loads every parameter of `model` from the safetensors file at `path`. Every tensor is
/// checked (present, same element type, same shape) before any parameter is changed, so on
/// error the model is untouched.
///
/// # Errors
/// [`NnError::Io`] if the file cannot be read; [`NnError::InvalidFile`] if it is truncated or
/// corrupted; [`NnError::MissingTensor`], [`NnError::DtypeMismatch`] or
/// [`NnError::TensorShapeMismatch`] naming the tensor that does not fit the model;
/// [`NnError::UnexpectedTensors`] if the file holds tensors the model has no parameter for
/// (strict loading, as PyTorch's `load_state_dict` default).
///
/// # Example
/// ```
/// use adroit_nn::rand::{self, SeedableRng};
/// use adroit_nn::{Activation, Dense, NnError, io};
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let file = format!("adroit-doc-load-{}.safetensors", std::process::id());
/// let path = std::env::temp_dir().join(file);
/// io::save_safetensors(&Dense::<f32>::new(3, 2, Activation::Relu, &mut rng), &path).unwrap();
/// // A layer of another shape is refused, naming the tensor, and left as it was.
/// let mut wider = Dense::<f32>::new(3, 4, Activation::Relu, &mut rng);
/// let before = wider.clone();
/// let err = io::load_safetensors(&mut wider, &path).unwrap_err();
/// let (name, expected, found) = ("weight".to_string(), vec![4, 3], vec![2, 3]);
/// let expected = NnError::TensorShapeMismatch { name, expected, found };
/// assert_eq!((err, wider), (expected, before));
/// // So is a model of another element type, and a missing file.
/// let mut double = Dense::<f64>::new(3, 2, Activation::Relu, &mut rng);
/// assert!(matches!(io::load_safetensors(&mut double, &path), Err(NnError::DtypeMismatch { .. })));
/// # std::fs::remove_file(&path).unwrap();
/// assert!(matches!(io::load_safetensors(&mut double, &path), Err(NnError::Io { .. })));
/// ```
pub fn load_safetensors<T: MatScalar, M: Layer<T>>(
    model: &mut M,
    path: impl AsRef<Path>,
) -> Result<(), NnError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    let file = SafeTensors::deserialize(&bytes).map_err(|e| NnError::InvalidFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let mut values = Vec::new();
    let mut failure = None;
    let mut names = std::collections::HashSet::new();
    model.visit("", &mut |name, p| {
        names.insert(name.to_string());
        if failure.is_some() {
            return;
        }
        let result = (|| {
            let tensor = file.tensor(name).map_err(|_| NnError::MissingTensor {
                path: path.display().to_string(),
                name: name.to_string(),
            })?;
            if tensor.dtype() != dtype::<T>() {
                return Err(NnError::DtypeMismatch {
                    name: name.to_string(),
                    expected: format!("{:?}", dtype::<T>()),
                    found: format!("{:?}", tensor.dtype()),
                });
            }
            let expected = vec![p.nrows(), p.ncols()];
            // A vector parameter (`n × 1`) also loads from a 1-D tensor `[n]` (PyTorch biases).
            let fits = tensor.shape() == expected.as_slice()
                || (p.ncols() == 1 && tensor.shape() == [p.nrows()]);
            if !fits {
                return Err(NnError::TensorShapeMismatch {
                    name: name.to_string(),
                    expected,
                    found: tensor.shape().to_vec(),
                });
            }
            Ok(from_bytes::<T>(tensor.data(), p.nrows(), p.ncols()))
        })();
        match result {
            Ok(m) => values.push(m),
            Err(e) => failure = Some(e),
        }
    });
    if let Some(e) = failure {
        return Err(e);
    }
    let mut unexpected: Vec<String> = file
        .names()
        .into_iter()
        .filter(|n| !names.contains(n.as_str()))
        .cloned()
        .collect();
    if !unexpected.is_empty() {
        unexpected.sort();
        return Err(NnError::UnexpectedTensors {
            path: path.display().to_string(),
            names: unexpected,
        });
    }
    let mut next = values.into_iter();
    model.visit_mut(&mut |p| {
        if let Some(v) = next.next() {
            *p = v;
        }
    });
    Ok(())
}
