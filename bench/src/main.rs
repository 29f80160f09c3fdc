//! Side-by-side benchmarks of chainrule and the Rust AD libraries users
//! would otherwise pick. Prints one JSON object per line; `bench/run` adds
//! ADOL-C and JAX and writes `bench/results.json` and `BENCHMARKS.md`.
//!
//! Usage: chainrule-bench [--quick] [--only W1,W3,...] [--tiny]
//!        chainrule-bench --w2 SYSTEM [--quick]   (one system per process, for peak RSS)
//!        chainrule-bench --w11 SYSTEM [--quick]  (likewise)
//!        chainrule-bench --w7 [--quick]          (W7 alone, with its peak RSS)
//!        chainrule-bench --w9-loop SYSTEM         (20 000 W9 gradients at n = 1000, for paired
//!                                                 whole-process timing: farm-bench A --vs B)

mod digits;
mod functions;
mod peers;
mod systems;
mod timing;

use std::time::Duration;

use chainrule::{Recording, Var};
use functions::*;
use systems::{Output, W1, W1_FORWARD, W3_CHUNKED, W3_JVP, floor_f64};
use timing::{Budget, Record, Stats, measure, rss_mb};

/// Every system's gradient must match the floor's before it is timed.
const TOLERANCE: f64 = 1e-10;

struct Config {
    quick: bool,
    tiny: bool,
    budget: Budget,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let quick = has("--quick");
    let tiny = has("--tiny");
    let budget = if tiny {
        Budget {
            runs: 1,
            min_run: Duration::from_millis(1),
        }
    } else if quick {
        Budget {
            runs: 5,
            min_run: Duration::from_millis(20),
        }
    } else {
        Budget {
            runs: 7,
            min_run: Duration::from_millis(100),
        }
    };
    let config = Config { quick, tiny, budget };
    if let Some(system) = value("--w2") {
        w2_tape_stress(&config, &system);
        return;
    }
    if let Some(system) = value("--w9-loop") {
        w9_loop(&system);
        return;
    }
    if let Some(system) = value("--w11") {
        w11_checkpoint(&config, &system);
        return;
    }
    if has("--w7") {
        w7_rosenbrock_tensor(&config, true);
        return;
    }
    let only = value("--only");
    let wanted = |w: &str| only.as_deref().is_none_or(|list| list.split(',').any(|x| x == w));
    if wanted("W1") {
        w1_rosenbrock(&config);
    }
    if wanted("W3") {
        w3_jvp(&config);
    }
    if wanted("W4") {
        w4_jacobian(&config);
    }
    if wanted("W5") {
        w5_hessian(&config);
    }
    if wanted("W6") {
        w6_mlp_step(&config);
    }
    // W7 runs in its own process (--w7, for its peak RSS) unless asked for here.
    if only.is_some() && wanted("W7") {
        w7_rosenbrock_tensor(&config, false);
    }
    if wanted("W8") {
        w8_sparse_hessian(&config);
    }
    if wanted("W9") {
        w9_replay(&config);
    }
    if wanted("W10") {
        w10_mlp_train(&config);
    }
}

fn check(system: &str, what: &str, got: &[f64], want: &[f64]) {
    let error = max_relative_error(got, want);
    assert!(
        error <= TOLERANCE,
        "{system}: {what} differs from the reference by {error:e} (relative): not timed"
    );
}

fn report(workload: &str, n: usize, system: &str, stats: Stats, ops: Option<usize>) {
    record(workload, n, system, stats, ops).print();
}

/// A result line's record: the time, and the time per operation when `ops`
/// is given.
fn record<'a>(workload: &'a str, n: usize, system: &'a str, stats: Stats, ops: Option<usize>) -> Record<'a> {
    let ns_per_op = ops.map(|ops| stats.median_s * 1e9 / ops as f64);
    Record {
        workload,
        n,
        system,
        stats,
        ns_per_op,
        bytes_per_op: None,
        peak_rss_mb: None,
        note: None,
    }
}

