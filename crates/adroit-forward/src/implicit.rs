//! Implicit functions: a solver's result `y(p)` of `F(y, p) = 0`, differentiated by the implicit
//! function theorem instead of through the solver's iterations.

use crate::chain_rule::is_finite_deep;
use crate::{
    DEFAULT_CHUNK, DerivativeOrder, DualVec, SpecialFunctions, independent,
    value_and_jacobian_chunked,
};
use nalgebra::DMatrix;
use num_traits::Float;
use std::error::Error;
use std::fmt;

/// The error a solver returns to [`ImplicitFunction::eval`]: any error type (`?` converts it),
/// or a message (`"no convergence".into()`).
pub type SolveError = Box<dyn Error + Send + Sync>;

/// A function `y(p)` defined implicitly by `m` equations `F(y, p) = 0` in `m` unknowns `y` and
/// any number `n` of parameters `p`, computed by a solver of your choice (Newton's method, a
/// fixed-point iteration, an optimiser's stationarity conditions, another library) and
/// differentiated without differentiating the solver: by the implicit function theorem,
/// `∂y/∂p = −(∂F/∂y)⁻¹ ∂F/∂p` at the solution, and its higher derivatives likewise. The forward
/// counterpart of JAX's `custom_root` and of ImplicitDifferentiation.jl's `ImplicitFunction`,
/// for every number type of adroit at every order: [`eval`](Self::eval) runs on plain numbers,
/// [`Dual`](crate::Dual), [`DualVec`], [`HyperDualVec`](crate::HyperDualVec), nested duals, and
/// adroit-reverse's `Var` (gradients, pullbacks, forward-over-reverse Hessians).
///
/// Implement [`residual`](Self::residual) (generic, so it can be differentiated) and
/// [`solve`](Self::solve) (on plain `f64`, never differentiated), then call
/// [`eval`](Self::eval) from generic code.
///
/// # Example
/// The intersection of the circle `y₀² + y₁² = p₀` with the line `y₀ − y₁ = p₁` (first quadrant),
/// whose closed form gives the derivatives to compare with.
/// ```
/// use adroit_forward::num_traits::Float;
/// use adroit_forward::nalgebra::DVector;
/// use adroit_forward::{
///     DerivativeOrder, Dual, ImplicitFunction, SolveError, SpecialFunctions, gradient, hessian,
///     value_and_jacobian,
/// };
///
/// struct Intersection;
///
/// impl ImplicitFunction for Intersection {
///     fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
///         vec![y[0] * y[0] + y[1] * y[1] - p[0], y[0] - y[1] - p[1]]
///     }
///     fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
///         // Newton's method on plain numbers (any solver will do), its Jacobian ∂F/∂y by this
///         // crate's forward mode: the parameters enter as constants of the dual type.
///         let p_dual: Vec<Dual<f64>> = p.iter().map(|&v| Dual::constant(v)).collect();
///         let mut y = DVector::from_vec(vec![1.0, 1.0]);
///         for _ in 0..50 {
///             let (f, j) = value_and_jacobian(|y| self.residual(y, &p_dual), y.as_slice());
///             let step = j.lu().solve(&DVector::from_vec(f)).ok_or("singular Newton step")?;
///             y -= step;
///         }
///         Ok(y.as_slice().to_vec())
///     }
/// }
///
/// // Generic code: y₀(p)·y₁(p) (its closed form is (p₀ − p₁²)/2).
/// fn product<S: SpecialFunctions + DerivativeOrder>(p: &[S]) -> S {
///     let y = Intersection.eval(p).unwrap();
///     y[0] * y[1]
/// }
///
/// let p = [5.0, 1.0]; // y = (2, 1)
/// assert!((product(&p) - 2.0).abs() < 1e-15);
/// let g = gradient(|p| product(p), &p); // (1/2, −p₁)
/// assert!((g[0] - 0.5).abs() < 1e-15 && (g[1] + 1.0).abs() < 1e-15);
/// let h = hessian(|p| product(p), &p); // [[0, 0], [0, −1]]
/// assert!(h[(0, 0)].abs() < 1e-14 && (h[(1, 1)] + 1.0).abs() < 1e-14);
/// ```
pub trait ImplicitFunction {
    /// `F(y, p)`: `m` residuals of the `m` unknowns `y` at the parameters `p`; the function's
    /// value is the `y` where they all vanish. Written once for every number type (`S` is
    /// `f64`, a dual number over `f64` for the Jacobian `∂F/∂y`, and the caller's type), with
    /// `Float`'s functions, the special functions (`erf`, `ln_gamma`, …) and other implicit
    /// functions' [`eval`](Self::eval) (nested solvers); an implementation may ask for less
    /// (`S: Float`, as the examples).
    ///
    /// It must return as many residuals as there are unknowns (`y.len()`); `∂F/∂y` must be
    /// invertible at the solution.
    fn residual<S: SpecialFunctions + DerivativeOrder>(&self, y: &[S], p: &[S]) -> Vec<S>;

