//! Layers: gradients of Chain, LayerNorm and Dense without bias against finite differences
//! (through adroit-check), dropout modes, names.

use adroit_check::fd;
use adroit_nn::losses::{Agg, mse};
use adroit_nn::{Activation, Chain, Context, Dense, Dropout, Layer, LayerNorm, Mode, gradient};
use adroit_reverse::matrix::{self, MatScalar, MatVar};
use nalgebra::{DMatrix, dmatrix};
use rand::SeedableRng;

fn model() -> Chain<f64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    Chain::new()
        .push(Dense::new(3, 5, Activation::Tanh, &mut rng))
        .push(LayerNorm::new(5))
        .push(Dense::new(5, 4, Activation::Swish, &mut rng).without_bias())
        .push(Dense::new(4, 2, Activation::Identity, &mut rng))
}

/// Flattens all parameters, in visiting order.
fn flatten(m: &Chain<f64>) -> Vec<f64> {
    let mut out = Vec::new();
    m.visit("", &mut |_, p| out.extend(p.iter().copied()));
    out
}

/// Writes flattened parameters back.
fn unflatten(m: &mut Chain<f64>, v: &[f64]) {
    let mut k = 0;
    m.visit_mut(&mut |p| {
        for x in p.iter_mut() {
            *x = v[k];
            k += 1;
        }
    });
}

#[test]
fn chain_gradient_matches_finite_differences() {
    let m = model();
    let x = DMatrix::from_fn(3, 6, |i, j| (i as f64 - j as f64) * 0.3 + 0.1);
    let y = DMatrix::from_fn(2, 6, |i, j| ((i + j) % 3) as f64 - 1.0);
    let loss = |m: &Chain<f64>| {
        m.predict(&x)
            .map(|p| (p - &y).map(|v| v * v).mean())
            .unwrap()
    };
    let (value, grads) = gradient(&m, |m, ctx| {
        mse(m.forward(MatVar::constant(x.clone()), ctx), &y, Agg::Mean)
    })
    .unwrap();
    assert!((value - loss(&m)).abs() < 1e-14);
    let numeric = fd::gradient(
        |v: &[f64]| {
            let mut copy = m.clone();
            unflatten(&mut copy, v);
            loss(&copy)
        },
        &flatten(&m),
    );
    let analytic = flatten(&grads);
    assert_eq!(analytic.len(), 3 * 5 + 5 + 5 + 5 + 5 * 4 + 4 * 2 + 2);
    for (k, (a, b)) in analytic.iter().zip(&numeric).enumerate() {
        assert!(
            (a - b).abs() < 1e-8 * (1.0 + b.abs()),
            "parameter {k}: {a} vs {b}"
        );
    }
    // The nested gradients read by layer, as Flux's grads.layers[i].weight: the same numbers
    // as the flat visit.
    let dense = grads.layer::<Dense<f64>>(0).expect("layer 0 is a Dense");
    assert_eq!(dense.weight.as_slice(), &analytic[..15]);
    let norm = grads
        .layer::<LayerNorm<f64>>(1)
        .expect("layer 1 is a LayerNorm");
    let mut norm_flat = Vec::new();
    norm.visit("", &mut |_, p| norm_flat.extend(p.iter().copied()));
    assert_eq!(norm_flat, &analytic[20..30]);
    assert!(grads.layer::<LayerNorm<f64>>(0).is_none() && grads.layer::<Dense<f64>>(9).is_none());
    // layer_mut reaches the same layer of a model: zeroing layer 3's weight leaves its bias.
    let mut zeroed = m.clone();
    zeroed.layer_mut::<Dense<f64>>(3).unwrap().weight.fill(0.0);
    let out = zeroed.predict(&x).unwrap();
    let bias = m.layer::<Dense<f64>>(3).unwrap().bias.clone().unwrap();
    assert!((0..6).all(|j| out.column(j) == bias.column(0)));
    let mut names = Vec::new();
    m.visit("", &mut |n, _| names.push(n.to_string()));
    assert_eq!(
        names[..4],
        [
            "layers.0.weight",
            "layers.0.bias",
            "layers.1.scale",
            "layers.1.bias"
        ]
    );
}

