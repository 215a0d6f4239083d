//! `ImplicitFunction`: derivatives of a solver's result by the implicit function theorem, checked
//! against closed forms of the same functions differentiated directly, at every order and for
//! every number type, and the errors.

use crate::tolerance::{F32, F64, Tol, assert_close};
use adroit_forward::num_traits::Float;
use adroit_forward::{
    DerivativeOrder, Dual, DualVec, HyperDual, ImplicitError, ImplicitFunction, NanCheck,
    SolveError, SpecialFunctions, derivative, gradient, hessian, hessian_chunked, jacobian,
    second_derivative,
};
use std::cell::Cell;

/// The real root of `y³ + p·y − 1 = 0` (`p > 0`), solved by Newton's method.
struct CubicRoot {
    /// Newton iterations.
    steps: usize,
}

impl ImplicitFunction for CubicRoot {
    fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
        vec![y[0] * y[0] * y[0] + p[0] * y[0] - S::one()]
    }
    fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
        let y = (0..self.steps).fold(1.0, |y, _| {
            y - (y * y * y + p[0] * y - 1.0) / (3.0 * y * y + p[0])
        });
        Ok(vec![y])
    }
}

/// The same root in closed form (Cardano): `∛(½ + √(¼ + p³/27)) + ∛(½ − √(¼ + p³/27))`.
fn cardano<S: Float>(p: S) -> S {
    let half = S::from(0.5).unwrap();
    let s = (half * half + p.powi(3) / S::from(27.0).unwrap()).sqrt();
    (half + s).cbrt() + (half - s).cbrt()
}

fn cubic<S: SpecialFunctions + DerivativeOrder>(p: S) -> S {
    CubicRoot { steps: 60 }.eval(&[p]).unwrap()[0]
}

#[test]
fn scalar_root_value_and_derivatives_of_orders_one_to_three_match_the_closed_form() {
    for p in [0.3, 1.0, 2.5] {
        let tol = F64;
        assert_close(cubic(p), cardano(p), tol, "value");
        assert_close(
            derivative(cubic, p),
            derivative(cardano, p),
            tol,
            "first derivative (Dual)",
        );
        let y = cubic(p);
        assert_close(
            derivative(cubic, p),
            -y / (3.0 * y * y + p),
            tol,
            "first derivative, analytic",
        );
        assert_close(
            second_derivative(cubic, p),
            second_derivative(cardano, p),
            Tol {
                atol: 1e-12,
                rtol: 1e-11,
            },
            "second derivative (HyperDual)",
        );
        // nested: Dual<Dual<f64>> (order 2) and Dual<HyperDual<f64>> (order 3)
        let nested = |p: f64| derivative(|q| derivative(cubic, q), p);
        let nested_ref = |p: f64| derivative(|q| derivative(cardano, q), p);
        assert_close(
            nested(p),
            nested_ref(p),
            Tol {
                atol: 1e-12,
                rtol: 1e-11,
            },
            "second derivative (nested Dual)",
        );
        let third = derivative(|q| second_derivative(cubic, q), p);
        let third_ref = derivative(|q| second_derivative(cardano, q), p);
        assert_close(
            third,
            third_ref,
            Tol {
                atol: 1e-10,
                rtol: 1e-9,
            },
            "third derivative (Dual over HyperDual)",
        );
    }
}

#[test]
fn every_number_type_reports_the_order_it_carries() {
    // `eval` takes one chord step per order (with one step for every type, the second and
    // third derivatives above are wrong: tried).
    assert_eq!(<f32 as DerivativeOrder>::ORDER, 0);
    assert_eq!(<NanCheck<f64> as DerivativeOrder>::ORDER, 0);
    assert_eq!(<NanCheck<Dual<f64>> as DerivativeOrder>::ORDER, 1);
    assert_eq!(<Dual<f64> as DerivativeOrder>::ORDER, 1);
    assert_eq!(<Dual<Dual<f64>> as DerivativeOrder>::ORDER, 2);
    assert_eq!(<HyperDual<f64> as DerivativeOrder>::ORDER, 2);
    assert_eq!(<Dual<HyperDual<f64>> as DerivativeOrder>::ORDER, 3);
    assert_eq!(<DualVec<Dual<f32>, 3> as DerivativeOrder>::ORDER, 2);
}

#[test]
fn the_value_is_the_solvers_in_every_mode() {
    // A deliberately inexact solver (3 Newton steps from 1): every mode returns its y₀ exactly.
    let rough = CubicRoot { steps: 3 };
    let y0 = rough.solve(&[1.0]).unwrap()[0];
    assert!(
        (y0 - cardano(1.0)).abs() > 1e-8,
        "the solver should be inexact here"
    );
    assert_eq!(rough.eval(&[1.0]).unwrap()[0], y0);
    assert_eq!(rough.eval(&[Dual::variable(1.0)]).unwrap()[0].value(), y0);
    let h = rough.eval(&[HyperDual::variable(1.0)]).unwrap()[0];
    assert_eq!(h.value(), y0);
    // Its derivative is the implicit function theorem's at y₀: −∂F/∂p / ∂F/∂y there.
    let d = rough.eval(&[Dual::variable(1.0)]).unwrap()[0].tangent();
    assert_close(d, -y0 / (3.0 * y0 * y0 + 1.0), F64, "derivative at y₀");
}