    /// The solution `y` of `F(y, p) = 0` at plain parameters `p`, by any method, as accurate as
    /// you need the value and derivatives to be (the derivatives are the implicit function
    /// theorem's at the `y` returned). It runs inside [`independent`], so it may use this
    /// crate's derivative functions (a Newton step's Jacobian) whatever the caller is
    /// differentiating; it never runs on dual numbers.
    ///
    /// # Errors
    /// Whatever the solver reports (no convergence, no solution for these parameters), passed
    /// on as [`ImplicitError::Solve`].
    fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError>;

    /// The largest residual `max |Fᵢ(y₀, p₀)|` (in `f64`) that [`eval`](Self::eval) accepts
    /// from the solver: `None` (the default) accepts any result, as JAX's `custom_root` trusts
    /// its solver, and the derivatives are then those of the shifted problem through the `y₀`
    /// returned (see `eval`). Return `Some(tolerance)` to have `eval` refuse a result that is not
    /// a root — a solver that stopped early — with [`ImplicitError::NotConverged`], in every
    /// mode (plain numbers too, at the cost of one evaluation of `F` in `f64`).
    ///
    /// # Example
    /// ```
    /// use adroit_forward::num_traits::Float;
    /// use adroit_forward::{ImplicitError, ImplicitFunction, SolveError};
    /// /// `y² = p` by two Newton steps from 1: not converged at `p = 9`.
    /// struct Hasty;
    /// impl ImplicitFunction for Hasty {
    ///     fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
    ///         vec![y[0] * y[0] - p[0]]
    ///     }
    ///     fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
    ///         let mut y = 1.0;
    ///         for _ in 0..2 {
    ///             y -= (y * y - p[0]) / (2.0 * y);
    ///         }
    ///         Ok(vec![y])
    ///     }
    ///     fn residual_tolerance(&self) -> Option<f64> {
    ///         Some(1e-10)
    ///     }
    /// }
    /// match Hasty.eval(&[9.0]) {
    ///     Err(ImplicitError::NotConverged { residual, .. }) => assert!(residual > 1.0),
    ///     other => panic!("{other:?}"),
    /// }
    /// assert!(Hasty.eval(&[1.0]).is_ok()); // y = 1 is exact
    /// ```
    fn residual_tolerance(&self) -> Option<f64> {
        None
    }