fn w1_rosenbrock(config: &Config) {
    let sizes: &[usize] = if config.tiny {
        &[100]
    } else if config.quick {
        &[100, 1_000, 10_000, 100_000]
    } else {
        &[100, 1_000, 10_000, 100_000, 1_000_000]
    };
    for &n in sizes {
        let x = point(n);
        let ops = ROSENBROCK_OPS_PER_TERM * (n - 1);
        let mut gradient = vec![0.0; n];
        let value = rosenbrock_adjoint(&x, &mut gradient);
        let mut floors: Vec<(&str, Stats)> = Vec::new();
        for &(name, system) in W1.iter().chain(if n <= 10_000 { W1_FORWARD } else { &[] }) {
            check_output(name, &system(&x), value, &gradient);
            let stats = measure(config.budget, || system(std::hint::black_box(&x)));
            match name.strip_prefix("floor-adjoint-") {
                Some(form) => floors.push((form, stats)),
                None => report("rosenbrock_grad", n, name, stats, Some(ops)),
            }
        }
        // The floor is the faster of the two hand-written adjoints; the note
        // gives both.
        let both = floors
            .iter()
            .map(|(form, stats)| format!("{form} {:.3} ns/op", stats.median_s * 1e9 / ops as f64))
            .collect::<Vec<_>>()
            .join(", ");
        let (form, stats) = floors
            .into_iter()
            .min_by(|a, b| a.1.median_s.total_cmp(&b.1.median_s))
            .expect("two floor forms");
        Record {
            workload: "rosenbrock_grad",
            n,
            system: "floor-adjoint",
            ns_per_op: Some(stats.median_s * 1e9 / ops as f64),
            stats,
            bytes_per_op: None,
            peak_rss_mb: None,
            note: Some(format!(
                "n = {n}: the faster of the hand-written forms is {form} ({both})"
            )),
        }
        .print();
        let stats = measure(config.budget, || floor_f64(std::hint::black_box(&x)));
        report("rosenbrock_grad", n, "floor-f64", stats, Some(ops));
    }
}

/// Checks a system's value and derivative against the references before
/// it is timed.
fn check_output(system: &str, output: &Output, value: f64, derivative: &[f64]) {
    check(system, "value", &[output.value], &[value]);
    check(system, "derivative", &output.derivative, derivative);
}

/// W2 in this process, for one system: record and backward timed apart,
/// memory as the growth of the resident set while recording.
fn w2_tape_stress(config: &Config, system: &str) {
    let target_ops = if config.tiny { 100_000 } else { 10_000_000 };
    let steps = target_ops / TAPE_STRESS_OPS_PER_STEP;
    let ops = steps * TAPE_STRESS_OPS_PER_STEP;
    let x = point(16);
    let runs = config.budget.runs.max(5);
    let (rss_before, _) = rss_mb();
    let mut record_times = Vec::new();
    let mut backward_times = Vec::new();
    let mut gradient = Vec::new();
    let mut exact_bytes = None;
    // One warm-up run, then `runs` timed ones; the tape is reused between runs
    // by every system that offers reuse.
    match system {
        "chainrule-reverse" => {
            for run in 0..=runs {
                let t0 = std::time::Instant::now();
                let rec = Recording::<f64>::new();
                let inputs = rec.inputs(&x);
                let y = tape_stress(&inputs, steps);
                let t1 = std::time::Instant::now();
                gradient = rec.gradient(y).unwrap();
                let t2 = std::time::Instant::now();
                exact_bytes = Some(rec.tape_bytes() as f64 / rec.len() as f64);
                if run > 0 {
                    record_times.push((t1 - t0).as_secs_f64());
                    backward_times.push((t2 - t1).as_secs_f64());
                }
            }
        }
        "echidna-reverse" => {
            let mut tape = echidna::tape::Tape::<f64>::new();
            for run in 0..=runs {
                let t0 = std::time::Instant::now();
                tape.clear();
                let inputs: Vec<echidna::Reverse<f64>> = x
                    .iter()
                    .map(|&v| {
                        let (index, value) = tape.new_variable(v);
                        echidna::Reverse::from_tape(value, index)
                    })
                    .collect();
                let guard = echidna::tape::TapeGuard::new(&mut tape);
                let y = tape_stress(&inputs, steps);
                drop(guard);
                let t1 = std::time::Instant::now();
                let adjoints = tape.reverse(y.index());
                let t2 = std::time::Instant::now();
                gradient = adjoints[..x.len()].to_vec();
                if run > 0 {
                    record_times.push((t1 - t0).as_secs_f64());
                    backward_times.push((t2 - t1).as_secs_f64());
                }
            }
        }
        "floor-f64" => {
            // The function alone on plain numbers: what every system pays
            // before any differentiation (sin and exp dominate).
            for run in 0..=runs {
                let t0 = std::time::Instant::now();
                std::hint::black_box(tape_stress(std::hint::black_box(&x), steps));
                if run > 0 {
                    record_times.push(t0.elapsed().as_secs_f64());
                    backward_times.push(0.0);
                }
            }
            gradient = chainrule::jacfwd(|v| vec![tape_stress(v, steps)], &x)
                .unwrap()
                .row(0)
                .to_vec();
        }
        other => panic!("unknown W2 system {other}: use chainrule-reverse, echidna-reverse or floor-f64"),
    }
    let (rss_after, peak) = rss_mb();
    // Every system must agree with chainrule's forward mode on the same chain.
    let reference = chainrule::jacfwd(|v| vec![tape_stress(v, steps)], &x).unwrap();
    check(system, "gradient", &gradient, reference.row(0));
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let record_s = median(&mut record_times);
    let backward_s = median(&mut backward_times);
    // Peak resident memory above the starting point, per operation: the tape
    // and whatever the sweep needs, measured the same way for every system.
    let growth = (peak - rss_before) * 1024.0 * 1024.0 / ops as f64;
    let _ = rss_after;
    let note = exact_bytes.map(|b| format!("exact tape bytes per recorded node: {b:.2}"));
    let parts: &[(&str, f64)] = if system == "floor-f64" {
        &[("record", record_s), ("total", record_s)]
    } else {
        &[
            ("record", record_s),
            ("backward", backward_s),
            ("total", record_s + backward_s),
        ]
    };
    for &(part, seconds) in parts {
        Record {
            workload: &format!("tape_stress_{part}"),
            n: ops,
            system,
            stats: Stats {
                median_s: seconds,
                runs,
            },
            ns_per_op: Some(seconds * 1e9 / ops as f64),
            bytes_per_op: (part == "total").then_some(growth),
            peak_rss_mb: (part == "total").then_some(peak),
            note: if part == "total" { note.clone() } else { None },
        }
        .print();
    }
}

