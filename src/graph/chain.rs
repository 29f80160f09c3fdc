//! [`ChainView`]: the chain rule for a composition of vector functions, as a
//! product of Jacobian matrices, with the cost of each order of
//! accumulating it.
//!
//! For f = f_k ∘ … ∘ f_2 ∘ f_1 with f_i: R^{n_{i−1}} → R^{n_i}, the Jacobian is
//! J_k ⋯ J_2 · J_1. Forward mode accumulates it right to left, pushing the
//! n_0 columns of the identity through every stage; reverse mode left to
//! right, pulling the n_k rows back. Which is cheaper depends only on the
//! shapes: this view counts the multiply-adds of both.

use crate::Matrix;
use crate::error::{Error, Result};

use super::capture::format_number;

/// One stage of a composition: its input and output names and its Jacobian
/// at the point it is evaluated at.
#[derive(Clone, Debug, PartialEq)]
pub struct ChainStage {
    /// What the stage is called, e.g. `f1`.
    pub name: String,
    /// Its input names (the previous stage's outputs).
    pub inputs: Vec<String>,
    /// Its output names.
    pub outputs: Vec<String>,
    /// `outputs × inputs` partial derivatives.
    pub jacobian: Matrix<f64>,
}

/// A composition's stage Jacobians, their product and the cost of forming it
/// in each order.
///
/// ```
/// use chainrule::Matrix;
/// use chainrule::graph::{ChainStage, ChainView};
///
/// let stage = |name: &str, inputs: &[&str], outputs: &[&str], rows: Vec<Vec<f64>>| ChainStage {
///     name: name.into(),
///     inputs: inputs.iter().map(|s| s.to_string()).collect(),
///     outputs: outputs.iter().map(|s| s.to_string()).collect(),
///     jacobian: Matrix::from_rows(&rows).unwrap(),
/// };
/// // f1(x, y) = (x·y, x + y), f2(a, b) = a·b at (x, y) = (1, 2): a = 2, b = 3.
/// let view = ChainView::new(vec![
///     stage("f1", &["x", "y"], &["a", "b"], vec![vec![2.0, 1.0], vec![1.0, 1.0]]),
///     stage("f2", &["a", "b"], &["z"], vec![vec![3.0, 2.0]]),
/// ])?;
/// assert_eq!(view.product().to_rows(), vec![vec![8.0, 5.0]]); // ∇(x·y·(x+y)) = (2xy + y², x² + 2xy)
/// // Two stages: one product, the same cost in either order (1·2·2).
/// assert_eq!((view.forward_cost(), view.reverse_cost()), (4, 4));
/// # Ok::<(), chainrule::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ChainView {
    stages: Vec<ChainStage>,
    product: Matrix<f64>,
    whole: Option<Matrix<f64>>,
}

impl ChainView {
    /// The view of `stages`, first stage first; the product is formed right
    /// to left (J_k ⋯ (J_2 · J_1)).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if there are no stages, or a stage's
    /// Jacobian does not have as many columns as the previous stage has rows.
    pub fn new(stages: Vec<ChainStage>) -> Result<ChainView> {
        let first = stages.first().ok_or(Error::LengthMismatch {
            what: "stages of a chain",
            expected: 1,
            found: 0,
        })?;
        let mut product = first.jacobian.clone();
        for stage in &stages[1..] {
            if stage.jacobian.cols() != product.rows() {
                return Err(Error::LengthMismatch {
                    what: "columns of a stage's Jacobian (the previous stage's outputs)",
                    expected: product.rows(),
                    found: stage.jacobian.cols(),
                });
            }
            product = multiply(&stage.jacobian, &product);
        }
        Ok(ChainView {
            stages,
            product,
            whole: None,
        })
    }

    /// The view, checked against `whole`, the Jacobian of the whole
    /// composition computed directly.
    pub fn with_whole(mut self, whole: Matrix<f64>) -> ChainView {
        self.whole = Some(whole);
        self
    }

    /// The stages, first first.
    pub fn stages(&self) -> &[ChainStage] {
        &self.stages
    }

    /// J_k ⋯ J_1.
    pub fn product(&self) -> &Matrix<f64> {
        &self.product
    }

