//! [`SkipConnection`]: a layer's output combined with its own input (residual blocks).

use super::chain::{DynLayer, cast_layer};
use crate::{Cast, CastSlot, Context, Layer, NnError};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// How a [`SkipConnection`] combines its layer's output `f(x)` with its input `x`.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::{Activation, Connection, Dense, Layer, SkipConnection};
/// let double = || Dense::from_parts(dmatrix![2.0], None, Activation::Identity).unwrap();
/// let x = dmatrix![3.0];
/// let add = SkipConnection::<f64>::new(double(), Connection::Add);
/// assert_eq!(add.predict(&x).unwrap(), dmatrix![9.0]); // 2·3 + 3
/// let cat = SkipConnection::<f64>::new(double(), Connection::Concat);
/// assert_eq!(cat.predict(&x).unwrap(), dmatrix![6.0; 3.0]); // [2·3; 3]
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connection {
    /// `f(x) + x`: a residual block (He et al. 2016, "Deep residual learning"); `f` must keep
    /// the number of features.
    Add,
    /// `[f(x); x]`, the features stacked (`f(x)`'s first, as Flux's `SkipConnection(layer,
    /// (mx, x) -> cat(mx, x; dims = 1))`; DenseNet's concatenation).
    Concat,
}

/// Flux's `SkipConnection(layer, connection)`: `y = connection(layer(x), x)` for `x`:
/// `features × batch` — a residual block with [`Connection::Add`], the input's features kept
/// beside the layer's with [`Connection::Concat`]. The layer is any [`Layer`] (a
/// [`Chain`](crate::Chain), typically); its parameters and state are named `layer.…`
/// (`layers.1.layer.layers.0.weight` for a chain inside a chain).
///
/// # Example
/// ```
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::nalgebra::DMatrix;
/// use adroit_nn::{Activation, Chain, Connection, Dense, Layer, SkipConnection};
/// let mut rng = StdRng::seed_from_u64(0);
/// // A residual MLP block: x + W₂·relu(W₁·x + b₁) + b₂, 8 features in and out.
/// let block = Chain::<f64>::new()
///     .push(Dense::new(8, 16, Activation::Relu, &mut rng))
///     .push(Dense::new(16, 8, Activation::Identity, &mut rng));
/// let model = Chain::new()
///     .push(SkipConnection::new(block, Connection::Add))
///     .push(Dense::new(8, 1, Activation::Identity, &mut rng));
/// assert_eq!(model.predict(&DMatrix::zeros(8, 5)).unwrap().shape(), (1, 5));
/// let mut names = Vec::new();
/// model.visit("", &mut |name, _| names.push(name.to_string()));
/// assert_eq!(names[0], "layers.0.layer.layers.0.weight");
/// ```
pub struct SkipConnection<T: MatScalar> {
    layer: Box<dyn DynLayer<T>>,
    connection: Connection,
}

impl<T: MatScalar> SkipConnection<T> {
    /// `connection(layer(x), x)`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Activation, Connection, SkipConnection};
    /// let skip = SkipConnection::<f64>::new(Activation::Tanh, Connection::Add);
    /// assert_eq!(skip.connection(), Connection::Add);
    /// ```
    pub fn new<L: Layer<T> + Clone + 'static>(layer: L, connection: Connection) -> Self {
        Self {
            layer: Box::new(layer),
            connection,
        }
    }

    /// How the layer's output and the input are combined.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Activation, Connection, SkipConnection};
    /// let skip = SkipConnection::<f64>::new(Activation::Relu, Connection::Concat);
    /// assert_eq!(skip.connection(), Connection::Concat);
    /// ```
    pub fn connection(&self) -> Connection {
        self.connection
    }

    /// The wrapped layer as its concrete type `L`, or `None` if it is another type.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Connection, Dense, SkipConnection};
    /// let dense = Dense::from_parts(dmatrix![2.0], None, Activation::Identity).unwrap();
    /// let skip = SkipConnection::<f64>::new(dense, Connection::Add);
    /// assert_eq!(skip.layer::<Dense<f64>>().unwrap().weight, dmatrix![2.0]);
    /// assert!(skip.layer::<Activation>().is_none());
    /// ```
    pub fn layer<L: 'static>(&self) -> Option<&L> {
        self.layer.as_any().downcast_ref()
    }

    /// The wrapped layer as its concrete type `L`, mutably, or `None` if it is another type.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Connection, Dense, Layer, SkipConnection};
    /// let dense = Dense::from_parts(dmatrix![2.0], None, Activation::Identity).unwrap();
    /// let mut skip = SkipConnection::<f64>::new(dense, Connection::Add);
    /// skip.layer_mut::<Dense<f64>>().unwrap().weight[0] = 0.0; // f(x) = 0: the identity
    /// assert_eq!(skip.predict(&dmatrix![5.0]).unwrap(), dmatrix![5.0]);
    /// ```
    pub fn layer_mut<L: 'static>(&mut self) -> Option<&mut L> {
        self.layer.as_any_mut().downcast_mut()
    }

    /// The layer's output features, where known: its own, or its input's if it keeps the size.
    fn layer_output(&self) -> Option<usize> {
        self.layer.output_size().or_else(|| {
            self.layer
                .preserves_size()
                .then(|| self.layer.input_size())
                .flatten()
        })
    }
}

impl<T: MatScalar> Clone for SkipConnection<T> {
    fn clone(&self) -> Self {
        Self {
            layer: self.layer.clone_box(),
            connection: self.connection,
        }
    }
}

/// Shows the connection and the wrapped layer's type.
impl<T: MatScalar> std::fmt::Debug for SkipConnection<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SkipConnection")
            .field("layer", &format_args!("{}", self.layer.type_name()))
            .field("connection", &self.connection)
            .finish()
    }
}

