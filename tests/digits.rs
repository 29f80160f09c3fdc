//! The digits example as a test: a short smoke run in every CI run, the
//! accuracy target on demand (`cargo test --release --test digits -- --ignored`).

#[allow(dead_code)]
#[path = "../examples/digits_mlp.rs"]
mod digits_mlp;

use std::path::Path;

use digits_mlp::{Config, load_digits, plot, train};

fn data() -> digits_mlp::Digits {
    load_digits(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data/digits.csv.gz")).expect("data/digits.csv.gz loads")
}

#[test]
fn the_data_set_is_complete() {
    let digits = data();
    assert_eq!(digits.images.len(), 1797);
    assert!(digits.labels.iter().all(|&l| l < 10));
    assert!(digits.images.iter().flatten().all(|&p| (0.0..=1.0).contains(&p)));
}

#[test]
fn two_epochs_learn_something() {
    let config = Config {
        epochs: 2,
        progress: false,
        ..Config::default()
    };
    let history = train(&data(), &config).unwrap();
    assert_eq!(history.loss.len(), 2);
    assert!(history.loss[1] < history.loss[0], "loss {:?}", history.loss);
    // Ten classes: chance is 10%; two epochs already do far better.
    assert!(
        history.test_accuracy[1] > 0.6,
        "test accuracy {:?}",
        history.test_accuracy
    );
    let svg = plot(&history, config.hidden);
    assert!(svg.starts_with("<svg") && svg.contains("polyline"));
}

#[test]
#[ignore = "trains the full example (about a second in release mode); run with --ignored"]
fn the_example_reaches_97_percent() {
    let start = std::time::Instant::now();
    let history = train(
        &data(),
        &Config {
            progress: false,
            ..Config::default()
        },
    )
    .unwrap();
    let accuracy = *history.test_accuracy.last().unwrap();
    assert!(accuracy >= 0.97, "final test accuracy {accuracy}");
    assert!(start.elapsed().as_secs() < 30, "took {:?}", start.elapsed());
}
