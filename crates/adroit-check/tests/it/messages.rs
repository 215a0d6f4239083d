//! What a failed check prints: the same text through `Display` and `Debug` (so `unwrap` and a
//! `#[test]` returning `Result` show it), the hints drawn from the values (a point outside the
//! domain, on its boundary), the note on tolerances made for another precision, and a
//! passing check's one-line `Report`.

use adroit_check::adroit_reverse::{Var, custom_rule};
use adroit_check::{
    Comparison, Mode, Options, Tolerance, generic_fn, gradcheck, hessian_check, rule_check,
};

#[test]
fn debug_prints_the_display_text_so_unwrap_shows_the_report() {
    let f = generic_fn!(|x| vec![x[0] * x[0].stop_gradient()]);
    let m = gradcheck(&f, &[3.0], &Options::for_precision::<f64>()).unwrap_err();
    assert_eq!(format!("{m:?}"), m.to_string());
    assert!(
        format!("{m:?}").starts_with("derivative mismatch ("),
        "{m:?}"
    );
    // What `unwrap` prints: the text, not a struct dump.
    let panic = std::panic::catch_unwind(|| {
        gradcheck(&f, &[3.0], &Options::for_precision::<f64>()).unwrap();
    })
    .unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("derivative mismatch ("), "{message}");
    assert!(!message.contains("Mismatch {"), "{message}");
}

#[test]
fn a_passing_check_displays_its_report_on_one_line() {
    let f = generic_fn!(|x| vec![x[0].sin() * x[1]]);
    let report = gradcheck(&f, &[0.5, 2.0], &Options::for_precision::<f64>()).unwrap();
    let text = report.to_string();
    assert!(
        text.starts_with("6 comparisons passed; AD vs AD: largest |error| "),
        "{text}"
    );
    assert!(
        text.contains("of its tolerance") && !text.contains('\n'),
        "{text}"
    );
}

#[test]
fn a_point_where_f_is_not_finite_is_named_as_such_not_the_stencil() {
    let options = Options::for_precision::<f64>();
    // ln at −1: the value is NaN, AD finite (the rule 1/x), finite differences NaN.
    let ln = generic_fn!(|x| vec![x[0].ln()]);
    let m = gradcheck(&ln, &[-1.0], &options).unwrap_err();
    assert!(m.primal.unwrap().is_nan(), "{m}");
    let text = m.to_string();
    assert!(text.contains("f itself is NaN at this point"), "{text}");
    assert!(!text.contains("with_max_range"), "{text}");
    // x² at 1e300 overflows to +∞: the same, not a stencil problem.
    let square = generic_fn!(|x| vec![x[0] * x[0]]);
    let m = gradcheck(&square, &[1e300], &options).unwrap_err();
    assert_eq!(m.primal, Some(f64::INFINITY));
    assert!(
        m.to_string()
            .contains("f or its derivative is infinite here"),
        "{m}"
    );
    // In fast mode the value is wᵀf(x), NaN as well.
    let fast = options.with_mode(Mode::Fast { seed: 3, trials: 2 });
    let m = gradcheck(&ln, &[-1.0], &fast).unwrap_err();
    assert!(m.primal.unwrap().is_nan(), "{m}");
    assert!(
        m.to_string().contains("f itself is NaN at this point"),
        "{m}"
    );
}

#[test]
fn a_point_on_the_domain_boundary_is_named_as_such() {
    // √x at 0: the value 0 is fine, the derivative +∞, finite differences NaN.
    let sqrt = generic_fn!(|x| vec![x[0].sqrt()]);
    let m = gradcheck(&sqrt, &[0.0], &Options::for_precision::<f64>()).unwrap_err();
    assert_eq!((m.primal, m.forward), (Some(0.0), Some(f64::INFINITY)));
    let text = m.to_string();
    assert!(
        text.contains("f or its derivative is infinite here"),
        "{text}"
    );
    assert!(!text.contains("with_max_range"), "{text}");
    // ln x at 0: the value −∞ as well; a boundary, not a point outside the domain.
    let ln = generic_fn!(|x| vec![x[0].ln()]);
    let m = gradcheck(&ln, &[0.0], &Options::for_precision::<f64>()).unwrap_err();
    assert_eq!(m.primal, Some(f64::NEG_INFINITY));
    assert!(
        m.to_string()
            .contains("f or its derivative is infinite here"),
        "{m}"
    );
}

#[test]
fn fast_mode_mismatches_point_to_full_mode_for_the_entry() {
    // x·stop_gradient(x): both modes give the slope x, half the true 2x.
    let half_slope = generic_fn!(|x| vec![x[0] * x[0].stop_gradient()]);
    let fast = Options::for_precision::<f64>().with_mode(Mode::Fast { seed: 1, trials: 3 });
    let m = gradcheck(&half_slope, &[2.0], &fast).unwrap_err();
    assert_eq!((m.input, m.output), (None, None));
    assert!(m.to_string().contains("Mode::Full names the entry"), "{m}");
    // ... and gives the direction and the output weight that were compared (a review found
    // neither): reverse = w·f′(x)·u.
    let (u, w) = (m.direction.clone().unwrap(), m.cotangent.clone().unwrap());
    assert_eq!((u.len(), w.len()), (1, 1));
    assert!(
        (m.reverse.unwrap() - w[0] * 2.0 * u[0]).abs() < 1e-12,
        "{m}"
    );
    assert!(
        m.to_string().contains("and the input direction u = ["),
        "{m}"
    );
    let full = gradcheck(&half_slope, &[2.0], &Options::for_precision::<f64>()).unwrap_err();
    assert_eq!((full.input, full.output), (Some(0), Some(0)));
    assert!(!full.to_string().contains("Mode::Full"), "{full}");
}

