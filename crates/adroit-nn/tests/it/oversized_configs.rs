//! Sizes too large to allocate: a constructor that returns `Self` panics with a message naming
//! itself (documented under its `# Panics`), one that returns a `Result` says so in its docs
//! (`# Panics` for a weight, as `Dense::new` and `Conv2d::new`) or returns the error it
//! documents — never an arithmetic overflow or a bare "capacity overflow" from deep inside.

use adroit_nn::rand::{SeedableRng, rngs::StdRng};
use adroit_nn::{
    BatchNorm, GroupNorm, LayerNorm, MultiHeadAttention, NnError, TransformerEncoderLayer,
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
            .contains("channels: their scale and bias are more bytes than an allocation"),
        "{err}"
    );
    // The first count over the bound (2⁶⁰ channels of 8 bytes: 2⁶³ bytes > isize::MAX).
    assert!(GroupNorm::<f64>::new((1 << 60, 1, 1), 1).is_err());
}
