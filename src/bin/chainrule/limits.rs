//! What the command line accepts and produces, bounded so that any input is
//! answered in bounded time and memory: the expression's length (read from
//! files and pipes without reading past the limit), matrix sizes, and the
//! node counts of traces and pictures.

use std::io::Read;

use chainrule::expr::MAX_LENGTH;

use crate::Failure;

/// The most entries a printed Jacobian or Hessian may have (8 MB of numbers,
/// tens of MB of text); the library has no such limit.
pub const MAX_MATRIX_ENTRIES: usize = 1_000_000;

/// The most nodes a trace (table or JSON) may have: about 100 bytes of
/// output and a few hundred bytes of memory per node.
pub const MAX_TRACE_NODES: usize = 100_000;

/// The most nodes a picture (SVG or DOT) may have: the layout needs memory
/// and output quadratic in the graph's depth.
pub const MAX_PICTURE_NODES: usize = 2_000;

/// The most nodes an interactive page may have: a browser redraws every box
/// at each step, which stays smooth up to a few hundred.
pub const MAX_PAGE_NODES: usize = 500;

/// The most sweep steps a page may carry (about 200 bytes of data each).
pub const MAX_PAGE_STEPS: usize = 50_000;

/// Reads an expression from `source`, at most a little more than the longest
/// accepted expression ([`MAX_LENGTH`] characters of up to 4 bytes each), so
/// that `/dev/zero` or a huge file is refused in bounded memory.
pub fn read_expression(source: impl Read, what: &str) -> Result<String, String> {
    let most_bytes = 4 * MAX_LENGTH;
    let mut bytes = Vec::new();
    source
        .take(most_bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the expression from {what}: {e}"))?;
    if bytes.len() > most_bytes {
        return Err(format!(
            "the expression in {what} is longer than the limit of {MAX_LENGTH} characters"
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "the expression in {what} is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Refuses a matrix of `rows × columns` entries over [`MAX_MATRIX_ENTRIES`].
pub fn check_matrix(what: &str, rows: usize, columns: usize) -> Result<(), Failure> {
    match rows.checked_mul(columns) {
        Some(entries) if entries <= MAX_MATRIX_ENTRIES => Ok(()),
        _ => Err(Failure::Message(format!(
            "the {what} would be {rows}×{columns}, more than the {MAX_MATRIX_ENTRIES} entries the \
             command line prints; use fewer inputs or outputs, or the library for large matrices"
        ))),
    }
}

/// Refuses a graph of more than `limit` nodes for `what` (a trace or a picture).
pub fn check_nodes(what: &str, nodes: usize, limit: usize, instead: &str) -> Result<(), Failure> {
    if nodes <= limit {
        Ok(())
    } else {
        Err(Failure::Message(format!(
            "the expression's graph has {nodes} nodes, more than the {limit} a {what} shows; {instead}"
        )))
    }
}