    /// The sizes n_0 (inputs), n_1, …, n_k (outputs).
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![self.stages[0].jacobian.cols()];
        sizes.extend(self.stages.iter().map(|s| s.jacobian.rows()));
        sizes
    }

    /// Multiply-adds of forward accumulation: n_0 columns pushed through
    /// stages 2…k (stage 1's Jacobian is the start), Σ n_i·n_{i−1}·n_0.
    pub fn forward_cost(&self) -> u128 {
        let n = self.sizes();
        (2..n.len())
            .map(|i| n[i] as u128 * n[i - 1] as u128 * n[0] as u128)
            .sum()
    }

    /// Multiply-adds of reverse accumulation: n_k rows pulled back through
    /// stages k−1…1, Σ n_k·n_i·n_{i−1}.
    pub fn reverse_cost(&self) -> u128 {
        let n = self.sizes();
        let last = n[n.len() - 1] as u128;
        (1..n.len() - 1).map(|i| last * n[i] as u128 * n[i - 1] as u128).sum()
    }

    /// The largest difference between the product and the directly computed
    /// Jacobian, relative to the latter's largest entry (or absolute when
    /// that is below 1), if one was given.
    pub fn difference(&self) -> Option<f64> {
        let whole = self.whole.as_ref()?;
        if whole.rows() != self.product.rows() || whole.cols() != self.product.cols() {
            return Some(f64::INFINITY);
        }
        let scale = whole.as_slice().iter().fold(1.0f64, |m, x| m.max(x.abs()));
        let most = whole
            .as_slice()
            .iter()
            .zip(self.product.as_slice())
            .fold(0.0f64, |m, (a, b)| if a == b { m } else { m.max((a - b).abs()) });
        Some(most / scale)
    }

    /// `J3·J2·J1`, the product written out.
    pub fn product_name(&self) -> String {
        let names: Vec<String> = (1..=self.stages.len()).rev().map(|i| format!("J{i}")).collect();
        names.join("·")
    }

    /// One line per order: what it multiplies and how many multiply-adds.
    pub fn costs(&self) -> [(String, u128); 2] {
        let n = self.sizes();
        let k = n.len() - 1;
        [
            (
                format!(
                    "forward (right to left, {} column{} pushed through)",
                    n[0],
                    plural(n[0])
                ),
                self.forward_cost(),
            ),
            (
                format!("reverse (left to right, {} row{} pulled back)", n[k], plural(n[k])),
                self.reverse_cost(),
            ),
        ]
    }

    /// The view as text: each stage's Jacobian, the product, the check and
    /// the two costs, the cheaper marked.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for (i, stage) in self.stages.iter().enumerate() {
            out.push_str(&format!(
                "J{} = ∂({})/∂({}), {}×{}\n",
                i + 1,
                stage.outputs.join(", "),
                stage.inputs.join(", "),
                stage.jacobian.rows(),
                stage.jacobian.cols(),
            ));
            out.push_str(&matrix_text(&stage.jacobian));
            out.push('\n');
        }
        out.push_str(&format!(
            "J = {}, {}×{}\n",
            self.product_name(),
            self.product.rows(),
            self.product.cols()
        ));
        out.push_str(&matrix_text(&self.product));
        if let Some(line) = self.check_line() {
            out.push_str(&format!("\n{line}\n"));
        }
        out.push_str("\ncost of accumulating J, in multiply-adds:\n");
        let cheaper = self.cheaper();
        for (k, (order, cost)) in self.costs().iter().enumerate() {
            let mark = if Some(k) == cheaper { "   ← cheaper" } else { "" };
            out.push_str(&format!("  {order}: {cost}{mark}\n"));
        }
        if cheaper.is_none() {
            out.push_str("  (both orders cost the same)\n");
        }
        out
    }

    /// Index into [`costs`](ChainView::costs) of the cheaper order, `None`
    /// on a tie.
    pub fn cheaper(&self) -> Option<usize> {
        let (forward, reverse) = (self.forward_cost(), self.reverse_cost());
        match forward.cmp(&reverse) {
            std::cmp::Ordering::Less => Some(0),
            std::cmp::Ordering::Greater => Some(1),
            std::cmp::Ordering::Equal => None,
        }
    }

    fn check_line(&self) -> Option<String> {
        let difference = self.difference()?;
        Some(if difference <= 1e-12 {
            format!(
                "check: equals the Jacobian of the whole composition (largest relative difference {})",
                format_number(difference)
            )
        } else {
            format!(
                "check FAILED: differs from the Jacobian of the whole composition by {}",
                format_number(difference)
            )
        })
    }

    /// The view as the interactive page reads it.
    #[cfg(feature = "html")]
    pub fn to_json(&self) -> serde_json::Value {
        let texts = |m: &Matrix<f64>| -> Vec<Vec<String>> {
            m.to_rows()
                .iter()
                .map(|r| r.iter().map(|&x| format_number(x)).collect())
                .collect()
        };
        let stages: Vec<serde_json::Value> = self
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| {
                serde_json::json!({
                    "name": format!("J{} ({})", i + 1, s.name),
                    "inputs": s.inputs,
                    "outputs": s.outputs,
                    "rows": s.jacobian.rows(),
                    "columns": s.jacobian.cols(),
                    "jacobian": texts(&s.jacobian),
                })
            })
            .collect();
        let cheaper = self.cheaper();
        let costs: Vec<serde_json::Value> = self
            .costs()
            .iter()
            .enumerate()
            .map(|(k, (order, cost))| {
                serde_json::json!({
                    "order": order,
                    "multiply_adds": cost.to_string(),
                    "cheaper": Some(k) == cheaper,
                })
            })
            .collect();
        serde_json::json!({
            "stages": stages,
            "product_name": self.product_name(),
            "rows": self.product.rows(),
            "columns": self.product.cols(),
            "product": texts(&self.product),
            "check": self.check_line().unwrap_or_default(),
            "costs": costs,
        })
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `a · b`, plainly: these matrices are small (the command line bounds them).
fn multiply(a: &Matrix<f64>, b: &Matrix<f64>) -> Matrix<f64> {
    let mut out = Matrix::zeros(a.rows(), b.cols());
    for i in 0..a.rows() {
        for k in 0..a.cols() {
            let aik = a[(i, k)];
            for j in 0..b.cols() {
                out[(i, j)] += aik * b[(k, j)];
            }
        }
    }
    out
}

