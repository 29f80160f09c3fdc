//! Command-line arguments: clap definitions and the `--at` point.

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::limits::read_expression;
use chainrule::expr::{lookup_constant, lookup_function, printable};

const EXAMPLES: &str = "\
Examples:
  chainrule eval 'exp(-x^2)' --at x=1.5
  chainrule grad 'ln(x1) + x1*x2 - sin(x2)' --at x1=2,x2=5
  chainrule grad '-x^2' --at x=-1.5 --mode forward --json
  chainrule jacobian 'x*y; x+y; sin(x)' --at x=1,y=2
  chainrule hessian 'x^2*y + y^3' --at x=1,y=2
  chainrule trace 'ln(x1) + x1*x2 - sin(x2)' --at x1=2,x2=5 --mode forward --wrt x1
  chainrule graph 'ln(x1) + x1*x2 - sin(x2)' --at x1=2,x2=5 --output graph.svg
  chainrule graph 'ln(x1) + x1*x2 - sin(x2)' --at x1=2,x2=5 --output page.html
  chainrule chain --stage 'x*y; x+y; sin(x)' --stage 'a*b*c; a-c' --at x=1,y=2
  chainrule serve --open
  chainrule completions bash > ~/.local/share/bash-completion/completions/chainrule
  chainrule program 'sin(x)*y + sin(x)^2' --at x=1,y=2
  chainrule grad --file long-expression.txt --at x=1

Expressions: numbers (2, .5, 1e-3), constants pi and e, variables (x, x1, w_2),
+ - * / and ^ (right-associative; -x^2 is -(x^2)), parentheses, and the functions
sin cos tan asin acos atan sinh cosh tanh asinh acosh atanh exp exp2 expm1
ln log log2 log10 log1p sqrt cbrt recip abs sigmoid softplus relu floor ceil
round trunc fract signum to_degrees to_radians stop_gradient (one argument; log
is ln) pow atan2 hypot max min rem (two arguments). Quote expressions for the shell.
Limits: 1,000,000 characters; parentheses and calls nested at most 200 deep.

Exit status: 0 on success, 2 on bad input (the message starts with 'error:').";

