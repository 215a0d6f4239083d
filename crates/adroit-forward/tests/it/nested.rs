//! Nested duals: derivatives of derivatives, and no perturbation confusion.

use adroit_forward::{
    Dual, HyperDual, HyperDualVec, derivative, gradient, gradient_chunked, hessian, hvp,
    independent, jacobian, jacobian_chunked, jvp, second_derivative, value_and_derivative,
};
use num_traits::Float;

/// d/dx [ x · (d/dy (x + y) at y = 1) ] at x = 1 is 1 (Siskind & Pearlmutter's
/// perturbation-confusion example; a confused implementation gives 2).
fn perturbation_confusion<T: Float + std::fmt::Debug>() {
    let d = derivative(
        |x: Dual<T>| {
            let inner = derivative(
                |y: Dual<Dual<T>>| Dual::constant(x) + y,
                Dual::constant(T::one()),
            );
            x * inner
        },
        T::one(),
    );
    assert_eq!(d, T::one());
}

#[test]
fn no_perturbation_confusion_f64() {
    perturbation_confusion::<f64>();
}

#[test]
fn no_perturbation_confusion_f32() {
    perturbation_confusion::<f32>();
}

#[test]
fn nested_second_derivative_equals_hyperdual() {
    fn f<S: Float>(x: S) -> S {
        (x.sin() * x.exp()).powf(S::from(1.5).unwrap()) / (S::one() + x * x)
    }
    for x in [0.3, 0.7, 1.2] {
        let nested = derivative(|x: Dual<f64>| derivative(f, x), x);
        let hyper = second_derivative(f::<HyperDual<f64>>, x);
        assert!(
            (nested - hyper).abs() <= 1e-13 * hyper.abs(),
            "{nested} vs {hyper}"
        );
    }
}

#[test]
fn third_derivative_by_triple_nesting() {
    // d³/dx³ x⁴ = 24x, so 48 at x = 2.
    let third = derivative(
        |x: Dual<f64>| {
            derivative(
                |y: Dual<Dual<f64>>| derivative(|z: Dual<Dual<Dual<f64>>>| z.powi(4), y),
                x,
            )
        },
        2.0,
    );
    assert_eq!(third, 48.0);
}

/// `StopGradient` drops every perturbation of a nested dual, and one generic function runs on
/// plain floats and every dual type: f(x, y) = x·sg(x·y) + y has ∂x = sg(xy) = 6 at (2, 3),
/// ∂y = 1, and second derivatives ∂xx = 0, ∂xy = 0.
#[test]
fn stop_gradient_in_generic_code_at_every_order() {
    use adroit_forward::{DualVec, StopGradient, gradient, gradient_chunked, hessian};
    fn f<S: Float + StopGradient>(v: &[S]) -> S {
        v[0] * (v[0] * v[1]).stop_gradient() + v[1]
    }
    assert_eq!(f(&[2.0, 3.0]), 15.0);
    assert_eq!(gradient(|v| f(v), &[2.0, 3.0]), vec![6.0, 1.0]);
    assert_eq!(
        gradient_chunked::<2, _, _>(|v| f(v), &[2.0, 3.0]),
        vec![6.0, 1.0]
    );
    assert!(hessian(|v| f(v), &[2.0, 3.0]).iter().all(|e| *e == 0.0));
    // Nested: both levels of Dual<Dual<f64>> are cut, as is a DualVec's every lane.
    let x = Dual::new(Dual::new(3.0, 1.0), Dual::new(1.0, 1.0));
    let s = x.stop_gradient();
    assert_eq!(s, Dual::constant(Dual::constant(3.0)));
    assert_eq!(
        (
            s.value().tangent(),
            s.tangent().value(),
            s.tangent().tangent()
        ),
        (0.0, 0.0, 0.0)
    );
    let lanes = DualVec::<f64, 3>::new(1.5, [1.0, 2.0, 3.0]).stop_gradient();
    assert_eq!(lanes, DualVec::constant(1.5));
    // Reverse over forward's own nesting: d/dx of (d/dx f) with f = x·sg(x) is 0.
    let second = derivative(|x| derivative(|y| y * y.stop_gradient(), x), 3.0);
    assert_eq!(second, 0.0);
}

