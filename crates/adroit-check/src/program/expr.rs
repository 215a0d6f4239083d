//! [`Expr`]: a program as an expression tree, evaluated generically over `Float`.

use super::guard::{Guard, binary_guards, unary_guard};
use super::ops::{BinaryOp, UnaryOp};
use super::wide::Wide;
use adroit_forward::SpecialFunctions;
use num_traits::Float;
use std::fmt;

/// A program: an expression over inputs `x₀ … x_{n−1}` and constants using every `Float`
/// operation of the rule table. [`eval`](Self::eval) runs it on any `Float` type (`f64`,
/// `Dual`, `Var`, nested duals), so the same program is differentiated by every mode.
///
/// # Example
/// ```
/// use adroit_check::program::{BinaryOp, Expr};
/// let x0 = || Box::new(Expr::Input(0));
/// // clamp(2·x0, −1, 1)
/// let two_x0 = Expr::Binary(BinaryOp::Mul, Box::new(Expr::Const(2.0)), x0());
/// let e = Expr::Clamp(Box::new(two_x0), -1.0, 1.0);
/// assert_eq!(e.to_string(), "clamp((2 * x0), -1, 1)");
/// assert_eq!((e.eval(&[0.25]), e.eval(&[3.0])), (0.5, 1.0));
/// // a negative power is taken of x² + ½, so it has no pole: (0² + ½)⁻¹ = 2
/// assert_eq!(Expr::Powi(x0(), -1).eval(&[0.0]), 2.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// The input `xᵢ` (index taken modulo the number of inputs).
    Input(usize),
    /// A constant.
    Const(f64),
    /// A guarded unary operation.
    Unary(UnaryOp, Box<Expr>),
    /// A guarded binary operation.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `xⁿ` (for `n < 0` of `x² + ½`, to stay away from the pole).
    Powi(Box<Expr>, i32),
    /// `clamp(x, lo, hi)`, for `lo ≤ hi`, neither NaN (what the strategies and the decoder
    /// make): otherwise [`eval`](Self::eval) panics, as `Float::clamp` does on plain floats and
    /// on adroit's number types.
    Clamp(Box<Expr>, f64, f64),
}

fn c<S: Float>(v: f64) -> S {
    S::from(v).unwrap_or_else(S::nan)
}

/// The guard of a negative power's base, `a² + ½`: into (0, ∞).
const POWI_GUARD: Guard = Guard::Square(0.5);

impl Expr {
    /// Evaluates the program at `x` (must not be empty).
    ///
    /// # Panics
    /// If `x` is empty and the expression reads an input; at a [`Expr::Clamp`] with `lo > hi`
    /// or a NaN bound (as `Float::clamp` does on plain floats and on adroit's number types).
    ///
    /// # Example
    /// ```
    /// use adroit_check::program::{Expr, UnaryOp};
    /// use adroit_check::adroit_forward::Dual;
    /// // inputs are taken modulo their number: with two inputs, x3 is x1
    /// let e = Expr::Unary(UnaryOp::Neg, Box::new(Expr::Input(3)));
    /// assert_eq!(e.eval(&[1.0, 2.0]), -2.0);
    /// // on dual numbers: d(−x1)/dx1 = −1
    /// let y = e.eval(&[Dual::constant(1.0), Dual::variable(2.0)]);
    /// assert_eq!((y.value(), y.tangent()), (-2.0, -1.0));
    /// ```
    pub fn eval<S: SpecialFunctions>(&self, x: &[S]) -> S {
        match self {
            Expr::Input(i) => x[i % x.len()],
            Expr::Const(v) => c(*v),
            Expr::Unary(op, a) => unary(*op, a.eval(x)),
            Expr::Binary(op, a, b) => binary(*op, a.eval(x), b.eval(x)),
            Expr::Powi(a, n) => {
                let a = a.eval(x);
                if *n < 0 {
                    POWI_GUARD.apply(a).powi(*n)
                } else {
                    a.powi(*n)
                }
            }
            Expr::Clamp(a, lo, hi) => a.eval(x).clamp(c(*lo), c(*hi)),
        }
    }

