//! How the dual types print their parts: a nested dual in parentheses, a negative tangent
//! after a minus sign, the caller's precision (`{:.3}`) and `+` flag kept on every number.

use core::fmt;

/// One part (a value or a tangent) as text, honouring `f`'s precision and `+` flag. A part
/// that is itself a dual number (its text has a space, which a float's never has) is put in
/// parentheses, so `Dual<Dual<f64>>` prints `(1 + 1ε) + (2 + 0ε)ε`, not an ambiguous run.
pub(crate) fn part<T: fmt::Display>(f: &fmt::Formatter<'_>, x: &T) -> String {
    let text = match (f.precision(), f.sign_plus()) {
        (Some(p), true) => format!("{x:+.p$}"),
        (Some(p), false) => format!("{x:.p$}"),
        (None, true) => format!("{x:+}"),
        (None, false) => format!("{x}"),
    };
    if text.contains(' ') {
        format!("({text})")
    } else {
        text
    }
}

/// Writes ` + tε` or, for a plain negative `t`, ` - |t|ε` (`1 - 0.5ε`, not `1 + -0.5ε`);
/// `unit` is the perturbation's symbol (`ε`).
pub(crate) fn write_term<T: fmt::Display>(
    f: &mut fmt::Formatter<'_>,
    t: &T,
    unit: &str,
) -> fmt::Result {
    let text = part(f, t);
    match text.strip_prefix('-') {
        Some(magnitude) => write!(f, " - {magnitude}{unit}"),
        None => write!(f, " + {}{unit}", text.strip_prefix('+').unwrap_or(&text)),
    }
}
