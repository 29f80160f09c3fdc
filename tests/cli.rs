//! The built `chainrule` binary, run as users run it.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::assert_close;
use serde_json::Value;

fn chainrule(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args(args)
        .output()
        .expect("the chainrule binary runs")
}

/// Feeds `input` to the command's standard input from another thread, which
/// stops quietly when the command stops reading (a refusal).
fn chainrule_with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the chainrule binary runs");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

/// Runs a command that must succeed and print one JSON object.
fn json(args: &[&str]) -> Value {
    let out = chainrule(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.trim().lines().count(),
        1,
        "one JSON object on one line: {stdout}"
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn numbers(value: &Value) -> Vec<f64> {
    value.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()
}

/// Runs a command that must fail with exit code 2; returns its stderr.
fn failure(args: &[&str]) -> String {
    let out = chainrule(args);
    assert_eq!(out.status.code(), Some(2), "{args:?} should exit with 2");
    assert!(out.stdout.is_empty(), "{args:?} printed to stdout on failure");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("error:"), "{args:?}: {stderr}");
    stderr
}

const BAYDIN: &str = "ln(x1) + x1*x2 - sin(x2)";

#[test]
fn baydin_example_in_both_modes() {
    for mode in ["forward", "reverse"] {
        let j = json(&["grad", BAYDIN, "--at", "x1=2,x2=5", "--mode", mode, "--json"]);
        assert_eq!(j["inputs"], serde_json::json!(["x1", "x2"]));
        assert_eq!(j["mode"], mode);
        assert_close(
            j["value"].as_f64().unwrap(),
            2f64.ln() + 10.0 - 5f64.sin(),
            1e-15,
            "value",
        );
        assert!((j["value"].as_f64().unwrap() - 11.652071).abs() < 1e-6);
        let g = numbers(&j["gradient"]);
        assert_eq!(g[0], 5.5);
        assert_close(g[1], 2.0 - 5f64.cos(), 1e-15, "∂f/∂x2");
        assert!((g[1] - 1.716338).abs() < 1e-6);
    }
}

#[test]
fn human_output_names_values_with_enough_digits() {
    let out = chainrule(&["grad", BAYDIN, "--at", "x1=2,x2=5"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("11.65207"), "{text}");
    assert!(text.contains("∂f/∂x1") && text.contains("5.5"), "{text}");
    assert!(text.contains("∂f/∂x2") && text.contains("1.716337"), "{text}");
    assert!(text.contains("reverse mode"), "{text}");
}

#[test]
fn seed_example() {
    for x in [-1.0_f64, 0.5, 1.5] {
        let at = format!("x={x}");
        let j = json(&["grad", "exp(-x^2)", "--at", &at, "--json"]);
        let exact = -2.0 * x * (-x * x).exp();
        assert!(((numbers(&j["gradient"])[0] - exact) / exact).abs() <= 1e-14);
    }
}

#[test]
fn expressions_and_values_may_start_with_minus_and_options_go_anywhere() {
    let j = json(&["grad", "-x^2", "--at", "x=-1.5", "--json"]);
    assert_eq!(numbers(&j["gradient"]), vec![3.0]); // d/dx −x² = −2x
    let j = json(&["grad", "--json", "--at", "x=-1.5", "-x^2"]);
    assert_eq!(numbers(&j["gradient"]), vec![3.0]);
    assert_eq!(j["value"], -2.25);
}

#[test]
fn jacobian_against_closed_form_in_every_mode() {
    // F(x, y) = (x·y, x + y, sin x); J = [[y, x], [1, 1], [cos x, 0]]
    let exact = [[2.0, 1.0], [1.0, 1.0], [1f64.cos(), 0.0]];
    for (mode, expected_mode) in [("auto", "forward"), ("forward", "forward"), ("reverse", "reverse")] {
        let j = json(&[
            "jacobian",
            "x*y; x+y; sin(x)",
            "--at",
            "x=1,y=2",
            "--mode",
            mode,
            "--json",
        ]);
        assert_eq!(j["mode"], expected_mode, "auto picks forward for 2 inputs ≤ 3 outputs");
        assert_eq!(numbers(&j["value"]), vec![2.0, 3.0, 1f64.sin()]);
        for (row, want) in j["jacobian"].as_array().unwrap().iter().zip(exact) {
            assert_eq!(numbers(row), want.to_vec());
        }
    }
    // Wide: 3 inputs > 1 output, auto picks reverse.
    let j = json(&["jacobian", "x*y*z", "--at", "x=1,y=2,z=3", "--json"]);
    assert_eq!(j["mode"], "reverse");
    assert_eq!(numbers(&j["jacobian"][0]), vec![6.0, 3.0, 2.0]);
}

#[test]
fn hessian_against_closed_form() {
    // f = x²y + y³: ∇f = (2xy, x² + 3y²), H = [[2y, 2x], [2x, 6y]]
    let j = json(&["hessian", "x^2*y + y^3", "--at", "x=1,y=2", "--json"]);
    assert_eq!(j["value"], 10.0);
    assert_eq!(numbers(&j["gradient"]), vec![4.0, 13.0]);
    let h: Vec<Vec<f64>> = j["hessian"].as_array().unwrap().iter().map(numbers).collect();
    assert_eq!(h, vec![vec![4.0, 2.0], vec![2.0, 12.0]]);
}

#[test]
fn unused_inputs_get_derivative_zero() {
    let j = json(&["grad", "x^2", "--at", "x=3,unused=1", "--json"]);
    assert_eq!(j["inputs"], serde_json::json!(["x", "unused"]));
    assert_eq!(numbers(&j["gradient"]), vec![6.0, 0.0]);
}

#[test]
fn eval_and_non_finite_numbers() {
    assert_eq!(
        json(&["eval", "2^10 + pi - pi", "--json"]),
        serde_json::json!({"value": 1024.0})
    );
    let out = chainrule(&["eval", "ln(-1)", "--json"]);
    assert!(out.status.success(), "a domain problem is not an error");
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), r#"{"value":"NaN"}"#);
    assert!(String::from_utf8(out.stderr).unwrap().starts_with("warning:"));
    let j = json(&["grad", "sqrt(x) + 1/y", "--at", "x=0,y=0", "--json"]);
    assert_eq!(j["value"], "Infinity");
    assert_eq!(j["gradient"], serde_json::json!(["Infinity", "-Infinity"]));
}

#[test]
fn json_numbers_round_trip_exactly() {
    let j = json(&["eval", "x / 3", "--at", "x=1", "--json"]);
    assert_eq!(j["value"].as_f64().unwrap().to_bits(), (1.0f64 / 3.0).to_bits());
}

#[test]
fn expression_errors_show_a_caret_under_the_character() {
    let stderr = failure(&["grad", "sin(x)×2", "--at", "x=1"]);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines[0], "error: unexpected character '×'");
    assert_eq!(lines[1], "  sin(x)×2");
    assert_eq!(lines[2], "        ^", "the caret counts characters, not bytes");
}