    /// `∂F/∂y` at the solution `y` and plain parameters `p` (`m × m`, row `i` the partials of
    /// residual `i`), if you have it — from a closed form, or from your solver's last Newton
    /// step — so that [`eval`](Self::eval) does not form it by forward mode (`⌈m/8⌉`
    /// evaluations of [`residual`](Self::residual) on 8-lane duals), as JAX's `custom_root`
    /// takes the caller's `tangent_solve`. `None` (the default): forward mode. It is trusted:
    /// the derivatives are the implicit function theorem's with this `J`, wrong if it is (check
    /// once with adroit-check's `gradcheck`, or against the default by returning `None`); the
    /// same non-finite and singularity checks apply to it. Called only when the number type
    /// carries derivatives, inside [`independent`].
    ///
    /// # Example
    /// ```
    /// use adroit_forward::nalgebra::{self, DMatrix, dmatrix};
    /// use adroit_forward::num_traits::Float;
    /// use adroit_forward::{ImplicitFunction, SolveError, derivative};
    /// /// `y = √p` as the root of `y² − p`, with `∂F/∂y = 2y` given.
    /// struct Root;
    /// impl ImplicitFunction for Root {
    ///     fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
    ///         vec![y[0] * y[0] - p[0]]
    ///     }
    ///     fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
    ///         Ok(vec![p[0].sqrt()])
    ///     }
    ///     fn jacobian(&self, y: &[f64], _p: &[f64]) -> Option<DMatrix<f64>> {
    ///         Some(dmatrix![2.0 * y[0]])
    ///     }
    /// }
    /// let slope = derivative(|p| Root.eval(&[p]).unwrap()[0], 4.0);
    /// assert_eq!(slope, 0.25); // 1/(2√p)
    /// ```
    fn jacobian(&self, y: &[f64], p: &[f64]) -> Option<DMatrix<f64>> {
        let _ = (y, p);
        None
    }

