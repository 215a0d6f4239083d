//! The parameter visits of a layer holding a weight and an optional bias
//! ([`Dense`](super::Dense), [`Conv1d`](super::Conv1d), [`Conv2d`](super::Conv2d),
//! [`ConvTranspose2d`](super::ConvTranspose2d)), named `weight` and `bias` as in PyTorch; and
//! the grouped product of the convolutions.

use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// `W·P + b` with the channels in `groups` groups ([`Conv2d`](super::Conv2d),
/// [`Conv1d`](super::Conv1d)): output group `k` (`out/groups` rows of `weight`) times its own
/// `weight.ncols()` rows of `patches`, the products stacked; the bias, `out × 1`, added to
/// every column. One product (the affine node) for one group.
pub(crate) fn grouped_affine<T: MatScalar>(
    weight: MatVar<T>,
    patches: MatVar<T>,
    bias: Option<MatVar<T>>,
    groups: usize,
) -> MatVar<T> {
    if groups == 1 {
        return match bias {
            Some(b) => weight.affine(patches, b),
            None => weight * patches,
        };
    }
    let (out_per_group, rows_per_group) = (weight.nrows() / groups, weight.ncols());
    let parts: Vec<_> = (0..groups)
        .map(|k| {
            let w = weight.rows(k * out_per_group, out_per_group);
            w * patches.rows(k * rows_per_group, rows_per_group)
        })
        .collect();
    let z = MatVar::vcat(&parts);
    match bias {
        Some(b) => z + b,
        None => z,
    }
}

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