#[test]
fn each_error_kind_has_its_own_message() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["grad", "sni(x)", "--at", "x=1"],
            "unknown function 'sni' (did you mean 'sin'?)",
        ),
        (
            &["grad", "sin(x, x)", "--at", "x=1"],
            "'sin' takes 1 argument, but 2 were given",
        ),
        (&["grad", "(x + 1", "--at", "x=1"], "unclosed parenthesis"),
        (&["grad", "x +", "--at", "x=1"], "ends after '+'"),
        (&["grad", "2x", "--at", "x=1"], "no implicit multiplication"),
        (&["grad", "x)", "--at", "x=1"], "unmatched ')'"),
        (&["grad", "x*y", "--at", "x=1"], "variable 'y' has no value"),
        (&["grad", "x", "--at", "x=abc"], "'abc' is not a number"),
        (&["grad", "x", "--at", "x"], "'x' has no value"),
        (&["grad", "x", "--at", "x=1,x=2"], "'x' is given twice"),
        (
            &["grad", "x", "--at", "x=1", "--mode", "sideways"],
            "invalid value 'sideways'",
        ),
        (
            &["jacobian", "x", "--at", "x=1", "--mode", "upward"],
            "invalid value 'upward'",
        ),
        (&["grad", "x; x^2", "--at", "x=1"], "use 'chainrule jacobian'"),
        (&["hessian", "x; x^2", "--at", "x=1"], "use 'chainrule jacobian'"),
        (&["grad", "", "--at", "x=1"], "empty expression"),
    ];
    for (args, message) in cases {
        let stderr = failure(args);
        assert!(stderr.contains(message), "{args:?}: expected '{message}' in {stderr}");
    }
    let unclosed = failure(&["grad", "sin(x", "--at", "x=1"]);
    assert!(
        unclosed.lines().nth(2).is_some_and(|l| l == "     ^"),
        "caret under '(': {unclosed}"
    );
}

