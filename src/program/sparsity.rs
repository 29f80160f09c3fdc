//! Sparsity patterns of a program's Jacobian and Hessian, found exactly by
//! propagating index sets through the node list (no sampling).

use super::{Op, Program};
use crate::rules::{Binary, Unary};

/// The positions of the possibly nonzero entries of a matrix, row by row
/// (compressed sparse rows without values).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "SavedSparsity"))]
pub struct Sparsity {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns.
    pub cols: usize,
    /// Row `i`'s entries are `columns[row_offsets[i]..row_offsets[i + 1]]`.
    pub row_offsets: Vec<usize>,
    /// The column of each entry, increasing within a row.
    pub columns: Vec<usize>,
}

/// A pattern as read (feature `serde`), before it is checked.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedSparsity {
    rows: usize,
    cols: usize,
    row_offsets: Vec<usize>,
    columns: Vec<usize>,
}

#[cfg(feature = "serde")]
impl TryFrom<SavedSparsity> for Sparsity {
    type Error = String;

    fn try_from(saved: SavedSparsity) -> Result<Self, String> {
        let pattern = Sparsity {
            rows: saved.rows,
            cols: saved.cols,
            row_offsets: saved.row_offsets,
            columns: saved.columns,
        };
        pattern.check().map(|()| pattern)
    }
}

impl Sparsity {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// The columns of row `i`.
    pub fn row(&self, i: usize) -> &[usize] {
        &self.columns[self.row_offsets[i]..self.row_offsets[i + 1]]
    }

    /// What is wrong with the pattern, if anything: `rows + 1` offsets from
    /// 0 up to the number of entries, never decreasing, and in each row
    /// increasing columns below `cols`.
    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    pub(crate) fn check(&self) -> Result<(), String> {
        let offsets = &self.row_offsets;
        if offsets.len() != self.rows.saturating_add(1) {
            return Err(format!(
                "{} rows need {} row offsets, {} given",
                self.rows,
                self.rows.saturating_add(1),
                offsets.len()
            ));
        }
        if offsets.first() != Some(&0) || offsets.last() != Some(&self.columns.len()) {
            return Err(format!(
                "the row offsets must run from 0 to the number of entries ({})",
                self.columns.len()
            ));
        }
        for (i, pair) in offsets.windows(2).enumerate() {
            if pair[0] > pair[1] {
                return Err(format!("row {i}'s offsets decrease ({} then {})", pair[0], pair[1]));
            }
            let row = &self.columns[pair[0]..pair[1]];
            if let Some(&j) = row.iter().find(|&&j| j >= self.cols) {
                return Err(format!("row {i} has column {j}, out of range ({} columns)", self.cols));
            }
            if row.windows(2).any(|w| w[0] >= w[1]) {
                return Err(format!("row {i}'s columns are not increasing"));
            }
        }
        Ok(())
    }

    /// Whether `(i, j)` is an entry.
    pub fn contains(&self, i: usize, j: usize) -> bool {
        self.row(i).binary_search(&j).is_ok()
    }

    /// The pattern from each row's columns (sorted and deduplicated here).
    pub(crate) fn from_rows(cols: usize, mut rows: Vec<Vec<usize>>) -> Sparsity {
        let mut row_offsets = Vec::with_capacity(rows.len() + 1);
        let mut columns = Vec::new();
        row_offsets.push(0);
        for row in &mut rows {
            row.sort_unstable();
            row.dedup();
            columns.extend_from_slice(row);
            row_offsets.push(columns.len());
        }
        Sparsity {
            rows: rows.len(),
            cols,
            row_offsets,
            columns,
        }
    }
}

/// Sets of inputs, one per node, stored flat: node `i`'s set is
/// `items[starts[i]..starts[i + 1]]`, sorted.
struct IndexSets {
    starts: Vec<usize>,
    items: Vec<u32>,
}

impl IndexSets {
    fn get(&self, i: u32) -> &[u32] {
        &self.items[self.starts[i as usize]..self.starts[i as usize + 1]]
    }
}

/// Whether an operation's value has a derivative that is zero everywhere it
/// exists (so it carries no dependence for derivatives).
fn piecewise_constant(op: Op) -> bool {
    matches!(
        op,
        Op::Unary(Unary::Floor | Unary::Ceil | Unary::Round | Unary::Trunc | Unary::Signum | Unary::StopGradient)
    )
}

