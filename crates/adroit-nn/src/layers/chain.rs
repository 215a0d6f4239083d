//! [`Chain`]: layers applied in sequence.

use crate::{Cast, CastSlot, Context, Layer, NnError};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;
use std::any::Any;

/// Images' `(channels, height, width)`.
type Image = (usize, usize, usize);

/// A layer that can be cloned and downcast behind a trait object (so a [`Chain`] can be
/// cloned, e.g. to hold gradients shaped like the model, and its layers read back as their
/// concrete types, see [`Chain::layer`]).
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::{Activation, Dense, DynLayer};
/// // Every `Layer + Clone + 'static` is a `DynLayer` (a blanket implementation).
/// let layer: Box<dyn DynLayer<f64>> =
///     Box::new(Dense::from_parts(dmatrix![2.0], None, Activation::Identity).unwrap());
/// let copy = layer.clone_box();
/// let dense = copy.as_any().downcast_ref::<Dense<f64>>().unwrap();
/// assert_eq!(dense.weight, dmatrix![2.0]);
/// ```
pub trait DynLayer<T: MatScalar>: Layer<T> {
    /// A boxed copy.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Dropout, DynLayer};
    /// let layer: Box<dyn DynLayer<f64>> = Box::new(Dropout::new(0.25).unwrap());
    /// let copy = layer.clone_box(); // a `Box<dyn Layer>` could not be cloned
    /// assert_eq!(copy.as_any().downcast_ref::<Dropout>().unwrap().p(), 0.25);
    /// ```
    fn clone_box(&self) -> Box<dyn DynLayer<T>>;

    /// The layer as [`Any`], for downcasting to its concrete type.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Dropout, DynLayer, LayerNorm};
    /// let layer: Box<dyn DynLayer<f64>> = Box::new(LayerNorm::<f64>::new(3));
    /// assert!(layer.as_any().is::<LayerNorm<f64>>());
    /// assert!(layer.as_any().downcast_ref::<Dropout>().is_none());
    /// ```
    fn as_any(&self) -> &dyn Any;

    /// The layer as mutable [`Any`], for downcasting to its concrete type.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Dense, DynLayer, Layer};
    /// let mut layer: Box<dyn DynLayer<f64>> =
    ///     Box::new(Dense::from_parts(dmatrix![1.0], None, Activation::Identity).unwrap());
    /// layer.as_any_mut().downcast_mut::<Dense<f64>>().unwrap().weight = dmatrix![4.0];
    /// assert_eq!(layer.predict(&dmatrix![2.0]).unwrap(), dmatrix![8.0]); // 4·2
    /// ```
    fn as_any_mut(&mut self) -> &mut dyn Any;

    /// The layer's type name without module paths (`Dense<f64>`), for summaries such as
    /// [`Chain`]'s `Debug`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{DynLayer, LayerNorm};
    /// let layer: Box<dyn DynLayer<f32>> = Box::new(LayerNorm::<f32>::new(3));
    /// assert_eq!(layer.type_name(), "LayerNorm<f32>");
    /// ```
    fn type_name(&self) -> String;
}

impl<T: MatScalar, L: Layer<T> + Clone + 'static> DynLayer<T> for L {
    fn clone_box(&self) -> Box<dyn DynLayer<T>> {
        Box::new(self.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn type_name(&self) -> String {
        short_type_name(std::any::type_name::<L>())
    }
}

/// `a::b::Dense<c::d::E>` → `Dense<E>`: each path keeps its last segment.
fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    let mut segment = String::new();
    let mut chars = full.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            segment.clear(); // a module path: drop it
        } else if c.is_alphanumeric() || c == '_' {
            segment.push(c);
        } else {
            out.push_str(&segment);
            segment.clear();
            out.push(c);
        }
    }
    out.push_str(&segment);
    out
}

/// One layer in [`Chain`]'s `Debug`: its type and its parameters' shapes.
struct LayerSummary<'a, T: MatScalar>(&'a dyn DynLayer<T>);

impl<T: MatScalar> std::fmt::Debug for LayerSummary<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut params = Vec::new();
        self.0.visit("", &mut |name, p| {
            params.push((name.to_string(), p.nrows(), p.ncols()))
        });
        let name = self.0.type_name();
        if params.is_empty() {
            return f.write_str(&name);
        }
        let mut s = f.debug_struct(&name);
        for (param, rows, cols) in &params {
            s.field(param, &format_args!("{rows}×{cols}"));
        }
        s.finish()
    }
}

