//! A parsed expression: a flat list of nodes, each reading earlier ones.
//!
//! The parser emits a node only after its arguments, so the list is already
//! in evaluation order. Evaluating, printing and dropping are loops over it,
//! never recursion: a sum of 10⁵ terms or 10⁵ nested negations is as safe as
//! `x + 1`.

use std::fmt;

use super::error::{ExprError, ExprErrorKind};
use crate::Real;
use crate::rules::{Binary, Unary};

/// One operation of a parsed expression. Arguments are indices of earlier
/// nodes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Node {
    /// A number literal, or a named constant (`pi`, `e`).
    Constant {
        /// Its value.
        value: f64,
        /// Its name, for named constants.
        name: Option<&'static str>,
    },
    /// The variable with this index in [`Program::variables`].
    Variable(usize),
    /// An elementary function of one argument (negation included).
    Unary(Unary, usize),
    /// An elementary function of two arguments (the operators included).
    Binary(Binary, usize, usize),
}

/// A parsed expression, or several separated by `;` (the outputs).
///
/// ```
/// use chainrule::expr::parse;
/// let program = parse("x*y; sin(x)")?;
/// assert_eq!(program.variables(), ["x", "y"]);
/// assert_eq!(program.output_count(), 2);
/// let f = program.bind(&["x", "y"])?;
/// assert_eq!(f.eval(&[2.0, 3.0]), vec![6.0, 2f64.sin()]);
/// # Ok::<(), chainrule::expr::ExprError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    pub(crate) nodes: Vec<Node>,
    /// (column, width) of the token each node came from.
    pub(crate) spans: Vec<(usize, usize)>,
    pub(crate) outputs: Vec<usize>,
    pub(crate) variables: Vec<String>,
}

impl Program {
    /// The distinct variable names, in order of first use.
    pub fn variables(&self) -> &[String] {
        &self.variables
    }

    /// How many outputs (expressions separated by `;`).
    pub fn output_count(&self) -> usize {
        self.outputs.len()
    }

    /// The nodes, in evaluation order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Binds the program's variables to input positions: `inputs[k]` is
    /// the name of input `k`. Inputs the program does not use are allowed
    /// (their derivative is 0).
    ///
    /// # Errors
    /// [`ExprErrorKind::UnboundVariable`], located at the variable's first
    /// use, if the program uses a name that is not among `inputs`.
    pub fn bind<S: AsRef<str>>(&self, inputs: &[S]) -> Result<Bound<'_>, ExprError> {
        // First position of each input name: one hash lookup per variable.
        let mut positions = std::collections::HashMap::with_capacity(inputs.len());
        for (slot, input) in inputs.iter().enumerate().rev() {
            positions.insert(input.as_ref(), slot);
        }
        let mut slots = Vec::with_capacity(self.variables.len());
        for (index, name) in self.variables.iter().enumerate() {
            match positions.get(name.as_str()) {
                Some(&slot) => slots.push(slot),
                None => {
                    let node = self.nodes.iter().position(|n| *n == Node::Variable(index)).unwrap_or(0);
                    let (column, width) = self.spans[node];
                    return Err(ExprError::new(
                        ExprErrorKind::UnboundVariable(name.clone()),
                        column,
                        width,
                    ));
                }
            }
        }
        Ok(Bound {
            program: self,
            slots,
            input_count: inputs.len(),
        })
    }

    /// Output `k` written back as text, with parentheses only where the
    /// grammar needs them, so that parsing it again gives the same function
    /// (and never nests deeper than the text it was parsed from).
    ///
    /// # Panics
    /// If `k >= self.output_count()`.
    pub fn output_text(&self, k: usize) -> String {
        enum Task {
            /// Print a node; wrap it in parentheses if it binds less tightly than this.
            Node(usize, u8),
            Text(&'static str),
            Owned(String),
        }
        let mut text = String::new();
        let mut tasks = vec![Task::Node(self.outputs[k], SUM)];
        // An explicit stack: printing a deep expression must not recurse.
        while let Some(task) = tasks.pop() {
            let (index, needed) = match task {
                Task::Text(piece) => {
                    text.push_str(piece);
                    continue;
                }
                Task::Owned(piece) => {
                    text.push_str(&piece);
                    continue;
                }
                Task::Node(index, needed) => (index, needed),
            };
            let node = self.nodes[index];
            if precedence(node) < needed {
                text.push('(');
                tasks.push(Task::Text(")"));
            }
            // Pieces are pushed in reverse: the stack pops them in reading order.
            match node {
                Node::Constant { name: Some(name), .. } => text.push_str(name),
                Node::Constant { value, name: None } => text.push_str(&format_literal(value)),
                Node::Variable(v) => text.push_str(&self.variables[v]),
                Node::Unary(Unary::Neg, a) => {
                    text.push('-');
                    tasks.push(Task::Node(a, UNARY));
                }
                Node::Unary(Unary::Powi(n), a) => {
                    tasks.extend([Task::Owned(format!("^{n}")), Task::Node(a, PRIMARY)]);
                }
                Node::Unary(op, a) => {
                    text.push_str(op.name());
                    tasks.extend([Task::Text(")"), Task::Node(a, SUM), Task::Text("(")]);
                }
                Node::Binary(op @ (Binary::Add | Binary::Sub), a, b) => {
                    let symbol = if op == Binary::Add { " + " } else { " - " };
                    tasks.extend([Task::Node(b, PRODUCT), Task::Text(symbol), Task::Node(a, SUM)]);
                }
                Node::Binary(op @ (Binary::Mul | Binary::Div), a, b) => {
                    let symbol = if op == Binary::Mul { " * " } else { " / " };
                    tasks.extend([Task::Node(b, UNARY), Task::Text(symbol), Task::Node(a, PRODUCT)]);
                }
                Node::Binary(Binary::Powf, a, b) => {
                    tasks.extend([Task::Node(b, UNARY), Task::Text("^"), Task::Node(a, PRIMARY)]);
                }
                Node::Binary(op, a, b) => {
                    text.push_str(op.name());
                    tasks.extend([
                        Task::Text(")"),
                        Task::Node(b, SUM),
                        Task::Text(", "),
                        Task::Node(a, SUM),
                        Task::Text("("),
                    ]);
                }
            }
        }
        text
    }
}

