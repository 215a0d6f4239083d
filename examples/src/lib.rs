//! The examples of adroit, as library functions (so the test suite runs them in a fast mode
//! and checks their outputs) with thin command-line front ends in `examples/`.
//!
//! - [`iris`]: the main job — an MLP on the Iris dataset, with a progress bar, per-epoch
//!   metrics, training curves, and a weight file reloaded into a fresh model.
//! - [`wine`]: regression of red-wine quality, compared with a published baseline.
//! - [`censored_gamma`]: maximum likelihood for right-censored gamma lifetimes, the incomplete
//!   gamma function differentiated in its shape.
//! - [`classic`]: the gradients of a `Dense` 3 → 2 layer, explicit, implicit and by finite
//!   differences.
//! - [`gaussian_process`]: a Gaussian process's kernel hyperparameters by Newton's method on
//!   the log marginal likelihood, through the matrix tape's Cholesky factor.
//! - [`laplace`]: a Laplace approximation for a small network — its loss's exact Hessian over
//!   all parameters and the predictive uncertainty it gives.
//! - [`lengths`]: sequences of different lengths in one batch, a `Gru` with and without
//!   `masking`.
//! - [`logistic_newton`]: logistic regression by Newton's method with Hessians of matrix code
//!   (and by Newton-CG with Hessian-vector products), with standard errors.
//! - [`positions`]: why a transformer needs positions — a `TransformerEncoderLayer` repeating
//!   each sequence's first value, with and without a `PositionalEncoding`.
//! - [`quickstart`]: f(x) = 3x² + 2x + 1 has f'(5) = 32, forward and reverse.
//! - [`resume`]: a training run checkpointed and resumed in a new process, bit for bit.
//! - [`sequence`]: time-series forecasting with an `Lstm`, a `Gru` and an `Rnn` against a
//!   dense network on the same window and the persistence forecast.
//! - [`tabular`]: a category id embedded beside standardised measurements, residual blocks
//!   with batch normalisation, early stopping, a weight file with running statistics.

pub mod censored_gamma;
pub mod classic;
pub mod denoise;
pub mod digits;
pub mod gaussian_process;
pub mod iris;
pub mod laplace;
pub mod lengths;
pub mod logistic_newton;
pub mod plot;
pub mod positions;
pub mod quickstart;
pub mod resume;
pub mod sequence;
pub mod tabular;
pub mod wine;

/// The error type of the examples.
pub type Error = Box<dyn std::error::Error>;

/// Trains `model` on the columns of `x` and `y` for `epochs` epochs with Adam at
/// `learning_rate`, in shuffled batches of 32 (seed `seed`), without a progress bar or log.
///
/// # Errors
/// If the batch size does not suit the data or training fails (a non-finite loss or
/// gradient).
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::DMatrix;
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::{Activation, Chain, Dense, Layer};
/// let mut model = Chain::new().push(Dense::new(1, 1, Activation::Identity, &mut StdRng::seed_from_u64(0)));
/// let x = DMatrix::from_fn(1, 64, |_, j| j as f32 / 64.0);
/// let y = x.map(|v| 2.0 * v);
/// let loss = |p, t: &DMatrix<f32>| mse(p, t, Agg::Mean);
/// adroit_examples::fit_adam(&mut model, (&x, &y), loss, 200, 0.05, 1).unwrap();
/// assert!((model.predict(&x).unwrap() - &y).amax() < 0.05);
/// ```
pub fn fit_adam(
    model: &mut adroit_nn::Chain<f32>,
    (x, y): (&nalgebra::DMatrix<f32>, &nalgebra::DMatrix<f32>),
    loss: impl Fn(
        adroit_nn::MatVar<f32>,
        &nalgebra::DMatrix<f32>,
    ) -> Result<adroit_nn::MatVar<f32>, adroit_nn::NnError>,
    epochs: usize,
    learning_rate: f64,
    seed: u64,
) -> Result<(), Error> {
    let mut loader = adroit_nn::data::DataLoader::new(x.clone(), y.clone(), 32)?.shuffle(seed);
    let config = adroit_nn::TrainConfig {
        epochs,
        progress: false,
        log: false,
        seed,
    };
    let mut opt = adroit_nn::optim::Adam::new(learning_rate);
    adroit_nn::train(model, &mut loader, loss, &mut opt, &config, &mut []).map_err(|e| e.error)?;
    Ok(())
}