#[test]
fn f32_root_and_derivative() {
    let p = 1.5_f32;
    let y = cubic(p);
    assert_close(y, cardano(1.5_f64), F32, "f32 value");
    assert_close(
        derivative(cubic, p),
        derivative(cardano, 1.5_f64),
        F32,
        "f32 derivative",
    );
    assert_close(
        second_derivative(cubic, p),
        second_derivative(cardano, 1.5_f64),
        F32,
        "f32 second derivative",
    );
}

/// The intersection of the circle `y₀² + y₁² = p₀` with the line `y₀ − y₁ = p₁` in the first
/// quadrant, by Newton's method from (1, 1); the solver counts its calls.
struct Intersection {
    calls: Cell<usize>,
}

impl ImplicitFunction for Intersection {
    fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
        vec![y[0] * y[0] + y[1] * y[1] - p[0], y[0] - y[1] - p[1]]
    }
    fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
        self.calls.set(self.calls.get() + 1);
        let mut y = vec![1.0, 1.0];
        for _ in 0..60 {
            // the Newton step's Jacobian by this crate's forward mode: allowed inside an outer
            // derivative call of the same dual type, as `solve` runs inside `independent`
            let j = jacobian(
                |y| self.residual(y, &[Dual::constant(p[0]), Dual::constant(p[1])]),
                &y,
            );
            let f = self.residual(&y, p);
            let step = j
                .lu()
                .solve(&nalgebra::DVector::from_vec(f))
                .ok_or("singular Newton step")?;
            y[0] -= step[0];
            y[1] -= step[1];
        }
        Ok(y)
    }
}

/// The intersection in closed form.
fn intersection_closed<S: Float>(p: &[S]) -> Vec<S> {
    let two = S::from(2.0).unwrap();
    let y0 = (p[1] + (two * p[0] - p[1] * p[1]).sqrt()) / two;
    vec![y0, y0 - p[1]]
}

fn intersection<S: SpecialFunctions + DerivativeOrder>(p: &[S]) -> Vec<S> {
    Intersection {
        calls: Cell::new(0),
    }
    .eval(p)
    .unwrap()
}

/// A scalar of the intersection with mixed second derivatives: `y₀²·y₁ + sin(y₁)·p₀`.
fn scalar<S: Float>(y: &[S], p: &[S]) -> S {
    y[0] * y[0] * y[1] + y[1].sin() * p[0]
}

#[test]
fn system_jacobian_gradient_and_hessian_match_the_closed_form() {
    let tol = Tol {
        atol: 1e-12,
        rtol: 1e-11,
    };
    for p in [[5.0, 1.0], [3.0, -0.5], [10.0, 2.0]] {
        let j = jacobian(|p| intersection(p), &p);
        let j_ref = jacobian(|p| intersection_closed(p), &p);
        assert_eq!(j.shape(), (2, 2));
        for (a, b) in j.iter().zip(j_ref.iter()) {
            assert_close(*a, *b, tol, "Jacobian ∂y/∂p");
        }
        let f = |p: &[Dual<f64>]| scalar(&intersection(p), p);
        let f_ref = |p: &[Dual<f64>]| scalar(&intersection_closed(p), p);
        for (a, b) in gradient(f, &p).iter().zip(gradient(f_ref, &p)) {
            assert_close(*a, b, tol, "gradient");
        }
        let h = hessian(|p| scalar(&intersection(p), p), &p);
        let h_ref = hessian(|p| scalar(&intersection_closed(p), p), &p);
        let h_chunked = hessian_chunked::<2, _, _>(|p| scalar(&intersection(p), p), &p);
        for ((a, c), b) in h.iter().zip(h_chunked.iter()).zip(h_ref.iter()) {
            assert_close(*a, *b, tol, "Hessian (HyperDual)");
            assert_close(*c, *b, tol, "Hessian (chunked HyperDualVec)");
        }
    }
}

#[test]
fn the_solver_runs_once_per_evaluation_on_plain_numbers_never_on_duals() {
    let function = Intersection {
        calls: Cell::new(0),
    };
    let p = [Dual::new(5.0, 1.0), Dual::new(1.0, 0.0)];
    let y = function.eval(&p).unwrap();
    assert_eq!(function.calls.get(), 1);
    // dy/dp₀ at (5, 1): from the closed form, 1/(2√(2p₀ − p₁²)) = 1/6 for both unknowns
    assert_close(y[0].tangent(), 1.0 / 6.0, F64, "dy₀/dp₀");
    assert_close(y[1].tangent(), 1.0 / 6.0, F64, "dy₁/dp₀");
}

/// The stationary point of a strongly convex function of `y` with parameters `p` (a bilevel
/// problem's inner minimisation): `∇_y [½ Σ a_i y_i² + Σ cosh(y_i − p_i) + p₀·y₀·y₁] = 0`,
/// solved by a damped fixed-point iteration (never differentiated).
struct Argmin;

impl ImplicitFunction for Argmin {
    fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
        let a = [2.0, 3.0, 4.0];
        (0..3)
            .map(|i| {
                let coupling = match i {
                    0 => p[0] * y[1],
                    1 => p[0] * y[0],
                    _ => S::zero(),
                };
                S::from(a[i]).unwrap() * y[i] + (y[i] - p[i]).sinh() + coupling
            })
            .collect()
    }
    fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
        let mut y = vec![0.0; 3];
        for _ in 0..2000 {
            let r = self.residual(&y, p);
            for (yi, ri) in y.iter_mut().zip(&r) {
                *yi -= 0.1 * ri;
            }
        }
        let r = self.residual(&y, p);
        if r.iter().any(|v| v.abs() > 1e-12) {
            return Err(format!("no convergence: residual {r:?}").into());
        }
        Ok(y)
    }
}

