//! A chain's check that consecutive image layers agree on the images' `(channels, height,
//! width)`, not only on their number of features; and the input error naming the images.

use adroit_nn::nalgebra::DMatrix;
use adroit_nn::rand::{SeedableRng, rngs::StdRng};
use adroit_nn::{
    Activation, AvgPool2d, Chain, Checkpoint, Connection, Conv2d, ConvTranspose2d, Dense, Dropout,
    GroupNorm, Layer, MaxPool2d, NnError, Parallel, SkipConnection, Upsample, UpsampleMode,
    Window2d,
};

fn conv(input: (usize, usize, usize), out: usize) -> Conv2d<f64> {
    let window = Window2d::new((3, 3)).padding((1, 1));
    Conv2d::new(
        input,
        out,
        window,
        Activation::Relu,
        &mut StdRng::seed_from_u64(1),
    )
    .unwrap()
}

fn pool(input: (usize, usize, usize)) -> MaxPool2d {
    MaxPool2d::new(input, Window2d::pool((2, 2))).unwrap()
}

/// The chain's `check_params` reason, which must be an `InvalidConfig`.
fn refusal(model: &Chain<f64>) -> String {
    match model.check_params() {
        Err(NnError::InvalidConfig { reason, .. }) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn image_layers_state_their_shapes() {
    let c = conv((2, 6, 6), 4);
    assert_eq!(
        (c.input_image_shape(), c.output_image_shape()),
        (Some((2, 6, 6)), Some((4, 6, 6)))
    );
    let t = ConvTranspose2d::<f64>::new(
        (4, 3, 3),
        2,
        Window2d::new((2, 2)).stride((2, 2)),
        (0, 0),
        Activation::Identity,
        &mut StdRng::seed_from_u64(2),
    )
    .unwrap();
    assert_eq!(
        (t.input_image_shape(), t.output_image_shape()),
        (Some((4, 3, 3)), Some((2, 6, 6)))
    );
    let p = pool((4, 6, 6));
    assert_eq!(Layer::<f64>::output_image_shape(&p), Some((4, 3, 3)));
    assert_eq!(p.input_shape(), (4, 6, 6));
    let up = Upsample::new((4, 3, 3), (2, 3), UpsampleMode::Nearest).unwrap();
    assert_eq!((up.input_shape(), up.scale()), ((4, 3, 3), (2, 3)));
    assert_eq!(Layer::<f64>::output_image_shape(&up), Some((4, 6, 9)));
    // GroupNorm preserves its input; a chain carries the shape through it.
    let gn = GroupNorm::<f64>::new((4, 6, 6), 2).unwrap();
    assert_eq!(
        (gn.input_image_shape(), gn.output_image_shape()),
        (Some((4, 6, 6)), None)
    );
    // Layers that do not see images say nothing.
    let dense = Dense::from_parts(DMatrix::<f64>::zeros(3, 8), None, Activation::Relu).unwrap();
    assert_eq!(
        (dense.input_image_shape(), dense.output_image_shape()),
        (None, None)
    );
}

#[test]
fn a_chain_refuses_images_of_another_shape_with_as_many_features() {
    // 16 × 7 × 7 = 1 × 28 × 28 = 784 features.
    let model = Chain::new()
        .push(pool((16, 14, 14)))
        .push(conv((1, 28, 28), 2));
    let reason = refusal(&model);
    assert!(
        reason.contains("layer 1") && reason.contains("1 × 28 × 28"),
        "{reason}"
    );
    assert!(reason.contains("16 × 7 × 7"), "{reason}");
    // predict reports it too, before any forward pass.
    assert!(model.predict(&DMatrix::zeros(16 * 14 * 14, 1)).is_err());
    // The same chain with matching images is accepted and runs.
    let model = Chain::new()
        .push(pool((16, 14, 14)))
        .push(conv((16, 7, 7), 2));
    assert!(model.check_params().is_ok());
    assert_eq!(
        model
            .predict(&DMatrix::zeros(16 * 14 * 14, 3))
            .unwrap()
            .shape(),
        (98, 3)
    );
}

#[test]
fn the_shape_is_carried_through_layers_that_preserve_the_size() {
    // conv gives 4 × 6 × 6; GroupNorm and dropout keep it; the pool after them takes 2 × 12 × 6.
    let wrong = Chain::new()
        .push(conv((1, 6, 6), 4))
        .push(Dropout::new(0.1).unwrap())
        .push(GroupNorm::new((4, 6, 6), 2).unwrap())
        .push(Activation::Tanh)
        .push(pool((2, 12, 6)));
    let reason = refusal(&wrong);
    assert!(
        reason.contains("layer 4") && reason.contains("2 × 12 × 6"),
        "{reason}"
    );
    assert!(reason.contains("4 × 6 × 6"), "{reason}");
    // A GroupNorm over the wrong shape right after the conv.
    let wrong = Chain::new()
        .push(conv((1, 6, 6), 4))
        .push(GroupNorm::new((2, 12, 6), 2).unwrap());
    assert!(refusal(&wrong).contains("layer 1"));
    let right = Chain::new()
        .push(conv((1, 6, 6), 4))
        .push(Dropout::new(0.1).unwrap())
        .push(GroupNorm::new((4, 6, 6), 2).unwrap())
        .push(pool((4, 6, 6)));
    assert!(right.check_params().is_ok());
    assert_eq!(right.output_image_shape(), Some((4, 3, 3)));
    assert_eq!(right.input_image_shape(), Some((1, 6, 6)));
}

#[test]
fn a_dense_layer_ends_the_images() {
    // After a Dense layer the features are no longer the conv's pixels: any layout may follow.
    let dense = Dense::from_parts(DMatrix::<f64>::zeros(36, 144), None, Activation::Relu).unwrap();
    let model = Chain::new()
        .push(conv((1, 6, 6), 4))
        .push(dense)
        .push(conv((4, 3, 3), 1));
    assert!(model.check_params().is_ok());
    assert_eq!(model.output_image_shape(), Some((1, 3, 3)));
    let dense = Dense::from_parts(DMatrix::<f64>::zeros(36, 36), None, Activation::Relu).unwrap();
    let model = Chain::new().push(dense).push(conv((4, 3, 3), 1));
    assert_eq!(model.input_image_shape(), None);
}

#[test]
fn nested_chains_and_checkpoints_pass_the_shapes_on() {
    let encoder = Chain::new().push(conv((1, 8, 8), 4)).push(pool((4, 8, 8)));
    assert_eq!(encoder.output_image_shape(), Some((4, 4, 4)));
    let decoder = Chain::new().push(Checkpoint::new(conv((8, 2, 8), 1)));
    assert_eq!(decoder.input_image_shape(), Some((8, 2, 8)));
    // A decoder taking the encoder's 64 features as 16 × 2 × 2 images.
    let decoder = Chain::new().push(Checkpoint::new(conv((16, 2, 2), 1)));
    let model = Chain::new().push(encoder.clone()).push(decoder);
    let reason = refusal(&model);
    assert!(
        reason.contains("16 × 2 × 2") && reason.contains("4 × 4 × 4"),
        "{reason}"
    );
    let decoder = Chain::new().push(Checkpoint::new(conv((4, 4, 4), 1)));
    let model = Chain::new().push(encoder).push(decoder);
    assert!(model.check_params().is_ok());
    assert_eq!(model.output_image_shape(), Some((1, 4, 4)));
}

#[test]
fn a_wrong_input_names_the_images() {
    let model = Chain::new().push(conv((3, 4, 5), 2));
    match model.predict(&DMatrix::zeros(59, 2)) {
        Err(NnError::ShapeMismatch {
            what,
            expected,
            found,
        }) => {
            assert_eq!((expected, found), ((60, 2), (59, 2)));
            assert!(what.contains("images of 3 × 4 × 5"), "{what}");
        }
        other => panic!("expected a shape mismatch, got {other:?}"),
    }
    // A model without images keeps the plain wording.
    let dense = Dense::from_parts(DMatrix::<f64>::zeros(2, 3), None, Activation::Relu).unwrap();
    match dense.predict(&DMatrix::zeros(4, 1)) {
        Err(NnError::ShapeMismatch { what, .. }) => assert!(!what.contains("images"), "{what}"),
        other => panic!("expected a shape mismatch, got {other:?}"),
    }
    let avg = AvgPool2d::new((1, 4, 4), Window2d::pool((2, 2))).unwrap();
    assert!(Layer::<f64>::predict(&avg, &DMatrix::zeros(15, 1)).is_err());
}

#[test]
fn skip_connections_pass_images_on_and_check_them() {
    // An image layer inside a residual block is checked against the images reaching it.
    let same = |c| conv((c, 8, 8), c);
    let block = |layer: Conv2d<f64>| SkipConnection::new(layer, Connection::Add);
    let wrong = Chain::new()
        .push(conv((1, 8, 8), 4))
        .push(block(conv((16, 4, 4), 16)));
    let reason = refusal(&wrong);
    assert!(
        reason.contains("16 × 4 × 4") && reason.contains("4 × 8 × 8"),
        "{reason}"
    );
    let right = Chain::new().push(conv((1, 8, 8), 4)).push(block(same(4)));
    assert!(right.check_params().is_ok());
    assert_eq!(right.output_image_shape(), Some((4, 8, 8)));
    // The images after the block are carried on.
    let wrong = right.clone().push(pool((16, 4, 4)));
    assert!(refusal(&wrong).contains("layer 2"));
    // Adding needs the same images, not only as many features.
    let reshaping = Chain::new()
        .push(conv((4, 8, 8), 4))
        .push(pool((4, 8, 8)))
        .push(Dense::from_parts(DMatrix::zeros(256, 64), None, Activation::Identity).unwrap());
    assert!(Layer::<f64>::check_params(&block_of(reshaping)).is_ok()); // a Dense: no images out
    let through_pool = Chain::new()
        .push(conv((4, 8, 8), 16))
        .push(pool((16, 8, 8)));
    match Layer::<f64>::check_params(&block_of(through_pool)) {
        Err(NnError::InvalidConfig { reason, .. }) => {
            assert!(
                reason.contains("4 × 8 × 8") && reason.contains("16 × 4 × 4"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    // Concatenating stacks the channels of images of one height and width.
    let dense_block = SkipConnection::new(same(4), Connection::Concat);
    assert_eq!(
        Layer::<f64>::output_image_shape(&dense_block),
        Some((8, 8, 8))
    );
    let model = Chain::new().push(dense_block).push(conv((8, 8, 8), 2));
    assert!(model.check_params().is_ok());
    assert_eq!(
        model.predict(&DMatrix::zeros(4 * 64, 1)).unwrap().shape(),
        (2 * 64, 1)
    );
    // A size-preserving layer outputs the images it takes.
    let normed = SkipConnection::new(
        GroupNorm::<f64>::new((4, 8, 8), 2).unwrap(),
        Connection::Concat,
    );
    assert_eq!(Layer::<f64>::output_image_shape(&normed), Some((8, 8, 8)));
}

/// `layer` in a residual block.
fn block_of(layer: Chain<f64>) -> SkipConnection<f64> {
    SkipConnection::new(layer, Connection::Add)
}

#[test]
fn parallel_branches_over_images_agree_and_stack_their_channels() {
    let mut rng = StdRng::seed_from_u64(3);
    let wide = Window2d::new((5, 5)).padding((2, 2));
    let five = Conv2d::<f64>::new((4, 8, 8), 3, wide, Activation::Relu, &mut rng).unwrap();
    // An inception-style block: 2 + 3 channels of 8 × 8, stacked.
    let block = Parallel::new(Connection::Concat)
        .push(conv((4, 8, 8), 2))
        .push(five.clone());
    assert_eq!(block.input_image_shape(), Some((4, 8, 8)));
    assert_eq!(block.output_image_shape(), Some((5, 8, 8)));
    let model = Chain::new().push(block).push(conv((5, 8, 8), 1));
    assert!(model.check_params().is_ok());
    assert_eq!(
        model.predict(&DMatrix::zeros(256, 2)).unwrap().shape(),
        (64, 2)
    );
    let block = Parallel::new(Connection::Concat)
        .push(conv((4, 8, 8), 2))
        .push(five);
    let wrong = Chain::new().push(block).push(conv((10, 4, 8), 1)); // 320 features too
    assert!(refusal(&wrong).contains("10 × 4 × 8"));
    // Whole-input branches must take the same images.
    let split = Parallel::new(Connection::Concat)
        .push(conv((4, 8, 8), 2))
        .push(conv((16, 4, 4), 2));
    match Layer::<f64>::check_params(&split) {
        Err(NnError::InvalidConfig { reason, .. }) => {
            assert!(
                reason.contains("branch 1") && reason.contains("16 × 4 × 4"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    // A branch on a range of rows, or a dense branch: no images out.
    let mixed = Parallel::new(Connection::Concat)
        .push(conv((4, 8, 8), 2))
        .push(Dense::from_parts(DMatrix::zeros(3, 256), None, Activation::Relu).unwrap());
    assert_eq!(mixed.output_image_shape(), None);
    // Adding needs the same images out, not only as many features: 4 × 8 × 8 and, pooled,
    // 16 × 4 × 4 are 256 each.
    let pooled = Chain::new()
        .push(conv((4, 8, 8), 16))
        .push(pool((16, 8, 8)));
    let unequal = Parallel::new(Connection::Add)
        .push(conv((4, 8, 8), 4))
        .push(pooled);
    match Layer::<f64>::check_params(&unequal) {
        Err(NnError::InvalidConfig { reason, .. }) => assert!(
            reason.contains("16 × 4 × 4") && reason.contains("4 × 8 × 8"),
            "{reason}"
        ),
        other => panic!("{other:?}"),
    }
    let residual = Parallel::new(Connection::Add)
        .push(conv((4, 8, 8), 4))
        .push(GroupNorm::new((4, 8, 8), 2).unwrap());
    assert!(Layer::<f64>::check_params(&residual).is_ok());
    assert_eq!(residual.output_image_shape(), Some((4, 8, 8)));
}