/// Layers applied in order: `Chain::new().push(a).push(b)` computes `b(a(x))`, for `x`:
/// features × batch (each layer's output, features × batch, is the next one's input).
/// Parameters are named `layers.{i}.{name}`.
///
/// # Example
/// ```
/// use adroit_nn::rand;
/// use adroit_nn::{Activation, Chain, Dense, Layer};
/// use adroit_nn::rand::SeedableRng;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let model = Chain::<f64>::new()
///     .push(Dense::new(4, 8, Activation::Relu, &mut rng))
///     .push(Dense::new(8, 3, Activation::Identity, &mut rng));
/// let mut names = Vec::new();
/// model.visit("", &mut |name, _| names.push(name.to_string()));
/// assert_eq!(names, ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]);
/// ```
pub struct Chain<T: MatScalar> {
    /// The layers, applied first to last.
    pub layers: Vec<Box<dyn DynLayer<T>>>,
}

impl<T: MatScalar> Chain<T> {
    /// An empty chain (the identity).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Chain, Layer};
    /// let empty = Chain::<f64>::new();
    /// assert!(empty.layers.is_empty());
    /// assert_eq!(empty.predict(&dmatrix![1.0, 2.0]).unwrap(), dmatrix![1.0, 2.0]); // the identity
    /// ```
    pub fn new() -> Self {
        Self { layers: Vec::new() }
    }

    /// Appends a layer.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Chain, Dense, Layer};
    /// let double = Dense::from_parts(dmatrix![2.0], None, Activation::Identity).unwrap();
    /// let shift = Dense::from_parts(dmatrix![1.0], Some(dmatrix![-1.0]), Activation::Relu).unwrap();
    /// // relu(2x − 1): the layer pushed first is applied first.
    /// let model = Chain::<f64>::new().push(double).push(shift);
    /// assert_eq!(model.predict(&dmatrix![0.25, 3.0]).unwrap(), dmatrix![0.0, 5.0]);
    /// ```
    pub fn push<L: Layer<T> + Clone + 'static>(mut self, layer: L) -> Self {
        self.layers.push(Box::new(layer));
        self
    }

    /// Layer `i` as its concrete type `L`; `None` if there is no layer `i` or it is not an `L`
    /// (including the same layer type over another scalar: `Dense<f32>` in an `f64` chain).
    /// On a gradient shaped like the model (from [`gradient`](crate::gradient)) this reads
    /// the nested gradients, as Flux's `grads.layers[i].weight`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Activation, Chain, Dense, Layer, losses};
    /// use adroit_nn::adroit_reverse::matrix::MatVar;
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// let model = Chain::<f64>::new()
    ///     .push(Dense::from_parts(dmatrix![2.0], None, Activation::Identity).unwrap())
    ///     .push(Dense::from_parts(dmatrix![3.0], None, Activation::Identity).unwrap());
    /// // loss = (3·2·x)² at x = 1: ∂/∂w₀ = 2·6·3 = 36, ∂/∂w₁ = 2·6·2 = 24
    /// let (loss, grads) = adroit_nn::gradient(&model, |m, ctx| {
    ///     losses::mse(m.forward(MatVar::constant(dmatrix![1.0]), ctx), &dmatrix![0.0], losses::Agg::Sum)
    /// })
    /// .unwrap();
    /// assert_eq!(loss, 36.0);
    /// assert_eq!(grads.layer::<Dense<f64>>(0).unwrap().weight, dmatrix![36.0]);
    /// assert_eq!(grads.layer::<Dense<f64>>(1).unwrap().weight, dmatrix![24.0]);
    /// assert!(grads.layer::<Chain<f64>>(0).is_none()); // not a Chain
    /// ```
    pub fn layer<L: 'static>(&self, i: usize) -> Option<&L> {
        self.layers.get(i)?.as_any().downcast_ref()
    }

    /// Layer `i` as its concrete type `L`, mutably (e.g. to change one layer's parameters);
    /// `None` if there is no layer `i` or it is not an `L`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Chain, Dense, Dropout, Layer};
    /// let mut model = Chain::<f64>::new()
    ///     .push(Dropout::new(0.5).unwrap())
    ///     .push(Dense::from_parts(dmatrix![2.0], None, Activation::Identity).unwrap());
    /// model.layer_mut::<Dense<f64>>(1).unwrap().weight = dmatrix![5.0];
    /// assert_eq!(model.predict(&dmatrix![3.0]).unwrap(), dmatrix![15.0]); // dropout is off in predict
    /// assert!(model.layer_mut::<Dense<f64>>(0).is_none()); // layer 0 is a Dropout
    /// assert!(model.layer_mut::<Dense<f64>>(2).is_none()); // there is no layer 2
    /// ```
    pub fn layer_mut<L: 'static>(&mut self, i: usize) -> Option<&mut L> {
        self.layers.get_mut(i)?.as_any_mut().downcast_mut()
    }
}