/// W11: the gradient of the final energy of 10⁶ explicit Euler steps of two
/// coupled damped pendulums (4 states, 3 parameters) with respect to the
/// parameters and the initial state: checkpointed every ⌈√n⌉ steps, by the
/// binomial schedule with 20 checkpoints, or one recording of the whole loop. One system per process, for peak RSS; both
/// checked against forward mode (7 directions in one pass, no tape).
fn w11_checkpoint(config: &Config, system: &str) {
    use chainrule::checkpoint::{Schedule, checkpointed_value_and_grad};
    let steps = if config.tiny { 1_000 } else { 1_000_000 };
    let params = [9.81, 0.01, 0.7];
    let initial = [0.8, 0.0, -0.4, 0.5];
    let x: Vec<f64> = params.iter().chain(&initial).copied().collect();
    let (_, rss_before) = rss_mb();
    let whole = |v: &[Var<f64>]| {
        let mut s = v[3..].to_vec();
        for _ in 0..steps {
            s = coupled_pendulums(&v[..3], &s);
        }
        energy(&s)
    };
    let checkpointed = |schedule: Schedule| {
        let run = checkpointed_value_and_grad(
            |p: &[Var<f64>], s: &[Var<f64>]| coupled_pendulums(p, s),
            |s: &[Var<f64>]| energy(s),
            std::hint::black_box(&params),
            &initial,
            steps,
            schedule,
        )
        .unwrap();
        (run.value, run.params.iter().chain(&run.initial).copied().collect())
    };
    let ours = || -> (f64, Vec<f64>) {
        match system {
            "chainrule-checkpoint" => checkpointed(Schedule::sqrt(steps)),
            "chainrule-checkpoint-binomial20" => checkpointed(Schedule::Binomial { checkpoints: 20 }),
            "chainrule-whole-tape" => chainrule::value_and_grad(whole, std::hint::black_box(&x)).unwrap(),
            other => panic!(
                "unknown W11 system {other}: use chainrule-checkpoint, chainrule-checkpoint-binomial20 or chainrule-whole-tape"
            ),
        }
    };
    let (_, gradient) = ours();
    let reference = chainrule::jacfwd(
        |v| {
            let mut s = v[3..].to_vec();
            for _ in 0..steps {
                s = coupled_pendulums(&v[..3], &s);
            }
            vec![energy(&s)]
        },
        &x,
    )
    .unwrap();
    check(system, "checkpoint", &gradient, reference.row(0));
    let stats = measure(config.budget, ours);
    let (_, peak) = rss_mb();
    Record {
        workload: "checkpoint",
        n: steps,
        system,
        stats,
        ns_per_op: None,
        bytes_per_op: None,
        peak_rss_mb: Some(peak),
        note: Some(format!("peak RSS at start: {rss_before:.0} MB")),
    }
    .print();
}