    /// The distance (in argument units) from `x` to the nearest point where some operation of
    /// the program is not differentiable (a kink or a jump: `abs` at 0, ties of `max`/`min`,
    /// integers for rounding, bounds of `clamp`, the branch cut of `atan2`, …), evaluated in
    /// `f64`. Finite differences are only comparable when this is not tiny.
    ///
    /// # Example
    /// ```
    /// use adroit_check::program::{BinaryOp, Expr, UnaryOp};
    /// // |x0 − 0.25| has its kink at x0 = 0.25
    /// let (x0, quarter) = (Box::new(Expr::Input(0)), Box::new(Expr::Const(0.25)));
    /// let e = Expr::Unary(UnaryOp::Abs, Box::new(Expr::Binary(BinaryOp::Sub, x0, quarter)));
    /// assert_eq!(e.kink_margin(&[1.0]), 0.75);
    /// // a smooth program has no kink
    /// let smooth = Expr::Unary(UnaryOp::Sin, Box::new(Expr::Input(0)));
    /// assert_eq!(smooth.kink_margin(&[1.0]), f64::INFINITY);
    /// ```
    pub fn kink_margin(&self, x: &[f64]) -> f64 {
        let mut margin = f64::INFINITY;
        self.eval_margin(x, &mut margin);
        margin
    }

    /// The distance from `x`, in *input* units, to the nearest kink or jump: for each
    /// non-differentiable operation, the distance of its argument to the kink divided by the
    /// argument's derivative scale (how fast it moves with the inputs, see
    /// [`derivative_scale`](Self::derivative_scale)). Finite differences whose reach is
    /// shorter than this do not cross a kink (to first order): bound them with
    /// [`FiniteDifference::with_max_range`](crate::fd::FiniteDifference::with_max_range), e.g.
    /// at a quarter of it, as the crate's property tests do.
    ///
    /// # Example
    /// ```
    /// use adroit_check::program::{BinaryOp, Expr, UnaryOp};
    /// // |4·x0| at x0 = 1: its argument is 4 away from the kink, x0 only 1
    /// let (four, x0) = (Box::new(Expr::Const(4.0)), Box::new(Expr::Input(0)));
    /// let e = Expr::Unary(UnaryOp::Abs, Box::new(Expr::Binary(BinaryOp::Mul, four, x0)));
    /// assert_eq!(e.kink_margin(&[1.0]), 4.0);
    /// assert!((e.input_margin(&[1.0]) - 1.0).abs() < 1e-12);
    /// ```
    pub fn input_margin(&self, x: &[f64]) -> f64 {
        let mut margin = f64::INFINITY;
        self.input_margin_rec(x, &mut margin);
        margin
    }

    fn input_margin_rec(&self, x: &[f64], margin: &mut f64) {
        let children: Vec<&Expr> = match self {
            Expr::Input(_) | Expr::Const(_) => Vec::new(),
            Expr::Unary(_, a) | Expr::Powi(a, _) | Expr::Clamp(a, _, _) => vec![a],
            Expr::Binary(_, a, b) => vec![a, b],
        };
        for child in &children {
            child.input_margin_rec(x, margin);
        }
        // This node's own kink distance in argument units, over the arguments' speed.
        let mut own = f64::INFINITY;
        let here = match self {
            Expr::Input(_) | Expr::Const(_) => return,
            _ => self.clone(),
        };
        here.eval_margin_local(x, &mut own);
        if own.is_finite() {
            let speed: f64 = children
                .iter()
                .map(|c| c.scale(x).1.iter().map(|(s, _)| s.to_f64()).sum::<f64>())
                .fold(0.0, f64::max);
            *margin = margin.min(own / (speed + f64::MIN_POSITIVE));
        }
    }