#[test]
fn argmin_jacobian_matches_central_differences_of_the_solver() {
    let p = [0.3, 0.5, -0.7];
    let j = jacobian(|p| Argmin.eval(p).unwrap(), &p);
    let h = 1e-5;
    for k in 0..3 {
        let (mut up, mut down) = (p, p);
        up[k] += h;
        down[k] -= h;
        let (yu, yd) = (Argmin.solve(&up).unwrap(), Argmin.solve(&down).unwrap());
        for i in 0..3 {
            let fd = (yu[i] - yd[i]) / (2.0 * h);
            assert_close(
                j[(i, k)],
                fd,
                Tol {
                    atol: 1e-8,
                    rtol: 1e-7,
                },
                "∂y/∂p against central differences",
            );
        }
    }
    // and against the implicit function theorem written out: −(∂F/∂y)⁻¹ ∂F/∂p
    let y0 = Argmin.solve(&p).unwrap();
    let fy = jacobian(|y| Argmin.residual(y, &p.map(Dual::constant)), &y0);
    let fp = jacobian(
        |q| {
            Argmin.residual(
                &y0.iter().map(|&v| Dual::constant(v)).collect::<Vec<_>>(),
                q,
            )
        },
        &p,
    );
    let ift = -(fy.try_inverse().unwrap() * fp);
    for (a, b) in j.iter().zip(ift.iter()) {
        assert_close(*a, *b, F64, "∂y/∂p against the implicit function theorem");
    }
}

struct Failing;

impl ImplicitFunction for Failing {
    fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
        vec![y[0] - p[0]]
    }
    fn solve(&self, _: &[f64]) -> Result<Vec<f64>, SolveError> {
        Err("no convergence after 100 iterations".into())
    }
}

#[test]
fn a_solver_error_is_passed_on_with_its_message() {
    let err = Failing.eval(&[Dual::variable(1.0)]).unwrap_err();
    assert!(matches!(err, ImplicitError::Solve(_)));
    let text = err.to_string();
    assert!(
        text.contains("no convergence after 100 iterations"),
        "{text}"
    );
    let source = std::error::Error::source(&err).expect("the solver's error is the source");
    assert_eq!(source.to_string(), "no convergence after 100 iterations");
    // plain numbers too
    assert!(matches!(Failing.eval(&[1.0]), Err(ImplicitError::Solve(_))));
}

/// `y² = p`, solved as `√p`: at `p = 0` the root is not differentiable (∂F/∂y = 2y = 0).
struct SquareRoot;

impl ImplicitFunction for SquareRoot {
    fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
        vec![y[0] * y[0] - p[0]]
    }
    fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
        Ok(vec![p[0].sqrt()])
    }
}

#[test]
fn a_singular_jacobian_is_an_error_naming_the_solution() {
    let err = SquareRoot.eval(&[Dual::variable(0.0)]).unwrap_err();
    match &err {
        ImplicitError::SingularJacobian {
            solution,
            condition,
        } => assert_eq!((solution, *condition), (&vec![0.0], f64::INFINITY)),
        other => panic!("expected SingularJacobian, got {other:?}"),
    }
    assert!(err.to_string().contains("singular"), "{err}");
    // the value alone needs no Jacobian
    assert_eq!(SquareRoot.eval(&[0.0]).unwrap(), vec![0.0]);
    // away from 0: d√p/dp = 1/(2√p)
    assert_close(
        derivative(|p| SquareRoot.eval(&[p]).unwrap()[0], 4.0),
        0.25,
        F64,
        "d√p/dp",
    );
}

/// A solver returning a NaN or an infinity is an error in every mode: before, plain numbers
/// passed `Ok(NaN)` on where a dual number got `NonFiniteResidual`; and a result beyond an
/// `f32`'s range is `Overflow` for a plain `f32` as for a `Dual<f32>` (was `Ok(inf)`).
#[test]
fn a_non_finite_or_overflowing_solution_is_an_error_in_every_mode() {
    struct Returns(f64);
    impl ImplicitFunction for Returns {
        fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
            vec![y[0] - p[0]]
        }
        fn solve(&self, _: &[f64]) -> Result<Vec<f64>, SolveError> {
            Ok(vec![self.0])
        }
    }
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let non_finite = |e: ImplicitError| {
            matches!(&e, ImplicitError::NonFiniteSolution { solution }
                if solution.len() == 1 && solution[0].to_bits() == bad.to_bits())
        };
        assert!(
            non_finite(Returns(bad).eval(&[1.0_f64]).unwrap_err()),
            "{bad} f64"
        );
        assert!(
            non_finite(Returns(bad).eval(&[1.0_f32]).unwrap_err()),
            "{bad} f32"
        );
        let dual = Returns(bad).eval(&[Dual::variable(1.0_f64)]).unwrap_err();
        assert!(non_finite(dual), "{bad} Dual");
        assert!(
            Returns(bad)
                .eval(&[1.0_f64])
                .unwrap_err()
                .to_string()
                .contains("NaN or an infinity")
        );
    }
    // 1e39 fits in f64 but not in f32: Overflow for both f32 types.
    let overflow = |e: ImplicitError| matches!(e, ImplicitError::Overflow { .. });
    assert!(overflow(Returns(1e39).eval(&[1.0_f32]).unwrap_err()));
    let message = Returns(1e39).eval(&[1.0_f32]).unwrap_err().to_string();
    assert!(
        message.contains("value or derivatives overflow"),
        "{message}"
    );
    assert!(overflow(
        Returns(1e39).eval(&[Dual::variable(1.0_f32)]).unwrap_err()
    ));
    assert_eq!(Returns(1e39).eval(&[1.0_f64]).unwrap(), vec![1e39]);
}

