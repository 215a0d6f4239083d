//! `symmetric_eigen_hyperdual` (second-order perturbation theory) against central differences
//! of the first-order `symmetric_eigen`, against nalgebra's own iteration on hyper-duals where
//! that one works, and against the closed form at a matrix where nalgebra's gives NaN.

use adroit_forward::{Dual, HyperDual, HyperDualVec, symmetric_eigen, symmetric_eigen_hyperdual};
use nalgebra::{DMatrix, DVector};

/// A deterministic symmetric `n × n` matrix with entries in about (−1, 1).
fn symmetric(n: usize, seed: u64) -> DMatrix<f64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let m = DMatrix::from_fn(n, n, |_, _| next());
    (&m + m.transpose()) * 0.5
}

const N: usize = 4;

/// `A₀` (well-separated eigenvalues), `A₁, A₂` (ε₁ parts), `B₁, B₂` (ε₂ parts), `Cᵢⱼ`.
struct Case {
    a0: DMatrix<f64>,
    a: [DMatrix<f64>; 2],
    b: [DMatrix<f64>; 2],
    c: [[DMatrix<f64>; 2]; 2],
}

fn case() -> Case {
    let a0 =
        symmetric(N, 1) + DMatrix::from_diagonal(&DVector::from_vec(vec![-3.0, -1.0, 1.0, 3.0]));
    Case {
        a0,
        a: [symmetric(N, 2), symmetric(N, 3)],
        b: [symmetric(N, 4), symmetric(N, 5)],
        c: [
            [symmetric(N, 6), symmetric(N, 7)],
            [symmetric(N, 8), symmetric(N, 9)],
        ],
    }
}

fn hyperdual_matrix(k: &Case) -> DMatrix<HyperDualVec<f64, 2, 2>> {
    DMatrix::from_fn(N, N, |r, c| {
        HyperDualVec::new(
            k.a0[(r, c)],
            [k.a[0][(r, c)], k.a[1][(r, c)]],
            [k.b[0][(r, c)], k.b[1][(r, c)]],
            [
                [k.c[0][0][(r, c)], k.c[0][1][(r, c)]],
                [k.c[1][0][(r, c)], k.c[1][1][(r, c)]],
            ],
        )
    })
}

/// First-order eigen-derivatives in direction `tangent` at `at`, eigenvalue order and
/// eigenvector signs aligned with the eigenpairs `(lambda0, v0)`.
fn aligned_first_order(
    at: &DMatrix<f64>,
    tangent: &DMatrix<f64>,
    lambda0: &[f64],
    v0: &DMatrix<f64>,
) -> (Vec<Dual<f64>>, DMatrix<Dual<f64>>) {
    let m = DMatrix::from_fn(N, N, |r, c| Dual::new(at[(r, c)], tangent[(r, c)]));
    let (values, vectors) = symmetric_eigen(&m);
    let mut out_values = Vec::new();
    let mut out_vectors = DMatrix::from_element(N, N, Dual::constant(0.0));
    for k in 0..N {
        let nearest = (0..N)
            .min_by(|&p, &q| {
                let dp = (values[p].value() - lambda0[k]).abs();
                let dq = (values[q].value() - lambda0[k]).abs();
                dp.partial_cmp(&dq).unwrap()
            })
            .unwrap();
        out_values.push(values[nearest]);
        let dot: f64 = (0..N)
            .map(|r| vectors[(r, nearest)].value() * v0[(r, k)])
            .sum();
        let sign = Dual::constant(dot.signum());
        for r in 0..N {
            out_vectors[(r, k)] = vectors[(r, nearest)] * sign;
        }
    }
    (out_values, out_vectors)
}

