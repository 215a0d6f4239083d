//! adroit-forward's `ImplicitFunction` under `gradcheck` and `hessian_check`: the generic
//! functions checked may call an implicit function's `eval` (a trial's wish), and a wrong
//! residual derivative is caught.

use adroit_check::{Options, generic_fn, gradcheck, hessian_check};
use adroit_forward::num_traits::Float;
use adroit_forward::{ImplicitFunction, SolveError};

/// The intersection of the circle `y₀² + y₁² = p₀` with the line `y₀ − y₁ = p₁`, by its closed
/// form as the solver (the derivatives still come from the residual).
struct Intersection {
    /// A wrong factor in the residual's line equation (1 for the right one): the solver's
    /// values stay those of the true line, so the implicit derivatives disagree with differences.
    slope: f64,
}

impl ImplicitFunction for Intersection {
    fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
        let slope = S::from(self.slope).unwrap();
        vec![y[0] * y[0] + y[1] * y[1] - p[0], y[0] - slope * y[1] - p[1]]
    }
    fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
        let y0 = (p[1] + (2.0 * p[0] - p[1] * p[1]).sqrt()) / 2.0;
        Ok(vec![y0, y0 - p[1]])
    }
}

#[test]
fn gradcheck_and_hessian_check_run_through_eval() {
    let f = generic_fn!(|p| {
        let y = Intersection { slope: 1.0 }.eval(p).unwrap();
        vec![y[0] * y[1].exp(), y[0] - y[1] * p[0]]
    });
    let p = [5.0, 1.0];
    let options = Options::for_precision::<f64>();
    let report = gradcheck(&f, &p, &options).unwrap();
    assert!(report.max_fd_error < 1e-8, "{report:?}");
    let g = generic_fn!(|p| {
        let y = Intersection { slope: 1.0 }.eval(p).unwrap();
        vec![y[0] * y[1].exp()]
    });
    hessian_check(&g, &p, &options).unwrap();
}

#[test]
fn a_residual_inconsistent_with_the_solver_is_caught() {
    let f = generic_fn!(|p| Intersection { slope: 1.5 }.eval(p).unwrap());
    assert!(gradcheck(&f, &[5.0, 1.0], &Options::for_precision::<f64>()).is_err());
}