#[test]
fn f64_tolerances_on_f32_inputs_get_a_note_and_matching_ones_pass() {
    // A correct function whose f32 forward and reverse values differ by f32 rounding.
    let f = generic_fn!(|x| vec![(x[0] * x[1]).exp() / (x[0] + x[1] * x[1]).ln_1p()]);
    let x = [0.7_f32, 1.3];
    let m = gradcheck(&f, &x, &Options::for_precision::<f64>()).unwrap_err();
    let note = m.note.as_deref().unwrap();
    assert!(
        note.contains("far finer than f32's default for this comparison"),
        "{note}"
    );
    assert!(
        m.to_string().contains("note: the tolerance is far finer"),
        "{m}"
    );
    assert!(gradcheck(&f, &x, &Options::for_precision::<f32>()).is_ok());
}

#[test]
fn no_precision_note_where_the_precision_does_not_explain_the_failure() {
    let half_slope = generic_fn!(|x| vec![x[0] * x[0].stop_gradient()]);
    let f64_options = Options::for_precision::<f64>();
    // f64 inputs: f64's own options, and a deliberately tight tolerance, fail without a note.
    assert_eq!(
        gradcheck(&half_slope, &[2.0], &f64_options)
            .unwrap_err()
            .note,
        None
    );
    let f = generic_fn!(|x| vec![(x[0] * x[1]).exp() / (x[0] + x[1] * x[1]).ln_1p()]);
    let tight = f64_options
        .clone()
        .with_fd_tolerance(Tolerance::new(0.0, 1e-15));
    assert_eq!(gradcheck(&f, &[0.7, 1.3], &tight).unwrap_err().note, None);
    // f32 inputs, f64 options, a derivative 50 % off: f32's default would fail it too.
    let m = gradcheck(&half_slope, &[2.0_f32], &f64_options).unwrap_err();
    assert_eq!(m.note, None, "{m}");
    // f32 options whose AD-vs-AD tolerance alone is tightened, failing AD vs finite
    // differences on f32's own default tolerance.
    let strict_ad = Options::for_precision::<f32>().with_ad_tolerance(Tolerance::new(0.0, 0.0));
    let m = gradcheck(&half_slope, &[2.0_f32], &strict_ad).unwrap_err();
    assert_eq!(m.note, None, "{m}");
    // f32 inputs and a tolerance finer than f32's default in atol (10⁻⁴ of it) but not in rtol
    // (half of it): no note, though the default would accept the pair (a slope 2⁻⁹ off by 2⁻¹⁴,
    // 3.1 %; values exact in f32, so that both AD modes agree to the last bit).
    let off = generic_fn!(|x| {
        let offset = S::from(2f64.powi(-14)).unwrap();
        vec![x[0] * x[0] + (x[0] - x[0].stop_gradient()) * offset]
    });
    let half_rtol = f64_options.with_fd_tolerance(Tolerance::new(1e-7, 5e-3));
    let m = gradcheck(&off, &[2f32.powi(-10)], &half_rtol).unwrap_err();
    assert_eq!(m.comparison, Comparison::ForwardVsFiniteDifference, "{m}");
    assert_eq!(m.note, None, "{m}");
}

/// The note's test of whether f32's default accepts the pair is relative to the reference:
/// a slope of 100 off by 0.5 (f32's default allows `10⁻³ + 10⁻²·100`) gets the note.
#[test]
fn the_precision_note_weighs_the_reference_by_f32s_relative_tolerance() {
    let off = generic_fn!(|x| vec![
        x[0] * S::from(100.0).unwrap() + (x[0] - x[0].stop_gradient()) * S::from(0.5).unwrap()
    ]);
    let m = gradcheck(&off, &[0.3_f32], &Options::for_precision::<f64>()).unwrap_err();
    assert_eq!(m.comparison, Comparison::ForwardVsFiniteDifference, "{m}");
    assert!(m.note.is_some(), "{m}");
}

#[test]
fn the_precision_note_reaches_hessian_and_rule_checks() {
    let f = generic_fn!(|x| vec![(x[0] * x[1]).exp() / (x[0] + x[1] * x[1]).ln_1p()]);
    let x = [0.7_f32, 1.3];
    let m = hessian_check(&f, &x, &Options::for_precision::<f64>()).unwrap_err();
    assert!(m.note.is_some(), "{m}");
    // A rule recording exp(x) with its slope 0.1 % off: f32 options catch nothing that fine,
    // f64 ones on f32 inputs fail and say why they may be failing.
    let recorded = |x: &[Var<f32>]| {
        let e = x[0].value().exp();
        custom_rule(x, &[e], move |w| vec![w[0] * e * 1.001])
    };
    let primal = |x: &[f64]| vec![x[0].exp()];
    let m = rule_check(
        primal,
        recorded,
        &[0.3_f32],
        2,
        5,
        &Options::for_precision::<f64>(),
    )
    .unwrap_err();
    assert!(m.note.is_some(), "{m}");
}
