//! [`Array`]: an n-dimensional array of numbers, with NumPy broadcasting.

use std::fmt;
use std::mem::MaybeUninit;

use super::kernels::{LaneSum, with_binary, with_unary};
use super::pool::{self, Pooled};
use crate::Real;
use crate::rules::{Binary, Unary};

/// A scalar type arrays can hold: `f32` or `f64`, each with its matrix
/// multiplication kernel.
pub trait Element: Real + Pooled {
    /// `C = op(A) · op(B)` with `C: m×n` row-major, `op(A): m×k` and
    /// `op(B): k×n`, where `op` transposes when the flag is set (the stored
    /// matrix is then `k×m`, resp. `n×k`, row-major): a transposed operand is
    /// read through its strides, never copied. `C` need not be initialized:
    /// each of its first `m·n` elements is written (and none read).
    #[doc(hidden)]
    fn gemm(m: usize, k: usize, n: usize, a: (&[Self], bool), b: (&[Self], bool), c: &mut [MaybeUninit<Self>]);
}

macro_rules! element {
    ($t:ty, $kernel:ident) => {
        impl Element for $t {
            fn gemm(m: usize, k: usize, n: usize, a: (&[Self], bool), b: (&[Self], bool), c: &mut [MaybeUninit<Self>]) {
                let ((a, ta), (b, tb)) = (a, b);
                let fits = |rows: usize, cols: usize, len: usize| {
                    rows.checked_mul(cols)
                        .is_some_and(|size| size <= len && size <= isize::MAX as usize)
                };
                assert!(
                    fits(m, k, a.len()) && fits(k, n, b.len()) && fits(m, n, c.len()),
                    "gemm: slices of {}, {} and {} elements cannot hold {m}×{k}, {k}×{n} and {m}×{n} matrices",
                    a.len(),
                    b.len(),
                    c.len()
                );
                // Row and column strides of op(A) (m×k) and op(B) (k×n).
                let (rsa, csa) = if ta { (1, m as isize) } else { (k as isize, 1) };
                let (rsb, csb) = if tb { (1, k as isize) } else { (n as isize, 1) };
                // SAFETY: the slices hold at least m·k, k·n and m·n elements,
                // each product computed without overflow and at most
                // isize::MAX (asserted above), so the strides fit in isize and
                // every index they reach, (rows − 1)·row stride + (cols − 1)·
                // column stride < rows·cols, lies within its slice. With β = 0
                // matrixmultiply writes every element of C without reading it
                // (its documented contract: "if β is zero, then C does not
                // need to be initialized"; for k = 0 it writes zeros), so an
                // uninitialized C is never read. `MaybeUninit<T>` has `T`'s
                // layout, so the cast pointer addresses the same elements.
                unsafe {
                    matrixmultiply::$kernel(
                        m,
                        k,
                        n,
                        1.0,
                        a.as_ptr(),
                        rsa,
                        csa,
                        b.as_ptr(),
                        rsb,
                        csb,
                        0.0,
                        c.as_mut_ptr().cast::<$t>(),
                        n as isize,
                        1,
                    );
                }
            }
        }
    };
}

element!(f32, sgemm);
element!(f64, dgemm);

