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
//!
//! A nested call of the same dual type into a function of the *same* type is let through: it
//! is the same closure or function called again (recursion, or a rayon task of the same
//! parallel map run by a thread waiting inside the first), which cannot have captured the
//! running call's variables — only a function defined inside the running one, or given its
//! variables, can. Not for trait objects (`Box<dyn Fn…>`, `&dyn Fn…`) or function pointers,
//! whose type many functions share, nor for a closure of a generic helper called with a trait
//! object (`d<&dyn Fn…>::{{closure}}`), which forwards whichever function it was given.
//! Types are compared by `std::any::type_name`, which names every closure of one function
//! alike (`f::{{closure}}`): two different closures of one
//! function, one running inside the other's derivative call and handed its variables
//! (through recursion of that function, or shared state such as a `Cell`), are taken for the
//! same function and not refused. That includes the common way to take a trait object: a
//! non-generic helper `fn d(f: &dyn Fn(Dual<f64>) -> Dual<f64>, x: f64) -> f64` forwarding
//! `f` through a closure of its own (`derivative(|t| f(t), x)`) differentiates every function
//! through that one closure type, so `d(&|x| x * Dual::constant(d(&|y| x + y, 1.0)), 1.0)`
//! returns 2, not 1, unrefused; make the helper generic over `F: Fn…` (then refused), or
//! nest one level up as the panic message says.
//!
//! What the record cannot see (documented on [`independent`]): a nested call on another
//! thread (a dual number sent to a scoped thread or a rayon task), duals built by hand, the
//! running call's variables handed on to a closure of the same type name, and calls below 16
//! levels of nesting whose type first appears there. And what it refuses although nothing
//! is confused: a plain-number routine using forward mode inside a derivative call of its
//! type, and, with rayon, a task of *another* function's derivative call that a thread blocked
//! inside a derivative call (in `join`, `scope`, a parallel iterator) runs while it waits;
//! `independent` lets both through.

use std::cell::Cell;

/// How many nested calls' types the record keeps beyond the outermost one's (deeper calls are
/// counted, and checked against the recorded types, but not recorded themselves).
const RECORDED_INNER: usize = 15;

/// A running call's dual type and the type of the function it differentiates.
type Entry = (&'static str, &'static str);

/// A running call's [`Entry`], kept as the function that names it: one word to store per call
/// instead of four, the names read only when a nested call is checked.
type EntryOf = fn() -> Entry;

/// The [`EntryOf`] of a call seeding `D` into a function of type `F`.
fn entry_of<D, F>() -> Entry {
    (std::any::type_name::<D>(), std::any::type_name::<F>())
}

/// The [`EntryOf`] of no call (the record's unused slots).
fn no_entry() -> Entry {
    ("", "")
}

// Plain `Copy` cells without destructors, so that derivative calls work to a thread's very
// end (in another thread-local's destructor too).
thread_local! {
    /// How many derivative calls are running on this thread.
    static ACTIVE: Cell<usize> = const { Cell::new(0) };
    /// The outermost running call (meaningful while `ACTIVE > 0`).
    static OUTERMOST: Cell<EntryOf> = const { Cell::new(no_entry) };
    /// The running calls inside the outermost one, outermost first (the first `ACTIVE − 1`
    /// entries, at most [`RECORDED_INNER`], are meaningful).
    static INNER: Cell<[EntryOf; RECORDED_INNER]> = const { Cell::new([no_entry as EntryOf; RECORDED_INNER]) };
}