#[test]
fn dropout_train_and_eval() {
    let layer = Dropout::new(0.5).unwrap();
    let x = DMatrix::from_element(20, 20, 1.0);
    let run = |mode| {
        matrix::pullback(
            |_| layer.forward(MatVar::constant(x.clone()), &mut Context::new(mode, 3)),
            &[],
        )
        .0
    };
    assert_eq!(run(Mode::Eval), x);
    let y = run(Mode::Train);
    let zeros = y.iter().filter(|&&v| v == 0.0).count();
    assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
    assert!((150..250).contains(&zeros), "{zeros} of 400 dropped");
    assert_eq!(run(Mode::Train), y, "same seed, same mask");
    assert!(Dropout::new(1.0).is_err());
}

#[test]
fn layer_norm_normalises_each_sample() {
    let ln = LayerNorm::<f64>::new(4);
    let x = DMatrix::from_fn(4, 3, |i, j| (i * i) as f64 + 10.0 * j as f64);
    let y = ln.predict(&x).unwrap();
    for col in y.column_iter() {
        assert!(col.mean().abs() < 1e-12);
        assert!((col.map(|v| v * v).mean() - 1.0).abs() < 1e-4);
    }
}

/// An activation as its own layer computes what the same activation inside `Dense` does,
/// gradients included: Chain(Dense(3 => 2), softmax) against Dense(3 => 2, softmax).
#[test]
fn activation_layer_matches_the_dense_activation() {
    let mut r = rand::rngs::StdRng::seed_from_u64(8);
    let inner = Dense::<f64>::new(3, 2, Activation::Identity, &mut r);
    let fused = Dense::from_parts(
        inner.weight.clone(),
        inner.bias.clone(),
        Activation::Softmax,
    )
    .unwrap();
    let chain = Chain::new().push(inner).push(Activation::Softmax);
    let x = DMatrix::from_fn(3, 4, |i, j| (i as f64 - j as f64) / 3.0);
    let y = DMatrix::from_fn(2, 4, |i, j| if (i + j) % 2 == 0 { 1.0 } else { 0.0 });
    assert_eq!(chain.predict(&x).unwrap(), fused.predict(&x).unwrap());
    let loss = |m: &dyn Layer<f64>, ctx: &mut Context<f64>| {
        let p = m.forward(MatVar::constant(x.clone()), ctx);
        adroit_nn::losses::crossentropy(p, &y, Agg::Mean)
    };
    let (lc, gc) = gradient(&chain, |m, ctx| loss(m, ctx)).unwrap();
    let (lf, gf) = gradient(&fused, |m, ctx| loss(m, ctx)).unwrap();
    assert_eq!(lc, lf);
    let gc = gc.layer::<Dense<f64>>(0).unwrap();
    assert_eq!((&gc.weight, &gc.bias), (&gf.weight, &gf.bias));
    assert!(format!("{chain:?}").contains("Activation]"), "{chain:?}");
}

