//! The `chainrule` command line: derivatives of math expressions.

mod args;
mod chain;
mod graphs;
mod limits;
mod output;
#[cfg(feature = "serve")]
mod serve;

use std::process::ExitCode;

use chainrule::api::{Sweep, record_jacobian, value_and_jacfwd};
use chainrule::expr::{Bound, ExprError, Program, parse};
use chainrule::program::{Op, Passes, record, record_with};
use chainrule::{JACFWD_CHUNK, value_and_grad};
use clap::Parser;

use args::{Cli, Command, Common, GradMode, JacobianMode, Point, parse_point};
use output::{NON_FINITE_WARNING, Number, Table, human, json_line, numbers, rows};
use serde::Serialize;

/// Why a command could not run; printed after `error: `, exit code 2.
enum Failure {
    Message(String),
    Expression { error: ExprError, source: String },
}

impl Failure {
    fn render(&self) -> String {
        match self {
            Failure::Message(message) => message.clone(),
            Failure::Expression { error, source } => error.render(source),
        }
    }
}

impl From<chainrule::Error> for Failure {
    fn from(error: chainrule::Error) -> Self {
        Failure::Message(error.to_string())
    }
}

/// What a command prints.
struct Report {
    text: String,
    non_finite: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(report) => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(report.text.as_bytes()).and_then(|()| stdout.flush()) {
                Ok(()) => {}
                // The reader stopped reading (`| head`, `| cmp`): nothing more to say.
                Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => return ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("error: cannot write the output: {error}");
                    return ExitCode::from(2);
                }
            }
            if report.non_finite {
                eprintln!("{NON_FINITE_WARNING}");
            }
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("error: {}", failure.render());
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> Result<Report, Failure> {
    match command {
        Command::Eval(common) => eval(&common),
        Command::Grad { common, mode } => grad(&common, mode),
        Command::Jacobian { common, mode } => jacobian(&common, mode),
        Command::Hessian(common) => hessian(&common),
        Command::Program { common, unoptimised } => program(&common, unoptimised),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "chainrule",
                &mut script,
            );
            Ok(finish_text(String::from_utf8_lossy(&script).into_owned(), false))
        }
        Command::Chain(args) => chain::chain(&args.stages, args.at.as_deref(), args.json, args.output.as_deref()),
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve::serve(&args),
        Command::Trace { common, mode, wrt, of } => graphs::trace(&common, mode, wrt.as_deref(), of),
        Command::Graph {
            common,
            output,
            format,
            wrt,
            of,
        } => graphs::graph(&common, output.as_deref(), format, wrt.as_deref(), of),
    }
}

/// The parsed expression and the point, checked against each other.
struct Problem {
    program: Program,
    point: Point,
    source: String,
}

impl Problem {
    fn new(common: &Common) -> Result<Self, Failure> {
        let source = common.source().map_err(Failure::Message)?;
        let program = parse(&source).map_err(|error| Failure::Expression {
            error,
            source: source.clone(),
        })?;
        let point = parse_point(common.at.as_deref()).map_err(Failure::Message)?;
        let problem = Problem { program, point, source };
        problem.bound()?;
        Ok(problem)
    }

    fn bound(&self) -> Result<Bound<'_>, Failure> {
        self.program
            .bind(&self.point.names)
            .map_err(|error| Failure::Expression {
                error,
                source: self.source.clone(),
            })
    }

    /// Commands for scalar functions reject `f1; f2`.
    fn require_scalar(&self, command: &str) -> Result<(), Failure> {
        if self.program.output_count() == 1 {
            Ok(())
        } else {
            Err(Failure::Message(format!(
                "'{command}' needs one expression, but {} were given (separated by ';'); \
                 use 'chainrule jacobian' for several outputs",
                self.program.output_count()
            )))
        }
    }

    /// `f(x, y) = ...` and `at x = 1, y = 2`, the header of human output.
    fn header(&self) -> String {
        let names = if self.point.names.is_empty() {
            String::new()
        } else {
            format!("({})", self.point.names.join(", "))
        };
        let mut text = String::new();
        let outputs: Vec<&str> = self
            .source
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if outputs.len() == 1 {
            text.push_str(&format!("f{names} = {}\n", outputs[0]));
        } else {
            for (k, output) in outputs.iter().enumerate() {
                text.push_str(&format!("f{}{names} = {output}\n", k + 1));
            }
        }
        if !self.point.names.is_empty() {
            let at: Vec<String> = self
                .point
                .names
                .iter()
                .zip(&self.point.values)
                .map(|(n, v)| format!("{n} = {}", human(*v)))
                .collect();
            text.push_str(&format!("at {}\n", at.join(", ")));
        }
        text
    }

    /// Rows `f` and `∂f/∂name` for human output.
    fn value_and_gradient_table(&self, value: f64, gradient: &[f64]) -> Table {
        let mut table = Table::default();
        table.row(vec!["f".into(), human(value)]);
        for (name, g) in self.point.names.iter().zip(gradient) {
            table.row(vec![format!("∂f/∂{name}"), human(*g)]);
        }
        table
    }
}