/// Command-line parser of a learning rate: a finite number greater than 0.
///
/// # Errors
/// A message naming the problem, for clap to report with the flag.
///
/// # Example
/// ```
/// assert_eq!(adroit_examples::learning_rate("0.01"), Ok(0.01));
/// assert!(adroit_examples::learning_rate("-0.01").is_err());
/// assert!(adroit_examples::learning_rate("inf").is_err());
/// ```
pub fn learning_rate(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(format!("must be a finite number greater than 0, not {s}"))
    }
}

/// Command-line parser of a standard deviation: a finite number of at least 0.
///
/// # Errors
/// A message naming the problem, for clap to report with the flag.
///
/// # Example
/// ```
/// assert_eq!(adroit_examples::std_dev("0.3"), Ok(0.3));
/// assert_eq!(adroit_examples::std_dev("0"), Ok(0.0));
/// assert!(adroit_examples::std_dev("-1").is_err());
/// assert!(adroit_examples::std_dev("NaN").is_err());
/// // Beyond f32's range (the noise is f32): said so, not "not finite".
/// assert!(adroit_examples::std_dev("1e40").unwrap_err().contains("f32's range"));
/// ```
pub fn std_dev(s: &str) -> Result<f32, String> {
    let v: f32 = s.parse().map_err(|e| format!("{e}"))?;
    let wide: f64 = s.parse().unwrap_or(f64::NAN);
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else if wide.is_finite() && wide > 0.0 {
        Err(format!(
            "{s} is beyond f32's range (at most {:e})",
            f32::MAX
        ))
    } else {
        Err(format!("must be a finite number of at least 0, not {s}"))
    }
}

/// Command-line parser of a random seed: a whole number from 0 to 2⁶⁴ − 1.
///
/// # Errors
/// A message naming the problem, for clap to report with the flag (a negative seed included,
/// which clap would otherwise take for an unknown flag).
///
/// # Example
/// ```
/// assert_eq!(adroit_examples::seed("7"), Ok(7));
/// assert!(adroit_examples::seed("-1").unwrap_err().contains("from 0 to"));
/// assert!(adroit_examples::seed("1.5").is_err());
/// ```
pub fn seed(s: &str) -> Result<u64, String> {
    s.parse::<u64>()
        .map_err(|_| format!("must be a whole number from 0 to {}, not {s}", u64::MAX))
}

/// Command-line parser of an epoch count: an integer of at least 1.
///
/// # Errors
/// A message naming the problem, for clap to report with the flag.
///
/// # Example
/// ```
/// assert_eq!(adroit_examples::epochs("150"), Ok(150));
/// assert!(adroit_examples::epochs("0").is_err());
/// assert_eq!(adroit_examples::epochs("-3"), Err("must be at least 1, not -3".to_string()));
/// ```
pub fn epochs(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        Ok(_) => Err("must be at least 1".to_string()),
        Err(_) if s.trim().starts_with('-') => Err(format!("must be at least 1, not {s}")),
        Err(e) => Err(format!("{e}")),
    }
}

/// True when `e` is a write to a closed pipe (the output piped into `head`, say): the
/// command-line front ends then stop quietly and successfully, as Unix tools do.
///
/// # Example
/// ```
/// let closed: adroit_examples::Error = std::io::Error::from(std::io::ErrorKind::BrokenPipe).into();
/// assert!(adroit_examples::is_broken_pipe(&closed));
/// assert!(!adroit_examples::is_broken_pipe(&"no weights".into()));
/// ```
pub fn is_broken_pipe(e: &Error) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// The exit code of a command-line front end for `result`: success (also after a write to a
/// closed pipe, [`is_broken_pipe`]) or failure with the error printed to stderr.
///
/// # Example
/// ```
/// use std::process::ExitCode;
/// assert_eq!(adroit_examples::exit_code(Ok(())), ExitCode::SUCCESS);
/// assert_eq!(adroit_examples::exit_code(Err("no data".into())), ExitCode::FAILURE);
/// ```
pub fn exit_code(result: Result<(), Error>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs `report` on the standard output and returns the program's [`exit_code`]: a reader
/// that closed the pipe early (`| head`) ends the program quietly and successfully.
///
/// # Example
/// ```
/// use std::process::ExitCode;
/// let code = adroit_examples::report_to_stdout(|out| {
///     writeln!(out, "f'(5) = {}", 32)?;
///     Ok(())
/// });
/// assert_eq!(code, ExitCode::SUCCESS);
/// ```
pub fn report_to_stdout(
    report: impl FnOnce(&mut dyn std::io::Write) -> Result<(), Error>,
) -> std::process::ExitCode {
    exit_code(report(&mut std::io::stdout().lock()))
}

// Compile and run the README's snippets as doctests (this crate depends on every other).
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