/// Implicit gradients (classic Flux: `params(&model)`, then index by parameter) through a
/// `Chain` of boxed layers equal the explicit, model-shaped ones, layer by layer, and the
/// names say where each parameter sits.
#[test]
fn implicit_gradients_through_a_chain_equal_the_explicit_ones() {
    let mut r = rand::rngs::StdRng::seed_from_u64(21);
    let chain = Chain::new()
        .push(Dense::<f64>::new(3, 4, Activation::Tanh, &mut r))
        .push(LayerNorm::new(4))
        .push(Dense::new(4, 2, Activation::Identity, &mut r).without_bias());
    let x = DMatrix::from_fn(3, 5, |i, j| (i as f64 * 0.7 - j as f64 * 0.3).sin());
    let y = DMatrix::from_fn(2, 5, |i, j| (i + j) as f64 / 4.0);
    let (explicit_loss, explicit) = gradient(&chain, |m, ctx| {
        mse(m.forward(MatVar::constant(x.clone()), ctx), &y, Agg::Mean)
    })
    .unwrap();
    let ps = adroit_nn::params(&chain);
    let (implicit_loss, implicit) = ps
        .gradient(|ctx| {
            mse(
                chain.forward(MatVar::constant(x.clone()), ctx),
                &y,
                Agg::Mean,
            )
        })
        .unwrap();
    assert_eq!(implicit_loss, explicit_loss);
    let first = chain.layer::<Dense<f64>>(0).unwrap();
    let last = chain.layer::<Dense<f64>>(2).unwrap();
    let norm = chain.layer::<LayerNorm<f64>>(1).unwrap();
    let (g_first, g_last) = (
        explicit.layer::<Dense<f64>>(0).unwrap(),
        explicit.layer::<Dense<f64>>(2).unwrap(),
    );
    let g_norm = explicit.layer::<LayerNorm<f64>>(1).unwrap();
    assert_eq!(implicit[&first.weight], g_first.weight);
    assert_eq!(
        &implicit[first.bias.as_ref().unwrap()],
        g_first.bias.as_ref().unwrap()
    );
    assert_eq!(implicit[&last.weight], g_last.weight);
    assert_eq!(implicit[&norm.scale], g_norm.scale);
    assert_eq!(implicit[&norm.bias], g_norm.bias);
    // every gradient is non-trivial, so the lookups above cannot pass by returning zeros
    for g in [&g_first.weight, &g_last.weight, &g_norm.scale] {
        assert!(g.amax() > 1e-3, "{g}");
    }
    assert_eq!(ps.names().count(), 5);
}

#[test]
#[should_panic(expected = "Dense: the input has 3 rows (features) but the layer takes 2")]
fn dense_forward_names_the_layer_for_an_input_of_the_wrong_size() {
    // Inside a gradient call (where no Result reaches the user) the panic named `affine`,
    // an operation the user never called.
    let layer =
        Dense::from_parts(dmatrix![1.0, 2.0], Some(dmatrix![0.5]), Activation::Relu).unwrap();
    let _ = gradient(&layer, |m, ctx| {
        Ok(m.forward(MatVar::constant(DMatrix::zeros(3, 4)), ctx).sum())
    });
}

/// A LayerNorm of the wrong size inside a chain: its 1 × 1 γ and β broadcast over three
/// features (one shared scale, a plausible-looking output), or a 1-feature input stretched to
/// three rows — both trained silently before; now `predict` (through the chain's
/// `check_params`) refuses the chain with a typed error, and the layer's forward pass, reached
/// without that check, names the mismatch in its panic (as PyTorch's "expected input with
/// shape [*, 3]").
#[test]
fn layer_norm_refuses_an_input_of_another_feature_count() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    for (hidden, norm) in [(3, 1), (1, 3), (4, 3)] {
        let chain = Chain::<f64>::new()
            .push(Dense::new(2, hidden, Activation::Identity, &mut rng))
            .push(LayerNorm::new(norm));
        let err = chain.predict(&dmatrix![1.0; 2.0]).unwrap_err();
        assert!(
            err.to_string().contains(&format!(
                "layer 1 takes {norm} input features, but the layers before it give {hidden}"
            )),
            "{err}"
        );
        let message = eval_forward_panic(&chain, dmatrix![1.0; 2.0]);
        assert!(
            message.starts_with(&format!(
                "LayerNorm: the input has {hidden} rows (features) but the layer normalises {norm}"
            )),
            "{message}"
        );
    }
    // As the first layer, predict reports it as a typed error.
    let err = LayerNorm::<f64>::new(1)
        .predict(&dmatrix![1.0; 2.0; 3.0])
        .unwrap_err();
    assert!(
        matches!(err, adroit_nn::NnError::ShapeMismatch { .. }),
        "{err}"
    );
    // A bias set to another shape than the scale.
    let mut ln = LayerNorm::<f64>::new(2);
    ln.bias = dmatrix![0.0];
    let message = eval_forward_panic(&ln, dmatrix![1.0; 2.0]);
    assert!(
        message.starts_with("LayerNorm: the bias is 1×1, not 2×1"),
        "{message}"
    );
}