/// `f(y) = 3y² − 1/y + y/2 + 2(1 − y) + y % 2.5 + 7 % y + z` with `z` built by assign
/// operators (`(2(y + 1) − ½)/4`), written with plain literals around a nested dual;
/// `f''(y) = 6 − 2/y³` for `0 < y < 2.5`.
macro_rules! literal_body {
    ($y:expr) => {{
        let y = $y;
        let mut z = y + 1.0;
        z *= 2.0;
        z -= 0.5;
        z /= 4.0;
        z += 0.0;
        z %= 100.0;
        3.0 * y * y - 1.0 / y + y / 2.0 + (1.0 - y) * 2.0 + y % 2.5 + 7.0 % y + z
    }};
}

#[test]
fn plain_floats_on_both_sides_of_a_nested_dual() {
    let y0 = 1.2;
    let second = derivative(
        |x: Dual<f64>| derivative(|y: Dual<Dual<f64>>| literal_body!(y), x),
        y0,
    );
    assert!(
        (second - (6.0 - 2.0 / (y0 * y0 * y0))).abs() < 1e-12,
        "{second}"
    );
    // Values and first derivatives through the nested type's own operators (the second
    // derivative above misses the piecewise-linear terms): the plain-f64 value, and
    // 6y + 1/y² + ½ − 2 + 1 − trunc(7/y) + ½.
    let value = literal_body!(Dual::<Dual<f64>>::constant(Dual::constant(y0)));
    assert_eq!(value.value().value(), literal_body!(y0));
    let first = derivative(|y: Dual<Dual<f64>>| literal_body!(y), Dual::constant(y0));
    let want = 6.0 * y0 + 1.0 / (y0 * y0) + 0.5 - 2.0 + 1.0 - (7.0_f64 / y0).trunc() + 0.5;
    assert!((first.value() - want).abs() < 1e-12, "{first} vs {want}");
    let second32 = derivative(
        |x: Dual<f32>| derivative(|y: Dual<Dual<f32>>| literal_body!(y), x),
        1.2_f32,
    );
    assert!((second32 - (6.0 - 2.0 / 1.728)).abs() < 1e-5, "{second32}");
}

/// The message of the panic `f` raises.
fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let payload = std::panic::catch_unwind(f).expect_err("the nested call must be refused");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// The perturbation-confusion example written as one naturally would, the inner point a
/// literal: Rust infers the inner call's type as the outer one's (`Dual<f64>`), so the inner
/// call would read the captured `x`'s tangent as its own (2 for 1). Every derivative
/// function refuses a call nested in one of its own type, naming the fix.
#[test]
fn a_nested_call_of_the_outer_type_is_refused() {
    let message = panic_message(|| {
        derivative(|x| x * derivative(|y| x + y, 1.0), 1.0);
    });
    assert!(
        message.contains(std::any::type_name::<Dual<f64>>())
            && message.contains("perturbation confusion")
            && message.contains("Dual::constant(1.0)"),
        "{message}"
    );
    // The same mistake through the other functions (each seeds its own type).
    let cases: Vec<Box<dyn FnOnce() + std::panic::UnwindSafe>> = vec![
        Box::new(|| {
            gradient(|x| x[0] * gradient(|y| x[0] * y[0], &[1.0])[0], &[3.0]);
        }),
        Box::new(|| {
            value_and_derivative(|x| x * jvp(|y| vec![x + y[0]], &[1.0], &[1.0]).1[0], 1.0);
        }),
        Box::new(|| {
            jacobian(|x| vec![x[0] * derivative(|y| x[0] * y, 2.0)], &[1.0]);
        }),
        Box::new(|| {
            gradient_chunked::<2, _, _>(
                |x| x[0] * gradient_chunked::<2, _, _>(|y| x[0] + y[0], &[1.0])[0],
                &[1.0, 2.0],
            );
        }),
        Box::new(|| {
            jacobian_chunked::<2, _, _>(
                |x| vec![x[0] * jacobian_chunked::<2, _, _>(|y| vec![y[0] + x[1]], &[1.0])[(0, 0)]],
                &[1.0, 2.0],
            );
        }),
        Box::new(|| {
            second_derivative(|x| x * second_derivative(|y| x * y * y, 1.0), 1.0);
        }),
        Box::new(|| {
            hessian(
                |x| x[0] * hessian(|y| x[0] * y[0] * y[0], &[1.0])[(0, 0)],
                &[1.0],
            );
        }),
        Box::new(|| {
            hvp(
                |x| x[0] * hvp(|y| x[0] * y[0] * y[0], &[1.0], &[1.0])[0],
                &[1.0],
                &[1.0],
            );
        }),
    ];
    for (k, case) in cases.into_iter().enumerate() {
        let message = panic_message(case);
        assert!(
            message.contains("perturbation confusion"),
            "case {k}: {message}"
        );
    }
}

