//! Conv2d (grouped too), MaxPool2d and AvgPool2d: outputs and gradients against PyTorch's
//! `nn.Conv2d`, `nn.MaxPool2d` and `nn.AvgPool2d`, against the convolution written out in plain
//! loops (and a grouped one as the full one with a block-diagonal weight) and against finite
//! differences; bad windows, groups, inputs and parameters; a small convolutional network
//! through a Chain (training, casts, weight names). The shared checks against the generated
//! PyTorch values ([`assert_matches`]) and by finite differences serve the transposed
//! convolution's tests too.

use crate::conv_reference as torch;
use crate::recurrent::{assert_close, from_rows, weighted_output_gradients_at};
use adroit_nn::losses::{Agg, logitcrossentropy};
use adroit_nn::optim::Adam;
use adroit_nn::{
    Activation, AvgPool2d, Cast, Chain, Context, Conv2d, Dense, Layer, MaxPool2d, Mode, NnError,
    Window2d, loss_with_params, param_values, train_step,
};
use adroit_reverse::matrix::MatVar;
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The input images of the reference: 2 channels of 5 × 6 pixels.
const INPUT: (usize, usize, usize) = (2, 5, 6);

/// One PyTorch module's recorded output under the loss `Σ C ⊙ output`, and that loss's
/// gradients in the input and the parameters (weight, then bias if there is one).
pub(crate) struct Reference {
    pub(crate) output: DMatrix<f64>,
    pub(crate) c: DMatrix<f64>,
    pub(crate) grads: Vec<DMatrix<f64>>,
}

/// Checks `layer` at the reference input against `reference`, to `tol` relative to each
/// matrix's largest entry (at least 1).
pub(crate) fn assert_matches(layer: &impl Layer<f64>, reference: &Reference, tol: f64) {
    let g = weighted_output_gradients_at(
        layer,
        &from_rows(&torch::X),
        &reference.output,
        &reference.c,
    );
    assert_eq!(
        g.len(),
        reference.grads.len(),
        "the input and each parameter"
    );
    for (k, (found, expected)) in g.iter().zip(&reference.grads).enumerate() {
        assert_close(
            found,
            expected,
            tol,
            &format!("gradient {k} (0: the input)"),
        );
    }
}

/// A [`Reference`] from a module of the generated file.
macro_rules! reference {
    ($m:ident $(, $grad:ident)*) => {
        crate::conv::Reference {
            output: from_rows(&torch::$m::OUTPUT),
            c: from_rows(&torch::$m::C),
            grads: vec![from_rows(&torch::$m::GRAD_X), $(from_rows(&torch::$m::$grad)),*],
        }
    };
}
pub(crate) use reference;

#[test]
fn conv2d_with_padding_stride_and_bias_matches_pytorch() {
    let window = Window2d::new((3, 3)).stride((2, 2)).padding((1, 1));
    let conv = Conv2d::from_parts(
        INPUT,
        window,
        from_rows(&torch::conv_a::WEIGHT),
        Some(from_rows(&torch::conv_a::BIAS)),
        Activation::Tanh,
    )
    .unwrap();
    assert_eq!(conv.output_shape(), (3, 3, 3));
    assert_matches(&conv, &reference!(conv_a, GRAD_WEIGHT, GRAD_BIAS), 1e-14);
}

#[test]
fn conv2d_with_dilation_and_no_bias_matches_pytorch() {
    let window = Window2d::new((2, 3))
        .stride((1, 2))
        .padding((0, 1))
        .dilation((2, 1));
    let conv = Conv2d::from_parts(
        INPUT,
        window,
        from_rows(&torch::conv_b::WEIGHT),
        None,
        Activation::Identity,
    )
    .unwrap();
    assert_eq!(conv.output_shape(), (2, 3, 3));
    assert_matches(&conv, &reference!(conv_b, GRAD_WEIGHT), 1e-14);
}

#[test]
fn grouped_conv2d_matches_pytorch() {
    let window = Window2d::new((2, 3)).padding((1, 1));
    let conv = Conv2d::from_grouped_parts(
        INPUT,
        2,
        window,
        from_rows(&torch::conv_g::WEIGHT),
        Some(from_rows(&torch::conv_g::BIAS)),
        Activation::Identity,
    )
    .unwrap();
    assert_eq!((conv.output_shape(), conv.groups()), ((4, 6, 6), 2));
    assert_matches(&conv, &reference!(conv_g, GRAD_WEIGHT, GRAD_BIAS), 1e-14);
}