/// `eval --json`: `{"value": v}`, or `{"value": [...]}` for several outputs.
#[derive(Serialize)]
struct EvalJson {
    value: OneOrMore,
}

#[derive(Serialize)]
#[serde(untagged)]
enum OneOrMore {
    One(Number),
    More(Vec<Number>),
}

/// `grad --json` and `hessian --json`.
#[derive(Serialize)]
struct GradientJson<'a> {
    inputs: &'a [String],
    value: Number,
    gradient: Vec<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hessian: Option<Vec<Vec<Number>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mode: Option<&'static str>,
}

/// `jacobian --json`.
#[derive(Serialize)]
struct JacobianJson<'a> {
    inputs: &'a [String],
    value: Vec<Number>,
    jacobian: Vec<Vec<Number>>,
    mode: &'static str,
}

/// `program --json`: the node list.
#[derive(Serialize)]
struct ProgramJson<'a> {
    inputs: &'a [String],
    nodes: Vec<ProgramNodeJson<'a>>,
    outputs: &'a [u32],
}

#[derive(Serialize)]
struct ProgramNodeJson<'a> {
    op: String,
    args: &'a [u32],
    /// A constant's value.
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<Number>,
}

fn eval(common: &Common) -> Result<Report, Failure> {
    let problem = Problem::new(common)?;
    let values = problem.bound()?.eval(&problem.point.values);
    let non_finite = values.iter().any(|v| !v.is_finite());
    if common.json {
        let value = match values.as_slice() {
            [one] => OneOrMore::One(Number(*one)),
            more => OneOrMore::More(numbers(more)),
        };
        return Ok(finish_json(&EvalJson { value }, non_finite));
    }
    let mut table = Table::default();
    for (k, v) in values.iter().enumerate() {
        let label = if values.len() == 1 {
            "value".to_string()
        } else {
            format!("f{}", k + 1)
        };
        table.row(vec![label, human(*v)]);
    }
    Ok(finish_text(
        format!("{}\n{}", problem.header(), table.render("  ")),
        non_finite,
    ))
}

fn grad(common: &Common, mode: GradMode) -> Result<Report, Failure> {
    let problem = Problem::new(common)?;
    problem.require_scalar("grad")?;
    let f = problem.bound()?;
    let x = &problem.point.values;
    let (value, gradient, mode_name) = match mode {
        GradMode::Reverse => {
            let (value, gradient) = value_and_grad(|v| f.eval_one(v), x)?;
            (value, gradient, "reverse")
        }
        GradMode::Forward => {
            let (values, jacobian) = value_and_jacfwd::<f64, JACFWD_CHUNK>(|v| f.eval(v), x)?;
            (values[0], jacobian.row(0).to_vec(), "forward")
        }
    };
    let non_finite = !value.is_finite() || gradient.iter().any(|g| !g.is_finite());
    if common.json {
        let output = GradientJson {
            inputs: &problem.point.names,
            value: Number(value),
            gradient: numbers(&gradient),
            hessian: None,
            mode: Some(mode_name),
        };
        return Ok(finish_json(&output, non_finite));
    }
    let table = problem.value_and_gradient_table(value, &gradient);
    let text = format!("{}({mode_name} mode)\n\n{}", problem.header(), table.render("  "));
    Ok(finish_text(text, non_finite))
}

fn jacobian(common: &Common, mode: JacobianMode) -> Result<Report, Failure> {
    let problem = Problem::new(common)?;
    let f = problem.bound()?;
    let x = &problem.point.values;
    let (n, m) = (x.len(), problem.program.output_count());
    limits::check_matrix("Jacobian", m, n)?;
    let sweep = match mode {
        JacobianMode::Auto => Sweep::Auto.resolve(n, m),
        JacobianMode::Forward => Sweep::Forward,
        JacobianMode::Reverse => Sweep::Reverse,
    };
    let (values, matrix, mode_name) = if sweep == Sweep::Forward {
        let (values, matrix) = value_and_jacfwd::<f64, JACFWD_CHUNK>(|v| f.eval(v), x)?;
        (values, matrix, "forward")
    } else {
        let (values, matrix) = record_jacobian(|v| f.eval(v), x, Sweep::Reverse)?;
        (values, matrix, "reverse")
    };
    let non_finite = values.iter().chain(matrix.as_slice()).any(|v| !v.is_finite());
    if common.json {
        let output = JacobianJson {
            inputs: &problem.point.names,
            value: numbers(&values),
            jacobian: rows(&matrix),
            mode: mode_name,
        };
        return Ok(finish_json(&output, non_finite));
    }
    let mut table = Table::default();
    let mut head = vec![String::new(), "value".to_string()];
    head.extend(problem.point.names.iter().map(|name| format!("∂/∂{name}")));
    table.row(head);
    for (k, value) in values.iter().enumerate() {
        let mut cells = vec![format!("f{}", k + 1), human(*value)];
        cells.extend(matrix.row(k).iter().map(|d| human(*d)));
        table.row(cells);
    }
    let why = match mode {
        JacobianMode::Auto if sweep == Sweep::Forward => format!("; auto: {n} inputs ≤ {m} outputs"),
        JacobianMode::Auto => format!("; auto: {n} inputs > {m} outputs"),
        _ => String::new(),
    };
    let text = format!("{}({mode_name} mode{why})\n\n{}", problem.header(), table.render("  "));
    Ok(finish_text(text, non_finite))
}

