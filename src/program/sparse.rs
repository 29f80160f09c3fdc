//! Sparse Jacobians and Hessians of a program: the pattern and its colouring
//! are found once per program; at each point, ⌈colours/8⌉ compressed sweeps
//! on [`DualN`] numbers give every nonzero.

use std::sync::OnceLock;

use super::Program;
use super::colouring::{Colouring, colour_columns, star_colouring};
use super::scratch::{Scratch, take_scratch};
use super::sparsity::Sparsity;
use crate::custom::erased::Job;
use crate::error::{Result, check_len};
use crate::reverse::TapeScalar;
use crate::rules;
use crate::{DualN, HESSIAN_CHUNK, JACFWD_CHUNK, Matrix};

/// A sparse matrix in compressed sparse rows: the [`Sparsity`] pattern and
/// one value per entry.
///
/// With the `serde` feature it is `{"pattern", "values"}`; reading one back
/// checks the pattern and that there is one value per entry.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(try_from = "SavedSparseMatrix<S>", bound(deserialize = "S: serde::Deserialize<'de>"))
)]
pub struct SparseMatrix<S> {
    /// Where the entries are.
    pub pattern: Sparsity,
    /// The value of each entry, in the pattern's order.
    pub values: Vec<S>,
}

/// A sparse matrix as read (feature `serde`), before it is checked.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedSparseMatrix<S> {
    pattern: Sparsity,
    values: Vec<S>,
}

#[cfg(feature = "serde")]
impl<S> TryFrom<SavedSparseMatrix<S>> for SparseMatrix<S> {
    type Error = String;

    fn try_from(saved: SavedSparseMatrix<S>) -> std::result::Result<Self, String> {
        if saved.values.len() != saved.pattern.len() {
            return Err(format!(
                "{} values for a pattern of {} entries",
                saved.values.len(),
                saved.pattern.len()
            ));
        }
        Ok(SparseMatrix {
            pattern: saved.pattern,
            values: saved.values,
        })
    }
}

impl<S: Copy + Default> SparseMatrix<S> {
    /// Row `i` as `(column, value)` pairs.
    pub fn row(&self, i: usize) -> impl Iterator<Item = (usize, S)> + '_ {
        let range = self.pattern.row_offsets[i]..self.pattern.row_offsets[i + 1];
        self.pattern.columns[range.clone()]
            .iter()
            .copied()
            .zip(self.values[range].iter().copied())
    }

    /// The dense matrix, zeros outside the pattern.
    ///
    /// # Errors
    /// [`Error::TooLarge`](crate::Error::TooLarge) or
    /// [`Error::OutOfMemory`](crate::Error::OutOfMemory) if it cannot be
    /// made (a sparse result can stand for a dense one too large to hold).
    pub fn to_dense(&self) -> crate::error::Result<Matrix<S>> {
        let mut dense = Matrix::try_zeros(self.pattern.rows, self.pattern.cols)?;
        for i in 0..self.pattern.rows {
            for (j, value) in self.row(i) {
                dense[(i, j)] = value;
            }
        }
        Ok(dense)
    }
}

/// What a program keeps for its sparse derivatives, computed on first use.
#[derive(Clone, Debug, Default)]
pub(crate) struct SparseCache {
    jacobian: OnceLock<(Sparsity, Colouring)>,
    jacobian_rows: OnceLock<Colouring>,
    hessian: OnceLock<(Sparsity, Colouring)>,
}

impl PartialEq for SparseCache {
    /// The cache is derived from the program: it never makes two programs differ.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<S: TapeScalar> Program<S> {
    /// The Jacobian's sparsity pattern and the column colouring used by
    /// [`sparse_jacobian`](Program::sparse_jacobian), computed once.
    pub fn jacobian_colouring(&self) -> &(Sparsity, Colouring) {
        self.sparse.jacobian.get_or_init(|| {
            let pattern = self.jacobian_sparsity();
            let colouring = colour_columns(&pattern);
            (pattern, colouring)
        })
    }

    /// A colouring of the Jacobian's rows such that no two rows of one
    /// colour have an entry in the same column: reverse sweeps, one per 8
    /// colours, then compute the Jacobian. Computed once.
    pub fn jacobian_row_colouring(&self) -> &Colouring {
        self.sparse.jacobian_rows.get_or_init(|| {
            let pattern = &self.jacobian_colouring().0;
            let mut columns = vec![Vec::new(); pattern.cols];
            for i in 0..pattern.rows {
                for &j in pattern.row(i) {
                    columns[j].push(i);
                }
            }
            colour_columns(&Sparsity::from_rows(pattern.rows, columns))
        })
    }

    /// The Hessian's sparsity pattern and the star colouring used by
    /// [`sparse_hessian`](Program::sparse_hessian), computed once.
    pub fn hessian_colouring(&self) -> &(Sparsity, Colouring) {
        self.sparse.hessian.get_or_init(|| {
            let pattern = self.hessian_sparsity();
            let colouring = star_colouring(&pattern);
            (pattern, colouring)
        })
    }

