//! Finite-difference stencils of any order: grid offsets and the weights that turn function
//! values on the grid into a derivative estimate.

/// A stencil for the `d`-th derivative: `f⁽ᵈ⁾(x) ≈ Σⱼ wⱼ f(x + pⱼh) / hᵈ` for grid offsets `pⱼ`.
///
/// The weights solve the moment conditions `Σⱼ wⱼ pⱼᵏ = k!·[k = d]` for `k < m` (`m` grid
/// points), so the estimate is exact for polynomials of degree `< m`. The truncation error is
/// `c·f⁽q⁾(x)·h^(q−d)` with `q ≥ m` the first non-vanishing moment
/// ([`error_power`](Self::error_power)) and `c` its coefficient
/// ([`error_coefficient`](Self::error_coefficient)); the accuracy order is `q − d` (Fornberg,
/// *Generation of finite difference formulas on arbitrarily spaced grids*, Math. Comp. 1988).
///
/// # Example
/// ```
/// use adroit_check::fd::Stencil;
/// let s = Stencil::central(3, 1);
/// assert_eq!(s.weights(), &[-0.5, 0.0, 0.5]);
/// assert_eq!(s.accuracy_order(), 2);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Stencil {
    grid: Vec<f64>,
    weights: Vec<f64>,
    derivative: usize,
    error_power: usize,
    error_coefficient: f64,
}

fn factorial(k: usize) -> f64 {
    (1..=k).map(|i| i as f64).product()
}

/// The weights of the `d`-th derivative at 0 on `grid` (distinct, finite offsets), by
/// Fornberg's recurrence (Math. Comp. 51, 1988, 699–706): the weights of every derivative
/// order up to `d` on the first `i + 1` points, extended one point at a time.
fn fornberg_weights(grid: &[f64], d: usize) -> Vec<f64> {
    // w[j][k]: point j's weight for the k-th derivative on the points taken so far.
    let mut w = vec![vec![0.0; d + 1]; grid.len()];
    w[0][0] = 1.0;
    // Π over the earlier points of (the previous point − each), the last row's scale.
    let mut previous_product = 1.0;
    for i in 1..grid.len() {
        let mut product = 1.0;
        let top = i.min(d);
        for j in 0..i {
            let gap = grid[i] - grid[j];
            product *= gap;
            if j == i - 1 {
                // The new point's weights, from the last point's before they are updated.
                for k in (0..=top).rev() {
                    let lower = if k > 0 {
                        k as f64 * w[i - 1][k - 1]
                    } else {
                        0.0
                    };
                    w[i][k] = previous_product * (lower - grid[i - 1] * w[i - 1][k]) / product;
                }
            }
            // Descending k, so that w[j][k − 1] is still the previous stage's.
            for k in (0..=top).rev() {
                let lower = if k > 0 { k as f64 * w[j][k - 1] } else { 0.0 };
                w[j][k] = (grid[i] * w[j][k] - lower) / gap;
            }
        }
        previous_product = product;
    }
    w.into_iter().map(|row| row[d]).collect()
}