#[test]
fn first_and_mixed_second_derivatives_match_differences_of_first_order() {
    let k = case();
    let (values, vectors) = symmetric_eigen_hyperdual(&hyperdual_matrix(&k));
    let lambda0: Vec<f64> = values.iter().map(|v| v.value()).collect();
    let v0 = vectors.map(|x| x.value());
    // First-order parts: exactly the first-order function's (same primal decomposition).
    for i in 0..2 {
        let (d_values, d_vectors) = aligned_first_order(&k.a0, &k.a[i], &lambda0, &v0);
        for e in 0..N {
            assert!((values[e].eps1()[i] - d_values[e].tangent()).abs() < 1e-13);
        }
        for (h, d) in vectors.iter().zip(d_vectors.iter()) {
            assert!((h.eps1()[i] - d.tangent()).abs() < 1e-13);
        }
    }
    for j in 0..2 {
        let (d_values, _) = aligned_first_order(&k.a0, &k.b[j], &lambda0, &v0);
        for e in 0..N {
            assert!((values[e].eps2()[j] - d_values[e].tangent()).abs() < 1e-13);
        }
    }
    // Mixed parts: ∂/∂sᵢ of the tⱼ-derivative at A₀ + sᵢAᵢ (direction Bⱼ + sᵢCᵢⱼ), central
    // differences with h = 1e-5 (error O(h²) ≈ 1e-10 times the third derivatives).
    let h = 1e-5;
    for i in 0..2 {
        for j in 0..2 {
            let at = |s: f64| {
                aligned_first_order(
                    &(&k.a0 + &k.a[i] * s),
                    &(&k.b[j] + &k.c[i][j] * s),
                    &lambda0,
                    &v0,
                )
            };
            let ((vp, up), (vm, um)) = (at(h), at(-h));
            for e in 0..N {
                let fd = (vp[e].tangent() - vm[e].tangent()) / (2.0 * h);
                let got = values[e].eps12()[i][j];
                assert!((got - fd).abs() < 1e-7, "λ{e} ∂²/∂s{i}∂t{j}: {got} vs {fd}");
            }
            for (idx, h12) in vectors.iter().enumerate() {
                let fd = (up[idx].tangent() - um[idx].tangent()) / (2.0 * h);
                let got = h12.eps12()[i][j];
                assert!(
                    (got - fd).abs() < 1e-7,
                    "V[{idx}] ∂²/∂s{i}∂t{j}: {got} vs {fd}"
                );
            }
        }
    }
    // Unit eigenvectors to second order: vₖ·vₖ = 1 has zero mixed part.
    for col in 0..N {
        let norm2 = (0..N)
            .map(|r| vectors[(r, col)] * vectors[(r, col)])
            .fold(HyperDualVec::constant(0.0), |acc, x| acc + x);
        assert!(norm2.eps12().iter().flatten().all(|x| x.abs() < 1e-12));
    }
}

#[test]
fn agrees_with_nalgebra_iteration_on_a_generic_matrix() {
    // Where nalgebra's own iteration on hyper-duals works (no zero-valued perturbed entries),
    // its eigenvalues' parts are the same (matched by value: the orders may differ).
    let k = case();
    let m = DMatrix::from_fn(N, N, |r, c| {
        HyperDual::new(
            k.a0[(r, c)],
            [k.a[0][(r, c)]],
            [k.b[0][(r, c)]],
            [[k.c[0][0][(r, c)]]],
        )
    });
    let (ours, _) = symmetric_eigen_hyperdual(&m);
    let theirs = m.clone().symmetric_eigen().eigenvalues;
    for v in ours.iter() {
        let w = theirs
            .iter()
            .min_by(|p, q| {
                let dp = (p.value() - v.value()).abs();
                let dq = (q.value() - v.value()).abs();
                dp.partial_cmp(&dq).unwrap()
            })
            .unwrap();
        assert!((v.value() - w.value()).abs() < 1e-12);
        assert!((v.eps1()[0] - w.eps1()[0]).abs() < 1e-10);
        assert!(
            (v.eps12()[0][0] - w.eps12()[0][0]).abs() < 1e-9,
            "{v:?} vs {w:?}"
        );
    }
}

/// `diag(1, 3, 5) + t·(E₁₂ + E₂₁)` as a hyper-dual matrix in `t` at 0.
fn coupled_diagonal() -> DMatrix<HyperDual<f64>> {
    let (c, t) = (HyperDual::constant, HyperDual::variable(0.0_f64));
    let zero = c(0.0);
    DMatrix::from_row_slice(
        3,
        3,
        &[c(1.0), t, zero, t, c(3.0), zero, zero, zero, c(5.0)],
    )
}

