//! [`SampleMean`]: the mean of batch losses weighted by their sample counts (an epoch's loss,
//! a held-out loss evaluated in batches).

/// Batch losses averaged weighted by their sample counts, as Keras averages an epoch's loss:
/// `Σ lossᵢ·nᵢ / N`, so that equal losses give exactly that loss. Where the weighted sum of
/// finite losses overflows (losses near `f64`'s range), the batches' shares
/// `Σ lossᵢ·(nᵢ/N)` instead, which stay finite.
pub(super) struct SampleMean {
    samples: f64,
    sum: f64,
    shares: f64,
}

impl SampleMean {
    /// An empty mean over `samples` samples in all.
    pub(super) fn over(samples: usize) -> Self {
        Self {
            samples: samples as f64,
            sum: 0.0,
            shares: 0.0,
        }
    }

    /// Adds a batch of `n` samples whose loss is `loss`.
    pub(super) fn add(&mut self, loss: f64, n: usize) {
        let n = n as f64;
        self.sum += loss * n;
        self.shares += loss * (n / self.samples);
    }

    /// The mean of the batches added (0 over no samples).
    pub(super) fn mean(&self) -> f64 {
        if self.sum.is_finite() && self.samples > 0.0 {
            self.sum / self.samples
        } else {
            self.shares
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SampleMean;

    #[test]
    fn equal_losses_average_to_themselves_and_large_ones_stay_finite() {
        // 49 batches of one sample, loss 1: the shares summed to 1.0000000000000007.
        let mut mean = SampleMean::over(49);
        (0..49).for_each(|_| mean.add(1.0, 1));
        assert_eq!(mean.mean(), 1.0);
        // 100 samples in batches of 7 (the last of 2).
        let mut mean = SampleMean::over(100);
        (0..14).for_each(|_| mean.add(1.0, 7));
        mean.add(1.0, 2);
        assert_eq!(mean.mean(), 1.0);
        // Weighted by samples: (3·2 + 1·6) / 8.
        let mut mean = SampleMean::over(8);
        mean.add(3.0, 2);
        mean.add(1.0, 6);
        assert_eq!(mean.mean(), 1.5);
        // Losses near the range: the sum overflows, the shares do not.
        let mut mean = SampleMean::over(4);
        mean.add(f64::MAX, 2);
        mean.add(f64::MAX, 2);
        assert_eq!(mean.mean(), f64::MAX);
        // A NaN or infinite loss is the mean's.
        let mut mean = SampleMean::over(2);
        mean.add(f64::INFINITY, 1);
        mean.add(1.0, 1);
        assert_eq!(mean.mean(), f64::INFINITY);
        let mut mean = SampleMean::over(2);
        mean.add(f64::NAN, 1);
        assert!(mean.mean().is_nan());
        assert_eq!(SampleMean::over(0).mean(), 0.0);
    }
}
