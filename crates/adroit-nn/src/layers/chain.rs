//! [`Chain`]: layers applied in sequence.

use crate::{Context, Layer};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;
use std::any::Any;

/// A layer that can be cloned and downcast behind a trait object (so a [`Chain`] can be
/// cloned, e.g. to hold gradients shaped like the model, and its layers read back as their
/// concrete types, see [`Chain::layer`]).
pub trait DynLayer<T: MatScalar>: Layer<T> {
    /// A boxed copy.
    fn clone_box(&self) -> Box<dyn DynLayer<T>>;

    /// The layer as [`Any`], for downcasting to its concrete type.
    fn as_any(&self) -> &dyn Any;

    /// The layer as mutable [`Any`], for downcasting to its concrete type.
    fn as_any_mut(&mut self) -> &mut dyn Any;
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
}

/// Layers applied in order: `Chain::new().push(a).push(b)` computes `b(a(x))`. Parameters are
/// named `layers.{i}.{name}`.
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
    pub fn new() -> Self {
        Self { layers: Vec::new() }
    }

    /// Appends a layer.
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
    /// use adroit_nn::nalgebra::dmatrix;
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
    pub fn layer_mut<L: 'static>(&mut self, i: usize) -> Option<&mut L> {
        self.layers.get_mut(i)?.as_any_mut().downcast_mut()
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

    /// The first layer's input size, looking past leading layers that preserve the size
    /// (e.g. a [`Dropout`](crate::Dropout) before the first [`Dense`](crate::Dense)).
    fn input_size(&self) -> Option<usize> {
        for layer in &self.layers {
            if let Some(n) = layer.input_size() {
                return Some(n);
            }
            if !layer.preserves_size() {
                return None;
            }
        }
        None
    }

    fn preserves_size(&self) -> bool {
        self.layers.iter().all(|l| l.preserves_size())
    }
}