#[test]
fn hostile_inputs_work_or_fail_cleanly() {
    // 10⁵ unary minus signs: an even count, so the function is x.
    let minus = format!("{}x", "-".repeat(100_000));
    let j = json(&["grad", &minus, "--at", "x=2", "--json"]);
    assert_eq!(numbers(&j["gradient"]), vec![1.0]);

    // A sum of 2·10⁵ terms is longer than one command-line argument may be,
    // so it comes through --file (and standard input).
    let sum = format!("x{}", " + x".repeat(199_999));
    let out = chainrule_with_stdin(&["grad", "--file", "-", "--at", "x=0.5", "--json"], sum.as_bytes());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(numbers(&j["gradient"]), vec![200_000.0]);
    assert_eq!(j["value"], 100_000.0);

    // 10⁵ nested parentheses exceed the nesting limit: a clear error.
    let nested = format!("{}x{}", "(".repeat(100_000), ")".repeat(100_000));
    let out = chainrule_with_stdin(&["grad", "--file", "-", "--at", "x=1"], nested.as_bytes());
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("error: parentheses and function calls are nested deeper than 200"),
        "{stderr}"
    );

    // Garbage bytes and a missing file.
    failure(&["eval", "\u{1}\u{7f}x"]);
    failure(&["eval", "--file", "/nonexistent/expression.txt"]);
}

#[test]
fn help_explains_itself_with_examples() {
    for args in [
        &["--help"][..],
        &["grad", "--help"],
        &["jacobian", "--help"],
        &["hessian", "--help"],
        &["eval", "--help"],
    ] {
        let out = chainrule(args);
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("Example"), "{args:?}: {text}");
        assert!(text.contains("chainrule "), "{args:?}: {text}");
    }
}

#[test]
fn endless_or_huge_input_is_refused_after_reading_only_the_limit() {
    // /dev/zero never ends: reading stops a little past the limit.
    let message = failure(&["grad", "--file", "/dev/zero", "--at", "x=1"]);
    assert!(
        message.contains("longer than the limit of 1000000 characters"),
        "{message}"
    );
    // 20 MB on standard input likewise.
    let out = chainrule_with_stdin(&["eval", "--file", "-", "--at", "x=1"], &vec![b'x'; 20_000_000]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("longer than the limit"));
    // Not UTF-8: said so, with the offset.
    let out = chainrule_with_stdin(&["eval", "--file", "-"], b"x + \xff");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not UTF-8 text (invalid byte at offset 4)"));
}

#[test]
fn a_hundred_thousand_distinct_variables_parse_in_linear_time() {
    // Before hashing, each new name was compared with every earlier one.
    let source: Vec<String> = (0..100_000).map(|k| format!("v{k}")).collect();
    let out = chainrule_with_stdin(&["eval", "--file", "-"], source.join(" + ").as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("variable 'v0' has no value"), "{stderr}");
}

