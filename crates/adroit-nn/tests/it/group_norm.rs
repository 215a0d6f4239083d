//! GroupNorm: outputs and gradients against PyTorch's `nn.GroupNorm` (one group of several
//! channels, a group per channel), groups of several channels against the formula per group,
//! finite differences, an overflowing group, and bad configurations.

use crate::conv::{assert_matches, forward_panic, gradcheck_weighted_squares, reference};
use crate::conv_reference as torch;
use crate::recurrent::from_rows;
use adroit_nn::{Cast, GroupNorm, Layer, NnError};
use nalgebra::DMatrix;

/// The input images of the reference: 2 channels of 5 × 6 pixels.
const INPUT: (usize, usize, usize) = (2, 5, 6);

#[test]
fn one_group_and_a_group_per_channel_match_pytorch() {
    for (groups, scale, bias) in [
        (1, &torch::gn_one::SCALE, &torch::gn_one::BIAS),
        (2, &torch::gn_two::SCALE, &torch::gn_two::BIAS),
    ] {
        let mut norm = GroupNorm::<f64>::new(INPUT, groups).unwrap();
        norm.scale = from_rows(scale);
        norm.bias = from_rows(bias);
        let expected = if groups == 1 {
            reference!(gn_one, GRAD_SCALE, GRAD_BIAS)
        } else {
            reference!(gn_two, GRAD_SCALE, GRAD_BIAS)
        };
        assert_matches(&norm, &expected, 1e-14);
    }
}

/// Each image's groups of consecutive channels standardised as a whole, then scaled and
/// shifted per channel: the formula written out.
#[test]
fn groups_of_several_channels_follow_the_formula() {
    let (channels, h, w, groups) = (6, 3, 2, 3);
    let mut norm = GroupNorm::<f64>::new((channels, h, w), groups).unwrap();
    norm.scale = DMatrix::from_fn(channels, 1, |c, _| 0.5 + 0.25 * c as f64);
    norm.bias = DMatrix::from_fn(channels, 1, |c, _| 0.1 * c as f64 - 0.2);
    let x = DMatrix::from_fn(channels * h * w, 2, |r, b| {
        ((r * 7 + b * 11) as f64 * 0.3).sin() * (1.0 + r as f64)
    });
    let y = norm.predict(&x).unwrap();
    let per_group = channels / groups * h * w;
    for b in 0..2 {
        for g in 0..groups {
            let part = x.view((g * per_group, b), (per_group, 1));
            let mean = part.mean();
            let var = part.map(|v| (v - mean).powi(2)).mean();
            for k in 0..per_group {
                let r = g * per_group + k;
                let c = r / (h * w);
                let expected =
                    (x[(r, b)] - mean) / (var + 1e-5).sqrt() * norm.scale[c] + norm.bias[c];
                assert!((y[(r, b)] - expected).abs() < 1e-13, "row {r}, image {b}");
            }
        }
    }
}

#[test]
fn parameter_gradients_match_finite_differences_and_casts_keep_the_groups() {
    let mut norm = GroupNorm::<f64>::new((4, 2, 3), 2).unwrap();
    norm.scale = DMatrix::from_column_slice(4, 1, &[0.9, 1.3, -0.4, 0.7]);
    norm.bias = DMatrix::from_column_slice(4, 1, &[0.2, -0.1, 0.3, 0.0]);
    let x = DMatrix::from_fn(24, 3, |r, b| ((r * 3 + b * 7) as f64 * 0.21).cos());
    let report = gradcheck_weighted_squares(&norm, &x);
    assert_eq!(report.comparisons, 4 + 4);
    let single: GroupNorm<f32> = norm.cast().unwrap();
    assert_eq!((single.groups(), single.input_shape()), (2, (4, 2, 3)));
}

#[test]
fn a_group_whose_squares_overflow_is_still_normalised() {
    // One image's first group spread by 1e200: its squared deviations overflow f64.
    let norm = GroupNorm::<f64>::new((2, 1, 2), 2).unwrap();
    let x = DMatrix::from_column_slice(4, 1, &[-1e200, 1e200, 1.0, 3.0]);
    let y = norm.predict(&x).unwrap();
    assert!(y.iter().all(|v| v.is_finite()), "{y}");
    assert!(
        (y[0] + 1.0).abs() < 1e-9 && (y[1] - 1.0).abs() < 1e-9,
        "{y}"
    );
    assert!(
        (y[2] + 1.0).abs() < 1e-4 && (y[3] - 1.0).abs() < 1e-4,
        "{y}"
    );
}

#[test]
fn bad_configurations_parameters_and_inputs_are_typed_errors() {
    for (input, groups) in [
        ((0, 2, 2), 1),
        ((4, 2, 0), 1),
        ((4, 2, 2), 0),
        ((4, 2, 2), 3),
        ((4, usize::MAX, 2), 1),
    ] {
        let norm = GroupNorm::<f64>::new(input, groups);
        assert!(
            matches!(
                norm,
                Err(NnError::InvalidConfig {
                    name: "GroupNorm",
                    ..
                })
            ),
            "{input:?} in {groups}"
        );
    }
    let mut norm = GroupNorm::<f64>::new((2, 3, 3), 1).unwrap();
    assert!(matches!(
        norm.predict(&DMatrix::zeros(17, 1)),
        Err(NnError::ShapeMismatch { .. })
    ));
    assert_eq!(
        forward_panic(&norm, 17),
        "GroupNorm: the input has 17 rows (features) but the layer takes 18 (2 channels of 3 × 3 \
         pixels)"
    );
    norm.bias = DMatrix::zeros(3, 1);
    assert!(matches!(
        norm.predict(&DMatrix::zeros(18, 1)),
        Err(NnError::ShapeMismatch { .. })
    ));
}
