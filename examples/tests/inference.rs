//! Type inference of plain-float code in a crate that depends on every adroit crate: impls
//! such as `f64: PartialEq<Dual<f64>>` would make these comparisons ambiguous (E0283) for
//! every user, so this file must keep compiling.

use num_traits::Zero;

#[test]
fn plain_float_comparisons_still_infer_their_types() {
    let v = [0.5_f64, 1.0];
    let s = 1.5_f64;
    assert!(s == v.iter().sum());
    assert!(s > Default::default());
    assert!(s > v.iter().product());
    let x = adroit_forward::Dual::variable(2.0_f64);
    assert!(x > Zero::zero());
    assert!(x > Default::default());
    let g = adroit_reverse::gradient(|v| if v[0] > Zero::zero() { v[0] } else { -v[0] }, &[3.0]);
    assert_eq!(g, [1.0]);
}