impl<T: MatScalar> Layer<T> for SkipConnection<T> {
    /// `connection(layer(x), x)`, `x`: `features × batch`.
    ///
    /// # Panics
    /// With [`Connection::Add`], if the layer's output does not have the input's shape (a
    /// programmer error; [`Layer::check_params`] reports it as an error first where the
    /// layer states its sizes).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        let y = self.layer.forward(x, ctx);
        match self.connection {
            Connection::Add => {
                assert!(
                    y.shape() == x.shape(),
                    "SkipConnection (Add): the layer maps a {}×{} input to {}×{}; adding the \
                     input needs the same shape (use Connection::Concat, or a layer that keeps \
                     the number of features)",
                    x.nrows(),
                    x.ncols(),
                    y.nrows(),
                    y.ncols()
                );
                y + x
            }
            Connection::Concat => MatVar::vcat(&[y, x]),
        }
    }

    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        self.layer.visit(&format!("{prefix}layer."), f);
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        self.layer.visit_mut(f);
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&'a DMatrix<T>)) {
        self.layer.visit_params(f);
    }

    fn visit_state<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        self.layer.visit_state(&format!("{prefix}layer."), f);
    }

    fn visit_state_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        self.layer.visit_state_mut(f);
    }

    fn input_size(&self) -> Option<usize> {
        self.layer.input_size()
    }

    fn preserves_size(&self) -> bool {
        self.connection == Connection::Add
    }

    /// The layer's input images.
    fn input_image_shape(&self) -> Option<(usize, usize, usize)> {
        self.layer.input_image_shape()
    }

    /// [`Connection::Add`]: the input's images (or the layer's output images where it does
    /// not state its input); [`Connection::Concat`]: the layer's output images (its input
    /// images for a layer that [preserves the size](Layer::preserves_size)) above the input's,
    /// their channels stacked, where both are images of one height and width.
    fn output_image_shape(&self) -> Option<(usize, usize, usize)> {
        let inner_in = self.layer.input_image_shape();
        // A size-preserving layer (a GroupNorm) outputs the images it takes.
        let kept = self.layer.preserves_size().then_some(inner_in).flatten();
        let inner_out = self.layer.output_image_shape().or(kept);
        match self.connection {
            Connection::Add => inner_in.or(inner_out),
            Connection::Concat => match (inner_out, inner_in) {
                (Some((c1, h1, w1)), Some((c0, h0, w0))) if (h1, w1) == (h0, w0) => {
                    Some((c1 + c0, h0, w0))
                }
                _ => None,
            },
        }
    }

    /// [`Connection::Add`]: the input's size; [`Connection::Concat`]: the layer's output
    /// size plus the input's, where both are known.
    fn output_size(&self) -> Option<usize> {
        match self.connection {
            Connection::Add => self.layer.input_size().or(self.layer_output()),
            Connection::Concat => Some(self.layer_output()? + self.layer.input_size()?),
        }
    }

    /// [`Connection::Add`]: `input`, if the layer gives as many features for it (an error
    /// otherwise); [`Connection::Concat`]: the layer's output size for `input` plus `input`.
    fn output_size_for(&self, input: usize) -> Result<Option<usize>, NnError> {
        let inner = self.layer.output_size_for(input).map_err(|e| match e {
            NnError::InvalidConfig { reason, .. } => NnError::InvalidConfig {
                name: "SkipConnection",
                reason: format!("its layer: {reason}"),
            },
            other => other,
        })?;
        match (self.connection, inner) {
            (Connection::Add, Some(out)) if out != input => Err(NnError::InvalidConfig {
                name: "SkipConnection",
                reason: format!(
                    "the layer maps {input} features to {out}; Connection::Add needs the same \
                     number (use Connection::Concat to stack them)"
                ),
            }),
            (Connection::Add, _) => Ok(Some(input)),
            (Connection::Concat, inner) => Ok(inner.map(|out| out + input)),
        }
    }

    /// The layer's own check, then, with [`Connection::Add`], that it keeps the number of
    /// features where it states both sizes, and the images' shape where it states both.
    fn check_params(&self) -> Result<(), NnError> {
        self.layer.check_params()?;
        if self.connection == Connection::Add
            && let (Some(input), Some(output)) = (self.layer.input_size(), self.layer_output())
            && input != output
        {
            return Err(NnError::InvalidConfig {
                name: "SkipConnection",
                reason: format!(
                    "the layer maps {input} features to {output}; Connection::Add needs the \
                     same number (use Connection::Concat to stack them)"
                ),
            });
        }
        if self.connection == Connection::Add
            && let (Some(input), Some(output)) = (
                self.layer.input_image_shape(),
                self.layer.output_image_shape(),
            )
            && input != output
        {
            return Err(NnError::InvalidConfig {
                name: "SkipConnection",
                reason: format!(
                    "the layer maps images of {} × {} × {} to images of {} × {} × {}; \
                     Connection::Add adds pixel to pixel, so it needs the same (channels, \
                     height, width)",
                    input.0, input.1, input.2, output.0, output.1, output.2
                ),
            });
        }
        Ok(())
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// The wrapped layer cast through its [`Layer::cast_into`] (a layer that cannot be cast is
/// [`NnError::NotCastable`] with its path, `layer`), the connection kept.
impl<T: MatScalar> Cast for SkipConnection<T> {
    type Output<U: MatScalar> = SkipConnection<U>;

    fn cast<U: MatScalar>(&self) -> Result<SkipConnection<U>, NnError> {
        let layer = cast_layer(self.layer.as_ref(), "layer")?;
        Ok(SkipConnection {
            layer,
            connection: self.connection,
        })
    }
}
