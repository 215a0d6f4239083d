//! ConvTranspose2d: outputs and gradients against PyTorch's `nn.ConvTranspose2d`, its
//! adjointness to Conv2d, its parameters' first and second derivatives against finite
//! differences, bad configurations, and a small encoder–decoder through a Chain.

use crate::conv::{assert_matches, forward_panic, gradcheck_weighted_squares, reference};
use crate::conv_reference as torch;
use crate::recurrent::from_rows;
use adroit_nn::losses::{Agg, mse};
use adroit_nn::optim::Adam;
use adroit_nn::{
    Activation, Cast, Chain, Context, Conv2d, ConvTranspose2d, Layer, Mode, NnError, Window2d,
    train_step,
};
use adroit_reverse::matrix::MatVar;
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The input images of the reference: 2 channels of 5 × 6 pixels.
const INPUT: (usize, usize, usize) = (2, 5, 6);

#[test]
fn stride_padding_output_padding_and_bias_match_pytorch() {
    let window = Window2d::new((3, 3)).stride((2, 2)).padding((1, 1));
    let up = ConvTranspose2d::from_parts(
        INPUT,
        window,
        (1, 1),
        from_rows(&torch::tconv_a::WEIGHT),
        Some(from_rows(&torch::tconv_a::BIAS)),
        Activation::Tanh,
    )
    .unwrap();
    assert_eq!(up.output_shape(), (3, 10, 12));
    assert_matches(&up, &reference!(tconv_a, GRAD_WEIGHT, GRAD_BIAS), 1e-14);
}

#[test]
fn dilation_and_an_output_padding_beyond_the_stride_match_pytorch() {
    let window = Window2d::new((2, 3))
        .stride((1, 2))
        .padding((0, 1))
        .dilation((3, 1));
    let weight = from_rows(&torch::tconv_b::WEIGHT);
    let identity = Activation::Identity;
    let up = ConvTranspose2d::from_parts(INPUT, window, (2, 0), weight, None, identity).unwrap();
    assert_eq!(up.output_shape(), (2, 10, 11));
    assert_matches(&up, &reference!(tconv_b, GRAD_WEIGHT), 1e-14);
}

/// `⟨conv(x), y⟩ = ⟨x, conv_transpose(y)⟩` for a convolution and the transposed one with the
/// same weight matrix and window, the output padding chosen to give back the input's size.
#[test]
fn it_is_the_adjoint_of_the_convolution_with_the_same_weight() {
    let mut rng = StdRng::seed_from_u64(11);
    let input = (3, 7, 6);
    for window in [
        Window2d::new((1, 1)),
        Window2d::new((3, 3)).stride((2, 2)).padding((1, 1)),
        Window2d::new((2, 4)).stride((3, 1)).padding((1, 0)),
        Window2d::new((3, 2))
            .stride((2, 3))
            .padding((2, 1))
            .dilation((2, 1)),
    ] {
        let conv = Conv2d::<f64>::new(input, 4, window, Activation::Identity, &mut rng)
            .unwrap()
            .without_bias();
        let (_, n_h, n_w) = conv.output_shape();
        // The output padding that gives back the input's size: the remainder of the stride.
        let Window2d {
            kernel,
            stride,
            padding,
            dilation,
        } = window;
        let rest =
            |n: usize, k: usize, s: usize, p: usize, d: usize| (n + 2 * p - d * (k - 1) - 1) % s;
        let output_padding = (
            rest(input.1, kernel.0, stride.0, padding.0, dilation.0),
            rest(input.2, kernel.1, stride.1, padding.1, dilation.1),
        );
        let up = ConvTranspose2d::from_parts(
            conv.output_shape(),
            window,
            output_padding,
            conv.weight.clone(),
            None,
            Activation::Identity,
        )
        .unwrap();
        assert_eq!(up.output_shape(), input, "{window:?}");
        let x = DMatrix::from_fn(3 * 7 * 6, 2, |r, b| ((r * 3 + b * 13) as f64 * 0.29).sin());
        let y = DMatrix::from_fn(4 * n_h * n_w, 2, |r, b| {
            ((r * 7 + b * 5) as f64 * 0.41).cos()
        });
        let left = conv.predict(&x).unwrap().dot(&y);
        let right = x.dot(&up.predict(&y).unwrap());
        assert!(
            (left - right).abs() < 1e-12 * left.abs().max(1.0),
            "{window:?}: {left} vs {right}"
        );
    }
}