/// The inputs each node's derivative can depend on (first-order index
/// sets), for the nodes marked `needed` (the others get empty sets): a
/// running sum over all inputs would otherwise hold a set of every size from
/// 1 to n, quadratic memory for a linear-size program.
fn index_sets<S>(program: &Program<S>, needed: &[bool]) -> IndexSets {
    let mut sets = IndexSets {
        starts: Vec::with_capacity(program.len() + 1),
        items: Vec::new(),
    };
    sets.starts.push(0);
    let mut merged: Vec<u32> = Vec::new();
    for (i, &op) in program.ops.iter().enumerate() {
        merged.clear();
        if needed[i] {
            match op {
                Op::Input(k) => merged.push(k),
                Op::Constant(_) => {}
                _ if piecewise_constant(op) => {}
                _ => {
                    for &arg in program.args(i) {
                        merged.extend_from_slice(sets.get(arg));
                    }
                    merged.sort_unstable();
                    merged.dedup();
                }
            }
        }
        sets.items.extend_from_slice(&merged);
        sets.starts.push(sets.items.len());
    }
    sets
}

/// Marks the nodes whose index sets `seeds` need: the seeds and, backward,
/// every argument of a marked node.
fn close_backward<S>(program: &Program<S>, needed: &mut [bool]) {
    for i in (0..program.len()).rev() {
        if needed[i] && !piecewise_constant(program.ops[i]) {
            for &arg in program.args(i) {
                needed[arg as usize] = true;
            }
        }
    }
}

/// The inputs output `output` depends on, by a backward walk (linear in the
/// program's size, whatever the number of inputs).
fn inputs_reaching<S>(program: &Program<S>, output: u32, marks: &mut [bool]) -> Vec<usize> {
    marks.iter_mut().for_each(|m| *m = false);
    marks[output as usize] = true;
    let mut inputs = Vec::new();
    for i in (0..program.len()).rev() {
        if !marks[i] {
            continue;
        }
        match program.ops[i] {
            Op::Input(k) => inputs.push(k as usize),
            op if piecewise_constant(op) => {}
            _ => {
                for &arg in program.args(i) {
                    marks[arg as usize] = true;
                }
            }
        }
    }
    inputs
}

impl<S> Program<S> {
    /// Which entries of the Jacobian can be nonzero at some point: row `i`
    /// holds the inputs output `i` depends on through operations with
    /// nonzero derivatives. Exact for the program (a structural pattern:
    /// an entry may still be zero at particular points, e.g. `x·y` at
    /// `y = 0`); piecewise-constant operations (`floor`, `round`, `signum`...)
    /// have zero derivative and carry no dependence.
    ///
    /// ```
    /// use chainrule::program::record;
    /// use num_traits::Float;
    /// let p = record(|x| vec![x[0] * x[1], x[2].sin()], &[1.0, 2.0, 3.0])?;
    /// let s = p.jacobian_sparsity();
    /// assert_eq!((s.row(0), s.row(1)), (&[0, 1][..], &[2][..]));
    /// # Ok::<(), chainrule::Error>(())
    /// ```
    pub fn jacobian_sparsity(&self) -> Sparsity {
        let rows = if self.outputs.len() <= 64 {
            // Few outputs: one backward walk each (a sum over every input,
            // which forward sets would hold at every size, costs no more).
            let mut marks = vec![false; self.len()];
            self.outputs
                .iter()
                .map(|&o| inputs_reaching(self, o, &mut marks))
                .collect()
        } else {
            // Many outputs: index sets forward, each at most the inputs it needs.
            let mut needed = vec![false; self.len()];
            for &o in &self.outputs {
                needed[o as usize] = true;
            }
            close_backward(self, &mut needed);
            let sets = index_sets(self, &needed);
            self.outputs
                .iter()
                .map(|&o| sets.get(o).iter().map(|&k| k as usize).collect())
                .collect()
        };
        Sparsity::from_rows(self.inputs, rows)
    }

