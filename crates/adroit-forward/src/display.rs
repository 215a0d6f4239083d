//! How the dual types print: a nested dual's parts in parentheses, a negative tangent after
//! a minus sign, the caller's precision (`{:.3}`) and `+` flag on every number, and the width,
//! fill and alignment (`{:>20}`) on the whole dual number.

use core::fmt::{self, Write};

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

/// Appends ` + tε` or, for a plain negative `t`, ` - |t|ε` (`1 - 0.5ε`, not `1 + -0.5ε`);
/// `unit` is the perturbation's symbol (`ε`).
pub(crate) fn push_term<T: fmt::Display>(
    out: &mut String,
    f: &fmt::Formatter<'_>,
    t: &T,
    unit: &str,
) {
    let text = part(f, t);
    let (sign, magnitude) = match text.strip_prefix('-') {
        Some(magnitude) => ('-', magnitude),
        None => ('+', text.strip_prefix('+').unwrap_or(&text)),
    };
    // (Writing to a String cannot fail.)
    let _ = write!(out, " {sign} {magnitude}{unit}");
}

/// Appends `[x₀, x₁, …]`, each entry a [`part`].
pub(crate) fn push_list<T: fmt::Display>(out: &mut String, f: &fmt::Formatter<'_>, xs: &[T]) {
    out.push('[');
    for (i, x) in xs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&part(f, x));
    }
    out.push(']');
}

/// Writes the whole dual number's `text`, padded to `f`'s width with its fill and alignment
/// (right-aligned by default, as numbers are).
pub(crate) fn pad(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    let length = text.chars().count();
    let Some(room) = f.width().and_then(|w| w.checked_sub(length)) else {
        return f.write_str(text);
    };
    let (before, after) = match f.align() {
        Some(fmt::Alignment::Left) => (0, room),
        Some(fmt::Alignment::Center) => (room / 2, room - room / 2),
        Some(fmt::Alignment::Right) | None => (room, 0),
    };
    let fill = f.fill();
    for _ in 0..before {
        f.write_char(fill)?;
    }
    f.write_str(text)?;
    for _ in 0..after {
        f.write_char(fill)?;
    }
    Ok(())
}