/// The message of the panic that `layer`'s forward pass (eval mode) raises on `x`.
fn eval_forward_panic<L: Layer<f64>>(layer: &L, x: DMatrix<f64>) -> String {
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        matrix::pullback(
            |_| {
                layer.forward(
                    MatVar::constant(x.clone()),
                    &mut Context::new(Mode::Eval, 0),
                )
            },
            &[],
        )
    }));
    let payload = caught.expect_err("the forward pass must panic");
    payload
        .downcast_ref::<String>()
        .expect("a formatted message")
        .clone()
}

/// Sizes whose entry count overflows `usize` are refused with a clear panic (nalgebra's
/// constructors do not check, and a wrapped count crashed release builds).
#[test]
#[cfg(target_pointer_width = "64")]
#[should_panic(
    expected = "glorot_uniform: a 4294967296 × 4294967296 matrix has more entries than usize can count or more bytes than an allocation can hold"
)]
fn dense_new_refuses_a_weight_too_large_to_count() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let _ = Dense::<f64>::new(1 << 32, 1 << 32, Activation::Identity, &mut rng);
}

#[test]
fn a_mis_set_parameter_field_is_a_typed_error_where_a_result_is_returned() {
    // The public field bypasses `from_parts`' check; a 1×4 bias was broadcast over a batch of
    // four (and the model's weight file then failed to load); then it panicked inside predict.
    use adroit_nn::NnError;
    use adroit_nn::optim::Descent;
    let mut layer =
        Dense::from_parts(dmatrix![1.0, 2.0], Some(dmatrix![0.5]), Activation::Relu).unwrap();
    layer.bias = Some(dmatrix![1.0, 2.0, 3.0, 4.0]);
    let model = Chain::new().push(LayerNorm::new(2)).push(layer.clone());
    let x = DMatrix::zeros(2, 4);
    let is_bias_error = |e: NnError| match e {
        NnError::ShapeMismatch {
            what,
            expected,
            found,
        } => what == "Dense bias" && expected == (1, 1) && found == (1, 4),
        _ => false,
    };
    assert!(is_bias_error(model.predict(&x).unwrap_err()));
    let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    let before = model.clone();
    let mut stepped = model.clone();
    let refused = adroit_nn::train_step(
        &mut stepped,
        &x,
        &dmatrix![0.0, 0.0, 0.0, 0.0],
        &loss,
        &mut Descent::new(0.1),
        0,
    );
    assert!(is_bias_error(refused.unwrap_err()));
    assert_eq!(format!("{stepped:?}"), format!("{before:?}"));
    let grad = gradient(&model, |m, ctx| {
        Ok(m.forward(MatVar::constant(x.clone()), ctx).sum())
    });
    assert!(is_bias_error(grad.unwrap_err()));
    // LayerNorm's two parameters must agree.
    let mut norm = LayerNorm::<f64>::new(3);
    norm.bias = DMatrix::zeros(2, 1);
    assert!(matches!(
        norm.check_params(),
        Err(NnError::ShapeMismatch { .. })
    ));
}

#[test]
#[should_panic(expected = "Dense: the bias is 1×4, not 1×1")]
fn dense_forward_called_directly_panics_for_a_mis_set_bias() {
    let mut layer =
        Dense::from_parts(dmatrix![1.0, 2.0], Some(dmatrix![0.5]), Activation::Relu).unwrap();
    layer.bias = Some(dmatrix![1.0, 2.0, 3.0, 4.0]);
    let _ = matrix::pullback(
        |_| {
            let mut ctx = Context::new(Mode::Eval, 0);
            layer.forward(MatVar::constant(DMatrix::zeros(2, 4)), &mut ctx)
        },
        &[],
    );
}

