//! Models over another element type: [`Cast`] (Flux's `f64(model)`, PyTorch's
//! `model.double()`), and the [`CastSlot`] through which a [`Chain`](crate::Chain) casts the
//! layers it holds behind trait objects.

use crate::{DynLayer, Layer, NnError};
use adroit_forward::{Dual, DualVec};
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;
use std::any::{Any, TypeId};

/// A layer or model that can be rebuilt over another element type: `Dense<f32>` →
/// `Dense<f64>`, as Flux's `f64(model)` / `f32(model)` and PyTorch's `model.double()` /
/// `model.float()`. Train in `f32`, then cast to `f64` for a gradient check; cast to a dual
/// type to run the model under `matrix::hvp`/`matrix::hessian` (what [`hessian`](crate::hessian)
/// and [`hvp`](crate::hvp) do).
///
/// Values convert through `f64` as Rust's `as` does: `f64` → `f32` rounds to nearest,
/// overflows to ±∞ and underflows to 0 or a subnormal (a [`LayerNorm`](crate::LayerNorm) `ε`
/// of `1e-50` becomes 0 in `f32`); into a dual type a value becomes a constant (zero
/// tangents); out of a dual type only the primal value is kept (the tangents are dropped).
///
/// The model is the same function in every element type, but a loss need not be: the losses
/// that guard a logarithm with `ε` ([`msle`](crate::losses::msle),
/// [`crossentropy`](crate::losses::crossentropy),
/// [`binarycrossentropy`](crate::losses::binarycrossentropy)) use the element type's machine
/// epsilon, so where that guard is active (a prediction at 0 or 1) an `f32` and an `f64`
/// model compute different losses and derivatives.
///
/// Every layer of this crate implements it; a layer of your own implements it to be cast on
/// its own, and also overrides [`Layer::cast_into`] with `slot.fill(self)` to be cast inside a
/// [`Chain`](crate::Chain).
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Cast, Chain, Dense, Layer};
/// let mut rng = StdRng::seed_from_u64(0);
/// let model = Chain::<f32>::new()
///     .push(Dense::new(2, 3, Activation::Tanh, &mut rng))
///     .push(Dense::new(3, 1, Activation::Identity, &mut rng));
/// let wide: Chain<f64> = model.cast().unwrap(); // every f32 is exactly an f64
/// let x = dmatrix![0.5f32, -1.0; 2.0, 0.25];
/// let (y32, y64) = (model.predict(&x).unwrap(), wide.predict(&x.cast()).unwrap());
/// assert!((y64 - y32.cast::<f64>()).amax() < 1e-6);
/// ```
pub trait Cast {
    /// The same layer over element type `U` (castable in turn, so that layers holding other
    /// layers, such as [`Bidirectional`](crate::Bidirectional), cast theirs).
    type Output<U: MatScalar>: Layer<U> + Cast + Clone + 'static;

    /// The layer with every parameter entry (and every setting of the element type, such as
    /// [`LayerNorm`](crate::LayerNorm)'s `ε`) converted to `U`, its structure and activations
    /// unchanged.
    ///
    /// # Errors
    /// [`NnError::NotCastable`] if the model holds a layer that cannot be cast (one whose
    /// [`Layer::cast_into`] leaves its slot empty), with the layer's path in the model
    /// (`layers.2.layers.0`). The layers of this crate themselves never fail.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::adroit_reverse::adroit_forward::Dual;
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Cast, Dense};
    /// let layer = Dense::from_parts(dmatrix![1.0, 2.5], None, Activation::Relu).unwrap();
    /// let narrow: Dense<f32> = layer.cast().unwrap();
    /// assert_eq!(narrow.weight, dmatrix![1.0f32, 2.5]);
    /// // Into a dual type: constants (zero tangents); the activation is kept.
    /// let dual: Dense<Dual<f64>> = layer.cast().unwrap();
    /// let w = dual.weight[(0, 1)];
    /// assert_eq!((w.value(), w.tangent()), (2.5, 0.0)); // (`==` on duals compares values only)
    /// assert_eq!(dual.activation, Activation::Relu);
    /// ```
    fn cast<U: MatScalar>(&self) -> Result<Self::Output<U>, NnError>;
}

/// One entry converted from `T` to `U` through `f64` (`as` for floats, the primal of a dual,
/// a constant dual): see [`Cast`].
pub(crate) fn cast_entry<T: MatScalar, U: MatScalar>(x: T) -> U {
    let value = x.to_f64().unwrap_or(f64::NAN);
    U::from_f64(value).unwrap_or_else(U::nan)
}

/// A matrix converted entry by entry by [`cast_entry`].
pub(crate) fn cast_matrix<T: MatScalar, U: MatScalar>(m: &DMatrix<T>) -> DMatrix<U> {
    m.map(cast_entry)
}