/// A refused nested call leaves nothing behind: the next calls on the thread work, nested
/// correctly (lifted) too.
#[test]
fn after_a_refused_nested_call_the_thread_differentiates_as_before() {
    panic_message(|| {
        derivative(|x| x * derivative(|y| x + y, 1.0), 1.0);
    });
    assert_eq!(derivative(|x| x * x, 3.0), 6.0);
    perturbation_confusion::<f64>();
}

/// Nested calls of different types are what nesting is: lifted points, generic inner code,
/// forward inside chunked forward, a first-order call inside a second-order one.
#[test]
fn nested_calls_of_different_types_are_allowed() {
    fn cube<S: Float>(y: S) -> S {
        y * y * y
    }
    // d/dx [x · (d/dy y³ at y = x)] = d/dx 3x³ = 9x² = 36 at 2.
    assert_eq!(derivative(|x| x * derivative(cube, x), 2.0), 36.0);
    // gradient_chunked over f64 inside derivative: its type is DualVec<Dual<f64>, 1>.
    let d = derivative(
        |x: Dual<f64>| x * gradient_chunked::<1, _, _>(|y| y[0] * x, &[x])[0],
        3.0,
    );
    assert_eq!(d, 6.0);
    // A plain-f64 derivative inside a hessian (types HyperDualVec and Dual): a constant.
    let h = hessian(
        |x| x[0] * x[0] * HyperDualVec::constant(derivative(|y| y * y, 1.5)),
        &[1.0],
    );
    assert_eq!(h[(0, 0)], 6.0);
}

/// `independent` runs a plain-number routine that uses forward mode inside an outer call of
/// the same type, and restores the record (also when the routine panics).
#[test]
fn independent_runs_plain_routines_inside_a_derivative() {
    fn slope_at(a: f64) -> f64 {
        derivative(|t| t.sin(), a)
    }
    // d/dx [x · cos(value of x)], the cosine a constant: cos 0.5.
    let d = derivative(|x: Dual<f64>| x * independent(|| slope_at(x.value())), 0.5);
    assert_eq!(d, 0.5_f64.cos());
    // Inside independent the outer call is still recorded afterwards: a confused call after it
    // is refused.
    let message = panic_message(|| {
        derivative(
            |x: Dual<f64>| {
                let c = independent(|| slope_at(1.0));
                x * c * derivative(|y| x + y, 1.0)
            },
            1.0,
        );
    });
    assert!(message.contains("perturbation confusion"), "{message}");
    // A panic inside independent, caught inside the outer call, restores the outer record:
    // a confused call after it is still refused.
    let message = panic_message(|| {
        derivative(
            |x: Dual<f64>| {
                let caught = std::panic::catch_unwind(|| independent(|| -> f64 { panic!("in") }));
                assert!(caught.is_err());
                x * derivative(|y| x + y, 1.0)
            },
            1.0,
        );
    });
    assert!(message.contains("perturbation confusion"), "{message}");
    assert_eq!(derivative(|x| x * x, 2.0), 4.0);
}

/// A destructor that computes a derivative while a panic unwinds out of a derivative call of
/// the same type is let through (a panic there would abort the process); on a normal return
/// the same nested call is refused.
#[test]
fn a_derivative_in_a_destructor_during_unwinding_is_let_through() {
    struct Logs;
    impl Drop for Logs {
        fn drop(&mut self) {
            assert_eq!(derivative(|t| t * t, 2.0), 4.0);
        }
    }
    let unwound = std::panic::catch_unwind(|| {
        derivative(
            |x: Dual<f64>| {
                let _logs = Logs;
                if x.value() > 0.0 {
                    panic!("the user's error");
                }
                x
            },
            1.0,
        )
    });
    assert!(unwound.is_err());
    let message = panic_message(|| {
        derivative(
            |x: Dual<f64>| {
                let _logs = Logs;
                x
            },
            1.0,
        );
    });
    assert!(message.contains("perturbation confusion"), "{message}");
}