/// Exact derivatives of math expressions, by automatic differentiation.
///
/// chainrule parses a formula once and differentiates it in forward mode (dual
/// numbers) or reverse mode (a tape swept backward), with no symbolic algebra
/// and no finite differences: the results are exact to floating point.
#[derive(Debug, Parser)]
#[command(name = "chainrule", version, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate an expression (or several, separated by ';')
    #[command(after_help = "Example:\n  chainrule eval 'exp(-x^2)' --at x=1.5\n  chainrule eval 'ln(-1)' --json")]
    Eval(Common),

    /// Gradient of a scalar expression (reverse mode by default)
    #[command(
        after_help = "Example:\n  chainrule grad 'ln(x1) + x1*x2 - sin(x2)' --at x1=2,x2=5\n  chainrule grad '-x^2' --at x=-1.5 --mode forward --json"
    )]
    Grad {
        #[command(flatten)]
        common: Common,
        /// forward: dual numbers, 8 inputs per pass; reverse: one recording and one backward sweep
        #[arg(long, value_enum, default_value_t = GradMode::Reverse)]
        mode: GradMode,
    },

    /// Jacobian of several expressions separated by ';'
    #[command(
        after_help = "Example:\n  chainrule jacobian 'x*y; x+y; sin(x)' --at x=1,y=2\n  chainrule jacobian 'x*y*z; x+y+z' --at x=1,y=2,z=3 --mode reverse --json"
    )]
    Jacobian {
        #[command(flatten)]
        common: Common,
        /// auto: forward when inputs <= outputs, else reverse
        #[arg(long, value_enum, default_value_t = JacobianMode::Auto)]
        mode: JacobianMode,
    },

    /// Evaluation trace: every step's value, with tangents (forward) or adjoints (reverse)
    #[command(
        after_help = "Example:\n  chainrule trace 'ln(x1) + x1*x2 - sin(x2)' --at x1=2,x2=5 --mode forward --wrt x1\n  chainrule trace 'ln(x1) + x1*x2 - sin(x2)' --at x1=2,x2=5 --mode reverse --json"
    )]
    Trace {
        #[command(flatten)]
        common: Common,
        /// forward: primal and tangent trace; reverse: primal and adjoint trace
        #[arg(long, value_enum, default_value_t = GradMode::Reverse)]
        mode: GradMode,
        /// Forward mode: the input whose tangent is traced (default: the first input)
        #[arg(long, value_name = "NAME")]
        wrt: Option<String>,
        /// Reverse mode: which output (1, 2, ...) the adjoints are of
        #[arg(long, value_name = "K", default_value_t = 1)]
        of: usize,
    },

    /// Picture of the computational graph with values and adjoints (SVG, Graphviz DOT, or an interactive HTML page)
    #[command(
        after_help = "Example:\n  chainrule graph 'ln(x1) + x1*x2 - sin(x2)' --at x1=2,x2=5 --output baydin.svg\n  chainrule graph 'ln(x1) + x1*x2 - sin(x2)' --at x1=2,x2=5 --output baydin.html\n  chainrule graph 'exp(-x^2)' --at x=1.5 | dot -Tpng > seed.png\n\nThe HTML page needs no network: open it in a browser and step the forward sweep\n(values and tangents node by node) or the reverse sweep (adjoints edge by edge)."
    )]
    Graph {
        #[command(flatten)]
        common: Common,
        /// Write the picture to FILE (format from its extension: .svg, .dot or .html); without it, DOT goes to standard output
        #[arg(long, short, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
        /// The picture's format, overriding the file extension
        #[arg(long, value_enum)]
        format: Option<PictureFormat>,
        /// Also show tangents along this input
        #[arg(long, value_name = "NAME")]
        wrt: Option<String>,
        /// Which output (1, 2, ...) the adjoints are of
        #[arg(long, value_name = "K", default_value_t = 1)]
        of: usize,
    },

    /// The chain rule as a product of Jacobians: each stage's Jacobian at its point, their product, and the cost of forming it forward or reverse
    #[command(
        after_help = "Example:\n  chainrule chain --stage 'x*y; x+y; sin(x)' --stage 'a*b*c; a-c' --at x=1,y=2\n  chainrule chain --stage 'x*y; x+y; sin(x)' --stage 'a*b*c; a-c' --at x=1,y=2 --output chain.html"
    )]
    Chain(ChainArgs),

    /// Serve the interactive page as a local playground: type an expression, watch both sweeps
    #[cfg(feature = "serve")]
    #[command(
        after_help = "Example:\n  chainrule serve --open\n  chainrule serve 'x*y + sin(x)' --at x=1,y=2 --port 8080\n\nThe server listens on 127.0.0.1 only, unless --host says otherwise; Ctrl-C stops it."
    )]
    Serve(ServeArgs),

    /// Print a shell completion script (bash, zsh, fish, elvish or powershell)
    #[command(
        after_help = "Example:\n  chainrule completions bash > ~/.local/share/bash-completion/completions/chainrule\n  chainrule completions zsh > \"${fpath[1]}/_chainrule\"\n  chainrule completions fish > ~/.config/fish/completions/chainrule.fish"
    )]
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },

    /// Value, gradient and Hessian of a scalar expression (one recording; forward-over-reverse sweeps, one per 8 colours of its sparsity)
    #[command(after_help = "Example:\n  chainrule hessian 'x^2*y + y^3' --at x=1,y=2")]
    Hessian(Common),

    /// The recorded program of an expression: one numbered line per
    /// elementary operation, after constant folding, common-subexpression and
    /// dead-code elimination
    #[command(after_help = "Example:\n  chainrule program 'sin(x)*y + sin(x)^2' --at x=1,y=2")]
    Program {
        #[command(flatten)]
        common: Common,
        /// Print the program as recorded, without the passes
        #[arg(long)]
        unoptimised: bool,
    },
}

/// `chainrule chain`'s arguments.
#[derive(Debug, Args)]
pub struct ChainArgs {
    /// One stage of the composition: expressions separated by ';'. Stage 1
    /// reads the names in --at; a later stage reads the previous stage's
    /// outputs by the names it uses, in order of first use, or by the names
    /// listed before '->' ('a, b, c -> a*b*c; a-c')
    #[arg(long = "stage", value_name = "EXPRS", required = true, allow_hyphen_values = true)]
    pub stages: Vec<String>,

    /// The point of stage 1: name=value pairs separated by commas
    #[arg(long, value_name = "NAME=VALUE,...", allow_hyphen_values = true)]
    pub at: Option<String>,

    /// Print one JSON object instead of the matrices
    #[arg(long)]
    pub json: bool,

    /// Write an interactive HTML page (the composition's graph and sweeps, and the matrices) to FILE
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

/// `chainrule serve`'s arguments.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The expression the page starts with (default: Baydin et al.'s example)
    #[arg(value_name = "EXPR", allow_hyphen_values = true)]
    pub expr: Option<String>,

    /// The point the page starts with
    #[arg(long, value_name = "NAME=VALUE,...", allow_hyphen_values = true)]
    pub at: Option<String>,

    /// The port to listen on (0: any free port; the address is printed)
    #[arg(long, default_value_t = 8000)]
    pub port: u16,

    /// The address to listen on; other machines can reach the server only
    /// if this is not a loopback address
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,

    /// Open the page in the default browser
    #[arg(long)]
    pub open: bool,
}

/// What every subcommand takes.
#[derive(Debug, Args)]
pub struct Common {
    /// The expression, e.g. 'exp(-x^2)'; it may start with '-'
    #[arg(
        value_name = "EXPR",
        allow_hyphen_values = true,
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    pub expr: Option<String>,

    /// Read the expression from FILE instead ('-' for standard input), for
    /// expressions longer than a command line holds
    #[arg(long, value_name = "FILE")]
    pub file: Option<std::path::PathBuf>,

