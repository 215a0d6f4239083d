//! Parameter initialisers: [`glorot_uniform`] (the default of [`Dense::new`](crate::Dense::new))
//! and the choice of [`Init`] for [`Dense::with_init`](crate::Dense::with_init).

use crate::NnError;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// Glorot (Xavier) uniform: entries uniform in `±√(6/(fan_in + fan_out))` (Glorot & Bengio
/// 2010; Flux's default for `Dense`). Returns a `fan_out × fan_in` matrix. The same values as
/// [`Init::GlorotUniform`] with gain 1 from the same `rng`.
///
/// # Panics
/// If the matrix would have more entries than `usize` counts, or more bytes than an allocation
/// can hold (nalgebra does not check the count, and its matrix would then index past its
/// buffer). A size within those limits but beyond the machine's memory fails as any
/// allocation does.
///
/// # Example
/// ```
/// use adroit_nn::{nalgebra, rand};
/// use adroit_nn::rand::SeedableRng;
/// let w: nalgebra::DMatrix<f64> =
///     adroit_nn::init::glorot_uniform(&mut rand::rngs::StdRng::seed_from_u64(0), 3, 4);
/// assert_eq!(w.shape(), (3, 4));
/// assert!(w.amax() <= (6.0f64 / 7.0).sqrt());
/// ```
#[track_caller]
pub fn glorot_uniform<T: MatScalar>(
    rng: &mut impl Rng,
    fan_out: usize,
    fan_in: usize,
) -> DMatrix<T> {
    check_size::<T>("glorot_uniform", fan_out, fan_in);
    uniform(rng, fan_out, fan_in, glorot_scale(fan_out, fan_in, 6.0))
}

/// How to draw a layer's initial weights, `fan_out × fan_in` (`out × in` for a
/// [`Dense`](crate::Dense)): Flux's `init` keyword and its functions of the same names,
/// PyTorch's `torch.nn.init`. `gain` scales the spread, chosen for the layer's activation as
/// `torch.nn.init.calculate_gain` gives: 1 for linear and sigmoid layers, 5/3 for tanh, `√2`
/// for ReLU (He et al.). There is no default gain per variant: Flux's `glorot_*` default to
/// 1 and its `kaiming_*` (like PyTorch's `kaiming_*_`) to `√2`, so
/// `KaimingUniform { gain: 2f64.sqrt() }` is Flux's `kaiming_uniform`. PyTorch's default for
/// `nn.Linear` weights (uniform in `±1/√fan_in`) is `KaimingUniform { gain: 1/√3 }`; its
/// bias is uniform in the same range, where [`Dense`](crate::Dense) starts it at 0 (Flux's
/// default).
///
/// | variant | distribution | reference |
/// |---|---|---|
/// | `GlorotUniform` | uniform in `±gain·√(6/(fan_in + fan_out))` | Glorot & Bengio 2010; Flux `glorot_uniform`, PyTorch `xavier_uniform_` |
/// | `GlorotNormal` | normal, mean 0, sd `gain·√(2/(fan_in + fan_out))` | Flux `glorot_normal`, PyTorch `xavier_normal_` |
/// | `KaimingUniform` | uniform in `±gain·√(3/fan_in)` | He et al. 2015; Flux `kaiming_uniform`, PyTorch `kaiming_uniform_` (fan-in mode) |
/// | `KaimingNormal` | normal, mean 0, sd `gain/√fan_in` | Flux `kaiming_normal`, PyTorch `kaiming_normal_` (fan-in mode) |
/// | `Zeros` | all zero | Flux `zeros32`, PyTorch `zeros_` |
///
/// Glorot's `fan_in + fan_out` and Kaiming's `fan_in` count as 1 when 0 (the matrix is empty
/// then: nothing is drawn). The default is Glorot uniform with gain 1,
/// [`Dense::new`](crate::Dense::new)'s choice.
///
/// # Example
/// ```
/// use adroit_nn::init::Init;
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// // He initialisation for a ReLU layer of 256 inputs: sd √2/√256 = 0.088.
/// let init = Init::KaimingNormal { gain: 2f64.sqrt() };
/// let w = init.sample::<f64>(&mut StdRng::seed_from_u64(0), 128, 256).unwrap();
/// let sd = (w.iter().map(|v| v * v).sum::<f64>() / w.len() as f64).sqrt();
/// assert!((sd / (2f64.sqrt() / 16.0) - 1.0).abs() < 0.02);
/// assert!(Init::GlorotUniform { gain: f64::NAN }.sample::<f64>(&mut StdRng::seed_from_u64(0), 2, 2).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Init {
    /// Uniform in `±gain·√(6/(fan_in + fan_out))`.
    GlorotUniform {
        /// The spread's factor (finite, ≥ 0).
        gain: f64,
    },
    /// Normal with mean 0 and standard deviation `gain·√(2/(fan_in + fan_out))`.
    GlorotNormal {
        /// The spread's factor (finite, ≥ 0).
        gain: f64,
    },
    /// Uniform in `±gain·√(3/fan_in)` (variance `gain²/fan_in`).
    KaimingUniform {
        /// The spread's factor (finite, ≥ 0); `√2` for ReLU.
        gain: f64,
    },
    /// Normal with mean 0 and standard deviation `gain/√fan_in`.
    KaimingNormal {
        /// The spread's factor (finite, ≥ 0); `√2` for ReLU.
        gain: f64,
    },
    /// All zero (a layer whose weights are all equal learns them all alike: for a last layer,
    /// or with another source of asymmetry).
    Zeros,
}

