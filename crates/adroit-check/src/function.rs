//! [`GenericFn`]: a function written once for every `Float` type, so a checker can evaluate it
//! in `f64`, on forward duals and on reverse variables.

use adroit_forward::{ChainRule, Decompositions, DerivativeOrder, SpecialFunctions, StopGradient};

/// A function `ℝⁿ → ℝᵐ` written generically over [`SpecialFunctions`] (`num_traits::Float`
/// and the special functions `erf`, `erfc`, `gamma`, `ln_gamma`, `digamma`, `polygamma`),
/// [`Decompositions`] (`nalgebra::RealField` with exact-derivative SVD and
/// symmetric eigendecomposition), [`StopGradient`] (`x.stop_gradient()`) and [`ChainRule`]
/// (custom rules: `x.apply_unary(MyRule)`), which every number type the checks use implements
/// (`f32`, `f64`, adroit's duals, `Var`). An implementation asks of `S` only what it uses:
/// `fn eval<S: Float>` when it needs no `erf` (as in the example below), or
/// `fn eval<S: Decompositions>` for code through nalgebra's LU, QR, Cholesky, `solve` or
/// `S::svd`/`S::symmetric_eigen` (not both `Float` and `RealField`: methods both define, such
/// as `exp`, would be ambiguous, error E0034). Code that calls `eval` generically must bound
/// its type by all five traits (an `S: Float` alone no longer suffices since `erf`/`erfc`,
/// then the decompositions, `stop_gradient`, custom rules and, for `ImplicitFunction::eval`,
/// `DerivativeOrder` joined the bound; a wrapper forwarding `eval` under the earlier four
/// fails with E0277 — add `DerivativeOrder`).
///
/// Closures cannot be generic, so a checked function is a type implementing this trait; the
/// [`generic_fn!`](crate::generic_fn) macro writes one from a closure-like expression.
///
/// # Example
/// ```
/// use adroit_check::GenericFn;
/// use adroit_check::num_traits::Float;
///
/// struct Scaled(f64);
/// impl GenericFn for Scaled {
///     fn eval<S: Float>(&self, x: &[S]) -> Vec<S> {
///         vec![x[0].sin() * S::from(self.0).unwrap()]
///     }
/// }
/// assert_eq!(Scaled(2.0).eval(&[0.0_f64]), vec![0.0]);
/// ```
///
/// Through nalgebra's decompositions, checked in every mode:
/// ```
/// use adroit_check::adroit_forward::Decompositions;
/// use adroit_check::nalgebra::DMatrix;
/// use adroit_check::{GenericFn, Options, gradcheck, hessian_check};
///
/// // ln det [[2 + x₀, x₁], [x₁, 3]] by Cholesky
/// struct LogDet;
/// impl GenericFn for LogDet {
///     fn eval<S: Decompositions>(&self, x: &[S]) -> Vec<S> {
///         let (two, three) = (S::one() + S::one(), S::one() + S::one() + S::one());
///         let a = DMatrix::from_row_slice(2, 2, &[two + x[0], x[1], x[1], three]);
///         let l = a.cholesky().expect("positive definite").l();
///         vec![(l[(0, 0)] * l[(1, 1)]).ln() * two]
///     }
/// }
/// let options = Options::for_precision::<f64>();
/// assert!(gradcheck(&LogDet, &[0.5, 1.0], &options).is_ok());
/// assert!(hessian_check(&LogDet, &[0.5, 1.0], &options).is_ok());
/// ```
///
/// A custom rule of adroit-forward (its value and derivative in one `eval`, the forward
/// counterpart of `custom_jvp`), checked against finite differences in every mode — a wrong
/// derivative in the rule fails:
/// ```
/// use adroit_check::adroit_forward::{ChainRule, rules::UnaryRule};
/// use adroit_check::num_traits::Float;
/// use adroit_check::{GenericFn, Options, gradcheck, hessian_check};
///
/// /// ln(1 + eˣ), derivative the logistic function (squared when `wrong`).
/// #[derive(Clone, Copy)]
/// struct Softplus {
///     wrong: bool,
/// }
/// impl UnaryRule for Softplus {
///     fn eval<S: Float>(self, x: S) -> (S, S) {
///         let d = (S::one() + (-x).exp()).recip();
///         (x.exp().ln_1p(), if self.wrong { d * d } else { d })
///     }
/// }
/// struct F(Softplus);
/// impl GenericFn for F {
///     fn eval<S: Float + ChainRule>(&self, x: &[S]) -> Vec<S> {
///         vec![x[0].apply_unary(self.0) * x[1]]
///     }
/// }
/// let options = Options::for_precision::<f64>();
/// assert!(gradcheck(&F(Softplus { wrong: false }), &[0.3, -1.2], &options).is_ok());
/// assert!(hessian_check(&F(Softplus { wrong: false }), &[0.3, -1.2], &options).is_ok());
/// assert!(gradcheck(&F(Softplus { wrong: true }), &[0.3, -1.2], &options).is_err());
/// ```
pub trait GenericFn {
    /// `f(x)`.
    ///
    /// # Example
    /// ```
    /// use adroit_check::{GenericFn, generic_fn};
    /// // One definition, evaluated in either precision (and, by the checks, on AD types).
    /// let f = generic_fn!(|x| vec![x[0] * x[0], x[0].sqrt()]);
    /// assert_eq!(f.eval(&[4.0_f64]), vec![16.0, 2.0]);
    /// assert_eq!(f.eval(&[4.0_f32]), vec![16.0, 2.0]);
    /// // erf and erfc are at hand too
    /// let g = generic_fn!(|x| vec![x[0].erf() + x[0].erfc()]);
    /// assert_eq!(g.eval(&[0.5_f64]), vec![1.0]);
    /// ```
    fn eval<S: SpecialFunctions + Decompositions + StopGradient + ChainRule + DerivativeOrder>(
        &self,
        x: &[S],
    ) -> Vec<S>;
}