impl<T: MatScalar> std::fmt::Debug for Chain<T> {
    /// The layers with their parameters' shapes, and the number of parameters:
    /// `Chain { layers: [Dense<f64> { weight: 8×4, bias: 8×1 }, Dropout], parameters: 40 }`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{self, SeedableRng};
    /// use adroit_nn::{Activation, Chain, Dense, Dropout};
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let model = Chain::<f32>::new()
    ///     .push(Dense::new(4, 8, Activation::Relu, &mut rng))
    ///     .push(Dropout::new(0.5).unwrap())
    ///     .push(Dense::new(8, 3, Activation::Identity, &mut rng).without_bias());
    /// assert_eq!(
    ///     format!("{model:?}"),
    ///     "Chain { layers: [Dense<f32> { weight: 8×4, bias: 8×1 }, Dropout, \
    ///      Dense<f32> { weight: 3×8 }], parameters: 64 }"
    /// );
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let layers: Vec<_> = self.layers.iter().map(|l| LayerSummary(&**l)).collect();
        let mut parameters = 0;
        self.visit_params(&mut |p| parameters += p.len());
        f.debug_struct("Chain")
            .field("layers", &layers)
            .field("parameters", &parameters)
            .finish()
    }
}

impl<T: MatScalar> Default for Chain<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: MatScalar> Clone for Chain<T> {
    fn clone(&self) -> Self {
        Self {
            layers: self.layers.iter().map(|l| l.clone_box()).collect(),
        }
    }
}

impl<T: MatScalar> Chain<T> {
    /// The number of features leaving the chain, followed layer by layer where the layers say
    /// ([`Layer::output_size`], or the size kept by a layer that preserves it); an error for
    /// the first layer whose input size differs from the known size reaching it.
    fn features_out(&self) -> Result<Option<usize>, NnError> {
        self.features_out_from(None)
    }

    /// What the first layer that states it says about its input (`stated`), looking past
    /// leading layers that preserve the size; `None` if a layer that changes the size comes
    /// first.
    fn first_stated<R>(&self, stated: impl Fn(&dyn DynLayer<T>) -> Option<R>) -> Option<R> {
        for layer in &self.layers {
            if let Some(answer) = stated(&**layer) {
                return Some(answer);
            }
            if !layer.preserves_size() {
                return None;
            }
        }
        None
    }

    /// [`features_out`](Self::features_out) for an input of `input` features, if known.
    fn features_out_from(&self, input: Option<usize>) -> Result<Option<usize>, NnError> {
        self.follow(input).map(|(features, _)| features)
    }

    /// The features and, where the layers give images, the images' `(channels, height,
    /// width)` leaving the chain, followed from an input of `input` features (if known): an
    /// error for the first layer that takes another number of features, or images of another
    /// shape, than the layers before it give.
    fn follow(&self, input: Option<usize>) -> Result<(Option<usize>, Option<Image>), NnError> {
        let mut features: Option<usize> = input;
        let mut image: Option<Image> = None;
        for (i, layer) in self.layers.iter().enumerate() {
            if let (Some(given), Some(taken)) = (features, layer.input_size())
                && given != taken
            {
                return Err(NnError::InvalidConfig {
                    name: "Chain",
                    reason: format!(
                        "layer {i} takes {taken} input features, but the layers before it \
                         give {given}"
                    ),
                });
            }
            features = match features.or(layer.input_size()) {
                Some(n) => layer.output_size_for(n).map_err(|e| match e {
                    NnError::InvalidConfig { reason, .. } => NnError::InvalidConfig {
                        name: "Chain",
                        reason: format!("layer {i}: {reason}"),
                    },
                    other => other,
                })?,
                None => layer.output_size(),
            };
            let taken = layer.input_image_shape();
            if let (Some(given), Some(taken)) = (image, taken)
                && given != taken
            {
                return Err(NnError::InvalidConfig {
                    name: "Chain",
                    reason: format!(
                        "layer {i} takes images of {} × {} × {} (channels × height × width), \
                         but the layers before it give images of {} × {} × {}",
                        taken.0, taken.1, taken.2, given.0, given.1, given.2
                    ),
                });
            }
            image = match layer.output_image_shape() {
                Some(shape) => Some(shape),
                None if layer.preserves_size() => image.or(taken),
                None => None,
            };
        }
        Ok((features, image))
    }
}