    /// The kink distance of this node alone (its children's own kinks excluded).
    fn eval_margin_local(&self, x: &[f64], margin: &mut f64) {
        let leaf = |e: &Expr| Box::new(Expr::Const(e.eval(x)));
        let local = match self {
            Expr::Unary(op, a) => Expr::Unary(*op, leaf(a)),
            Expr::Binary(op, a, b) => Expr::Binary(*op, leaf(a), leaf(b)),
            Expr::Powi(a, n) => Expr::Powi(leaf(a), *n),
            Expr::Clamp(a, lo, hi) => Expr::Clamp(leaf(a), *lo, *hi),
            Expr::Input(_) | Expr::Const(_) => return,
        };
        local.eval_margin(x, margin);
    }

    fn eval_margin(&self, x: &[f64], margin: &mut f64) -> f64 {
        match self {
            Expr::Input(_) | Expr::Const(_) => self.eval(x),
            Expr::Unary(op, a) => {
                let v = a.eval_margin(x, margin);
                let mut note = |d: f64| *margin = margin.min(d.abs());
                let to_integer = |t: f64| t - t.round();
                match op {
                    UnaryOp::Abs | UnaryOp::Signum | UnaryOp::Cbrt => note(v),
                    UnaryOp::Floor | UnaryOp::Ceil | UnaryOp::Fract => note(to_integer(v)),
                    // Continuous at 0: the nearest jump of trunc is at a nonzero integer.
                    UnaryOp::Trunc if v.abs() < 0.5 => note(1.0 - v.abs()),
                    UnaryOp::Trunc => note(to_integer(v)),
                    UnaryOp::Round => note(to_integer(v - 0.5)),
                    _ => {}
                }
                unary(*op, v)
            }
            Expr::Binary(op, a, b) => {
                let (u, v) = (a.eval_margin(x, margin), b.eval_margin(x, margin));
                let mut note = |d: f64| *margin = margin.min(d.abs());
                match op {
                    BinaryOp::Max | BinaryOp::Min => note(u - v),
                    BinaryOp::Hypot => note(u.hypot(v)),
                    BinaryOp::Atan2 => note(if v < 0.0 { u } else { u.hypot(v) }),
                    BinaryOp::Copysign => note(u.abs().min(v.abs())),
                    BinaryOp::Rem => {
                        // u % m jumps where u/m is a nonzero integer (continuous at 0).
                        let m = v * v + 1.0;
                        let q = u / m;
                        let to_jump = if q.abs() < 0.5 {
                            1.0 - q.abs()
                        } else {
                            q - q.round()
                        };
                        note(to_jump * m)
                    }
                    _ => {}
                }
                binary(*op, u, v)
            }
            Expr::Powi(a, n) => {
                let v = a.eval_margin(x, margin);
                if *n < 0 {
                    POWI_GUARD.apply(v).powi(*n)
                } else {
                    v.powi(*n)
                }
            }
            Expr::Clamp(a, lo, hi) => {
                let v = a.eval_margin(x, margin);
                let mut note = |d: f64| *margin = margin.min(d.abs());
                note(v - lo);
                note(v - hi);
                v.clamp(*lo, *hi)
            }
        }
    }

    /// For each input `i`, the sum over all chain-rule paths of the *absolute* products of
    /// local partials, `Σ_paths Π |∂node/∂parent|` (in `f64`): the scale of the terms whose
    /// signed sum is `∂f/∂xᵢ`. Forward and reverse mode add those terms in different orders, so
    /// they may differ by about `ε·size·scale` when huge terms cancel (e.g.
    /// `x⁶⁴·((x − x) − (x − x))`, found by fuzzing).
    ///
    /// # Example
    /// ```
    /// use adroit_check::program::{BinaryOp, Expr};
    /// let (x0, x1) = (|| Box::new(Expr::Input(0)), || Box::new(Expr::Input(1)));
    /// // x0·x1 at (2, 3): one term per input, |x1| and |x0|
    /// let product = Expr::Binary(BinaryOp::Mul, x0(), x1());
    /// assert_eq!(product.derivative_scale(&[2.0, 3.0]), vec![3.0, 2.0]);
    /// // x0 − x0: the derivative 0 is the sum of the terms +1 and −1, of scale 2
    /// let zero = Expr::Binary(BinaryOp::Sub, x0(), x0());
    /// assert_eq!(zero.derivative_scale(&[5.0]), vec![2.0]);
    /// ```
    pub fn derivative_scale(&self, x: &[f64]) -> Vec<f64> {
        self.scale(x)
            .1
            .into_iter()
            .map(|(s, _)| s.to_f64())
            .collect()
    }

