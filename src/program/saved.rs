//! Programs written out and read back (feature `serde`).
//!
//! A [`Program`] serializes as its node list: each node's operation and
//! argument nodes, the constants, the input count, the output nodes and the
//! guards. Reading one back checks everything the sweeps rely on (inputs
//! first and in order, every argument an earlier node, every index in
//! range), so a program read from any data evaluates without panicking or
//! reports what is wrong. Programs that apply custom rules cannot be
//! written: a rule is code, not data.
//!
//! ```
//! use chainrule::program::{record, Program};
//! use num_traits::Float;
//!
//! let program = record(|x| x[0].sin() * x[1] + 2.0, &[1.0, 3.0])?;
//! let text = serde_json::to_string(&program).unwrap();
//! let back: Program<f64> = serde_json::from_str(&text).unwrap();
//! assert_eq!(back, program);
//! assert_eq!(back.gradient(&[0.5, 2.0])?, vec![2.0 * 0.5.cos(), 0.5.sin()]);
//! # Ok::<(), chainrule::Error>(())
//! ```

use std::cmp::Ordering;

use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Guard, Op, Program};
use crate::reverse::Outcome;

/// One node as written: its operation and its argument nodes.
#[derive(Serialize, Deserialize)]
struct SavedNode {
    op: Op,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    args: Vec<u32>,
}

/// What a comparison answered, by name.
#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum SavedOutcome {
    Less,
    Equal,
    Greater,
    Unordered,
    Equals,
    Differs,
}

#[derive(Serialize, Deserialize)]
struct SavedGuard {
    left: u32,
    right: u32,
    outcome: SavedOutcome,
}

/// A program as written.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedProgram<S> {
    inputs: usize,
    nodes: Vec<SavedNode>,
    constants: Vec<S>,
    outputs: Vec<u32>,
    #[serde(default)]
    guards: Vec<SavedGuard>,
}

impl From<Outcome> for SavedOutcome {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Order(Some(Ordering::Less)) => SavedOutcome::Less,
            Outcome::Order(Some(Ordering::Equal)) => SavedOutcome::Equal,
            Outcome::Order(Some(Ordering::Greater)) => SavedOutcome::Greater,
            Outcome::Order(None) => SavedOutcome::Unordered,
            Outcome::Equal(true) => SavedOutcome::Equals,
            Outcome::Equal(false) => SavedOutcome::Differs,
        }
    }
}

impl From<SavedOutcome> for Outcome {
    fn from(outcome: SavedOutcome) -> Self {
        match outcome {
            SavedOutcome::Less => Outcome::Order(Some(Ordering::Less)),
            SavedOutcome::Equal => Outcome::Order(Some(Ordering::Equal)),
            SavedOutcome::Greater => Outcome::Order(Some(Ordering::Greater)),
            SavedOutcome::Unordered => Outcome::Order(None),
            SavedOutcome::Equals => Outcome::Equal(true),
            SavedOutcome::Differs => Outcome::Equal(false),
        }
    }
}

impl<S: Serialize + Clone> Serialize for Program<S> {
    /// Writes the node list.
    ///
    /// # Errors
    /// A program that applies a custom rule ([`Op::Custom`],
    /// [`Op::CustomOutput`]) cannot be written.
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        if let Some(rule) = self
            .customs
            .first()
            .map(|c| c.rule.name())
            .or(self.vector_calls.first().map(|c| c.rule.name()))
        {
            return Err(Z::Error::custom(format!(
                "this program applies the custom rule '{rule}', and a rule is code: only programs of the rule table's operations can be written"
            )));
        }
        let nodes = self
            .ops
            .iter()
            .zip(&self.args)
            .map(|(&op, args)| SavedNode {
                op,
                args: args[..op.fixed_arity()].to_vec(),
            })
            .collect();
        let guards = self
            .guards
            .iter()
            .map(|g| SavedGuard {
                left: g.left,
                right: g.right,
                outcome: g.outcome.into(),
            })
            .collect();
        SavedProgram {
            inputs: self.inputs,
            nodes,
            constants: self.constants.clone(),
            outputs: self.outputs.clone(),
            guards,
        }
        .serialize(serializer)
    }
}

impl<'de, S: Deserialize<'de> + Copy> Deserialize<'de> for Program<S> {
    /// Reads a node list and checks everything the sweeps rely on: the
    /// inputs first and in order, every argument an earlier node, each
    /// operation's arity, and every constant, output and guard index in range.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let saved = SavedProgram::<S>::deserialize(deserializer)?;
        checked(saved).map_err(D::Error::custom)
    }
}