/// What is wrong with the shapes or arguments of an array operation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TensorError {
    /// Two shapes cannot be broadcast together or multiplied.
    ShapeMismatch {
        /// The operation.
        op: &'static str,
        /// The left operand's shape.
        left: Vec<usize>,
        /// The right operand's shape.
        right: Vec<usize>,
    },
    /// The data do not fill the shape, or a reshape changes the size.
    SizeMismatch {
        /// The shape asked for.
        shape: Vec<usize>,
        /// How many elements there are.
        elements: usize,
    },
    /// An axis beyond the array's dimensions.
    BadAxis {
        /// The axis asked for.
        axis: usize,
        /// The array's shape.
        shape: Vec<usize>,
    },
    /// A range `start..end` that does not fit in its axis.
    RangeOutOfBounds {
        /// The axis.
        axis: usize,
        /// The range's start.
        start: usize,
        /// The range's end (exclusive).
        end: usize,
        /// The array's shape.
        shape: Vec<usize>,
    },
    /// A reduction with no value: along an axis of length 0.
    EmptyAxis {
        /// The operation.
        op: &'static str,
        /// The axis.
        axis: usize,
        /// The array's shape.
        shape: Vec<usize>,
    },
    /// An operation on a list of arrays was given none.
    NoParts {
        /// The operation.
        op: &'static str,
    },
    /// A gradient was asked of an output with more than one element.
    NotScalar {
        /// The operation.
        op: &'static str,
        /// The output's shape.
        shape: Vec<usize>,
    },
    /// Tensors of different tapes were combined (or an output was given to
    /// another tape's `backward`).
    ForeignTensor {
        /// The operation.
        op: &'static str,
    },
    /// A class label not below the number of classes.
    ClassOutOfRange {
        /// The label.
        class: usize,
        /// The number of classes.
        classes: usize,
    },
    /// Two lists that go together differ in length, e.g. parameters and
    /// their gradients.
    CountMismatch {
        /// What was counted, e.g. "gradients (one per parameter)".
        what: &'static str,
        /// How many are needed.
        expected: usize,
        /// How many were given.
        found: usize,
    },
    /// The shape has more elements than memory can address.
    TooLarge {
        /// The shape asked for.
        shape: Vec<usize>,
    },
}

impl fmt::Display for TensorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TensorError::ShapeMismatch { op, left, right } => {
                write!(f, "{op}: shapes {left:?} and {right:?} do not fit together")
            }
            TensorError::SizeMismatch { shape, elements } => match element_count::<u8>(shape) {
                Ok(size) => write!(f, "shape {shape:?} holds {size} elements, not {elements}"),
                Err(_) => write!(f, "shape {shape:?} is too large to hold {elements} elements"),
            },
            TensorError::BadAxis { axis, shape } => write!(f, "axis {axis} does not exist in shape {shape:?}"),
            TensorError::RangeOutOfBounds {
                axis,
                start,
                end,
                shape,
            } => {
                write!(f, "range {start}..{end} does not fit axis {axis} of shape {shape:?}")
            }
            TensorError::EmptyAxis { op, axis, shape } => {
                write!(f, "{op}: axis {axis} of shape {shape:?} is empty, so there is no value")
            }
            TensorError::NoParts { op } => write!(f, "{op}: no arrays given"),
            TensorError::NotScalar { op, shape } => {
                write!(
                    f,
                    "{op} needs a scalar output, not shape {shape:?} (sum or mean it first)"
                )
            }
            TensorError::ForeignTensor { op } => write!(f, "{op}: the tensors are on different tapes"),
            TensorError::ClassOutOfRange { class, classes } => {
                write!(f, "class {class} is out of range for {classes} classes")
            }
            TensorError::CountMismatch { what, expected, found } => {
                write!(f, "{what}: {found} given, {expected} needed")
            }
            TensorError::TooLarge { shape } => write!(
                f,
                "shape {shape:?} has more elements than memory can address (at most {} bytes in all)",
                isize::MAX
            ),
        }
    }
}

impl std::error::Error for TensorError {}

/// An n-dimensional array stored row-major.
///
/// ```
/// use chainrule::tensor::Array;
/// let a = Array::new(vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
/// let b = Array::new(vec![3], vec![10.0, 20.0, 30.0]).unwrap();
/// // NumPy broadcasting: b is added to each row
/// assert_eq!(a.add(&b).unwrap().data(), &[11.0, 22.0, 33.0, 14.0, 25.0, 36.0]);
/// ```
///
/// With the `serde` feature an array is `{"shape", "data"}`, and reading one
/// back checks that the data fill the shape, as [`Array::new`] does.
///
/// A dropped array's buffer, if large, is kept on its thread for the next
/// array of about its size (see [`release_pooled_memory`](super::release_pooled_memory)).
#[derive(Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(
        try_from = "SavedArray<T>",
        bound(deserialize = "T: Element + serde::Deserialize<'de>")
    )
)]
pub struct Array<T: Element> {
    shape: Vec<usize>,
    data: Vec<T>,
}

impl<T: Element> Clone for Array<T> {
    fn clone(&self) -> Self {
        let mut data = pool::take(self.data.len());
        data.extend_from_slice(&self.data);
        Array {
            shape: self.shape.clone(),
            data,
        }
    }
}

