//! [`hessian_check`]: forward-over-reverse, forward-over-forward and finite differences of the
//! gradient must agree, and the Hessian must be symmetric.

use crate::mismatch::{Checker, Comparison, Entry};
use crate::{CheckScalar, GenericFn, Mismatch, Options, Report};

/// Checks the Hessian of the first output of `f` at `x`: forward-over-reverse
/// ([`adroit_reverse::hessian`], reported as "reverse") against forward-over-forward
/// ([`adroit_forward::hessian`], "forward") within `options.ad_tolerance`, both against finite
/// differences of the reverse-mode gradient (in `f64`) within `options.fd_tolerance`, and the
/// symmetry `H[i][j] = H[j][i]` of the forward-over-reverse Hessian within
/// `options.ad_tolerance`.
///
/// # Errors
/// The first [`Mismatch`]; its `input` and `output` are the column and row of the entry. A
/// pair that is NaN on both sides fails (it proves nothing).
///
/// # Panics
/// If `f` has no outputs at `x`.
///
/// # Example
/// ```
/// use adroit_check::{Options, generic_fn, hessian_check};
/// let f = generic_fn!(|x| vec![x[0] * x[0] * x[1] + x[1].sin()]);
/// assert!(hessian_check(&f, &[0.3, 0.7], &Options::for_precision::<f64>()).is_ok());
/// ```
pub fn hessian_check<T, F>(f: &F, x: &[T], options: &Options) -> Result<Report, Box<Mismatch>>
where
    T: CheckScalar,
    F: GenericFn,
{
    assert!(
        !f.eval(&x.iter().map(|v| v.to_f64_lossless()).collect::<Vec<f64>>())
            .is_empty(),
        "hessian_check: the function has no outputs (it checks the first)"
    );
    let reverse = T::reverse_hessian(f, x);
    let forward = adroit_forward::hessian(|v| f.eval(v)[0], x);
    let x64: Vec<f64> = x.iter().map(|v| v.to_f64_lossless()).collect();
    let fd = options.fd.jacobian(
        |v: &[f64]| adroit_reverse::gradient(|w| f.eval(w)[0], v),
        &x64,
    );
    let mut checker = Checker::default();
    checker.compare_matrices(
        &forward,
        &reverse,
        &fd,
        options.ad_tolerance,
        options.fd_tolerance,
    )?;
    let n = x.len();
    for i in 0..n {
        for j in 0..n {
            let rv = reverse[(i, j)].to_f64_lossless();
            let entry = Entry {
                input: Some(j),
                output: Some(i),
                reverse: Some(rv),
                ..Entry::default()
            };
            let transposed = reverse[(j, i)].to_f64_lossless();
            checker.compare(
                Comparison::Symmetry,
                entry,
                rv,
                transposed,
                options.ad_tolerance,
            )?;
        }
    }
    Ok(checker.finish())
}