#[test]
fn a_non_finite_residual_is_an_error() {
    // the solver returns a negative number (a bug): √y is NaN there
    struct Broken;
    impl ImplicitFunction for Broken {
        fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
            vec![y[0].sqrt() - p[0]]
        }
        fn solve(&self, _: &[f64]) -> Result<Vec<f64>, SolveError> {
            Ok(vec![-1.0])
        }
    }
    let err = Broken.eval(&[Dual::variable(1.0)]).unwrap_err();
    assert!(
        matches!(&err, ImplicitError::NonFiniteResidual { solution } if solution == &vec![-1.0]),
        "{err:?}"
    );
}

#[test]
#[should_panic(expected = "returned 2 values for 1 unknowns")]
fn more_equations_than_unknowns_panics() {
    struct Overdetermined;
    impl ImplicitFunction for Overdetermined {
        fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
            vec![y[0] - p[0], y[0] + p[0]]
        }
        fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
            Ok(vec![p[0]])
        }
    }
    let _ = Overdetermined.eval(&[Dual::variable(1.0)]);
}

#[test]
#[should_panic(expected = "returned no unknowns")]
fn a_solver_returning_no_unknowns_panics() {
    struct Empty;
    impl ImplicitFunction for Empty {
        fn residual<S: Float>(&self, _: &[S], _: &[S]) -> Vec<S> {
            Vec::new()
        }
        fn solve(&self, _: &[f64]) -> Result<Vec<f64>, SolveError> {
            Ok(Vec::new())
        }
    }
    let _ = Empty.eval(&[1.0]);
}

#[test]
fn chunked_duals_carry_several_directions_at_once() {
    // DualVec<f64, 2>: both columns of ∂y/∂p in one evaluation
    let p = [
        DualVec::<f64, 2>::variable(5.0, 0),
        DualVec::variable(1.0, 1),
    ];
    let y = Intersection {
        calls: Cell::new(0),
    }
    .eval(&p)
    .unwrap();
    let j_ref = jacobian(|p| intersection_closed(p), &[5.0, 1.0]);
    for i in 0..2 {
        for k in 0..2 {
            assert_close(y[i].tangents()[k], j_ref[(i, k)], F64, "∂y/∂p by DualVec");
        }
    }
}

/// `erf(y) = p`, solved by Newton's method: a residual with a special function.
struct InverseErf;

impl ImplicitFunction for InverseErf {
    fn residual<S: SpecialFunctions>(&self, y: &[S], p: &[S]) -> Vec<S> {
        vec![y[0].erf() - p[0]]
    }
    fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
        let slope = |y: f64| 2.0 / std::f64::consts::PI.sqrt() * (-y * y).exp();
        Ok(vec![(0..60).fold(0.0, |y: f64, _| {
            y - (SpecialFunctions::erf(y) - p[0]) / slope(y)
        })])
    }
}

fn inverse_erf<S: SpecialFunctions + DerivativeOrder>(p: S) -> S {
    InverseErf.eval(&[p]).unwrap()[0]
}

#[test]
fn a_residual_with_special_functions() {
    // dy/dp = √π/2·exp(y²), d²y/dp² = 2y·(dy/dp)²
    for p in [-0.6, 0.2, 0.9] {
        let y = InverseErf.eval(&[p]).unwrap()[0];
        assert_close(SpecialFunctions::erf(y), p, F64, "erf(y) = p");
        let dy = std::f64::consts::PI.sqrt() / 2.0 * (y * y).exp();
        assert_close(derivative(inverse_erf, p), dy, F64, "dy/dp");
        let d2y = second_derivative(inverse_erf, p);
        assert_close(d2y, 2.0 * y * dy * dy, F64, "d²y/dp²");
    }
}

/// `((y + 10⁵) − 10⁵) − p = 0`: its root is `p`, but in `f32` the residual rounds (a review's
/// case).
struct Shifted;

impl ImplicitFunction for Shifted {
    fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
        let big = S::from(1e5).unwrap();
        vec![((y[0] + big) - big) - p[0]]
    }
    fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
        Ok(vec![p[0]])
    }
}

#[test]
fn f32_values_are_the_solvers_in_every_mode_too() {
    let p = 0.1234567_f32;
    let plain = Shifted.eval(&[p]).unwrap()[0];
    assert_eq!(plain, p);
    assert_eq!(
        Shifted.eval(&[Dual::variable(p)]).unwrap()[0].value(),
        plain
    );
    assert_eq!(
        Shifted.eval(&[HyperDual::variable(p)]).unwrap()[0].value(),
        plain
    );
}

/// `A·y = p` for a fixed matrix `A`, solved by nalgebra's SVD (least squares where `A` is
/// singular): a trial's case.
struct Linear(nalgebra::DMatrix<f64>);