impl<T: Element> Drop for Array<T> {
    fn drop(&mut self) {
        pool::give(std::mem::take(&mut self.data));
    }
}

/// An array as read, before its shape is checked.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedArray<T> {
    shape: Vec<usize>,
    data: Vec<T>,
}

#[cfg(feature = "serde")]
impl<T: Element> TryFrom<SavedArray<T>> for Array<T> {
    type Error = TensorError;

    fn try_from(saved: SavedArray<T>) -> Result<Self, TensorError> {
        Array::new(saved.shape, saved.data)
    }
}

impl<T: Element> Array<T> {
    /// An array of the given shape from row-major data.
    ///
    /// # Errors
    /// [`TensorError::SizeMismatch`] if `data` does not fill `shape`.
    pub fn new(shape: Vec<usize>, data: Vec<T>) -> Result<Self, TensorError> {
        if element_count::<T>(&shape)? != data.len() {
            return Err(TensorError::SizeMismatch {
                shape,
                elements: data.len(),
            });
        }
        Ok(Array { shape, data })
    }

    /// An array of one value.
    ///
    /// # Panics
    /// If the shape has more elements than memory can address (before
    /// allocating anything); use [`Array::try_full`] for shapes from data.
    pub fn full(shape: Vec<usize>, value: T) -> Self {
        match Self::try_full(shape, value) {
            Ok(array) => array,
            Err(error) => panic!("Array::full: {error}; use Array::try_full for shapes computed from data"),
        }
    }

    /// An array of one value, or [`TensorError::TooLarge`] if the shape has
    /// more elements than memory can address.
    ///
    /// ```
    /// use chainrule::tensor::{Array, TensorError};
    /// assert_eq!(Array::try_full(vec![2, 2], 1.0).unwrap().data(), &[1.0; 4]);
    /// assert!(matches!(Array::try_full(vec![1 << 32, 1 << 32], 0.0), Err(TensorError::TooLarge { .. })));
    /// ```
    pub fn try_full(shape: Vec<usize>, value: T) -> Result<Self, TensorError> {
        let len = element_count::<T>(&shape)?;
        Ok(Array {
            shape,
            data: pool::filled(len, value),
        })
    }

    /// An array of zeros.
    ///
    /// # Panics
    /// As [`Array::full`].
    pub fn zeros(shape: Vec<usize>) -> Self {
        Self::full(shape, T::zero())
    }

