//! [`SparseMatrix`] to `nalgebra_sparse::CsrMatrix` (feature
//! `nalgebra-sparse`): the same compressed rows, handed over without
//! reordering, for sparse solvers and products.

use nalgebra_sparse::CsrMatrix;

use super::SparseMatrix;

impl<S: nalgebra_sparse::na::Scalar + Copy> From<SparseMatrix<S>> for CsrMatrix<S> {
    /// Moves the pattern's arrays and the values into a `CsrMatrix`.
    ///
    /// ```
    /// use chainrule::program::record;
    /// use nalgebra_sparse::CsrMatrix;
    /// // A tridiagonal Hessian: x0·x1 + x1·x2 + x2².
    /// let p = record(|x| x[0] * x[1] + x[1] * x[2] + x[2] * x[2], &[1.0; 3])?;
    /// let h: CsrMatrix<f64> = p.sparse_hessian(&[1.0; 3])?.into();
    /// assert_eq!(h.nnz(), 5);
    /// assert_eq!(h.get_entry(2, 2).unwrap().into_value(), 2.0);
    /// # Ok::<(), chainrule::Error>(())
    /// ```
    fn from(matrix: SparseMatrix<S>) -> Self {
        let pattern = matrix.pattern;
        CsrMatrix::try_from_csr_data(
            pattern.rows,
            pattern.cols,
            pattern.row_offsets,
            pattern.columns,
            matrix.values,
        )
        .expect("a Sparsity has sorted, distinct columns in range and consistent row offsets")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::record;
    use num_traits::Float;

    #[test]
    fn every_entry_arrives_where_it_was() {
        let program = record(
            |x| vec![x[0] * x[2], x[1].sin() + x[0], x[2] * x[2] * x[1]],
            &[0.5, 1.5, -2.0],
        )
        .unwrap();
        let sparse = program.sparse_jacobian(&[0.5, 1.5, -2.0]).unwrap();
        let dense = sparse.to_dense().unwrap();
        let csr = CsrMatrix::from(sparse.clone());
        assert_eq!((csr.nrows(), csr.ncols(), csr.nnz()), (3, 3, sparse.values.len()));
        for (i, j, &value) in csr.triplet_iter() {
            assert_eq!(value, dense[(i, j)]);
        }
        let mut found: Vec<(usize, usize)> = csr.triplet_iter().map(|(i, j, _)| (i, j)).collect();
        found.sort_unstable();
        let expected: Vec<(usize, usize)> = (0..3).flat_map(|i| sparse.row(i).map(move |(j, _)| (i, j))).collect();
        assert_eq!(found, expected);
    }
}
