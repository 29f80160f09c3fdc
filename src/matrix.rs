//! [`Matrix`]: the dense row-major result of `jacobian` and `hessian`.

use std::fmt;
use std::ops::{Index, IndexMut};

use crate::error::{Error, Result};

/// A dense matrix stored row by row.
///
/// Row `i` of a Jacobian holds the derivatives of output `i`; entry `(i, j)`
/// is `∂f_i/∂x_j`.
///
/// ```
/// use chainrule::Matrix;
/// let mut m = Matrix::zeros(2, 3);
/// m[(1, 2)] = 5.0;
/// assert_eq!(m.row(1), &[0.0, 0.0, 5.0]);
/// assert_eq!(m.to_rows(), vec![vec![0.0; 3], vec![0.0, 0.0, 5.0]]);
/// ```
#[derive(Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(
        try_from = "saved::SavedMatrix<T>",
        bound(deserialize = "T: serde::Deserialize<'de> + Copy")
    )
)]
pub struct Matrix<T> {
    rows: usize,
    cols: usize,
    data: Vec<T>,
}

impl<T: Copy + Default> Matrix<T> {
    /// A `rows × cols` matrix of `T::default()` (zero for numbers).
    ///
    /// # Panics
    /// If `rows × cols` overflows `usize` (the allocator aborts the process
    /// if it cannot provide the memory); [`try_zeros`](Matrix::try_zeros)
    /// reports both as errors.
    pub fn zeros(rows: usize, cols: usize) -> Self {
        let entries = rows
            .checked_mul(cols)
            .unwrap_or_else(|| panic!("Matrix::zeros({rows}, {cols}): too many entries; use Matrix::try_zeros"));
        Matrix {
            rows,
            cols,
            data: vec![T::default(); entries],
        }
    }