fn w3_jvp(config: &Config) {
    let n = if config.tiny { 100 } else { 1_000 };
    let x = point(n);
    let v: Vec<f64> = (0..n).map(|i| ((i * 13 % 7) as f64 - 3.0) / 3.0).collect();
    let mut reference = vec![0.0; n];
    let value = rosenbrock_adjoint(&x, &mut reference);
    let directional: f64 = reference.iter().zip(&v).map(|(g, v)| g * v).sum();
    let ops = ROSENBROCK_OPS_PER_TERM * (n - 1);

    for &(name, system) in W3_JVP {
        check_output(name, &system(&x, &v), value, &[directional]);
        let stats = measure(config.budget, || {
            system(std::hint::black_box(&x), std::hint::black_box(&v))
        });
        report("jvp", n, name, stats, Some(ops));
    }
    for &(name, system) in W3_CHUNKED {
        check_output(name, &system(&x), value, &reference);
        let stats = measure(config.budget, || system(std::hint::black_box(&x)));
        report("forward_gradient", n, name, stats, None);
    }
}

/// W4: the values and Jacobian of a dense map from every system, each
/// checked before it is timed.
fn w4_jacobian(config: &Config) {
    let shapes: &[(&str, usize, usize)] = &[
        ("jacobian_dense", 100, 100),
        ("jacobian_tall", 10, 1000),
        ("jacobian_wide", 1000, 10),
    ];
    for &(workload, n, m) in shapes {
        let (n, m) = if config.tiny { (n.min(20), m.min(20)) } else { (n, m) };
        let x = point(n);
        let values = dense_map(&x, m);
        let reference = chainrule::jacrev(|v| dense_map(v, m), &x).unwrap();
        let flat = reference.as_slice();
        let shape = format!("{n}x{m}");
        let check_both = |system: &str, (v, j): (&[f64], &[f64])| {
            check(system, "values", v, &values);
            check(system, "jacobian", j, flat);
        };

        let record = |system: &str, stats: Stats| {
            Record {
                workload,
                n,
                system,
                stats,
                ns_per_op: None,
                bytes_per_op: None,
                peak_rss_mb: None,
                note: Some(shape.clone()),
            }
            .print()
        };
        // The auto mode on a function generic over the number type: jacfwd or
        // jacrev by shape, after one plain evaluation for the output count.
        let generic = DenseMap { outputs: m };
        let auto = || chainrule::value_and_jacobian_of(&generic, std::hint::black_box(&x)).unwrap();
        let (v, j) = auto();
        check_both("chainrule-jacobian_of", (&v, j.as_slice()));
        record("chainrule-jacobian_of", measure(config.budget, auto));
        // The auto mode on a `Var` closure: one recording, swept by shape.
        let recorded = || chainrule::value_and_jacobian(|v| dense_map(v, m), std::hint::black_box(&x)).unwrap();
        let (v, j) = recorded();
        check_both("chainrule-jacobian", (&v, j.as_slice()));
        record("chainrule-jacobian", measure(config.budget, recorded));
        let forward = || {
            chainrule::value_and_jacfwd::<f64, { chainrule::JACFWD_CHUNK }>(
                |v| dense_map(v, m),
                std::hint::black_box(&x),
            )
            .unwrap()
        };
        let (v, j) = forward();
        check_both("chainrule-jacfwd", (&v, j.as_slice()));
        record("chainrule-jacfwd", measure(config.budget, forward));
        let reverse = || {
            chainrule::api::record_jacobian(
                |v| dense_map(v, m),
                std::hint::black_box(&x),
                chainrule::api::Sweep::Reverse,
            )
            .unwrap()
        };
        let (v, j) = reverse();
        check_both("chainrule-jacrev", (&v, j.as_slice()));
        record("chainrule-jacrev", measure(config.budget, reverse));

        let num_dual = || peers::num_dual_jacobian_chunked::<8>(std::hint::black_box(&x), m);
        let (v, j) = num_dual();
        check_both("num-dual-chunk8", (&v, &j));
        record("num-dual-chunk8", measure(config.budget, num_dual));
        let echidna = || peers::echidna_jacobian(std::hint::black_box(&x), m);
        let (v, j) = echidna();
        check_both("echidna-forward", (&v, &j));
        record("echidna-forward", measure(config.budget, echidna));
    }
}