    /// For each input `i`, the rounding a derivative may carry *below the normal range*: the
    /// spacing of subnormal numbers (`2⁻¹⁰⁷⁴`, an absolute error that [`derivative_scale`]'s
    /// relative `ε` does not cover) once at each node `xᵢ` reaches, times the absolute
    /// products of the partials from that node to the result — and once more at each guard's
    /// stage that shrinks a tangent (`tanh a` by `sech² a`, `a²` by `2|a|`), times the rest of
    /// its node's partial over that factor. A tangent or adjoint that passes
    /// through a subnormal magnitude keeps only a few digits, which later large partials
    /// magnify: found by fuzzing, a power `(…)^(x₂³)` of tangent `2.9e-317` raised six times
    /// more to a derivative of 327.41262784 in forward mode and 327.41264802 on the tape's
    /// forward sweep (the floor there: `6.2e-5`).
    ///
    /// [`derivative_scale`]: Self::derivative_scale
    ///
    /// # Example
    /// ```
    /// use adroit_check::program::{BinaryOp, Expr, UnaryOp};
    /// let (x0, x1) = (|| Box::new(Expr::Input(0)), || Box::new(Expr::Input(1)));
    /// let spacing = f64::from_bits(1); // 2⁻¹⁰⁷⁴
    /// // x0·x1: one rounding of x0's derivative
    /// let product = Expr::Binary(BinaryOp::Mul, x0(), x1());
    /// assert_eq!(product.derivative_floor(&[2.0, 3.0])[0], spacing);
    /// // (x0·x1)·x1 at x1 = 1e300: the inner rounding magnified by the outer partial
    /// let twice = Expr::Binary(BinaryOp::Mul, Box::new(product), x1());
    /// assert_eq!(twice.derivative_floor(&[2.0, 1e300])[0], spacing * 1e300 + spacing);
    /// // exp(3·tanh x0)·x1 at x0 = 10: tanh's stage shrinks x0's tangent by sech² 10, and
    /// // the rest of exp's node magnifies its rounding by 3·e^(3·tanh 10) ≈ 60.3 (a floor
    /// // itself subnormal there, so a whole number of spacings)
    /// let exp = Box::new(Expr::Unary(UnaryOp::Exp, x0()));
    /// let scaled = Expr::Binary(BinaryOp::Mul, exp, x1());
    /// let stage = 3.0 * (3.0 * 10.0_f64.tanh()).exp();
    /// let floor = scaled.derivative_floor(&[10.0, 1e300])[0] / (spacing * 1e300);
    /// assert!((floor - (stage + 1.0)).abs() < 0.02 * stage);
    /// ```
    pub fn derivative_floor(&self, x: &[f64]) -> Vec<f64> {
        self.scale(x).1.into_iter().map(|(_, f)| f).collect()
    }

    /// The value and, for each input, the derivative scale (in a [`Wide`] magnitude, so that
    /// it neither underflows nor overflows on the way) and floor at this node.
    fn scale(&self, x: &[f64]) -> (f64, Vec<(Wide, f64)>) {
        // The node's own subnormal rounding is added to the floor of every input that
        // reaches it.
        let spacing = f64::from_bits(1);
        let (value, s) = self.scale_unrounded(x);
        if matches!(self, Expr::Input(_) | Expr::Const(_)) {
            return (value, s);
        }
        let rounded = s
            .into_iter()
            .map(|(v, f)| (v, if v.is_zero() { f } else { f + spacing }))
            .collect();
        (value, rounded)
    }

