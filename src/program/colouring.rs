//! Graph colourings that compress sparse derivatives (Gebremedhin, Manne and
//! Pothen, "What color is your Jacobian?", SIAM Review 47(4), 2005):
//! columns of a Jacobian that share no row can be computed in one forward
//! direction, and a star colouring of a Hessian's adjacency graph lets each
//! nonzero be read directly from the compressed product.

use super::sparsity::Sparsity;

/// A colouring: `colours[j]` for each column (or vertex), `0..count`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Colouring {
    /// The colour of each column.
    pub colours: Vec<usize>,
    /// How many colours are used.
    pub count: usize,
}

/// The smallest colour not marked as forbidden for the vertex `stamp`.
fn smallest_free(forbidden: &mut Vec<usize>, stamp: usize) -> usize {
    let colour = forbidden.iter().position(|&s| s != stamp).unwrap_or(forbidden.len());
    if colour == forbidden.len() {
        forbidden.push(usize::MAX);
    }
    colour
}

/// The columns of each row, transposed: the rows of each column.
fn columns_of(pattern: &Sparsity) -> Vec<Vec<usize>> {
    let mut rows_of = vec![Vec::new(); pattern.cols];
    for i in 0..pattern.rows {
        for &j in pattern.row(i) {
            rows_of[j].push(i);
        }
    }
    rows_of
}

/// Colours the columns of a Jacobian pattern so that no two columns of one
/// colour have an entry in the same row (a distance-2 colouring of the
/// columns in the bipartite graph), greedily in column order.
pub fn colour_columns(pattern: &Sparsity) -> Colouring {
    let rows_of = columns_of(pattern);
    let mut colours = vec![usize::MAX; pattern.cols];
    // forbidden[c] == j + 1 marks colour c as taken for column j.
    let mut forbidden: Vec<usize> = Vec::new();
    for j in 0..pattern.cols {
        for &i in &rows_of[j] {
            for &k in pattern.row(i) {
                if colours[k] != usize::MAX {
                    forbidden[colours[k]] = j + 1;
                }
            }
        }
        colours[j] = smallest_free(&mut forbidden, j + 1);
    }
    finish(colours)
}

/// A star colouring of the adjacency graph of a symmetric pattern (vertices
/// are the columns; `i` and `j` are adjacent when `(i, j)` is an off-diagonal
/// entry): adjacent vertices differ in colour, and every path on four
/// vertices uses at least three colours. Greedy in vertex order: a vertex
/// takes the smallest colour that closes no two-coloured path of four
/// vertices with those already coloured.
pub fn star_colouring(pattern: &Sparsity) -> Colouring {
    let n = pattern.cols;
    let neighbours = |v: usize| pattern.row(v).iter().copied().filter(move |&w| w != v);
    let mut colours = vec![usize::MAX; n];
    let mut forbidden: Vec<usize> = Vec::new();
    let mut seen_colours: Vec<usize> = Vec::new();
    for v in 0..n {
        let stamp = v + 1;
        let forbid = |colour: usize, forbidden: &mut Vec<usize>| {
            if colour >= forbidden.len() {
                forbidden.resize(colour + 1, 0);
            }
            forbidden[colour] = stamp;
        };
        // Colours on two or more of v's coloured neighbours: v would sit in
        // the middle of a path a–v–a, so the far ends may not take v's colour.
        seen_colours.clear();
        for w in neighbours(v).filter(|&w| colours[w] != usize::MAX) {
            seen_colours.push(colours[w]);
        }
        seen_colours.sort_unstable();
        let repeated =
            |c: usize| seen_colours.partition_point(|&s| s < c) + 1 < seen_colours.partition_point(|&s| s <= c);
        for w in neighbours(v).filter(|&w| colours[w] != usize::MAX) {
            // A proper colouring: not a neighbour's colour.
            forbid(colours[w], &mut forbidden);
            for x in neighbours(w).filter(|&x| x != v && colours[x] != usize::MAX) {
                // u–v–w–x coloured a, c, a, c: v between two neighbours of
                // colour a, and x two steps away.
                if repeated(colours[w]) {
                    forbid(colours[x], &mut forbidden);
                    continue;
                }
                // v–w–x–y coloured c, a, c, a: a path from x back to w's colour.
                if neighbours(x).any(|y| y != w && y != v && colours[y] == colours[w]) {
                    forbid(colours[x], &mut forbidden);
                }
            }
        }
        let colour = forbidden.iter().position(|&s| s != stamp).unwrap_or(forbidden.len());
        if colour == forbidden.len() {
            forbidden.push(0);
        }
        colours[v] = colour;
    }
    finish(colours)
}

fn finish(colours: Vec<usize>) -> Colouring {
    let count = colours.iter().map(|&c| c + 1).max().unwrap_or(0);
    Colouring { colours, count }
}
