//! Derivatives of orders 0–3 of a scalar function from one evaluation on three nested duals,
//! shared by the special functions' tests.

use adroit_forward::Dual;

/// Three nested duals: each level's tangent perturbs the level below.
pub type D3 = Dual<Dual<Dual<f64>>>;

/// `[f(x), f'(x), f''(x), f'''(x)]` from one evaluation of `f` at `x + ε₁ + ε₂ + ε₃`.
pub fn third_order(x: f64, f: impl Fn(D3) -> D3) -> [f64; 4] {
    let c = |v: f64| Dual::new(v, 0.0);
    let x3 = D3::new(
        Dual::new(Dual::new(x, 1.0), c(1.0)),
        Dual::new(c(1.0), c(0.0)),
    );
    let out = f(x3);
    [
        out.value().value().value(),
        out.tangent().value().value(),
        out.tangent().value().tangent(),
        out.tangent().tangent().tangent(),
    ]
}
