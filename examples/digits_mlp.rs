//! Trains a multilayer perceptron on real data: the UCI optical handwritten
//! digits (1,797 images of 8×8 pixels, `data/digits.csv.gz`, CC BY 4.0, see
//! `data/README.md`), with chainrule's tensor tape, Adam, f32.
//!
//! Fixed seed, fixed 80/20 split, a progress bar per epoch, a line per epoch
//! with loss and accuracy, and the curves written to an SVG.
//!
//! Run: `cargo run --release --example digits_mlp [-- --epochs N --plot FILE]`

use std::error::Error;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chainrule::tensor::nn::{Activation, Adam, Mlp, Optimizer, SplitMix64};
use chainrule::tensor::{Array, TensorTape};

/// What to train and how.
pub struct Config {
    pub epochs: usize,
    pub hidden: usize,
    pub batch: usize,
    pub learning_rate: f32,
    pub seed: u64,
    pub progress: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            epochs: 80,
            hidden: 128,
            batch: 32,
            learning_rate: 5e-4,
            seed: 0,
            progress: true,
        }
    }
}

/// Per-epoch figures.
#[derive(Default)]
pub struct History {
    pub loss: Vec<f64>,
    pub train_accuracy: Vec<f64>,
    pub test_accuracy: Vec<f64>,
}

/// Images (scaled to [0, 1]) and labels.
pub struct Digits {
    pub images: Vec<[f32; 64]>,
    pub labels: Vec<usize>,
}

/// Reads `data/digits.csv.gz`: 64 pixel values then the label, per row.
pub fn load_digits(path: &Path) -> Result<Digits, Box<dyn Error>> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path)?).read_to_string(&mut text)?;
    let mut digits = Digits {
        images: Vec::new(),
        labels: Vec::new(),
    };
    for (line_number, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 65 {
            return Err(format!(
                "{}: line {}: {} fields, expected 65",
                path.display(),
                line_number + 1,
                fields.len()
            )
            .into());
        }
        let mut image = [0f32; 64];
        for (pixel, field) in image.iter_mut().zip(&fields) {
            *pixel = field.trim().parse::<f32>()? / 16.0;
        }
        digits.images.push(image);
        digits.labels.push(fields[64].trim().parse::<f64>()? as usize);
    }
    Ok(digits)
}

fn batch_array(digits: &Digits, indices: &[usize]) -> Array<f32> {
    let data = indices.iter().flat_map(|&i| digits.images[i]).collect();
    Array::new(vec![indices.len(), 64], data).expect("64 pixels per image")
}

/// Fraction of `indices` the network classifies correctly.
fn accuracy(mlp: &Mlp<f32>, digits: &Digits, indices: &[usize]) -> Result<f64, Box<dyn Error>> {
    let tape = TensorTape::new();
    let (logits, _) = mlp.forward(&tape, tape.constant(batch_array(digits, indices)))?;
    let logits = logits.value();
    let correct = logits
        .data()
        .chunks(10)
        .zip(indices)
        .filter(|(row, i)| {
            let best = row.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(k, _)| k);
            best == Some(digits.labels[**i])
        })
        .count();
    Ok(correct as f64 / indices.len() as f64)
}