    /// Which entries of the Hessian of output 0 can be nonzero: the pairs of
    /// inputs that meet in a nonlinear operation (a product of two
    /// variables, a quotient by a variable, a nonlinear function of a
    /// variable) whose result reaches the output. Linear operations (`+`,
    /// `−`, scaling), piecewise-linear ones (`abs`, `max`, `min`, `relu`) and
    /// piecewise-constant ones add no pair. Symmetric, diagonal included
    /// where nonzero.
    ///
    /// ```
    /// use chainrule::program::record;
    /// use num_traits::Float;
    /// // x0·x1 + sin(x2) + 3·x3: pairs (0, 1), (1, 0) and (2, 2).
    /// let p = record(|x| x[0] * x[1] + x[2].sin() + x[3] * 3.0, &[1.0; 4])?;
    /// let s = p.hessian_sparsity();
    /// assert_eq!((s.row(0), s.row(1), s.row(2), s.row(3)), (&[1][..], &[0][..], &[2][..], &[][..]));
    /// # Ok::<(), chainrule::Error>(())
    /// ```
    pub fn hessian_sparsity(&self) -> Sparsity {
        let n = self.inputs;
        let mut rows: Vec<Vec<usize>> = vec![Vec::new(); n];
        // Only nodes whose derivatives reach output 0 contribute: not those
        // behind a piecewise-constant operation (floor, stop_gradient...).
        let mut reaches = vec![false; self.ops.len()];
        if let Some(&output) = self.outputs.first() {
            reaches[output as usize] = true;
        }
        for i in (0..self.ops.len()).rev() {
            if reaches[i] && !piecewise_constant(self.ops[i]) {
                for &arg in self.args(i) {
                    reaches[arg as usize] = true;
                }
            }
        }
        // Index sets are needed for the arguments of nonlinear operations only.
        let mut needed = vec![false; self.ops.len()];
        for (i, &op) in self.ops.iter().enumerate() {
            if reaches[i] && is_nonlinear(op) {
                for &arg in self.args(i) {
                    needed[arg as usize] = true;
                }
            }
        }
        close_backward(self, &mut needed);
        let sets = index_sets(self, &needed);
        let mut pair = |a: &[u32], b: &[u32]| {
            for &i in a {
                rows[i as usize].extend(b.iter().map(|&j| j as usize));
            }
            for &j in b {
                rows[j as usize].extend(a.iter().map(|&i| i as usize));
            }
        };
        for (i, &op) in self.ops.iter().enumerate() {
            if !reaches[i] || !is_nonlinear(op) {
                continue;
            }
            let args = self.args(i);
            let set = |k: usize| sets.get(args[k]);
            match op {
                Op::Input(_) | Op::Constant(_) => {}
                Op::Unary(_) => pair(set(0), set(0)),
                Op::Binary(Binary::Mul) => pair(set(0), set(1)),
                Op::Binary(Binary::Div) => {
                    pair(set(0), set(1));
                    pair(set(1), set(1));
                }
                Op::Binary(_) | Op::Custom(_) | Op::CustomOutput { .. } => {
                    let mut all: Vec<u32> = args.iter().flat_map(|&a| sets.get(a)).copied().collect();
                    all.sort_unstable();
                    all.dedup();
                    pair(&all, &all);
                }
                Op::MulAdd => pair(set(0), set(1)),
            }
        }
        Sparsity::from_rows(n, rows)
    }
}

/// Whether an operation can make second derivatives (conservative: a
/// product or quotient counts even where one argument is constant).
fn is_nonlinear(op: Op) -> bool {
    match op {
        Op::Input(_) | Op::Constant(_) => false,
        Op::Unary(u) => !unary_is_piecewise_linear(u),
        Op::Binary(b) => !matches!(b, Binary::Add | Binary::Sub | Binary::Max | Binary::Min | Binary::Rem),
        Op::MulAdd => true,
        // Conservatively: a custom function's second partials are not known
        // structurally.
        Op::Custom(_) | Op::CustomOutput { .. } => true,
    }
}

/// Whether a unary operation is linear or piecewise linear (second
/// derivative zero wherever it exists).
fn unary_is_piecewise_linear(op: Unary) -> bool {
    match op {
        Unary::Neg | Unary::Abs | Unary::Relu | Unary::Fract | Unary::Scale(_) => true,
        Unary::Powi(n) => n == 0 || n == 1,
        _ => piecewise_constant(Op::Unary(op)),
    }
}
