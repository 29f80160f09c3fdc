//! The computational graph: Baydin et al.'s tables, agreement with the
//! engine's sweeps, and the DOT and SVG pictures.

use std::process::Command;

use chainrule::graph::{Graph, GraphOp, capture};
use chainrule::{Recording, jacobian, jvp};
use num_traits::Float;

fn baydin<T: Float>(x: &[T]) -> Vec<T> {
    vec![x[0].ln() + x[0] * x[1] - x[1].sin()]
}

fn baydin_graph() -> Graph {
    capture(baydin, &[2.0, 5.0])
        .unwrap()
        .with_input_names(&["x1", "x2"])
        .unwrap()
}

/// Baydin et al. (JMLR 2018), tables 2 and 3, at (x1, x2) = (2, 5).
const IDS: [&str; 7] = ["v-1", "v0", "v1", "v2", "v3", "v4", "v5"];
const OPS: [&str; 7] = ["input", "input", "ln", "*", "sin", "+", "-"];

fn primal() -> [f64; 7] {
    [
        2.0,
        5.0,
        2f64.ln(),
        10.0,
        5f64.sin(),
        2f64.ln() + 10.0,
        2f64.ln() + 10.0 - 5f64.sin(),
    ]
}

#[track_caller]
fn assert_all_close(actual: &[f64], expected: &[f64], what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (k, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() <= 1e-12 * e.abs().max(1.0), "{what}[{k}]: {a} vs {e}");
    }
}

#[test]
#[allow(clippy::approx_constant)] // 0.693147 is the paper's printed figure, not a stand-in for LN_2
fn baydin_primal_and_tangent_trace() {
    let trace = baydin_graph().trace(Some(&[1.0, 0.0]), None).unwrap();
    let ids: Vec<&str> = trace.steps.iter().map(|s| s.id.as_str()).collect();
    let ops: Vec<&str> = trace.steps.iter().map(|s| s.op.as_str()).collect();
    assert_eq!(ids, IDS);
    assert_eq!(ops, OPS);
    let values: Vec<f64> = trace.steps.iter().map(|s| s.value).collect();
    assert_all_close(&values, &primal(), "primal");
    // The paper's rounded figures, too.
    let rounded = [2.0, 5.0, 0.693147, 10.0, -0.958924, 10.693147, 11.652071];
    for (v, r) in values.iter().zip(rounded) {
        assert!((v - r).abs() < 5e-7, "{v} vs the paper's {r}");
    }
    let tangents: Vec<f64> = trace.steps.iter().map(|s| s.tangent.unwrap()).collect();
    assert_all_close(&tangents, &[1.0, 0.0, 0.5, 5.0, 0.0, 5.5, 5.5], "tangent along x1");
    assert_eq!(trace.steps[3].args, ["v-1", "v0"]);
    assert_eq!(trace.outputs, ["v5"]);
}

#[test]
fn baydin_adjoint_trace() {
    let graph = baydin_graph();
    let trace = graph.trace(None, Some(&[1.0])).unwrap();
    let adjoints: Vec<f64> = trace.steps.iter().map(|s| s.adjoint.unwrap()).collect();
    let x2_bar = 2.0 - 5f64.cos();
    assert_all_close(&adjoints, &[5.5, x2_bar, 1.0, 1.0, -1.0, 1.0, 1.0], "adjoints");
    assert!((adjoints[1] - 1.716338).abs() < 5e-7);
    // x̄2 is the sum over x2's two out-edges: 2 along the product, −0.283662 along the sine.
    let nodes = graph.nodes();
    let product_path = nodes[3].partials[1] * adjoints[3];
    let sine_path = nodes[4].partials[0] * adjoints[4];
    assert_eq!(product_path, 2.0);
    assert!((sine_path - (-0.283662)).abs() < 5e-7);
    assert_eq!(product_path + sine_path, adjoints[1]);
}

