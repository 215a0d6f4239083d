//! Upsample: outputs and gradients against PyTorch's `nn.Upsample` (nearest, bilinear with and
//! without aligned corners), a unit scale, bad configurations, and a decoder's gradients
//! through it against finite differences.

use crate::conv::{assert_matches, forward_panic, gradcheck_weighted_squares, reference};
use crate::conv_reference as torch;
use crate::recurrent::from_rows;
use adroit_nn::{
    Activation, Cast, Chain, Conv2d, Layer, NnError, Upsample, UpsampleMode, Window2d,
};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The input images of the reference: 2 channels of 5 × 6 pixels.
const INPUT: (usize, usize, usize) = (2, 5, 6);

const BILINEAR: UpsampleMode = UpsampleMode::Bilinear {
    align_corners: false,
};

#[test]
fn nearest_and_bilinear_upsampling_match_pytorch() {
    let nearest = Upsample::new(INPUT, (2, 3), UpsampleMode::Nearest).unwrap();
    assert_eq!(nearest.output_shape(), (2, 10, 18));
    assert_matches(&nearest, &reference!(up_nearest), 0.0);
    let bilinear = Upsample::new(INPUT, (3, 2), BILINEAR).unwrap();
    assert_eq!(bilinear.output_shape(), (2, 15, 12));
    assert_matches(&bilinear, &reference!(up_bilinear), 1e-15);
    let corners = UpsampleMode::Bilinear {
        align_corners: true,
    };
    let corners = Upsample::new(INPUT, (2, 2), corners).unwrap();
    assert_eq!(corners.output_shape(), (2, 10, 12));
    assert_matches(&corners, &reference!(up_corners), 1e-15);
}

#[test]
fn a_unit_scale_keeps_the_images() {
    let x = from_rows(&torch::X);
    for mode in [
        UpsampleMode::Nearest,
        BILINEAR,
        UpsampleMode::Bilinear {
            align_corners: true,
        },
    ] {
        let up = Upsample::new(INPUT, (1, 1), mode).unwrap();
        assert_eq!(Layer::<f64>::predict(&up, &x).unwrap(), x, "{mode:?}");
    }
}

#[test]
fn bad_configurations_and_inputs_are_typed_errors() {
    for (input, scale) in [
        ((0, 4, 4), (2, 2)),
        ((1, 4, 0), (2, 2)),
        ((1, 4, 4), (0, 2)),
        ((1, 4, 4), (2, 0)),
        ((3, 4, 4), (usize::MAX / 4, 1)),
    ] {
        let up = Upsample::new(input, scale, UpsampleMode::Nearest);
        assert!(
            matches!(
                up,
                Err(NnError::InvalidConfig {
                    name: "Upsample",
                    ..
                })
            ),
            "{input:?} {scale:?}"
        );
    }
    let up = Upsample::new((2, 3, 3), (2, 2), BILINEAR).unwrap();
    assert!(matches!(
        Layer::<f64>::predict(&up, &DMatrix::zeros(17, 1)),
        Err(NnError::ShapeMismatch { .. })
    ));
    assert_eq!(
        forward_panic(&up, 17),
        "Upsample: the input has 17 rows (features) but the layer takes 18 (2 channels of 3 × 3 \
         pixels)"
    );
}

#[test]
fn a_decoder_through_bilinear_upsampling_has_the_gradients_of_finite_differences() {
    let mut rng = StdRng::seed_from_u64(8);
    let up = Upsample::new((2, 3, 2), (2, 3), BILINEAR).unwrap();
    let (c, h, w) = up.output_shape();
    let same = Window2d::new((3, 3)).padding((1, 1));
    let conv = Conv2d::<f64>::new((c, h, w), 2, same, Activation::Tanh, &mut rng).unwrap();
    let mut conv = conv;
    conv.bias = Some(DMatrix::from_column_slice(2, 1, &[0.1, -0.2]));
    let model = Chain::new().push(up).push(conv);
    let x = DMatrix::from_fn(12, 2, |r, b| ((r * 5 + b * 3) as f64 * 0.37).sin());
    let report = gradcheck_weighted_squares(&model, &x);
    assert_eq!(report.comparisons, 2 * 2 * 9 + 2);
    let single: Chain<f32> = model.cast().unwrap();
    let y32 = single.predict(&x.map(|v| v as f32)).unwrap();
    assert!((model.predict(&x).unwrap() - y32.map(f64::from)).amax() < 1e-5);
}
