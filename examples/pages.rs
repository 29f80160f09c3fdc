//! Interactive pages: watch the sweeps of automatic differentiation step by
//! step in a browser, for a scalar function and for one training step of a
//! small MLP on the tensor tape.
//!
//! Run: `cargo run --example pages`, then open the two files it names.
//! The same scalar page comes from the command line:
//! `chainrule graph 'ln(x1) + x1*x2 - sin(x2)' --at x1=2,x2=5 --output baydin.html`,
//! and `chainrule serve --open` makes it a playground.

use chainrule::graph::{Page, capture};
use chainrule::tensor::nn::{Activation, Mlp};
use chainrule::tensor::{Array, TensorTape};
use num_traits::Float;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let directory = std::path::Path::new("target").join("pages");
    std::fs::create_dir_all(&directory)?;

    // Baydin et al. (2018): f(x1, x2) = ln(x1) + x1·x2 − sin(x2) at (2, 5).
    let graph =
        capture(|x| vec![x[0].ln() + x[0] * x[1] - x[1].sin()], &[2.0, 5.0])?.with_input_names(&["x1", "x2"])?;
    let page = Page::new("ln(x1) + x1*x2 - sin(x2)", "x1=2,x2=5").with_walkthrough(graph.walkthrough()?);
    let scalar = directory.join("baydin.html");
    std::fs::write(&scalar, page.to_html())?;

    // One step of a 4-8-3 MLP on a batch of 5: logits, cross-entropy, gradients.
    let mlp = Mlp::<f64>::new(&[4, 8, 3], Activation::Relu, 7);
    let tape = TensorTape::new();
    let data: Vec<f64> = (0..20).map(|k| ((k * 37 % 11) as f64 - 5.0) / 5.0).collect();
    let x = tape.constant(Array::new(vec![5, 4], data)?);
    let (logits, _parameters) = mlp.forward(&tape, x)?;
    let loss = logits.cross_entropy(&[0, 2, 1, 1, 0])?;
    let tensor = directory.join("mlp.html");
    std::fs::write(
        &tensor,
        tape.to_html(&loss, "One training step of a 4-8-3 MLP, batch 5")?,
    )?;

    println!("wrote {} ({} nodes)", scalar.display(), graph.len());
    println!("wrote {} ({} array operations)", tensor.display(), tape.len());
    Ok(())
}
