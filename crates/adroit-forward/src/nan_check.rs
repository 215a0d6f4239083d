//! Where does a NaN come from? [`find_nan`] runs generic code on [`NanCheck`] numbers, which
//! note the first operation that makes a NaN (JAX's `jax_debug_nans` for scalar code).

use crate::rules::{BinaryRule, Erf, Erfc, Erfcx, Gamma, LnGamma, Ndtri, Polygamma, UnaryRule};
use crate::svd::{empty_svd, primal_svd};
use crate::symmetric_eigen::{primal_symmetric_eigen, symmetric_from_lower};
use crate::{ChainRule, Decompositions, SpecialFunctions, Svd};
use nalgebra::{DMatrix, DVector};
use num_traits::Float;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::Location;

thread_local! {
    /// How many [`find_nan`] calls are running on this thread.
    static ACTIVE: Cell<usize> = const { Cell::new(0) };
    /// The first NaN noted by the running [`find_nan`] call.
    static FIRST: RefCell<Option<NanOrigin>> = const { RefCell::new(None) };
}

/// A plain number that notes where a NaN first appears: the number type of [`find_nan`]. Each
/// operation computes its value — and its local derivatives, from the same rule table as the
/// dual numbers — and, inside [`find_nan`], notes the first one whose value or a derivative
/// is NaN while its operands are not. It implements `num_traits::Float`,
/// [`SpecialFunctions`] and (for `f32`/`f64`) nalgebra's `RealField` as the dual numbers do, so
/// generic code — nalgebra's decompositions included — runs on it unchanged; comparisons are
/// on the value.
///
/// # Example
/// ```
/// use adroit_forward::NanCheck;
/// use adroit_forward::num_traits::Float;
/// let x = NanCheck::new(4.0_f64);
/// assert_eq!((x.sqrt() + 1.0).value(), 3.0);
/// ```
#[derive(Clone, Copy)]
pub struct NanCheck<T>(T);

impl<T: Float> NanCheck<T> {
    /// The number `value`.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::NanCheck;
    /// assert_eq!(NanCheck::new(2.5_f32).value(), 2.5);
    /// ```
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// Its value.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::NanCheck;
    /// use adroit_forward::num_traits::Float;
    /// assert!(NanCheck::new(-1.0_f64).ln().value().is_nan());
    /// ```
    pub fn value(self) -> T {
        self.0
    }
}

/// Shows the value.
impl<T: fmt::Debug> fmt::Debug for NanCheck<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Shows the value.
impl<T: fmt::Display> fmt::Display for NanCheck<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where [`find_nan`] saw a NaN first.
#[derive(Clone, Debug, PartialEq)]
pub enum NanOrigin {
    /// An input was NaN already (`index` into the point).
    Input {
        /// The input's position.
        index: usize,
    },
    /// An operation of operands that were not NaN gave a NaN value, or a NaN local derivative
    /// (the gradient through it would be NaN).
    Operation {
        /// The line of the code that applied it (an operator, a `Float`, `SpecialFunctions` or
        /// `RealField` method; see [`find_nan`]).
        location: &'static Location<'static>,
        /// The rule's name in adroit-forward's table (`Sqrt`, `Ln`, `Div`, …), or `shift`,
        /// `scale`, `unscale` for arithmetic with a plain number.
        operation: &'static str,
        /// The operands' values (as `f64`).
        operands: Vec<f64>,
        /// The result's value (as `f64`).
        value: f64,
        /// The local derivatives with respect to each operand (as `f64`).
        derivatives: Vec<f64>,
    },
}

/// One line: what gave NaN, where, from what.
impl fmt::Display for NanOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Input { index } => write!(f, "input {index} is NaN"),
            Self::Operation {
                location,
                operation,
                operands,
                value,
                derivatives,
            } => write!(
                f,
                "{operation} at {location} of {operands:?} gave {value} (local derivatives \
                 {derivatives:?})"
            ),
        }
    }
}