impl ImplicitFunction for Linear {
    fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
        let a = &self.0;
        (0..y.len())
            .map(|i| (0..y.len()).fold(-p[i], |acc, j| acc + S::from(a[(i, j)]).unwrap() * y[j]))
            .collect()
    }
    fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
        let b = nalgebra::DVector::from_column_slice(p);
        Ok(self
            .0
            .clone()
            .svd(true, true)
            .solve(&b, 1e-12)?
            .as_slice()
            .to_vec())
    }
}

#[test]
fn a_numerically_singular_jacobian_is_an_error_too() {
    // rank 2 in exact arithmetic; LU finds a tiny pivot, not a zero one, and an inverse of
    // entries ~10¹⁶ (a trial: derivatives of 6.9·10¹⁵ without an error)
    let a = nalgebra::DMatrix::from_row_slice(3, 3, &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    let p = [
        Dual::variable(0.1),
        Dual::constant(0.2),
        Dual::constant(0.3),
    ];
    match Linear(a).eval(&p) {
        Err(ImplicitError::SingularJacobian { condition, .. }) => {
            assert!(condition >= 1.0 / f64::EPSILON, "{condition}")
        }
        other => panic!("expected SingularJacobian, got {other:?}"),
    }
    // a well-conditioned A: dy/dp = A⁻¹ exactly
    let a = nalgebra::DMatrix::from_row_slice(2, 2, &[2.0, 1.0, 1.0, 3.0]);
    let j = jacobian(|p| Linear(a.clone()).eval(p).unwrap(), &[1.0, -1.0]);
    let inverse = a.try_inverse().unwrap();
    for (x, y) in j.iter().zip(inverse.iter()) {
        assert_close(*x, *y, F64, "A⁻¹");
    }
}

/// An implicit function whose residual calls another: `z³ + z = y(p)` with `y` the cubic root
/// of `p` (`y³ + p·y = 1`). Closed form: `z = cardano`-style root of `z³ + z − y = 0`,
/// checked by the implicit function theorem's chain `dz/dp = (dz/dy)(dy/dp)`.
struct Nested;

impl ImplicitFunction for Nested {
    fn residual<S: SpecialFunctions + DerivativeOrder>(&self, z: &[S], p: &[S]) -> Vec<S> {
        let y = CubicRoot { steps: 60 }.eval(p).expect("the inner root");
        vec![z[0] * z[0] * z[0] + z[0] - y[0]]
    }
    fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
        let y = CubicRoot { steps: 60 }.solve(p)?[0];
        Ok(vec![(0..60).fold(0.0, |z: f64, _| {
            z - (z * z * z + z - y) / (3.0 * z * z + 1.0)
        })])
    }
}

#[test]
fn implicit_functions_nest() {
    let p = 1.3;
    let y = cubic(p);
    let z = Nested.eval(&[p]).unwrap()[0];
    assert_close(z * z * z + z, y, F64, "z³ + z = y");
    let dy = derivative(cubic, p);
    let dz = derivative(|q| Nested.eval(&[q]).unwrap()[0], p);
    assert_close(
        dz,
        dy / (3.0 * z * z + 1.0),
        F64,
        "dz/dp = dy/dp / (3z² + 1)",
    );
    // second order: d²z/dp² = (y'' − 6z·z'²)/(3z² + 1)
    let d2y = second_derivative(cubic, p);
    let d2z = second_derivative(|q| Nested.eval(&[q]).unwrap()[0], p);
    let expected = (d2y - 6.0 * z * dz * dz) / (3.0 * z * z + 1.0);
    assert_close(
        d2z,
        expected,
        Tol {
            atol: 1e-12,
            rtol: 1e-11,
        },
        "d²z/dp²",
    );
}

/// `[y₀ − p₀, s·(y₁ − p₁)]`-style systems: well posed in any units.
struct Scaled {
    rows: [f64; 2],
    coupling: f64,
}

impl ImplicitFunction for Scaled {
    fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
        let c = |v: f64| S::from(v).unwrap();
        vec![
            c(self.rows[0]) * (y[0] - p[0]),
            c(self.rows[1]) * (y[1] + c(self.coupling) * y[0] - p[1]),
        ]
    }
    fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
        Ok(vec![p[0], p[1] - self.coupling * p[0]])
    }
}

#[test]
fn badly_scaled_but_well_posed_systems_are_not_refused() {
    // a review's cases: an equation scaled by 10⁻¹⁶, two by 10⁸ and 10⁻⁸, a coupling of 10⁸
    // (‖J‖₁‖J⁻¹‖₁ called them singular); ∂y/∂p = [[1, 0], [−c, 1]] whatever the scales
    for (rows, coupling) in [
        ([1.0, 1e-16], 0.0),
        ([1e8, 1e-8], 0.0),
        ([1.0, 1.0], 1e8),
        ([1e-12, 1e9], 3.0),
    ] {
        let f = Scaled { rows, coupling };
        let j = jacobian(|p| f.eval(p).unwrap(), &[0.5, 2.0]);
        let expected = [1.0, -coupling, 0.0, 1.0]; // column-major
        for (got, want) in j.iter().zip(expected) {
            assert_close(
                *got,
                want,
                F64,
                &format!("∂y/∂p, rows {rows:?}, coupling {coupling}"),
            );
        }
    }
}