/// Where a layer behind a trait object leaves a copy of itself over another element type
/// (the slot knows the type; the layer does not need to): what [`Layer::cast_into`] fills, so
/// that a [`Chain`](crate::Chain) of boxed layers can be cast. A layer implementing [`Cast`]
/// fills it with [`CastSlot::fill`].
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix::MatVar;
/// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
/// use adroit_nn::{Cast, CastSlot, Chain, Context, Layer, MatScalar, NnError};
///
/// /// y = s ⊙ x with a learned per-feature scale s, castable inside a chain.
/// #[derive(Clone)]
/// struct Scale<T> { s: DMatrix<T> }
///
/// impl<T: MatScalar> Layer<T> for Scale<T> {
///     fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
///         x.component_mul(ctx.param(&self.s))
///     }
///     fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
///         f(&format!("{prefix}s"), &self.s);
///     }
///     fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
///         f(&mut self.s);
///     }
///     fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
///         slot.fill(self)
///     }
/// }
///
/// impl<T: MatScalar> Cast for Scale<T> {
///     type Output<U: MatScalar> = Scale<U>;
///     fn cast<U: MatScalar>(&self) -> Result<Scale<U>, NnError> {
///         Ok(Scale { s: self.s.map(|v| U::from(v).unwrap()) })
///     }
/// }
///
/// let model = Chain::<f32>::new().push(Scale { s: dmatrix![2.0f32; 3.0] });
/// let wide: Chain<f64> = model.cast().unwrap();
/// assert_eq!(wide.predict(&dmatrix![1.0; 1.0]).unwrap(), dmatrix![2.0; 3.0]);
/// ```
pub struct CastSlot {
    /// The element type asked for.
    target: TypeId,
    /// `Box<dyn DynLayer<U>>` for the target `U`, once filled.
    layer: Option<Box<dyn Any>>,
}

/// Shows whether the slot is filled.
impl std::fmt::Debug for CastSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CastSlot")
            .field("filled", &self.layer.is_some())
            .finish_non_exhaustive()
    }
}

/// `Some(Box<dyn DynLayer<U>>)` as `Box<dyn Any>` when `target` is `U`'s type.
fn boxed_if<U: MatScalar, L: Cast + ?Sized>(
    layer: &L,
    target: TypeId,
) -> Option<Result<Box<dyn Any>, NnError>> {
    (target == TypeId::of::<U>()).then(|| {
        let cast: Box<dyn DynLayer<U>> = Box::new(layer.cast::<U>()?);
        Ok(Box::new(cast) as Box<dyn Any>)
    })
}

impl CastSlot {
    /// An empty slot for element type `U`: how a layer that holds boxed layers of its own (a
    /// skip connection, a parallel branch) casts them, as [`Chain`](crate::Chain) does — one
    /// slot per inner layer, [`Layer::cast_into`], then [`take`](Self::take).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, CastSlot, Dense, DynLayer, Layer};
    /// let inner: Box<dyn DynLayer<f64>> =
    ///     Box::new(Dense::from_parts(dmatrix![2.0], None, Activation::Identity).unwrap());
    /// let mut slot = CastSlot::new::<f32>();
    /// inner.cast_into(&mut slot).unwrap();
    /// let narrow: Box<dyn DynLayer<f32>> = slot.take().unwrap();
    /// assert_eq!(narrow.predict(&dmatrix![1.5f32]).unwrap(), dmatrix![3.0f32]);
    /// ```
    pub fn new<U: MatScalar>() -> Self {
        Self {
            target: TypeId::of::<U>(),
            layer: None,
        }
    }

    /// Fills the slot with `layer` cast to the slot's element type ([`Cast::cast`]).
    ///
    /// # Errors
    /// The error of `layer.cast()` (a nested model holding a layer that cannot be cast).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Chain, Dense, Layer};
    /// // What `Chain::cast` relies on: each built-in layer fills its slot.
    /// let model = Chain::<f64>::new()
    ///     .push(Dense::from_parts(dmatrix![3.0], None, Activation::Identity).unwrap());
    /// let narrow = adroit_nn::Cast::cast::<f32>(&model).unwrap();
    /// assert_eq!(narrow.predict(&dmatrix![2.0f32]).unwrap(), dmatrix![6.0f32]);
    /// ```
    pub fn fill<L: Cast + ?Sized>(&mut self, layer: &L) -> Result<(), NnError> {
        let target = self.target;
        let cast = boxed_if::<f32, L>(layer, target)
            .or_else(|| boxed_if::<f64, L>(layer, target))
            .or_else(|| boxed_if::<Dual<f32>, L>(layer, target))
            .or_else(|| boxed_if::<Dual<f64>, L>(layer, target))
            .or_else(|| boxed_if::<DualVec<f32, 12>, L>(layer, target))
            .or_else(|| boxed_if::<DualVec<f64, 12>, L>(layer, target));
        // Every element type of `MatScalar` is listed (a test casts to each): an unlisted one
        // leaves the slot empty, which `Chain::cast` reports as an error.
        if let Some(cast) = cast {
            self.layer = Some(cast?);
        }
        Ok(())
    }

    /// The layer left in the slot, if it was filled (`None` also if `U` is not the element
    /// type the slot was made for).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Activation, CastSlot, Layer};
    /// let mut slot = CastSlot::new::<f64>();
    /// Layer::<f32>::cast_into(&Activation::Tanh, &mut slot).unwrap();
    /// assert!(slot.take::<f64>().is_some());
    /// assert!(CastSlot::new::<f64>().take::<f64>().is_none()); // never filled
    /// ```
    pub fn take<U: MatScalar>(self) -> Option<Box<dyn DynLayer<U>>> {
        let layer = self.layer?.downcast::<Box<dyn DynLayer<U>>>().ok()?;
        Some(*layer)
    }
}