    /// `y(p)`, with its derivatives in `p` up to the order `S` carries.
    ///
    /// The value is [`solve`](Self::solve)'s, `y₀ = solve(p₀)` at the parameters' plain
    /// values `p₀`, the same in every mode. The derivatives are those of the solution of
    /// `F(y, p) − F(y₀, p₀) = 0` through `(y₀, p₀)` — the implicit function theorem's at `y₀`
    /// (exactly `y`'s when the solver's residual `F(y₀, p₀)` is 0, and off by about that
    /// residual's size over `∂F/∂y`'s smallest singular value otherwise). They are formed
    /// by [`ORDER`](DerivativeOrder::ORDER) chord steps
    /// `y ← y − J⁻¹ (F(y, p) − F(y₀, p₀))` from `y = y₀` in `S`'s arithmetic, with the fixed
    /// `J = ∂F/∂y (y₀, p₀)` (by forward mode, in `f64`): each step makes one more order of
    /// derivatives exact, so a first-order type costs one evaluation of `F` in `S`, a Hessian
    /// two, and the solver never runs on dual numbers. Reverse mode records those evaluations
    /// and `m²` products with `J⁻¹`'s entries per step (a forward-over-reverse Hessian two
    /// steps). Plain numbers get `y₀` (no step, and no Jacobian: the checks on the Jacobian below
    /// are skipped).
    /// Callers bound their number type by `SpecialFunctions + DerivativeOrder`, which every
    /// number type of adroit implements.
    ///
    /// `p`: the `n` parameters. Returns the `m` unknowns.
    ///
    /// # Errors
    /// [`ImplicitError::Solve`] when the solver fails; [`ImplicitError::NonFiniteSolution`]
    /// when it returns a NaN or an infinity (in every mode); [`ImplicitError::Overflow`] when
    /// its result does not fit in `S` (an `f32` caller's range; in every mode);
    /// [`ImplicitError::NotConverged`] when its result leaves a residual above
    /// [`residual_tolerance`](Self::residual_tolerance) (only if that is set, in every mode).
    /// When `S` carries derivatives (not on plain numbers, which need no Jacobian), also
    /// [`ImplicitError::NonFiniteResidual`]
    /// when `F(y₀, p₀)` or `∂F/∂y` there holds a NaN or an infinity (in `f64`, or `F(y₀, p₀)` in
    /// `S`'s arithmetic: an `f32` caller's can overflow where `f64` does not);
    /// [`ImplicitError::SingularJacobian`] when `∂F/∂y (y₀, p₀)` is singular or numerically
    /// singular — Skeel's condition number of `J` with its rows and columns equilibrated by
    /// powers of two (so that units of an equation or of an unknown change it by a factor of
    /// a few at most, where `‖J‖·‖J⁻¹‖` would grow with them) at least `1/ε` of `S`'s
    /// precision (`4.5·10¹⁵` for `f64` types, `8.4·10⁶` for `f32` ones: the steps run in
    /// `S`'s arithmetic), where the linear step's relative error can exceed 1 (no
    /// implicit function theorem: the solution may not be locally a function of `p`, or not
    /// differentiable there, as `y = √p` at `p = 0`; or it is, but this method cannot tell,
    /// as for `F = (y − p)³`, whose root `y = p` is smooth); [`ImplicitError::Overflow`] when
    /// `J⁻¹` or the corrected values or derivatives do not fit in `S` (an `f32` caller's
    /// range).
    ///
    /// # Panics
    /// If the solver returns no unknowns, or (when `S` carries derivatives, or a
    /// [`residual_tolerance`](Self::residual_tolerance) is set) [`residual`](Self::residual)
    /// returns a number of residuals other than the number of unknowns, or a
    /// [`jacobian`](Self::jacobian) given is not `m × m` (programming errors).
    ///
    /// # Example
    /// The real root of `y³ + p·y − 1 = 0`, with `dy/dp = −y/(3y² + p)`:
    /// ```
    /// use adroit_forward::num_traits::Float;
    /// use adroit_forward::{ImplicitFunction, SolveError, derivative};
    ///
    /// struct CubicRoot;
    /// impl ImplicitFunction for CubicRoot {
    ///     fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
    ///         vec![y[0].powi(3) + p[0] * y[0] - S::one()]
    ///     }
    ///     fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
    ///         let y = (0..60).fold(1.0, |y, _| y - (y * y * y + p[0] * y - 1.0) / (3.0 * y * y + p[0]));
    ///         Ok(vec![y])
    ///     }
    /// }
    ///
    /// let y = CubicRoot.eval(&[1.0]).unwrap()[0]; // 0.6823…
    /// let dy = derivative(|p| CubicRoot.eval(&[p]).unwrap()[0], 1.0);
    /// assert!((dy + y / (3.0 * y * y + 1.0)).abs() < 1e-15);
    /// ```
    #[track_caller]
    fn eval<S: SpecialFunctions + DerivativeOrder>(&self, p: &[S]) -> Result<Vec<S>, ImplicitError>
    where
        Self: Sized,
    {
        eval_implicit(self, p)
    }
}

/// Why [`ImplicitFunction::eval`] could not give `y(p)` or its derivatives.
#[derive(Debug)]
#[non_exhaustive]
pub enum ImplicitError {
    /// The solver failed; its error.
    Solve(SolveError),
    /// The solver returned a NaN or an infinite unknown (in every mode, plain numbers too:
    /// not a root whose derivatives could be had, nor one to pass on as a value).
    NonFiniteSolution {
        /// The solver's result `y₀`.
        solution: Vec<f64>,
    },
    /// `F(y₀, p₀)` or `∂F/∂y` at the solver's result holds a NaN or an infinity (in `f64`, or
    /// `F(y₀, p₀)` in the caller's precision).
    NonFiniteResidual {
        /// The solver's result `y₀`.
        solution: Vec<f64>,
    },
    /// The solver's result, or the correction steps that give its derivatives (`J⁻¹`'s
    /// entries, the steps' values), overflow the caller's number type (beyond an `f32`'s
    /// range, say): the value or its derivatives do not fit in it.
    Overflow {
        /// The solver's result `y₀`.
        solution: Vec<f64>,
    },
    /// The solver's result leaves a residual above the function's
    /// [`residual_tolerance`](ImplicitFunction::residual_tolerance): it is not a root.
    NotConverged {
        /// The solver's result `y₀`.
        solution: Vec<f64>,
        /// `max |Fᵢ(y₀, p₀)|`, in `f64` (NaN where a residual is).
        residual: f64,
        /// The tolerance it exceeds.
        tolerance: f64,
    },
    /// `∂F/∂y` is singular at the solver's result: the implicit function theorem does not
    /// apply there.
    SingularJacobian {
        /// The solver's result `y₀`.
        solution: Vec<f64>,
        /// `∂F/∂y`'s condition number there: Skeel's `‖|A⁻¹|·|A|‖∞` of `A`, `J` with its
        /// rows and then its columns scaled by powers of two to largest magnitudes in
        /// `[1, 2)` (infinite where no inverse was formed).
        condition: f64,
    },
}