#[test]
fn baydin_tables_through_the_cli() {
    let run = |mode: &str, extra: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "trace",
            "ln(x1) + x1*x2 - sin(x2)",
            "--at",
            "x1=2,x2=5",
            "--mode",
            mode,
            "--json",
        ];
        args.extend_from_slice(extra);
        let out = Command::new(env!("CARGO_BIN_EXE_chainrule"))
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let forward = run("forward", &["--wrt", "x1"]);
    let reverse = run("reverse", &[]);
    assert_eq!(forward["inputs"], serde_json::json!(["x1", "x2"]));
    let field = |j: &serde_json::Value, key: &str| -> Vec<f64> {
        j["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s[key].as_f64().unwrap())
            .collect()
    };
    let ids: Vec<String> = forward["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, IDS);
    assert_all_close(&field(&forward, "value"), &primal(), "cli primal");
    assert_all_close(
        &field(&forward, "tangent"),
        &[1.0, 0.0, 0.5, 5.0, 0.0, 5.5, 5.5],
        "cli tangent",
    );
    assert_all_close(
        &field(&reverse, "adjoint"),
        &[5.5, 2.0 - 5f64.cos(), 1.0, 1.0, -1.0, 1.0, 1.0],
        "cli adjoint",
    );
    assert_eq!(reverse["steps"][2]["args"], serde_json::json!(["v-1"]));
    assert!(reverse["steps"][2].get("tangent").is_none());
}

fn sample<T: Float>(x: &[T]) -> Vec<T> {
    let two = T::from(2.0).unwrap();
    let s = (x[0] * x[1]).sin() + x[2] / (T::one() + x[0] * x[0]);
    vec![s * x[2] - two, (s + x[1]).exp().atan() * s, x[0].max(x[1]).hypot(x[2])]
}

#[test]
fn trace_adjoints_equal_the_engine_gradient_and_tangents_equal_jvp() {
    let x = [0.3, -1.2, 0.8];
    let graph = capture(sample, &x).unwrap();
    let j = jacobian(sample, &x).unwrap();
    for output in 0..3 {
        let mut seeds = [0.0; 3];
        seeds[output] = 1.0;
        let adjoints = graph.adjoints(&seeds).unwrap();
        // Equal up to the order in which contributions are summed (the graph
        // is numbered by depth, the tape by recording order).
        for k in 0..3 {
            let (a, b) = (adjoints[k], j[(output, k)]);
            assert!(
                (a - b).abs() <= 1e-14 * b.abs().max(1.0),
                "output {output}, input {k}: {a} vs {b}"
            );
        }
    }
    let v = [0.5, -1.0, 2.0];
    let (_, tangent) = jvp(sample, &x, &v).unwrap();
    let tangents = graph.tangents(&v).unwrap();
    let at_outputs: Vec<f64> = graph.outputs().iter().map(|&o| tangents[o]).collect();
    for (a, b) in at_outputs.iter().zip(&tangent) {
        assert!((a - b).abs() <= 1e-14 * b.abs().max(1.0), "{a} vs {b}");
    }
}

#[test]
fn constants_are_nodes_and_a_reused_variable_is_one_node() {
    // f(x) = 2·x·x + 3: x is one node with three out-edges (two into ×, …)
    let graph = capture(|x| vec![x[0] * x[0] * 2.0 + 3.0], &[1.5]).unwrap();
    let constants = graph.nodes().iter().filter(|n| n.op == GraphOp::Constant).count();
    let inputs = graph
        .nodes()
        .iter()
        .filter(|n| matches!(n.op, GraphOp::Input(_)))
        .count();
    assert_eq!((inputs, constants), (1, 2));
    let uses_of_x: usize = graph
        .nodes()
        .iter()
        .map(|n| n.args.iter().filter(|&&a| a == 0).count())
        .sum();
    assert_eq!(uses_of_x, 2);
    assert_eq!(graph.adjoints(&[1.0]).unwrap()[0], 6.0); // d/dx 2x² = 4x
}

#[test]
fn untraced_recordings_have_no_graph() {
    let rec = Recording::<f64>::new();
    let x = rec.input(1.0);
    let error = Graph::from_recording(&rec, &[x.sin()]).unwrap_err();
    assert_eq!(error, chainrule::Error::NotTraced);
    assert!(error.to_string().contains("Recording::traced()"));
}

/// A minimal well-formedness check: every tag closes in order, attributes
/// are quoted, and `&` only starts an entity.
fn assert_well_formed_xml(xml: &str) {
    let mut open: Vec<String> = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        let text = &rest[..start];
        for (k, _) in text.match_indices('&') {
            let entity = &text[k..text[k..].find(';').map_or(text.len(), |e| k + e + 1)];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].contains(&entity),
                "bad entity {entity}"
            );
        }
        let end = rest[start..].find('>').expect("unclosed tag") + start;
        let tag = &rest[start + 1..end];
        assert_eq!(tag.matches('"').count() % 2, 0, "unbalanced quotes in <{tag}>");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop().as_deref(), Some(name), "mismatched </{name}>");
        } else if !tag.ends_with('/') {
            open.push(tag.split_whitespace().next().unwrap().to_string());
        }
        rest = &rest[end + 1..];
    }
    assert!(open.is_empty(), "unclosed elements: {open:?}");
}

