//! Program passes: constant folding, common-subexpression elimination and
//! dead-code elimination, each a loop over the node list.

use foldhash::{HashMap, HashMapExt};

use super::{Op, Program};
use crate::Real;
use crate::rules;

/// Which passes [`record_with`](super::record_with) applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Passes {
    /// Operations whose arguments are all constants become constants (their
    /// values computed by the same rules, so bit for bit what evaluation
    /// would give).
    pub fold_constants: bool,
    /// An operation on the same arguments as an earlier one reuses it.
    pub eliminate_common: bool,
    /// Nodes that reach no output and no guarded comparison are dropped
    /// (inputs always stay).
    pub eliminate_dead: bool,
}

impl Passes {
    /// Every pass.
    pub const ALL: Passes = Passes {
        fold_constants: true,
        eliminate_common: true,
        eliminate_dead: true,
    };

    /// No pass: the program as the function computed it.
    pub const NONE: Passes = Passes {
        fold_constants: false,
        eliminate_common: false,
        eliminate_dead: false,
    };

    /// Applies the chosen passes.
    pub(crate) fn apply<S: Real>(self, mut program: Program<S>) -> Program<S> {
        if self.fold_constants || self.eliminate_common {
            simplify(&mut program, self.fold_constants, self.eliminate_common);
        }
        if self.eliminate_dead {
            eliminate_dead(&mut program);
        }
        program
    }
}

impl Default for Passes {
    fn default() -> Self {
        Passes::ALL
    }
}

/// Folds constants and merges repeated operations in one forward pass.
/// Replaced nodes stay in place (dead-code elimination removes them); their
/// users and the outputs and guards are redirected.
fn simplify<S: Real>(program: &mut Program<S>, fold: bool, merge: bool) {
    let n = program.ops.len();
    // Each node's canonical node: itself, or the earlier node it equals.
    let mut canonical: Vec<u32> = (0..n as u32).collect();
    let mut seen: HashMap<(Op, [u32; 3]), u32> = HashMap::with_capacity(if merge { n } else { 0 });
    for i in 0..n {
        // Custom functions are neither folded nor merged: their rules run
        // at every point.
        match program.ops[i] {
            Op::Custom(k) => {
                for arg in &mut program.customs[k as usize].args {
                    *arg = canonical[*arg as usize];
                }
                continue;
            }
            Op::CustomOutput { call, output } => {
                if output == 0 {
                    for arg in &mut program.vector_calls[call as usize].args {
                        *arg = canonical[*arg as usize];
                    }
                }
                continue;
            }
            _ => {}
        }
        let arity = program.ops[i].fixed_arity();
        for k in 0..arity {
            program.args[i][k] = canonical[program.args[i][k] as usize];
        }
        let args = program.args[i];
        if fold && arity > 0 {
            let constant = |k: usize| match program.ops[args[k] as usize] {
                Op::Constant(c) => Some(program.constants[c as usize]),
                _ => None,
            };
            let mut values = [S::zero(); 3];
            let all_constant = (0..arity).all(|k| constant(k).map(|value| values[k] = value).is_some());
            if all_constant {
                let value = match program.ops[i] {
                    Op::Unary(op) => rules::unary(op, values[0]).0,
                    Op::Binary(op) => rules::binary(op, values[0], values[1]).0,
                    Op::MulAdd => rules::mul_add(values[0], values[1], values[2]).0,
                    Op::Input(_) | Op::Constant(_) | Op::Custom(_) | Op::CustomOutput { .. } => {
                        unreachable!("arity > 0, and custom functions were passed over")
                    }
                };
                program.constants.push(value);
                program.ops[i] = Op::Constant((program.constants.len() - 1) as u32);
                program.args[i] = [0; 3];
                continue;
            }
        }
        if merge && arity > 0 {
            canonical[i] = *seen.entry((program.ops[i], args)).or_insert(i as u32);
        }
    }
    for output in &mut program.outputs {
        *output = canonical[*output as usize];
    }
    for guard in &mut program.guards {
        guard.left = canonical[guard.left as usize];
        guard.right = canonical[guard.right as usize];
    }
}

/// Removes nodes that reach no output and no guard (inputs stay), keeping
/// the order of the others, and renumbers.
fn eliminate_dead<S: Real>(program: &mut Program<S>) {
    let n = program.ops.len();
    let mut live = vec![false; n];
    for &output in &program.outputs {
        live[output as usize] = true;
    }
    for guard in &program.guards {
        live[guard.left as usize] = true;
        live[guard.right as usize] = true;
    }
    for i in (0..n).rev() {
        if matches!(program.ops[i], Op::Input(_)) {
            live[i] = true;
        }
        if live[i] {
            if let Op::CustomOutput { call, .. } = program.ops[i] {
                // A vector function's outputs are computed together: all stay.
                for node in program.vector_calls[call as usize].output_nodes() {
                    live[node] = true;
                }
            }
            for &arg in program.args(i) {
                live[arg as usize] = true;
            }
        }
    }
    let mut new_index = vec![u32::MAX; n];
    let mut ops = Vec::with_capacity(n);
    let mut args = Vec::with_capacity(n);
    let mut constants = Vec::new();
    let mut customs = Vec::new();
    let mut vector_calls: Vec<super::VectorNode<S>> = Vec::new();
    for i in 0..n {
        if !live[i] {
            continue;
        }
        new_index[i] = ops.len() as u32;
        let mut node_args = program.args[i];
        for arg in node_args.iter_mut().take(program.ops[i].fixed_arity()) {
            *arg = new_index[*arg as usize];
        }
        let op = match program.ops[i] {
            Op::Constant(k) => {
                constants.push(program.constants[k as usize]);
                Op::Constant((constants.len() - 1) as u32)
            }
            Op::Custom(k) => {
                let mut custom = program.customs[k as usize].clone();
                for arg in &mut custom.args {
                    *arg = new_index[*arg as usize];
                }
                customs.push(custom);
                Op::Custom((customs.len() - 1) as u32)
            }
            Op::CustomOutput { call, output } => {
                if output == 0 {
                    let mut kept = program.vector_calls[call as usize].clone();
                    for arg in &mut kept.args {
                        *arg = new_index[*arg as usize];
                    }
                    kept.first = new_index[i];
                    vector_calls.push(kept);
                }
                // The outputs are consecutive and kept together, so the call
                // is the last one pushed.
                Op::CustomOutput {
                    call: (vector_calls.len() - 1) as u32,
                    output,
                }
            }
            op => op,
        };
        ops.push(op);
        args.push(node_args);
    }
    program.ops = ops;
    program.args = args;
    program.constants = constants;
    program.customs = customs;
    program.vector_calls = vector_calls;
    for output in &mut program.outputs {
        *output = new_index[*output as usize];
    }
    for guard in &mut program.guards {
        guard.left = new_index[guard.left as usize];
        guard.right = new_index[guard.right as usize];
    }
}