    /// [`scale`](Self::scale) before this node's own rounding is added.
    ///
    /// Each input's scale and floor pass through a node as forward mode's tangent does: the
    /// rule evaluated on a dual whose tangent is the incoming scale, `|∂node/∂a · s|`, not the
    /// partial alone times the scale — a partial below the subnormal range (`aᵇ·ln a` at a
    /// tiny `aᵇ`) rounds to zero alone where its product with a large scale does not (found
    /// by the `program` fuzz target: a derivative scale of 0 under a derivative of −2.8e23).
    /// Zero-safe as the duals are: an input that does not reach a node has scale 0 there, even
    /// through an infinite partial. An operand's guard ([`Guard`]) may shrink its tangent before
    /// the operation proper: the floor also counts that stage's rounding, magnified by the
    /// rest of the node (found by the `program` fuzz target: `2·tanh D` with `D`'s tangent
    /// `4.5e-318` seeded up, `sech² D = 0.06`, put forward mode 8.7e-6 off, the floor of the
    /// node's output alone allowing 4e-7).
    fn scale_unrounded(&self, x: &[f64]) -> (f64, Vec<(Wide, f64)>) {
        use adroit_forward::Dual;
        let n = x.len();
        let spacing = f64::from_bits(1);
        // `(scale, floor)` of each input carried through a one-operand node whose operand,
        // of value `v`, has the guard `guard`.
        let through = |local: &dyn Fn(f64) -> f64, s: Vec<(Wide, f64)>, v: f64, guard: Guard| {
            let contraction = guard.contraction(v);
            // (A stage that multiplies by exactly 0 rounds nothing.)
            let stage = if guard == Guard::Plain || contraction == 0.0 {
                0.0
            } else {
                Wide::new(spacing / contraction).through(local).to_f64()
            };
            s.into_iter()
                .map(|(v, f)| {
                    let own = if v.is_zero() { 0.0 } else { stage };
                    (v.through(local), Wide::new(f).through(local).to_f64() + own)
                })
                .collect::<Vec<_>>()
        };
        // A one-operand node written as `node` on a single input holding `a`'s value.
        let single = |a: &Expr, node: Expr, guard: Guard| {
            let (v, s) = a.scale(x);
            let local = |t: f64| node.eval(&[Dual::new(v, t)]).tangent();
            (
                node.eval(&[Dual::constant(v)]).value(),
                through(&local, s, v, guard),
            )
        };
        match self {
            Expr::Input(i) => {
                let mut s = vec![(Wide::ZERO, 0.0); n];
                s[i % n] = (Wide::new(1.0), 0.0);
                (x[i % n], s)
            }
            Expr::Const(v) => (*v, vec![(Wide::ZERO, 0.0); n]),
            Expr::Unary(op, a) => single(
                a,
                Expr::Unary(*op, Box::new(Expr::Input(0))),
                unary_guard(*op),
            ),
            Expr::Powi(a, k) => single(
                a,
                Expr::Powi(Box::new(Expr::Input(0)), *k),
                if *k < 0 { POWI_GUARD } else { Guard::Plain },
            ),
            Expr::Clamp(a, lo, hi) => single(
                a,
                Expr::Clamp(Box::new(Expr::Input(0)), *lo, *hi),
                Guard::Plain,
            ),
            Expr::Binary(op, a, b) => {
                let ((va, sa), (vb, sb)) = (a.scale(x), b.scale(x));
                let by_a = |t: f64| binary(*op, Dual::new(va, t), Dual::constant(vb)).tangent();
                let by_b = |t: f64| binary(*op, Dual::constant(va), Dual::new(vb, t)).tangent();
                let [guard_a, guard_b] = binary_guards(*op);
                let s = through(&by_a, sa, va, guard_a)
                    .into_iter()
                    .zip(through(&by_b, sb, vb, guard_b))
                    .map(|((p, f), (q, g))| (p.add(q), f + g))
                    .collect();
                (
                    binary(*op, Dual::constant(va), Dual::constant(vb)).value(),
                    s,
                )
            }
        }
    }

