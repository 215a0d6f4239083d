//! Weight initialisers: each distribution's spread against its formula (Glorot & Bengio 2010,
//! He et al. 2015, as Flux and PyTorch define them), the default's bit-identity with
//! `Dense::new`, and the refusals.

use adroit_nn::init::{Init, glorot_uniform};
use adroit_nn::{Activation, Chain, Dense, Layer, NnError};
use nalgebra::{DMatrix, dmatrix};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Sample mean and standard deviation of the entries.
fn mean_sd(w: &DMatrix<f64>) -> (f64, f64) {
    let n = w.len() as f64;
    let mean = w.sum() / n;
    let var = w.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// 300 × 500 draws (150,000 entries): the sample standard deviation is within 1 % of the
/// formula's (its own relative error is about 0.2 %), the mean within 4 standard errors of
/// 0, uniform draws inside their bound and reaching 99.9 % of it.
#[test]
fn every_initialiser_has_its_documented_spread() {
    let (fan_out, fan_in) = (300, 500);
    let (fo, fi) = (fan_out as f64, fan_in as f64);
    for gain in [1.0, 2f64.sqrt(), 0.5] {
        // (initialiser, its standard deviation, its uniform bound if any)
        let cases = [
            (
                Init::GlorotUniform { gain },
                gain * (2.0 / (fi + fo)).sqrt(),
                Some(gain * (6.0 / (fi + fo)).sqrt()),
            ),
            (
                Init::GlorotNormal { gain },
                gain * (2.0 / (fi + fo)).sqrt(),
                None,
            ),
            (
                Init::KaimingUniform { gain },
                gain / fi.sqrt(),
                Some(gain * (3.0 / fi).sqrt()),
            ),
            (Init::KaimingNormal { gain }, gain / fi.sqrt(), None),
        ];
        for (seed, (init, sd, bound)) in cases.into_iter().enumerate() {
            let w: DMatrix<f64> = init
                .sample(&mut StdRng::seed_from_u64(seed as u64), fan_out, fan_in)
                .unwrap();
            assert_eq!(w.shape(), (fan_out, fan_in));
            let (m, s) = mean_sd(&w);
            assert!((s / sd - 1.0).abs() < 0.01, "{init:?}: sd {s} vs {sd}");
            assert!(
                m.abs() < 4.0 * sd / (w.len() as f64).sqrt(),
                "{init:?}: mean {m}"
            );
            if let Some(b) = bound {
                assert!(
                    w.amax() <= b && w.amax() > 0.999 * b,
                    "{init:?}: {} vs {b}",
                    w.amax()
                );
            } else {
                // A normal sample of 150,000 reaches beyond 4 sd (about 10 such entries).
                assert!(w.amax() > 4.0 * sd, "{init:?}: {} vs {sd}", w.amax());
            }
        }
    }
}

/// The default is Glorot uniform with gain 1: the same values as `glorot_uniform` and
/// `Dense::new` from the same seed, bit for bit (so seeded models do not change).
#[test]
fn the_default_initialiser_is_dense_new_bit_for_bit() {
    assert_eq!(Init::default(), Init::GlorotUniform { gain: 1.0 });
    let a: DMatrix<f32> = Init::default()
        .sample(&mut StdRng::seed_from_u64(9), 7, 5)
        .unwrap();
    let b: DMatrix<f32> = glorot_uniform(&mut StdRng::seed_from_u64(9), 7, 5);
    assert_eq!(a, b);
    let new = Dense::<f64>::new(5, 7, Activation::Tanh, &mut StdRng::seed_from_u64(4));
    let with = Dense::<f64>::with_init(
        5,
        7,
        Activation::Tanh,
        Init::default(),
        &mut StdRng::seed_from_u64(4),
    )
    .unwrap();
    assert_eq!(new, with);
}

/// A gain that is negative or not finite is refused with a typed error (it can come from a
/// configuration file), as is a non-finite activation parameter; zeros are zeros; empty
/// fans draw nothing.
#[test]
fn bad_gains_are_refused_and_edge_shapes_work() {
    let rng = &mut StdRng::seed_from_u64(0);
    for gain in [f64::NAN, f64::INFINITY, -1.0] {
        for init in [
            Init::GlorotUniform { gain },
            Init::GlorotNormal { gain },
            Init::KaimingUniform { gain },
            Init::KaimingNormal { gain },
        ] {
            let err = init.sample::<f64>(rng, 2, 3).unwrap_err();
            assert!(
                matches!(
                    err,
                    NnError::InvalidConfig {
                        name: "init gain",
                        ..
                    }
                ),
                "{err}"
            );
            let layer = Dense::<f64>::with_init(3, 2, Activation::Relu, init, rng);
            assert!(matches!(layer, Err(NnError::InvalidConfig { .. })));
        }
    }
    let layer = Dense::<f64>::with_init(3, 2, Activation::Elu(f64::NAN), Init::default(), rng);
    assert!(matches!(layer, Err(NnError::InvalidConfig { .. })));
    assert_eq!(
        Init::Zeros.sample::<f64>(rng, 2, 3).unwrap(),
        DMatrix::zeros(2, 3)
    );
    for init in [
        Init::KaimingUniform { gain: 1.0 },
        Init::GlorotNormal { gain: 1.0 },
    ] {
        assert_eq!(init.sample::<f32>(rng, 4, 0).unwrap().shape(), (4, 0));
        assert_eq!(init.sample::<f32>(rng, 0, 0).unwrap().shape(), (0, 0));
    }
    // A finite gain whose spread the element type cannot hold (the uniform sampler's 2·bound
    // overflowed f64 and panicked; f32 weights came out infinite) is refused too.
    for init in [
        Init::GlorotUniform { gain: 1e308 },
        Init::KaimingUniform { gain: 1e308 },
        Init::KaimingNormal { gain: 1e308 },
    ] {
        assert!(init.sample::<f64>(rng, 2, 2).is_err(), "{init:?}");
    }
    let big = Init::GlorotUniform { gain: 1e40 };
    assert!(big.sample::<f32>(rng, 2, 2).is_err());
    assert!(Dense::<f32>::with_init(2, 2, Activation::Relu, big, rng).is_err());
    let w = big.sample::<f64>(rng, 2, 2).unwrap(); // fine in f64
    assert!(w.iter().all(|v| v.is_finite()) && w.amax() > 1e39);
    // gain 0 is a valid (if degenerate) choice: all zero
    let w = Init::KaimingNormal { gain: 0.0 }
        .sample::<f64>(rng, 3, 3)
        .unwrap();
    assert!(w.iter().all(|&v| v == 0.0));
}

/// A chain whose layer takes a number of features the layers before it do not give is an
/// error before any forward pass (it panicked inside the product); layers that preserve the
/// size carry the size through, and layers that do not say theirs skip the check.
#[test]
fn chains_with_mismatched_layers_are_refused() {
    let dense = |out, inp| {
        Dense::from_parts(DMatrix::<f64>::zeros(out, inp), None, Activation::Relu).unwrap()
    };
    let good = Chain::new()
        .push(dense(4, 3))
        .push(adroit_nn::Dropout::new(0.1).unwrap())
        .push(adroit_nn::LayerNorm::new(4))
        .push(dense(2, 4));
    assert!(good.check_params().is_ok());
    assert_eq!(good.output_size(), Some(2));
    assert_eq!(good.predict(&DMatrix::zeros(3, 5)).unwrap().shape(), (2, 5));
    let bad = Chain::new()
        .push(dense(4, 3))
        .push(adroit_nn::Dropout::new(0.1).unwrap())
        .push(dense(2, 5));
    let err = bad.check_params().unwrap_err();
    assert!(
        err.to_string().contains("layer 2 takes 5 input features")
            && err.to_string().contains("give 4"),
        "{err}"
    );
    assert!(bad.predict(&DMatrix::zeros(3, 1)).is_err());
    let norm = Chain::new()
        .push(dense(4, 3))
        .push(adroit_nn::LayerNorm::<f64>::new(5));
    assert!(norm.check_params().is_err());
    // Nested chains: the inner chain's sizes are checked against the outer's.
    let nested = Chain::new()
        .push(Chain::new().push(dense(4, 3)))
        .push(dense(1, 6));
    assert!(nested.check_params().is_err());
    let nested = Chain::new()
        .push(Chain::new().push(dense(4, 3)))
        .push(dense(1, 4));
    assert!(nested.check_params().is_ok());
    assert_eq!(
        nested.predict(&dmatrix![1.0; 2.0; 3.0]).unwrap().shape(),
        (1, 1)
    );
}
