//! [`CheckScalar`]: the precisions the checks run in.

use crate::GenericFn;
use adroit_forward::SpecialFunctions;
use adroit_reverse::{Pullback, TapeScalar};
use nalgebra::DMatrix;
use num_traits::Float;

/// `f32` or `f64`: a type every AD mode of adroit supports (forward duals, the reverse tape,
/// forward-over-reverse Hessians).
///
/// # Example
/// A check written once for both precisions:
/// ```
/// use adroit_check::{CheckScalar, Options, generic_fn, gradcheck};
/// fn sin_is_right<T: CheckScalar>(x: T) -> bool {
///     let f = generic_fn!(|x| vec![x[0].sin()]);
///     gradcheck(&f, &[x], &Options::for_precision::<T>()).is_ok()
/// }
/// assert!(sin_is_right(0.5_f32) && sin_is_right(0.5_f64));
/// ```
pub trait CheckScalar:
    TapeScalar + nalgebra::Scalar + Float + SpecialFunctions + sealed::Sealed
{
    /// Converts to `f64` for comparisons.
    ///
    /// # Example
    /// ```
    /// use adroit_check::CheckScalar;
    /// assert_eq!(0.5_f32.to_f64_lossless(), 0.5);
    /// // exact: the f32 nearest 0.1 stays itself, which is not the f64 nearest 0.1
    /// assert_eq!(0.1_f32.to_f64_lossless(), f64::from(0.1_f32));
    /// assert_ne!(0.1_f32.to_f64_lossless(), 0.1);
    /// ```
    fn to_f64_lossless(self) -> f64;

    /// Converts from `f64` (rounding for `f32`).
    ///
    /// # Example
    /// ```
    /// use adroit_check::CheckScalar;
    /// assert_eq!(f64::from_f64_rounded(0.1), 0.1);
    /// assert_eq!(f32::from_f64_rounded(0.1), 0.1_f32);
    /// // 1 + 2⁻³⁰ is less than half an f32 ulp (2⁻²⁴) above 1
    /// assert_eq!(f32::from_f64_rounded(1.0 + 2.0_f64.powi(-30)), 1.0);
    /// ```
    fn from_f64_rounded(x: f64) -> Self;

    /// The forward-over-reverse Hessian of the first output of `f` ([`adroit_reverse::hessian`]).
    ///
    /// # Example
    /// ```
    /// use adroit_check::{CheckScalar, generic_fn};
    /// // f = x₀²·x₁ (the second output is ignored): H = [[2x₁, 2x₀], [2x₀, 0]]
    /// let f = generic_fn!(|x| vec![x[0] * x[0] * x[1], x[0]]);
    /// let h = f64::reverse_hessian(&f, &[1.0, 2.0]);
    /// assert_eq!((h[(0, 0)], h[(0, 1)], h[(1, 0)], h[(1, 1)]), (4.0, 2.0, 2.0, 0.0));
    /// ```
    fn reverse_hessian<F: GenericFn>(f: &F, x: &[Self]) -> DMatrix<Self>;

    /// The Hessian-vector product `∇²f₀(x)·v` of the first output of `f` by
    /// forward-over-reverse ([`adroit_reverse::hvp`]).
    ///
    /// # Example
    /// ```
    /// use adroit_check::{CheckScalar, generic_fn};
    /// // f = x₀²·x₁: H = [[2x₁, 2x₀], [2x₀, 0]]; at (1, 2) times (1, 0) is (4, 2).
    /// let f = generic_fn!(|x| vec![x[0] * x[0] * x[1]]);
    /// assert_eq!(f64::reverse_hvp(&f, &[1.0, 2.0], &[1.0, 0.0]), vec![4.0, 2.0]);
    /// ```
    fn reverse_hvp<F: GenericFn>(f: &F, x: &[Self], v: &[Self]) -> Vec<Self>;

    /// The Jacobian of `f` by forward mode ([`adroit_forward::jacobian`]): `m × n`.
    ///
    /// # Example
    /// ```
    /// use adroit_check::{CheckScalar, generic_fn};
    /// let f = generic_fn!(|x| vec![x[0] * x[1], x[1]]);
    /// let j = f64::forward_jacobian(&f, &[2.0, 3.0]);
    /// assert_eq!(j.as_slice(), &[3.0, 0.0, 2.0, 1.0]); // column-major [[3, 2], [0, 1]]
    /// ```
    fn forward_jacobian<F: GenericFn>(f: &F, x: &[Self]) -> DMatrix<Self>;

    /// The Jacobian of `f` by reverse mode ([`adroit_reverse::jacobian`]): `m × n`.
    ///
    /// # Example
    /// ```
    /// use adroit_check::{CheckScalar, generic_fn};
    /// let f = generic_fn!(|x| vec![x[0] * x[1], x[1]]);
    /// let j = f64::reverse_jacobian(&f, &[2.0, 3.0]);
    /// assert_eq!(j.as_slice(), &[3.0, 0.0, 2.0, 1.0]);
    /// ```
    fn reverse_jacobian<F: GenericFn>(f: &F, x: &[Self]) -> DMatrix<Self>;

    /// The Jacobian-vector product `J·u` of `f` by forward mode ([`adroit_forward::jvp`]).
    ///
    /// # Example
    /// ```
    /// use adroit_check::{CheckScalar, generic_fn};
    /// let f = generic_fn!(|x| vec![x[0] * x[1]]);
    /// assert_eq!(f64::forward_jvp(&f, &[2.0, 3.0], &[1.0, 1.0]), vec![5.0]);
    /// ```
    fn forward_jvp<F: GenericFn>(f: &F, x: &[Self], u: &[Self]) -> Vec<Self>;

    /// `f(x)` and its pullback (vector-Jacobian products) by reverse mode
    /// ([`adroit_reverse::pullback`]).
    ///
    /// # Example
    /// ```
    /// use adroit_check::{CheckScalar, generic_fn};
    /// let f = generic_fn!(|x| vec![x[0] * x[1]]);
    /// let (y, pullback) = f64::reverse_pullback(&f, &[2.0, 3.0]);
    /// assert_eq!((y, pullback.call(&[1.0])), (vec![6.0], vec![3.0, 2.0]));
    /// ```
    fn reverse_pullback<F: GenericFn>(f: &F, x: &[Self]) -> (Vec<Self>, Pullback<Self>);

    /// The Hessian of the first output of `f` by second-order forward mode
    /// ([`adroit_forward::hessian`]).
    ///
    /// # Example
    /// ```
    /// use adroit_check::{CheckScalar, generic_fn};
    /// let f = generic_fn!(|x| vec![x[0] * x[0] * x[1]]);
    /// let h = f64::forward_hessian(&f, &[1.0, 2.0]);
    /// assert_eq!(h.as_slice(), &[4.0, 2.0, 2.0, 0.0]);
    /// ```
    fn forward_hessian<F: GenericFn>(f: &F, x: &[Self]) -> DMatrix<Self>;

    /// The Hessian-vector product of the first output of `f` by second-order forward mode
    /// ([`adroit_forward::hvp`]).
    ///
    /// # Example
    /// ```
    /// use adroit_check::{CheckScalar, generic_fn};
    /// let f = generic_fn!(|x| vec![x[0] * x[0] * x[1]]);
    /// assert_eq!(f64::forward_hvp(&f, &[1.0, 2.0], &[1.0, 0.0]), vec![4.0, 2.0]);
    /// ```
    fn forward_hvp<F: GenericFn>(f: &F, x: &[Self], v: &[Self]) -> Vec<Self>;
}

