//! The operations a random program can use: every function of the rule table (and the special
//! functions `erf`, `erfc`, `ln_gamma` and `digamma`), each with the guard that keeps its
//! argument inside its domain.

/// A function of one argument (of the rule table). Guards (documented per variant) map any real
/// argument smoothly into the function's domain, so every program is defined everywhere.
///
/// # Example
/// ```
/// use adroit_check::program::{Expr, UnaryOp};
/// let x0 = || Box::new(Expr::Input(0));
/// // 1/(a² + ½) is 2 at a = 0, where 1/a would be infinite
/// assert_eq!(Expr::Unary(UnaryOp::Recip, x0()).eval(&[0.0]), 2.0);
/// // asin(0.9·tanh a) stays inside (−1, 1): at a = 100 it is asin 0.9
/// let asin = Expr::Unary(UnaryOp::Asin, x0()).eval(&[100.0]);
/// assert!((asin - 0.9_f64.asin()).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `−a`.
    Neg,
    /// `1/(a² + ½)`.
    Recip,
    /// `√(a² + ¼)`.
    Sqrt,
    /// `∛a`.
    Cbrt,
    /// `exp(3·tanh a)`.
    Exp,
    /// `2^(3·tanh a)`.
    Exp2,
    /// `exp_m1(tanh a)`.
    ExpM1,
    /// `ln(a² + ½)`.
    Ln,
    /// `log₂(a² + ½)`.
    Log2,
    /// `log₁₀(a² + ½)`.
    Log10,
    /// `ln_1p(a²)`.
    Ln1p,
    /// `sin a`.
    Sin,
    /// `cos a`.
    Cos,
    /// `tan(1.2·tanh a)`.
    Tan,
    /// `asin(0.9·tanh a)`.
    Asin,
    /// `acos(0.9·tanh a)`.
    Acos,
    /// `atan a`.
    Atan,
    /// `sinh(3·tanh a)`.
    Sinh,
    /// `cosh(3·tanh a)`.
    Cosh,
    /// `tanh a`.
    Tanh,
    /// `asinh a`.
    Asinh,
    /// `acosh(a² + 1.5)`.
    Acosh,
    /// `atanh(0.9·tanh a)`.
    Atanh,
    /// `|a|`.
    Abs,
    /// `signum a`.
    Signum,
    /// `floor a`.
    Floor,
    /// `ceil a`.
    Ceil,
    /// `round a`.
    Round,
    /// `trunc a`.
    Trunc,
    /// `fract a`.
    Fract,
    /// `to_degrees(a)/100`.
    ToDegrees,
    /// `to_radians a`.
    ToRadians,
    /// `erf a` ([`SpecialFunctions`](adroit_forward::SpecialFunctions)).
    Erf,
    /// `erfc a` ([`SpecialFunctions`](adroit_forward::SpecialFunctions)).
    Erfc,
    /// `ln Γ(a² + ½)` ([`SpecialFunctions`](adroit_forward::SpecialFunctions)).
    LnGamma,
    /// `ψ(a² + ½)`, the digamma function
    /// ([`SpecialFunctions`](adroit_forward::SpecialFunctions)).
    Digamma,
}

/// A function of two arguments (of the rule table), guarded like [`UnaryOp`].
///
/// # Example
/// ```
/// use adroit_check::program::{BinaryOp, Expr};
/// let (a, b) = (Box::new(Expr::Input(0)), Box::new(Expr::Input(1)));
/// // a / (b² + ½): no division by zero
/// let div = Expr::Binary(BinaryOp::Div, a.clone(), b.clone());
/// assert_eq!(div.eval(&[1.0, 0.0]), 2.0);
/// // a % (b² + 1): 5 % 2
/// assert_eq!(Expr::Binary(BinaryOp::Rem, a, b).eval(&[5.0, 1.0]), 1.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `a + b`.
    Add,
    /// `a − b`.
    Sub,
    /// `a · b`.
    Mul,
    /// `a / (b² + ½)`.
    Div,
    /// `a % (b² + 1)`.
    Rem,
    /// `(a² + ½)^(2·tanh b)`.
    Powf,
    /// `log_{b² + 2}(a² + ½)`.
    Log,
    /// `atan2(a, b)`.
    Atan2,
    /// `hypot(a, b)`.
    Hypot,
    /// `max(a, b)`.
    Max,
    /// `min(a, b)`.
    Min,
    /// `copysign(a, b)`; NaN where `b` is NaN (whose sign bit Rust leaves unspecified).
    Copysign,
}

