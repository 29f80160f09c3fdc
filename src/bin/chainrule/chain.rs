//! `chainrule chain`: the chain rule for a composition of vector functions,
//! as a product of Jacobian matrices, with the cost of accumulating it in
//! each order.
//!
//! Each `--stage` is a `;`-separated list of expressions. Stage 1 reads the
//! names in `--at`; each later stage reads the previous stage's outputs, by
//! the names it uses in order of first use (`'a*b*c; a-c'` reads a, b, c), or
//! by the names listed before `->` (`'a, b, c -> a*c; c'`).

use std::path::Path;

use serde::Serialize;

use chainrule::api::{Sweep, record_jacobian};
use chainrule::expr::{Program, parse, printable};
use chainrule::graph::{ChainStage, ChainView, Page, capture};
use chainrule::{Matrix, Var};

use crate::args::{Point, parse_point};
use crate::graphs::{check_page, page_summary, write_or_print};
use crate::limits::check_matrix;
use crate::output::{Number, rows};
use crate::{Failure, Report, finish_json, finish_text};

/// The stages, parsed and named.
pub struct Stages {
    sources: Vec<String>,
    programs: Vec<Program>,
    /// Input names of each stage.
    inputs: Vec<Vec<String>>,
    point: Point,
}

impl Stages {
    /// Parses the stages and names every stage's inputs.
    pub fn new(stages: &[String], at: Option<&str>) -> Result<Stages, Failure> {
        if stages.is_empty() {
            return Err(Failure::Message("give at least one --stage".into()));
        }
        let point = parse_point(at).map_err(Failure::Message)?;
        let mut sources = Vec::with_capacity(stages.len());
        let mut programs: Vec<Program> = Vec::with_capacity(stages.len());
        let mut inputs = Vec::with_capacity(stages.len());
        for (k, stage) in stages.iter().enumerate() {
            let (names, source) = match stage.split_once("->") {
                Some((names, source)) => (Some(names), source),
                None => (None, stage.as_str()),
            };
            let program = parse(source).map_err(|error| Failure::Expression {
                error,
                source: source.to_string(),
            })?;
            let names: Vec<String> = match (k, names) {
                (0, None) => point.names.clone(),
                (0, Some(_)) => {
                    return Err(Failure::Message(
                        "stage 1 reads the names in --at: drop its 'names ->' prefix".into(),
                    ));
                }
                (_, Some(names)) => stage_names(names, k + 1)?,
                (_, None) => program.variables().to_vec(),
            };
            if k > 0 {
                let previous = programs[k - 1].output_count();
                if names.len() != previous {
                    return Err(Failure::Message(format!(
                        "stage {} reads {} name{} ({}) but stage {k} has {previous} output{}: \
                         list the names it reads first, e.g. --stage 'a, b, c -> ...'",
                        k + 1,
                        names.len(),
                        if names.len() == 1 { "" } else { "s" },
                        printable(&names.join(", ")),
                        if previous == 1 { "" } else { "s" },
                    )));
                }
            }
            program.bind(&names).map_err(|error| Failure::Expression {
                error,
                source: source.to_string(),
            })?;
            sources.push(source.trim().to_string());
            programs.push(program);
            inputs.push(names);
        }
        Ok(Stages {
            sources,
            programs,
            inputs,
            point,
        })
    }

    /// Output names of stage `k`: the next stage's inputs, `y1, y2, …` for the last.
    fn outputs(&self, k: usize) -> Vec<String> {
        match self.inputs.get(k + 1) {
            Some(names) => names.clone(),
            None => (1..=self.programs[k].output_count()).map(|i| format!("y{i}")).collect(),
        }
    }

    /// The whole composition, on any tape number.
    fn compose(&self, x: &[Var<f64>]) -> Vec<Var<f64>> {
        let mut current = x.to_vec();
        for (program, names) in self.programs.iter().zip(&self.inputs) {
            let bound = program.bind(names).expect("bound when the stages were parsed");
            current = bound.eval(&current);
        }
        current
    }