#[test]
fn traces_pictures_and_matrices_have_size_limits() {
    let sum = vec!["x"; 300_000].join("+");
    let out = chainrule_with_stdin(&["trace", "--file", "-", "--at", "x=1"], sum.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("300000 nodes, more than the 100000 a trace shows"),
        "{stderr}"
    );
    let out = chainrule_with_stdin(&["graph", "--file", "-", "--at", "x=1"], sum.as_bytes());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("more than the 2000 a picture shows; use --json"),
        "{stderr}"
    );
    // A 1001×1001 Hessian is over the million entries the command line prints.
    let names: Vec<String> = (0..1001).map(|k| format!("v{k}")).collect();
    let at: Vec<String> = names.iter().map(|n| format!("{n}=1")).collect();
    let message = failure(&["hessian", &names.join("*"), "--at", &at.join(",")]);
    assert!(
        message.contains("1001×1001, more than the 1000000 entries"),
        "{message}"
    );
    // 1000 inputs are fine.
    let h = json(&[
        "hessian",
        &names[..1000].join("+"),
        "--at",
        &at[..1000].join(","),
        "--json",
    ]);
    assert_eq!(h["hessian"].as_array().unwrap().len(), 1000);
}

#[test]
fn points_out_of_range_are_refused_like_literals() {
    let at = failure(&["eval", "x", "--at", "x=1e400"]);
    let literal = failure(&["eval", "1e400"]);
    assert!(at.contains("number '1e400' is too large for a 64-bit float"), "{at}");
    assert!(
        literal.contains("number '1e400' is too large for a 64-bit float"),
        "{literal}"
    );
    // Infinity spelled out is a deliberate choice, and accepted.
    let value = json(&["eval", "x", "--at", "x=-inf", "--json"]);
    assert_eq!(value["value"], "-Infinity");
}

#[test]
fn echoed_input_cannot_act_on_the_terminal_and_stays_short() {
    for source in ["x\u{1b}[2J + 1", "\u{202e}x + 1", "x + \u{7}"] {
        let message = failure(&["eval", source, "--at", "x=1"]);
        assert!(
            !message.contains('\u{1b}') && !message.contains('\u{202e}') && !message.contains('\u{7}'),
            "{message:?}"
        );
        assert!(message.contains("\\u{"), "{message:?}");
    }
    let message = failure(&["eval", "x", "--at", "x\u{1b}]0;pwned\u{7}=1"]);
    assert!(!message.contains('\u{1b}'), "{message:?}");
    // A 999,999-character name: the message quotes a window of it.
    let long = "a".repeat(999_999);
    let out = chainrule_with_stdin(&["eval", "--file", "-"], long.as_bytes());
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stderr.len() < 1_000, "{} bytes of error message", out.stderr.len());
}

#[test]
fn log_takes_an_optional_base() {
    let value = json(&["eval", "log(8, 2) + log(e)", "--json"]);
    assert_eq!(value["value"], 4.0);
    let g = json(&["grad", "log(x, 10)", "--at", "x=100", "--json"]);
    assert_eq!(numbers(&g["gradient"]), vec![1.0 / (100.0 * 10f64.ln())]);
}

#[test]
fn sqrt_of_minus_x_at_zero_has_slope_minus_infinity() {
    for mode in ["forward", "reverse"] {
        let g = json(&["grad", "sqrt(-x)", "--at", "x=0", "--mode", mode, "--json"]);
        assert_eq!(g["gradient"][0], "-Infinity", "{mode}");
    }
}

#[test]
fn hessian_at_the_ends_of_the_integer_powers() {
    // x^-2147483647: the second derivative needs n − 2 = i32::MIN − 1.
    let h = json(&["hessian", "x^-2147483647", "--at", "x=1", "--json"]);
    assert_eq!(h["hessian"][0][0], -2147483647.0 * -2147483648.0);
}