/// Runs `f` on [`NanCheck`] numbers holding `x` and returns where a NaN first appeared: an
/// input, or the first operation whose value or local derivative came out NaN from operands
/// that were not — the line of code to look at when a loss or a gradient is NaN (JAX's
/// `jax_debug_nans`, PyTorch's `detect_anomaly`, for scalar code written over
/// `num_traits::Float`). The computation runs to its end either way (NaN propagates); `f`'s
/// result is dropped.
///
/// `None` if no input is NaN and no operation of NaN-free operands made a NaN. A NaN
/// *constant* is not an operation — `S::nan()`, a conversion from a NaN `f64`, a number
/// rebuilt from a plain value computed off the checking numbers (`x.value().ln()`) — and the
/// operation using it has a NaN operand, so a NaN made that way is not reported. A NaN
/// derivative with a finite value is noted (a gradient through it is NaN). An infinite value
/// or derivative is not (an overflow, or `√x` at 0, whose infinite slope the dual numbers'
/// `0·∞ = 0` convention handles) — so neither is a NaN gradient that the chain rule forms by
/// adding two infinite contributions, each operation's own derivatives being finite or
/// infinite: `√x − ∛x` at 0 has gradient NaN (`∞ − ∞`) and `find_nan` returns `None`; look
/// for the infinite slopes (`√`, `∛`, `ln`, `powf` at 0; `asin`/`acos` at ±1) there. A
/// `clamp` whose bound is NaN panics (as `f64::clamp` does) instead of being reported.
///
/// What is reported is the operation as the number types compute it: arithmetic with a plain
/// number on the left is rewritten (`c − x` is reported as a `shift` of `−x`, with operands
/// `[−x, c]`), and `mul_add` tries the unfused `x·a + b` first, so where that meets `∞ − ∞`
/// (an overflowing product and an infinite `b`) an `Add` is reported although the fused
/// result is an infinity, not NaN. The record is per thread: operations `f` runs on other
/// threads are not seen. The location is the line that applied the operation — an operator,
/// a `Float`, `SpecialFunctions` or nalgebra `RealField` method — in your code, or in the
/// library whose code applied it (an iterator's `sum()`/`product()` names a line inside the
/// libraries: the standard library's `Iterator::sum` does not pass its caller's on).
///
/// For matrix code on adroit-reverse's matrix tape, its `matrix::detect_anomaly` does the same,
/// and checks the backward sweep too (it reports the `∞ − ∞` gradient above, at the line of the
/// rule that made it).
///
/// # Example
/// ```
/// use adroit_forward::num_traits::Float;
/// use adroit_forward::{NanOrigin, find_nan};
///
/// fn loss<S: Float>(x: &[S]) -> S {
///     let spread = x[0] * x[0] - x[1];
///     spread.sqrt() + x[1].ln()
/// }
/// // A NaN gradient at (1, 2): where does it come from?
/// assert!(adroit_forward::gradient(|v| loss(v), &[1.0, 2.0])[0].is_nan());
/// let origin = find_nan(|v| loss(v), &[1.0_f64, 2.0]).expect("a NaN");
/// let NanOrigin::Operation { operation, operands, location, .. } = origin else { panic!() };
/// assert_eq!((operation, operands), ("Sqrt", vec![-1.0]));
/// assert_eq!(location.line(), line!() - 7); // the line of `spread.sqrt()`
/// assert_eq!(find_nan(|v| loss(v), &[2.0, 2.0]), None);
/// ```
pub fn find_nan<T, R>(f: impl FnOnce(&[NanCheck<T>]) -> R, x: &[T]) -> Option<NanOrigin>
where
    T: Float,
{
    if let Some(index) = x.iter().position(|v| v.is_nan()) {
        return Some(NanOrigin::Input { index });
    }
    /// Ends this call's watch (also when `f` panics), keeping an outer call's.
    struct Leave(Option<NanOrigin>);
    impl Drop for Leave {
        fn drop(&mut self) {
            ACTIVE.with(|a| a.set(a.get() - 1));
            FIRST.with(|first| *first.borrow_mut() = self.0.take());
        }
    }
    let outer = FIRST.with(|first| first.borrow_mut().take());
    ACTIVE.with(|a| a.set(a.get() + 1));
    let leave = Leave(outer);
    let inputs: Vec<NanCheck<T>> = x.iter().map(|&v| NanCheck(v)).collect();
    drop(f(&inputs));
    let found = FIRST.with(|first| first.borrow_mut().take());
    drop(leave);
    found
}

