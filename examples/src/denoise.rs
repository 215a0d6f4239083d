//! Denoising handwritten digits with two small convolutional autoencoders, one decoding by a
//! transposed convolution and one by upsampling then convolving, against the noisy input
//! itself and the mean training image.
//!
//! Data: the bundled 8 × 8 digits of [`crate::digits`] (pixels in [0, 1], one image per
//! column), split 75/25 stratified by digit. Each image gets Gaussian noise of standard
//! deviation σ, drawn once per image with the run's seed; the networks learn to map the noisy
//! images back to the clean ones under the mean squared error.

use crate::Error;
use adroit_nn::data::train_test_split;
use adroit_nn::losses::{Agg, mse};
use adroit_nn::{
    Activation, Chain, Conv2d, ConvTranspose2d, Layer, Upsample, UpsampleMode, Window2d,
};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal};

/// Test mean squared errors per pixel against the clean images.
#[derive(Clone, Debug)]
pub struct Report {
    /// The noisy images themselves (about σ² where no pixel is clipped: the noise is not).
    pub noisy_mse: f64,
    /// The mean clean training image, whatever the input.
    pub mean_image_mse: f64,
    /// Encoder (3 × 3 convolution to 16 channels at stride 2, ReLU: 16 × 4 × 4) then a 3 × 3
    /// transposed convolution at stride 2 back to 1 × 8 × 8 (305 parameters).
    pub transposed_mse: f64,
    /// The same encoder, then nearest-neighbour upsampling by 2 and a 3 × 3 convolution to
    /// one channel (305 parameters).
    pub upsample_mse: f64,
    /// Test images.
    pub test_images: usize,
}

/// `x` plus Gaussian noise of standard deviation `sigma` on every pixel.
fn noisy(x: &DMatrix<f32>, sigma: f32, rng: &mut StdRng) -> Result<DMatrix<f32>, Error> {
    if !(sigma.is_finite() && sigma >= 0.0) {
        return Err(format!(
            "the noise's standard deviation must be finite and at least 0, not {sigma}"
        )
        .into());
    }
    let normal = Normal::new(0.0, sigma).map_err(|e| format!("noise σ = {sigma}: {e}"))?;
    Ok(x.map(|v| v + normal.sample(rng)))
}

/// Mean squared error per pixel between two matrices of the same shape.
fn mse_of(a: &DMatrix<f32>, b: &DMatrix<f32>) -> f64 {
    let sum: f64 = a.iter().zip(b).map(|(p, q)| f64::from(p - q).powi(2)).sum();
    sum / a.len().max(1) as f64
}

/// Trains both autoencoders for `epochs` epochs (Adam at `learning_rate`, batches of 32) on
/// images with noise of standard deviation `sigma`, and compares their test errors.
///
/// # Errors
/// If `sigma` is negative or not finite, or the data, the layers or training fail.
pub fn run(epochs: usize, learning_rate: f64, sigma: f32, seed: u64) -> Result<Report, Error> {
    let (x, digits) = crate::digits::load()?;
    let split = train_test_split(&x, &x, 0.25, seed, Some(&digits))?;
    let mut rng = StdRng::seed_from_u64(seed);
    let (clean_train, clean_test) = (split.y_train, split.y_test);
    let noisy_train = noisy(&split.x_train, sigma, &mut rng)?;
    let noisy_test = noisy(&split.x_test, sigma, &mut rng)?;

    let down = Window2d::new((3, 3)).stride((2, 2)).padding((1, 1));
    let first = Conv2d::new((1, 8, 8), 16, down, Activation::Relu, &mut rng)?;
    let code = first.output_shape(); // (16, 4, 4)
    // (4 − 1)·2 − 2 + 3 = 7 pixels; an output padding of 1 gives back 8.
    let decoder = ConvTranspose2d::new(code, 1, down, (1, 1), Activation::Identity, &mut rng)?;
    let transposed = Chain::new().push(first).push(decoder);
    let second = Conv2d::new((1, 8, 8), 16, down, Activation::Relu, &mut rng)?;
    let up = Upsample::new(code, (2, 2), UpsampleMode::Nearest)?;
    let same = Window2d::new((3, 3)).padding((1, 1));
    let smooth = Conv2d::new(up.output_shape(), 1, same, Activation::Identity, &mut rng)?;
    let upsampled = Chain::new().push(second).push(up).push(smooth);

    let test_mse = |mut model: Chain<f32>| -> Result<f64, Error> {
        let loss = |p, t: &DMatrix<f32>| mse(p, t, Agg::Mean);
        let data = (&noisy_train, &clean_train);
        crate::fit_adam(&mut model, data, loss, epochs, learning_rate, seed)?;
        Ok(mse_of(&model.predict(&noisy_test)?, &clean_test))
    };
    let mean_image = clean_train.column_mean();
    let mean_images = DMatrix::from_fn(64, clean_test.ncols(), |r, _| mean_image[r]);
    Ok(Report {
        noisy_mse: mse_of(&noisy_test, &clean_test),
        mean_image_mse: mse_of(&mean_images, &clean_test),
        transposed_mse: test_mse(transposed)?,
        upsample_mse: test_mse(upsampled)?,
        test_images: clean_test.ncols(),
    })
}