impl Stencil {
    /// The stencil of the `derivative`-th derivative on the given grid offsets.
    ///
    /// The weights come from Fornberg's recurrence, which stays accurate for wide stencils
    /// (41 central points: the moment conditions hold to about `1e-12` relative), where
    /// solving the Vandermonde system for them does not.
    ///
    /// # Panics
    /// If there are not more grid points than the derivative order, or an offset is not
    /// finite, or two offsets coincide.
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::Stencil;
    /// // The second derivative on −1, 0, 1: f″ ≈ (f(x − h) − 2f(x) + f(x + h))/h².
    /// let s = Stencil::new(&[-1.0, 0.0, 1.0], 2);
    /// assert!(s.weights().iter().zip([1.0, -2.0, 1.0]).all(|(w, v)| (w - v).abs() < 1e-12));
    /// // The cubic moment vanishes by symmetry: the error is c·f⁽⁴⁾·h² with c = Σwⱼpⱼ⁴/4! = 2/24.
    /// assert_eq!((s.error_power(), s.accuracy_order()), (4, 2));
    /// assert!((s.error_coefficient() - 1.0 / 12.0).abs() < 1e-12);
    /// ```
    #[track_caller]
    pub fn new(grid: &[f64], derivative: usize) -> Self {
        let m = grid.len();
        assert!(
            m > derivative,
            "Stencil::new: {m} grid points cannot estimate a derivative of order {derivative}"
        );
        assert!(
            grid.iter().all(|p| p.is_finite()),
            "Stencil::new: the grid offsets must be finite, got {grid:?}"
        );
        for (i, a) in grid.iter().enumerate() {
            assert!(
                grid[i + 1..].iter().all(|b| b != a),
                "Stencil::new: the grid offsets must be distinct"
            );
        }
        let weights = fornberg_weights(grid, derivative);
        let moment = |q: usize| {
            weights
                .iter()
                .zip(grid)
                .map(|(w, p)| w * p.powi(q as i32))
                .sum::<f64>()
                / factorial(q)
        };
        let scale: f64 = weights.iter().map(|w| w.abs()).sum();
        let (error_power, error_coefficient) = (m..m + 4)
            .map(|q| (q, moment(q)))
            .find(|&(_, c)| c.abs() > 1e-9 * scale)
            .unwrap_or((m, 0.0));
        Self {
            grid: grid.to_vec(),
            weights,
            derivative,
            error_power,
            error_coefficient,
        }
    }

    /// The `points`-point central stencil: offsets `−(p−1)/2 … (p−1)/2` in unit steps,
    /// symmetric about 0 (5 points: `−2, −1, 0, 1, 2`; an even count leaves 0 out, 4 points:
    /// `−1.5, −0.5, 0.5, 1.5`).
    ///
    /// # Panics
    /// As [`new`](Self::new).
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::Stencil;
    /// // (f(x − 2h) − 8f(x − h) + 8f(x + h) − f(x + 2h))/12h, of order 4.
    /// let s = Stencil::central(5, 1);
    /// assert_eq!(s.grid(), &[-2.0, -1.0, 0.0, 1.0, 2.0]);
    /// let expected = [1.0 / 12.0, -8.0 / 12.0, 0.0, 8.0 / 12.0, -1.0 / 12.0];
    /// assert!(s.weights().iter().zip(expected).all(|(w, v)| (w - v).abs() < 1e-12));
    /// assert_eq!(s.accuracy_order(), 4);
    /// ```
    #[track_caller]
    pub fn central(points: usize, derivative: usize) -> Self {
        let half = (points as f64 - 1.0) / 2.0;
        let grid: Vec<f64> = (0..points).map(|j| j as f64 - half).collect();
        Self::new(&grid, derivative)
    }

    /// The `points`-point forward stencil (offsets `0 … p−1`): never evaluates left of `x`.
    ///
    /// # Panics
    /// As [`new`](Self::new).
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::Stencil;
    /// // (f(x + h) − f(x))/h = f′ + ½·f″·h + …: first order.
    /// let s = Stencil::forward(2, 1);
    /// assert_eq!(s.grid(), &[0.0, 1.0]);
    /// assert!(s.weights().iter().zip([-1.0, 1.0]).all(|(w, v)| (w - v).abs() < 1e-12));
    /// assert_eq!(s.accuracy_order(), 1);
    /// assert!((s.error_coefficient() - 0.5).abs() < 1e-12);
    /// ```
    #[track_caller]
    pub fn forward(points: usize, derivative: usize) -> Self {
        let grid: Vec<f64> = (0..points).map(|j| j as f64).collect();
        Self::new(&grid, derivative)
    }

    /// The `points`-point backward stencil (offsets `−(p−1) … 0`): never evaluates right of `x`.
    ///
    /// # Panics
    /// As [`new`](Self::new).
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::Stencil;
    /// // (f(x − 2h) − 4f(x − h) + 3f(x))/2h, second order.
    /// let s = Stencil::backward(3, 1);
    /// assert_eq!(s.grid(), &[-2.0, -1.0, 0.0]);
    /// assert!(s.weights().iter().zip([0.5, -2.0, 1.5]).all(|(w, v)| (w - v).abs() < 1e-12));
    /// assert_eq!(s.accuracy_order(), 2);
    /// ```
    #[track_caller]
    pub fn backward(points: usize, derivative: usize) -> Self {
        let grid: Vec<f64> = (0..points)
            .map(|j| j as f64 - (points as f64 - 1.0))
            .collect();
        Self::new(&grid, derivative)
    }