/// A grouped convolution is the full one whose weight is zero outside each output group's
/// own input channels (a block-diagonal weight), depthwise (one channel per group) included.
#[test]
fn a_grouped_conv2d_equals_the_full_one_with_a_block_diagonal_weight() {
    let mut rng = StdRng::seed_from_u64(9);
    let window = Window2d::new((3, 2)).stride((2, 1)).padding((1, 1));
    let taps = 3 * 2;
    for (in_channels, out_channels, groups) in [(4, 6, 2), (3, 3, 3), (6, 2, 2), (4, 8, 4)] {
        let input = (in_channels, 5, 4);
        let grouped = Conv2d::<f64>::grouped(
            input,
            out_channels,
            groups,
            window,
            Activation::Tanh,
            &mut rng,
        )
        .unwrap();
        let mut grouped = grouped;
        grouped.bias = Some(DMatrix::from_fn(out_channels, 1, |o, _| {
            0.1 * o as f64 - 0.3
        }));
        let (in_g, out_g) = (in_channels / groups, out_channels / groups);
        let full_weight = DMatrix::from_fn(out_channels, in_channels * taps, |o, col| {
            let (c, tap) = (col / taps, col % taps);
            if c / in_g == o / out_g {
                grouped.weight[(o, (c % in_g) * taps + tap)]
            } else {
                0.0
            }
        });
        let full = Conv2d::from_parts(
            input,
            window,
            full_weight,
            grouped.bias.clone(),
            Activation::Tanh,
        )
        .unwrap();
        let x = DMatrix::from_fn(in_channels * 20, 3, |r, b| {
            ((r * 7 + b * 3) as f64 * 0.33).sin()
        });
        let (y, expected) = (grouped.predict(&x).unwrap(), full.predict(&x).unwrap());
        assert!(
            (&y - &expected).amax() < 1e-14,
            "{in_channels} → {out_channels} in {groups}"
        );
    }
}

/// The panic message of `layer.forward` on a one-column input of `rows` rows, recorded.
pub(crate) fn forward_panic(
    layer: &(impl Layer<f64> + std::panic::RefUnwindSafe),
    rows: usize,
) -> String {
    let x = [DMatrix::<f64>::zeros(rows, 1)];
    let payload = std::panic::catch_unwind(|| {
        let forward = |m: &[MatVar<f64>]| layer.forward(m[0], &mut Context::new(Mode::Eval, 0));
        adroit_reverse::matrix::pullback(forward, &x);
    })
    .unwrap_err();
    payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default()
}

/// adroit-check's `matrix_gradcheck` of the loss `Σ cᵢⱼ·yᵢⱼ²` of `layer`'s output `y` at `x`
/// in its parameters (`cᵢⱼ = 0.2·(i + 2j) − 1.5`).
pub(crate) fn gradcheck_weighted_squares<L: Layer<f64>>(
    layer: &L,
    x: &DMatrix<f64>,
) -> adroit_check::Report {
    let loss = |m: &L, ctx: &mut Context<f64>| {
        let y = m.forward(MatVar::constant(x.clone()), ctx);
        let c = DMatrix::from_fn(y.nrows(), y.ncols(), |i, j| (i + 2 * j) as f64 * 0.2 - 1.5);
        Ok(y.map(|v| v * v).component_mul(MatVar::constant(c)).sum())
    };
    adroit_check::matrix_gradcheck(
        |p| loss_with_params(layer, p, Mode::Train, 0, loss).unwrap(),
        &param_values(layer),
        &adroit_check::Options::for_precision::<f64>(),
    )
    .unwrap()
}

#[test]
fn grouped_parameter_gradients_match_finite_differences() {
    let mut rng = StdRng::seed_from_u64(4);
    let window = Window2d::new((2, 2)).padding((1, 0));
    let mut conv =
        Conv2d::<f64>::grouped((4, 3, 3), 2, 2, window, Activation::Tanh, &mut rng).unwrap();
    conv.bias = Some(DMatrix::from_column_slice(2, 1, &[0.2, -0.1]));
    let x = DMatrix::from_fn(4 * 3 * 3, 2, |r, b| ((r * 3 + b * 7) as f64 * 0.21).cos());
    let report = gradcheck_weighted_squares(&conv, &x);
    assert_eq!(report.comparisons, 2 * 2 * 2 * 2 + 2);
    let single: Conv2d<f32> = conv.cast().unwrap();
    assert_eq!(single.groups(), 2);
}