    /// The Jacobian at `x` as a sparse matrix: one forward pass on
    /// [`DualN`] per 8 colours of structurally orthogonal columns, or, when
    /// the rows need fewer colours (a dense row makes every column collide),
    /// one backward loop per 8 colours of rows.
    ///
    /// ```
    /// use chainrule::program::record;
    /// // A banded function: y_i = x_i · x_{i+1}.
    /// let p = record(|x| x.windows(2).map(|w| w[0] * w[1]).collect::<Vec<_>>(), &[1.0; 6])?;
    /// let j = p.sparse_jacobian(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?;
    /// assert_eq!(p.jacobian_colouring().1.count, 2);
    /// assert_eq!(j.to_dense()?, p.jacobian(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?);
    /// # Ok::<(), chainrule::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`eval`](Program::eval).
    pub fn sparse_jacobian(&self, x: &[S]) -> Result<SparseMatrix<S>> {
        check_len("point", self.inputs, x.len())?;
        let (pattern, colouring) = self.jacobian_colouring();
        let rows = self.jacobian_row_colouring();
        if rows.count < colouring.count {
            return self.sparse_jacobian_by_rows(x, pattern, rows);
        }
        let mut values = vec![S::zero(); pattern.len()];
        let mut point: Vec<DualN<S, JACFWD_CHUNK>> = x.iter().map(|&v| DualN::constant(v)).collect();
        let mut node_values = Vec::new();
        for start in (0..colouring.count).step_by(JACFWD_CHUNK) {
            seed_colours(&mut point, x, colouring, start);
            self.forward(&point, &mut node_values, None)?;
            for (i, &output) in self.outputs.iter().enumerate() {
                let tangents = *node_values[output as usize].tangents();
                let entries = pattern.row_offsets[i]..pattern.row_offsets[i + 1];
                for (value, &column) in values[entries.clone()].iter_mut().zip(&pattern.columns[entries]) {
                    let colour = colouring.colours[column];
                    if (start..start + JACFWD_CHUNK).contains(&colour) {
                        *value = tangents[colour - start];
                    }
                }
            }
        }
        Ok(SparseMatrix {
            pattern: pattern.clone(),
            values,
        })
    }

    /// The sparse Jacobian from reverse sweeps: one forward pass for the
    /// partials, then one backward loop per 8 colours of rows, each carrying
    /// an 8-lane adjoint (lane `c` seeds every output of colour `c`).
    fn sparse_jacobian_by_rows(&self, x: &[S], pattern: &Sparsity, rows: &Colouring) -> Result<SparseMatrix<S>> {
        const LANES: usize = JACFWD_CHUNK;
        let mut scratch = take_scratch();
        let Scratch { values, partials, .. } = &mut *scratch;
        self.forward(x, values, Some(partials))?;
        let mut blocks: Vec<[S; LANES]> = Vec::new();
        let mut entries = vec![S::zero(); pattern.len()];
        for start in (0..rows.count).step_by(LANES) {
            blocks.clear();
            blocks.resize(self.ops.len(), [S::zero(); LANES]);
            for (i, &output) in self.outputs.iter().enumerate() {
                let colour = rows.colours[i];
                if (start..start + LANES).contains(&colour) {
                    blocks[output as usize][colour - start] += S::one();
                }
            }
            let mut job = Job::default();
            self.visit_backward(
                values,
                partials,
                &mut blocks,
                |blocks, i, args, local| {
                    let adjoint = blocks[i];
                    if S::all_zero(&adjoint) {
                        return;
                    }
                    for (&arg, &partial) in args.iter().zip(local) {
                        for (target, &a) in blocks[arg as usize].iter_mut().zip(&adjoint) {
                            *target += rules::chain(partial, a);
                        }
                    }
                },
                |blocks, call| {
                    // One vector-Jacobian product per lane (`lane` picks one
                    // entry of every node's block: no single slice to iterate).
                    #[allow(clippy::needless_range_loop)]
                    for lane in 0..LANES {
                        if self.vector_pullback(call, values, |node| blocks[node][lane], &mut job)? {
                            for (&arg, &pulled) in call.args.iter().zip(&job.out) {
                                blocks[arg as usize][lane] += pulled;
                            }
                        }
                    }
                    Ok(())
                },
            )?;
            for i in 0..pattern.rows {
                let colour = rows.colours[i];
                if !(start..start + LANES).contains(&colour) {
                    continue;
                }
                for e in pattern.row_offsets[i]..pattern.row_offsets[i + 1] {
                    // Inputs are nodes 0..n.
                    entries[e] = blocks[pattern.columns[e]][colour - start];
                }
            }
        }
        Ok(SparseMatrix {
            pattern: pattern.clone(),
            values: entries,
        })
    }