#[test]
fn program_prints_the_optimised_recording() {
    let out = chainrule(&["program", "sin(x)*y + sin(x)^2", "--at", "x=1,y=2"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("(6 nodes, optimised"), "{text}");
    assert!(
        text.contains("v2 = sin(v0)\nv3 = v2 * v1\nv4 = v2^2\nv5 = v3 + v4\noutput 0 = v5\n"),
        "{text}"
    );
    let plain = chainrule(&["program", "sin(x)*y + sin(x)^2", "--at", "x=1,y=2", "--unoptimised"]);
    assert!(
        String::from_utf8(plain.stdout)
            .unwrap()
            .contains("(7 nodes, as recorded")
    );
    let json = json(&["program", "x*2+1", "--at", "x=1", "--json"]);
    assert_eq!(json["nodes"].as_array().unwrap().len(), 5);
    assert_eq!(json["nodes"][1]["value"], 2.0);
    assert_eq!(json["outputs"][0], 4);
}

#[test]
fn a_reader_that_stops_early_is_not_a_crash() {
    // 1000×1000 Hessian, about 4 MB of JSON, into a pipe closed after 10 bytes.
    let names: Vec<String> = (0..1000).map(|k| format!("x{k}")).collect();
    let at: Vec<String> = names.iter().map(|n| format!("{n}=0.5")).collect();
    let expr: Vec<String> = names.windows(2).map(|w| format!("({} - {}^2)^2", w[1], w[0])).collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args(["hessian", &expr.join(" + "), "--at", &at.join(","), "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

/// The distinct function names a text lists between `start` and `end`,
/// sorted (words of letters, digits and underscores that name a function).
fn listed_functions(text: &str, start: &str, end: &str) -> Vec<String> {
    let from = text.find(start).expect("the list's opening words") + start.len();
    let to = from + text[from..].find(end).expect("the list's closing words");
    let mut names: Vec<String> = text[from..to]
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| chainrule::expr::lookup_function(word).is_some())
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn the_readme_and_the_help_list_every_function_of_the_expression_language() {
    let mut table: Vec<String> = chainrule::expr::FUNCTIONS
        .iter()
        .map(|(name, _)| name.to_string())
        .collect();
    table.sort();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let in_readme = listed_functions(&readme, "and the functions", "`;");
    assert_eq!(in_readme, table, "README.md's list of functions");
    let help = String::from_utf8(chainrule(&["--help"]).stdout).unwrap();
    let in_help = listed_functions(&help, "and the functions", "(two arguments)");
    assert_eq!(in_help, table, "chainrule --help's list of functions");
}

#[test]
fn stop_gradient_holds_its_argument_constant() {
    let output = chainrule(&["grad", "x*stop_gradient(x)", "--at", "x=3", "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["value"], 9.0);
    assert_eq!(json["gradient"][0], 3.0);
}

/// The data a page carries, read back from its script element.
fn page_data(html: &str) -> Value {
    let start = html.find("type=\"application/json\">").expect("the page has data") + 24;
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).expect("the page's data is JSON")
}

#[test]
fn graph_writes_an_interactive_page() {
    let dir = std::env::temp_dir().join(format!("chainrule-page-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("baydin.HTM");
    let out = chainrule(&[
        "graph",
        "ln(x1) + x1*x2 - sin(x2)",
        "--at",
        "x1=2,x2=5",
        "--output",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(&path).unwrap();
    let data = page_data(&html);
    let sweeps = data["walkthrough"]["sweeps"].as_array().unwrap();
    assert_eq!(sweeps.len(), 3, "two forward sweeps (one per input) and one reverse");
    // The last set of each node's tangent along x1: Baydin et al., table 2.
    let mut tangents = vec![String::new(); 7];
    for step in sweeps[0]["steps"].as_array().unwrap() {
        for set in step["sets"].as_array().unwrap() {
            if set[1] == 1 {
                tangents[set[0].as_u64().unwrap() as usize] = set[2].as_str().unwrap().to_string();
            }
        }
    }
    assert_eq!(tangents, ["1", "0", "0.5", "5", "0", "5.5", "5.5"]);
    std::fs::remove_dir_all(&dir).unwrap();

    // To standard output with --format, and the options a page does not take.
    let out = chainrule(&["graph", "x*y", "--at", "x=1,y=2", "--format", "html"]);
    assert!(String::from_utf8(out.stdout).unwrap().starts_with("<!doctype html>"));
    assert!(
        failure(&["graph", "x*y", "--at", "x=1,y=2", "--format", "html", "--wrt", "x"])
            .contains("drop --json, --wrt and --of")
    );
    assert!(failure(&["graph", "x", "--at", "x=1", "--output", "g.png"]).contains(".svg, .dot or .html"));
    let long = vec!["sin(x)"; 600].join(" + ");
    assert!(failure(&["graph", &long, "--at", "x=1", "--format", "html"]).contains("more than the 500 a page shows"));
}

#[test]
fn chain_multiplies_the_stage_jacobians() {
    // f1(x, y) = (xy, x + y, sin x), f2(a, b, c) = (abc, a − c), f3(p, q) = pq.
    let three_stages = [
        "chain",
        "--stage",
        "x*y; x+y; sin(x)",
        "--stage",
        "a*b*c; a-c",
        "--stage",
        "p*q",
        "--at",
        "x=1,y=2",
    ];
    let data = json(&[&three_stages[..], &["--json"]].concat());
    // f = (xy·(x+y)·sin x)·(xy − sin x); its gradient by the product rule.
    let (x, y) = (1.0f64, 2.0f64);
    let (p, q) = (x * y * (x + y) * x.sin(), x * y - x.sin());
    let dp_dx = y * (x + y) * x.sin() + x * y * x.sin() + x * y * (x + y) * x.cos();
    let dp_dy = x * (x + y) * x.sin() + x * y * x.sin();
    let dq_dx = y - x.cos();
    let dq_dy = x;
    let product = numbers(&data["product"][0]);
    assert_close(product[0], dp_dx * q + p * dq_dx, 1e-14, "∂f/∂x");
    assert_close(product[1], dp_dy * q + p * dq_dy, 1e-14, "∂f/∂y");
    // Sizes 2 → 3 → 2 → 1: forward 2·3·2 + 1·2·2, reverse 1·3·2 + 1·2·3.
    assert_eq!(data["forward_multiply_adds"], "16");
    assert_eq!(data["reverse_multiply_adds"], "12");
    assert!(data["difference_from_whole"].as_f64().unwrap() < 1e-14);

    let text = chainrule(&three_stages);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("reverse (left to right, 1 row pulled back): 12   ← cheaper"),
        "{text}"
    );

    let message = failure(&[
        "chain",
        "--stage",
        "x*y; x+y; sin(x)",
        "--stage",
        "a*c; c",
        "--at",
        "x=1,y=2",
    ]);
    assert!(
        message.contains("stage 2 reads 2 names (a, c) but stage 1 has 3 outputs"),
        "{message}"
    );
    let named = json(&[
        "chain",
        "--stage",
        "x*y; x+y; sin(x)",
        "--stage",
        "a, b, c -> a*c; c",
        "--at",
        "x=1,y=2",
        "--json",
    ]);
    assert_eq!(named["stages"][1]["inputs"], serde_json::json!(["a", "b", "c"]));
    assert!(failure(&["chain", "--stage", "x", "--stage", "a, a -> a", "--at", "x=1"]).contains("listed twice"));
    assert!(failure(&["chain", "--stage", "x", "--stage", "2a -> a", "--at", "x=1"]).contains("not a variable name"));
    assert!(failure(&["chain", "--stage", "x -> x", "--at", "x=1"]).contains("stage 1 reads the names in --at"));
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = chainrule(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        let serve = if cfg!(feature = "serve") { "serve" } else { "chain" };
        for command in ["grad", "jacobian", "hessian", "graph", "chain", serve] {
            assert!(script.contains(command), "{shell} completions lack {command}");
        }
    }
    let bash = chainrule(&["completions", "bash"]).stdout;
    let path = std::env::temp_dir().join(format!("chainrule-completions-{}.bash", std::process::id()));
    std::fs::write(&path, bash).unwrap();
    if let Ok(check) = Command::new("bash").arg("-n").arg(&path).output() {
        assert!(
            check.status.success(),
            "bash -n: {}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
    std::fs::remove_file(&path).unwrap();
    assert!(failure(&["completions", "tcsh"]).contains("possible values"));
}
