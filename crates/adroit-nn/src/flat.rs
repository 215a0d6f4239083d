//! A model's parameters as one flat vector and back (PyTorch's `parameters_to_vector` /
//! `vector_to_parameters`, Flux's `destructure`): the coordinates of [`hessian`](crate::hessian)'s
//! rows and columns, for Newton steps, Laplace covariances and finite differences.

use crate::visit_order::check_param_order;
use crate::{Layer, NnError};
use adroit_reverse::matrix::MatScalar;
use nalgebra::DVector;

/// Every parameter entry of `model` in one vector: the parameters in
/// [`Layer::visit_params`] order, each in column-major order (nalgebra's storage order) — the
/// order of [`hessian`](crate::hessian)'s rows and columns. On a gradient shaped like the
/// model (from [`gradient`](crate::gradient)) it gives the flat gradient.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dvector, dmatrix};
/// use adroit_nn::{Activation, Dense, parameters_to_vector};
/// let layer = Dense::from_parts(dmatrix![1.0, 2.0; 3.0, 4.0], Some(dmatrix![5.0; 6.0]), Activation::Relu).unwrap();
/// // the weight down its columns, then the bias
/// assert_eq!(parameters_to_vector(&layer), dvector![1.0, 3.0, 2.0, 4.0, 5.0, 6.0]);
/// ```
pub fn parameters_to_vector<T: MatScalar, M: Layer<T> + ?Sized>(model: &M) -> DVector<T> {
    let mut entries = Vec::new();
    model.visit_params(&mut |p| entries.extend_from_slice(p.as_slice()));
    DVector::from_vec(entries)
}

/// Writes `theta` into `model`'s parameters, in [`parameters_to_vector`]'s order (its
/// inverse): a Newton step is `vector_to_parameters(&(θ − H⁻¹g), &mut model)`.
///
/// # Errors
/// [`NnError::ShapeMismatch`] if `theta` does not have one entry per parameter entry
/// (`expected`: the model's count × 1); [`NnError::InvalidData`] naming the first entry of
/// `theta` that is NaN or infinite (as a weight file's are refused, [`io`](crate::io)). The
/// model is then unchanged.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dvector, dmatrix};
/// use adroit_nn::{Activation, Dense, NnError, parameters_to_vector, vector_to_parameters};
/// let mut layer = Dense::from_parts(dmatrix![1.0, 2.0], Some(dmatrix![0.5]), Activation::Identity).unwrap();
/// let theta = parameters_to_vector(&layer) * 2.0;
/// vector_to_parameters(&theta, &mut layer).unwrap();
/// assert_eq!((layer.weight.clone(), layer.bias.clone()), (dmatrix![2.0, 4.0], Some(dmatrix![1.0])));
/// let err = vector_to_parameters(&dvector![1.0], &mut layer).unwrap_err();
/// assert!(matches!(err, NnError::ShapeMismatch { expected: (3, 1), found: (1, 1), .. }));
/// let err = vector_to_parameters(&dvector![1.0, f64::NAN, 0.0], &mut layer).unwrap_err();
/// assert!(matches!(err, NnError::InvalidData { .. }));
/// assert_eq!(layer.weight, dmatrix![2.0, 4.0]); // unchanged
/// ```
pub fn vector_to_parameters<T: MatScalar, M: Layer<T> + ?Sized>(
    theta: &DVector<T>,
    model: &mut M,
) -> Result<(), NnError> {
    // The entries are read in `visit_params` order and written by `visit_mut`.
    check_param_order(model)?;
    let mut count = 0;
    model.visit_params(&mut |p| count += p.len());
    if count != theta.len() {
        return Err(NnError::ShapeMismatch {
            what: "vector_to_parameters: one entry per parameter entry".to_string(),
            expected: (count, 1),
            found: (theta.len(), 1),
        });
    }
    if let Some(k) = theta.iter().position(|v| !v.is_finite()) {
        return Err(NnError::InvalidData {
            what: format!(
                "vector_to_parameters: entry {k} of the parameter vector is {:?}, not finite",
                theta[k].to_f64().unwrap_or(f64::NAN)
            ),
        });
    }
    let mut offset = 0;
    model.visit_mut(&mut |p| {
        let n = p.len();
        p.as_mut_slice()
            .copy_from_slice(&theta.as_slice()[offset..offset + n]);
        offset += n;
    });
    Ok(())
}