#[test]
fn zero_valued_perturbed_off_diagonal_gives_the_closed_form() {
    // diag(1, 3, 5) + t·(E₁₂ + E₂₁), with ε₁ = ε₂ = t: eigenvalues of the 2 × 2 block 2 ∓ √(1 + t²) (λ'' = ∓1), 5 unchanged; nalgebra's
    // own iteration gives NaN here. Eigenvector of λ = 1: (cos θ, −sin θ) with tan 2θ = t,
    // so its entries' product −sin 2θ/2 has first derivative −½ and second 0, and its
    // first entry cos θ has second derivative −¼.
    let c = HyperDual::constant;
    let a = coupled_diagonal();
    let (values, vectors) = symmetric_eigen_hyperdual(&a);
    for (k, v) in values.iter().enumerate() {
        let (first, second) = match v.value() {
            x if (x - 1.0).abs() < 1e-12 => (0.0, -1.0),
            x if (x - 3.0).abs() < 1e-12 => (0.0, 1.0),
            _ => (0.0, 0.0),
        };
        assert_eq!((v.eps1()[0], v.eps2()[0]), (first, first), "λ{k}");
        assert!((v.eps12()[0][0] - second).abs() < 1e-14, "λ{k}: {v:?}");
    }
    let k = (0..3)
        .find(|&k| (values[k].value() - 1.0).abs() < 1e-12)
        .unwrap();
    let product = vectors[(0, k)] * vectors[(1, k)];
    assert!((product.eps1()[0] + 0.5).abs() < 1e-14);
    assert!(product.eps12()[0][0].abs() < 1e-14);
    let first_entry = vectors[(0, k)] * c(vectors[(0, k)].value().signum());
    assert!(
        (first_entry.eps12()[0][0] + 0.25).abs() < 1e-14,
        "{first_entry:?}"
    );
    assert!(
        values
            .iter()
            .chain(vectors.iter())
            .all(|x| x.eps12()[0][0].is_finite())
    );
}

#[test]
fn f32_and_empty_matrices() {
    let (c, t) = (HyperDual::constant, HyperDual::variable(0.0_f32));
    let a = DMatrix::from_row_slice(2, 2, &[c(1.0), t, t, c(3.0)]);
    let (values, _) = symmetric_eigen_hyperdual(&a);
    let low = values.iter().find(|v| v.value() < 2.0).unwrap();
    assert!((low.eps12()[0][0] + 1.0).abs() < 1e-6);
    let (values, vectors) = symmetric_eigen_hyperdual(&DMatrix::<HyperDual<f64>>::zeros(0, 0));
    assert_eq!((values.len(), vectors.shape()), (0, (0, 0)));
}

#[test]
#[should_panic(expected = "symmetric_eigen: the matrix must be square, not 2×3")]
fn a_non_square_matrix_panics() {
    symmetric_eigen_hyperdual(&DMatrix::<HyperDual<f64>>::zeros(2, 3));
}

#[test]
fn svd_with_an_iteration_limit_returns_at_such_a_matrix() {
    // `svd()` loops forever here (documented); `try_svd` with an iteration limit returns None.
    let c = HyperDual::constant;
    let a = coupled_diagonal();
    let svd = a.try_svd(true, true, c(f64::EPSILON), 1000);
    assert!(
        svd.is_none(),
        "no convergence within the limit: None, not a NaN result"
    );
}

#[test]
fn symmetric_eigen_of_a_matrix_holding_a_nan_is_all_nan() {
    // nalgebra's f64 decomposition gives an eigenvalue 1 among NaNs here (a user trial).
    let mut a = DMatrix::<f64>::identity(3, 3).map(Dual::constant);
    a[(2, 1)] = Dual::new(f64::NAN, 1.0);
    let (values, vectors) = symmetric_eigen(&a);
    assert!(
        values
            .iter()
            .chain(vectors.iter())
            .all(|x| x.value().is_nan())
    );
    let h = a.map(|x| HyperDual::new(x.value(), [x.tangent()], [0.0], [[0.0]]));
    let (values, _) = symmetric_eigen_hyperdual(&h);
    assert!(values.iter().all(|x| x.value().is_nan()));
}