    /// The point: name=value pairs separated by commas, e.g. x1=2,x2=5.
    /// The inputs are exactly these names, in this order.
    #[arg(long, value_name = "NAME=VALUE,...", allow_hyphen_values = true)]
    pub at: Option<String>,

    /// Print one JSON object instead of the table or picture (full precision; NaN and
    /// infinities as the strings "NaN", "Infinity", "-Infinity")
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GradMode {
    Forward,
    Reverse,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PictureFormat {
    Svg,
    Dot,
    /// An interactive page that plays the forward and reverse sweeps
    Html,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum JacobianMode {
    Auto,
    Forward,
    Reverse,
}

impl Common {
    /// The expression, from the argument or from `--file`.
    pub fn source(&self) -> Result<String, String> {
        match (&self.expr, &self.file) {
            (Some(expr), _) => Ok(expr.clone()),
            (None, Some(path)) if path.as_os_str() == "-" => read_expression(std::io::stdin(), "standard input"),
            (None, Some(path)) => {
                let shown = format!("'{}'", printable(&path.to_string_lossy()));
                let file =
                    std::fs::File::open(path).map_err(|e| format!("cannot read the expression from {shown}: {e}"))?;
                read_expression(file, &shown)
            }
            (None, None) => Err("give an expression, or --file FILE".into()),
        }
    }
}

/// The named point of `--at`, in the order given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Point {
    pub names: Vec<String>,
    pub values: Vec<f64>,
}

impl Point {
    /// `x1=2,x2=5` (with `joiner` ","), each value exactly.
    pub fn text(&self, joiner: &str) -> String {
        let pairs: Vec<String> = self
            .names
            .iter()
            .zip(&self.values)
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        pairs.join(joiner)
    }
}

/// Parses `--at`: `name=value` pairs separated by commas.
pub fn parse_point(text: Option<&str>) -> Result<Point, String> {
    let Some(text) = text else {
        return Ok(Point::default());
    };
    if text.trim().is_empty() {
        return Err("--at is empty: give name=value pairs, e.g. --at x=1,y=2".into());
    }
    let mut point = Point::default();
    let mut seen = std::collections::HashSet::new();
    for item in text.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(format!(
                "--at '{}' has an empty item: separate name=value pairs by single commas",
                printable(text)
            ));
        }
        let Some((name, value)) = item.split_once('=') else {
            return Err(format!(
                "--at: '{item}' has no value: write {item}=VALUE, e.g. {item}=1.5",
                item = printable(item)
            ));
        };
        let (name, value) = (name.trim(), value.trim());
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "--at: '{}' is not a variable name (letters, digits and '_', not starting with a digit)",
                printable(name)
            ));
        }
        if lookup_function(name).is_some() || lookup_constant(name).is_some() {
            return Err(format!(
                "--at: '{name}' is a built-in name (a function or constant), not a variable",
                name = printable(name)
            ));
        }
        if value.is_empty() {
            let name = printable(name);
            return Err(format!("--at: '{name}' has an empty value: write {name}=VALUE"));
        }
        let number: f64 = value.parse().map_err(|_| {
            format!(
                "--at: '{}' is not a number (in '{}')",
                printable(value),
                printable(item)
            )
        })?;
        if number.is_infinite() && !spells_infinity(value) {
            // As for a literal in the expression: refuse rather than round to ∞.
            return Err(format!(
                "--at: number '{}' is too large for a 64-bit float (in '{}')",
                printable(value),
                printable(item)
            ));
        }
        if !seen.insert(name) {
            return Err(format!("--at: '{}' is given twice", printable(name)));
        }
        point.names.push(name.to_string());
        point.values.push(number);
    }
    Ok(point)
}

/// Whether `value` names infinity itself (`inf`, `-infinity`, ...), which
/// `--at` accepts, unlike a finite-looking number that overflows.
fn spells_infinity(value: &str) -> bool {
    let word = value.trim_start_matches(['+', '-']).to_ascii_lowercase();
    word == "inf" || word == "infinity"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points() {
        let p = parse_point(Some("x1=2, x2=-5e-1")).unwrap();
        assert_eq!(p.names, ["x1", "x2"]);
        assert_eq!(p.values, [2.0, -0.5]);
        assert_eq!(parse_point(None).unwrap(), Point::default());
    }

    #[test]
    fn each_bad_point_has_its_own_message() {
        let message = |s| parse_point(Some(s)).unwrap_err();
        assert!(message("x=abc").contains("'abc' is not a number"));
        assert!(message("x").contains("'x' has no value"));
        assert!(message("x=1,x=2").contains("'x' is given twice"));
        assert!(message("x=1,,y=2").contains("empty item"));
        assert!(message("").contains("--at is empty"));
        assert!(message("1x=2").contains("not a variable name"));
        assert!(message("pi=3").contains("built-in name"));
        assert!(message("x=").contains("empty value"));
        assert!(message("x=1e400").contains("'1e400' is too large"));
        assert!(message("x=-1e309").contains("too large"));
        assert_eq!(parse_point(Some("x=-inf")).unwrap().values, [f64::NEG_INFINITY]);
    }
}
