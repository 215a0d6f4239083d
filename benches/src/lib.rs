//! Workloads shared by adroit's criterion benchmarks, written once generically over
//! `num_traits::Float` so that the plain-`f64` primal and every AD type run the same code,
//! together with hand-written derivatives used as baselines.

use adroit_reverse::matrix::MatVar;
use nalgebra::DMatrix;
use num_traits::Float;

/// The extended Rosenbrock function (Moré, Garbow & Hillstrom 1981, problem 21):
/// `f(x) = Σᵢ 100·(x₂ᵢ − x₂ᵢ₋₁²)² + (1 − x₂ᵢ₋₁)²` over pairs.
///
/// `x`: `n` entries, `n` even (a trailing odd entry is ignored).
pub fn rosenbrock<S: Float>(x: &[S]) -> S {
    let hundred = S::from(100.0).unwrap_or_else(S::one);
    let mut sum = S::zero();
    for pair in x.chunks_exact(2) {
        let (a, b) = (pair[0], pair[1]);
        let u = b - a * a;
        let v = S::one() - a;
        sum = sum + hundred * u * u + v * v;
    }
    sum
}

/// One term of [`rosenbrock`], `100·(b − a²)² + (1 − a)²`, for the array form
/// [`rosenbrock_array`].
#[inline]
pub fn rosenbrock_term<S: Float>(a: S, b: S) -> S {
    let hundred = S::from(100.0).unwrap_or_else(S::one);
    let u = b - a * a;
    let v = S::one() - a;
    hundred * u * u + v * v
}

/// [`rosenbrock`] written as array code on adroit's matrix tape, as one writes it for JAX
/// (`benches/peers/workloads.py`): the pairs' entries as the even and odd entries
/// (`x[0::2]`, `x[1::2]`: [`MatVar::strided_rows`]), the terms as one fused element-wise node
/// ([`MatVar::zip_map`]), then a sum.
///
/// `x`: `n × 1`, `n` even and at least 2.
pub fn rosenbrock_array(x: MatVar<f64>) -> MatVar<f64> {
    let half = x.nrows() / 2;
    let (a, b) = (x.strided_rows(0, half, 2), x.strided_rows(1, half, 2));
    MatVar::zip_map([a, b], |[a, b]| rosenbrock_term(a, b)).sum()
}

/// Hand-written gradient of [`rosenbrock`], the baseline reverse and forward modes are
/// compared against. Writes `∇f(x)` into `grad` (same length as `x`) and returns `f(x)`.
pub fn rosenbrock_gradient(x: &[f64], grad: &mut [f64]) -> f64 {
    let mut sum = 0.0;
    for (pair, g) in x.chunks_exact(2).zip(grad.chunks_exact_mut(2)) {
        let (a, b) = (pair[0], pair[1]);
        let u = b - a * a;
        let v = 1.0 - a;
        sum += 100.0 * u * u + v * v;
        g[0] = -400.0 * u * a - 2.0 * v;
        g[1] = 200.0 * u;
    }
    sum
}

/// Hand-written dense Hessian of [`rosenbrock`], written into `hess` (`n × n`).
pub fn rosenbrock_hessian(x: &[f64], hess: &mut DMatrix<f64>) {
    hess.fill(0.0);
    for (k, pair) in x.chunks_exact(2).enumerate() {
        let (i, j) = (2 * k, 2 * k + 1);
        let (a, b) = (pair[0], pair[1]);
        hess[(i, i)] = 1200.0 * a * a - 400.0 * b + 2.0;
        hess[(i, j)] = -400.0 * a;
        hess[(j, i)] = -400.0 * a;
        hess[(j, j)] = 200.0;
    }
}

/// A univariate chain of elementary functions:
/// `f(x) = ln(sin(x)·eˣ / (1 + x²) + 2)^1.5`, defined for every real `x`.
pub fn chain<S: Float>(x: S) -> S {
    let two = S::one() + S::one();
    let p = S::from(1.5).unwrap_or_else(S::one);
    ((x.sin() * x.exp()) / (S::one() + x * x) + two)
        .ln()
        .powf(p)
}

/// Hand-written `(f(x), f'(x))` of [`chain`], sharing subexpressions as a careful human would.
pub fn chain_derivative(x: f64) -> (f64, f64) {
    let (s, c) = x.sin_cos();
    let e = x.exp();
    let q = 1.0 + x * x;
    let r = s * e / q;
    let dr = ((c + s) * e * q - s * e * 2.0 * x) / (q * q);
    let u = r + 2.0;
    let l = u.ln();
    let value = l.powf(1.5);
    let d = 1.5 * l.sqrt() * dr / u;
    (value, d)
}

/// A hand-written multilayer perceptron training step on nalgebra (f32): ReLU hidden layers, a
/// linear output, logit cross-entropy (mean over the batch), plain gradient descent. The floor
/// that adroit's overhead is measured against: forward and backward passes written out with
/// `gemm` on owned transposes (no transposed views, see nalgebra issue #1616).
pub mod handwritten {
    use nalgebra::DMatrix;