    /// For each pair of inputs `(i, j)` (row-major, `n × n`), the scale of the terms whose
    /// signed sum is `∂²f/∂xᵢ∂xⱼ`: the second-order chain rule
    /// `(f∘g)'' = f''(g)·g'g'ᵀ + f'(g)·g''` with every local first and second partial and every
    /// inner derivative replaced by its absolute value (as [`derivative_scale`] does for first
    /// derivatives). Hessians computed in different modes add those terms in different orders,
    /// so they may differ by about `ε·size·scale` when huge terms cancel (`atan2(x, x)` near 0,
    /// whose Hessian 0 is a difference of terms ~1/(2x²); found by a 500 000-case run).
    ///
    /// [`derivative_scale`]: Self::derivative_scale
    ///
    /// # Example
    /// ```
    /// use adroit_check::program::{BinaryOp, Expr};
    /// let (x0, x1) = (|| Box::new(Expr::Input(0)), || Box::new(Expr::Input(1)));
    /// // x0·x1: only the mixed second derivative, 1, is non-zero (row-major 2 × 2)
    /// let product = Expr::Binary(BinaryOp::Mul, x0(), x1());
    /// assert_eq!(product.second_derivative_scale(&[2.0, 3.0]), vec![0.0, 1.0, 1.0, 0.0]);
    /// // x0·x0 − x0·x0: the second derivative 0 is the sum of the terms 2 and −2, of scale 4
    /// let square = || Box::new(Expr::Binary(BinaryOp::Mul, x0(), x0()));
    /// let zero = Expr::Binary(BinaryOp::Sub, square(), square());
    /// assert_eq!(zero.second_derivative_scale(&[5.0]), vec![4.0]);
    /// ```
    pub fn second_derivative_scale(&self, x: &[f64]) -> Vec<f64> {
        self.scale2(x).2
    }

    /// Value, first-order scale (`n`) and second-order scale (`n × n`) at `x`.
    fn scale2(&self, x: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
        use adroit_forward::{HyperDual, HyperDualVec};
        let n = x.len();
        // |d|·s, zero-safe: an input that does not reach a node has scale 0 there, even
        // through an infinite partial.
        let mul = |d: f64, s: f64| adroit_forward::chain_product(d.abs(), s);
        // The scales after a function of one argument with local partials (d1, d2).
        let through = |d1: f64, d2: f64, s1: &[f64], s2: &[f64]| {
            let first = s1.iter().map(|&s| mul(d1, s)).collect::<Vec<_>>();
            let second = (0..n * n)
                .map(|k| mul(d2, s1[k / n] * s1[k % n]) + mul(d1, s2[k]))
                .collect::<Vec<_>>();
            (first, second)
        };
        let one_argument = |a: &Expr, f: &dyn Fn(HyperDual<f64>) -> HyperDual<f64>| {
            let (v, s1, s2) = a.scale2(x);
            let h = f(HyperDual::variable(v));
            let (first, second) = through(h.eps1()[0], h.eps12()[0][0], &s1, &s2);
            (h.value(), first, second)
        };
        match self {
            Expr::Input(i) => {
                let mut s1 = vec![0.0; n];
                s1[i % n] = 1.0;
                (x[i % n], s1, vec![0.0; n * n])
            }
            Expr::Const(v) => (*v, vec![0.0; n], vec![0.0; n * n]),
            Expr::Unary(op, a) => one_argument(a, &|h| unary(*op, h)),
            Expr::Powi(a, k) => {
                one_argument(a, &|h| Expr::Powi(Box::new(Expr::Input(0)), *k).eval(&[h]))
            }
            Expr::Clamp(a, lo, hi) => one_argument(a, &|h| {
                Expr::Clamp(Box::new(Expr::Input(0)), *lo, *hi).eval(&[h])
            }),
            Expr::Binary(op, a, b) => {
                let ((va, a1, a2), (vb, b1, b2)) = (a.scale2(x), b.scale2(x));
                let h = binary(
                    *op,
                    HyperDualVec::<f64, 2, 2>::new(va, [1.0, 0.0], [1.0, 0.0], [[0.0; 2]; 2]),
                    HyperDualVec::new(vb, [0.0, 1.0], [0.0, 1.0], [[0.0; 2]; 2]),
                );
                let ([fx, fy], [[fxx, fxy], [_, fyy]]) = (h.eps1(), h.eps12());
                let first = (0..n).map(|i| mul(fx, a1[i]) + mul(fy, b1[i])).collect();
                let second = (0..n * n)
                    .map(|k| {
                        let (i, j) = (k / n, k % n);
                        mul(fxx, a1[i] * a1[j])
                            + mul(fxy, a1[i] * b1[j] + b1[i] * a1[j])
                            + mul(fyy, b1[i] * b1[j])
                            + mul(fx, a2[k])
                            + mul(fy, b2[k])
                    })
                    .collect();
                (h.value(), first, second)
            }
        }
    }