impl Default for Init {
    /// Glorot uniform with gain 1.
    fn default() -> Self {
        Init::GlorotUniform { gain: 1.0 }
    }
}

impl Init {
    /// A `fan_out × fan_in` matrix drawn from this distribution with `rng` (entries drawn in
    /// column-major order, in `f64`, then rounded to `T`).
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if the gain is negative or not finite, or so large that the
    /// spread (the uniform bound, or the normal's standard deviation) exceeds `T::MAX / 16`
    /// (the draws, or `2·bound` inside the uniform sampler, would overflow).
    ///
    /// # Panics
    /// If the matrix would have more entries than `usize` counts, or more bytes than an
    /// allocation can hold (as [`glorot_uniform`]).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::init::Init;
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// let w = Init::KaimingUniform { gain: 1.0 }.sample::<f32>(&mut StdRng::seed_from_u64(3), 4, 12).unwrap();
    /// assert_eq!(w.shape(), (4, 12));
    /// assert!(w.amax() <= 0.5); // √(3/12)
    /// ```
    #[track_caller]
    pub fn sample<T: MatScalar>(
        self,
        rng: &mut impl Rng,
        fan_out: usize,
        fan_in: usize,
    ) -> Result<DMatrix<T>, NnError> {
        let fan_in_scale = |s: f64| (s / (fan_in.max(1) as f64)).sqrt();
        // (gain, the spread per unit gain, a normal draw?)
        let (gain, scale, normal_draw) = match self {
            Init::GlorotUniform { gain } => (gain, glorot_scale(fan_out, fan_in, 6.0), false),
            Init::GlorotNormal { gain } => (gain, glorot_scale(fan_out, fan_in, 2.0), true),
            Init::KaimingUniform { gain } => (gain, fan_in_scale(3.0), false),
            Init::KaimingNormal { gain } => (gain, fan_in_scale(1.0), true),
            Init::Zeros => (0.0, 0.0, false),
        };
        if !(gain.is_finite() && gain >= 0.0) {
            return Err(NnError::InvalidConfig {
                name: "init gain",
                reason: format!("{gain} in {self:?} is not a finite number ≥ 0"),
            });
        }
        check_size::<T>("Init::sample", fan_out, fan_in);
        if self == Init::Zeros {
            return Ok(DMatrix::zeros(fan_out, fan_in));
        }
        let spread = gain * scale;
        let limit = num_traits::cast::<T, f64>(<T as num_traits::Float>::max_value())
            .unwrap_or(f64::MAX)
            / 16.0;
        if spread > limit {
            return Err(NnError::InvalidConfig {
                name: "init gain",
                reason: format!(
                    "{gain} in {self:?} makes a spread of {spread:e} for a {fan_out} × {fan_in} \
                     matrix, beyond what the element type holds safely ({limit:e})"
                ),
            });
        }
        Ok(if normal_draw {
            normal(rng, fan_out, fan_in, spread)
        } else {
            uniform(rng, fan_out, fan_in, spread)
        })
    }
}

/// `√(s/(fan_in + fan_out))`, the sum counted as at least 1.
fn glorot_scale(fan_out: usize, fan_in: usize, s: f64) -> f64 {
    (s / (fan_in as f64 + fan_out as f64).max(1.0)).sqrt()
}

/// Entries uniform in `[−limit, limit]`.
pub(crate) fn uniform<T: MatScalar>(
    rng: &mut impl Rng,
    rows: usize,
    cols: usize,
    limit: f64,
) -> DMatrix<T> {
    drawn(rows, cols, || {
        T::from_f64(rng.random_range(-limit..=limit)).unwrap_or_else(T::zero)
    })
}

/// A `rows × cols` matrix of draws, column by column; an empty one without visiting its
/// `usize::MAX` columns or rows one by one (nalgebra's `from_fn` does, which took forever in a
/// debug build for `Dense::new(usize::MAX, 0)`).
fn drawn<T: MatScalar>(rows: usize, cols: usize, mut draw: impl FnMut() -> T) -> DMatrix<T> {
    if rows == 0 || cols == 0 {
        return DMatrix::zeros(rows, cols);
    }
    DMatrix::from_fn(rows, cols, |_, _| draw())
}

/// Entries normal with mean 0 and standard deviation `sd`.
pub(crate) fn normal<T: MatScalar>(
    rng: &mut impl Rng,
    rows: usize,
    cols: usize,
    sd: f64,
) -> DMatrix<T> {
    drawn(rows, cols, || {
        let z: f64 = StandardNormal.sample(rng);
        T::from_f64(sd * z).unwrap_or_else(T::zero)
    })
}

/// Whether a `rows × cols` matrix of `T` can be allocated: no more entries than `usize`
/// counts and no more than `isize::MAX` bytes.
pub(crate) fn fits_allocation<T>(rows: usize, cols: usize) -> bool {
    rows.checked_mul(cols)
        .and_then(|n| n.checked_mul(size_of::<T>()))
        .is_some_and(|b| b <= isize::MAX as usize)
}

/// Panics (naming `who`) unless a `rows × cols` matrix of `T` [fits an
/// allocation](fits_allocation).
#[track_caller]
pub(crate) fn check_size<T>(who: &str, rows: usize, cols: usize) {
    assert!(
        fits_allocation::<T>(rows, cols),
        "{who}: a {rows} × {cols} matrix has more entries than usize can count or more bytes \
         than an allocation can hold"
    );
}