#[test]
fn a_model_as_a_function_of_its_parameters() {
    use adroit_nn::{NnError, loss_with_params, param_values};
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let model = Chain::new()
        .push(Dense::new(3, 5, Activation::Tanh, &mut rng))
        .push(Dropout::new(0.3).unwrap())
        .push(LayerNorm::new(5))
        .push(Dense::new(5, 2, Activation::Identity, &mut rng).without_bias());
    let x = DMatrix::from_fn(3, 4, |i, j| (i as f64 * 0.7 - j as f64 * 0.4).sin());
    let y = DMatrix::from_fn(2, 4, |i, j| ((i + 2 * j) % 3) as f64 - 1.0);
    let loss = |m: &Chain<f64>, ctx: &mut Context<f64>| {
        mse(m.forward(MatVar::constant(x.clone()), ctx), &y, Agg::Mean)
    };
    // The same value and gradients as `gradient_with` (dropout on, one seed).
    let (value, shaped) = adroit_nn::gradient_with(&model, Mode::Train, 7, loss).unwrap();
    let inputs = param_values(&model);
    let (v, g) = matrix::value_and_gradient(
        |p| loss_with_params(&model, p, Mode::Train, 7, loss).unwrap(),
        &inputs,
    );
    assert_eq!(v, value);
    assert_eq!(g, param_values(&shaped));
    // And against finite differences, every entry (the dropout mask is the seed's each time).
    let report = adroit_check::matrix_gradcheck(
        |p| loss_with_params(&model, p, Mode::Train, 7, loss).unwrap(),
        &inputs,
        &adroit_check::Options::for_precision::<f64>(),
    )
    .unwrap();
    assert_eq!(report.comparisons, 3 * 5 + 5 + 5 + 5 + 5 * 2);
    // A wrong count or shape is a typed error naming the parameter.
    let _ = matrix::pullback(
        |p| {
            let few = loss_with_params(&model, &p[..2], Mode::Eval, 0, loss);
            let mut swapped = p.to_vec();
            swapped.swap(0, 1);
            let wrong = loss_with_params(&model, &swapped, Mode::Eval, 0, loss);
            match (few, wrong) {
                (
                    Err(NnError::ShapeMismatch { what: a, .. }),
                    Err(NnError::ShapeMismatch {
                        what: b,
                        expected,
                        found,
                    }),
                ) => {
                    assert!(a.contains("2 matrices for 5 parameters"), "{a}");
                    assert!(a.contains("layers.2"), "{a}");
                    assert!(b.contains("layers.0.weight"), "{b}");
                    assert_eq!((expected, found), ((5, 3), (5, 1)));
                }
                other => panic!("{other:?}"),
            }
            p[0].sum()
        },
        &inputs,
    );
}

#[test]
fn a_transposed_input_and_a_non_finite_activation_parameter_are_named() {
    // From a user trial: samples × features data gave only "expected 3×3, found 5×3". And
    // from another (session 61): 3 features × 2 samples for a model of 2 were called
    // transposed, "expected 2×3". Both readings are named now; `expected` keeps the batch.
    let layer = Dense::<f64>::new(
        3,
        2,
        Activation::Relu,
        &mut rand::rngs::StdRng::seed_from_u64(1),
    );
    let err = layer.predict(&DMatrix::zeros(5, 3)).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("5 rows where 3 features are expected"),
        "{message}"
    );
    assert!(
        message.contains("batch × features, transpose it to 3×5)"),
        "{message}"
    );
    assert!(message.ends_with("expected 3×3, found 5×3"), "{message}");
    let err = layer.predict(&DMatrix::zeros(4, 7)).unwrap_err();
    assert!(!err.to_string().contains("transpose"), "{err}");
    // A NaN slope was accepted and made every output NaN.
    for activation in [
        Activation::LeakyRelu(f64::NAN),
        Activation::Elu(f64::INFINITY),
    ] {
        let refused = Dense::from_parts(dmatrix![1.0], None, activation);
        assert!(
            matches!(refused, Err(adroit_nn::NnError::InvalidConfig { .. })),
            "{activation:?}: {refused:?}"
        );
    }
}

/// `params` and `Context` print what they hold (every public type implements `Debug`).
#[test]
fn params_and_context_print_what_they_hold() {
    let layer =
        Dense::from_parts(dmatrix![1.0, 2.0], Some(dmatrix![0.0]), Activation::Tanh).unwrap();
    assert_eq!(
        format!("{:?}", adroit_nn::params(&layer)),
        r#"{"weight": "1×2", "bias": "1×1"}"#
    );
    let ctx = Context::<f64>::new(Mode::Train, 3);
    assert_eq!(
        format!("{ctx:?}"),
        "Context { mode: Train, bound_parameters: 0, .. }"
    );
}