    /// Each stage's Jacobian at its own point, their product, and the whole
    /// composition's Jacobian to check it against.
    pub fn view(&self) -> Result<ChainView, Failure> {
        let mut x = self.point.values.clone();
        let mut stages = Vec::with_capacity(self.programs.len());
        for (k, (program, names)) in self.programs.iter().zip(&self.inputs).enumerate() {
            check_matrix(
                &format!("Jacobian of stage {}", k + 1),
                program.output_count(),
                names.len(),
            )?;
            let bound = program.bind(names).expect("bound when the stages were parsed");
            let (values, jacobian) = record_jacobian(|v| bound.eval(v), &x, Sweep::Auto)?;
            stages.push(ChainStage {
                name: self.sources[k].clone(),
                inputs: names.clone(),
                outputs: self.outputs(k),
                jacobian,
            });
            x = values;
        }
        let whole: Matrix<f64> = chainrule::jacobian(|v| self.compose(v), &self.point.values)?;
        Ok(ChainView::new(stages)?.with_whole(whole))
    }

    /// The composition's interactive page: its graph with the sweeps, and the
    /// chain view below it.
    pub fn page(&self, view: ChainView) -> Result<Page, Failure> {
        let graph = capture(|v| self.compose(v), &self.point.values)?.with_input_names(&self.point.names)?;
        check_page(&graph)?;
        let expression = self.sources.join("  →  ");
        Ok(Page::new(&expression, &self.point.text(","))
            .with_walkthrough(graph.walkthrough()?)
            .with_chain(view))
    }
}

/// `chain --json`: each stage's Jacobian, their product and the cost of
/// forming it in each order (counts as strings: they can exceed 2⁵³).
#[derive(Serialize)]
struct ChainJson<'a> {
    stages: Vec<StageJson<'a>>,
    product: Vec<Vec<Number>>,
    forward_multiply_adds: String,
    reverse_multiply_adds: String,
    difference_from_whole: Number,
}

#[derive(Serialize)]
struct StageJson<'a> {
    stage: &'a str,
    inputs: &'a [String],
    outputs: &'a [String],
    jacobian: Vec<Vec<Number>>,
}

pub fn chain(stages: &[String], at: Option<&str>, json: bool, output: Option<&Path>) -> Result<Report, Failure> {
    let stages = Stages::new(stages, at)?;
    let view = stages.view()?;
    if let Some(path) = output {
        if json {
            return Err(Failure::Message("--output writes an HTML page: drop --json".into()));
        }
        let page = stages.page(view)?;
        let outputs = stages.programs.last().map_or(0, Program::output_count);
        return write_or_print(page.to_html(), Some(path), &page_summary(outputs));
    }
    let non_finite = view.product().as_slice().iter().any(|x| !x.is_finite());
    if json {
        let stages = view
            .stages()
            .iter()
            .map(|s| StageJson {
                stage: &s.name,
                inputs: &s.inputs,
                outputs: &s.outputs,
                jacobian: rows(&s.jacobian),
            })
            .collect();
        let output = ChainJson {
            stages,
            product: rows(view.product()),
            forward_multiply_adds: view.forward_cost().to_string(),
            reverse_multiply_adds: view.reverse_cost().to_string(),
            difference_from_whole: Number(view.difference().unwrap_or(0.0)),
        };
        let non_finite = non_finite
            || view
                .stages()
                .iter()
                .any(|s| s.jacobian.as_slice().iter().any(|x| !x.is_finite()));
        return Ok(finish_json(&output, non_finite));
    }
    let mut text = String::new();
    for (k, source) in stages.sources.iter().enumerate() {
        text.push_str(&format!("f{}({}) = {}\n", k + 1, stages.inputs[k].join(", "), source));
    }
    text.push_str(&format!(
        "f = f{} at {}\n\n",
        (1..=stages.sources.len())
            .rev()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join(" ∘ f"),
        stages.point.text(", ")
    ));
    text.push_str(&view.to_text());
    Ok(finish_text(text, non_finite))
}

/// The names before `->`: distinct variable names separated by commas.
fn stage_names(text: &str, stage: usize) -> Result<Vec<String>, Failure> {
    let names: Vec<String> = text.split(',').map(|n| n.trim().to_string()).collect();
    for (k, name) in names.iter().enumerate() {
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(Failure::Message(format!(
                "stage {stage}: '{}' before '->' is not a variable name (letters, digits and '_', not starting with a digit)",
                printable(name)
            )));
        }
        if names[..k].contains(name) {
            return Err(Failure::Message(format!(
                "stage {stage}: '{}' is listed twice before '->'",
                printable(name)
            )));
        }
    }
    Ok(names)
}