impl fmt::Display for ImplicitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Solve(e) => write!(f, "the implicit function's solver failed: {e}"),
            Self::NonFiniteSolution { solution } => write!(
                f,
                "the implicit function's solver returned a NaN or an infinity: y = {solution:?}"
            ),
            Self::NonFiniteResidual { solution } => write!(
                f,
                "the residual F(y, p) or its Jacobian ∂F/∂y is not finite at the solver's \
                 result y = {solution:?}"
            ),
            Self::Overflow { solution } => write!(
                f,
                "the implicit function's value or derivatives overflow the caller's number \
                 type at the solver's result y = {solution:?}"
            ),
            Self::NotConverged {
                solution,
                residual,
                tolerance,
            } => write!(
                f,
                "the implicit function's solver returned y = {solution:?}, which leaves a \
                 residual max |F(y, p)| = {residual:e} above the tolerance {tolerance:e}: not \
                 a root"
            ),
            Self::SingularJacobian {
                solution,
                condition,
            } => write!(
                f,
                "∂F/∂y is singular at the solver's result y = {solution:?} (condition number \
                 {condition:.3e}): the implicit \
                 function theorem does not apply there (y(p) may not be unique or \
                 differentiable)"
            ),
        }
    }
}

impl Error for ImplicitError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Solve(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

/// [`ImplicitFunction::eval`]'s body.
#[track_caller]
fn eval_implicit<S, F>(function: &F, p: &[S]) -> Result<Vec<S>, ImplicitError>
where
    S: SpecialFunctions + DerivativeOrder,
    F: ImplicitFunction,
{
    let p0: Vec<f64> = p.iter().map(|x| x.to_f64().unwrap_or(f64::NAN)).collect();
    let y0 = independent(|| function.solve(&p0)).map_err(ImplicitError::Solve)?;
    let m = y0.len();
    assert!(m > 0, "the implicit function's solver returned no unknowns");
    if y0.iter().any(|v| !v.is_finite()) {
        return Err(ImplicitError::NonFiniteSolution { solution: y0 });
    }
    // A finite f64 result beyond the caller's range (an f32 caller's) in every mode.
    if y0.iter().any(|&v| !constant::<S>(v).is_finite()) {
        return Err(ImplicitError::Overflow { solution: y0 });
    }
    let tolerance = function.residual_tolerance();
    // F(y₀, p₀), with ∂F/∂y there when S carries derivatives (plain numbers need F only for
    // the tolerance), both in f64.
    let (r0, jacobian) = if S::ORDER > 0 {
        let given = independent(|| function.jacobian(&y0, &p0));
        if let Some(j) = &given {
            assert_eq!(
                j.shape(),
                (m, m),
                "the implicit function's jacobian is {}×{} for {m} unknowns (∂F/∂y is m × m)",
                j.nrows(),
                j.ncols()
            );
        }
        let (r, j) = match given {
            Some(j) => (independent(|| function.residual(&y0, &p0)), j),
            None => independent(|| residual_and_jacobian(function, &y0, &p0)),
        };
        (Some(r), Some(j))
    } else {
        let r = tolerance.map(|_| independent(|| function.residual(&y0, &p0)));
        (r, None)
    };
    if let Some(r) = &r0 {
        assert_eq!(
            r.len(),
            m,
            "the implicit function's residual returned {} values for {m} unknowns (an implicit \
             function needs as many equations as unknowns)",
            r.len()
        );
        if let Some(tolerance) = tolerance {
            // (NaN too: a residual that is not below the bound)
            let residual = r.iter().fold(0.0_f64, |m, v| {
                if v.is_nan() || m.is_nan() {
                    f64::NAN
                } else {
                    m.max(v.abs())
                }
            });
            if residual.is_nan() || residual > tolerance {
                return Err(ImplicitError::NotConverged {
                    solution: y0,
                    residual,
                    tolerance,
                });
            }
        }
    }
    let (Some(r0), Some(jacobian)) = (r0, jacobian) else {
        // Plain numbers: the solver's result, converted (an f32 caller's rounding).
        return Ok(y0.iter().map(|&v| constant(v)).collect());
    };
    if r0.iter().chain(jacobian.iter()).any(|v| !v.is_finite()) {
        return Err(ImplicitError::NonFiniteResidual { solution: y0 });
    }
    let (inverse, condition) = equilibrated_inverse(&jacobian);
    // The caller's precision, which the steps run in (an f32 caller's steps lose all digits
    // at a condition of 1/ε_f32).
    let epsilon = S::epsilon()
        .to_f64()
        .unwrap_or(f64::EPSILON)
        .max(f64::EPSILON);
    let inverse = match inverse {
        // (NaN too: a condition that is not below the bound)
        Some(inverse) if condition < 1.0 / epsilon => inverse,
        _ => {
            return Err(ImplicitError::SingularJacobian {
                solution: y0,
                condition,
            });
        }
    };
    // F(y₀, p₀) again in S's arithmetic (constants: no perturbation), so that its value
    // cancels the first step's exactly — in f32 too, where the f64 one differs by rounding
    // (a review: a `Dual<f32>` value 1.2 % off a plain `f32` one).
    let mut y: Vec<S> = y0.iter().map(|&v| constant(v)).collect();
    let p_constant: Vec<S> = p0.iter().map(|&v| constant(v)).collect();
    let r0 = function.residual(&y, &p_constant);
    // (Finite in f64 above, but an f32 caller's arithmetic can overflow: a review's
    // `exp(y) − exp(2p)` at p = 45.)
    if r0.iter().any(|v| !v.is_finite()) {
        return Err(ImplicitError::NonFiniteResidual { solution: y0 });
    }
    // J⁻¹ in S's precision: an f32 caller's can overflow where f64's does not (a review:
    // entries of 10⁴⁰ became infinities, and ∞·0 NaN values).
    let inverse: Vec<S> = inverse.transpose().iter().map(|&v| constant(v)).collect(); // by rows
    if inverse.iter().any(|v| !v.is_finite()) {
        return Err(ImplicitError::Overflow { solution: y0 });
    }
    for _ in 0..S::ORDER {
        let r = function.residual(&y, p);
        assert_eq!(
            r.len(),
            m,
            "the implicit function's residual returned {} values for {m} unknowns",
            r.len()
        );
        let d: Vec<S> = r.iter().zip(&r0).map(|(&ri, &r0i)| ri - r0i).collect();
        y = y
            .iter()
            .enumerate()
            .map(|(i, &yi)| {
                // J⁻¹'s zeros (a decoupled system's) skipped
                let row = &inverse[i * m..(i + 1) * m];
                row.iter()
                    .zip(&d)
                    .filter(|(k, _)| !k.is_zero())
                    .fold(yi, |acc, (&k, &dj)| acc - k * dj)
            })
            .collect();
    }
    // Every part: a dual's `is_finite` looks at its value, here y₀'s.
    if !y.iter().all(|&v| is_finite_deep(v)) {
        return Err(ImplicitError::Overflow { solution: y0 });
    }
    Ok(y)
}

/// `F(y₀, p₀)` and `∂F/∂y` there (m × m), by chunked forward mode.
fn residual_and_jacobian<F: ImplicitFunction>(
    function: &F,
    y0: &[f64],
    p0: &[f64],
) -> (Vec<f64>, DMatrix<f64>) {
    let p: Vec<DualVec<f64, DEFAULT_CHUNK>> = p0.iter().map(|&v| DualVec::constant(v)).collect();
    value_and_jacobian_chunked::<DEFAULT_CHUNK, _, _>(|y| function.residual(y, &p), y0)
}

/// `J⁻¹` and Skeel's condition number `‖|A⁻¹|·|A|‖∞` of `A = R⁻¹·J·C⁻¹`, `J` with its rows
/// and then its columns scaled by powers of two (exact) to largest magnitudes in `[1, 2)`: the
/// number changes by a factor of a few at most when an equation or an unknown is measured in
/// other units (not at all for units that are powers of two), where `‖J‖·‖J⁻¹‖` would call a
/// well-posed system in mixed units singular, and `A⁻¹` is formed by
/// LU with partial pivoting on entries of one scale (nalgebra's closed-form inverses of
/// matrices up to 4 × 4 go through a determinant, which over- or underflows for equations in
/// large or small units). `J⁻¹ = C⁻¹·A⁻¹·R⁻¹` (infinite entries where it does not fit in
/// `f64`). `(None, ∞)` where LU meets a zero pivot; the number is NaN when an entry is.
fn equilibrated_inverse(j: &DMatrix<f64>) -> (Option<DMatrix<f64>>, f64) {
    // The scales as exponents of two, found in the log domain (so that a row scaled down does
    // not leave subnormal entries for the columns' scales) and applied in one scaling per
    // entry; a zero line keeps exponent 0 (singular anyway).
    let log2 = j.map(|v| v.abs().log2());
    let exponent = |largest: f64| {
        if largest.is_finite() {
            largest.floor() as i32
        } else {
            0
        }
    };
    let rows: Vec<i32> = log2
        .row_iter()
        .map(|r| exponent(r.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v))))
        .collect();
    let columns: Vec<i32> = log2
        .column_iter()
        .map(|c| {
            let largest = c
                .iter()
                .zip(&rows)
                .fold(f64::NEG_INFINITY, |m, (&v, &r)| m.max(v - f64::from(r)));
            exponent(largest)
        })
        .collect();
    let a = DMatrix::from_fn(j.nrows(), j.ncols(), |i, k| {
        times_power_of_two(j[(i, k)], -rows[i] - columns[k])
    });
    let Some(a_inverse) = a.clone().lu().try_inverse() else {
        return (None, f64::INFINITY);
    };
    let condition = (a_inverse.abs() * a.abs())
        .row_iter()
        .map(|row| row.sum())
        .fold(0.0, |m, b| if b.is_nan() || b > m { b } else { m });
    let inverse = DMatrix::from_fn(j.ncols(), j.nrows(), |k, i| {
        times_power_of_two(a_inverse[(k, i)], -columns[k] - rows[i])
    });
    (Some(inverse), condition)
}

/// `x·2ⁿ`, exact where the result is a normal number, in steps of at most `2¹⁰⁰⁰` (each within
/// range where the result is).
fn times_power_of_two(mut x: f64, mut n: i32) -> f64 {
    while n != 0 {
        let step = n.clamp(-1000, 1000);
        x *= 2.0_f64.powi(step);
        n -= step;
    }
    x
}

/// `v` as a constant of `S`.
fn constant<S: Float>(v: f64) -> S {
    S::from(v).expect("every adroit number type converts from f64")
}