/// How tightly each form binds, loosest first (see the grammar in `parser`).
const SUM: u8 = 1;
const PRODUCT: u8 = 2;
const UNARY: u8 = 3;
const POWER: u8 = 4;
const PRIMARY: u8 = 5;

fn precedence(node: Node) -> u8 {
    match node {
        Node::Binary(Binary::Add | Binary::Sub, ..) => SUM,
        Node::Binary(Binary::Mul | Binary::Div, ..) => PRODUCT,
        Node::Unary(Unary::Neg, _) => UNARY,
        Node::Unary(Unary::Powi(_), _) | Node::Binary(Binary::Powf, ..) => POWER,
        _ => PRIMARY,
    }
}

/// A number as the expression language reads it back exactly.
fn format_literal(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value}") // `2`, not `2.0`
    } else if value.is_finite() {
        // `{:?}` prints the shortest text that round-trips, e.g. `0.1`, `1e-7`.
        format!("{value:?}")
    } else if value.is_nan() {
        "(0/0)".to_string()
    } else if value > 0.0 {
        "(1/0)".to_string()
    } else {
        "(-1/0)".to_string()
    }
}

impl fmt::Display for Program {
    /// The outputs, separated by `; `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for k in 0..self.outputs.len() {
            if k > 0 {
                f.write_str("; ")?;
            }
            f.write_str(&self.output_text(k))?;
        }
        Ok(())
    }
}

/// A [`Program`] whose variables are bound to input positions: a function
/// `Rⁿ → Rᵐ` that runs on any [`Real`] number type, so every mode of
/// differentiation applies to it.
///
/// ```
/// use chainrule::expr::parse;
/// let program = parse("exp(-x^2)")?;
/// let f = program.bind(&["x"])?;
/// let slope = chainrule::grad(|x| f.eval_one(x), &[1.5]).unwrap()[0];
/// assert!((slope - (-3.0 * (-2.25f64).exp())).abs() < 1e-15);
/// # Ok::<(), chainrule::expr::ExprError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Bound<'p> {
    program: &'p Program,
    /// Input position of each program variable.
    slots: Vec<usize>,
    input_count: usize,
}

impl Bound<'_> {
    /// The program this binds.
    pub fn program(&self) -> &Program {
        self.program
    }

    /// All outputs at `inputs`.
    ///
    /// # Panics
    /// If `inputs` is shorter than the list of names it was bound to (a
    /// programming error: pass one value per bound name).
    pub fn eval<T: Real>(&self, inputs: &[T]) -> Vec<T> {
        assert!(
            inputs.len() >= self.input_count,
            "Bound::eval: {} input values given for {} bound names",
            inputs.len(),
            self.input_count
        );
        let mut values: Vec<T> = Vec::with_capacity(self.program.nodes.len());
        for node in &self.program.nodes {
            let value = match *node {
                Node::Constant { value, name } => match name {
                    Some("pi") => T::PI(),
                    Some("e") => T::E(),
                    _ => T::from_f64(value).unwrap_or_else(T::nan),
                },
                Node::Variable(v) => inputs[self.slots[v]],
                Node::Unary(op, a) => values[a].apply_unary(op),
                Node::Binary(op, a, b) => values[a].apply_binary(op, values[b]),
            };
            values.push(value);
        }
        self.program.outputs.iter().map(|&k| values[k]).collect()
    }

    /// The first output at `inputs` (for scalar functions).
    ///
    /// # Panics
    /// As [`eval`](Bound::eval).
    pub fn eval_one<T: Real>(&self, inputs: &[T]) -> T {
        self.eval(inputs)[0]
    }
}
