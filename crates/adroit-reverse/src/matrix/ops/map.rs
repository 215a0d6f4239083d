//! Element-wise functions of one matrix: any rule of the table, any `Float` function (its
//! derivative by forward mode), and the linear operations with a plain scalar.

use super::Partial;
use crate::matrix::activation_kernels::entries;
use crate::matrix::pool;
use crate::matrix::tape::{Adjoint, Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::{MatScalar, MatVar};
use adroit_forward::rules::{self, BinaryRule, UnaryRule};
use adroit_forward::{Dual, DualVec};
use nalgebra::DMatrix;

/// Backward of an element-wise map: `∂A = G ⊙ f'(A)`. Saves `f'(A)` (or the constant slope).
struct Map<T> {
    a: u32,
    derivative: Partial<T>,
}

impl<T: MatScalar> Backward<T> for Map<T> {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        grads.accumulate(self.a, self.derivative.times(g));
    }

    fn backward_uniform(
        &self,
        value: T,
        shape: (usize, usize),
        values: &[NodeValue<T>],
        grads: &mut Grads<'_, T>,
    ) {
        match self.derivative.times_uniform(value, shape) {
            Some(d) => grads.accumulate_adjoint(self.a, d),
            None => {
                let g = Adjoint::Uniform { value, shape }.into_dense();
                self.backward(g, values, grads);
            }
        }
    }

    fn release(self: Box<Self>) {
        self.derivative.release();
    }

    fn backward_uniform_once(
        self: Box<Self>,
        value: T,
        shape: (usize, usize),
        values: &[NodeValue<T>],
        grads: &mut Grads<'_, T>,
    ) {
        if !grads.wants(self.a) {
            self.release();
        } else if self.derivative.scales_uniformly(value) {
            // The saved derivative, scaled in its own buffer, is the contribution.
            let Map { a, derivative } = *self;
            grads.accumulate_adjoint(a, derivative.into_times_uniform(value, shape));
        } else {
            self.backward_uniform(value, shape, values, grads);
            self.release();
        }
    }
}