/// A running derivative call's entry in this thread's record, removed when dropped (also
/// when the function differentiated panics).
///
/// Returned by [`record_perturbation`]; for number types of other crates of this workspace
/// (adroit-reverse's forward-over-reverse and matrix maps), not for users.
#[doc(hidden)]
#[derive(Debug)]
#[must_use = "the call is recorded only while the guard lives"]
pub struct Perturbation {
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Records a derivative call seeding perturbations of type `D` into a function of type `F`
/// for the life of the returned guard: what every derivative function of this crate does (see
/// [`independent`]), exposed for adroit-reverse's functions that seed adroit-forward's dual
/// types.
///
/// # Panics
/// If a call seeding `D` into a function of another type is already running on this thread
/// (perturbation confusion would follow: only a function defined inside the running one, or
/// given its variables, can read them), unless the thread is unwinding from a panic (a
/// destructor computing a derivative then is let through rather than aborting the process). A
/// call of the same function type is let through: it is the same closure or function called
/// again (recursion, or — with rayon — another task of one parallel map run by a thread
/// waiting inside the first), which cannot have captured the running call's variables; not
/// for a trait object (`Box<dyn Fn…>`) or a function pointer, whose type many functions share,
/// nor for a closure of a generic function over a trait object (`d<&dyn Fn…>::{{closure}}`),
/// which forwards whichever function it was given.
#[doc(hidden)]
#[track_caller]
#[inline]
pub fn record_perturbation<D, F>() -> Perturbation {
    let entry: EntryOf = entry_of::<D, F>;
    let active = ACTIVE.get();
    if active == 0 {
        OUTERMOST.set(entry);
    } else {
        enter_nested(entry, active);
    }
    ACTIVE.set(active + 1);
    Perturbation {
        _not_send: std::marker::PhantomData,
    }
}

/// [`record_perturbation`] inside `active` running calls: refuses the dual type of a running
/// call into another function, else records the entry.
#[cold]
#[inline(never)]
#[track_caller]
fn enter_nested(entry_of: EntryOf, active: usize) {
    let entry = entry_of();
    let same = |a: &str, b: &str| std::ptr::eq(a, b) || a == b;
    let erased = is_erased(entry.1);
    let same_function = |a: &str| same(a, entry.1) && !erased;
    let conflicts = |of: &EntryOf| {
        let (dual, function) = of();
        same(dual, entry.0) && !same_function(function)
    };
    let mut inner = INNER.get();
    let recorded = (active - 1).min(RECORDED_INNER);
    let confused = conflicts(&OUTERMOST.get()) || inner[..recorded].iter().any(conflicts);
    if confused && !std::thread::panicking() {
        confusion(entry.0);
    }
    if let Some(slot) = inner.get_mut(active - 1) {
        *slot = entry_of;
        INNER.set(inner);
    }
}

/// Whether the function type named `name` (`std::any::type_name`) may be shared by several
/// functions, and is then never taken for the same function called again:
/// - any name mentioning a trait object (`dyn `): `Box<dyn Fn…>` and `&dyn Fn…` are shared by
///   every closure behind them, and so is a closure of a generic helper called with them
///   (`d<&dyn Fn(…)>::{{closure}}` forwards whichever function it was given);
/// - a function pointer (`fn(…) -> …`, also `unsafe`, `extern` or higher-ranked), shared by
///   every function of its signature, behind any references and boxes (the only wrappers
///   that implement the `Fn` traits).
///
/// A closure or function item whose generic parameters only name function pointers is a type
/// of its own (a closure of `fn rec<G>` called with `G = fn(f64) -> f64` is
/// `rec<fn(f64) -> f64>::{{closure}}`: a function pointer captures nothing).
fn is_erased(name: &str) -> bool {
    if name.contains("dyn ") {
        return true;
    }
    let mut rest = name;
    loop {
        if let Some(r) = rest
            .strip_prefix("&mut ")
            .or_else(|| rest.strip_prefix('&'))
        {
            rest = r;
        } else if let Some(r) = strip_box(rest) {
            rest = r;
        } else {
            break;
        }
    }
    ["fn(", "unsafe ", "extern ", "for<"]
        .iter()
        .any(|shape| rest.starts_with(shape))
}

/// `name` without a leading `Box<` or `path::Box<` (a path of plain segments), if it has one.
fn strip_box(name: &str) -> Option<&str> {
    let at = name.find("Box<")?;
    let path = &name[..at];
    let plain = path
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == ':');
    (plain && (path.is_empty() || path.ends_with("::"))).then(|| &name[at + 4..])
}