#[test]
fn an_f32_overflow_in_the_callers_arithmetic_is_an_error_not_a_nan() {
    // exp(y) − exp(2p) at p = 45: exp(90) overflows f32 but not f64
    struct Exponential;
    impl ImplicitFunction for Exponential {
        fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
            vec![y[0].exp() - (p[0] + p[0]).exp()]
        }
        fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
            Ok(vec![2.0 * p[0]])
        }
    }
    assert_eq!(Exponential.eval(&[45.0_f32]).unwrap(), vec![90.0]);
    assert!(matches!(
        Exponential.eval(&[Dual::variable(45.0_f32)]),
        Err(ImplicitError::NonFiniteResidual { .. })
    ));
    // in range: dy/dp = 2
    let d = derivative(|p| Exponential.eval(&[p]).unwrap()[0], 10.0_f32);
    assert_close(d, 2.0, F32, "dy/dp");
}

#[test]
fn an_inverse_beyond_f32s_range_is_an_overflow_error() {
    // a review's cases: exp(−y) − exp(−2p) at p = 45 (∂F/∂y = −e⁻⁹⁰: J⁻¹ ≈ −10³⁹), and a linear
    // system whose Jacobian's entries are normal f32s but whose inverse holds −10⁴⁰
    struct Decay;
    impl ImplicitFunction for Decay {
        fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
            vec![(-y[0]).exp() - (-(p[0] + p[0])).exp()]
        }
        fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
            Ok(vec![2.0 * p[0]])
        }
    }
    assert_eq!(Decay.eval(&[45.0_f32]).unwrap(), vec![90.0]);
    let err = Decay.eval(&[Dual::variable(45.0_f32)]).unwrap_err();
    assert!(matches!(err, ImplicitError::Overflow { .. }), "{err:?}");
    assert!(err.to_string().contains("overflow"), "{err}");
    assert!(matches!(
        Decay.eval(&[HyperDual::variable(45.0_f32)]),
        Err(ImplicitError::Overflow { .. })
    ));
    // f64 holds it: dy/dp = 2
    assert_close(
        derivative(|p| Decay.eval(&[p]).unwrap()[0], 45.0),
        2.0,
        F64,
        "f64 dy/dp",
    );
    let a = 1e-20;
    let coupled = Scaled {
        rows: [a, a],
        coupling: 1.0 / a,
    };
    assert!(matches!(
        coupled.eval(&[Dual::variable(1.0_f32), Dual::constant(2.0)]),
        Err(ImplicitError::Overflow { .. })
    ));
}

#[test]
fn unknowns_in_units_far_apart_are_not_refused() {
    // J = [[1e-160, 1e160], [1e-160, −1e160]]: [[1, 1], [1, −1]] with its unknowns rescaled
    struct Units;
    impl ImplicitFunction for Units {
        fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
            let (small, large) = (S::from(1e-160).unwrap(), S::from(1e160).unwrap());
            vec![
                small * y[0] + large * y[1] - p[0],
                small * y[0] - large * y[1] - p[1],
            ]
        }
        fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
            Ok(vec![
                (p[0] + p[1]) / 2.0 * 1e160,
                (p[0] - p[1]) / 2.0 * 1e-160,
            ])
        }
    }
    let j = jacobian(|p| Units.eval(p).unwrap(), &[1.0, 0.5]);
    assert_close(j[(0, 0)] / 1e160, 0.5, F64, "∂y₀/∂p₀");
    assert_close(j[(1, 1)] / 1e-160, -0.5, F64, "∂y₁/∂p₁");
}

/// `s·(y₀ + y₁ − p₀) = 0`, `s·(y₀ − y₁ − p₁) = 0`: equations in units `s`.
struct EquationUnits(f64);

impl ImplicitFunction for EquationUnits {
    fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
        let s = S::from(self.0).unwrap();
        vec![s * (y[0] + y[1] - p[0]), s * (y[0] - y[1] - p[1])]
    }
    fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
        Ok(vec![(p[0] + p[1]) / 2.0, (p[0] - p[1]) / 2.0])
    }
}

#[test]
fn small_systems_in_large_or_small_equation_units_are_exact() {
    // a review: nalgebra's closed-form 2 × 2 inverse went through a determinant that
    // overflowed at s = 1e160 (an all-zero inverse: derivatives (0, 0) without an error) and
    // underflowed at 1e-170 (refused as singular); ∂y/∂p₀ = (½, ½) in any units
    for s in [1.0, 1e150, 1e160, 1e-160, 1e-170, 1e300, 1e-300] {
        let y = EquationUnits(s)
            .eval(&[Dual::variable(1.0), Dual::constant(0.5)])
            .unwrap_or_else(|e| panic!("s = {s:e}: {e}"));
        assert_close(y[0].tangent(), 0.5, F64, &format!("∂y₀/∂p₀ at s = {s:e}"));
        assert_close(y[1].tangent(), 0.5, F64, &format!("∂y₁/∂p₀ at s = {s:e}"));
    }
}

/// `R·(J·y − p) = 0` for a fixed 3 × 3 `J` and diagonal `R`: equations in mixed units.
struct RowScaled {
    rows: [f64; 3],
}