/// The record has no destructor: derivative calls, nested ones and `independent` work in a
/// thread-local's destructor at thread exit.
#[test]
fn derivatives_work_in_a_thread_local_destructor() {
    struct AtExit(std::sync::mpsc::Sender<(f64, f64, f64)>);
    impl Drop for AtExit {
        fn drop(&mut self) {
            let plain = derivative(|t| t * t, 2.0);
            let nested = derivative(|x: Dual<f64>| x * derivative(|y| y * y, x), 3.0);
            let inside = derivative(
                |x: Dual<f64>| x * independent(|| derivative(|t| t, 1.0)),
                1.0,
            );
            let _ = self.0.send((plain, nested, inside));
        }
    }
    use std::cell::RefCell;
    thread_local! {
        static AT_EXIT: RefCell<Option<AtExit>> = const { RefCell::new(None) };
    }
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || AT_EXIT.with(|slot| *slot.borrow_mut() = Some(AtExit(sender))))
        .join()
        .unwrap();
    // d/dx [x · 2x] = 4x = 12 at 3.
    assert_eq!(receiver.recv().unwrap(), (4.0, 12.0, 1.0));
}

/// The record is per thread: derivative calls of one type run in parallel threads.
#[test]
fn calls_of_one_type_on_other_threads_are_independent() {
    let d = derivative(
        |x: Dual<f64>| {
            let other = std::thread::spawn(|| derivative(|y| y * y * y, 2.0))
                .join()
                .unwrap();
            x * other
        },
        1.0,
    );
    assert_eq!(d, 12.0);
}

/// A nested call of the same dual type into a function of the same type is the same closure
/// called again — here recursion through plain numbers, as a rayon task of one parallel map
/// run by a waiting thread would be — and is let through: it cannot have captured the running
/// call's variables.
#[test]
fn the_same_closure_called_again_inside_itself_is_let_through() {
    // f₀(a) = d/dt sin t = cos a; fₙ(a) = d/dt [t · fₙ₋₁(value of t)] = fₙ₋₁(a): cos a.
    fn slope(n: u32, a: f64) -> f64 {
        derivative(
            |t: Dual<f64>| {
                if n == 0 {
                    t.sin()
                } else {
                    t * slope(n - 1, t.value())
                }
            },
            a,
        )
    }
    assert_eq!(slope(3, 0.7), 0.7_f64.cos());
}

/// A closure inside a generic function called with a function pointer is still a closure of
/// its own type (a function pointer captures nothing): called again inside itself it is let
/// through, as for a closure or function item argument (a hunt's finding: it was refused).
/// Called with a trait object it is refused: the helper's closure then forwards whichever
/// function it was given (next test).
#[test]
fn a_closure_whose_generic_parameter_is_a_function_pointer_is_its_own_function() {
    // d/dt [t² · g(1)] at t = 3 is 6·g(1) = 12 for g(v) = v + 1; the inner calls' results
    // enter as constants.
    fn rec<G: Fn(f64) -> f64 + Copy>(g: G, x: f64, depth: u32) -> f64 {
        derivative(
            |t: Dual<f64>| {
                let deeper = if depth > 0 { rec(g, x, depth - 1) } else { 0.0 };
                t * t * Dual::constant(g(1.0)) + Dual::constant(deeper)
            },
            x,
        )
    }
    fn plain(v: f64) -> f64 {
        v + 1.0
    }
    assert_eq!(rec(|v| v + 1.0, 3.0, 2), 12.0);
    assert_eq!(rec(plain, 3.0, 2), 12.0);
    assert_eq!(rec(plain as fn(f64) -> f64, 3.0, 2), 12.0);
    let message = panic_message(|| {
        rec(&plain as &dyn Fn(f64) -> f64, 3.0, 2);
    });
    assert!(message.contains("perturbation confusion"), "{message}");
}