fn hessian(common: &Common) -> Result<Report, Failure> {
    let problem = Problem::new(common)?;
    problem.require_scalar("hessian")?;
    let n = problem.point.values.len();
    limits::check_matrix("Hessian", n, n)?;
    let f = problem.bound()?;
    // One recording of the expression; the Hessian from its star-coloured
    // compressed sweeps (a banded Hessian of 1000 inputs takes 3 colours, and
    // is 27 times faster than re-running the expression per 8 inputs).
    let x = &problem.point.values;
    let program = record(|v| f.eval_one(v), x)?;
    let (value, gradient) = program.value_and_gradient(x)?;
    let matrix = program.sparse_hessian(x)?.to_dense()?;
    let non_finite = !value.is_finite() || gradient.iter().chain(matrix.as_slice()).any(|v| !v.is_finite());
    if common.json {
        let output = GradientJson {
            inputs: &problem.point.names,
            value: Number(value),
            gradient: numbers(&gradient),
            hessian: Some(rows(&matrix)),
            mode: None,
        };
        return Ok(finish_json(&output, non_finite));
    }
    let names = &problem.point.names;
    let first = problem.value_and_gradient_table(value, &gradient);
    let mut second = Table::default();
    let mut head = vec!["∂²f".to_string()];
    head.extend(names.iter().map(|name| format!("∂/∂{name}")));
    second.row(head);
    for (i, name) in names.iter().enumerate() {
        let mut cells = vec![format!("∂/∂{name}")];
        cells.extend(matrix.row(i).iter().map(|h| human(*h)));
        second.row(cells);
    }
    let text = format!(
        "{}\n{}\nHessian:\n{}",
        problem.header(),
        first.render("  "),
        second.render("  ")
    );
    Ok(finish_text(text, non_finite))
}

fn program(common: &Common, unoptimised: bool) -> Result<Report, Failure> {
    let problem = Problem::new(common)?;
    let f = problem.bound()?;
    let passes = if unoptimised { Passes::NONE } else { Passes::ALL };
    let program = record_with(passes, |x| f.eval(x), &problem.point.values)?;
    limits::check_nodes(
        "program listing",
        program.len(),
        limits::MAX_TRACE_NODES,
        "record a smaller expression",
    )?;
    let non_finite = program.constants().iter().any(|c| !c.is_finite());
    if common.json {
        let nodes = (0..program.len())
            .map(|i| {
                let op = match program.ops()[i] {
                    Op::Input(k) => format!("input {k}"),
                    Op::Constant(_) => "constant".into(),
                    Op::Unary(u) => u.name().into(),
                    Op::Binary(b) => b.name().into(),
                    Op::MulAdd => "mul_add".into(),
                    Op::Custom(k) => program.custom_name(k).into(),
                    Op::CustomOutput { call, output } => format!("{}[{output}]", program.vector_name(call)),
                };
                let value = match program.ops()[i] {
                    Op::Constant(k) => Some(Number(program.constants()[k as usize])),
                    _ => None,
                };
                ProgramNodeJson {
                    op,
                    args: program.args(i),
                    value,
                }
            })
            .collect();
        let output = ProgramJson {
            inputs: &problem.point.names,
            nodes,
            outputs: program.outputs(),
        };
        return Ok(finish_json(&output, non_finite));
    }
    let kind = if unoptimised { "as recorded" } else { "optimised" };
    let text = format!(
        "{}({} nodes, {kind}; inputs in the order of --at)\n\n{program}",
        problem.header(),
        program.len()
    );
    Ok(finish_text(text, false))
}

/// A `--json` result: `output` as one line; `non_finite` says whether it
/// holds a NaN or infinity (written as a string), for the warning.
fn finish_json(output: &impl Serialize, non_finite: bool) -> Report {
    Report {
        text: json_line(output),
        non_finite,
    }
}

fn finish_text(text: String, non_finite: bool) -> Report {
    Report { text, non_finite }
}