#[test]
fn svg_is_well_formed_and_labels_every_node() {
    let graph = baydin_graph();
    let trace = graph.trace(Some(&[1.0, 0.0]), Some(&[1.0])).unwrap();
    let svg = graph.to_svg(&trace);
    assert_well_formed_xml(&svg);
    for step in &trace.steps {
        let label = format!("{} = {}", step.id, step.definition);
        assert!(svg.contains(&label), "{label} is missing");
    }
    assert!(svg.contains("adjoint 1.7163378") && svg.contains("tangent 5.5"));
    // Where Python is installed, a real XML parser agrees.
    if let Ok(mut python) = Command::new("python3")
        .args([
            "-c",
            "import sys, xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.read())",
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
    {
        use std::io::Write;
        python.stdin.take().unwrap().write_all(svg.as_bytes()).unwrap();
        assert!(python.wait().unwrap().success(), "python's XML parser rejects the SVG");
    }
}

#[test]
fn dot_is_accepted_by_graphviz_where_installed() {
    let graph = baydin_graph();
    let dot = graph.to_dot(&graph.trace(None, Some(&[1.0])).unwrap());
    assert!(
        dot.contains("n1 -> n4 [label=\"0.28366219\"]"),
        "edge x2 → sin labelled cos(5):\n{dot}"
    );
    let Ok(mut child) = Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
    else {
        eprintln!("graphviz `dot` is not installed: skipping the Graphviz check");
        return;
    };
    use std::io::Write;
    child.stdin.take().unwrap().write_all(dot.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "dot rejects the graph: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_thousand_node_graph_draws() {
    let graph = capture(
        |x| {
            let mut acc = x[0];
            for k in 0..330 {
                acc = (acc * x[1] + f64::from(k)).sin();
            }
            vec![acc]
        },
        &[0.4, 0.9],
    )
    .unwrap();
    assert!(graph.len() >= 1000, "{} nodes", graph.len());
    let trace = graph.trace(None, Some(&[1.0])).unwrap();
    let svg = graph.to_svg(&trace);
    assert_well_formed_xml(&svg);
    assert_eq!(svg.matches("<rect x=").count(), graph.len());
}

#[test]
fn the_readme_picture_is_what_the_cli_draws() {
    let out = Command::new(env!("CARGO_BIN_EXE_chainrule"))
        .args([
            "graph",
            "ln(x1) + x1*x2 - sin(x2)",
            "--at",
            "x1=2,x2=5",
            "--format",
            "svg",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/baydin.svg")).unwrap();
    assert!(
        committed == String::from_utf8(out.stdout).unwrap(),
        "docs/baydin.svg is stale: regenerate it with \
         `cargo run --release -- graph 'ln(x1) + x1*x2 - sin(x2)' --at x1=2,x2=5 --output docs/baydin.svg`"
    );
}