/// Trains on a fixed 80% of the data and reports accuracy on the other 20%.
pub fn train(digits: &Digits, config: &Config) -> Result<History, Box<dyn Error>> {
    let mut order: Vec<usize> = (0..digits.labels.len()).collect();
    SplitMix64::new(12345).shuffle(&mut order); // the split never changes
    let cut = order.len() * 4 / 5;
    let (train_set, test_set) = order.split_at(cut);
    let mut train_set = train_set.to_vec();

    let mut mlp = Mlp::<f32>::new(&[64, config.hidden, 10], Activation::Relu, config.seed);
    let mut adam = Adam::new(config.learning_rate);
    let mut rng = SplitMix64::new(config.seed.wrapping_add(1));
    let mut history = History::default();
    let mut tape = TensorTape::new();
    for epoch in 1..=config.epochs {
        rng.shuffle(&mut train_set);
        let batches = train_set.len().div_ceil(config.batch);
        let bar = if config.progress {
            let bar = indicatif::ProgressBar::new(batches as u64);
            bar.set_message(format!("epoch {epoch}"));
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        let mut total_loss = 0.0;
        for batch in train_set.chunks(config.batch) {
            tape.clear(); // each step records afresh: nothing grows between steps
            let labels: Vec<usize> = batch.iter().map(|&i| digits.labels[i]).collect();
            let (logits, params) = mlp.forward(&tape, tape.constant(batch_array(digits, batch)))?;
            let loss = logits.cross_entropy(&labels)?;
            total_loss += f64::from(loss.value().data()[0]) * batch.len() as f64;
            let grads = tape.backward(&loss)?;
            let grads: Vec<Array<f32>> = params.iter().map(|p| grads.of(p)).collect();
            adam.step(&mut mlp.parameters_mut(), &grads)?;
            bar.inc(1);
        }
        bar.finish_and_clear();
        history.loss.push(total_loss / train_set.len() as f64);
        history.train_accuracy.push(accuracy(&mlp, digits, &train_set)?);
        history.test_accuracy.push(accuracy(&mlp, digits, test_set)?);
        if config.progress {
            println!(
                "epoch {epoch:>3}: loss {:.4}, train accuracy {:.2}%, test accuracy {:.2}%",
                history.loss[epoch - 1],
                100.0 * history.train_accuracy[epoch - 1],
                100.0 * history.test_accuracy[epoch - 1]
            );
        }
    }
    Ok(history)
}

/// The loss and the accuracies per epoch, as a self-contained SVG.
pub fn plot(history: &History, hidden: usize) -> String {
    let (width, height, margin) = (720.0, 360.0, 50.0);
    let epochs = history.loss.len().max(2) as f64;
    let max_loss = history.loss.iter().copied().fold(f64::MIN_POSITIVE, f64::max);
    let x = |epoch: usize| margin + (width - 2.0 * margin) * epoch as f64 / (epochs - 1.0);
    let y = |fraction: f64| height - margin - (height - 2.0 * margin) * fraction;
    let line = |values: &[f64], scale: f64, color: &str| {
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(k, v)| format!("{:.1},{:.1}", x(k), y(v / scale)))
            .collect();
        format!(
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            points.join(" ")
        )
    };
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="Helvetica, Arial, sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="{margin}" y="24" font-size="15" font-weight="bold">MLP 64-{hidden}-10 on UCI digits: training loss and accuracy per epoch</text>
<line x1="{margin}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#374151"/>
<line x1="{margin}" y1="{top}" x2="{margin}" y2="{bottom}" stroke="#374151"/>
<text x="{right}" y="{below}" text-anchor="end">epoch {epochs_label}</text>
<text x="{margin}" y="{top_label}">1.0 (accuracy) / {max_loss:.3} (loss)</text>
{loss}
{train}
{test}
<text x="{legend}" y="200" fill="#dc2626">training loss</text>
<text x="{legend}" y="216" fill="#9ca3af">train accuracy</text>
<text x="{legend}" y="232" fill="#2563eb">test accuracy (final {final_test:.2}%)</text>
</svg>
"##,
        bottom = height - margin,
        right = width - margin,
        top = margin,
        below = height - margin + 20.0,
        top_label = margin - 6.0,
        epochs_label = history.loss.len(),
        loss = line(&history.loss, max_loss, "#dc2626"),
        train = line(&history.train_accuracy, 1.0, "#9ca3af"),
        test = line(&history.test_accuracy, 1.0, "#2563eb"),
        legend = width - margin - 220.0,
        final_test = 100.0 * history.test_accuracy.last().copied().unwrap_or(0.0),
    )
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let mut config = Config::default();
    if let Some(epochs) = value("--epochs") {
        config.epochs = epochs
            .parse()
            .map_err(|_| format!("--epochs: '{epochs}' is not a whole number"))?;
    }
    if let Some(seed) = value("--seed") {
        config.seed = seed
            .parse()
            .map_err(|_| format!("--seed: '{seed}' is not a whole number"))?;
    }
    let plot_path = value("--plot").map_or_else(|| PathBuf::from("target/digits_training.svg"), PathBuf::from);
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/digits.csv.gz");
    let digits = load_digits(&data)?;
    println!(
        "{} images, {} epochs, MLP 64-{}-10, Adam (lr {}), batch {}",
        digits.labels.len(),
        config.epochs,
        config.hidden,
        config.learning_rate,
        config.batch
    );
    let start = Instant::now();
    let history = train(&digits, &config)?;
    let seconds = start.elapsed().as_secs_f64();
    if let Some(parent) = plot_path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&plot_path, plot(&history, config.hidden))?;
    println!(
        "final test accuracy {:.2}% after {:.1} s; curves in {}",
        100.0 * history.test_accuracy.last().copied().unwrap_or(0.0),
        seconds,
        plot_path.display()
    );
    Ok(())
}