/// W5: value, gradient and dense Hessian from every system, each checked
/// against the closed forms before it is timed.
fn w5_hessian(config: &Config) {
    let n = if config.tiny { 10 } else { 100 };
    let x = point(n);
    type HessianVar = Var<chainrule::DualN<f64, 8>>;
    type Case = (&'static str, fn(&[HessianVar]) -> HessianVar, f64, Vec<f64>, Vec<f64>);
    let mut rosenbrock_gradient = vec![0.0; n];
    rosenbrock_adjoint(&x, &mut rosenbrock_gradient);
    let (dense_gradient, dense_hessian) = dense_hessian_closed_form(&x);
    let cases: [Case; 2] = [
        (
            "hessian_rosenbrock",
            rosenbrock,
            rosenbrock(&x),
            rosenbrock_gradient,
            rosenbrock_hessian(&x),
        ),
        (
            "hessian_dense",
            dense_hessian_fn,
            dense_hessian_fn(&x),
            dense_gradient,
            dense_hessian,
        ),
    ];
    for (workload, f, value, gradient, hessian) in cases {
        let check_all = |system: &str, (v, g, h): (f64, &[f64], &[f64])| {
            check(system, workload, &[v], &[value]);
            check(system, workload, g, &gradient);
            check(system, workload, h, &hessian);
        };
        let ours = || chainrule::value_grad_hessian(f, std::hint::black_box(&x)).unwrap();
        let (v, g, h) = ours();
        check_all("chainrule-hessian", (v, &g, h.as_slice()));
        report(workload, n, "chainrule-hessian", measure(config.budget, ours), None);

        let dense = workload == "hessian_dense";
        let num_dual = || peers::num_dual_hessian(std::hint::black_box(&x), dense);
        let (v, g, h) = num_dual();
        check_all("num-dual-hessian", (v, &g, &h));
        report(workload, n, "num-dual-hessian", measure(config.budget, num_dual), None);

        let echidna = || peers::echidna_hessian(std::hint::black_box(&x), dense);
        let (v, g, h) = echidna();
        check_all("echidna-hessian8", (v, &g, &h));
        report(workload, n, "echidna-hessian8", measure(config.budget, echidna), None);

        // Recorded once (outside the timing), swept at the point: the dense
        // Hessian, and for the banded Rosenbrock the star-coloured sparse one.
        let program = chainrule::program::record(w5_function_on_tape(dense), &x).unwrap();
        let dense_program = || program.value_gradient_hessian(std::hint::black_box(&x)).unwrap();
        let (v, g, h) = dense_program();
        check_all("chainrule-program", (v, &g, h.as_slice()));
        report(
            workload,
            n,
            "chainrule-program",
            measure(config.budget, dense_program),
            None,
        );
        if !dense {
            let sparse = || program.value_gradient_sparse_hessian(std::hint::black_box(&x)).unwrap();
            let (v, g, h) = sparse();
            let h = h.to_dense().expect("a small dense Hessian");
            check_all("chainrule-program-sparse", (v, &g, h.as_slice()));
            report(
                workload,
                n,
                "chainrule-program-sparse",
                measure(config.budget, sparse),
                None,
            );
        }
    }
}

/// The W5 function on tape variables, for recording a program.
fn w5_function_on_tape(dense: bool) -> fn(&[Var<f64>]) -> Var<f64> {
    if dense { dense_hessian_fn } else { rosenbrock }
}

/// W8: sparse Hessians (value, gradient and every nonzero) of Rosenbrock
/// (tridiagonal) and a 5-point-stencil energy, from a program or tape
/// recorded once: chainrule's star-coloured sweeps against echidna's
/// bytecode tape (`sparse_hessian_vec::<8>`).
fn w8_sparse_hessian(config: &Config) {
    let sizes: &[usize] = if config.tiny { &[100] } else { &[1_000, 10_000, 100_000] };
    for stencil in [false, true] {
        let workload = if stencil {
            "sparse_hessian_stencil"
        } else {
            "sparse_hessian_rosenbrock"
        };
        for &size in sizes {
            let n = if stencil {
                ((size as f64).sqrt() as usize).pow(2)
            } else {
                size
            };
            let x = point(n);
            let program = if stencil {
                chainrule::program::record(stencil_energy, &x).unwrap()
            } else {
                chainrule::program::record(rosenbrock, &x).unwrap()
            };
            let tape = peers::echidna_record(&x, stencil);
            // Same value, gradient and nonzeros from both.
            let (value, gradient, h) = program.value_gradient_sparse_hessian(&x).unwrap();
            let (e_value, e_gradient, entries) = peers::echidna_sparse_hessian(&tape, &x);
            check("chainrule-program-sparse", workload, &[value], &[e_value]);
            check("chainrule-program-sparse", workload, &gradient, &e_gradient);
            let ours: Vec<f64> = entries
                .iter()
                .map(|&(r, c, _)| h.row(r).find(|&(j, _)| j == c).map_or(0.0, |(_, v)| v))
                .collect();
            let theirs: Vec<f64> = entries.iter().map(|&(_, _, v)| v).collect();
            check("chainrule-program-sparse", workload, &ours, &theirs);
            let colours = program.hessian_colouring().1.count;
            let ours = || program.value_gradient_sparse_hessian(std::hint::black_box(&x)).unwrap();
            Record {
                workload,
                n,
                system: "chainrule-program-sparse",
                stats: measure(config.budget, ours),
                ns_per_op: None,
                bytes_per_op: None,
                peak_rss_mb: None,
                note: Some(format!("{colours} colours")),
            }
            .print();
            let theirs = || peers::echidna_sparse_hessian(&tape, std::hint::black_box(&x));
            report(
                workload,
                n,
                "echidna-bytecode-sparse8",
                measure(config.budget, theirs),
                None,
            );
        }
    }
}

/// W9: the value and gradient at a new point of a function recorded earlier:
/// chainrule's program replay, re-recording with `value_and_grad`, and
/// echidna's bytecode tape (ADOL-C's replay is W1's `adolc-taped` row).
/// W10: the digits MLP's whole training (80 epochs), timed end to end from
/// the loaded data to the test accuracy; the network must reach 97% on the
/// held-out fifth before it is timed. `n` is the number of training steps.
fn w10_mlp_train(config: &Config) {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/digits.csv.gz");
    let digits = digits::load(&data);
    let (train_set, test_set) = digits::split(&digits);
    let first = digits::train(&digits, &train_set, &test_set);
    assert!(
        first.test_accuracy >= 0.97,
        "chainrule-tensor: digits test accuracy {:.4} is under 97%: not timed",
        first.test_accuracy
    );
    let budget = Budget {
        runs: if config.tiny { 1 } else { 3 },
        min_run: Duration::ZERO,
    };
    let mut last = None;
    let stats = measure(budget, || {
        let trained = digits::train(&digits, &train_set, &test_set);
        let loss = trained.final_loss;
        last = Some(trained);
        loss
    });
    let trained = last.expect("measured at least once");
    Record {
        workload: "mlp_train",
        n: trained.steps,
        system: "chainrule-tensor",
        note: Some(format!(
            "{:.0} steps/s, test accuracy {:.2}%",
            trained.steps as f64 / stats.median_s,
            100.0 * trained.test_accuracy
        )),
        stats,
        ns_per_op: None,
        bytes_per_op: None,
        peak_rss_mb: None,
    }
    .print();
}

fn w9_replay(config: &Config) {
    let sizes: &[usize] = if config.tiny { &[100] } else { &[1_000, 100_000] };
    for &n in sizes {
        let recorded_at = point(n);
        let x: Vec<f64> = recorded_at.iter().map(|v| v + 0.125).collect();
        let ops = ROSENBROCK_OPS_PER_TERM * (n - 1);
        let mut reference = vec![0.0; n];
        rosenbrock_adjoint(&x, &mut reference);
        let program = chainrule::program::record(rosenbrock, &recorded_at).unwrap();
        let value = rosenbrock(&x);
        let check_both = |system: &str, (v, g): (f64, Vec<f64>)| {
            check(system, "replay value", &[v], &[value]);
            check(system, "replay gradient", &g, &reference);
        };
        let replay = || program.value_and_gradient(std::hint::black_box(&x)).unwrap();
        check_both("chainrule-program", replay());
        report(
            "replay_gradient",
            n,
            "chainrule-program",
            measure(config.budget, replay),
            Some(ops),
        );
        let again = || chainrule::value_and_grad(rosenbrock, std::hint::black_box(&x)).unwrap();
        check_both("chainrule-reverse", again());
        report(
            "replay_gradient",
            n,
            "chainrule-reverse (re-record)",
            measure(config.budget, again),
            Some(ops),
        );
        let mut tape = peers::echidna_record(&recorded_at, false);
        check_both("echidna-bytecode", peers::echidna_value_and_gradient(&mut tape, &x));
        let stats = measure(config.budget, || {
            peers::echidna_value_and_gradient(&mut tape, std::hint::black_box(&x))
        });
        report("replay_gradient", n, "echidna-bytecode", stats, Some(ops));
    }
}

/// W9 as a whole process: 20 000 gradients of Rosenbrock n = 10³ at a new
/// point by one system, so that two systems can be timed in alternation
/// (`farm-bench -- chainrule-bench --w9-loop A --vs 'chainrule-bench
/// --w9-loop B'`), which a drifting machine does not bias.
fn w9_loop(system: &str) {
    let n = 1_000;
    let recorded_at = point(n);
    let x: Vec<f64> = recorded_at.iter().map(|v| v + 0.125).collect();
    let mut reference = vec![0.0; n];
    rosenbrock_adjoint(&x, &mut reference);
    let rounds = 20_000;
    match system {
        "chainrule-program" => {
            let program = chainrule::program::record(rosenbrock, &recorded_at).unwrap();
            check(system, "replay", &program.gradient(&x).unwrap(), &reference);
            for _ in 0..rounds {
                std::hint::black_box(program.value_and_gradient(std::hint::black_box(&x)).unwrap());
            }
        }
        "chainrule-reverse" => {
            check(system, "replay", &chainrule::grad(rosenbrock, &x).unwrap(), &reference);
            for _ in 0..rounds {
                std::hint::black_box(chainrule::value_and_grad(rosenbrock, std::hint::black_box(&x)).unwrap());
            }
        }
        "echidna-bytecode" => {
            let mut tape = peers::echidna_record(&recorded_at, false);
            check(
                system,
                "replay",
                &peers::echidna_value_and_gradient(&mut tape, &x).1,
                &reference,
            );
            for _ in 0..rounds {
                std::hint::black_box(peers::echidna_value_and_gradient(&mut tape, std::hint::black_box(&x)));
            }
        }
        other => panic!("unknown W9 system {other}: use chainrule-program, chainrule-reverse or echidna-bytecode"),
    }
}

/// W6: one SGD step of an MLP 784-128-10 (ReLU, cross-entropy), batch 64, f32.
fn w6_mlp_step(config: &Config) {
    use chainrule::tensor::nn::{Activation, Mlp, Optimizer, Sgd, SplitMix64};
    use chainrule::tensor::{Array, TensorTape};
    let (batch, inputs, hidden, classes) = if config.tiny {
        (8, 32, 16, 10)
    } else {
        (64, 784, 128, 10)
    };
    let mut rng = SplitMix64::new(7);
    let x = Array::new(
        vec![batch, inputs],
        (0..batch * inputs).map(|_| rng.uniform() as f32).collect(),
    )
    .unwrap();
    let labels: Vec<usize> = (0..batch).map(|_| (rng.next_u64() % classes as u64) as usize).collect();
    let mut mlp = Mlp::<f32>::new(&[inputs, hidden, classes], Activation::Relu, 3);
    let mut sgd = Sgd::new(0.01f32, 0.0);
    let mut tape = TensorTape::new();

    // Check the output layer's gradient against a hand-written backprop:
    // dW2 = hᵀ·(softmax(logits) − onehot)/batch.
    {
        let (logits, params) = mlp.forward(&tape, tape.constant(x.clone())).unwrap();
        let loss = logits.cross_entropy(&labels).unwrap();
        let grads = tape.backward(&loss).unwrap();
        let w1 = &mlp.layers()[0];
        let h = x.matmul(&w1.weight).unwrap().add(&w1.bias).unwrap().map(|v| v.max(0.0));
        let mut delta = logits.value().as_ref().clone();
        for (row, &label) in delta.data_mut().chunks_mut(classes).zip(&labels) {
            let max = row.iter().copied().fold(f32::MIN, f32::max);
            let total: f32 = row.iter().map(|v| (v - max).exp()).sum();
            row.iter_mut()
                .for_each(|v| *v = (*v - max).exp() / total / batch as f32);
            row[label] -= 1.0 / batch as f32;
        }
        let by_hand = h.transpose().unwrap().matmul(&delta).unwrap();
        let ours: Vec<f64> = grads.of(&params[2]).data().iter().map(|&v| f64::from(v)).collect();
        let reference: Vec<f64> = by_hand.data().iter().map(|&v| f64::from(v)).collect();
        let error = max_relative_error(&ours, &reference);
        assert!(
            error < 1e-4,
            "chainrule-tensor: output-layer gradient differs by {error:e} (f32): not timed"
        );
    }
    // The batch is shared with each step's tape, not copied (as JAX's
    // jitted step reads its argument in place).
    let shared_x = std::rc::Rc::new(x.clone());
    let stats = measure(config.budget, || {
        tape.clear();
        let (logits, params) = mlp
            .forward(&tape, tape.constant(std::rc::Rc::clone(&shared_x)))
            .unwrap();
        let loss = logits.cross_entropy(&labels).unwrap();
        let mut grads = tape.backward(&loss).unwrap();
        let grads: Vec<Array<f32>> = params.iter().map(|p| grads.take(p)).collect();
        // The step's loss, as every system returns it.
        let value = loss.value().data()[0];
        // The tape lets go of the parameters, so they are updated in place.
        tape.clear();
        sgd.step(&mut mlp.parameters_mut(), &grads).unwrap();
        value
    });
    report("mlp_step", batch, "chainrule-tensor", stats, None);

    // The floor: the five matrix products of a step (two forward, three backward).
    let w1 = Array::<f32>::zeros(vec![inputs, hidden]);
    let w2 = Array::<f32>::zeros(vec![hidden, classes]);
    let h = Array::<f32>::zeros(vec![batch, hidden]);
    let g = Array::<f32>::zeros(vec![batch, classes]);
    let stats = measure(config.budget, || {
        let a = x.matmul(&w1).unwrap();
        let b = a.matmul(&w2).unwrap();
        let dw2 = h.matmul_transposed(true, &g, false).unwrap();
        let dh = g.matmul_transposed(false, &w2, true).unwrap();
        let dw1 = x.matmul_transposed(true, &dh, false).unwrap();
        (b, dw2, dw1)
    });
    report("mlp_step", batch, "floor-gemm", stats, None);
}

/// W7: the Rosenbrock gradient written with tensor operations, n = 10⁶, f64.
fn w7_rosenbrock_tensor(config: &Config, own_process: bool) {
    use chainrule::tensor::{Array, TensorTape};
    let (rss_at_start, _) = rss_mb();
    let n = if config.tiny { 1_000 } else { 1_000_000 };
    let x = point(n);
    let mut reference = vec![0.0; n];
    rosenbrock_adjoint(&x, &mut reference);
    // Shared with each tape, not copied (as JAX's jitted function reads its argument in place).
    let array = std::rc::Rc::new(Array::new(vec![n], x.clone()).unwrap());
    let gradient = || {
        let tape = TensorTape::new();
        let v = tape.input(std::rc::Rc::clone(&array));
        let head = v.slice(0, 0, n - 1).unwrap();
        let tail = v.slice(0, 1, n).unwrap();
        let a = tail.sub(&head.mul(&head).unwrap()).unwrap();
        let b = head.scale(-1.0).offset(1.0);
        let loss = a.mul(&a).unwrap().scale(100.0).add(&b.mul(&b).unwrap()).unwrap().sum();
        // The gradient first: the sum's value then comes from the sweep's
        // own pass (as JAX's value_and_grad), and the gradient is moved out.
        let mut gradients = tape.backward(&loss).unwrap();
        (loss.value().data()[0], gradients.take(&v))
    };
    let (value, g) = gradient();
    check(
        "chainrule-tensor",
        "rosenbrock_tensor value",
        &[value],
        &[rosenbrock(&x)],
    );
    check("chainrule-tensor", "rosenbrock_tensor gradient", g.data(), &reference);
    let stats = measure(config.budget, gradient);
    let line = record(
        "rosenbrock_tensor",
        n,
        "chainrule-tensor",
        stats,
        Some(ROSENBROCK_OPS_PER_TERM * (n - 1)),
    );
    if !own_process {
        line.print();
        return;
    }
    let (_, peak) = rss_mb();
    Record {
        peak_rss_mb: Some(peak),
        note: Some(format!("peak RSS at start: {rss_at_start:.0} MB")),
        ..line
    }
    .print();
}