    /// The grid offsets `pⱼ`.
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::Stencil;
    /// assert_eq!(Stencil::forward(3, 1).grid(), &[0.0, 1.0, 2.0]);
    /// // An even number of central points sits on half-integers.
    /// assert_eq!(Stencil::central(4, 1).grid(), &[-1.5, -0.5, 0.5, 1.5]);
    /// ```
    pub fn grid(&self) -> &[f64] {
        &self.grid
    }

    /// The weights `wⱼ`.
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::Stencil;
    /// // The 3-point second derivative is [1, −2, 1]; a derivative's weights sum to 0 (a constant
    /// // has derivative 0).
    /// let w = Stencil::central(3, 2).weights().to_vec();
    /// assert!(w.iter().zip([1.0, -2.0, 1.0]).all(|(a, b)| (a - b).abs() < 1e-12));
    /// assert!(w.iter().sum::<f64>().abs() < 1e-12);
    /// ```
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// The derivative order `d`.
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::Stencil;
    /// assert_eq!(Stencil::forward(3, 2).derivative(), 2);
    /// ```
    pub fn derivative(&self) -> usize {
        self.derivative
    }

    /// The power `q` of the leading error term `c·f⁽q⁾·h^(q−d)`.
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::Stencil;
    /// // 3-point central first derivative: Σwⱼpⱼ³ ≠ 0, so q = 3 (error ∝ f‴·h²);
    /// // 2-point forward: q = 2 (error ∝ f″·h).
    /// assert_eq!(Stencil::central(3, 1).error_power(), 3);
    /// assert_eq!(Stencil::forward(2, 1).error_power(), 2);
    /// ```
    pub fn error_power(&self) -> usize {
        self.error_power
    }

    /// The coefficient `c` of the leading error term.
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::Stencil;
    /// // (f(x + h) − f(x − h))/2h = f′ + ⅙·f‴·h² + …
    /// assert!((Stencil::central(3, 1).error_coefficient() - 1.0 / 6.0).abs() < 1e-12);
    /// ```
    pub fn error_coefficient(&self) -> f64 {
        self.error_coefficient
    }

    /// The accuracy order `q − d`: halving `h` divides the truncation error by `2^(q−d)`.
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::Stencil;
    /// assert_eq!(Stencil::forward(2, 1).accuracy_order(), 1);
    /// assert_eq!(Stencil::central(3, 1).accuracy_order(), 2);
    /// assert_eq!(Stencil::central(5, 1).accuracy_order(), 4);
    /// assert_eq!(Stencil::central(3, 2).accuracy_order(), 2); // q = 4, d = 2
    /// ```
    pub fn accuracy_order(&self) -> usize {
        self.error_power - self.derivative
    }

    /// True when the grid is symmetric about 0 (the error expansion then has only every other
    /// power, which Richardson extrapolation exploits).
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::Stencil;
    /// assert!(Stencil::central(5, 1).is_symmetric());
    /// assert!(Stencil::central(4, 1).is_symmetric()); // −1.5 … 1.5
    /// assert!(!Stencil::forward(3, 1).is_symmetric());
    /// ```
    pub fn is_symmetric(&self) -> bool {
        let mut sorted: Vec<f64> = self.grid.iter().map(|p| -p).collect();
        sorted.sort_by(f64::total_cmp);
        let mut grid = self.grid.clone();
        grid.sort_by(f64::total_cmp);
        sorted == grid
    }

    /// The largest `|pⱼ|`: the stencil reaches `x ± max_offset·h`.
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::Stencil;
    /// assert_eq!(Stencil::central(5, 1).max_offset(), 2.0); // x ± 2h
    /// assert_eq!(Stencil::backward(3, 1).max_offset(), 2.0); // x − 2h
    /// assert_eq!(Stencil::central(4, 1).max_offset(), 1.5);
    /// ```
    pub fn max_offset(&self) -> f64 {
        self.grid.iter().fold(0.0, |m, p| m.max(p.abs()))
    }
}
