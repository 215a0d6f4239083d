//! Decoding arbitrary bytes into a program and a point, for fuzzing: total (every byte string
//! decodes), deterministic and bounded in size.

use super::ops::{BinaryOp, UnaryOp};
use super::{Expr, Program};
use crate::bytes::Bytes;

/// Maximum nesting depth of a decoded program.
const MAX_DEPTH: u32 = 10;

fn decode_expr(bytes: &mut Bytes<'_>, n_inputs: usize, depth: u32) -> Expr {
    if depth >= MAX_DEPTH || bytes.exhausted() {
        return Expr::Input(0);
    }
    let tag = bytes.next();
    match tag % 8 {
        // `ln_gamma` and `digamma` (added later still) take tag 0 with `tag / 8` of 30 or 31
        // (240, 248), which chose an input before and occur in no committed seed.
        0 if tag / 8 >= 30 => {
            let op = UnaryOp::ALL[34 + usize::from(tag / 8 - 30)];
            Expr::Unary(op, Box::new(decode_expr(bytes, n_inputs, depth + 1)))
        }
        0 | 1 => Expr::Input(usize::from(bytes.next()) % n_inputs),
        2 => Expr::Const(f64::from(bytes.next() as i8) / 32.0),
        3 | 4 => {
            // Tags 3 and 4 each choose among the first 32 operations by `tag / 8`, but the
            // last two of those (`to_degrees`, `to_radians`) stand for `erf` and `erfc` under
            // tag 4 (added later; the committed seeds decode as before elsewhere).
            let pick = usize::from(tag / 8);
            let pick = if tag % 8 == 4 && pick >= 30 {
                pick + 2
            } else {
                pick
            };
            let op = UnaryOp::ALL[pick % UnaryOp::ALL.len()];
            Expr::Unary(op, Box::new(decode_expr(bytes, n_inputs, depth + 1)))
        }
        5 | 6 => {
            let op = BinaryOp::ALL[usize::from(tag / 8) % BinaryOp::ALL.len()];
            let a = decode_expr(bytes, n_inputs, depth + 1);
            let b = decode_expr(bytes, n_inputs, depth + 1);
            Expr::Binary(op, Box::new(a), Box::new(b))
        }
        _ => {
            if tag & 0x80 == 0 {
                let n = i32::from(tag / 8 % 8) - 3;
                Expr::Powi(Box::new(decode_expr(bytes, n_inputs, depth + 1)), n)
            } else {
                let lo = -f64::from(bytes.next() % 16) / 8.0;
                let hi = f64::from(bytes.next() % 16 + 1) / 8.0;
                Expr::Clamp(Box::new(decode_expr(bytes, n_inputs, depth + 1)), lo, hi)
            }
        }
    }
}

impl Program {
    /// Decodes a program and a point from arbitrary bytes: the first byte gives the number of
    /// inputs (1–4), the next two bytes per input give its value (`i16 / 4096`, in `[−8, 8)`),
    /// the rest encodes the expression in prefix order (depth at most 10; missing bytes read
    /// as zeros). Every byte string decodes.
    ///
    /// # Example
    /// ```
    /// use adroit_check::program::Program;
    /// let (p, x) = Program::decode(&[0, 4, 0, 3, 0]);
    /// assert_eq!(x, vec![1.0 / 1024.0]);
    /// assert_eq!(p.to_string(), "neg(x0)");
    /// // tag 4 with 30 or 31 as `tag / 8` (244, 252): erf and erfc
    /// let (p, x) = Program::decode(&[1, 0, 8, 0, 248, 21, 244, 0, 0, 252, 0, 1]);
    /// assert_eq!((p.to_string(), x), ("(erf(x0) * erfc(x1))".to_string(), vec![0.5, -0.5]));
    /// // tag 0 with 30 or 31 (240, 248): ln_gamma and digamma
    /// let (p, _) = Program::decode(&[0, 0, 8, 240, 248, 0, 0]);
    /// assert_eq!(p.to_string(), "ln_gamma(digamma(x0))");
    /// ```
    pub fn decode(data: &[u8]) -> (Program, Vec<f64>) {
        let mut bytes = Bytes::new(data);
        let n_inputs = usize::from(bytes.next() % 4) + 1;
        let x = (0..n_inputs)
            .map(|_| f64::from(i16::from_le_bytes([bytes.next(), bytes.next()])) / 4096.0)
            .collect();
        let expr = decode_expr(&mut bytes, n_inputs, 0);
        (Program { n_inputs, expr }, x)
    }
}