    /// The Hessian of output 0 at `x` as a sparse matrix: forward over
    /// reverse with one direction per colour of a star colouring, 8 colours
    /// per pass, each nonzero read directly from the compressed product.
    ///
    /// ```
    /// use chainrule::program::record;
    /// use num_traits::Float;
    /// fn rosenbrock<T: Float>(x: &[T]) -> T {
    ///     let c = T::from(100.0).unwrap();
    ///     x.windows(2).fold(T::zero(), |a, w| a + c * (w[1] - w[0] * w[0]).powi(2) + (T::one() - w[0]).powi(2))
    /// }
    /// let p = record(rosenbrock, &[0.0; 50])?;
    /// let h = p.sparse_hessian(&[0.5; 50])?;
    /// assert_eq!(p.hessian_colouring().1.count, 3); // tridiagonal
    /// assert_eq!(h.to_dense()?, p.hessian(&[0.5; 50])?);
    /// # Ok::<(), chainrule::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`value_and_gradient`](Program::value_and_gradient).
    pub fn sparse_hessian(&self, x: &[S]) -> Result<SparseMatrix<S>> {
        self.value_gradient_sparse_hessian(x).map(|(_, _, h)| h)
    }

    /// The value, gradient and sparse Hessian of output 0 at `x`, all from
    /// the same compressed sweeps as [`sparse_hessian`](Program::sparse_hessian).
    ///
    /// # Errors
    /// As [`value_and_gradient`](Program::value_and_gradient).
    pub fn value_gradient_sparse_hessian(&self, x: &[S]) -> Result<(S, Vec<S>, SparseMatrix<S>)> {
        let output = self.single_output()?;
        check_len("point", self.inputs, x.len())?;
        let (pattern, colouring) = self.hessian_colouring();
        // As few lanes as the colours need: a banded Hessian's 3 colours fit
        // in 4 lanes, half the memory traffic of 8.
        let (value, gradient, compressed) = match colouring.count {
            0..=2 => self.compressed_hessian::<2>(x, output, colouring)?,
            3..=4 => self.compressed_hessian::<4>(x, output, colouring)?,
            _ => self.compressed_hessian::<HESSIAN_CHUNK>(x, output, colouring)?,
        };
        let hessian = SparseMatrix {
            pattern: pattern.clone(),
            values: recover_symmetric(pattern, colouring, &compressed),
        };
        Ok((value, gradient, hessian))
    }

    /// The value, the gradient and `compressed[i·count + c]` = Σ over the
    /// columns `j` of colour `c` of `H[i][j]`: forward over reverse with one
    /// lane per colour, `N` colours per pass (at least one pass, for the
    /// value and gradient).
    pub(super) fn compressed_hessian<const N: usize>(
        &self,
        x: &[S],
        output: u32,
        colouring: &Colouring,
    ) -> Result<(S, Vec<S>, Vec<S>)> {
        let count = colouring.count;
        let mut compressed = crate::matrix::try_filled(self.inputs, count, S::zero(), "compressed Hessian")?;
        let mut point: Vec<DualN<S, N>> = x.iter().map(|&v| DualN::constant(v)).collect();
        let mut s = take_scratch();
        let (mut value, mut gradient) = (S::zero(), Vec::new());
        for start in (0..count.max(1)).step_by(N) {
            seed_colours(&mut point, x, colouring, start);
            self.forward_and_backward(&point, &[(output, DualN::constant(S::one()))], &mut s)?;
            let (values, adjoints) = (&s.values, &s.adjoints);
            if start == 0 {
                value = values[output as usize].value;
                gradient = self.input_nodes().map(|i| adjoints[i as usize].value).collect();
            }
            let end = (start + N).min(count);
            for (i, node) in self.input_nodes().enumerate() {
                let tangents = adjoints[node as usize].tangents();
                compressed[i * count + start..i * count + end].copy_from_slice(&tangents[..end - start]);
            }
        }
        Ok((value, gradient, compressed))
    }
}

/// Seeds lane `colour − start` of every input whose colour is in
/// `start..start + N`; the other inputs are constants.
fn seed_colours<S: TapeScalar, const N: usize>(
    point: &mut [DualN<S, N>],
    x: &[S],
    colouring: &Colouring,
    start: usize,
) {
    for (j, p) in point.iter_mut().enumerate() {
        let colour = colouring.colours[j];
        *p = if (start..start + N).contains(&colour) {
            DualN::variable(x[j], colour - start)
        } else {
            DualN::constant(x[j])
        };
    }
}

/// Reads each nonzero `H[i][j]` from the compressed product: from row `i`
/// when `j` is the only column of its colour in row `i`, else from row `j`
/// (a star colouring guarantees one of the two).
fn recover_symmetric<S: Copy>(pattern: &Sparsity, colouring: &Colouring, compressed: &[S]) -> Vec<S> {
    let colours = &colouring.colours;
    let count = colouring.count;
    let alone = |i: usize, j: usize| pattern.row(i).iter().all(|&k| k == j || colours[k] != colours[j]);
    let mut values = Vec::with_capacity(pattern.len());
    for i in 0..pattern.rows {
        for &j in pattern.row(i) {
            let value = if alone(i, j) {
                compressed[i * count + colours[j]]
            } else {
                debug_assert!(alone(j, i), "not a star colouring at ({i}, {j})");
                compressed[j * count + colours[i]]
            };
            values.push(value);
        }
    }
    values
}