#[test]
fn parameter_gradients_match_finite_differences() {
    let mut rng = StdRng::seed_from_u64(5);
    let window = Window2d::new((3, 2)).stride((2, 1)).padding((1, 1));
    let tanh = Activation::Tanh;
    let mut up = ConvTranspose2d::<f64>::new((2, 3, 4), 3, window, (1, 0), tanh, &mut rng).unwrap();
    up.bias = Some(DMatrix::from_column_slice(3, 1, &[0.2, -0.1, 0.3]));
    let x = DMatrix::from_fn(2 * 3 * 4, 2, |r, b| ((r * 3 + b * 7) as f64 * 0.21).cos());
    let report = gradcheck_weighted_squares(&up, &x);
    assert_eq!(report.comparisons, 2 * 3 * 3 * 2 + 3);
}

/// A transposed convolution's weight and bias as the arguments of a loss.
struct UpsamplingLoss;

impl adroit_check::MatrixFn for UpsamplingLoss {
    fn eval<T: adroit_nn::MatScalar>(&self, m: &[MatVar<T>]) -> MatVar<T> {
        let window = Window2d::new((2, 2)).stride((2, 1)).padding((1, 0));
        let up = ConvTranspose2d::from_parts(
            (1, 2, 3),
            window,
            (0, 0),
            DMatrix::zeros(1, 2 * 4),
            Some(DMatrix::zeros(2, 1)),
            Activation::Tanh,
        )
        .unwrap();
        let x: DMatrix<T> =
            DMatrix::from_fn(6, 2, |r, b| ((r * 2 + b * 5) as f64 * 0.4).sin()).cast();
        let mut ctx = Context::new(Mode::Eval, 0);
        ctx.bind(&up.weight, m[0]);
        ctx.bind(up.bias.as_ref().unwrap(), m[1]);
        let y = up.forward(MatVar::constant(x), &mut ctx);
        y.component_mul(y).sum()
    }
}

#[test]
fn second_derivatives_in_the_weight_and_bias_match_differences() {
    let params = [
        DMatrix::from_fn(1, 8, |_, j| (j as f64 * 0.8).cos() * 0.7),
        DMatrix::from_column_slice(2, 1, &[0.1, -0.2]),
    ];
    let options = adroit_check::Options::for_precision::<f64>();
    let report = adroit_check::matrix_hessian_check(&UpsamplingLoss, &params, &options)
        .unwrap_or_else(|m| panic!("{m}"));
    assert_eq!(report.comparisons, 2 * 10 * 10);
}

