//! The parameter visits of a layer holding a weight and an optional bias ([`Dense`](super::Dense),
//! [`Conv2d`](super::Conv2d), [`ConvTranspose2d`](super::ConvTranspose2d)), named `weight` and
//! `bias` as in PyTorch.

use nalgebra::DMatrix;

/// [`Layer::visit`](crate::Layer::visit): the weight, then the bias if there is one.
pub(crate) fn visit<'a, T>(
    prefix: &str,
    weight: &'a DMatrix<T>,
    bias: Option<&'a DMatrix<T>>,
    f: &mut dyn FnMut(&str, &'a DMatrix<T>),
) {
    f(&format!("{prefix}weight"), weight);
    if let Some(b) = bias {
        f(&format!("{prefix}bias"), b);
    }
}

/// [`Layer::visit_mut`](crate::Layer::visit_mut), in [`visit`]'s order.
pub(crate) fn visit_mut<T>(
    weight: &mut DMatrix<T>,
    bias: Option<&mut DMatrix<T>>,
    f: &mut dyn FnMut(&mut DMatrix<T>),
) {
    f(weight);
    if let Some(b) = bias {
        f(b);
    }
}

/// [`Layer::visit_params`](crate::Layer::visit_params), in [`visit`]'s order.
pub(crate) fn visit_params<'a, T>(
    weight: &'a DMatrix<T>,
    bias: Option<&'a DMatrix<T>>,
    f: &mut dyn FnMut(&'a DMatrix<T>),
) {
    f(weight);
    if let Some(b) = bias {
        f(b);
    }
}