/// The simple eigenvalue 1 + 2⁻³⁰ right beside a repeated one at 1, `A = Q·diag(1, 1, 1 + 2⁻³⁰,
/// 3)·Qᵀ` (exact in binary), along `E1` (mixing the pair by 1e-6) and `E2` (coupling the pair to
/// the neighbour): `∂²P/∂s∂t` of the neighbour's projector `P = vvᵀ` against mpmath at 80
/// digits (tools/gen_eigen_neighbour_reference.py). The snap of the pair's entry used a bound
/// on the vectors' error that over-counted by 1e8 and zeroed the mixing entry 5e-7: the
/// second derivatives were off by up to 70 % (a review's finding, against mpmath).
#[test]
fn symmetric_eigen_hyperdual_beside_a_repeated_pair() {
    let (a, e1, e2) = crate::linalg::pair_beside_a_neighbour();
    let h = DMatrix::from_fn(4, 4, |i, j| {
        HyperDual::new(a[(i, j)], [e1[(i, j)]], [e2[(i, j)]], [[0.0]])
    });
    let (values, vectors) = symmetric_eigen_hyperdual(&h);
    let target = 1.0 + 2f64.powi(-30);
    let k = (0..4)
        .find(|&k| (values[k].value() - target).abs() < 1e-12)
        .expect("the neighbour");
    let v = vectors.column(k);
    let mixed = |i: usize, j: usize| (v[i] * v[j]).eps12()[0][0];
    for ((i, j), reference) in [
        ((0, 0), 792_633_534_425.495_5),
        ((0, 1), -216_172_782_113.783_78),
        ((2, 3), 216_172_782_113.783_78),
    ] {
        let ours = mixed(i, j);
        assert!(
            (ours - reference).abs() <= 1e-4 * reference.abs(),
            "∂²P[{i}][{j}]: {ours} against {reference}"
        );
    }
}

/// `(cᵀv)²` for the top eigenvector `v` of `A + s·Ȧ + t·B` (in `s` and `t`), from the
/// hyper-dual decomposition: its value, `∂/∂t` and `∂²/∂s∂t` at `s = t = 0`.
fn top_projection_squared(a: &[f64; 16], ad: &[f64; 16], b: &[f64; 16], c: &[f64; 4]) -> f64 {
    let m = DMatrix::from_fn(4, 4, |i, j| {
        HyperDual::new(a[4 * i + j], [ad[4 * i + j]], [b[4 * i + j]], [[0.0]])
    });
    let (values, vectors) = symmetric_eigen_hyperdual(&m);
    let top = (0..4)
        .max_by(|&i, &j| values[i].value().total_cmp(&values[j].value()))
        .unwrap();
    let p = (0..4).fold(HyperDual::constant(0.0), |s, r| {
        s + vectors[(r, top)] * c[r]
    });
    (p * p).eps12()[0][0]
}