impl Drop for Perturbation {
    #[inline]
    fn drop(&mut self) {
        // The entries above the count are dead; nothing else to remove.
        ACTIVE.set(ACTIVE.get().saturating_sub(1));
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn confusion(name: &str) -> ! {
    panic!(
        "adroit-forward: a derivative call on {name} started inside another derivative call on \
         the same type: a variable of the outer call captured by the inner function would have \
         its perturbation read as the inner one's (perturbation confusion: d/dx x·(d/dy (x + y) \
         at y = 1) would give 2, not 1). Nest one level up: lift the inner point and the \
         captured variables — `derivative(|y| Dual::constant(x) + y, Dual::constant(1.0))` \
         runs on Dual<Dual<…>> — or write the inner code generically over the outer type. \
         If the inner call reads nothing of the outer one (a derivative of plain numbers, e.g. \
         a library routine given `x.value()`), run it inside \
         `adroit_forward::independent(|| …)`."
    )
}

/// Runs `f` as if no derivative call were running on this thread: derivative calls inside it
/// may use the number types of the enclosing calls, which [`derivative`](crate::derivative)
/// and the other functions of this crate otherwise refuse (they panic to prevent perturbation
/// confusion).
///
/// For code that reads nothing of the enclosing calls' variables — a routine that
/// differentiates plain numbers, given `x.value()` or constants (a custom rule's solver, say).
/// Code inside that does read an enclosing variable gets wrong derivatives (the perturbations
/// are confused), so keep the closure to plain values.
///
/// Also for parallel code inside a derivative call: a thread that blocks in rayon's `join`,
/// `scope` or a parallel iterator may run other tasks meanwhile, and a task's own derivative
/// call of the same dual type into another function would be refused as if nested (a task of
/// the same function, as in a parallel map of one derivative call, is let through) — run such
/// a parallel section inside `independent`.
///
/// Limits of the check this lifts: it is per thread (a dual number sent to another thread and
/// differentiated there again is not seen); it sees only this crate's functions (and
/// adroit-reverse's `hvp`, `hessian`, `MatVar::map`, `zip_map`), not duals built by hand; it
/// lets a nested call into a function of the running one's type name through unless that is a
/// trait object or a function pointer (so the running call's variables handed on to a closure
/// of the same name — by recursion, or through shared state such as a `Cell`; `type_name`
/// names every closure of one function alike — are not seen); and it records the types of 16
/// nested levels (a type that first appears deeper is not refused). A destructor running
/// while a panic unwinds is not refused either (a panic there would abort the process).
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
        outermost: EntryOf,
        inner: [EntryOf; RECORDED_INNER],
    }
    impl Drop for Restore {
        fn drop(&mut self) {
            ACTIVE.set(self.active);
            OUTERMOST.set(self.outermost);
            INNER.set(self.inner);
        }
    }
    let _restore = Restore {
        active: ACTIVE.replace(0),
        outermost: OUTERMOST.get(),
        inner: INNER.get(),
    };
    f()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_is_emptied_after_calls_and_panics() {
        {
            let _outer = record_perturbation::<f64, ()>();
            let _inner = record_perturbation::<f32, ()>();
            assert_eq!(ACTIVE.get(), 2);
            assert_eq!(INNER.get()[0]().0, std::any::type_name::<f32>());
            // The same dual type into a function of the same type: let through.
            let _same = record_perturbation::<f64, ()>();
        }
        assert_eq!(ACTIVE.get(), 0);
        let panicked = std::panic::catch_unwind(|| {
            let _outer = record_perturbation::<f64, ()>();
            let _inner = record_perturbation::<f32, ()>();
            let _again = record_perturbation::<f64, u8>();
        });
        assert!(panicked.is_err());
        assert_eq!(ACTIVE.get(), 0);
    }

