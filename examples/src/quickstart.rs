//! The scalar quick start: f(x) = 3x² + 2x + 1 has f'(5) = 32, in forward and reverse mode.

use num_traits::Float;

/// f(x) = 3x² + 2x + 1, written once for any `Float`.
pub fn f<S: Float>(x: S) -> S {
    let c = |v: f64| S::from(v).unwrap_or_else(S::nan);
    c(3.0) * x * x + c(2.0) * x + S::one()
}

/// `(f'(5) by forward mode, f'(5) by reverse mode)`.
pub fn run() -> (f64, f64) {
    let forward = adroit_forward::derivative(f, 5.0);
    let reverse = adroit_reverse::gradient(|x| f(x[0]), &[5.0])[0];
    (forward, reverse)
}