impl<T: MatScalar> MatVar<T> {
    /// Applies `rule` (a function of the rule table of `adroit-forward`) to every entry; the
    /// derivative is the rule's, with its edge conventions.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::{adroit_forward::rules::Tanh, matrix};
    /// let g = matrix::gradient(|m| m[0].map_rule(Tanh).sum(), &[nalgebra::dmatrix![0.0, 0.0]]);
    /// assert_eq!(g[0], adroit_reverse::nalgebra::dmatrix![1.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn map_rule<R: UnaryRule>(self, rule: R) -> Self {
        self.map_with_derivative(|x| rule.eval(x))
    }

    /// Applies any function written for `num_traits::Float` to every entry; its derivative is
    /// computed with a forward-mode [`Dual`] in the same pass. (A closure calling methods on
    /// the `Dual` needs `num_traits::Float` in scope, or the compiler suggests unrelated
    /// traits.)
    ///
    /// # Panics
    /// If `f` calls a matrix operation on the same element type (that tape is busy recording
    /// this node), or the variable is stale (see [`MatVar`]).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::{nalgebra, num_traits};
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::num_traits::Float;
    /// // softplus(x) = ln(1 + eˣ), derivative σ(x), written stably by a branch on the value:
    /// // ln(1 + eˣ) as written overflows above x ≈ 709, and its derivative e^x/(1 + eˣ) is then
    /// // 0·∞, which the 0·∞ = 0 convention makes 0 instead of 1 (adroit-forward's
    /// // `log_exp::log1p_exp` is this function; a `max(x, 0)` + `|x|` form would lose the
    /// // second derivative at 0).
    /// fn softplus<S: Float>(x: S) -> S {
    ///     if x > S::zero() { x + (-x).exp().ln_1p() } else { x.exp().ln_1p() }
    /// }
    /// let g = matrix::gradient(|m| m[0].map(softplus).sum(), &[nalgebra::dmatrix![0.0, 800.0]]);
    /// assert_eq!(g[0], nalgebra::dmatrix![0.5, 1.0]);
    /// ```
    #[track_caller]
    pub fn map<F: Fn(Dual<T>) -> Dual<T>>(self, f: F) -> Self {
        // `f` runs on duals seeded here: recorded against perturbation confusion.
        let _nesting = adroit_forward::record_perturbation::<Dual<T>, F>();
        self.map_with_derivative(|x| {
            let out = f(Dual::variable(x));
            (out.value(), out.tangent())
        })
    }

    /// Applies `f` to every entry, where `f(x)` returns the value and the derivative at `x`
    /// (for a function whose derivative the caller computes, e.g. from a special-function
    /// library). Under [`matrix::hvp`](crate::matrix::hvp) and
    /// [`matrix::hessian`](crate::matrix::hessian) (`T` a dual) second derivatives flow through
    /// it when `f` forms the derivative in `T`'s arithmetic, as generic code does; a derivative
    /// taken from elsewhere as a plain number is a constant to them (its own derivative lost).
    ///
    /// # Panics
    /// As [`map`](Self::map).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// let g = matrix::gradient(|m| m[0].map_with_derivative(|x| (x * x, 2.0 * x)).sum(), &[nalgebra::dmatrix![3.0]]);
    /// assert_eq!(g[0][(0, 0)], 6.0);
    /// ```
    #[track_caller]
    pub fn map_with_derivative(self, f: impl Fn(T) -> (T, T)) -> Self {
        self.map_kernel(
            |x, value, derivative| entries(x, value, derivative, f),
            pool::overwritten,
        )
    }

    /// Applies an element-wise function given as a kernel over whole slices:
    /// `kernel(x, value, derivative)` writes every entry's value `f(x[i])` into `value[i]` and
    /// its derivative `f′(x[i])` into `derivative[i]` (the three slices: the matrix's entries
    /// in column-major order, one length). For element-wise code that vectorises, e.g. built on
    /// [`tanh_entries`](crate::matrix::tanh_entries),
    /// [`logistic_entries`](crate::matrix::logistic_entries) and
    /// [`exp_entries`](crate::matrix::exp_entries); otherwise as
    /// [`map_with_derivative`](Self::map_with_derivative). `value` and `derivative` start as
    /// zeros: an entry the kernel leaves alone is 0 (never a previous computation's data).
    ///
    /// # Panics
    /// As [`map`](Self::map).
    ///
    /// # Example
    /// SiLU `x·σ(x)`, derivative `σ(x) + x·σ′(x)`:
    /// ```
    /// use adroit_reverse::matrix::{self, logistic_entries};
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// let silu = |x: &[f64], value: &mut [f64], derivative: &mut [f64]| {
    ///     logistic_entries(x, value, derivative); // σ and σ′
    ///     for ((v, d), &x) in value.iter_mut().zip(derivative.iter_mut()).zip(x) {
    ///         (*v, *d) = (x * *v, *v + x * *d);
    ///     }
    /// };
    /// let g = matrix::gradient(|m| m[0].map_slices(silu).sum(), &[dmatrix![0.0, 2.0]]);
    /// let s = 1.0 / (1.0 + (-2.0f64).exp());
    /// assert_eq!(g[0][0], 0.5);
    /// assert!((g[0][1] - (s + 2.0 * s * (1.0 - s))).abs() < 1e-15);
    /// ```
    #[track_caller]
    pub fn map_slices(self, kernel: impl FnOnce(&[T], &mut [T], &mut [T])) -> Self {
        self.map_kernel(kernel, pool::zeros)
    }

    /// [`map_slices`](Self::map_slices) with its buffers from `buffer` (`pool::overwritten`
    /// for this crate's kernels, which write every entry).
    #[track_caller]
    fn map_kernel(
        self,
        kernel: impl FnOnce(&[T], &mut [T], &mut [T]),
        buffer: fn(usize, usize) -> DMatrix<T>,
    ) -> Self {
        let a = self.index();
        self.unary_op(|v| {
            let mut value = buffer(v.nrows(), v.ncols());
            let mut derivative = buffer(v.nrows(), v.ncols());
            kernel(
                v.as_slice(),
                value.as_mut_slice(),
                derivative.as_mut_slice(),
            );
            (
                value,
                Box::new(Map {
                    a,
                    derivative: Partial::Matrix(derivative),
                }),
            )
        })
    }

    /// Records an element-wise linear map `x ↦ value(x)` of slope `slope`.
    #[track_caller]
    fn linear(self, slope: T, value: impl Fn(T) -> T) -> Self {
        let a = self.index();
        self.unary_op(|v| {
            let mut out = pool::overwritten(v.nrows(), v.ncols());
            for (y, &x) in out.as_mut_slice().iter_mut().zip(v.as_slice()) {
                *y = value(x);
            }
            (
                out,
                Box::new(Map {
                    a,
                    derivative: Partial::Constant(slope),
                }),
            )
        })
    }

    /// `eˣ` entry-wise.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // ∂/∂X sum(exp X) = exp X
    /// let x = dmatrix![0.0, 1.0; 2.0, -1.0];
    /// let g = matrix::gradient(|m| m[0].exp().sum(), &[x.clone()]);
    /// assert_eq!(g[0], x.map(f64::exp));
    /// ```
    #[track_caller]
    pub fn exp(self) -> Self {
        self.map_kernel(T::exp_entries, pool::overwritten)
    }

    /// `ln x` entry-wise, derivative `1/x` (adroit-forward's `Ln` rule: `ln(±0) = −∞` with
    /// derivative `+∞`; NaN for `x < 0`, with the finite derivative `1/x` as in JAX and
    /// PyTorch). For `f32` entries the values come from a vectorised kernel (within 2 ulp of
    /// `ln` evaluated in `f64`), other element types use the rule entry by entry.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // ∂/∂X sum(ln X) = 1 ⊘ X
    /// let g = matrix::gradient(|m| m[0].ln().sum(), &[dmatrix![1.0, 2.0, 4.0]]);
    /// assert_eq!(g[0], dmatrix![1.0, 0.5, 0.25]);
    /// ```
    #[track_caller]
    pub fn ln(self) -> Self {
        self.map_kernel(T::ln_entries, pool::overwritten)
    }

    /// `tanh x` entry-wise.
    ///
    /// For `f32` entries the values and derivatives come from a vectorised kernel (within 3
    /// and 4 ulp of the functions evaluated in `f64`; the conventions of adroit-forward's
    /// `Tanh` rule, `tanh(−0) = −0`, derivative 0 at `±∞`), several times faster than the C
    /// library's `tanhf`; other element types use the rule entry by entry.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // ∂/∂X sum(tanh X) = 1 − tanh² X
    /// let x = dmatrix![0.0_f64, 0.5, -2.0];
    /// let g = matrix::gradient(|m| m[0].tanh().sum(), &[x.clone()]);
    /// assert!((&g[0] - x.map(|v| 1.0 - v.tanh().powi(2))).amax() < 1e-15);
    /// ```
    #[track_caller]
    pub fn tanh(self) -> Self {
        self.map_kernel(T::tanh_entries, pool::overwritten)
    }

    /// `√x` entry-wise.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // ∂/∂X sum(√X) = 1 ⊘ (2√X)
    /// let g = matrix::gradient(|m| m[0].sqrt().sum(), &[dmatrix![1.0, 4.0, 16.0]]);
    /// assert_eq!(g[0], dmatrix![0.5, 0.25, 0.125]);
    /// ```
    #[track_caller]
    pub fn sqrt(self) -> Self {
        self.map_rule(rules::Sqrt)
    }

    /// `sin x` entry-wise.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// // ∂/∂X sum(sin X) = cos X
    /// let x = dmatrix![0.0_f64, 1.0, -2.0];
    /// let g = matrix::gradient(|m| m[0].sin().sum(), &[x.clone()]);
    /// assert_eq!(g[0], x.map(f64::cos));
    /// ```
    #[track_caller]
    pub fn sin(self) -> Self {
        self.map_rule(rules::Sin)
    }

    /// `cos x` entry-wise.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// // ∂/∂X sum(cos X) = −sin X
    /// let x = dmatrix![0.0_f64, 1.0, -2.0];
    /// let g = matrix::gradient(|m| m[0].cos().sum(), &[x.clone()]);
    /// assert_eq!(g[0], x.map(|v| -v.sin()));
    /// ```
    #[track_caller]
    pub fn cos(self) -> Self {
        self.map_rule(rules::Cos)
    }

    /// Each entry clamped to `[lo, hi]` (PyTorch's `torch.clamp`, JAX's `jnp.clip`), by
    /// selection as adroit-forward's scalar `clamp`: derivative 1 inside the interval,
    /// boundaries included (PyTorch's convention; JAX's `clip`, a maximum and a minimum, gives
    /// ½ at a boundary), 0 outside. A NaN entry stays NaN.
    ///
    /// # Panics
    /// If `lo > hi` or either is NaN (as `f64::clamp`).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// let x = dmatrix![-2.0, 0.0, 0.5, 1.0, 3.0];
    /// let (y, pb) = matrix::pullback(|m| m[0].clamp(0.0, 1.0), &[x]);
    /// assert_eq!(y, dmatrix![0.0, 0.0, 0.5, 1.0, 1.0]);
    /// assert_eq!(pb.call(&dmatrix![1.0, 1.0, 1.0, 1.0, 1.0])[0], dmatrix![0.0, 1.0, 1.0, 1.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn clamp(self, lo: T, hi: T) -> Self {
        assert!(
            lo <= hi,
            "MatVar::clamp: the bounds must satisfy lo ≤ hi (not NaN), got lo = {lo:?}, hi = {hi:?}"
        );
        self.map_with_derivative(move |x| {
            if x < lo {
                (lo, T::zero())
            } else if x > hi {
                (hi, T::zero())
            } else {
                (x, T::one())
            }
        })
    }

    /// `|x|` entry-wise (derivative 0 at 0).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // ∂/∂X sum(|X|) = sign X, with 0 at 0
    /// let g = matrix::gradient(|m| m[0].abs().sum(), &[dmatrix![-2.0, 0.0, 3.0]]);
    /// assert_eq!(g[0], dmatrix![-1.0, 0.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn abs(self) -> Self {
        self.map_rule(rules::Abs)
    }

    /// `xⁿ` entry-wise.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // ∂/∂X sum(X³) = 3X²
    /// let g = matrix::gradient(|m| m[0].powi(3).sum(), &[dmatrix![1.0, 2.0, -1.0]]);
    /// assert_eq!(g[0], dmatrix![3.0, 12.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn powi(self, n: i32) -> Self {
        self.map_rule(rules::Powi(n))
    }

    /// `xᵖ` entry-wise for a constant exponent `p` (JAX's `x ** p`, PyTorch's `pow` with a
    /// number): the rule table's `Powf` with `p` held constant, so its conventions apply —
    /// at `x = 0` the derivative is 0 for `p > 1`, 1 for `p = 1`, `+∞` for `0 < p < 1`; a
    /// finite negative `x` with a non-integer `p` gives NaN (at `−∞`, IEEE `pow`'s `+∞` for
    /// `p > 0`, derivative `0` for `p < 1` and `+∞` above; with an integer-valued `p` it is real:
    /// `(−2)^3 = −8`, derivative 12); derivative `p·xᵖ⁻¹`. For an integer exponent
    /// [`powi`](Self::powi) is cheaper.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// // ∂/∂X sum(X^1.5) = 1.5·√X
    /// let g = matrix::gradient(|m| m[0].powf(1.5).sum(), &[dmatrix![0.0, 1.0, 4.0]]);
    /// assert_eq!(g[0], dmatrix![0.0, 1.5, 3.0]);
    /// ```
    #[track_caller]
    pub fn powf(self, p: T) -> Self {
        self.map(move |x| num_traits::Float::powf(x, Dual::constant(p)))
    }

    /// `ln(1 + x)` entry-wise, accurate for small `x` (JAX's `jnp.log1p`, PyTorch's
    /// `torch.log1p`; the rule table's `Ln1p`): derivative `1/(1 + x)`.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// let g = matrix::gradient(|m| m[0].ln_1p().sum(), &[dmatrix![0.0, 1.0, 3.0]]);
    /// assert_eq!(g[0], dmatrix![1.0, 0.5, 0.25]);
    /// ```
    #[track_caller]
    pub fn ln_1p(self) -> Self {
        self.map_rule(rules::Ln1p)
    }

    /// The logistic sigmoid `σ(x) = 1/(1 + e⁻ˣ)` entry-wise (JAX's `jax.nn.sigmoid`, PyTorch's
    /// `torch.sigmoid`; adroit-forward's `log_exp::logistic`): exact 0 and 1 and finite
    /// derivatives for logits of ±1000; derivative `σ(x)·(1 − σ(x))`. For `f32` entries the
    /// values and derivatives come from a vectorised kernel (within 2 and 4 ulp of the
    /// functions evaluated in `f64`), other element types use `logistic` entry by entry.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// let (y, g) = matrix::value_and_gradient(
    ///     |m| m[0].sigmoid().sum(),
    ///     &[dmatrix![0.0, -1000.0, 1000.0]],
    /// );
    /// assert_eq!((y, g[0].clone()), (1.5, dmatrix![0.25, 0.0, 0.0]));
    /// ```
    #[track_caller]
    pub fn sigmoid(self) -> Self {
        self.map_kernel(T::logistic_entries, pool::overwritten)
    }

    /// The softplus `ln(1 + eˣ)` entry-wise (JAX's `jax.nn.softplus`, PyTorch's
    /// `torch.nn.functional.softplus` with β = 1; adroit-forward's `log_exp::log1p_exp`): no
    /// overflow for large `x` (`x` itself beyond about 15 in `f32`, 34 in `f64`), derivative
    /// `σ(x)`. For `f32` entries the
    /// values and derivatives come from a vectorised kernel (within 3 and 2 ulp of the
    /// functions evaluated in `f64`), other element types use `log1p_exp` entry by entry.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// let (y, g) = matrix::value_and_gradient(
    ///     |m| m[0].softplus().sum(),
    ///     &[dmatrix![0.0, 1000.0]],
    /// );
    /// assert_eq!((y, g[0].clone()), (2.0_f64.ln() + 1000.0, dmatrix![0.5, 1.0]));
    /// ```
    #[track_caller]
    pub fn softplus(self) -> Self {
        self.map_kernel(T::log1p_exp_entries, pool::overwritten)
    }

    /// The log-sigmoid `ln σ(x) = −ln(1 + e⁻ˣ)` entry-wise (JAX's `jax.nn.log_sigmoid`, PyTorch's
    /// `torch.nn.functional.logsigmoid`; adroit-forward's `log_exp::log_logistic`): finite for
    /// every finite `x` (`−1000` at `−1000`, where `ln(σ(x))` gives `ln 0`; `x` itself below about
    /// −15 in `f32`, −34 in `f64`), derivative `σ(−x) = 1 − σ(x)`. For `f32` entries the values and
    /// derivatives come from a vectorised kernel (within 3 and 2 ulp of the functions evaluated in
    /// `f64`), other element types use `log_logistic` entry by entry.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// let (y, g) = matrix::value_and_gradient(
    ///     |m| m[0].log_sigmoid().sum(),
    ///     &[dmatrix![0.0, -1000.0]],
    /// );
    /// assert_eq!((y, g[0].clone()), (-(2.0_f64.ln()) - 1000.0, dmatrix![0.5, 1.0]));
    /// ```
    #[track_caller]
    pub fn log_sigmoid(self) -> Self {
        self.map_kernel(T::log_logistic_entries, pool::overwritten)
    }

    /// The standard normal distribution function `Φ(x) = P(Z ≤ x)` entry-wise (JAX's
    /// `jax.scipy.special.ndtr`, PyTorch's `torch.special.ndtr`; adroit-forward's
    /// `normal::ndtr`): accurate relative to its value in the left tail (`Φ(−10) ≈ 7.6e-24`),
    /// derivative the density `φ(x) = e^{−x²/2}/√(2π)`. For `f32` entries the values and
    /// derivatives come from a vectorised kernel (within 2 ulp of the functions evaluated in
    /// `f64`), other element types use `ndtr` entry by entry.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// // A probit model's likelihood of one success at z = 0: Φ(0) = ½, slope φ(0) = 1/√(2π).
    /// let (y, g) = matrix::value_and_gradient(|m| m[0].ndtr().sum(), &[dmatrix![0.0]]);
    /// assert_eq!(y, 0.5);
    /// assert!((g[0][0] - 1.0 / (2.0 * std::f64::consts::PI).sqrt()).abs() < 1e-16);
    /// ```
    #[track_caller]
    pub fn ndtr(self) -> Self {
        self.map_kernel(T::ndtr_entries, pool::overwritten)
    }
}