    /// The layers' weights (`out × in`) and biases (`out × 1`).
    #[derive(Debug)]
    pub struct Mlp {
        /// Weights, first layer first.
        pub weights: Vec<DMatrix<f32>>,
        /// Biases.
        pub biases: Vec<DMatrix<f32>>,
    }

    /// Every layer's output for input `x` (`inputs × batch`), the input first and the logits
    /// last: `Wₖ·h + bₖ`, ReLU on the hidden layers.
    fn forward(mlp: &Mlp, x: &DMatrix<f32>) -> Vec<DMatrix<f32>> {
        let n = mlp.weights.len();
        let mut activations = vec![x.clone()];
        for k in 0..n {
            let mut z = &mlp.weights[k] * &activations[k];
            for mut col in z.column_iter_mut() {
                col += &mlp.biases[k];
            }
            if k + 1 < n {
                z.apply(|v| *v = v.max(0.0));
            }
            activations.push(z);
        }
        activations
    }

    /// Softmax cross-entropy of `logits` against one-hot `y`, summed over the batch, and
    /// (when `delta` is given) its gradient `(softmax − y)/batch` written into `delta`.
    fn softmax_cross_entropy(
        logits: &DMatrix<f32>,
        y: &DMatrix<f32>,
        mut delta: Option<&mut DMatrix<f32>>,
    ) -> f32 {
        let batch = logits.ncols() as f32;
        let mut loss = 0.0;
        for (j, col) in logits.column_iter().enumerate() {
            let max = col.max();
            let sum: f32 = col.iter().map(|v| (v - max).exp()).sum();
            for (i, v) in col.iter().enumerate() {
                loss -= y[(i, j)] * ((*v - max) - sum.ln());
                if let Some(d) = delta.as_deref_mut() {
                    d[(i, j)] = ((*v - max).exp() / sum - y[(i, j)]) / batch;
                }
            }
        }
        loss
    }

    /// The loss alone (forward pass and softmax cross-entropy, mean over the batch): the
    /// primal of [`step`].
    pub fn loss(mlp: &Mlp, x: &DMatrix<f32>, y: &DMatrix<f32>) -> f32 {
        let activations = forward(mlp, x);
        softmax_cross_entropy(&activations[mlp.weights.len()], y, None) / x.ncols() as f32
    }

    /// One step on `x` (`inputs × batch`) and one-hot `y` (`classes × batch`); returns the loss.
    pub fn step(mlp: &mut Mlp, x: &DMatrix<f32>, y: &DMatrix<f32>, learning_rate: f32) -> f32 {
        let n = mlp.weights.len();
        let batch = x.ncols() as f32;
        // Forward: keep every layer's output.
        let activations = forward(mlp, x);
        // Softmax cross-entropy and its gradient (softmax − y)/batch.
        let mut delta = activations[n].clone();
        let loss = softmax_cross_entropy(&activations[n], y, Some(&mut delta));
        // Backward.
        for k in (0..n).rev() {
            let grad_w = &delta * activations[k].transpose();
            let grad_b = DMatrix::from_fn(delta.nrows(), 1, |i, _| delta.row(i).sum());
            if k > 0 {
                let mut next = mlp.weights[k].transpose() * &delta;
                next.zip_apply(&activations[k], |d, a| {
                    if a <= 0.0 {
                        *d = 0.0
                    }
                });
                delta = next;
            }
            mlp.weights[k] -= grad_w * learning_rate;
            mlp.biases[k] -= grad_b * learning_rate;
        }
        loss / batch
    }
}

/// One classical Runge–Kutta (RK4) step of the Lotka–Volterra equations
/// `x' = a·x − b·x·y`, `y' = d·x·y − c·y` (`p = [a, b, c, d]`, state `u = [x, y]`, step `h`).
pub fn lotka_volterra_step<S: Float>(p: &[S], u: [S; 2], h: S) -> [S; 2] {
    let rhs = |u: [S; 2]| {
        let (x, y) = (u[0], u[1]);
        [p[0] * x - p[1] * x * y, p[3] * x * y - p[2] * y]
    };
    let half = h * S::from(0.5).unwrap_or_else(S::one);
    let k1 = rhs(u);
    let k2 = rhs([u[0] + half * k1[0], u[1] + half * k1[1]]);
    let k3 = rhs([u[0] + half * k2[0], u[1] + half * k2[1]]);
    let k4 = rhs([u[0] + h * k3[0], u[1] + h * k3[1]]);
    let sixth = h / S::from(6.0).unwrap_or_else(S::one);
    let two = S::one() + S::one();
    [
        u[0] + sixth * (k1[0] + two * (k2[0] + k3[0]) + k4[0]),
        u[1] + sixth * (k1[1] + two * (k2[1] + k3[1]) + k4[1]),
    ]
}