impl ImplicitFunction for RowScaled {
    fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
        let j = [[2.0, 0.5, 0.0], [0.0, 2.0, -1.0], [1.0, 0.0, 0.0]];
        (0..3)
            .map(|i| {
                let row = (0..3).fold(-p[i], |t, k| t + S::from(j[i][k]).unwrap() * y[k]);
                S::from(self.rows[i]).unwrap() * row
            })
            .collect()
    }
    fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
        // y₀ = p₂; y₁ = (p₀ − 2y₀)/½; y₂ = 2y₁ − p₁
        let y0 = p[2];
        let y1 = (p[0] - 2.0 * y0) / 0.5;
        Ok(vec![y0, y1, 2.0 * y1 - p[1]])
    }
}

#[test]
fn the_singularity_test_does_not_grow_with_the_equations_units() {
    // a review: R = diag(1e-8, 1e8, 1e-8) was refused with a condition of 8e16;
    // ∂y/∂p₀ = (0, 2, 4) whatever R
    let mut conditions = Vec::new();
    for rows in [
        [1.0, 1.0, 1.0],
        [1e-6, 1e6, 1e-6],
        [1e-8, 1e8, 1e-8],
        [1e200, 1e-200, 1.0],
    ] {
        let f = RowScaled { rows };
        let y = f
            .eval(&[
                Dual::variable(1.0),
                Dual::constant(2.0),
                Dual::constant(3.0),
            ])
            .unwrap_or_else(|e| panic!("rows {rows:?}: {e}"));
        for (k, want) in [0.0, 2.0, 4.0].into_iter().enumerate() {
            assert_close(
                y[k].tangent(),
                want,
                F64,
                &format!("∂y{k}/∂p₀, rows {rows:?}"),
            );
        }
        // and the number reported for a nearly singular variant (refused for f32 callers)
        // does not depend on R either
        let m = [[1.0, 1.0, 0.0], [1.0, 1.0 + 1e-8, 0.0], [0.0, 0.0, 1.0]];
        let nearly = Linear(nalgebra::DMatrix::from_fn(3, 3, |i, k| rows[i] * m[i][k]));
        let p = [0.1_f32, 0.2, 0.3].map(Dual::variable);
        match nearly.eval(&p) {
            Err(ImplicitError::SingularJacobian { condition, .. }) => conditions.push(condition),
            other => panic!("rows {rows:?}: expected SingularJacobian, got {other:?}"),
        }
    }
    let (low, high) = conditions
        .iter()
        .fold((f64::INFINITY, 0.0_f64), |(l, h), &c| (l.min(c), h.max(c)));
    assert!(high / low < 1.01, "conditions {conditions:?}");
}

/// `a·(y − 1) − b·(p − 1) = 0`: `dy/dp = b/a`.
struct Steep {
    a: f64,
    b: f64,
}

impl ImplicitFunction for Steep {
    fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
        let (a, b) = (S::from(self.a).unwrap(), S::from(self.b).unwrap());
        vec![a * (y[0] - S::one()) - b * (p[0] - S::one())]
    }
    fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
        Ok(vec![1.0 + self.b / self.a * (p[0] - 1.0)])
    }
}

#[test]
fn a_derivative_beyond_the_callers_range_is_an_overflow() {
    // a review: dy/dp = 1e45 does not fit in f32, but the value (1) does: Ok with an infinite
    // tangent before; f64 gets it
    let f = Steep { a: 1e-20, b: 1e25 };
    match f.eval(&[Dual::variable(1.0_f32)]) {
        Err(ImplicitError::Overflow { solution }) => assert_eq!(solution, vec![1.0]),
        other => panic!("expected Overflow, got {other:?}"),
    }
    let y = f.eval(&[Dual::variable(1.0_f64)]).unwrap();
    assert_close(y[0].tangent(), 1e45, F64, "dy/dp in f64");
}

#[test]
fn the_singularity_threshold_is_the_callers_precision() {
    // a review: a condition of ~4e9 is fine in f64 but leaves an f32 step no digits (tangents
    // (0, 0) where (1, 0) is exact): SingularJacobian for f32 callers
    let delta = 1e-9;
    let a = nalgebra::DMatrix::from_row_slice(2, 2, &[1.0, 1.0, 1.0, 1.0 + delta]);
    let p32 = [Dual::new(1.0_f32, 1.0), Dual::new(1.0_f32, 1.0)];
    match Linear(a.clone()).eval(&p32) {
        Err(ImplicitError::SingularJacobian { condition, .. }) => {
            assert!(condition >= 1.0 / f64::from(f32::EPSILON), "{condition}");
            assert!(condition < 1.0 / f64::EPSILON, "{condition}");
        }
        other => panic!("expected SingularJacobian, got {other:?}"),
    }
    let p64 = [Dual::new(1.0_f64, 1.0), Dual::new(1.0_f64, 1.0)];
    let y = Linear(a).eval(&p64).unwrap();
    assert_close(
        y[0].tangent(),
        1.0,
        Tol {
            atol: 1e-6,
            rtol: 1e-6,
        },
        "∂y₀ in f64",
    );
    assert_close(
        y[1].tangent(),
        0.0,
        Tol {
            atol: 1e-6,
            rtol: 1e-6,
        },
        "∂y₁ in f64",
    );
}

/// `y³ + p·y − 1 = 0` by `steps` Newton steps from 1, with a residual tolerance.
struct Truncated {
    steps: usize,
    tolerance: Option<f64>,
}

