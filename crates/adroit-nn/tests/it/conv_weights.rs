//! Convolution weights in PyTorch's 4-D shapes load into the 2-D parameters (the trailing
//! dimensions flattened row-major); shapes that do not flatten to the parameter are refused.

use adroit_nn::io::{load_safetensors_bytes, to_safetensors_bytes};
use adroit_nn::nalgebra::DMatrix;
use adroit_nn::rand::{SeedableRng, rngs::StdRng};
use adroit_nn::{Activation, Chain, Conv2d, ConvTranspose2d, Layer, MaxPool2d, NnError, Window2d};
use safetensors::tensor::{TensorView, serialize};
use safetensors::{Dtype, SafeTensors};

/// A conv 2 → 3 (2 × 2) over 2 × 4 × 4 images, a 2 × 2 max pool, a transposed conv 3 → 2
/// (2 × 2, stride 2): parameters `layers.0.*` and `layers.2.*`, as in an `nn.Sequential`.
fn model() -> Chain<f64> {
    let mut rng = StdRng::seed_from_u64(3);
    let id = Activation::Identity;
    let conv = Window2d::new((2, 2)).padding((1, 1));
    Chain::new()
        .push(Conv2d::new((2, 4, 4), 3, conv, id, &mut rng).unwrap())
        .push(MaxPool2d::new((3, 5, 5), Window2d::pool((2, 2))).unwrap())
        .push(
            ConvTranspose2d::new((3, 2, 2), 2, Window2d::pool((2, 2)), (0, 0), id, &mut rng)
                .unwrap(),
        )
}

/// `n` distinct values, `k / 8 − 1`, as f32 bytes (exact in f32 and f64).
fn values(n: usize) -> Vec<f64> {
    (0..n).map(|k| k as f64 / 8.0 - 1.0).collect()
}

fn bytes(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|&x| (x as f32).to_le_bytes()).collect()
}

/// A safetensors file of `tensors` (name, shape), each filled with [`values`].
fn file(tensors: &[(&str, Vec<usize>)]) -> Vec<u8> {
    let data: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, shape)| bytes(&values(shape.iter().product())))
        .collect();
    let views = tensors.iter().zip(&data).map(|((name, shape), data)| {
        (
            *name,
            TensorView::new(Dtype::F32, shape.clone(), data).unwrap(),
        )
    });
    serialize(views, &None).unwrap()
}

/// PyTorch's state dict shapes for [`model`], keys renamed to the chain's.
fn pytorch_shapes() -> Vec<(&'static str, Vec<usize>)> {
    vec![
        ("layers.0.weight", vec![3, 2, 2, 2]), // nn.Conv2d: (out, in, kh, kw)
        ("layers.0.bias", vec![3]),
        ("layers.2.weight", vec![3, 2, 2, 2]), // nn.ConvTranspose2d: (in, out, kh, kw)
        ("layers.2.bias", vec![2]),
    ]
}

#[test]
fn pytorch_4d_convolution_weights_load_flattened_row_major() {
    let mut m = model();
    load_safetensors_bytes(&mut m, &file(&pytorch_shapes())).unwrap();
    let mut loaded = Vec::new();
    m.visit("", &mut |name, p| {
        loaded.push((name.to_string(), p.clone()))
    });
    let want = |rows, cols| DMatrix::from_row_slice(rows, cols, &values(rows * cols));
    // (The keys are the chain's: a strict load needs every one.)
    assert_eq!(loaded[0].1, want(3, 8)); // out × (in·kh·kw)
    assert_eq!(loaded[1].1, want(3, 1));
    assert_eq!(loaded[2].1, want(3, 8)); // in × (out·kh·kw)
    assert_eq!(loaded[3].1, want(2, 1));
    // Any trailing dimensions that flatten to the columns do.
    let mut shapes = pytorch_shapes();
    shapes[0].1 = vec![3, 8, 1, 1];
    load_safetensors_bytes(&mut model(), &file(&shapes)).unwrap();
    // The loaded model runs, and saves its parameters 2-D.
    assert_eq!(
        m.predict(&DMatrix::zeros(32, 2)).unwrap().shape(),
        (2 * 4 * 4, 2)
    );
    let saved = to_safetensors_bytes(&m).unwrap();
    let saved = SafeTensors::deserialize(&saved).unwrap();
    assert_eq!(saved.tensor("layers.0.weight").unwrap().shape(), [3, 8]);
    assert_eq!(saved.tensor("layers.2.bias").unwrap().shape(), [2, 1]);
}

#[test]
fn shapes_that_do_not_flatten_to_the_parameter_are_refused_and_change_nothing() {
    let before = model();
    for (bad, why) in [
        (vec![3, 2, 2, 3], "trailing dimensions of 12 for 8 columns"),
        (vec![2, 3, 2, 2], "a leading dimension of 2 for 3 rows"),
        (vec![24], "1-D for a matrix"),
    ] {
        let mut shapes = pytorch_shapes();
        shapes[0].1 = bad.clone();
        let mut m = model();
        match load_safetensors_bytes(&mut m, &file(&shapes)) {
            Err(NnError::TensorShapeMismatch {
                name,
                expected,
                found,
            }) => {
                assert_eq!(
                    (name.as_str(), expected, found),
                    ("layers.0.weight", vec![3, 8], bad)
                );
            }
            other => panic!("{why}: {other:?}"),
        }
        assert_eq!(
            m.predict(&DMatrix::from_element(32, 1, 0.5)),
            before.predict(&DMatrix::from_element(32, 1, 0.5))
        );
    }
    // A 1-D tensor loads only into a column: a weight of one row is not a column.
    let mut shapes = pytorch_shapes();
    shapes[3].1 = vec![1, 2];
    let result = load_safetensors_bytes(&mut model(), &file(&shapes));
    assert!(
        matches!(result, Err(NnError::TensorShapeMismatch { .. })),
        "{result:?}"
    );
}

