//! `release_buffers`: freeing the thread's spare buffers never disturbs a tape in use.

use adroit_reverse::{Var, gradient, pullback, release_buffers};

fn f(x: &[Var<f64>]) -> Var<f64> {
    x.iter().map(|&v| v * v * v).sum()
}

#[test]
fn releasing_between_inside_and_during_a_pullback_keeps_gradients_right() {
    let x = [1.0, -2.0, 0.5];
    let want: Vec<f64> = x.iter().map(|v| 3.0 * v * v).collect();
    assert_eq!(gradient(f, &x), want);
    release_buffers::<f64>();
    // After a release the next call allocates afresh.
    assert_eq!(gradient(f, &x), want);
    // Inside an open scope: the active tape is not a spare one.
    let g = gradient(
        |v| {
            let partial = v[0] * v[0];
            release_buffers::<f64>();
            partial * v[0] + f(&v[1..])
        },
        &x,
    );
    assert_eq!(g, want);
    // While a pullback (which owns its tape) is alive, and for another scalar type.
    let (y, back) = pullback(|v| vec![f(v)], &x);
    release_buffers::<f64>();
    release_buffers::<f32>();
    assert_eq!(y, vec![1.0 - 8.0 + 0.125]);
    assert_eq!(
        back.call(&[2.0]),
        want.iter().map(|g| 2.0 * g).collect::<Vec<_>>()
    );
}
