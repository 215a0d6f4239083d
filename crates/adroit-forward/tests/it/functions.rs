//! The functions of the reference table (`reference.rs`) by name, evaluated generically.
//! Shared with the reverse crate's tests (included there by path).

use num_traits::Float;

/// Evaluates the unary function named `name` (as in the reference table).
pub fn unary<S: Float>(name: &str, x: S) -> S {
    match name {
        "sin" => x.sin(),
        "cos" => x.cos(),
        "tan" => x.tan(),
        "asin" => x.asin(),
        "acos" => x.acos(),
        "atan" => x.atan(),
        "sinh" => x.sinh(),
        "cosh" => x.cosh(),
        "tanh" => x.tanh(),
        "asinh" => x.asinh(),
        "acosh" => x.acosh(),
        "atanh" => x.atanh(),
        "exp" => x.exp(),
        "exp2" => x.exp2(),
        "exp_m1" => x.exp_m1(),
        "ln" => x.ln(),
        "log2" => x.log2(),
        "log10" => x.log10(),
        "ln_1p" => x.ln_1p(),
        "sqrt" => x.sqrt(),
        "cbrt" => x.cbrt(),
        "recip" => x.recip(),
        "abs" => x.abs(),
        "to_degrees" => x.to_degrees(),
        "to_radians" => x.to_radians(),
        "powi_3" => x.powi(3),
        "powi_m2" => x.powi(-2),
        "powi_0" => x.powi(0),
        "fract" => x.fract(),
        "floor" => x.floor(),
        "ceil" => x.ceil(),
        "round" => x.round(),
        "trunc" => x.trunc(),
        "signum" => x.signum(),
        _ => panic!("no unary function named {name}"),
    }
}

/// Evaluates the binary function named `name` (as in the reference table).
pub fn binary<S: Float>(name: &str, x: S, y: S) -> S {
    match name {
        "add" => x + y,
        "sub" => x - y,
        "mul" => x * y,
        "div" => x / y,
        "rem" => x % y,
        "powf" => x.powf(y),
        "atan2" => x.atan2(y),
        "hypot" => x.hypot(y),
        "log" => x.log(y),
        "max" => x.max(y),
        "min" => x.min(y),
        "copysign" => x.copysign(y),
        _ => panic!("no binary function named {name}"),
    }
}