/// The program a saved one describes, or what is wrong with it.
fn checked<S>(saved: SavedProgram<S>) -> Result<Program<S>, String> {
    let count = saved.nodes.len();
    if count > u32::MAX as usize {
        return Err(format!("{count} nodes: at most {} fit a program", u32::MAX));
    }
    if saved.inputs > count {
        return Err(format!(
            "{} inputs but only {count} nodes: the inputs are the first nodes",
            saved.inputs
        ));
    }
    let mut ops = Vec::with_capacity(count);
    let mut args = Vec::with_capacity(count);
    for (i, node) in saved.nodes.iter().enumerate() {
        let op = node.op;
        match op {
            Op::Input(k) if i < saved.inputs && k as usize == i => {}
            Op::Input(k) => {
                return Err(format!(
                    "node {i} is input {k}: the inputs must be nodes 0..{} in order, input k at node k",
                    saved.inputs
                ));
            }
            _ if i < saved.inputs => {
                return Err(format!(
                    "node {i} must be input {i} (the program has {} inputs)",
                    saved.inputs
                ));
            }
            Op::Constant(k) if (k as usize) < saved.constants.len() => {}
            Op::Constant(k) => {
                return Err(format!(
                    "node {i} reads constant {k}, but there are {} constants",
                    saved.constants.len()
                ));
            }
            Op::Custom(_) | Op::CustomOutput { .. } => {
                return Err(format!(
                    "node {i} applies a custom rule: only the rule table's operations can be read"
                ));
            }
            Op::Unary(_) | Op::Binary(_) | Op::MulAdd => {}
        }
        if node.args.len() != op.fixed_arity() {
            return Err(format!(
                "node {i} ({op:?}) has {} arguments, {} expected",
                node.args.len(),
                op.fixed_arity()
            ));
        }
        if let Some(&late) = node.args.iter().find(|&&a| a as usize >= i) {
            return Err(format!("node {i} reads node {late}: arguments must be earlier nodes"));
        }
        let mut slots = [0; 3];
        slots[..node.args.len()].copy_from_slice(&node.args);
        ops.push(op);
        args.push(slots);
    }
    if let Some(&o) = saved.outputs.iter().find(|&&o| o as usize >= count) {
        return Err(format!("output node {o} is out of range ({count} nodes)"));
    }
    let mut guards = Vec::with_capacity(saved.guards.len());
    for (k, g) in saved.guards.iter().enumerate() {
        if g.left as usize >= count || g.right as usize >= count {
            return Err(format!(
                "guard {k} compares nodes {} and {}, out of range ({count} nodes)",
                g.left, g.right
            ));
        }
        guards.push(Guard {
            left: g.left,
            right: g.right,
            outcome: g.outcome.into(),
        });
    }
    let program = Program {
        ops,
        args,
        customs: Vec::new(),
        vector_calls: Vec::new(),
        constants: saved.constants,
        inputs: saved.inputs,
        outputs: saved.outputs,
        guards,
        sparse: Default::default(),
        steps: Vec::new(),
    };
    Ok(program.prepare_sweeps())
}

#[cfg(test)]
mod tests {
    use crate::program::{Program, record};
    use num_traits::Float;

    fn read(text: &str) -> Result<Program<f64>, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    #[test]
    fn a_program_reads_back_equal_and_sweeps_the_same() {
        let f = |x: &[crate::Var<f64>]| {
            let y = if x[0] > x[1] { x[0].exp() } else { x[1].ln() };
            vec![y * x[1] + x[0].powi(3), x[0].mul_add(x[1], x[0])]
        };
        let program = record(f, &[2.0, 1.0]).unwrap();
        let back: Program<f64> = serde_json::from_str(&serde_json::to_string(&program).unwrap()).unwrap();
        assert_eq!(back, program);
        assert_eq!(back.guards(), program.guards());
        let x = [1.5, 0.5];
        assert_eq!(back.jacobian(&x).unwrap(), program.jacobian(&x).unwrap());
        assert_eq!(
            back.eval(&[0.5, 1.5]).unwrap_err(),
            program.eval(&[0.5, 1.5]).unwrap_err()
        );
    }

    #[test]
    fn malformed_programs_are_refused_with_the_reason() {
        let cases = [
            (
                r#"{"inputs":2,"nodes":[{"op":{"Input":0}}],"constants":[],"outputs":[0]}"#,
                "2 inputs but only 1 nodes",
            ),
            (
                r#"{"inputs":1,"nodes":[{"op":{"Input":1}}],"constants":[],"outputs":[0]}"#,
                "node 0 is input 1",
            ),
            (
                r#"{"inputs":1,"nodes":[{"op":{"Input":0}},{"op":{"Unary":"Sin"},"args":[1]}],"constants":[],"outputs":[1]}"#,
                "node 1 reads node 1",
            ),
            (
                r#"{"inputs":1,"nodes":[{"op":{"Input":0}},{"op":{"Binary":"Mul"},"args":[0]}],"constants":[],"outputs":[1]}"#,
                "has 1 arguments, 2 expected",
            ),
            (
                r#"{"inputs":0,"nodes":[{"op":{"Constant":3}}],"constants":[1.0],"outputs":[0]}"#,
                "reads constant 3",
            ),
            (
                r#"{"inputs":1,"nodes":[{"op":{"Input":0}}],"constants":[],"outputs":[7]}"#,
                "output node 7",
            ),
            (
                r#"{"inputs":0,"nodes":[{"op":{"Custom":0}}],"constants":[],"outputs":[0]}"#,
                "custom rule",
            ),
            (
                r#"{"inputs":1,"nodes":[{"op":{"Input":0}}],"constants":[],"outputs":[0],"guards":[{"left":0,"right":4,"outcome":"less"}]}"#,
                "guard 0",
            ),
        ];
        for (text, reason) in cases {
            let error = read(text).unwrap_err();
            assert!(error.contains(reason), "{text}: {error}");
        }
    }

    #[test]
    fn programs_with_custom_rules_are_not_written() {
        #[derive(Clone)]
        struct Square;
        impl crate::Elementary<1> for Square {
            const NAME: &'static str = "square";
            fn value<T: crate::Real>(&self, [x]: [T; 1]) -> T {
                x * x
            }
            fn partials<T: crate::Real>(&self, [x]: [T; 1]) -> [T; 1] {
                [x + x]
            }
        }
        let program = record(|x| crate::apply(&Square, [x[0]]), &[2.0]).unwrap();
        let error = serde_json::to_string(&program).unwrap_err().to_string();
        assert!(error.contains("'square'"), "{error}");
    }
}