    /// The largest magnitude of any intermediate value at `x` (in `f64`; NaN ignored). In a
    /// lower precision, values this large carry absolute rounding errors that oscillating
    /// functions of them amplify, so precision tests restrict themselves to moderate values.
    ///
    /// # Example
    /// ```
    /// use adroit_check::program::{BinaryOp, Expr};
    /// // 1000·x0 − 1000·x0 is 0, but passes through 1000 at x0 = 1
    /// let big = || {
    ///     let x0 = Box::new(Expr::Input(0));
    ///     Box::new(Expr::Binary(BinaryOp::Mul, Box::new(Expr::Const(1000.0)), x0))
    /// };
    /// let e = Expr::Binary(BinaryOp::Sub, big(), big());
    /// assert_eq!(e.eval(&[1.0]), 0.0);
    /// assert_eq!(e.magnitude(&[1.0]), 1000.0);
    /// ```
    pub fn magnitude(&self, x: &[f64]) -> f64 {
        let own = self.eval(x).abs();
        let own = if own.is_nan() { 0.0 } else { own };
        let children = match self {
            Expr::Input(_) | Expr::Const(_) => 0.0,
            Expr::Unary(_, a) | Expr::Powi(a, _) | Expr::Clamp(a, _, _) => a.magnitude(x),
            Expr::Binary(_, a, b) => a.magnitude(x).max(b.magnitude(x)),
        };
        own.max(children)
    }

    /// Number of nodes.
    ///
    /// # Example
    /// ```
    /// use adroit_check::program::{BinaryOp, Expr, UnaryOp};
    /// // max(sin(x0), x1): the nodes max, sin, x0 and x1
    /// let sin_x0 = Expr::Unary(UnaryOp::Sin, Box::new(Expr::Input(0)));
    /// let e = Expr::Binary(BinaryOp::Max, Box::new(sin_x0), Box::new(Expr::Input(1)));
    /// assert_eq!(e.size(), 4);
    /// ```
    pub fn size(&self) -> usize {
        match self {
            Expr::Input(_) | Expr::Const(_) => 1,
            Expr::Unary(_, a) | Expr::Powi(a, _) | Expr::Clamp(a, _, _) => 1 + a.size(),
            Expr::Binary(_, a, b) => 1 + a.size() + b.size(),
        }
    }
}

