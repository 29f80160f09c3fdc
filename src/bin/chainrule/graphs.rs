//! `chainrule trace` and `chainrule graph`: the computational graph of an
//! expression, as tables and pictures.

use std::path::Path;

use chainrule::expr::printable;
use chainrule::graph::{Graph, Page, Trace, capture};
use serde::Serialize;

use crate::args::{Common, GradMode, PictureFormat};
use crate::limits::{MAX_PAGE_NODES, MAX_PAGE_STEPS, MAX_PICTURE_NODES, MAX_TRACE_NODES, check_nodes};
use crate::output::{Number, numbers};
use crate::{Failure, Problem, Report, finish_json, finish_text};

/// The graph of the problem's expression at its point, inputs named.
fn graph_of(problem: &Problem) -> Result<Graph, Failure> {
    let f = problem.bound()?;
    let graph = capture(|x| f.eval(x), &problem.point.values)?;
    Ok(graph.with_input_names(&problem.point.names)?)
}

/// The interactive page of the problem's expression: its graph and a
/// forward sweep per input and a reverse sweep per output, step by step.
pub fn page_of(problem: &Problem) -> Result<Page, Failure> {
    // A graph has at most as many nodes as the parsed expression (constant
    // operations fold away): refuse huge expressions before recording them.
    let parsed = problem.program.nodes().len();
    if parsed > 8 * MAX_PAGE_NODES {
        return Err(Failure::Message(format!(
            "the expression has {parsed} parts, more than a page of at most {MAX_PAGE_NODES} nodes can show; \
             use 'chainrule graph --output FILE.svg' for a static picture, or a smaller expression"
        )));
    }
    let graph = graph_of(problem)?;
    check_page(&graph)?;
    let walkthrough = graph.walkthrough()?;
    Ok(Page::new(problem.source.trim(), &problem.point.text(",")).with_walkthrough(walkthrough))
}

/// Refuses graphs too large for a page to play smoothly.
pub fn check_page(graph: &Graph) -> Result<(), Failure> {
    let instead = "use 'chainrule graph --output FILE.svg' for a static picture, or a smaller expression";
    check_nodes("page", graph.len(), MAX_PAGE_NODES, instead)?;
    let edges: usize = graph.nodes().iter().map(|n| n.args.len()).sum();
    let steps = graph.input_count() * graph.len() + graph.outputs().len() * (edges + 1);
    if steps > MAX_PAGE_STEPS {
        return Err(Failure::Message(format!(
            "the page would have {steps} steps ({} inputs × {} nodes forward, {} outputs × {edges} edges reverse), \
             more than the {MAX_PAGE_STEPS} a page plays; use fewer inputs or outputs",
            graph.input_count(),
            graph.len(),
            graph.outputs().len()
        )));
    }
    Ok(())
}

/// The unit direction along input `wrt` (default: the first input).
fn direction(problem: &Problem, wrt: Option<&str>) -> Result<(String, Vec<f64>), Failure> {
    let names = &problem.point.names;
    let position = match wrt {
        Some(name) => names.iter().position(|n| n == name).ok_or_else(|| {
            Failure::Message(format!(
                "--wrt: '{}' is not an input (the inputs are the names in --at: {})",
                printable(name),
                printable(&names.join(", "))
            ))
        })?,
        None if names.is_empty() => {
            return Err(Failure::Message(
                "forward mode needs an input: give one with --at".into(),
            ));
        }
        None => 0,
    };
    let mut direction = vec![0.0; names.len()];
    direction[position] = 1.0;
    Ok((names[position].clone(), direction))
}

/// Cotangent seeds selecting output `of` (1-based).
fn seeds(problem: &Problem, of: usize) -> Result<Vec<f64>, Failure> {
    let outputs = problem.program.output_count();
    if of == 0 || of > outputs {
        return Err(Failure::Message(format!(
            "--of {of}: there {} {outputs} output{}",
            if outputs == 1 { "is" } else { "are" },
            if outputs == 1 { "" } else { "s" }
        )));
    }
    let mut seeds = vec![0.0; outputs];
    seeds[of - 1] = 1.0;
    Ok(seeds)
}

/// `trace --json` and `graph --json`: the trace's steps.
#[derive(Serialize)]
struct TraceJson<'a> {
    inputs: &'a [String],
    steps: Vec<StepJson<'a>>,
    outputs: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<&'static str>,
}

#[derive(Serialize)]
struct StepJson<'a> {
    id: &'a str,
    op: &'a str,
    args: &'a [String],
    value: Number,
    #[serde(skip_serializing_if = "Option::is_none")]
    tangent: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    adjoint: Option<Number>,
    /// `graph --json`: the local partial derivative along each edge.
    #[serde(skip_serializing_if = "Option::is_none")]
    partials: Option<Vec<Number>>,
}

impl<'a> TraceJson<'a> {
    fn new(trace: &'a Trace, mode: Option<&'static str>) -> Self {
        let steps = trace
            .steps
            .iter()
            .map(|step| StepJson {
                id: &step.id,
                op: &step.op,
                args: &step.args,
                value: Number(step.value),
                tangent: step.tangent.map(Number),
                adjoint: step.adjoint.map(Number),
                partials: None,
            })
            .collect();
        TraceJson {
            inputs: &trace.inputs,
            steps,
            outputs: &trace.outputs,
            mode,
        }
    }
}

/// Whether any number of the trace is NaN or infinite.
fn trace_non_finite(trace: &Trace) -> bool {
    trace.steps.iter().any(|s| {
        !s.value.is_finite() || s.tangent.is_some_and(|t| !t.is_finite()) || s.adjoint.is_some_and(|a| !a.is_finite())
    })
}