impl ImplicitFunction for Truncated {
    fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
        vec![y[0] * y[0] * y[0] + p[0] * y[0] - S::one()]
    }
    fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
        let mut y = 1.0;
        for _ in 0..self.steps {
            y -= (y * y * y + p[0] * y - 1.0) / (3.0 * y * y + p[0]);
        }
        Ok(vec![y])
    }
    fn residual_tolerance(&self) -> Option<f64> {
        self.tolerance
    }
}

#[test]
fn a_residual_tolerance_refuses_a_solver_that_stopped_early_in_every_mode() {
    let hasty = Truncated {
        steps: 1,
        tolerance: Some(1e-12),
    };
    let check = |got: Result<Vec<f64>, ImplicitError>| match got {
        Err(ImplicitError::NotConverged {
            residual,
            tolerance,
            solution,
        }) => {
            assert!(residual > 1e-3 && tolerance == 1e-12 && solution.len() == 1);
        }
        other => panic!("expected NotConverged, got {other:?}"),
    };
    check(hasty.eval(&[2.0]));
    check(
        hasty
            .eval(&[Dual::variable(2.0)])
            .map(|y| vec![y[0].value()]),
    );
    check(
        hasty
            .eval(&[HyperDual::variable(2.0)])
            .map(|y| vec![y[0].value()]),
    );
    let message = hasty.eval(&[2.0]).unwrap_err().to_string();
    assert!(message.contains("above the tolerance 1e-12"), "{message}");
    // converged: accepted, and the derivative is the closed form's
    let careful = Truncated {
        steps: 60,
        tolerance: Some(1e-12),
    };
    let d = derivative(|p| careful.eval(&[p]).unwrap()[0], 2.0);
    assert_close(
        d,
        derivative(cardano, 2.0),
        F64,
        "dy/dp against the closed form",
    );
    // no tolerance (the default): the truncated result is taken
    let trusting = Truncated {
        steps: 1,
        tolerance: None,
    };
    assert!(trusting.eval(&[Dual::variable(2.0)]).is_ok());
}

/// The intersection with `∂F/∂y = [[2y₀, 2y₁], [1, −1]]` given by `jacobian` (optionally off by
/// a factor in one entry); counts the residual's evaluations on 8-lane duals (the forward-mode
/// Jacobian the default forms).
struct IntersectionWithJacobian {
    off: f64,
    dual_evaluations: Cell<usize>,
}

impl ImplicitFunction for IntersectionWithJacobian {
    fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
        if size_of::<S>() == size_of::<DualVec<f64, 8>>() {
            self.dual_evaluations.set(self.dual_evaluations.get() + 1);
        }
        vec![y[0] * y[0] + y[1] * y[1] - p[0], y[0] - y[1] - p[1]]
    }
    fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
        Ok(intersection_closed(p))
    }
    fn jacobian(&self, y: &[f64], _p: &[f64]) -> Option<nalgebra::DMatrix<f64>> {
        Some(nalgebra::dmatrix![2.0 * y[0] * self.off, 2.0 * y[1]; 1.0, -1.0])
    }
}

/// A `jacobian` given is used instead of forward mode (no evaluation on the Jacobian's duals)
/// and gives the closed form's first and second derivatives; a wrong one gives wrong
/// derivatives (it is trusted), the value unchanged.
#[test]
fn a_jacobian_given_replaces_forward_mode() {
    let tol = Tol {
        atol: 1e-12,
        rtol: 1e-11,
    };
    let p = [5.0, 1.0];
    let given = IntersectionWithJacobian {
        off: 1.0,
        dual_evaluations: Cell::new(0),
    };
    let j = jacobian(|p| given.eval(p).unwrap(), &p);
    let j_ref = jacobian(|p| intersection_closed(p), &p);
    for (a, b) in j.iter().zip(j_ref.iter()) {
        assert_close(*a, *b, tol, "Jacobian ∂y/∂p with J given");
    }
    let h = hessian(|p| scalar(&given.eval(p).unwrap(), p), &p);
    let h_ref = hessian(|p| scalar(&intersection_closed(p), p), &p);
    for (a, b) in h.iter().zip(h_ref.iter()) {
        assert_close(*a, *b, tol, "Hessian with J given");
    }
    assert_eq!(given.dual_evaluations.get(), 0);
    let wrong = IntersectionWithJacobian {
        off: 1.5,
        dual_evaluations: Cell::new(0),
    };
    let (value, slope) = adroit_forward::value_and_gradient(|p| wrong.eval(p).unwrap()[0], &p);
    assert_eq!(value, intersection_closed(&p)[0]);
    assert!((slope[0] - j_ref[(0, 0)]).abs() > 1e-3, "{slope:?}");
}

/// A `jacobian` of the wrong shape is a programming error, named.
#[test]
#[should_panic(expected = "the implicit function's jacobian is 1×2 for 2 unknowns")]
fn a_jacobian_of_the_wrong_shape_panics() {
    struct Wrong;
    impl ImplicitFunction for Wrong {
        fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
            vec![y[0] - p[0], y[1]]
        }
        fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
            Ok(vec![p[0], 0.0])
        }
        fn jacobian(&self, _y: &[f64], _p: &[f64]) -> Option<nalgebra::DMatrix<f64>> {
            Some(nalgebra::dmatrix![1.0, 0.0])
        }
    }
    let _ = derivative(|p| Wrong.eval(&[p]).unwrap()[0], 1.0);
}