/// Writes a [`GenericFn`] from `|x| body`, where `body` is generic code over
/// `S: SpecialFunctions + StopGradient + ChainRule + DerivativeOrder` (`num_traits::Float` with
/// `erf`, `erfc`, `ln_gamma` and the rest of the special functions, `stop_gradient`, custom
/// rules' `apply_unary`/`apply_binary`, and adroit-forward's `ImplicitFunction::eval`) returning a `Vec<S>`. For code through nalgebra's matrices and
/// decompositions (`S::svd`, `cholesky()`, …) implement [`GenericFn`] on your own type with
/// `fn eval<S: Decompositions>` instead (see the trait's second example): the macro's `S` is
/// not a `RealField`, since with both bounds `x.exp()` and the like would be ambiguous.
///
/// The body is the body of a generic function, not a closure, so two things differ from
/// closures over `f64`:
/// - a constant is an `S`, not a float literal: `S::from(2.0).unwrap()` (`x[0] * 2.0` does not
///   compile: "expected type parameter `S`, found floating-point number");
/// - it cannot capture variables (rustc then suggests "the `|| { ... }` closure form", which
///   does not apply here): list them with their types before the closure,
///   `generic_fn!([data: Vec<f64>, scale: f64 = 2.0] |x| …)`, and the body sees each as a
///   reference (`data: &Vec<f64>`, `scale: &f64`) to a value moved into the function
///   (`name: Type` takes the variable of that name — moved: write `name: Type = name.clone()`
///   to use it afterwards —, `name: Type = value` any expression; a name other than the
///   closure argument's, which it would shadow). The types are those of a struct's fields
///   outside any function: owned or `&'static` (a borrowed `&[f64]` fails with E0106, a type
///   parameter of the enclosing function with E0401). Or implement [`GenericFn`] on a type of
///   your own (see the trait's example).
///
/// # Example
/// ```
/// use adroit_check::{GenericFn, generic_fn};
/// let f = generic_fn!(|x| vec![x[0] * x[1], x[0].exp()]);
/// assert_eq!(f.eval(&[2.0_f64, 3.0]), vec![6.0, 2.0_f64.exp()]);
/// // Constants through S::from:
/// let g = generic_fn!(|x| vec![x[0] * S::from(2.5).unwrap() + S::one()]);
/// assert_eq!(g.eval(&[2.0_f64]), vec![6.0]);
/// // A value treated as a constant: x·sg(x) has the derivative sg(x) = x, not 2x.
/// let h = generic_fn!(|x| vec![x[0] * x[0].stop_gradient()]);
/// let options = adroit_check::Options::for_precision::<f64>();
/// assert!(adroit_check::gradcheck(&h, &[3.0_f64], &options).is_err()); // differences see 2x
/// let jacobian = <f64 as adroit_check::CheckScalar>::reverse_jacobian(&h, &[3.0]);
/// assert_eq!(jacobian[(0, 0)], 3.0);
/// ```
///
/// With data: a least-squares loss `Σ (x₀·tᵢ + x₁ − yᵢ)² + λ·x₀²` over observations, checked
/// by [`gradcheck`](crate::gradcheck):
/// ```
/// use adroit_check::{GenericFn, Options, generic_fn, gradcheck};
/// let (t, y) = (vec![0.0, 1.0, 2.0], vec![1.0, 2.9, 5.2]);
/// let loss = generic_fn!([t: Vec<f64>, y: Vec<f64>, lambda: f64 = 0.1] |x| {
///     let c = |v: f64| S::from(v).unwrap();
///     let fit = t.iter().zip(y).map(|(&ti, &yi)| (x[0] * c(ti) + x[1] - c(yi)).powi(2));
///     vec![fit.fold(c(*lambda) * x[0] * x[0], |a, b| a + b)]
/// });
/// // (2·0 + 1 − 1)² + (2·1 + 1 − 2.9)² + (2·2 + 1 − 5.2)² + 0.1·2² = 0.45
/// assert!((loss.eval(&[2.0_f64, 1.0])[0] - 0.45).abs() < 1e-14);
/// assert!(gradcheck(&loss, &[2.0, 1.0], &Options::for_precision::<f64>()).is_ok());
/// ```
#[macro_export]
macro_rules! generic_fn {
    ([$($name:ident: $ty:ty $(= $value:expr)?),* $(,)?] |$x:ident| $body:expr) => {{
        struct __AdroitGenericFn {
            $($name: $ty),*
        }
        impl $crate::GenericFn for __AdroitGenericFn {
            #[allow(unused_imports)]
            fn eval<
                S: $crate::__private::SpecialFunctions
                    + $crate::__private::StopGradient
                    + $crate::__private::ChainRule
                    + $crate::__private::DerivativeOrder,
            >(
                &self,
                $x: &[S],
            ) -> ::std::vec::Vec<S> {
                use $crate::__private::SpecialFunctions as _;
                use $crate::__private::num_traits::Float as _;
                $(let $name = &self.$name;)*
                $body
            }
        }
        __AdroitGenericFn {
            $($name: $crate::generic_fn!(@value $name $(= $value)?)),*
        }
    }};
    (|$x:ident| $body:expr) => {
        $crate::generic_fn!([] |$x| $body)
    };
    // Internal: a capture's value (last, so that a misuse reports the public forms).
    (@value $name:ident) => {
        $name
    };
    (@value $name:ident = $value:expr) => {
        $value
    };
}