/// `steps` RK4 steps of [`lotka_volterra_step`] from step `first` of a run of `total` steps
/// over `t ∈ [0, 10]`, adding the squared distance of the state to `(1, 1)` at every 1000th
/// step: `theta = [a, b, c, d, x₀, y₀, loss so far]` in, `[x, y, loss so far]` out (a segment
/// of [`lotka_volterra_loss`], to checkpoint).
pub fn lotka_volterra_segment<S: Float>(
    theta: &[S],
    first: usize,
    steps: usize,
    total: usize,
) -> Vec<S> {
    let h = S::from(10.0 / total as f64).unwrap_or_else(S::one);
    let mut u = [theta[4], theta[5]];
    let mut loss = theta[6];
    for k in first + 1..=first + steps {
        u = lotka_volterra_step(&theta[..4], u, h);
        if k % 1000 == 0 {
            let (dx, dy) = (u[0] - S::one(), u[1] - S::one());
            loss = loss + dx * dx + dy * dy;
        }
    }
    vec![u[0], u[1], loss]
}

/// A Lotka–Volterra fit's loss over `total` RK4 steps (the `theta` of
/// [`lotka_volterra_segment`] without the running loss: 6 entries): the ODE-sensitivity
/// workload of `--bench reverse -- checkpoint`.
pub fn lotka_volterra_loss<S: Float>(theta: &[S], total: usize) -> S {
    let start = [
        theta[0],
        theta[1],
        theta[2],
        theta[3],
        theta[4],
        theta[5],
        S::zero(),
    ];
    lotka_volterra_segment(&start, 0, total, total)[2]
}

/// The log marginal likelihood of a Gaussian process over the points `(x, y)` as a function of
/// its three hyperparameters `theta = [ln ℓ, ln σ_f², ln σ_n²]` (squared-exponential kernel
/// `σ_f²·exp(−(xᵢ − xⱼ)²/(2ℓ²))` plus noise `σ_n²·I`; Rasmussen & Williams 2006, eq. 2.30,
/// without the constant): `−½ yᵀK⁻¹y − Σ ln Lᵢᵢ` by nalgebra's Cholesky on the number type
/// itself, so that every mode differentiates the factorisation — the workload of
/// `--bench reverse -- gp_hyperparameter_hessian`.
///
/// # Panics
/// If `K` is not positive definite (it is for finite `theta`), or `x` and `y` differ in length.
pub fn gp_log_likelihood<S: Float + nalgebra::RealField>(theta: &[S], x: &[f64], y: &[f64]) -> S {
    assert_eq!(
        x.len(),
        y.len(),
        "gp_log_likelihood: x and y differ in length"
    );
    let c = |v: f64| S::from(v).unwrap_or_else(S::zero);
    let (length, signal, noise) = (
        Float::exp(theta[0]),
        Float::exp(theta[1]),
        Float::exp(theta[2]),
    );
    let n = x.len();
    let k = DMatrix::from_fn(n, n, |i, j| {
        let d = c(x[i] - x[j]) / length;
        let covariance = signal * Float::exp(-c(0.5) * d * d);
        if i == j {
            covariance + noise
        } else {
            covariance
        }
    });
    let factor = k.cholesky().expect("positive definite");
    let targets = nalgebra::DVector::from_iterator(n, y.iter().map(|&v| c(v)));
    let z = factor
        .l_dirty()
        .solve_lower_triangular(&targets)
        .expect("positive diagonal");
    let log_det = factor
        .l_dirty()
        .diagonal()
        .iter()
        .fold(S::zero(), |a, &d| a + Float::ln(d));
    -c(0.5) * z.dot(&z) - log_det
}

/// `ln Σᵢ exp(aᵢ·x)`, the log-sum-exp of `m` affine forms of `x` (`a`: `m` rows of `x.len()`
/// coefficients, row-major), formed stably (shifted by the largest form): a function whose
/// Hessian is dense, for `--bench reverse -- dense_hessian`.
///
/// # Panics
/// If `a.len()` is not a multiple of `x.len()`, or `a` is empty.
pub fn log_sum_exp_affine<S: Float>(x: &[S], a: &[f64]) -> S {
    assert!(
        !a.is_empty() && a.len().is_multiple_of(x.len()),
        "log_sum_exp_affine: {} coefficients for {} inputs",
        a.len(),
        x.len()
    );
    let forms: Vec<S> = a
        .chunks(x.len())
        .map(|row| {
            row.iter().zip(x).fold(S::zero(), |s, (&c, &v)| {
                s + v * S::from(c).unwrap_or_else(S::zero)
            })
        })
        .collect();
    let top = forms.iter().fold(S::neg_infinity(), |m, &f| m.max(f));
    let sum = forms.iter().fold(S::zero(), |s, &f| s + (f - top).exp());
    top + sum.ln()
}
