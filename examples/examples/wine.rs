//! Regression of red-wine quality with an MLP, compared with Cortez et al. (2009).
//!
//! Run: `cargo run --release --example wine -- --help`.

use clap::Parser;

/// Predict red-wine quality from physicochemical measurements.
#[derive(Parser)]
struct Args {
    /// Passes over the training set.
    #[arg(long, default_value_t = 100)]
    epochs: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 0.003)]
    lr: f64,
    /// Seed of the split, the weights and the shuffling.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

fn main() -> Result<(), adroit_examples::Error> {
    let args = Args::parse();
    let r = adroit_examples::wine::run(args.epochs, args.lr, args.seed, true)?;
    println!("{} training and {} test wines", r.sizes.0, r.sizes.1);
    println!(
        "test MAE {:.3} (predicting the mean: {:.3}; Cortez et al. 2009: ≈0.50 multiple regression, 0.46 SVM)",
        r.test_mae, r.baseline_mae
    );
    Ok(())
}