    /// Trait objects and function pointers, behind references and boxes, are shared types, and
    /// so is a generic helper's closure over a trait object; closures and function items whose
    /// generic parameters only name function pointers have their own.
    #[test]
    fn shared_function_types_are_told_from_a_functions_own() {
        use std::any::type_name;
        fn name_of<F>(_: &F) -> &'static str {
            type_name::<F>()
        }
        fn plain(x: f64) -> f64 {
            x
        }
        fn closure_in<G>(_: G) -> &'static str {
            name_of(&|x: f64| x)
        }
        /// A type whose name ends in `Box`, not a box.
        struct MyBox<G>(G);
        impl<G> MyBox<G> {
            fn closure(&self) -> &'static str {
                name_of(&|x: f64| x)
            }
        }
        for shared in [
            type_name::<fn(f64) -> f64>(),
            type_name::<unsafe fn(f64) -> f64>(),
            type_name::<extern "C" fn(f64) -> f64>(),
            type_name::<for<'a> fn(&'a f64) -> f64>(),
            type_name::<&dyn Fn(f64) -> f64>(),
            type_name::<&mut dyn FnMut(f64) -> f64>(),
            type_name::<Box<dyn Fn(f64) -> f64>>(),
            type_name::<&Box<dyn Fn(f64) -> f64>>(),
            type_name::<Box<&dyn Fn(f64) -> f64>>(),
        ] {
            assert!(is_erased(shared), "{shared}");
        }
        for own in [
            name_of(&plain),
            name_of(&|x: f64| x),
            name_of(&&|x: f64| x),
            name_of(&Box::new(|x: f64| x)),
            closure_in(plain as fn(f64) -> f64),
            MyBox(plain as fn(f64) -> f64).closure(),
        ] {
            assert!(!is_erased(own), "{own}");
        }
        // A generic helper's closure forwarding a trait object: shared.
        let forwarding = closure_in(&plain as &dyn Fn(f64) -> f64);
        assert!(is_erased(forwarding), "{forwarding}");
    }

    /// Beyond the recorded depth the calls are counted and checked against the recorded
    /// types; a type first met there is not recorded (the documented limit).
    #[test]
    fn deep_nesting_is_counted_beyond_the_recorded_types() {
        // Depth 18: the outermost type, 15 recorded inner ones ([u8; 1] to [u8; 15]), two more.
        macro_rules! recorded {
            ($($k:literal)*) => {
                vec![$( record_perturbation::<[u8; $k], ()>() ),*]
            };
        }
        let guards = recorded!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17);
        assert_eq!(ACTIVE.get(), 18);
        for refused in [0, 5, 15] {
            let again = std::panic::catch_unwind(|| match refused {
                0 => drop(record_perturbation::<[u8; 0], u8>()),
                5 => drop(record_perturbation::<[u8; 5], u8>()),
                _ => drop(record_perturbation::<[u8; 15], u8>()),
            });
            assert!(again.is_err(), "[u8; {refused}] was let through");
        }
        drop(record_perturbation::<[u8; 17], u8>()); // not recorded: let through
        drop(record_perturbation::<[u8; 5], ()>()); // the same function type: let through
        assert_eq!(ACTIVE.get(), 18);
        drop(guards);
        assert_eq!(ACTIVE.get(), 0);
    }

    /// A trait object's or function pointer's type is shared by many functions: a nested call
    /// of the same dual type through one is refused, unlike a concrete function type.
    #[test]
    fn a_trait_object_is_never_taken_for_the_same_function() {
        type Boxed = Box<dyn Fn(f64) -> f64>;
        let refused = std::panic::catch_unwind(|| {
            let _outer = record_perturbation::<f64, Boxed>();
            let _inner = record_perturbation::<f64, Boxed>();
        });
        assert!(refused.is_err());
        // Nor is a function pointer's (every function of its signature has it).
        let refused = std::panic::catch_unwind(|| {
            let _outer = record_perturbation::<f64, fn(f64) -> f64>();
            let _inner = record_perturbation::<f64, fn(f64) -> f64>();
        });
        assert!(refused.is_err());
        assert_eq!(ACTIVE.get(), 0);
    }
}