#[test]
fn groups_that_do_not_divide_the_channels_are_typed_errors() {
    let mut rng = StdRng::seed_from_u64(0);
    let window = Window2d::new((3, 3));
    for (in_channels, out_channels, groups) in [(4, 4, 0), (4, 6, 3), (6, 4, 3), (3, 3, 2)] {
        let conv = Conv2d::<f64>::grouped(
            (in_channels, 5, 5),
            out_channels,
            groups,
            window,
            Activation::Relu,
            &mut rng,
        );
        let Err(NnError::InvalidConfig {
            name: "Conv2d",
            reason,
        }) = conv
        else {
            panic!("{in_channels} → {out_channels} in {groups}: {conv:?}");
        };
        assert!(reason.contains(&format!("{groups} groups")), "{reason}");
    }
    // The weight of a grouped convolution has in_channels/groups·kh·kw columns.
    let parts = |groups: usize, cols: usize| {
        Conv2d::from_grouped_parts(
            (4, 5, 5),
            groups,
            window,
            DMatrix::<f64>::zeros(2, cols),
            None,
            Activation::Relu,
        )
    };
    assert!(parts(2, 18).is_ok());
    assert!(matches!(parts(2, 36), Err(NnError::ShapeMismatch { .. })));
    assert!(
        matches!(parts(4, 9), Err(NnError::InvalidConfig { .. })),
        "4 groups for 2 outputs"
    );
    // A depthwise or grouped weight given to from_parts: refused, pointing to the grouped form.
    let full = |cols: usize| {
        let weight = DMatrix::<f64>::zeros(4, cols);
        match Conv2d::from_parts((4, 5, 5), window, weight, None, Activation::Relu) {
            Err(NnError::ShapeMismatch { what, .. }) => what,
            other => panic!("{cols} columns: {other:?}"),
        }
    };
    assert!(
        full(9).contains("grouped convolution of 4 groups"),
        "{}",
        full(9)
    );
    assert!(full(18).contains("of 2 groups") && full(18).contains("from_grouped_parts"));
    // Columns that fit no grouping get no hint.
    assert!(!full(10).contains("fit a grouped"), "{}", full(10));
    assert!(!full(27).contains("from_grouped_parts"), "{}", full(27));
    // Nor where the groups would not divide the output channels (2 groups, 3 outputs).
    let three_out = Conv2d::from_parts(
        (4, 5, 5),
        window,
        DMatrix::<f64>::zeros(3, 18),
        None,
        Activation::Relu,
    );
    match three_out {
        Err(NnError::ShapeMismatch { what, .. }) => {
            assert!(!what.contains("fit a grouped"), "{what}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn max_and_average_pools_match_pytorch() {
    let max = MaxPool2d::new(INPUT, Window2d::pool((3, 3)).stride((2, 2)).padding((1, 1)));
    let max = max.unwrap();
    assert_eq!(max.output_shape(), (2, 3, 3));
    assert_matches(&max, &reference!(max), 0.0);
    let window = Window2d::pool((2, 2)).stride((2, 1)).padding((1, 0));
    let avg = AvgPool2d::new(INPUT, window).unwrap();
    assert_eq!(avg.output_shape(), (2, 3, 5));
    assert_matches(&avg, &reference!(avg), 1e-15);
}

/// On an image of negative pixels the padding must lose every maximum (it is `−∞`) and count
/// as zeros in every mean (divided by the whole window, `count_include_pad`).
#[test]
fn pools_pad_a_negative_image_with_minus_infinity_and_zeros() {
    // Pixels −1 … −9, row by row; 2 × 2 windows at stride 2 with one pixel of padding.
    let image = DMatrix::from_fn(9, 1, |r, _| -(r as f64) - 1.0);
    let window = Window2d::pool((2, 2)).padding((1, 1));
    let max = MaxPool2d::new((1, 3, 3), window).unwrap();
    let avg = AvgPool2d::new((1, 3, 3), window).unwrap();
    let maxima = Layer::<f64>::predict(&max, &image).unwrap();
    assert_eq!(maxima.as_slice(), [-1.0, -2.0, -4.0, -5.0]);
    let means = Layer::<f64>::predict(&avg, &image).unwrap();
    assert_eq!(means.as_slice(), [-0.25, -1.25, -2.75, -7.0]);
}

/// The convolution of one image written out: output `(o, oy, ox)` is the bias plus the sum
/// over channels and taps of the weight times the pixel under the tap (0 off the image).
fn convolve_by_loops(conv: &Conv2d<f64>, image: &[f64]) -> Vec<f64> {
    let (c_in, h, w) = conv.input_shape();
    let (c_out, oh, ow) = conv.output_shape();
    let Window2d {
        kernel: (kh, kw),
        stride,
        padding,
        dilation,
    } = conv.window();
    let mut out = Vec::new();
    for o in 0..c_out {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut sum = conv.bias.as_ref().map_or(0.0, |b| b[o]);
                for c in 0..c_in {
                    for i in 0..kh {
                        for j in 0..kw {
                            let y = (oy * stride.0 + i * dilation.0) as isize - padding.0 as isize;
                            let x = (ox * stride.1 + j * dilation.1) as isize - padding.1 as isize;
                            if (0..h as isize).contains(&y) && (0..w as isize).contains(&x) {
                                let pixel = image[(c * h + y as usize) * w + x as usize];
                                sum += conv.weight[(o, (c * kh + i) * kw + j)] * pixel;
                            }
                        }
                    }
                }
                out.push(sum);
            }
        }
    }
    out
}

#[test]
fn conv2d_equals_its_loops_for_asymmetric_windows() {
    let mut rng = StdRng::seed_from_u64(7);
    for window in [
        Window2d::new((1, 1)),
        Window2d::new((2, 4)).stride((3, 1)).padding((2, 0)),
        Window2d::new((3, 2)).dilation((1, 3)).padding((1, 2)),
        Window2d::new((4, 3))
            .stride((2, 3))
            .padding((3, 1))
            .dilation((2, 2)),
    ] {
        let conv = Conv2d::<f64>::new((3, 6, 7), 4, window, Activation::Identity, &mut rng);
        let mut conv = conv.unwrap();
        conv.bias = Some(DMatrix::from_fn(4, 1, |o, _| 0.1 * o as f64 - 0.2));
        let x = DMatrix::from_fn(3 * 6 * 7, 3, |r, b| ((r * 5 + b * 11) as f64 * 0.37).sin());
        let y = conv.predict(&x).unwrap();
        for b in 0..3 {
            let expected = convolve_by_loops(&conv, x.column(b).as_slice());
            let found = y.column(b);
            assert_eq!(found.len(), expected.len(), "{window:?}");
            for (f, e) in found.iter().zip(&expected) {
                assert!((f - e).abs() < 1e-14, "{window:?}: {f} vs {e}");
            }
        }
    }
}

#[test]
fn parameter_gradients_match_finite_differences() {
    let mut rng = StdRng::seed_from_u64(3);
    let window = Window2d::new((3, 2)).stride((2, 1)).padding((1, 1));
    let conv = Conv2d::<f64>::new((2, 5, 4), 3, window, Activation::Tanh, &mut rng).unwrap();
    let x = DMatrix::from_fn(2 * 5 * 4, 2, |r, b| ((r * 3 + b * 7) as f64 * 0.21).cos());
    let pool = AvgPool2d::new(conv.output_shape(), Window2d::pool((2, 2))).unwrap();
    let loss = |m: &Conv2d<f64>, ctx: &mut Context<f64>| {
        let y = pool.forward(m.forward(MatVar::constant(x.clone()), ctx), ctx);
        let c = DMatrix::from_fn(y.nrows(), y.ncols(), |i, j| (i + 2 * j) as f64 - 3.5);
        Ok(y.map(|v| v * v).component_mul(MatVar::constant(c)).sum())
    };
    let report = adroit_check::matrix_gradcheck(
        |p| loss_with_params(&conv, p, Mode::Train, 0, loss).unwrap(),
        &param_values(&conv),
        &adroit_check::Options::for_precision::<f64>(),
    )
    .unwrap();
    assert_eq!(report.comparisons, 3 * 2 * 3 * 2 + 3);
}

#[test]
fn bad_windows_inputs_and_parameters_are_typed_errors() {
    let mut rng = StdRng::seed_from_u64(0);
    let identity = Activation::Identity;
    for (input, window) in [
        ((0, 4, 4), Window2d::new((3, 3))),
        ((1, 4, 0), Window2d::new((1, 1))),
        ((1, 4, 4), Window2d::new((5, 3))),
        ((1, 4, 4), Window2d::new((3, 3)).stride((1, 0))),
        ((1, 4, 4), Window2d::new((3, 0))),
        ((1, 4, 4), Window2d::new((3, 3)).dilation((0, 1))),
        ((1, 4, 4), Window2d::new((3, 3)).dilation((2, 1))),
    ] {
        let conv = Conv2d::<f64>::new(input, 2, window, identity, &mut rng);
        assert!(
            matches!(conv, Err(NnError::InvalidConfig { name: "Conv2d", .. })),
            "{input:?} {window:?}"
        );
        let max = MaxPool2d::new(input, window);
        assert!(matches!(
            max,
            Err(NnError::InvalidConfig {
                name: "MaxPool2d",
                ..
            })
        ));
    }
    // Each message names its own cause.
    let zero = MaxPool2d::new((1, 4, 4), Window2d::pool((0, 2))).unwrap_err();
    assert!(
        zero.to_string().contains("must each be at least 1"),
        "{zero}"
    );
    let wide = MaxPool2d::new((1, 4, 4), Window2d::pool((5, 2))).unwrap_err();
    assert!(
        wide.to_string()
            .contains("spans more than the 4 × 4 images"),
        "{wide}"
    );
    // Padding beyond half the kernel: a convolution takes it, a pool does not (PyTorch's rule).
    let window = Window2d::new((3, 3)).padding((2, 1));
    assert!(Conv2d::<f64>::new((1, 4, 4), 2, window, identity, &mut rng).is_ok());
    for err in [
        MaxPool2d::new((1, 4, 4), window).unwrap_err(),
        AvgPool2d::new((1, 4, 4), window).unwrap_err(),
    ] {
        assert!(err.to_string().contains("at most half the kernel"), "{err}");
    }
    // A weight without in_channels·kh·kw columns, a bias of the wrong size.
    let bad_weight = Conv2d::from_parts(
        (2, 4, 4),
        Window2d::new((3, 3)),
        DMatrix::<f64>::zeros(3, 9),
        None,
        identity,
    );
    let Err(NnError::ShapeMismatch {
        expected, found, ..
    }) = bad_weight
    else {
        panic!("{bad_weight:?}")
    };
    assert_eq!((expected, found), ((3, 18), (3, 9)));
    let bad_bias = Conv2d::from_parts(
        (1, 4, 4),
        Window2d::new((3, 3)),
        DMatrix::<f64>::zeros(3, 9),
        Some(DMatrix::zeros(2, 1)),
        identity,
    );
    assert!(matches!(bad_bias, Err(NnError::ShapeMismatch { .. })));
    // An input of the wrong size, and a weight field set wrong after construction.
    let mut conv = Conv2d::<f64>::new((1, 4, 4), 2, Window2d::new((3, 3)), identity, &mut rng);
    let conv_ok = conv.as_mut().unwrap();
    let err = conv_ok.predict(&DMatrix::zeros(15, 2)).unwrap_err();
    assert!(matches!(err, NnError::ShapeMismatch { .. }), "{err:?}");
    let pool = MaxPool2d::new((1, 4, 4), Window2d::pool((2, 2))).unwrap();
    let err = Layer::<f64>::predict(&pool, &DMatrix::zeros(17, 1)).unwrap_err();
    assert!(matches!(err, NnError::ShapeMismatch { .. }), "{err:?}");
    // Called directly, forward panics naming the image shape (both layer kinds).
    let message = |f: &dyn Fn()| {
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_err();
        err.downcast_ref::<String>().cloned().unwrap_or_default()
    };
    let x = [DMatrix::<f64>::zeros(15, 2)];
    let conv_message = message(&|| {
        let forward = |m: &[MatVar<f64>]| conv_ok.forward(m[0], &mut Context::new(Mode::Eval, 0));
        adroit_reverse::matrix::pullback(forward, &x);
    });
    let pool_message = message(&|| {
        let forward = |m: &[MatVar<f64>]| pool.forward(m[0], &mut Context::new(Mode::Eval, 0));
        adroit_reverse::matrix::pullback(forward, &x);
    });
    for (who, m) in [("Conv2d", conv_message), ("MaxPool2d", pool_message)] {
        assert!(
            m.starts_with(who) && m.contains("takes 16 (1 channels of 4 × 4 pixels)"),
            "{m}"
        );
    }
    conv_ok.weight = DMatrix::zeros(2, 8);
    let err = conv_ok.predict(&DMatrix::zeros(16, 2)).unwrap_err();
    assert!(matches!(err, NnError::ShapeMismatch { .. }), "{err:?}");
}

/// Sizes past `usize` (the review's cases: a kernel of 2³² × 2³² on a 1 × 1 image padded by
/// 2³¹, a padding of 2³³), no output channel, and a dilated average pool are typed errors.
#[test]
fn overflowing_sizes_no_output_channel_and_a_dilated_average_pool_are_refused() {
    let mut rng = StdRng::seed_from_u64(0);
    let identity = Activation::Identity;
    let huge = [
        Window2d::new((1 << 32, 1 << 32)).padding((1 << 31, 1 << 31)),
        Window2d::new((1, 1)).padding((1 << 33, 1 << 33)),
    ];
    for window in huge {
        let conv = Conv2d::<f64>::new((1, 1, 1), 2, window, identity, &mut rng);
        assert!(
            matches!(conv, Err(NnError::InvalidConfig { name: "Conv2d", .. })),
            "{window:?}: {conv:?}"
        );
        let max = MaxPool2d::new((1, 1, 1), window);
        assert!(matches!(max, Err(NnError::InvalidConfig { .. })), "{max:?}");
    }
    let none = Conv2d::<f64>::new((1, 3, 3), 0, Window2d::new((2, 2)), identity, &mut rng);
    let Err(NnError::InvalidConfig { reason, .. }) = none else {
        panic!("{none:?}")
    };
    assert!(reason.contains("at least one channel"), "{reason}");
    let dilated = Window2d::pool((2, 2)).dilation((2, 1));
    let err = AvgPool2d::new((1, 5, 5), dilated).unwrap_err();
    assert!(err.to_string().contains("dilation"), "{err}");
    // A dilated max pool may: its window may then lie on the padding alone (−∞, no gradient).
    let window = Window2d::pool((2, 2)).padding((1, 1)).dilation((2, 2));
    let max = MaxPool2d::new((1, 1, 1), window).unwrap();
    let (y, pb) = adroit_reverse::matrix::pullback(
        |m| max.forward(m[0], &mut Context::new(Mode::Eval, 0)),
        &[DMatrix::from_element(1, 1, 3.0)],
    );
    assert_eq!(y, DMatrix::from_element(1, 1, f64::NEG_INFINITY));
    assert_eq!(
        pb.call(&DMatrix::from_element(1, 1, 1.0))[0],
        DMatrix::zeros(1, 1)
    );
}

#[test]
fn a_batch_of_no_images() {
    let mut rng = StdRng::seed_from_u64(0);
    let window = Window2d::new((3, 3)).padding((1, 1));
    let conv = Conv2d::<f64>::new((2, 4, 4), 3, window, Activation::Relu, &mut rng).unwrap();
    assert_eq!(
        conv.predict(&DMatrix::zeros(32, 0)).unwrap().shape(),
        (48, 0)
    );
    let pool = MaxPool2d::new((3, 4, 4), Window2d::pool((2, 2))).unwrap();
    let y = Layer::<f64>::predict(&pool, &DMatrix::zeros(48, 0)).unwrap();
    assert_eq!(y.shape(), (12, 0));
}

/// Images of a bright bar, horizontal (class 0) or vertical (class 1), at random places on a
/// noisy 6 × 6 field: one channel, one image per column; the labels one-hot, 2 × n.
fn bars(n: usize, rng: &mut StdRng) -> (DMatrix<f64>, DMatrix<f64>) {
    use rand::Rng;
    let mut x = DMatrix::zeros(36, n);
    let mut y = DMatrix::zeros(2, n);
    for b in 0..n {
        let vertical = b % 2 == 1;
        let (line, start) = (rng.random_range(0..6), rng.random_range(0..3));
        for r in 0..36 {
            x[(r, b)] = 0.2 * rng.random::<f64>();
        }
        for k in start..start + 4 {
            let (py, px) = if vertical { (k, line) } else { (line, k) };
            x[(py * 6 + px, b)] += 1.0;
        }
        y[(usize::from(vertical), b)] = 1.0;
    }
    (x, y)
}

#[test]
fn a_small_convolutional_network_learns_bar_orientations() {
    let mut rng = StdRng::seed_from_u64(11);
    let window = Window2d::new((3, 3)).padding((1, 1));
    let conv = Conv2d::<f64>::new((1, 6, 6), 4, window, Activation::Relu, &mut rng).unwrap();
    let pool = MaxPool2d::new(conv.output_shape(), Window2d::pool((2, 2))).unwrap();
    let (c, h, w) = pool.output_shape();
    let mut model = Chain::new().push(conv).push(pool).push(Dense::new(
        c * h * w,
        2,
        Activation::Identity,
        &mut rng,
    ));
    let (x, y) = bars(64, &mut rng);
    let loss = |p: MatVar<f64>, t: &DMatrix<f64>| logitcrossentropy(p, t, Agg::Mean);
    let mut opt = Adam::new(0.01);
    let first = train_step(&mut model, &x, &y, &loss, &mut opt, 0).unwrap();
    let mut last = first;
    for step in 1..150 {
        last = train_step(&mut model, &x, &y, &loss, &mut opt, step).unwrap();
    }
    assert!(last < 0.1 * first, "loss {first} → {last}");
    let (x_test, y_test) = bars(32, &mut rng);
    let predicted = model.predict(&x_test).unwrap();
    let correct = (0..32)
        .filter(|&b| predicted.column(b).imax() == y_test.column(b).imax())
        .count();
    assert!(correct >= 30, "{correct} of 32 test images");
    // Weight names as a file stores them, and an f32 copy that predicts the same classes.
    let mut names = Vec::new();
    model.visit("", &mut |name, _| names.push(name.to_string()));
    assert_eq!(
        names,
        [
            "layers.0.weight",
            "layers.0.bias",
            "layers.2.weight",
            "layers.2.bias"
        ]
    );
    let single: Chain<f32> = model.cast().unwrap();
    let predicted32 = single.predict(&x_test.map(|v| v as f32)).unwrap();
    for b in 0..32 {
        assert_eq!(predicted32.column(b).imax(), predicted.column(b).imax());
    }
}

/// A convolution, an average pool and a dense read-out as a function of the convolution's
/// weight and bias and the read-out's weight, with the loss Σ tanh-activated … squared.
struct ConvNetLoss;

impl adroit_check::MatrixFn for ConvNetLoss {
    fn eval<T: adroit_nn::MatScalar>(&self, m: &[MatVar<T>]) -> MatVar<T> {
        let window = Window2d::new((2, 2)).padding((1, 0));
        let conv = Conv2d::from_parts(
            (1, 3, 4),
            window,
            DMatrix::zeros(2, 4),
            Some(DMatrix::zeros(2, 1)),
            Activation::Tanh,
        )
        .unwrap();
        let pool = AvgPool2d::new(conv.output_shape(), Window2d::pool((2, 1))).unwrap();
        let x: DMatrix<T> =
            DMatrix::from_fn(12, 2, |r, b| ((r * 2 + b * 5) as f64 * 0.4).sin()).cast();
        let mut ctx = Context::new(Mode::Eval, 0);
        ctx.bind(&conv.weight, m[0]);
        ctx.bind(conv.bias.as_ref().unwrap(), m[1]);
        let pooled = pool.forward(conv.forward(MatVar::constant(x), &mut ctx), &mut ctx);
        let y = m[2] * pooled;
        y.component_mul(y).sum()
    }
}

#[test]
fn second_derivatives_through_a_convolution_and_a_pool() {
    let params = [
        DMatrix::from_fn(2, 4, |i, j| ((i * 4 + j) as f64 * 0.8).cos() * 0.7),
        DMatrix::from_column_slice(2, 1, &[0.1, -0.2]),
        DMatrix::from_fn(1, 12, |_, j| ((j as f64) * 0.6).sin()),
    ];
    let options = adroit_check::Options::for_precision::<f64>();
    let report = adroit_check::matrix_hessian_check(&ConvNetLoss, &params, &options)
        .unwrap_or_else(|m| panic!("{m}"));
    assert_eq!(report.comparisons, 2 * 22 * 22);
}