impl<T: MatScalar> Layer<T> for Chain<T> {
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        self.layers.iter().fold(x, |h, layer| layer.forward(h, ctx))
    }

    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        for (i, layer) in self.layers.iter().enumerate() {
            layer.visit(&format!("{prefix}layers.{i}."), f);
        }
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        for layer in &mut self.layers {
            layer.visit_mut(f);
        }
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&'a DMatrix<T>)) {
        for layer in &self.layers {
            layer.visit_params(f);
        }
    }

    fn visit_state<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        for (i, layer) in self.layers.iter().enumerate() {
            layer.visit_state(&format!("{prefix}layers.{i}."), f);
        }
    }

    fn visit_state_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        for layer in &mut self.layers {
            layer.visit_state_mut(f);
        }
    }

    /// Every layer's own check, in order, then that each layer takes the number of features
    /// the layers before it give, where both are known ([`Layer::output_size`]), images of
    /// the shape they give, where both are known ([`Layer::input_image_shape`]), and that the
    /// layers that skip padding skip the same ([`Layer::mask_value`]: one masking −1 after
    /// one that outputs 0 at padding would read the padding as data).
    fn check_params(&self) -> Result<(), NnError> {
        self.layers.iter().try_for_each(|l| l.check_params())?;
        let mut masks = self
            .layers
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.mask_value().map(|m| (i, m)));
        if let Some((first, mask)) = masks.next()
            && let Some((i, other)) = masks.find(|&(_, m)| m != mask)
        {
            return Err(NnError::InvalidConfig {
                name: "Chain",
                reason: format!(
                    "layer {i} masks padding of value {other}, layer {first} of value {mask}: \
                     the layers of a chain must skip the same padding"
                ),
            });
        }
        self.features_out().map(|_| ())
    }

    /// The last layer's output size, through the layers after it that preserve the size.
    fn output_size(&self) -> Option<usize> {
        self.features_out().ok().flatten()
    }

    /// The sizes followed from an input of `input` features through every layer (an error
    /// naming the first layer that cannot take what reaches it).
    fn output_size_for(&self, input: usize) -> Result<Option<usize>, NnError> {
        self.features_out_from(Some(input))
    }

    /// The first layer's input size, looking past leading layers that preserve the size
    /// (e.g. a [`Dropout`](crate::Dropout) before the first [`Dense`](crate::Dense)).
    fn input_size(&self) -> Option<usize> {
        self.first_stated(|layer| layer.input_size())
    }

    fn preserves_size(&self) -> bool {
        self.layers.iter().all(|l| l.preserves_size())
    }

    /// The first layer's input images, looking past leading layers that preserve the size
    /// (as [`input_size`](Layer::input_size)).
    fn input_image_shape(&self) -> Option<Image> {
        self.first_stated(|layer| layer.input_image_shape())
    }

    /// The images leaving the last layer that gives images, through the layers after it
    /// that preserve the size.
    fn output_image_shape(&self) -> Option<Image> {
        self.follow(None).ok().and_then(|(_, image)| image)
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// Each layer cast through its [`Layer::cast_into`]; a layer that cannot be cast is
/// [`NnError::NotCastable`] with its path (`layers.{i}`, nested chains' paths joined).
impl<T: MatScalar> Cast for Chain<T> {
    type Output<U: MatScalar> = Chain<U>;

    fn cast<U: MatScalar>(&self) -> Result<Chain<U>, NnError> {
        let layers = self
            .layers
            .iter()
            .enumerate()
            .map(|(i, layer)| cast_layer(layer.as_ref(), &format!("layers.{i}")))
            .collect::<Result<_, _>>()?;
        Ok(Chain { layers })
    }
}

/// `layer` cast to `U` through its [`Layer::cast_into`], for a container holding it at `path`
/// (`layers.2`): a layer that cannot be cast is [`NnError::NotCastable`] with that path, one
/// nested deeper with its own path appended (`layers.2.layers.0`).
pub(super) fn cast_layer<T: MatScalar, U: MatScalar>(
    layer: &dyn DynLayer<T>,
    path: &str,
) -> Result<Box<dyn DynLayer<U>>, NnError> {
    let mut slot = CastSlot::new::<U>();
    layer.cast_into(&mut slot).map_err(|e| match e {
        NnError::NotCastable {
            layer,
            layer_type,
            target,
        } => NnError::NotCastable {
            layer: format!("{path}.{layer}"),
            layer_type,
            target,
        },
        other => other,
    })?;
    slot.take::<U>().ok_or_else(|| NnError::NotCastable {
        layer: path.to_string(),
        layer_type: layer.type_name(),
        target: short_type_name(std::any::type_name::<U>()),
    })
}