/// Regression (a review's finding): beside two eigenvalues 1e-12 apart, with a third close
/// by, the mixed second derivative of a function of the well-separated top eigenvector came
/// out 63 % low — the near pair's small genuine mixing entry `Ã₀₁` was zeroed as rounding in
/// the top vector's second-order numerator too, where it is not divided by the pair's gap.
/// Reference: central differences in `s` of the first-order (dual) derivative in `t`, and the
/// review's mpmath value −1.485556e-4 (80-digit decomposition of the same stored matrix).
#[test]
fn a_simple_eigenvectors_second_derivative_beside_a_near_pair_with_a_close_third() {
    // Q·diag(1, 1, 1 + 1e-12, 3)·Qᵀ; Ȧ = I + 1e-4·(q₀q₁ᵀ + q₁q₀ᵀ); B couples the pair to q₃.
    let a: [f64; 16] = [
        1.0859565711205508,
        0.08118844259069408,
        -0.39362341491984093,
        -0.054714295561085466,
        0.08118844259069408,
        1.0766848086706875,
        -0.37178858588749764,
        -0.05167921877407608,
        -0.39362341491984093,
        -0.37178858588749764,
        2.802531100920099,
        0.25055475786061376,
        -0.054714295561085466,
        -0.05167921877407608,
        0.25055475786061376,
        1.0348275192896619,
    ];
    let ad: [f64; 16] = [
        0.9999502708253345,
        -6.248049706561356e-05,
        -2.970549572579651e-05,
        4.286877967578315e-05,
        -6.248049706561356e-05,
        1.0000139338227718,
        -6.297545168574507e-06,
        -3.217591794910448e-05,
        -2.970549572579651e-05,
        -6.297545168574507e-06,
        0.9999926687259613,
        -3.2698824998513604e-06,
        4.286877967578315e-05,
        -3.217591794910448e-05,
        -3.2698824998513604e-06,
        1.0000431266259324,
    ];
    let b: [f64; 16] = [
        0.2662659850643873,
        -0.04224258248233512,
        -0.6426600336882278,
        0.11254377973337933,
        -0.04224258248233512,
        -0.3173436856540836,
        0.7381140912343888,
        0.29327537277002436,
        -0.6426600336882278,
        0.7381140912343888,
        0.3022381494675646,
        -0.8824384721700209,
        0.11254377973337933,
        0.29327537277002436,
        -0.8824384721700209,
        -0.2511604488778683,
    ];
    let c = [0.3, -1.1, 0.7, 1.9];
    let mixed = top_projection_squared(&a, &ad, &b, &c);
    // ∂/∂t by first-order duals at A + s·Ȧ (the top eigenvector is 2 from the others).
    let first = |s: f64| {
        let m = DMatrix::from_fn(4, 4, |i, j| {
            Dual::new(a[4 * i + j] + s * ad[4 * i + j], b[4 * i + j])
        });
        let (values, vectors) = symmetric_eigen(&m);
        let top = (0..4)
            .max_by(|&i, &j| values[i].value().total_cmp(&values[j].value()))
            .unwrap();
        let p = (0..4).fold(Dual::constant(0.0), |s, r| s + vectors[(r, top)] * c[r]);
        (p * p).tangent()
    };
    let h = 1e-5;
    let differences = (first(h) - first(-h)) / (2.0 * h);
    assert!(
        (mixed - differences).abs() <= 1e-6 * differences.abs(),
        "{mixed} vs differences {differences}"
    );
    assert!((mixed + 1.485556e-4).abs() <= 1e-6 * 1.485556e-4, "{mixed}");
}

/// The eigenvalues' second derivatives keep the matrix's scale: `[[s, x], [x, 3s]]` with
/// `x = s·(ε₁ + ε₂)` has eigenvalues `2s ∓ √(s² + x²)`, whose mixed second derivative at
/// `x = 0` is `∓s` exactly. Formed through the product of two perturbation entries (about
/// `s²`), it was `±∞` from `s` ≈ 1e155 (`f32`: 1e20) and off by 1e-5 relative at 1e-160.
#[test]
fn eigenvalue_second_derivatives_at_extreme_scales() {
    fn check<T: num_traits::Float + nalgebra::RealField + std::fmt::Debug>(s: T) {
        let c = HyperDual::constant;
        let t = HyperDual::new(T::zero(), [s], [s], [[T::zero()]]);
        let three = T::from(3.0).unwrap();
        let a = DMatrix::from_row_slice(2, 2, &[c(s), t, t, c(three * s)]);
        let (values, _) = symmetric_eigen_hyperdual(&a);
        let two = T::from(2.0).unwrap();
        for (k, value) in values.iter().enumerate() {
            // The smaller eigenvalue (about s) has −s, the larger (about 3s) +s, in any order.
            let want = if value.value() < two * s { -s } else { s };
            let got = value.eps12()[0][0];
            let error = num_traits::Float::abs((got - want) / want);
            assert!(
                error <= T::from(8.0).unwrap() * T::epsilon(),
                "s = {s:?}, λ{k}'' = {got:?}"
            );
        }
    }
    for s in [1e-300, 1e-160, 1e-20, 1.0, 1e20, 1e155, 1e160, 1e300] {
        check::<f64>(s);
    }
    for s in [1e-30_f32, 1e-20, 1.0, 1e20, 1e30] {
        check::<f32>(s);
    }
}
