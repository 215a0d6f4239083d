//! The classic example: the gradients of a Dense 3 → 2 sigmoid layer under MSE, computed
//! explicitly, through collected parameters, and confirmed by finite differences.
//!
//! Run: `cargo run --example dense_gradient`.

fn main() -> Result<(), adroit_nn::NnError> {
    let g = adroit_examples::classic::run()?;
    println!("∂L/∂W (explicit, model-shaped):{}", g.explicit.0);
    println!("∂L/∂b (explicit):{}", g.explicit.1);
    println!("∂L/∂W (implicit, grads[&model.weight]):{}", g.implicit.0);
    println!("∂L/∂b (implicit):{}", g.implicit.1);
    println!("∂L/∂W (finite differences):{}", g.finite_differences.0);
    println!("∂L/∂b (finite differences):{}", g.finite_differences.1);
    let diff = (&g.explicit.0 - &g.finite_differences.0)
        .amax()
        .max((&g.explicit.1 - &g.finite_differences.1).amax());
    println!("largest difference from finite differences: {diff:.1e}");
    Ok(())
}
