//! [`Mask`]: which parameters a rule applies to, and [`mask`], which builds one from a model.

use crate::{Layer, NnError};
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;

/// One flag per parameter of a model, in its visiting order (the order of
/// [`params`](crate::params), [`Optimizer::update`](super::Optimizer::update)'s arrays and the
/// weight files): `true` where a rule applies. Built by [`mask`], which also records the
/// parameters' names and shapes, so that a mask used with a model whose parameters have
/// other shapes is refused (a model with the same shapes in the same order is accepted: the
/// check sees shapes, not names), or from a plain `Vec<bool>` (then only the count is
/// checked). `!&mask` is its complement; [`within`](Self::within) restricts it to the
/// parameters another mask selects (for a rule inside [`Masked`](super::Masked)).
///
/// # Example
/// ```
/// use adroit_nn::optim::Mask;
/// let m = Mask::from(vec![true, false]);
/// assert_eq!(m.flags(), [true, false]);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "MaskFields"))]
pub struct Mask {
    flags: Vec<bool>,
    /// The names and shapes of the parameters it was built for, when known (one per flag).
    params: Option<Vec<(String, (usize, usize))>>,
}

/// A [`Mask`] as read, before the check that it records one parameter per flag.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct MaskFields {
    flags: Vec<bool>,
    params: Option<Vec<(String, (usize, usize))>>,
}

#[cfg(feature = "serde")]
impl TryFrom<MaskFields> for Mask {
    type Error = String;

    /// Refuses a mask whose recorded parameters are not one per flag (it would check nothing,
    /// or only some of the flags).
    fn try_from(m: MaskFields) -> Result<Self, String> {
        match &m.params {
            Some(params) if params.len() != m.flags.len() => Err(format!(
                "a mask of {} flags records {} parameters (one per flag expected)",
                m.flags.len(),
                params.len()
            )),
            _ => Ok(Mask {
                flags: m.flags,
                params: m.params,
            }),
        }
    }
}

impl Mask {
    /// The flags, one per parameter.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::Mask;
    /// assert_eq!(Mask::from(vec![false, true]).flags(), [false, true]);
    /// ```
    pub fn flags(&self) -> &[bool] {
        &self.flags
    }

    /// This mask's flags at the parameters `outer` selects, in order: the mask for a rule
    /// inside `Masked::new(rule, outer)`, which sees only those parameters. (Optax indexes a
    /// nested mask over the whole model instead; `within` turns such a mask into adroit's.)
    ///
    /// # Panics
    /// If the two masks have different lengths (masks of different models).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::{AdamW, Mask, Masked};
    /// // AdamW on the first and third of three parameters, decaying the third only.
    /// let adamw_on = Mask::from(vec![true, false, true]);
    /// let decay = Mask::from(vec![false, false, true]);
    /// assert_eq!(decay.within(&adamw_on).flags(), [false, true]);
    /// let _opt = Masked::new(AdamW::<f64>::new(1e-3).with_decay_mask(decay.within(&adamw_on)), adamw_on);
    /// ```
    #[track_caller]
    pub fn within(&self, outer: &Mask) -> Mask {
        assert_eq!(
            self.flags.len(),
            outer.flags.len(),
            "Mask::within: a mask of {} parameters within one of {} (masks of different models)",
            self.flags.len(),
            outer.flags.len()
        );
        let keep = |k: &usize| outer.flags[*k];
        Mask {
            flags: (0..self.flags.len())
                .filter(keep)
                .map(|k| self.flags[k])
                .collect(),
            params: self.params.as_ref().map(|params| {
                (0..params.len())
                    .filter(keep)
                    .map(|k| params[k].clone())
                    .collect()
            }),
        }
    }

    /// Checks that this mask fits parameters of the given shapes (in the model's visiting
    /// order): one flag per parameter and, for a mask built by [`mask`], the shapes it was
    /// built for. `rule` names the owner in the message.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] (`name: "mask"`) saying which does not fit.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::NnError;
    /// use adroit_nn::optim::Mask;
    /// let m = Mask::from(vec![true, false]);
    /// assert!(m.check("AdamW", &[(3, 2), (3, 1)]).is_ok());
    /// let err = m.check("AdamW", &[(3, 2)]).unwrap_err();
    /// assert!(matches!(err, NnError::InvalidConfig { name: "mask", .. }));
    /// assert!(err.to_string().contains("AdamW's mask has 2 entries for 1 parameters"));
    /// ```
    pub fn check(&self, rule: &str, shapes: &[(usize, usize)]) -> Result<(), NnError> {
        self.check_shapes(rule, shapes.iter().copied())
    }

