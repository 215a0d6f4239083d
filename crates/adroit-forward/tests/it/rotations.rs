//! nalgebra's rotations on duals (crate docs, "Rotations, and other branches on exact
//! values"): the constructors that take an identity shortcut at exactly 0 lose the derivative
//! there (pinned, as documented), the branch-free ones are exact at 0 and elsewhere.

use adroit_forward::{Dual, derivative, second_derivative};
use nalgebra::{Rotation3, UnitQuaternion, Vector3};

fn about_z(t: Dual<f64>) -> Vector3<Dual<f64>> {
    Vector3::new(Dual::constant(0.0), Dual::constant(0.0), t)
}

#[test]
fn shortcuts_at_zero_lose_the_derivative_there_only() {
    let r10 = |t| Rotation3::from_axis_angle(&Vector3::z_axis(), t)[(1, 0)];
    assert_eq!(derivative(r10, 0.0), 0.0); // exact: cos 0 = 1
    assert_eq!(derivative(r10, 1e-300), 1.0);
    assert!((derivative(r10, 0.2) - 0.2_f64.cos()).abs() < 1e-15);
    let scaled = |t| Rotation3::new(about_z(t))[(1, 0)];
    assert_eq!(derivative(scaled, 0.0), 0.0);
    assert!((derivative(scaled, 0.2) - 0.2_f64.cos()).abs() < 1e-15);
    let k = |t| UnitQuaternion::from_scaled_axis(about_z(t)).k;
    assert_eq!(derivative(k, 0.0), 0.0); // exact: ½
    assert!((derivative(k, 0.2) - 0.5 * 0.1_f64.cos()).abs() < 1e-15);
    // the shortcuts' own thresholds (two reviews): |θ| up to about 2ε for the quaternion, θ²
    // underflowing to 0 for Rotation3::new
    assert_eq!(derivative(k, 4e-16), 0.0);
    assert_eq!(derivative(k, 1e-15), 0.5);
    assert_eq!(derivative(scaled, 1e-170), 0.0);
    assert_eq!(derivative(scaled, 1e-150), 1.0);
}

#[test]
fn branch_free_constructors_are_exact_at_zero() {
    let z = Vector3::z_axis();
    assert_eq!(
        derivative(|t| UnitQuaternion::from_axis_angle(&z, t).k, 0.0),
        0.5
    );
    let zero = Dual::constant(0.0);
    assert_eq!(
        derivative(|t| Rotation3::from_euler_angles(zero, zero, t)[(1, 0)], 0.0),
        1.0
    );
    assert_eq!(
        derivative(|t| UnitQuaternion::from_euler_angles(zero, zero, t).k, 0.0),
        0.5
    );
    // second order too: d²/dt² of the (0, 0) entry cos t is −1 at 0
    assert_eq!(
        second_derivative(
            |t| {
                let zero = adroit_forward::HyperDual::constant(0.0);
                Rotation3::from_euler_angles(zero, zero, t)[(0, 0)]
            },
            0.0
        ),
        -1.0
    );
}

/// `Rotation3::scaled_axis` takes the angle as `acos` of the trace, which loses it below about
/// 1e-7 (crate docs): its derivative there is not 1 (a review: ∞ at 1e-9), while
/// `UnitQuaternion::scaled_axis` stays exact.
#[test]
fn rotation_angles_from_the_trace_lose_small_angles() {
    let rotation = |t| Rotation3::new(about_z(t)).scaled_axis().z;
    assert!((derivative(rotation, 0.3) - 1.0).abs() < 1e-12);
    assert_ne!(derivative(rotation, 1e-9), 1.0);
    let quaternion = |t| UnitQuaternion::new(about_z(t)).scaled_axis().z;
    assert!((derivative(quaternion, 1e-9) - 1.0).abs() < 1e-12);
}