/// Notes an operation whose value or a derivative is NaN while no operand is, if it is the
/// first inside the running [`find_nan`].
#[inline]
#[track_caller]
fn note<T: Float>(operation: &'static str, operands: &[T], value: T, derivatives: &[T]) {
    if (value.is_nan() || derivatives.iter().any(|d| d.is_nan()))
        && !operands.iter().any(|v| v.is_nan())
    {
        note_slowly(operation, operands, value, derivatives);
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn note_slowly<T: Float>(operation: &'static str, operands: &[T], value: T, derivatives: &[T]) {
    if ACTIVE.with(Cell::get) == 0 {
        return;
    }
    // Read here: a location does not pass into the closure below.
    let location = Location::caller();
    let f64_of = |v: &T| v.to_f64().unwrap_or(f64::NAN);
    FIRST.with(|first| {
        let mut first = first.borrow_mut();
        if first.is_none() {
            *first = Some(NanOrigin::Operation {
                location,
                operation,
                operands: operands.iter().map(f64_of).collect(),
                value: f64_of(&value),
                derivatives: derivatives.iter().map(f64_of).collect(),
            });
        }
    });
}

/// The rule's name: the last segment of its type's path (`adroit_forward::rules::Sqrt`).
fn rule_name<R>() -> &'static str {
    let path = std::any::type_name::<R>();
    let path = path.split('<').next().unwrap_or(path);
    path.rsplit("::").next().unwrap_or(path)
}

impl<T: Float> ChainRule for NanCheck<T> {
    type Primal = T;

    #[inline]
    fn primal(&self) -> T {
        self.0
    }

    #[inline]
    fn constant(value: T) -> Self {
        Self(value)
    }

    #[inline]
    fn is_identically_zero(&self) -> bool {
        self.0.is_zero()
    }

    #[inline]
    #[track_caller]
    fn apply_unary<R: UnaryRule>(self, rule: R) -> Self {
        let (value, d) = rule.eval(self.0);
        note(rule_name::<R>(), &[self.0], value, &[d]);
        Self(value)
    }

    #[inline]
    #[track_caller]
    fn apply_binary<R: BinaryRule>(self, other: Self, rule: R) -> Self {
        let (value, dx, dy) = rule.eval(self.0, other.0);
        note(rule_name::<R>(), &[self.0, other.0], value, &[dx, dy]);
        Self(value)
    }

    #[inline]
    #[track_caller]
    fn shift(self, c: T) -> Self {
        let value = self.0 + c;
        note("shift", &[self.0, c], value, &[T::one()]);
        Self(value)
    }

    #[inline]
    #[track_caller]
    fn scale(self, c: T) -> Self {
        let value = self.0 * c;
        note("scale", &[self.0, c], value, &[c]);
        Self(value)
    }

    #[inline]
    #[track_caller]
    fn unscale(self, c: T) -> Self {
        let value = self.0 / c;
        note("unscale", &[self.0, c], value, &[c.recip()]);
        Self(value)
    }
}

crate::impl_scalar_traits!([T: Float] NanCheck<T>, T);
crate::impl_scalar_lhs_ops!([] NanCheck<f64>, f64);
crate::impl_scalar_lhs_ops!([] NanCheck<f32>, f32);

/// A special function of a `NanCheck` number: its value and derivative noted as an
/// operation's.
macro_rules! checked_special {
    ($($name:ident($($arg:ident: $ty:ty),*) => $rule:expr, $label:literal;)*) => {$(
        #[inline]
        #[track_caller]
        fn $name(self $(, $arg: $ty)*) -> Self {
            let (value, d) = $rule.eval(self.0);
            note($label, &[self.0], value, &[d]);
            Self(value)
        }
    )*};
}

impl<T: SpecialFunctions> SpecialFunctions for NanCheck<T> {
    checked_special! {
        erf() => Erf, "Erf";
        erfc() => Erfc, "Erfc";
        erfcx() => Erfcx, "Erfcx";
        ndtri() => Ndtri, "Ndtri";
        gamma() => Gamma, "Gamma";
        ln_gamma() => LnGamma, "LnGamma";
        polygamma(n: u32) => Polygamma(n), "Polygamma";
    }
}

// nalgebra's `RealField`, so that matrix code (LU, `solve`, `determinant`) runs on it too.
crate::impl_nalgebra_traits!([] NanCheck<f64>, f64);
crate::impl_nalgebra_traits!([] NanCheck<f32>, f32);

/// nalgebra's decompositions on the checking numbers, as on plain floats (their iterations'
/// operations are checked one by one). An infinite entry gives every result NaN without an
/// operation (as on plain floats), so it is noted here, as the decomposition's, with that entry
/// as the operand.
macro_rules! checked_decompositions {
    ($($t:ty),*) => {$(
        impl Decompositions for NanCheck<$t> {
            #[track_caller]
            fn svd(a: &DMatrix<Self>) -> Svd<Self> {
                let (m, n) = a.shape();
                if m.min(n) == 0 {
                    return empty_svd(m, n);
                }
                note_infinite_entry("Svd", a.iter());
                primal_svd(a.clone())
            }

            #[track_caller]
            fn symmetric_eigen(a: &DMatrix<Self>) -> (DVector<Self>, DMatrix<Self>) {
                let symmetric = symmetric_from_lower(a, |&x| x);
                if a.nrows() == 0 {
                    return (DVector::zeros(0), DMatrix::zeros(0, 0));
                }
                note_infinite_entry("SymmetricEigen", symmetric.iter());
                primal_symmetric_eigen(symmetric)
            }
        }
    )*};
}
checked_decompositions!(f32, f64);

/// Notes `operation` as giving NaN from the first infinite entry, if the entries hold one and
/// no NaN.
#[track_caller]
fn note_infinite_entry<'a, T: Float + 'a>(
    operation: &'static str,
    entries: impl Iterator<Item = &'a NanCheck<T>> + Clone,
) {
    if entries.clone().any(|v| v.0.is_nan()) {
        return;
    }
    if let Some(infinite) = entries.map(|v| v.0).find(|v| v.is_infinite()) {
        note(operation, &[infinite], T::nan(), &[]);
    }
}
