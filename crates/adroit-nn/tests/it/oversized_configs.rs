//! Sizes too large to allocate: a constructor that returns `Self` panics with a message naming
//! itself (documented under its `# Panics`), one that returns a `Result` says so in its docs
//! (`# Panics` for a weight, as `Dense::new` and `Conv2d::new`) or returns the error it
//! documents — never an arithmetic overflow or a bare "capacity overflow" from deep inside.

use adroit_nn::nalgebra::DMatrix;
use adroit_nn::rand::{SeedableRng, rngs::StdRng};
use adroit_nn::{
    Activation, BatchNorm, Chain, Conv1d, Conv2d, ConvTranspose2d, Dense, Embedding, GroupNorm,
    Layer, LayerNorm, MaxPool1d, MaxPool2d, MultiHeadAttention, NnError, TransformerEncoderLayer,
    Upsample, UpsampleMode, Window2d,
};

fn rng() -> StdRng {
    StdRng::seed_from_u64(0)
}

#[test]
#[should_panic(expected = "LayerNorm::new: a 18446744073709551615 × 1 matrix has more entries")]
fn layer_norm_of_more_features_than_memory_holds() {
    let _ = LayerNorm::<f64>::new(usize::MAX);
}

#[test]
#[should_panic(expected = "BatchNorm::new: a 2305843009213693952 × 1 matrix has more entries")]
fn batch_norm_of_more_features_than_memory_holds() {
    // 2⁶¹ entries of 8 bytes: 2⁶⁴ bytes, above isize::MAX though the count fits usize.
    let _ = BatchNorm::<f64>::new(1 << 61);
}

#[test]
#[should_panic(expected = "MultiHeadAttention::new: dim 9223372036854775808 is too large")]
fn attention_whose_projection_rows_overflow() {
    let _ = MultiHeadAttention::<f64>::new(1 << 63, 1, &mut rng());
}

#[test]
#[should_panic(expected = "MultiHeadAttention::new: a 3298534883328 × 1099511627776 matrix")]
fn attention_whose_projection_is_too_large() {
    let _ = MultiHeadAttention::<f32>::new(1 << 40, 2, &mut rng());
}

#[test]
#[should_panic(expected = "MultiHeadAttention::new: a 13835058055282163712 × 4611686018427387904")]
fn transformer_layer_whose_attention_is_too_large() {
    let _ = TransformerEncoderLayer::<f64>::new(1 << 62, 1, 1, &mut rng());
}

#[test]
fn group_norm_of_more_channels_than_memory_holds_is_an_error() {
    let err = GroupNorm::<f64>::new((usize::MAX, 1, 1), 1).unwrap_err();
    assert!(matches!(
        err,
        NnError::InvalidConfig {
            name: "GroupNorm",
            ..
        }
    ));
    assert!(
        err.to_string()
            .contains("channels of 1 × 1 pixels are more features than an allocation holds"),
        "{err}"
    );
    // The first count over the bound (2⁶⁰ channels of 8 bytes: 2⁶³ bytes > isize::MAX).
    assert!(GroupNorm::<f64>::new((1 << 60, 1, 1), 1).is_err());
}

/// Whether `result` is the `InvalidConfig` of `name` whose reason says an allocation cannot
/// hold the sizes.
fn refused_as_too_large<L>(result: Result<L, NnError>, name: &str) -> bool {
    match result {
        Err(NnError::InvalidConfig { name: n, reason }) => {
            n == name && reason.contains("than an allocation holds")
        }
        _ => false,
    }
}

// Sizes per image that fit `usize` but not an allocation (above isize::MAX bytes at 16 bytes per
// entry) used to pass the constructors and then panic with "capacity overflow" in `predict`.

#[test]
fn conv2d_whose_padded_images_are_too_large_is_an_error() {
    // (4·10⁹ + 2)² positions of one tap: 1.6·10¹⁹ entries, which usize counts.
    let window = Window2d::new((1, 1)).padding((2_000_000_000, 2_000_000_000));
    let conv = Conv2d::<f32>::new((1, 2, 2), 1, window, Activation::Identity, &mut rng());
    assert!(refused_as_too_large(conv, "Conv2d"));
}

