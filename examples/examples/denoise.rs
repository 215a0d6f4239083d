//! Denoising handwritten digits with convolutional autoencoders.
//!
//! Run: `cargo run --release --example denoise -- --help`.

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

/// Remove Gaussian noise from the 8 × 8 UCI handwritten digits (bundled) with two small
/// convolutional autoencoders: a transposed-convolution decoder and an upsampling one.
#[derive(Parser)]
struct Args {
    /// Passes over the training images, for each model (at least 1).
    #[arg(long, value_parser = adroit_examples::epochs, allow_negative_numbers = true, default_value_t = 60)]
    epochs: usize,
    /// Adam's learning rate (a finite number > 0).
    #[arg(long, value_parser = adroit_examples::learning_rate, allow_negative_numbers = true, default_value_t = 0.01)]
    lr: f64,
    /// Standard deviation of the noise added to each pixel (pixels lie in [0, 1]; at least 0).
    #[arg(long, value_parser = adroit_examples::std_dev, allow_negative_numbers = true, default_value_t = 0.3)]
    sigma: f32,
    /// Seed of the split, the noise, the weights and the shuffling.
    #[arg(long, value_parser = adroit_examples::seed, allow_negative_numbers = true, default_value_t = 1)]
    seed: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = adroit_examples::denoise::run(args.epochs, args.lr, args.sigma, args.seed)
        .and_then(|r| {
            let mut out = std::io::stdout().lock();
            writeln!(out, "test MSE per pixel on {} images:", r.test_images)?;
            writeln!(
                out,
                "  noisy input                          {:.4}",
                r.noisy_mse
            )?;
            writeln!(
                out,
                "  mean training image                  {:.4}",
                r.mean_image_mse
            )?;
            writeln!(
                out,
                "  conv → transposed conv               {:.4}",
                r.transposed_mse
            )?;
            writeln!(
                out,
                "  conv → upsample → conv               {:.4}",
                r.upsample_mse
            )?;
            Ok(())
        });
    adroit_examples::exit_code(result)
}
