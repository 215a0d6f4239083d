//! The run-time guard against perturbation confusion: the dual types of the derivative calls
//! running on this thread, so that a nested call seeding the same type as an enclosing one
//! panics instead of returning a wrong number.
//!
//! Nested calls normally get distinct types (`derivative` inside `derivative` with the inner
//! point lifted: `Dual<Dual<f64>>` inside `Dual<f64>`), and the types keep the perturbations
//! apart. But Rust infers the inner call's number type from its arguments: in
//! `derivative(|x| x * derivative(|y| x + y, 1.0), 1.0)` the literal `1.0` makes the inner
//! type `Dual<f64>`, the outer one's, and the inner call would read the captured `x`'s tangent
//! as its own (2 instead of 1: Siskind & Pearlmutter's example). ForwardDiff.jl prevents this
//! with a tag per call; here each call records its dual type for the duration of the call,
//! and a call whose type is already recorded panics, naming the fix.

use std::cell::{Cell, RefCell};

thread_local! {
    /// How many derivative calls are running on this thread.
    static ACTIVE: Cell<usize> = const { Cell::new(0) };
    /// The dual type of the outermost running call (meaningful while `ACTIVE > 0`).
    static OUTERMOST: Cell<&'static str> = const { Cell::new("") };
    /// The dual types of the running calls inside the outermost one, innermost last.
    static INNER: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

/// A running derivative call's entry in this thread's record; removed when dropped (also
/// when the user's function panics).
pub(crate) struct Perturbation {
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Records a derivative call seeding perturbations of type `D` for the life of the returned
/// guard.
///
/// # Panics
/// If a call seeding `D` is already running on this thread (see the module docs).
#[track_caller]
#[inline]
pub(crate) fn enter<D>() -> Perturbation {
    let name = std::any::type_name::<D>();
    let active = ACTIVE.get();
    if active == 0 {
        OUTERMOST.set(name);
    } else {
        enter_nested(name);
    }
    ACTIVE.set(active + 1);
    Perturbation {
        _not_send: std::marker::PhantomData,
    }
}

/// [`enter`] inside another call: refuses a type already running, else records it.
#[cold]
#[inline(never)]
#[track_caller]
fn enter_nested(name: &'static str) {
    let repeated = OUTERMOST.get() == name || INNER.with_borrow(|inner| inner.contains(&name));
    if repeated {
        confusion(name);
    }
    INNER.with_borrow_mut(|inner| inner.push(name));
}

impl Drop for Perturbation {
    #[inline]
    fn drop(&mut self) {
        let active = ACTIVE.get();
        if active > 1 {
            leave_nested();
        }
        ACTIVE.set(active.saturating_sub(1));
    }
}

/// The nested part of dropping a [`Perturbation`]: its type leaves the record.
#[cold]
#[inline(never)]
fn leave_nested() {
    INNER.with_borrow_mut(|inner| inner.pop());
}

#[cold]
#[inline(never)]
#[track_caller]
fn confusion(name: &str) -> ! {
    panic!(
        "adroit-forward: a derivative call on {name} started inside another derivative call on \
         the same type: a variable of the outer call captured by the inner function would have \
         its perturbation read as the inner one's (perturbation confusion: d/dx x·(d/dy (x + y) \
         at y = 1) would give 2, not 1). Lift the inner point to the outer number type — \
         `derivative(|y| x + y, Dual::constant(1.0))` nests a Dual<Dual<…>> — or write the \
         inner code generically over the outer type. If the inner call reads nothing of the \
         outer one (a derivative of plain numbers, e.g. a library routine given `x.value()`), \
         run it inside `adroit_forward::independent(|| …)`."
    )
}

/// Runs `f` as if no derivative call were running on this thread: derivative calls inside it
/// may use the number types of the enclosing calls, which [`derivative`](crate::derivative)
/// and the other functions of this crate otherwise refuse (they panic to prevent perturbation
/// confusion).
///
/// For code that reads nothing of the enclosing calls' variables — a routine that
/// differentiates plain numbers, given `x.value()` or constants. Code inside that does read
/// an enclosing variable gets wrong derivatives (the perturbations are confused), so keep the
/// closure to plain values.
///
/// # Example
/// ```
/// use adroit_forward::{Dual, derivative, independent};
/// use adroit_forward::num_traits::Float;
/// // A routine of plain numbers that uses forward mode inside: Newton's method for √c.
/// fn root(c: f64) -> f64 {
///     (0..30).fold(c.max(1.0), |y, _| y - (y * y - c) / derivative(|t| t * t - c, y))
/// }
/// // d/dx [x · √(value of x)] with the root taken as a constant: √2 at x = 2.
/// let d = derivative(|x: Dual<f64>| x * independent(|| root(x.value())), 2.0);
/// assert!((d - 2.0_f64.sqrt()).abs() < 1e-15);
/// // Without `independent` the inner Dual<f64> call inside the outer Dual<f64> one panics.
/// let refused = std::panic::catch_unwind(|| derivative(|x: Dual<f64>| x * root(x.value()), 2.0));
/// assert!(refused.is_err());
/// ```
pub fn independent<R>(f: impl FnOnce() -> R) -> R {
    /// Puts the enclosing calls' record back when `f` returns or panics.
    struct Restore {
        active: usize,
        outermost: &'static str,
        inner: Vec<&'static str>,
    }
    impl Drop for Restore {
        fn drop(&mut self) {
            ACTIVE.set(self.active);
            OUTERMOST.set(self.outermost);
            INNER.set(std::mem::take(&mut self.inner));
        }
    }
    let _restore = Restore {
        active: ACTIVE.replace(0),
        outermost: OUTERMOST.get(),
        inner: INNER.take(),
    };
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_is_emptied_after_calls_and_panics() {
        {
            let _outer = enter::<f64>();
            let _inner = enter::<f32>();
            assert_eq!(ACTIVE.get(), 2);
            assert_eq!(INNER.with_borrow(Vec::len), 1);
        }
        assert_eq!(ACTIVE.get(), 0);
        let panicked = std::panic::catch_unwind(|| {
            let _outer = enter::<f64>();
            let _inner = enter::<f32>();
            let _again = enter::<f64>();
        });
        assert!(panicked.is_err());
        assert_eq!(ACTIVE.get(), 0);
        assert!(INNER.with_borrow(Vec::is_empty));
    }
}