impl<T: MatScalar> core::ops::Neg for MatVar<T> {
    type Output = Self;
    #[track_caller]
    fn neg(self) -> Self {
        self.linear(-T::one(), |x| -x)
    }
}

impl<T: MatScalar> core::ops::Add<T> for MatVar<T> {
    type Output = Self;
    /// Adds `c` to every entry.
    #[track_caller]
    fn add(self, c: T) -> Self {
        self.linear(T::one(), |x| x + c)
    }
}

impl<T: MatScalar> core::ops::Sub<T> for MatVar<T> {
    type Output = Self;
    /// Subtracts `c` from every entry.
    #[track_caller]
    fn sub(self, c: T) -> Self {
        self.linear(T::one(), |x| x - c)
    }
}

impl<T: MatScalar> core::ops::Mul<T> for MatVar<T> {
    type Output = Self;
    /// Scales every entry by `c`.
    #[track_caller]
    fn mul(self, c: T) -> Self {
        self.linear(c, |x| x * c)
    }
}

impl<T: MatScalar> core::ops::Div<T> for MatVar<T> {
    type Output = Self;
    /// Divides every entry by `c`.
    #[track_caller]
    fn div(self, c: T) -> Self {
        self.linear(T::one() / c, |x| x / c)
    }
}

/// A plain number on the left of `*`, `+`, `/`, `−` with a matrix of `$t` entries, `$lift`
/// turning it into a `$t` (for `$t` a plain float, the identity).
macro_rules! scalar_lhs {
    ($($t:ty, $p:ty => $lift:expr;)*) => {$(
        impl core::ops::Mul<MatVar<$t>> for $p {
            type Output = MatVar<$t>;
            /// Scales every entry by `self`.
            #[track_caller]
            fn mul(self, m: MatVar<$t>) -> MatVar<$t> {
                let lift: fn($p) -> $t = $lift;
                m * lift(self)
            }
        }

        impl core::ops::Add<MatVar<$t>> for $p {
            type Output = MatVar<$t>;
            /// Adds `self` to every entry.
            #[track_caller]
            fn add(self, m: MatVar<$t>) -> MatVar<$t> {
                let lift: fn($p) -> $t = $lift;
                m + lift(self)
            }
        }

        impl core::ops::Div<MatVar<$t>> for $p {
            type Output = MatVar<$t>;
            /// `self / x` for every entry `x` (derivative `−self/x²`, from the shared rule
            /// [`rules::Div`]).
            #[track_caller]
            fn div(self, m: MatVar<$t>) -> MatVar<$t> {
                let lift: fn($p) -> $t = $lift;
                let numerator = lift(self);
                m.map_with_derivative(|x| {
                    let (value, _, d_denominator) = rules::Div.eval(numerator, x);
                    (value, d_denominator)
                })
            }
        }

        impl core::ops::Sub<MatVar<$t>> for $p {
            type Output = MatVar<$t>;
            /// `self − x` for every entry `x`.
            #[track_caller]
            fn sub(self, m: MatVar<$t>) -> MatVar<$t> {
                let lift: fn($p) -> $t = $lift;
                let c = lift(self);
                m.linear(-<$t as num_traits::One>::one(), |x| c - x)
            }
        }
    )*};
}