/// `y = LayerNorm(x)` and `∂(Σ w ⊙ y)/∂x` for one column `x`, in precision `T`.
fn layer_norm_value_and_input_gradient<T: MatScalar>(x: &DMatrix<T>) -> (DMatrix<T>, DMatrix<T>) {
    let ln = LayerNorm::<T>::new(x.nrows());
    let w = DMatrix::from_fn(x.nrows(), 1, |i, _| T::from_f64(0.5 + i as f64).unwrap());
    let y = ln.predict(x).unwrap();
    let (_, g) = matrix::value_and_gradient(
        |m| {
            let mut ctx = Context::new(Mode::Eval, 0);
            ln.forward(m[0], &mut ctx).weighted_sum(w.clone())
        },
        std::slice::from_ref(x),
    );
    (y, g[0].clone())
}

/// A column whose squared deviations overflow σ² (1e19 in f32, 1e160 in f64) is normalised as
/// a smaller one: β with zero gradients before (an audit; PyTorch gives that or NaN).
#[test]
fn layer_norm_of_a_column_whose_variance_overflows() {
    let base = [1.0, -1.0, 3.0, 0.0];
    let column = |scale: f64| DMatrix::from_fn(4, 1, |i, _| base[i] * scale);
    // f64 at 1e150 (no overflow) and 1e160 (σ² overflows): the same output, gradients 1e10
    // apart (ε is negligible at both).
    let (y150, g150) = layer_norm_value_and_input_gradient(&column(1e150));
    let (y160, g160) = layer_norm_value_and_input_gradient(&column(1e160));
    assert!(y160.iter().all(|v| v.abs() > 0.1), "{y160}");
    for (a, b) in y150.iter().zip(y160.iter()) {
        assert!((a - b).abs() < 1e-14, "{a} vs {b}");
    }
    for (a, b) in g150.iter().zip(g160.iter()) {
        assert!(
            (a - b * 1e10).abs() <= 1e-12 * a.abs().max(1e-160),
            "{a} vs {b}"
        );
    }
    // f32 at 1e19 against f64 at 1e19
    let (y64, g64) = layer_norm_value_and_input_gradient(&column(1e19));
    let (y32, g32) = layer_norm_value_and_input_gradient(&column(1e19).map(|v| v as f32));
    for (a, b) in y64.iter().zip(y32.iter()) {
        assert!((a - f64::from(*b)).abs() < 1e-5, "{a} vs {b}");
    }
    for (a, b) in g64.iter().zip(g32.iter()) {
        assert!((a - f64::from(*b)).abs() <= 1e-5 * a.abs(), "{a} vs {b}");
    }
}

/// `ε` is checked as `BatchNorm` checks it: a negative or non-finite one is a typed error
/// before the forward pass (a negative one could make `σ² + ε` negative, its root NaN).
#[test]
fn layer_norm_and_group_norm_refuse_a_negative_or_non_finite_epsilon() {
    use adroit_nn::{GroupNorm, NnError};
    let names = |e: NnError| match e {
        NnError::InvalidConfig { name, .. } => name,
        other => panic!("{other}"),
    };
    for bad in [-1e-5, f64::NAN, f64::INFINITY] {
        let mut ln = LayerNorm::<f64>::new(3);
        ln.epsilon = bad;
        assert_eq!(names(ln.check_params().unwrap_err()), "LayerNorm epsilon");
        assert!(ln.predict(&DMatrix::from_element(3, 2, 1.0)).is_err());
        let mut gn = GroupNorm::<f64>::new((2, 1, 2), 1).unwrap();
        gn.epsilon = bad;
        assert_eq!(names(gn.check_params().unwrap_err()), "GroupNorm epsilon");
    }
    let mut ln = LayerNorm::<f64>::new(3);
    ln.epsilon = 0.0;
    assert!(ln.check_params().is_ok());
}