pub fn trace(common: &Common, mode: GradMode, wrt: Option<&str>, of: usize) -> Result<Report, Failure> {
    let problem = Problem::new(common)?;
    let graph = graph_of(&problem)?;
    let instead = "use 'chainrule grad' or 'jacobian' for the derivatives, or trace a smaller expression";
    check_nodes("trace", graph.len(), MAX_TRACE_NODES, instead)?;
    let (trace, heading) = match mode {
        GradMode::Forward => {
            if of != 1 {
                return Err(Failure::Message(
                    "--of selects an output for adjoints: use it with --mode reverse".into(),
                ));
            }
            let (name, direction) = direction(&problem, wrt)?;
            (
                graph.trace(Some(&direction), None)?,
                format!("forward mode: primal and tangent trace along {name}"),
            )
        }
        GradMode::Reverse => {
            if wrt.is_some() {
                return Err(Failure::Message(
                    "--wrt selects a tangent direction: use it with --mode forward".into(),
                ));
            }
            let seeds = seeds(&problem, of)?;
            let output = if problem.program.output_count() > 1 {
                format!(" of output {of}")
            } else {
                String::new()
            };
            (
                graph.trace(None, Some(&seeds))?,
                format!("reverse mode: primal and adjoint trace{output}"),
            )
        }
    };
    let non_finite = trace_non_finite(&trace);
    if common.json {
        let mode = if mode == GradMode::Forward {
            "forward"
        } else {
            "reverse"
        };
        return Ok(finish_json(&TraceJson::new(&trace, Some(mode)), non_finite));
    }
    let label = match mode {
        GradMode::Forward => format!("∂/∂{}", direction(&problem, wrt)?.0),
        GradMode::Reverse => String::new(),
    };
    let text = format!("{}({heading})\n\n{}", problem.header(), trace.table(&label));
    Ok(finish_text(text, non_finite))
}

pub fn graph(
    common: &Common,
    output: Option<&Path>,
    format: Option<PictureFormat>,
    wrt: Option<&str>,
    of: usize,
) -> Result<Report, Failure> {
    let problem = Problem::new(common)?;
    let format = picture_format(format, output)?;
    if format == PictureFormat::Html {
        if common.json || wrt.is_some() || of != 1 {
            return Err(Failure::Message(
                "the HTML page has every input's forward sweep and every output's reverse sweep: \
                 drop --json, --wrt and --of"
                    .into(),
            ));
        }
        let page = page_of(&problem)?;
        return write_or_print(page.to_html(), output, &page_summary(problem.program.output_count()));
    }
    let graph = graph_of(&problem)?;
    if common.json {
        let instead = "draw a smaller expression";
        check_nodes("graph's node list", graph.len(), MAX_TRACE_NODES, instead)?;
    } else {
        let instead = "use --json for the node list, or draw a smaller expression";
        check_nodes("picture", graph.len(), MAX_PICTURE_NODES, instead)?;
    }
    let direction = wrt.map(|name| direction(&problem, Some(name))).transpose()?;
    let seeds = seeds(&problem, of)?;
    let trace = graph.trace(direction.as_ref().map(|(_, d)| d.as_slice()), Some(&seeds))?;
    if common.json {
        let mut output = TraceJson::new(&trace, None);
        for (step, node) in output.steps.iter_mut().zip(graph.nodes()) {
            step.partials = Some(numbers(&node.partials));
        }
        let non_finite =
            trace_non_finite(&trace) || graph.nodes().iter().flat_map(|n| &n.partials).any(|p| !p.is_finite());
        return Ok(finish_json(&output, non_finite));
    }
    let picture = match format {
        PictureFormat::Svg => graph.to_svg(&trace),
        PictureFormat::Dot => graph.to_dot(&trace),
        PictureFormat::Html => unreachable!("pages are written above"),
    };
    write_or_print(picture, output, &format!("{} nodes", graph.len()))
}

/// The format asked for, or told by the output file's extension.
fn picture_format(format: Option<PictureFormat>, output: Option<&Path>) -> Result<PictureFormat, Failure> {
    Ok(match (format, output) {
        (Some(format), _) => format,
        (None, None) => PictureFormat::Dot,
        (None, Some(path)) => match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("svg") => PictureFormat::Svg,
            Some("dot") | Some("gv") => PictureFormat::Dot,
            Some("html") | Some("htm") => PictureFormat::Html,
            _ => {
                return Err(Failure::Message(format!(
                    "cannot tell the picture format of '{}': name it .svg, .dot or .html, or give --format svg|dot|html",
                    printable(&path.to_string_lossy())
                )));
            }
        },
    })
}

/// Writes `text` to `output` and says so with `summary` (e.g. `7 nodes`),
/// or prints it when there is no output file.
pub fn write_or_print(text: String, output: Option<&Path>, summary: &str) -> Result<Report, Failure> {
    match output {
        None => Ok(finish_text(text, false)),
        Some(path) => {
            std::fs::write(path, text)
                .map_err(|e| Failure::Message(format!("cannot write '{}': {e}", printable(&path.to_string_lossy()))))?;
            Ok(finish_text(
                format!("wrote {} ({summary})\n", printable(&path.to_string_lossy())),
                false,
            ))
        }
    }
}

/// How a written page is described: `an interactive page; 2 outputs`.
pub fn page_summary(outputs: usize) -> String {
    format!(
        "an interactive page; {outputs} output{}",
        if outputs == 1 { "" } else { "s" }
    )
}