scalar_lhs! {
    f32, f32 => |c| c;
    f64, f64 => |c| c;
    Dual<f32>, f32 => Dual::constant;
    Dual<f64>, f64 => Dual::constant;
}

/// A plain number on the right of `*`, `+`, `/`, `−` with a matrix of duals (for plain floats
/// the generic operators above), as the entries' constant.
macro_rules! dual_rhs {
    ($($t:ty, $p:ty => $lift:expr;)*) => {$(
        impl core::ops::Add<$p> for MatVar<$t> {
            type Output = Self;
            /// Adds `c` to every entry.
            #[track_caller]
            fn add(self, c: $p) -> Self {
                let lift: fn($p) -> $t = $lift;
                self + lift(c)
            }
        }

        impl core::ops::Sub<$p> for MatVar<$t> {
            type Output = Self;
            /// Subtracts `c` from every entry.
            #[track_caller]
            fn sub(self, c: $p) -> Self {
                let lift: fn($p) -> $t = $lift;
                self - lift(c)
            }
        }

        impl core::ops::Mul<$p> for MatVar<$t> {
            type Output = Self;
            /// Scales every entry by `c`.
            #[track_caller]
            fn mul(self, c: $p) -> Self {
                let lift: fn($p) -> $t = $lift;
                self * lift(c)
            }
        }

        impl core::ops::Div<$p> for MatVar<$t> {
            type Output = Self;
            /// Divides every entry by `c`.
            #[track_caller]
            fn div(self, c: $p) -> Self {
                let lift: fn($p) -> $t = $lift;
                self / lift(c)
            }
        }
    )*};
}

dual_rhs! {
    Dual<f32>, f32 => Dual::constant;
    Dual<f64>, f64 => Dual::constant;
}

/// Plain numbers on either side of the chunked matrices of `matrix::hessian_chunked`.
macro_rules! chunk_scalar_ops {
    ($($n:literal),*) => {$(
        scalar_lhs! {
            DualVec<f32, $n>, f32 => DualVec::constant;
            DualVec<f64, $n>, f64 => DualVec::constant;
        }
        dual_rhs! {
            DualVec<f32, $n>, f32 => DualVec::constant;
            DualVec<f64, $n>, f64 => DualVec::constant;
        }
    )*};
}
with_hessian_chunks!(chunk_scalar_ops);