    /// A `rows × cols` matrix of `T::default()`, or an error if it cannot be
    /// made: what the library's Jacobians and Hessians use, so that a size
    /// a caller asks for never aborts the process.
    ///
    /// ```
    /// use chainrule::{Error, Matrix};
    /// assert_eq!(Matrix::<f64>::try_zeros(2, 3)?.rows(), 2);
    /// assert!(matches!(Matrix::<f64>::try_zeros(usize::MAX, 2), Err(Error::TooLarge { .. })));
    /// assert!(matches!(Matrix::<f64>::try_zeros(1 << 40, 1 << 20), Err(Error::TooLarge { .. })));
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::TooLarge`] if the entries would need more than `isize::MAX`
    /// bytes, [`Error::OutOfMemory`] if the allocator refuses them.
    pub fn try_zeros(rows: usize, cols: usize) -> Result<Self> {
        let data = try_filled(rows, cols, T::default(), "matrix")?;
        Ok(Matrix { rows, cols, data })
    }
}

/// `rows × cols` copies of `value` in a vector, or [`Error::TooLarge`] /
/// [`Error::OutOfMemory`] naming `what`, instead of an overflow panic or an
/// allocation abort.
pub(crate) fn try_filled<T: Copy>(rows: usize, cols: usize, value: T, what: &'static str) -> Result<Vec<T>> {
    let too_large = Error::TooLarge { what, rows, cols };
    let entries = rows.checked_mul(cols).ok_or(too_large.clone())?;
    if entries
        .checked_mul(std::mem::size_of::<T>())
        .is_none_or(|bytes| bytes > isize::MAX as usize)
    {
        return Err(too_large);
    }
    let mut data = Vec::new();
    data.try_reserve_exact(entries).map_err(|source| Error::OutOfMemory {
        what,
        bytes: entries * std::mem::size_of::<T>(),
        source,
    })?;
    data.resize(entries, value);
    Ok(data)
}

impl<T: Copy> Matrix<T> {
    /// A `rows × cols` matrix from its entries in row-major order.
    #[cfg_attr(
        not(any(feature = "program", feature = "serde", feature = "nalgebra")),
        allow(dead_code)
    )]
    pub(crate) fn from_row_major(rows: usize, cols: usize, data: Vec<T>) -> Self {
        assert_eq!(
            data.len(),
            rows * cols,
            "from_row_major: {rows}×{cols} entries expected"
        );
        Matrix { rows, cols, data }
    }

    /// Builds a matrix from its rows.
    ///
    /// Returns `None` if the rows differ in length.
    pub fn from_rows(rows: &[Vec<T>]) -> Option<Self> {
        let cols = rows.first().map_or(0, Vec::len);
        if rows.iter().any(|r| r.len() != cols) {
            return None;
        }
        Some(Matrix {
            rows: rows.len(),
            cols,
            data: rows.concat(),
        })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `i` as a slice.
    ///
    /// # Panics
    /// If `i >= self.rows()`.
    pub fn row(&self, i: usize) -> &[T] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Column `j`, copied.
    ///
    /// # Panics
    /// If `j >= self.cols()`.
    pub fn column(&self, j: usize) -> Vec<T> {
        assert!(j < self.cols, "column {j} out of range for {} columns", self.cols);
        (0..self.rows).map(|i| self.data[i * self.cols + j]).collect()
    }

    /// All entries, row by row.
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// The rows as nested vectors.
    pub fn to_rows(&self) -> Vec<Vec<T>> {
        (0..self.rows).map(|i| self.row(i).to_vec()).collect()
    }

    /// The transpose.
    pub fn transpose(&self) -> Self {
        let mut data = Vec::with_capacity(self.data.len());
        for j in 0..self.cols {
            data.extend((0..self.rows).map(|i| self.data[i * self.cols + j]));
        }
        Matrix {
            rows: self.cols,
            cols: self.rows,
            data,
        }
    }
}

impl<T> Index<(usize, usize)> for Matrix<T> {
    type Output = T;
    fn index(&self, (i, j): (usize, usize)) -> &T {
        assert!(
            i < self.rows && j < self.cols,
            "index ({i}, {j}) out of range for a {}×{} matrix",
            self.rows,
            self.cols
        );
        &self.data[i * self.cols + j]
    }
}

impl<T> IndexMut<(usize, usize)> for Matrix<T> {
    fn index_mut(&mut self, (i, j): (usize, usize)) -> &mut T {
        assert!(
            i < self.rows && j < self.cols,
            "index ({i}, {j}) out of range for a {}×{} matrix",
            self.rows,
            self.cols
        );
        &mut self.data[i * self.cols + j]
    }
}

impl<T: fmt::Debug> fmt::Debug for Matrix<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<&[T]> = self.data.chunks(self.cols.max(1)).take(self.rows).collect();
        f.debug_struct("Matrix")
            .field("rows", &self.rows)
            .field("cols", &self.cols)
            .field("data", &rows)
            .finish()
    }
}

impl<T: fmt::Display> fmt::Display for Matrix<T> {
    /// One row per line as `[a, b, c]`; honours precision, e.g. `{:.3}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in 0..self.rows {
            f.write_str("[")?;
            for j in 0..self.cols {
                if j > 0 {
                    f.write_str(", ")?;
                }
                fmt::Display::fmt(&self.data[i * self.cols + j], f)?;
            }
            f.write_str("]\n")?;
        }
        Ok(())
    }
}

/// Matrices read back (feature `serde`): `{"rows", "cols", "data"}` with the
/// entries row by row, checked to fill the shape exactly.
///
/// ```
/// let m = chainrule::Matrix::from_rows(&[vec![1.0, 2.0], vec![3.0, 4.0]]).unwrap();
/// let text = serde_json::to_string(&m).unwrap();
/// assert_eq!(text, r#"{"rows":2,"cols":2,"data":[1.0,2.0,3.0,4.0]}"#);
/// assert_eq!(serde_json::from_str::<chainrule::Matrix<f64>>(&text).unwrap(), m);
/// let short = serde_json::from_str::<chainrule::Matrix<f64>>(r#"{"rows":2,"cols":2,"data":[1.0]}"#);
/// assert!(short.unwrap_err().to_string().contains("2×2 matrix needs 4 entries, 1 given"));
/// ```
#[cfg(feature = "serde")]
mod saved {
    use super::Matrix;

    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct SavedMatrix<T> {
        rows: usize,
        cols: usize,
        data: Vec<T>,
    }

    impl<T: Copy> TryFrom<SavedMatrix<T>> for Matrix<T> {
        type Error = String;

        fn try_from(saved: SavedMatrix<T>) -> Result<Self, String> {
            let SavedMatrix { rows, cols, data } = saved;
            match rows.checked_mul(cols) {
                Some(entries) if entries == data.len() => Ok(Matrix::from_row_major(rows, cols, data)),
                Some(entries) => Err(format!(
                    "a {rows}×{cols} matrix needs {entries} entries, {} given",
                    data.len()
                )),
                None => Err(format!("a {rows}×{cols} matrix has more entries than fit in memory")),
            }
        }
    }
}