/// Rows as `[a, b, c]`, numbers right-aligned in columns.
fn matrix_text(m: &Matrix<f64>) -> String {
    let cells: Vec<Vec<String>> = m
        .to_rows()
        .iter()
        .map(|r| r.iter().map(|&x| format_number(x)).collect())
        .collect();
    let widths: Vec<usize> = (0..m.cols())
        .map(|j| cells.iter().map(|r| r[j].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &cells {
        let padded: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, &w)| format!("{}{c}", " ".repeat(w - c.chars().count())))
            .collect();
        out.push_str(&format!("  [{}]\n", padded.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(rows: usize, cols: usize) -> ChainStage {
        ChainStage {
            name: format!("{rows}x{cols}"),
            inputs: (0..cols).map(|j| format!("u{j}")).collect(),
            outputs: (0..rows).map(|i| format!("w{i}")).collect(),
            jacobian: Matrix::from_row_major(rows, cols, (0..rows * cols).map(|k| k as f64).collect()),
        }
    }

    #[test]
    fn costs_follow_the_shapes() {
        // R^10 → R^8 → R^6 → R^1: a gradient, reverse is cheaper.
        let view = ChainView::new(vec![stage(8, 10), stage(6, 8), stage(1, 6)]).unwrap();
        assert_eq!(view.forward_cost(), 6 * 8 * 10 + 6 * 10);
        assert_eq!(view.reverse_cost(), 6 * 8 + 8 * 10);
        assert_eq!(view.cheaper(), Some(1));
        // R^1 → R^6 → R^8 → R^10: a tangent, forward is cheaper.
        let view = ChainView::new(vec![stage(6, 1), stage(8, 6), stage(10, 8)]).unwrap();
        assert_eq!(view.cheaper(), Some(0));
        assert!(
            view.to_text()
                .contains("forward (right to left, 1 column pushed through): 128   ← cheaper")
        );
    }

    #[test]
    fn mismatched_stages_are_refused() {
        assert!(ChainView::new(vec![stage(3, 2), stage(1, 4)]).is_err());
        assert!(ChainView::new(Vec::new()).is_err());
    }

    #[test]
    fn the_check_compares_with_the_whole() {
        let view = ChainView::new(vec![stage(2, 2), stage(1, 2)]).unwrap();
        // [0 1] · [[0 1] [2 3]] = [2 3]
        assert_eq!(view.product().to_rows(), vec![vec![2.0, 3.0]]);
        let good = view.clone().with_whole(Matrix::from_rows(&[vec![2.0, 3.0]]).unwrap());
        assert_eq!(good.difference(), Some(0.0));
        let bad = view.with_whole(Matrix::from_rows(&[vec![2.0, 4.0]]).unwrap());
        assert!(bad.to_text().contains("check FAILED"));
    }
}
