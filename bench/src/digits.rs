//! W10: the digits MLP's whole training, the workload of
//! `examples/digits_mlp.rs`: UCI optical digits (1,797 images of 8×8 pixels,
//! `data/digits.csv.gz`), a fixed 80/20 split, a 64-128-10 ReLU network in
//! f32, Adam (learning rate 5·10⁻⁴), batches of 32 reshuffled every epoch,
//! 80 epochs. `bench/python/jax_bench.py` trains the same network on the same
//! split and batch order (the split and shuffles come from the same
//! SplitMix64 streams).

use std::io::Read;
use std::path::Path;
use std::rc::Rc;

use chainrule::tensor::nn::{Activation, Adam, Mlp, Optimizer, SplitMix64};
use chainrule::tensor::{Array, TensorTape};

pub const EPOCHS: usize = 80;
pub const HIDDEN: usize = 128;
pub const BATCH: usize = 32;
pub const LEARNING_RATE: f32 = 5e-4;
/// Seeds of the split, of the initial weights and of the epoch shuffles.
pub const SPLIT_SEED: u64 = 12345;
pub const SEED: u64 = 0;

/// Images scaled to [0, 1], 64 values each, and their labels.
pub struct Digits {
    pub images: Vec<f32>,
    pub labels: Vec<usize>,
}

/// Reads the gzipped CSV: 64 pixel values (0–16) then the label, per row.
pub fn load(path: &Path) -> Digits {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).expect("data/digits.csv.gz"))
        .read_to_string(&mut text)
        .expect("a gzipped CSV");
    let mut digits = Digits {
        images: Vec::new(),
        labels: Vec::new(),
    };
    for line in text.lines() {
        let fields: Vec<f32> = line.split(',').map(|f| f.trim().parse().expect("a number")).collect();
        assert_eq!(fields.len(), 65, "64 pixels and a label per row");
        digits.images.extend(fields[..64].iter().map(|p| p / 16.0));
        digits.labels.push(fields[64] as usize);
    }
    digits
}

/// The rows `indices` as a `[len, 64]` array.
fn rows(digits: &Digits, indices: &[usize]) -> Array<f32> {
    let data = indices
        .iter()
        .flat_map(|&i| digits.images[i * 64..(i + 1) * 64].iter().copied())
        .collect();
    Array::new(vec![indices.len(), 64], data).expect("64 pixels per image")
}

/// What one training run did.
pub struct Trained {
    pub steps: usize,
    pub final_loss: f32,
    pub test_accuracy: f64,
}

/// The split: the training and test indices.
pub fn split(digits: &Digits) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..digits.labels.len()).collect();
    SplitMix64::new(SPLIT_SEED).shuffle(&mut order);
    let cut = order.len() * 4 / 5;
    (order[..cut].to_vec(), order[cut..].to_vec())
}

/// Trains from scratch and measures the test accuracy at the end.
pub fn train(digits: &Digits, train_set: &[usize], test_set: &[usize]) -> Trained {
    let mut train_set = train_set.to_vec();
    let mut mlp = Mlp::<f32>::new(&[64, HIDDEN, 10], Activation::Relu, SEED);
    let mut adam = Adam::new(LEARNING_RATE);
    let mut rng = SplitMix64::new(SEED.wrapping_add(1));
    let mut tape = TensorTape::new();
    let (mut steps, mut final_loss) = (0, f32::NAN);
    for _ in 0..EPOCHS {
        rng.shuffle(&mut train_set);
        for batch in train_set.chunks(BATCH) {
            tape.clear();
            let labels: Vec<usize> = batch.iter().map(|&i| digits.labels[i]).collect();
            let inputs = Rc::new(rows(digits, batch));
            let (logits, params) = mlp.forward(&tape, tape.constant(inputs)).expect("shapes fit");
            let loss = logits.cross_entropy(&labels).expect("labels in range");
            final_loss = loss.value().data()[0];
            let mut grads = tape.backward(&loss).expect("a scalar loss");
            let grads: Vec<Array<f32>> = params.iter().map(|p| grads.take(p)).collect();
            tape.clear(); // the parameters are then updated in place
            adam.step(&mut mlp.parameters_mut(), &grads)
                .expect("one gradient per parameter");
            steps += 1;
        }
    }
    let tape = TensorTape::new();
    let (logits, _) = mlp
        .forward(&tape, tape.constant(rows(digits, test_set)))
        .expect("shapes fit");
    let logits = logits.value();
    let correct = logits
        .data()
        .chunks(10)
        .zip(test_set)
        .filter(|(row, i)| {
            let best = row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(k, _)| k);
            best == Some(digits.labels[**i])
        })
        .count();
    Trained {
        steps,
        final_loss,
        test_accuracy: correct as f64 / test_set.len() as f64,
    }
}