    /// [`check`](Self::check) over shapes produced on the fly (no list collected: `update`
    /// runs it on every step).
    fn check_shapes(
        &self,
        rule: &str,
        shapes: impl ExactSizeIterator<Item = (usize, usize)>,
    ) -> Result<(), NnError> {
        let invalid = |reason: String| NnError::InvalidConfig {
            name: "mask",
            reason,
        };
        if self.flags.len() != shapes.len() {
            return Err(invalid(format!(
                "{rule}'s mask has {} entries for {} parameters (one per parameter, in the \
                 model's visiting order: build it from the model with optim::mask)",
                self.flags.len(),
                shapes.len()
            )));
        }
        let Some(params) = &self.params else {
            return Ok(());
        };
        for (k, ((name, built), found)) in params.iter().zip(shapes).enumerate() {
            if *built != found {
                return Err(invalid(format!(
                    "{rule}'s mask was built for another model: its parameter {k} ({name}) is \
                     {}×{}, this model's is {}×{}",
                    built.0, built.1, found.0, found.1
                )));
            }
        }
        Ok(())
    }

    /// As [`check`](Self::check), panicking with its message (for `update`, which returns
    /// nothing; the training functions call `check` first and return its error).
    #[track_caller]
    pub(crate) fn assert_fits<T: MatScalar>(&self, rule: &str, updates: &[DMatrix<T>]) {
        if let Err(e) = self.check_shapes(rule, updates.iter().map(DMatrix::shape)) {
            panic!("{e}");
        }
    }
}

impl std::ops::Not for &Mask {
    type Output = Mask;

    /// The complement: `true` where `self` is `false`, for the same parameters.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::Mask;
    /// assert_eq!((!&Mask::from(vec![true, false])).flags(), [false, true]);
    /// ```
    fn not(self) -> Mask {
        Mask {
            flags: self.flags.iter().map(|f| !f).collect(),
            params: self.params.clone(),
        }
    }
}

impl From<Vec<bool>> for Mask {
    /// A mask of the given flags, for parameters of any shapes.
    fn from(flags: Vec<bool>) -> Self {
        Self {
            flags,
            params: None,
        }
    }
}

/// The mask of `model`'s parameters for which `select(name, parameter)` is true, in the
/// model's visiting order. Names are [`params`](crate::params)' names, e.g. `layers.0.weight`,
/// `layers.0.bias`, `layers.1.scale` for a [`Chain`](crate::Chain) of a `Dense` and a
/// `LayerNorm`. The mask records the parameters' names and shapes: used with a model whose
/// parameters have other shapes, the training functions refuse it.
///
/// The usual weight-decay mask — decay the weight matrices, not the biases and `LayerNorm`
/// gains — is `mask(&model, |name, _| name.ends_with("weight"))`; with a
/// [`TransformerEncoderLayer`](crate::TransformerEncoderLayer), whose norms' gains carry
/// PyTorch's names (`norm1.weight`), add `&& !name.contains("norm")`. (Optax's common
/// `lambda p: p.ndim > 1` has no direct equivalent: every parameter here is a matrix, and
/// `p.ncols() > 1` would also exclude the weight of a `Dense` with one input, `out × 1`.)
///
/// # Example
/// ```
/// use adroit_nn::optim::mask;
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Chain, Dense, LayerNorm};
/// let mut rng = StdRng::seed_from_u64(0);
/// let model: Chain<f32> = Chain::new()
///     .push(Dense::new(3, 4, Activation::Relu, &mut rng))
///     .push(LayerNorm::new(4));
/// let decay = mask(&model, |name, _| name.ends_with("weight"));
/// assert_eq!(decay.flags(), [true, false, false, false]); // weight, bias, scale, bias
/// ```
pub fn mask<T, M, F>(model: &M, mut select: F) -> Mask
where
    T: MatScalar,
    M: Layer<T> + ?Sized,
    F: FnMut(&str, &DMatrix<T>) -> bool,
{
    let (mut flags, mut params) = (Vec::new(), Vec::new());
    model.visit("", &mut |name, p| {
        flags.push(select(name, p));
        params.push((name.to_string(), p.shape()));
    });
    Mask {
        flags,
        params: Some(params),
    }
}