    /// A 0-dimensional array holding one number.
    pub fn scalar(value: T) -> Self {
        Array {
            shape: Vec::new(),
            data: vec![value],
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The elements, row-major.
    pub fn data(&self) -> &[T] {
        &self.data
    }

    /// Mutable access to the elements.
    pub fn data_mut(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// The shape and the elements (row-major), moved out without copying.
    ///
    /// ```
    /// let a = chainrule::tensor::Array::new(vec![2, 1], vec![1.0, 2.0]).unwrap();
    /// assert_eq!(a.into_parts(), (vec![2, 1], vec![1.0, 2.0]));
    /// ```
    pub fn into_parts(mut self) -> (Vec<usize>, Vec<T>) {
        // The buffer leaves with its owner; the emptied array drops nothing.
        (std::mem::take(&mut self.shape), std::mem::take(&mut self.data))
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The same elements in another shape.
    ///
    /// # Errors
    /// [`TensorError::SizeMismatch`] if the sizes differ.
    pub fn reshape(&self, shape: Vec<usize>) -> Result<Self, TensorError> {
        Array::new(shape, self.data.clone())
    }

    /// `f` applied to every element.
    pub fn map(&self, f: impl Fn(T) -> T) -> Self {
        Array {
            shape: self.shape.clone(),
            data: collect_pooled(self.data.len(), self.data.iter().map(|&x| f(x))),
        }
    }

    /// Value of the elementary function `op` at every element.
    pub fn unary(&self, op: Unary) -> Self {
        // One loop per operation (see `kernels`).
        with_unary!(op, |rule| self.map(|x| rule(x).0))
    }

    /// `f(a, b)` elementwise with NumPy broadcasting.
    ///
    /// # Errors
    /// [`TensorError::ShapeMismatch`] if the shapes do not broadcast.
    pub fn zip_with(&self, other: &Self, op: &'static str, f: impl Fn(T, T) -> T) -> Result<Self, TensorError> {
        // Fast paths: equal shapes, or a single number against an array.
        if self.shape == other.shape {
            let data = collect_pooled(
                self.data.len(),
                self.data.iter().zip(&other.data).map(|(&a, &b)| f(a, b)),
            );
            return Ok(Array {
                shape: self.shape.clone(),
                data,
            });
        }
        if other.data.len() == 1 && other.shape.len() <= self.shape.len() {
            let b = other.data[0];
            return Ok(Array {
                shape: self.shape.clone(),
                data: collect_pooled(self.data.len(), self.data.iter().map(|&a| f(a, b))),
            });
        }
        if self.data.len() == 1 && self.shape.len() <= other.shape.len() {
            let a = self.data[0];
            return Ok(Array {
                shape: other.shape.clone(),
                data: collect_pooled(other.data.len(), other.data.iter().map(|&b| f(a, b))),
            });
        }
        // Row broadcasting (a bias added to every row): one operand's shape,
        // leading 1s aside, is the other's trailing axes. No index arithmetic
        // per element: the short operand is walked alongside each row.
        if let Some(row) = trailing_block(&other.shape, &self.shape) {
            let mut data = pool::take(self.data.len());
            for chunk in self.data.chunks_exact(row) {
                data.extend(chunk.iter().zip(&other.data).map(|(&a, &b)| f(a, b)));
            }
            return Ok(Array {
                shape: self.shape.clone(),
                data,
            });
        }
        if let Some(row) = trailing_block(&self.shape, &other.shape) {
            let mut data = pool::take(other.data.len());
            for chunk in other.data.chunks_exact(row) {
                data.extend(self.data.iter().zip(chunk).map(|(&a, &b)| f(a, b)));
            }
            return Ok(Array {
                shape: other.shape.clone(),
                data,
            });
        }
        // Column broadcasting (one number per row, `[r, c]` against
        // `[r, 1]`): one operand holds a number per block of the other.
        if let Some(block) = leading_block(&other.shape, &self.shape) {
            let mut data = pool::take(self.data.len());
            for (chunk, &b) in self.data.chunks_exact(block).zip(&other.data) {
                data.extend(chunk.iter().map(|&a| f(a, b)));
            }
            return Ok(Array {
                shape: self.shape.clone(),
                data,
            });
        }
        if let Some(block) = leading_block(&self.shape, &other.shape) {
            let mut data = pool::take(other.data.len());
            for (chunk, &a) in other.data.chunks_exact(block).zip(&self.data) {
                data.extend(chunk.iter().map(|&b| f(a, b)));
            }
            return Ok(Array {
                shape: other.shape.clone(),
                data,
            });
        }
        let shape = broadcast_shapes(&self.shape, &other.shape).ok_or_else(|| TensorError::ShapeMismatch {
            op,
            left: self.shape.clone(),
            right: other.shape.clone(),
        })?;
        let len = element_count::<T>(&shape)?;
        let a = BroadcastIndex::new(&self.shape, &shape);
        let b = BroadcastIndex::new(&other.shape, &shape);
        let data = collect_pooled(
            len,
            (0..len).map(|i| f(self.data[a.source(i)], other.data[b.source(i)])),
        );
        Ok(Array { shape, data })
    }

    /// Value of the two-argument elementary function `op`, elementwise with
    /// broadcasting.
    ///
    /// # Errors
    /// As [`zip_with`](Array::zip_with).
    pub fn binary(&self, other: &Self, op: Binary) -> Result<Self, TensorError> {
        // One loop per operation (see `kernels`).
        with_binary!(op, |rule| self.zip_with(other, op.name(), |a, b| rule(a, b).0))
    }

    /// `self + other` with broadcasting.
    ///
    /// # Errors
    /// As [`zip_with`](Array::zip_with).
    pub fn add(&self, other: &Self) -> Result<Self, TensorError> {
        self.zip_with(other, "+", |a, b| a + b)
    }

    /// Sums over the broadcast dimensions so the result has `shape` (the
    /// adjoint of broadcasting `shape` up to `self.shape()`).
    pub(crate) fn sum_to(self, shape: &[usize]) -> Self {
        if self.shape == shape {
            return self;
        }
        let mut out = Array::zeros(shape.to_vec());
        if let Some(row) = trailing_block(shape, &self.shape) {
            // Sums down the columns, row by row: the order of the general
            // loop below, so the same bits, without its index arithmetic.
            for chunk in self.data.chunks_exact(row) {
                for (o, &x) in out.data.iter_mut().zip(chunk) {
                    *o += x;
                }
            }
            return out;
        }
        if let Some(block) = leading_block(shape, &self.shape) {
            // One sum per block, in order: the general loop's order again.
            for (o, chunk) in out.data.iter_mut().zip(self.data.chunks_exact(block)) {
                for &x in chunk {
                    *o += x;
                }
            }
            return out;
        }
        let index = BroadcastIndex::new(shape, &self.shape);
        for (i, &x) in self.data.iter().enumerate() {
            out.data[index.source(i)] += x;
        }
        out
    }

    /// Sum of all elements, in a fixed order that vectorizes: element `i`
    /// is added to the `i mod 16`th of 16 running sums, which are then
    /// added pairwise (more accurate than one running sum, and as fast as
    /// the memory). Every sum of the tensor tape, fused or not, adds in
    /// this order.
    ///
    /// ```
    /// use chainrule::tensor::Array;
    /// let x = Array::new(vec![20], (1..=20).map(f64::from).collect())?;
    /// assert_eq!(x.sum(), 210.0);
    /// # Ok::<(), chainrule::tensor::TensorError>(())
    /// ```
    pub fn sum(&self) -> T {
        let mut sum = LaneSum::new();
        sum.add(&self.data);
        sum.total()
    }

    /// Sums along `axis`, which disappears from the shape.
    ///
    /// # Errors
    /// [`TensorError::BadAxis`] if `axis` is out of range.
    pub fn sum_axis(&self, axis: usize) -> Result<Self, TensorError> {
        let (outer, size, inner) = self.split_at_axis(axis)?;
        let mut shape = self.shape.clone();
        shape.remove(axis);
        let mut data = pool::filled(outer * inner, T::zero());
        for o in 0..outer {
            for s in 0..size {
                for i in 0..inner {
                    data[o * inner + i] += self.data[(o * size + s) * inner + i];
                }
            }
        }
        Ok(Array { shape, data })
    }

    /// `(outer, size, inner)`: the array viewed as `outer × size × inner`
    /// around `axis`.
    pub(crate) fn split_at_axis(&self, axis: usize) -> Result<(usize, usize, usize), TensorError> {
        if axis >= self.shape.len() {
            return Err(TensorError::BadAxis {
                axis,
                shape: self.shape.clone(),
            });
        }
        let outer = self.shape[..axis].iter().product();
        let inner = self.shape[axis + 1..].iter().product();
        Ok((outer, self.shape[axis], inner))
    }

    /// Matrix product over the last two axes; leading (batch) axes must be
    /// equal. `[.., m, k] · [.., k, n] = [.., m, n]`.
    ///
    /// # Errors
    /// [`TensorError::ShapeMismatch`] if the inner sizes or batch axes differ
    /// or an operand has fewer than two axes.
    pub fn matmul(&self, other: &Self) -> Result<Self, TensorError> {
        self.matmul_transposed(false, other, false)
    }

    /// `op(self) · op(other)` over the last two axes, `op` transposing the
    /// last two axes where asked, without copying: `a.matmul_transposed(false,
    /// &b, true)` is `a · bᵀ`.
    ///
    /// # Errors
    /// As [`matmul`](Array::matmul), for the transposed shapes.
    pub fn matmul_transposed(
        &self,
        transpose_self: bool,
        other: &Self,
        transpose_other: bool,
    ) -> Result<Self, TensorError> {
        let mismatch = || TensorError::ShapeMismatch {
            op: "matmul",
            left: self.shape.clone(),
            right: other.shape.clone(),
        };
        let (ra, rb) = (self.shape.len(), other.shape.len());
        if ra < 2 || rb < 2 || self.shape[..ra - 2] != other.shape[..rb - 2] {
            return Err(mismatch());
        }
        let last_two = |shape: &[usize], transpose: bool| {
            let (r, c) = (shape[shape.len() - 2], shape[shape.len() - 1]);
            if transpose { (c, r) } else { (r, c) }
        };
        let (m, k) = last_two(&self.shape, transpose_self);
        let (k2, n) = last_two(&other.shape, transpose_other);
        if k != k2 {
            return Err(mismatch());
        }
        let batch: usize = self.shape[..ra - 2].iter().product();
        let mut shape = self.shape[..ra - 2].to_vec();
        shape.extend([m, n]);
        // The operands' sizes are valid; the result's (m·n per batch) is checked.
        let len = element_count::<T>(&shape)?;
        let mut data = pool::take(len);
        let out = &mut data.spare_capacity_mut()[..len];
        for b in 0..batch {
            T::gemm(
                m,
                k,
                n,
                (&self.data[b * m * k..(b + 1) * m * k], transpose_self),
                (&other.data[b * k * n..(b + 1) * k * n], transpose_other),
                &mut out[b * m * n..(b + 1) * m * n],
            );
        }
        // SAFETY: `len` = batch·m·n elements are within the capacity (taken
        // above), and the batch·m·n products wrote every one of them: each
        // gemm call writes all m·n elements of its block (see `gemm`), and
        // the blocks tile `0..len`. The buffer was empty, so nothing is
        // dropped or leaked by setting its length.
        unsafe { data.set_len(len) };
        Ok(Array { shape, data })
    }

    /// Elements `start..end` along `axis`.
    ///
    /// # Errors
    /// [`TensorError::BadAxis`], or [`TensorError::RangeOutOfBounds`] if the
    /// range does not fit in the axis.
    pub fn slice(&self, axis: usize, start: usize, end: usize) -> Result<Self, TensorError> {
        let (outer, size, inner) = self.split_at_axis(axis)?;
        if start > end || end > size {
            return Err(TensorError::RangeOutOfBounds {
                axis,
                start,
                end,
                shape: self.shape.clone(),
            });
        }
        let kept = end - start;
        let mut data = pool::take(outer * kept * inner);
        for o in 0..outer {
            data.extend_from_slice(&self.data[(o * size + start) * inner..(o * size + end) * inner]);
        }
        let mut shape = self.shape.clone();
        shape[axis] = kept;
        Ok(Array { shape, data })
    }

    /// `parts` joined along `axis`; all other axes must agree.
    ///
    /// # Errors
    /// [`TensorError::ShapeMismatch`] naming two disagreeing shapes,
    /// [`TensorError::BadAxis`], [`TensorError::NoParts`] for no parts.
    pub fn concat(parts: &[&Self], axis: usize) -> Result<Self, TensorError> {
        let first = parts.first().ok_or(TensorError::NoParts { op: "concat" })?;
        let (outer, _, inner) = first.split_at_axis(axis)?;
        let mut shape = first.shape.clone();
        shape[axis] = 0;
        for part in parts {
            let fits = part.shape.len() == first.shape.len()
                && part
                    .shape
                    .iter()
                    .zip(&first.shape)
                    .enumerate()
                    .all(|(k, (a, b))| k == axis || a == b);
            if !fits {
                return Err(TensorError::ShapeMismatch {
                    op: "concat",
                    left: first.shape.clone(),
                    right: part.shape.clone(),
                });
            }
            shape[axis] = shape[axis]
                .checked_add(part.shape[axis])
                .ok_or_else(|| TensorError::TooLarge { shape: shape.clone() })?;
        }
        let mut data = pool::take(element_count::<T>(&shape)?);
        for o in 0..outer {
            for part in parts {
                let width = part.shape[axis] * inner;
                data.extend_from_slice(&part.data[o * width..(o + 1) * width]);
            }
        }
        Ok(Array { shape, data })
    }

    /// Swaps the last two axes.
    ///
    /// # Errors
    /// [`TensorError::BadAxis`] if there are fewer than two axes.
    pub fn transpose(&self) -> Result<Self, TensorError> {
        let r = self.shape.len();
        if r < 2 {
            return Err(TensorError::BadAxis {
                axis: 1,
                shape: self.shape.clone(),
            });
        }
        let (m, n) = (self.shape[r - 2], self.shape[r - 1]);
        let batch = self.len() / (m * n).max(1);
        let mut shape = self.shape.clone();
        shape.swap(r - 2, r - 1);
        let mut data = pool::filled(self.len(), T::zero());
        for b in 0..batch {
            for i in 0..m {
                for j in 0..n {
                    data[b * m * n + j * m + i] = self.data[b * m * n + i * n + j];
                }
            }
        }
        Ok(Array { shape, data })
    }
}

/// If `small` broadcasts against `big` as a block repeated along `big`'s
/// leading axes (its shape, leading 1s aside, is `big`'s trailing axes, and
/// it has no more axes than `big`), the block's length; otherwise `None`.
/// An empty block is `None`, so callers can split by it.
fn trailing_block(small: &[usize], big: &[usize]) -> Option<usize> {
    if small.len() > big.len() {
        return None;
    }
    let first = small.iter().position(|&d| d != 1).unwrap_or(small.len());
    let kept = &small[first..];
    let block: usize = kept.iter().product();
    (big.ends_with(kept) && block > 0).then_some(block)
}

/// If `small` broadcasts against `big` as one number per block of `big`'s
/// trailing axes (same rank, `big`'s leading axes, then only 1s), the
/// block's length; otherwise `None` (also for an empty block).
fn leading_block(small: &[usize], big: &[usize]) -> Option<usize> {
    if small.len() != big.len() {
        return None;
    }
    let kept = small.iter().rposition(|&d| d != 1).map_or(0, |last| last + 1);
    let block: usize = big[kept..].iter().product();
    (small[..kept] == big[..kept] && block > 0).then_some(block)
}

/// The items of `items` (exactly `len` of them) in a buffer from the pool.
fn collect_pooled<T: Element>(len: usize, items: impl Iterator<Item = T>) -> Vec<T> {
    let mut data = pool::take(len);
    data.extend(items);
    data
}

/// The number of elements of `shape`, checked so that it, its bytes and the
/// product of any of its axes (outer and inner sizes, strides, offsets) fit in
/// `isize`: the shape of every array satisfies this, so index arithmetic on
/// arrays cannot overflow.
pub(crate) fn element_count<T>(shape: &[usize]) -> Result<usize, TensorError> {
    let too_large = || TensorError::TooLarge { shape: shape.to_vec() };
    let element_bytes = std::mem::size_of::<T>().max(1);
    // Zero sizes count as 1 here, so that products of the other axes are bounded too.
    let bytes = shape
        .iter()
        .try_fold(element_bytes, |bytes, &size| bytes.checked_mul(size.max(1)))
        .filter(|&bytes| bytes <= isize::MAX as usize)
        .ok_or_else(too_large)?;
    Ok(if shape.contains(&0) { 0 } else { bytes / element_bytes })
}

/// The broadcast shape of `a` and `b` (NumPy rules: align from the right;
/// sizes must be equal or 1), or `None`.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let at = |s: &[usize], k: usize| if k < rank - s.len() { 1 } else { s[k - (rank - s.len())] };
    (0..rank)
        .map(|k| match (at(a, k), at(b, k)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// Maps a flat index of a broadcast result to the flat index of one operand.
struct BroadcastIndex {
    /// Per result axis: (result size, operand stride or 0 where broadcast).
    axes: Vec<(usize, usize)>,
}

impl BroadcastIndex {
    fn new(operand: &[usize], result: &[usize]) -> Self {
        let offset = result.len() - operand.len();
        let mut stride = 1;
        let mut strides = vec![0; result.len()];
        for k in (0..operand.len()).rev() {
            strides[k + offset] = if operand[k] == 1 { 0 } else { stride };
            stride *= operand[k];
        }
        BroadcastIndex {
            axes: result.iter().copied().zip(strides).collect(),
        }
    }

    fn source(&self, mut flat: usize) -> usize {
        let mut index = 0;
        for &(size, stride) in self.axes.iter().rev() {
            index += (flat % size) * stride;
            flat /= size;
        }
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shapes(&[2, 3], &[3]), Some(vec![2, 3]));
        assert_eq!(broadcast_shapes(&[4, 1, 3], &[2, 1]), Some(vec![4, 2, 3]));
        assert_eq!(broadcast_shapes(&[2, 3], &[2]), None);
        assert_eq!(broadcast_shapes(&[], &[5]), Some(vec![5]));
    }

    #[test]
    fn sum_to_undoes_broadcasting() {
        let g = Array::new(vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        assert_eq!(g.clone().sum_to(&[3]).data(), &[5.0, 7.0, 9.0]);
        assert_eq!(g.clone().sum_to(&[2, 1]).data(), &[6.0, 15.0]);
        assert_eq!(g.clone().sum_to(&[]).data(), &[21.0]);
        assert_eq!(g.clone().sum_to(&[1, 3]).data(), &[5.0, 7.0, 9.0]);
        assert_eq!(g.sum_to(&[2, 3]).data(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn row_and_column_broadcasting_agree_with_the_general_rule() {
        // Every way a smaller shape repeats along a larger one's leading
        // axes, against the element-by-element broadcast index, both ways round.
        let big = Array::new(vec![2, 3, 4], (0..24).map(|i| f64::from(i) * 0.5 - 3.0).collect()).unwrap();
        for small_shape in [
            vec![4],
            vec![1, 4],
            vec![3, 4],
            vec![1, 3, 4],
            vec![1, 1, 4],
            vec![2, 3, 4],
        ] {
            let len = small_shape.iter().product::<usize>();
            let small = Array::new(small_shape.clone(), (0..len).map(|i| 1.0 + i as f64).collect()).unwrap();
            let index = BroadcastIndex::new(&small_shape, big.shape());
            let expected: Vec<f64> = (0..big.len())
                .map(|i| big.data()[i] / small.data()[index.source(i)])
                .collect();
            assert_eq!(
                big.zip_with(&small, "/", |a, b| a / b).unwrap().data(),
                &expected[..],
                "{small_shape:?}"
            );
            let flipped: Vec<f64> = (0..big.len())
                .map(|i| small.data()[index.source(i)] / big.data()[i])
                .collect();
            assert_eq!(
                small.zip_with(&big, "/", |a, b| a / b).unwrap().data(),
                &flipped[..],
                "{small_shape:?}"
            );
            let mut summed = vec![0.0; len];
            for (i, &x) in big.data().iter().enumerate() {
                summed[index.source(i)] += x;
            }
            assert_eq!(big.clone().sum_to(&small_shape).data(), &summed[..], "{small_shape:?}");
        }
        // A middle axis of 1 is neither form: the general rule applies.
        assert_eq!(trailing_block(&[3, 1], &[2, 3, 4]), None);
        assert_eq!(leading_block(&[2, 1, 4], &[2, 3, 4]), None);
        assert_eq!(trailing_block(&[0], &[2, 0]), None);
    }

    #[test]
    fn matmul_and_transpose() {
        let a = Array::new(vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let b = a.transpose().unwrap();
        assert_eq!(b.shape(), &[3, 2]);
        assert_eq!(a.matmul(&b).unwrap().data(), &[14.0, 32.0, 32.0, 77.0]);
        let err = a.matmul(&a).unwrap_err();
        assert_eq!(err.to_string(), "matmul: shapes [2, 3] and [2, 3] do not fit together");
    }

    #[test]
    fn transposed_operands_are_read_through_strides() {
        let a = Array::new(vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let b = Array::new(vec![4, 3], (0..12).map(f64::from).collect()).unwrap();
        let c = Array::new(vec![2, 4], (0..8).map(f64::from).collect()).unwrap();
        assert_eq!(
            a.matmul_transposed(false, &b, true).unwrap(),
            a.matmul(&b.transpose().unwrap()).unwrap()
        );
        assert_eq!(
            a.matmul_transposed(true, &c, false).unwrap(),
            a.transpose().unwrap().matmul(&c).unwrap()
        );
        assert!(a.matmul_transposed(false, &a, false).is_err());
    }

    #[test]
    fn batched_matmul() {
        let a = Array::new(vec![2, 1, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let b = Array::new(vec![2, 2, 1], vec![1.0, 1.0, 2.0, 0.5]).unwrap();
        assert_eq!(a.matmul(&b).unwrap().data(), &[3.0, 8.0]);
    }

    #[test]
    fn sizes_are_checked() {
        assert!(matches!(
            Array::new(vec![2, 2], vec![1.0f64; 3]),
            Err(TensorError::SizeMismatch { .. })
        ));
        let a = Array::<f64>::zeros(vec![2, 3]);
        assert!(matches!(a.sum_axis(2), Err(TensorError::BadAxis { .. })));
        assert_eq!(a.sum_axis(1).unwrap().shape(), &[2]);
    }
}
