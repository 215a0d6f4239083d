//! Handwritten digits with a small convolutional network: `Conv2d` → `MaxPool2d` → `Dense`
//! against a dense network of about as many parameters, on the same split.
//!
//! Data: the 1,797 8 × 8 images of the UCI "Optical Recognition of Handwritten Digits" test
//! set (bundled, `examples/data/digits.csv.gz`; CC BY 4.0, see `examples/data/README.md`),
//! pixels 0–16 scaled to [0, 1], one image per column (64 rows, row by row: the layers'
//! `(channels·height·width) × batch` layout with one channel). A stratified split keeps 25 %
//! of each digit for the test.

use crate::Error;
use adroit_nn::data::{accuracy, onecold, onehot, train_test_split};
use adroit_nn::losses::{Agg, logitcrossentropy};
use adroit_nn::{Activation, Chain, Conv2d, Dense, Layer, MaxPool2d, Window2d};
use flate2::read::GzDecoder;
use nalgebra::DMatrix;
use rand::SeedableRng;

/// The bundled data, gzip-compressed CSV.
const DIGITS: &[u8] = include_bytes!("../data/digits.csv.gz");

/// Pixels per image.
const PIXELS: usize = 64;

/// Test accuracies (fractions of the test images classified right).
#[derive(Clone, Debug)]
pub struct Report {
    /// The convolutional network (3 × 3 convolution to 16 channels, padding 1, ReLU; 2 × 2
    /// max pool; dense 256 → 10; 2,730 parameters).
    pub cnn_accuracy: f64,
    /// The dense network (64 → 40 ReLU → 10; 3,010 parameters).
    pub dense_accuracy: f64,
    /// Training images.
    pub train_images: usize,
    /// Test images.
    pub test_images: usize,
}

/// The images (`64 × n`, scaled to [0, 1]) and their digits.
///
/// # Errors
/// If the bundled file cannot be decompressed or a line is not 64 pixels 0–16 and a digit
/// 0–9 (naming the line).
pub fn load() -> Result<(DMatrix<f32>, Vec<usize>), Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(GzDecoder::new(DIGITS));
    let (mut pixels, mut digits) = (Vec::new(), Vec::new());
    for (line, record) in reader.records().enumerate() {
        let record = record?;
        let bad = |why: &str| format!("digits.csv line {}: {why}", line + 1);
        if record.len() != PIXELS + 1 {
            return Err(bad(&format!("{} fields, not {}", record.len(), PIXELS + 1)).into());
        }
        for field in record.iter().take(PIXELS) {
            let v: u8 = field
                .parse()
                .map_err(|_| bad(&format!("pixel {field:?}")))?;
            if v > 16 {
                return Err(bad(&format!("pixel {v} beyond 16")).into());
            }
            pixels.push(f32::from(v) / 16.0);
        }
        let digit: usize = record[PIXELS]
            .parse()
            .map_err(|_| bad(&format!("digit {:?}", &record[PIXELS])))?;
        if digit > 9 {
            return Err(bad(&format!("digit {digit}")).into());
        }
        digits.push(digit);
    }
    Ok((DMatrix::from_vec(PIXELS, digits.len(), pixels), digits))
}

/// Trains `model` for `epochs` epochs (Adam, batches of 32, shuffled) on softmax cross-entropy
/// and returns its test accuracy.
fn fit(
    mut model: Chain<f32>,
    data: (&DMatrix<f32>, &DMatrix<f32>, &DMatrix<f32>, &DMatrix<f32>),
    epochs: usize,
    learning_rate: f64,
    seed: u64,
) -> Result<f64, Error> {
    let (x_train, y_train, x_test, y_test) = data;
    let loss = |p, t: &DMatrix<f32>| logitcrossentropy(p, t, Agg::Mean);
    crate::fit_adam(
        &mut model,
        (x_train, y_train),
        loss,
        epochs,
        learning_rate,
        seed,
    )?;
    let predicted = onecold(&model.predict(x_test)?);
    Ok(accuracy(&predicted, &onecold(y_test))?)
}

/// Trains both networks for `epochs` epochs with Adam's learning rate `learning_rate` and
/// compares their test accuracies.
///
/// # Errors
/// If the data or training fail.
pub fn run(epochs: usize, learning_rate: f64, seed: u64) -> Result<Report, Error> {
    let (x, digits) = load()?;
    let y: DMatrix<f32> = onehot(&digits, 10)?;
    let split = train_test_split(&x, &y, 0.25, seed, Some(&digits))?;
    let data = (&split.x_train, &split.y_train, &split.x_test, &split.y_test);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let window = Window2d::new((3, 3)).padding((1, 1));
    let conv = Conv2d::new((1, 8, 8), 16, window, Activation::Relu, &mut rng)?;
    let pool = MaxPool2d::new(conv.output_shape(), Window2d::pool((2, 2)))?;
    let (channels, height, width) = pool.output_shape();
    let cnn = Chain::new().push(conv).push(pool).push(Dense::new(
        channels * height * width,
        10,
        Activation::Identity,
        &mut rng,
    ));
    let dense = Chain::new()
        .push(Dense::new(PIXELS, 40, Activation::Relu, &mut rng))
        .push(Dense::new(40, 10, Activation::Identity, &mut rng));
    Ok(Report {
        cnn_accuracy: fit(cnn, data, epochs, learning_rate, seed)?,
        dense_accuracy: fit(dense, data, epochs, learning_rate, seed)?,
        train_images: split.x_train.ncols(),
        test_images: split.x_test.ncols(),
    })
}