/// The guarded unary operation (see [`UnaryOp`]): the operation proper on the guarded operand.
pub(crate) fn unary<S: SpecialFunctions>(op: UnaryOp, a: S) -> S {
    let g = unary_guard(op).apply(a);
    match op {
        UnaryOp::Neg => -g,
        UnaryOp::Recip => g.recip(),
        UnaryOp::Sqrt => g.sqrt(),
        UnaryOp::Cbrt => g.cbrt(),
        UnaryOp::Exp => g.exp(),
        UnaryOp::Exp2 => g.exp2(),
        UnaryOp::ExpM1 => g.exp_m1(),
        UnaryOp::Ln => g.ln(),
        UnaryOp::Log2 => g.log2(),
        UnaryOp::Log10 => g.log10(),
        UnaryOp::Ln1p => g.ln_1p(),
        UnaryOp::Sin => g.sin(),
        UnaryOp::Cos => g.cos(),
        UnaryOp::Tan => g.tan(),
        UnaryOp::Asin => g.asin(),
        UnaryOp::Acos => g.acos(),
        UnaryOp::Atan => g.atan(),
        UnaryOp::Sinh => g.sinh(),
        UnaryOp::Cosh => g.cosh(),
        UnaryOp::Tanh => g.tanh(),
        UnaryOp::Asinh => g.asinh(),
        UnaryOp::Acosh => g.acosh(),
        UnaryOp::Atanh => g.atanh(),
        UnaryOp::Abs => g.abs(),
        UnaryOp::Signum => g.signum(),
        UnaryOp::Floor => g.floor(),
        UnaryOp::Ceil => g.ceil(),
        UnaryOp::Round => g.round(),
        UnaryOp::Trunc => g.trunc(),
        UnaryOp::Fract => g.fract(),
        UnaryOp::ToDegrees => g.to_degrees() * c(0.01),
        UnaryOp::ToRadians => g.to_radians(),
        UnaryOp::Erf => g.erf(),
        UnaryOp::Erfc => g.erfc(),
        UnaryOp::LnGamma => g.ln_gamma(),
        UnaryOp::Digamma => g.digamma(),
    }
}

/// The guarded binary operation (see [`BinaryOp`]): the operation proper on the guarded
/// operands.
pub(crate) fn binary<S: SpecialFunctions>(op: BinaryOp, a: S, b: S) -> S {
    let [guard_a, guard_b] = binary_guards(op);
    let (a, b) = (guard_a.apply(a), guard_b.apply(b));
    match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div => a / b,
        BinaryOp::Rem => a % b,
        BinaryOp::Powf => a.powf(b),
        BinaryOp::Log => a.log(b),
        BinaryOp::Atan2 => a.atan2(b),
        BinaryOp::Hypot => a.hypot(b),
        BinaryOp::Max => a.max(b),
        BinaryOp::Min => a.min(b),
        // NaN where `b` is: a NaN's sign bit is unspecified (LLVM may return either operand's
        // NaN from `NaN·NaN`, in one build and not another), so `copysign` reading one has no
        // result the three evaluations could agree on (a fuzzer's find, session 61).
        BinaryOp::Copysign if b.is_nan() => S::nan(),
        BinaryOp::Copysign => a.copysign(b),
    }
}

impl fmt::Display for Expr {
    /// Prints the program in a readable functional form, e.g. `max(sin(x0), (x1 * 2))`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Input(i) => write!(f, "x{i}"),
            Expr::Const(v) => write!(f, "{v}"),
            Expr::Unary(op, a) => write!(f, "{}({a})", op.name()),
            Expr::Binary(BinaryOp::Add, a, b) => write!(f, "({a} + {b})"),
            Expr::Binary(BinaryOp::Sub, a, b) => write!(f, "({a} - {b})"),
            Expr::Binary(BinaryOp::Mul, a, b) => write!(f, "({a} * {b})"),
            Expr::Binary(op, a, b) => write!(f, "{}({a}, {b})", op.name()),
            Expr::Powi(a, n) => write!(f, "powi({a}, {n})"),
            Expr::Clamp(a, lo, hi) => write!(f, "clamp({a}, {lo}, {hi})"),
        }
    }
}