#[test]
fn a_grouped_weight_for_a_layer_without_groups_is_refused_with_a_hint() {
    let mut rng = StdRng::seed_from_u64(4);
    let window = Window2d::new((3, 3));
    let id = Activation::Identity;
    // A depthwise PyTorch weight (groups = 4): (4, 1, 3, 3).
    let mut full =
        Chain::new().push(Conv2d::<f64>::new((4, 5, 5), 4, window, id, &mut rng).unwrap());
    let bytes = file(&[
        ("layers.0.weight", vec![4, 1, 3, 3]),
        ("layers.0.bias", vec![4]),
    ]);
    let err = load_safetensors_bytes(&mut full, &bytes).unwrap_err();
    assert!(matches!(err, NnError::TensorShapeMismatch { .. }));
    let message = err.to_string();
    assert!(
        message.contains("of 4 groups") && message.contains("Conv2d::grouped"),
        "{message}"
    );
    // The layer built with the groups loads it.
    let mut depthwise =
        Chain::new().push(Conv2d::<f64>::grouped((4, 5, 5), 4, 4, window, id, &mut rng).unwrap());
    load_safetensors_bytes(&mut depthwise, &bytes).unwrap();
    // A shape that fits no grouping gets no hint.
    let bytes = file(&[
        ("layers.0.weight", vec![4, 2, 2, 2]),
        ("layers.0.bias", vec![4]),
    ]);
    let message = load_safetensors_bytes(&mut full, &bytes)
        .unwrap_err()
        .to_string();
    assert!(!message.contains("groups"), "{message}");
    // Nor one whose group count would not divide the output channels: a 1 × 1 kernel given
    // to a one-channel 3 × 3 layer is not 9 groups of 4 outputs.
    let mut one_channel =
        Chain::new().push(Conv2d::<f64>::new((1, 5, 5), 4, window, id, &mut rng).unwrap());
    let bytes = file(&[
        ("layers.0.weight", vec![4, 1, 1, 1]),
        ("layers.0.bias", vec![4]),
    ]);
    let message = load_safetensors_bytes(&mut one_channel, &bytes)
        .unwrap_err()
        .to_string();
    assert!(!message.contains("groups"), "{message}");
}

#[test]
fn pytorch_3d_conv1d_weights_load_flattened_row_major() {
    let mut rng = StdRng::seed_from_u64(4);
    let conv = adroit_nn::Conv1d::<f64>::new(2, 3, 4, Activation::Identity, &mut rng).unwrap();
    let mut m = Chain::new().push(conv.causal());
    // nn.Conv1d's state dict: weight (out, in, kernel), bias (out,).
    let shapes = [
        ("layers.0.weight", vec![3, 2, 4]),
        ("layers.0.bias", vec![3]),
    ];
    load_safetensors_bytes(&mut m, &file(&shapes)).unwrap();
    let mut loaded = Vec::new();
    m.visit("", &mut |_, p| loaded.push(p.clone()));
    let want = |rows, cols| DMatrix::from_row_slice(rows, cols, &values(rows * cols));
    assert_eq!(loaded, [want(3, 8), want(3, 1)]); // out × (in·kernel), channel by channel
    // Channel 0 of a one-step sequence meets its kernel's last tap (the others read the
    // causal padding): weight[o, 0, 3] + bias[o].
    let y = m
        .predict(&DMatrix::from_column_slice(2, 1, &[1.0, 0.0]))
        .unwrap();
    let expected = DMatrix::from_fn(3, 1, |o, _| loaded[0][(o, 3)] + loaded[1][(o, 0)]);
    assert_eq!(y, expected);
}

#[test]
fn a_grouped_conv1d_weight_given_to_a_layer_without_groups_names_the_groups() {
    let mut rng = StdRng::seed_from_u64(5);
    let conv = adroit_nn::Conv1d::<f64>::new(4, 6, 3, Activation::Identity, &mut rng).unwrap();
    let mut m = Chain::new().push(conv.clone());
    // nn.Conv1d(4, 6, 3, groups=2): weight (6, 2, 3).
    let shapes = [
        ("layers.0.weight", vec![6, 2, 3]),
        ("layers.0.bias", vec![6]),
    ];
    let err = load_safetensors_bytes(&mut m, &file(&shapes)).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("of 2 groups") && text.contains("Conv1d::grouped"),
        "{text}"
    );
    let mut kept = Vec::new();
    m.visit("", &mut |_, p| kept.push(p.clone()));
    assert_eq!(kept[0], conv.weight, "nothing loaded");
    // The same weight given to from_parts.
    let weight = DMatrix::from_row_slice(6, 6, &values(36));
    let err = adroit_nn::Conv1d::from_parts(4, 3, weight, None, Activation::Identity).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("Conv1d::from_grouped_parts") && text.contains("2 groups"),
        "{text}"
    );
}
