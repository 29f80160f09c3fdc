//! Timing and reporting: one warm-up, then the median of several runs, each
//! run repeating the call until it lasts long enough to time reliably.

use std::time::{Duration, Instant};

/// How long to measure.
#[derive(Clone, Copy)]
pub struct Budget {
    pub runs: usize,
    pub min_run: Duration,
}

/// Median seconds per call, and how many runs it is the median of.
pub struct Stats {
    pub median_s: f64,
    pub runs: usize,
}

pub fn measure<R>(budget: Budget, mut call: impl FnMut() -> R) -> Stats {
    // Warm-up, which also calibrates the repetitions per run.
    let start = Instant::now();
    std::hint::black_box(call());
    let once = start.elapsed().max(Duration::from_nanos(20));
    let reps = (budget.min_run.as_secs_f64() / once.as_secs_f64()).ceil().max(1.0) as usize;
    let mut samples: Vec<f64> = (0..budget.runs)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..reps {
                std::hint::black_box(call());
            }
            start.elapsed().as_secs_f64() / reps as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    Stats {
        median_s: samples[samples.len() / 2],
        runs: samples.len(),
    }
}

/// One result line, printed as JSON.
pub struct Record<'a> {
    pub workload: &'a str,
    pub n: usize,
    pub system: &'a str,
    pub stats: Stats,
    pub ns_per_op: Option<f64>,
    pub bytes_per_op: Option<f64>,
    pub peak_rss_mb: Option<f64>,
    pub note: Option<String>,
}

impl Record<'_> {
    pub fn print(&self) {
        let mut line = format!(
            r#"{{"workload": "{}", "n": {}, "system": "{}", "median_s": {:e}, "runs": {}"#,
            self.workload, self.n, self.system, self.stats.median_s, self.stats.runs
        );
        if let Some(v) = self.ns_per_op {
            line.push_str(&format!(r#", "ns_per_op": {v:.3}"#));
        }
        if let Some(v) = self.bytes_per_op {
            line.push_str(&format!(r#", "bytes_per_op": {v:.2}"#));
        }
        if let Some(v) = self.peak_rss_mb {
            line.push_str(&format!(r#", "peak_rss_mb": {v:.1}"#));
        }
        if let Some(note) = &self.note {
            line.push_str(&format!(r#", "note": "{}""#, note.replace('"', "'")));
        }
        line.push('}');
        println!("{line}");
    }
}

/// Resident-set figures from /proc/self/status, in MiB: (current, peak).
pub fn rss_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}