mod sealed {
    pub trait Sealed {}
}

impl sealed::Sealed for f32 {}
impl sealed::Sealed for f64 {}

/// The modes on the concrete types of `f32` and `f64` (where nalgebra's traits, and so
/// [`Decompositions`](adroit_forward::Decompositions), are implemented).
macro_rules! check_scalar {
    ($($t:ty => $widen:expr, $narrow:expr;)*) => {$(
        impl CheckScalar for $t {
            fn to_f64_lossless(self) -> f64 {
                let widen: fn($t) -> f64 = $widen;
                widen(self)
            }
            fn from_f64_rounded(x: f64) -> Self {
                let narrow: fn(f64) -> $t = $narrow;
                narrow(x)
            }
            fn reverse_hessian<F: GenericFn>(f: &F, x: &[Self]) -> DMatrix<Self> {
                adroit_reverse::hessian(|v| f.eval(v)[0], x)
            }
            fn reverse_hvp<F: GenericFn>(f: &F, x: &[Self], v: &[Self]) -> Vec<Self> {
                adroit_reverse::hvp(|w| f.eval(w)[0], x, v)
            }
            fn forward_jacobian<F: GenericFn>(f: &F, x: &[Self]) -> DMatrix<Self> {
                adroit_forward::jacobian(|v| f.eval(v), x)
            }
            fn reverse_jacobian<F: GenericFn>(f: &F, x: &[Self]) -> DMatrix<Self> {
                adroit_reverse::jacobian(|v| f.eval(v), x)
            }
            fn forward_jvp<F: GenericFn>(f: &F, x: &[Self], u: &[Self]) -> Vec<Self> {
                adroit_forward::jvp(|v| f.eval(v), x, u).1
            }
            fn reverse_pullback<F: GenericFn>(f: &F, x: &[Self]) -> (Vec<Self>, Pullback<Self>) {
                adroit_reverse::pullback(|v| f.eval(v), x)
            }
            fn forward_hessian<F: GenericFn>(f: &F, x: &[Self]) -> DMatrix<Self> {
                adroit_forward::hessian(|v| f.eval(v)[0], x)
            }
            fn forward_hvp<F: GenericFn>(f: &F, x: &[Self], v: &[Self]) -> Vec<Self> {
                adroit_forward::hvp(|w| f.eval(w)[0], x, v)
            }
        }
    )*};
}
check_scalar! {
    f32 => f64::from, |x| x as f32;
    f64 => |x| x, |x| x;
}

/// Panics, naming `who` and the input, unless every entry of `x` is finite (there is no
/// derivative to check at NaN or ±∞).
#[track_caller]
pub(crate) fn assert_finite_inputs<T: CheckScalar>(who: &str, x: &[T]) {
    if let Some(k) = x.iter().position(|v| !v.to_f64_lossless().is_finite()) {
        panic!("{who}: input {k} is not finite; check at finite points");
    }
}