#[test]
fn conv2d_whose_outputs_are_too_large_is_an_error() {
    // 4·10¹⁷ + 2 positions of one tap fit a gather (6.4·10¹⁸ bytes); two output channels of
    // them do not.
    let window = Window2d::new((1, 1)).padding((0, 200_000_000_000_000_000));
    let weight = DMatrix::<f32>::zeros(2, 1);
    let conv = Conv2d::from_parts((1, 1, 2), window, weight, None, Activation::Identity);
    assert!(refused_as_too_large(conv, "Conv2d"));
}

#[test]
fn max_pool_whose_windows_are_too_large_is_an_error() {
    let window = Window2d::new((2_000_000_000, 2_000_000_000))
        .padding((1_000_000_000, 1_000_000_000))
        .stride((1, 1));
    assert!(refused_as_too_large(
        MaxPool2d::new((1, 1, 1), window),
        "MaxPool2d"
    ));
}

#[test]
fn upsample_to_images_too_large_is_an_error() {
    let up = Upsample::new(
        (1, 1, 1),
        (2_000_000_000, 2_000_000_000),
        UpsampleMode::Nearest,
    );
    assert!(refused_as_too_large(up, "Upsample"));
}

#[test]
fn transposed_convolution_to_images_too_large_is_an_error() {
    let window = Window2d::new((1, 1)).stride((2_000_000_000, 2_000_000_000));
    let conv = ConvTranspose2d::<f32>::new(
        (1, 2, 2),
        1,
        window,
        (0, 0),
        Activation::Identity,
        &mut rng(),
    );
    assert!(refused_as_too_large(conv, "ConvTranspose2d"));
}

/// The sequence layers' sizes follow from the data: `predict` refuses them.
fn refuses_as_too_large(model: Chain<f32>, features: usize) {
    let err = model.predict(&DMatrix::zeros(features, 1)).unwrap_err();
    assert!(
        matches!(err, NnError::InvalidData { .. })
            && err.to_string().contains("than an allocation holds"),
        "{err}"
    );
}

#[test]
fn conv1d_whose_padded_sequence_is_too_large_is_refused_by_predict() {
    let conv = Conv1d::<f32>::new(1, 1, 1, Activation::Identity, &mut rng())
        .unwrap()
        .padding(1 << 60);
    refuses_as_too_large(Chain::new().push(conv), 4);
}

#[test]
fn conv1d_whose_outputs_are_too_large_is_refused_by_predict() {
    // 4·10¹⁷ + 4 windows of one tap fit a gather; two output channels of them do not.
    let weight = DMatrix::<f32>::zeros(2, 1);
    let conv = Conv1d::from_parts(1, 1, weight, None, Activation::Identity)
        .unwrap()
        .padding(200_000_000_000_000_000);
    refuses_as_too_large(Chain::new().push(conv), 4);
}

#[test]
fn max_pool1d_whose_windows_are_too_large_is_refused_by_predict() {
    let pool = MaxPool1d::new(1, 1 << 60)
        .unwrap()
        .padding(1 << 59)
        .stride(1);
    refuses_as_too_large(Chain::new().push(pool), 1);
}

/// Empty weights with a huge other side (0 × usize::MAX) are built at once: nalgebra's
/// `from_fn` visited the usize::MAX empty columns one by one, forever in a debug build.
#[test]
fn empty_weights_with_a_huge_fan_are_built_at_once() {
    let dense = Dense::<f32>::new(usize::MAX, 0, Activation::Identity, &mut rng());
    assert_eq!(dense.weight.shape(), (0, usize::MAX));
    let embedding = Embedding::<f32>::new(usize::MAX, 0, &mut rng());
    assert_eq!(embedding.weight.shape(), (0, usize::MAX));
}