#[test]
fn bad_configurations_and_parameters_are_typed_errors() {
    let mut rng = StdRng::seed_from_u64(0);
    let identity = Activation::Identity;
    let invalid = |r: Result<ConvTranspose2d<f64>, NnError>| {
        matches!(
            r,
            Err(NnError::InvalidConfig {
                name: "ConvTranspose2d",
                ..
            })
        )
    };
    for (input, out, window) in [
        ((0, 4, 4), 2, Window2d::new((3, 3))),
        ((1, 4, 0), 2, Window2d::new((1, 1))),
        ((1, 4, 4), 0, Window2d::new((1, 1))),
        ((1, 4, 4), 2, Window2d::new((3, 0))),
        ((1, 4, 4), 2, Window2d::new((3, 3)).stride((1, 0))),
        ((1, 4, 4), 2, Window2d::new((3, 3)).dilation((0, 1))),
        // (1 − 1)·1 + (3 − 1) + 1 = 3 pixels, all removed by a padding of 2 on each side.
        ((1, 1, 1), 2, Window2d::new((3, 3)).padding((2, 0))),
        ((1, usize::MAX, 1), 2, Window2d::new((1, 1)).stride((2, 1))),
    ] {
        assert!(
            invalid(ConvTranspose2d::new(
                input,
                out,
                window,
                (0, 0),
                identity,
                &mut rng
            )),
            "{input:?} {out} {window:?}"
        );
    }
    let window = Window2d::new((3, 3)).stride((2, 1)).dilation((1, 3));
    let mut padded = |output_padding| {
        ConvTranspose2d::<f64>::new((1, 4, 4), 2, window, output_padding, identity, &mut rng)
    };
    assert!(padded((1, 2)).is_ok());
    // Not below the stride or the dilation: 2 along the rows, 3 along the columns.
    assert!(invalid(padded((2, 0))));
    assert!(invalid(padded((0, 3))));
    // An output that has pixels only thanks to its output padding (PyTorch's
    // ConvTranspose2d(1, 1, 2, stride=2, padding=1, output_padding=1) on one pixel: 1 × 1).
    let window = Window2d::pool((2, 2)).padding((1, 1));
    let weight = DMatrix::from_row_slice(1, 4, &[1.0, 2.0, 3.0, 4.0]);
    let one = ConvTranspose2d::from_parts((1, 1, 1), window, (1, 1), weight, None, identity);
    let one = one.unwrap();
    assert_eq!(one.output_shape(), (1, 1, 1));
    assert_eq!(
        one.predict(&DMatrix::from_element(1, 1, 10.0)).unwrap()[0],
        40.0
    );
    assert!(invalid(ConvTranspose2d::from_parts(
        (1, 1, 1),
        window,
        (0, 0),
        DMatrix::zeros(1, 4),
        None,
        identity
    )));
    // A weight whose columns are not whole kernels, no output channel, a bias of the wrong size.
    let from = |weight: DMatrix<f64>, bias: Option<DMatrix<f64>>| {
        ConvTranspose2d::from_parts(
            (2, 3, 3),
            Window2d::new((2, 2)),
            (0, 0),
            weight,
            bias,
            identity,
        )
    };
    for weight in [DMatrix::zeros(2, 6), DMatrix::zeros(2, 0)] {
        let Err(NnError::ShapeMismatch { what, .. }) = from(weight, None) else {
            panic!("expected a shape mismatch");
        };
        assert!(what.contains("multiple of the 4 taps"), "{what}");
    }
    assert!(matches!(
        from(DMatrix::zeros(3, 8), None),
        Err(NnError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        from(DMatrix::zeros(2, 8), Some(DMatrix::zeros(3, 1))),
        Err(NnError::ShapeMismatch { .. })
    ));
    // The window's own error comes first.
    let zero_kernel = ConvTranspose2d::from_parts(
        (2, 3, 3),
        Window2d::new((0, 2)),
        (0, 0),
        DMatrix::zeros(2, 8),
        None,
        identity,
    );
    assert!(invalid(zero_kernel));
    // A wrong input size through `predict` is an error; through `forward` a panic naming it.
    let up = from(DMatrix::zeros(2, 8), None).unwrap();
    assert!(matches!(
        up.predict(&DMatrix::zeros(17, 1)),
        Err(NnError::ShapeMismatch { .. })
    ));
    assert_eq!(
        forward_panic(&up, 17),
        "ConvTranspose2d: the input has 17 rows (features) but the layer takes 18 (2 channels \
         of 3 × 3 pixels)"
    );
}

/// Noisy 8 × 8 images of a bright square at one of four places.
fn squares(n: usize, rng: &mut StdRng) -> DMatrix<f64> {
    use rand::Rng;
    DMatrix::from_fn(64, n, |r, b| {
        let (y, x) = (r / 8, r % 8);
        let (top, left) = [(1, 1), (1, 4), (4, 1), (4, 4)][b % 4];
        let inside = (top..top + 3).contains(&y) && (left..left + 3).contains(&x);
        f64::from(u8::from(inside)) + 0.05 * rng.random_range(-1.0..1.0)
    })
}

#[test]
fn a_small_encoder_decoder_learns_to_reconstruct_its_images() {
    let mut rng = StdRng::seed_from_u64(2);
    let down = Window2d::new((3, 3)).stride((2, 2)).padding((1, 1));
    let encoder = Conv2d::<f64>::new((1, 8, 8), 4, down, Activation::Relu, &mut rng).unwrap();
    let code = encoder.output_shape();
    let decoder =
        ConvTranspose2d::new(code, 1, down, (1, 1), Activation::Identity, &mut rng).unwrap();
    assert_eq!(decoder.output_shape(), (1, 8, 8));
    let mut model = Chain::new().push(encoder).push(decoder);
    let x = squares(32, &mut rng);
    let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    let mut opt = Adam::new(0.02);
    let first = train_step(&mut model, &x, &x, &loss, &mut opt, 0).unwrap();
    let mut last = first;
    for step in 1..300 {
        last = train_step(&mut model, &x, &x, &loss, &mut opt, step).unwrap();
    }
    assert!(last < 0.1 * first, "{first} → {last}");
    let mut names = Vec::new();
    model.visit("", &mut |n, _| names.push(n.to_string()));
    assert_eq!(
        names,
        [
            "layers.0.weight",
            "layers.0.bias",
            "layers.1.weight",
            "layers.1.bias"
        ]
    );
    let single: Chain<f32> = model.cast().unwrap();
    let (y64, y32) = (
        model.predict(&x).unwrap(),
        single.predict(&x.map(|v| v as f32)).unwrap(),
    );
    assert!((y64 - y32.map(f64::from)).amax() < 1e-4);
}
