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
            let mut grads = tape.backward(&loss)?;
            let grads: Vec<Array<f32>> = params.iter().map(|p| grads.take(p)).collect();
            tape.clear(); // the tape lets go of the parameters: updated in place
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

/// The training curves as a self-contained SVG a reader of a paper expects:
/// two panels over one numbered epoch axis, the loss above and the
/// accuracies (%) below, each with ticks, gridlines and a labelled y axis.
pub fn plot(history: &History, hidden: usize) -> String {
    let percent = |v: &[f64]| v.iter().map(|a| 100.0 * a).collect::<Vec<f64>>();
    let (train, test) = (percent(&history.train_accuracy), percent(&history.test_accuracy));
    let lowest = train.iter().chain(&test).copied().fold(100.0f64, f64::min);
    let final_test = test.last().copied().unwrap_or(0.0);
    let panels = [
        Panel {
            axis: "training loss (cross-entropy)",
            legend_low: false,
            range: (0.0, history.loss.iter().copied().fold(0.0, f64::max)),
            series: vec![("training loss", "#b91c1c", history.loss.clone())],
        },
        Panel {
            axis: "accuracy (%)",
            legend_low: true,
            range: (lowest.min(90.0), 100.0),
            series: vec![("train", "#6b7280", train), ("test", "#1d4ed8", test)],
        },
    ];
    let title = format!("MLP 64-{hidden}-10 on UCI digits: final test accuracy {final_test:.2}%");
    chart(&title, &panels, history.loss.len())
}

/// One panel of [`chart`]: a y-axis label, its range, and labelled series.
struct Panel {
    axis: &'static str,
    /// Whether the legend goes to the lower right (away from rising curves).
    legend_low: bool,
    range: (f64, f64),
    series: Vec<(&'static str, &'static str, Vec<f64>)>,
}

/// Panels stacked over a shared axis of epochs 1..=epochs.
fn chart(title: &str, panels: &[Panel], epochs: usize) -> String {
    let (width, panel_height, left, right, top, gap) = (760.0, 220.0, 78.0, 24.0, 46.0, 40.0);
    let height = top + panels.len() as f64 * (panel_height + gap) + 20.0;
    let plot_width = width - left - right;
    let last = epochs.max(2) as f64;
    let x = |epoch: f64| left + plot_width * (epoch - 1.0) / (last - 1.0);
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="Helvetica, Arial, sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="{left}" y="26" font-size="15" font-weight="bold">{title}</text>
"##
    );
    for (p, panel) in panels.iter().enumerate() {
        let y0 = top + p as f64 * (panel_height + gap);
        let (low, high) = panel.range;
        let step = nice_step(high - low);
        let (low, high) = ((low / step).floor() * step, (high / step).ceil() * step);
        let y = |v: f64| y0 + panel_height * (1.0 - (v - low) / (high - low).max(f64::MIN_POSITIVE));
        // Horizontal gridlines with their tick labels.
        let mut v = low;
        while v <= high + step / 2.0 {
            svg.push_str(&format!(
                "<line x1=\"{left}\" y1=\"{yy:.1}\" x2=\"{x2}\" y2=\"{yy:.1}\" stroke=\"#e5e7eb\"/>\n<text x=\"{tx}\" y=\"{ty:.1}\" text-anchor=\"end\">{label}</text>\n",
                yy = y(v),
                x2 = width - right,
                tx = left - 6.0,
                ty = y(v) + 4.0,
                label = tick_label(v, step)
            ));
            v += step;
        }
        // Vertical gridlines at the epoch ticks; numbers under the last panel.
        let epoch_step = nice_step(last - 1.0).max(1.0);
        // Epoch 1, then the multiples of the step.
        let ticks = std::iter::once(1.0).chain((1..).map(|k| k as f64 * epoch_step).skip_while(|&e| e <= 1.0));
        for e in ticks.take_while(|&e| e <= last) {
            svg.push_str(&format!(
                "<line x1=\"{xx:.1}\" y1=\"{y0}\" x2=\"{xx:.1}\" y2=\"{y1}\" stroke=\"#f3f4f6\"/>\n",
                xx = x(e),
                y1 = y0 + panel_height
            ));
            if p + 1 == panels.len() {
                svg.push_str(&format!(
                    "<text x=\"{xx:.1}\" y=\"{ty}\" text-anchor=\"middle\">{e}</text>\n",
                    xx = x(e),
                    ty = y0 + panel_height + 16.0
                ));
            }
        }
        svg.push_str(&format!(
            "<rect x=\"{left}\" y=\"{y0}\" width=\"{plot_width}\" height=\"{panel_height}\" fill=\"none\" stroke=\"#374151\"/>\n\
             <text transform=\"translate(18 {my}) rotate(-90)\" text-anchor=\"middle\">{axis}</text>\n",
            my = y0 + panel_height / 2.0,
            axis = panel.axis
        ));
        let rows = panel.series.len() as f64;
        for (k, (label, colour, values)) in panel.series.iter().enumerate() {
            let row = if panel.legend_low {
                panel_height - 16.0 * (rows - k as f64) - 12.0
            } else {
                16.0 * k as f64
            };
            let points: Vec<String> = values
                .iter()
                .enumerate()
                .map(|(i, &v)| format!("{:.1},{:.1}", x(i as f64 + 1.0), y(v)))
                .collect();
            svg.push_str(&format!(
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>\n\
                 <line x1=\"{lx}\" y1=\"{ly}\" x2=\"{lx2}\" y2=\"{ly}\" stroke=\"{colour}\" stroke-width=\"2\"/>\n\
                 <text x=\"{tx}\" y=\"{ty}\">{label}</text>\n",
                points.join(" "),
                lx = width - right - 150.0,
                lx2 = width - right - 126.0,
                ly = y0 + 16.0 + row,
                tx = width - right - 120.0,
                ty = y0 + 20.0 + row,
            ));
        }
    }
    let axis_y = top + panels.len() as f64 * (panel_height + gap) - gap + 34.0;
    svg.push_str(&format!(
        "<text x=\"{cx}\" y=\"{axis_y}\" text-anchor=\"middle\">epoch</text>\n</svg>\n",
        cx = left + plot_width / 2.0
    ));
    svg
}

/// A round step (1, 2 or 5 times a power of ten) giving about five ticks.
fn nice_step(span: f64) -> f64 {
    if span.is_nan() || span <= 0.0 || span.is_infinite() {
        return 1.0;
    }
    let raw = span / 5.0;
    let power = 10f64.powf(raw.log10().floor());
    let fraction = raw / power;
    power
        * if fraction <= 1.0 {
            1.0
        } else if fraction <= 2.0 {
            2.0
        } else if fraction <= 5.0 {
            5.0
        } else {
            10.0
        }
}

/// A tick value with as many decimals as its step needs.
fn tick_label(value: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{value:.decimals$}")
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