/// A generic helper forwarding its function through a closure of its own, called with trait
/// objects: the two calls run one closure type, `d<&dyn Fn…>::{{closure}}`, over different
/// functions, so the confused nesting is refused (a review found 2 for 1 returned when only
/// the front of the type name was read).
#[test]
fn a_generic_helper_forwarding_trait_objects_is_refused() {
    fn d<G: Fn(Dual<f64>) -> Dual<f64>>(g: G, x: f64) -> f64 {
        derivative(|t| g(t), x)
    }
    type Object<'a> = &'a dyn Fn(Dual<f64>) -> Dual<f64>;
    let message = panic_message(|| {
        let outer = |x: Dual<f64>| {
            let inner = move |y: Dual<f64>| x + y;
            x * Dual::constant(d(&inner as Object, 1.0))
        };
        d(&outer as Object, 1.0);
    });
    assert!(message.contains("perturbation confusion"), "{message}");
    let message = panic_message(|| {
        let outer = |x: Dual<f64>| {
            let inner = move |y: Dual<f64>| x + y;
            let boxed: Box<dyn Fn(Dual<f64>) -> Dual<f64>> = Box::new(inner);
            x * Dual::constant(d(boxed, 1.0))
        };
        let boxed: Box<dyn Fn(Dual<f64>) -> Dual<f64>> = Box::new(outer);
        d(boxed, 1.0);
    });
    assert!(message.contains("perturbation confusion"), "{message}");
}

/// Closures behind trait objects share one type (`Box<dyn Fn…>`): a confused nested call
/// through two boxed closures is refused, not taken for the same function called again.
#[test]
fn boxed_closures_are_not_taken_for_the_same_function() {
    type Objective<'a> = Box<dyn Fn(Dual<f64>) -> Dual<f64> + 'a>;
    let message = panic_message(|| {
        let outer: Objective = Box::new(|x| {
            let inner: Objective = Box::new(move |y| x + y);
            x * derivative(inner, 1.0)
        });
        derivative(outer, 1.0);
    });
    assert!(message.contains("perturbation confusion"), "{message}");
}

/// Helpers that take type-erased functions (`&dyn Fn`), a common API shape: every call through
/// one has the same function type, so the confused nesting is refused, not let through as
/// the same function called again (a review measured 2 for 1 through such helpers).
#[test]
fn nesting_through_type_erased_helpers_is_refused() {
    fn d_dyn(f: &dyn Fn(Dual<f64>) -> Dual<f64>, x: f64) -> f64 {
        derivative(f, x)
    }
    fn g_dyn(f: &dyn Fn(&[Dual<f64>]) -> Dual<f64>, x: &[f64]) -> Vec<f64> {
        gradient(f, x)
    }
    let message = panic_message(|| {
        d_dyn(&|x| x * Dual::constant(d_dyn(&|y| x + y, 1.0)), 1.0);
    });
    assert!(message.contains("perturbation confusion"), "{message}");
    let message = panic_message(|| {
        g_dyn(
            &|x| x[0] * Dual::constant(g_dyn(&|y| x[0] + y[0], &[1.0])[0]),
            &[1.0],
        );
    });
    assert!(message.contains("perturbation confusion"), "{message}");
}

/// A function pointer, also borrowed or boxed, is shared by every function of its signature
/// (`is_erased` reads the type name through `&`, `Box<` and `alloc::boxed::Box<`): a nested
/// call of the same dual type through one is refused as through a trait object, even into a
/// function that could not have captured the outer perturbation.
#[test]
// The borrows are the case under test: `&fn(…)` is a function type of its own.
#[allow(clippy::needless_borrows_for_generic_args)]
fn nesting_through_function_pointers_is_refused() {
    type Pointer = fn(Dual<f64>) -> Dual<f64>;
    fn square(y: Dual<f64>) -> Dual<f64> {
        y * y
    }
    fn through_a_box(x: Dual<f64>) -> Dual<f64> {
        x * Dual::constant(derivative(Box::new(square as Pointer), 1.0))
    }
    fn through_a_reference(x: Dual<f64>) -> Dual<f64> {
        x * Dual::constant(derivative(&(square as Pointer), 1.0))
    }
    // Alone, each is an ordinary call: d/dy y² at 1 is 2.
    assert_eq!(derivative(square as Pointer, 1.0), 2.0);
    assert_eq!(derivative(Box::new(square as Pointer), 1.0), 2.0);
    assert_eq!(derivative(&(square as Pointer), 1.0), 2.0);
    let message = panic_message(|| {
        derivative(Box::new(through_a_box as Pointer), 1.0);
    });
    assert!(message.contains("perturbation confusion"), "{message}");
    let message = panic_message(|| {
        derivative(&(through_a_reference as Pointer), 1.0);
    });
    assert!(message.contains("perturbation confusion"), "{message}");
}