impl UnaryOp {
    /// Every unary operation.
    pub const ALL: [UnaryOp; 36] = [
        UnaryOp::Neg,
        UnaryOp::Recip,
        UnaryOp::Sqrt,
        UnaryOp::Cbrt,
        UnaryOp::Exp,
        UnaryOp::Exp2,
        UnaryOp::ExpM1,
        UnaryOp::Ln,
        UnaryOp::Log2,
        UnaryOp::Log10,
        UnaryOp::Ln1p,
        UnaryOp::Sin,
        UnaryOp::Cos,
        UnaryOp::Tan,
        UnaryOp::Asin,
        UnaryOp::Acos,
        UnaryOp::Atan,
        UnaryOp::Sinh,
        UnaryOp::Cosh,
        UnaryOp::Tanh,
        UnaryOp::Asinh,
        UnaryOp::Acosh,
        UnaryOp::Atanh,
        UnaryOp::Abs,
        UnaryOp::Signum,
        UnaryOp::Floor,
        UnaryOp::Ceil,
        UnaryOp::Round,
        UnaryOp::Trunc,
        UnaryOp::Fract,
        UnaryOp::ToDegrees,
        UnaryOp::ToRadians,
        UnaryOp::Erf,
        UnaryOp::Erfc,
        UnaryOp::LnGamma,
        UnaryOp::Digamma,
    ];

    /// The Float method name.
    ///
    /// # Example
    /// ```
    /// use adroit_check::program::{Expr, UnaryOp};
    /// assert_eq!(UnaryOp::ExpM1.name(), "exp_m1");
    /// // programs are printed with these names, which tell the operations apart
    /// let e = Expr::Unary(UnaryOp::Sin, Box::new(Expr::Input(0)));
    /// assert_eq!(e.to_string(), "sin(x0)");
    /// let mut names: Vec<_> = UnaryOp::ALL.iter().map(|op| op.name()).collect();
    /// names.sort();
    /// names.dedup();
    /// assert_eq!(names.len(), UnaryOp::ALL.len());
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            UnaryOp::Neg => "neg",
            UnaryOp::Recip => "recip",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Cbrt => "cbrt",
            UnaryOp::Exp => "exp",
            UnaryOp::Exp2 => "exp2",
            UnaryOp::ExpM1 => "exp_m1",
            UnaryOp::Ln => "ln",
            UnaryOp::Log2 => "log2",
            UnaryOp::Log10 => "log10",
            UnaryOp::Ln1p => "ln_1p",
            UnaryOp::Sin => "sin",
            UnaryOp::Cos => "cos",
            UnaryOp::Tan => "tan",
            UnaryOp::Asin => "asin",
            UnaryOp::Acos => "acos",
            UnaryOp::Atan => "atan",
            UnaryOp::Sinh => "sinh",
            UnaryOp::Cosh => "cosh",
            UnaryOp::Tanh => "tanh",
            UnaryOp::Asinh => "asinh",
            UnaryOp::Acosh => "acosh",
            UnaryOp::Atanh => "atanh",
            UnaryOp::Abs => "abs",
            UnaryOp::Signum => "signum",
            UnaryOp::Floor => "floor",
            UnaryOp::Ceil => "ceil",
            UnaryOp::Round => "round",
            UnaryOp::Trunc => "trunc",
            UnaryOp::Fract => "fract",
            UnaryOp::ToDegrees => "to_degrees",
            UnaryOp::ToRadians => "to_radians",
            UnaryOp::Erf => "erf",
            UnaryOp::Erfc => "erfc",
            UnaryOp::LnGamma => "ln_gamma",
            UnaryOp::Digamma => "digamma",
        }
    }
}

impl BinaryOp {
    /// Every binary operation.
    pub const ALL: [BinaryOp; 12] = [
        BinaryOp::Add,
        BinaryOp::Sub,
        BinaryOp::Mul,
        BinaryOp::Div,
        BinaryOp::Rem,
        BinaryOp::Powf,
        BinaryOp::Log,
        BinaryOp::Atan2,
        BinaryOp::Hypot,
        BinaryOp::Max,
        BinaryOp::Min,
        BinaryOp::Copysign,
    ];

    /// The operator or Float method name.
    ///
    /// # Example
    /// ```
    /// use adroit_check::program::{BinaryOp, Expr};
    /// assert_eq!(BinaryOp::Atan2.name(), "atan2");
    /// // programs print these as functions, except `+`, `-` and `*`
    /// let (a, b) = (Box::new(Expr::Input(0)), Box::new(Expr::Input(1)));
    /// let hypot = Expr::Binary(BinaryOp::Hypot, a.clone(), b.clone());
    /// assert_eq!(hypot.to_string(), "hypot(x0, x1)");
    /// assert_eq!(Expr::Binary(BinaryOp::Add, a, b).to_string(), "(x0 + x1)");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::Rem => "rem",
            BinaryOp::Powf => "powf",
            BinaryOp::Log => "log",
            BinaryOp::Atan2 => "atan2",
            BinaryOp::Hypot => "hypot",
            BinaryOp::Max => "max",
            BinaryOp::Min => "min",
            BinaryOp::Copysign => "copysign",
        }
    }
}
