//! chainrule arrays and ndarray arrays (feature `ndarray`).
//!
//! Both store their elements row-major in one buffer, so a
//! [`tensor::Array`](crate::tensor::Array) becomes an `ndarray::ArrayD` by
//! moving that buffer, and an ndarray array in standard (row-major,
//! contiguous) layout becomes a `tensor::Array` the same way. Arrays in any
//! other layout (transposed, strided slices) are copied in logical order. A
//! `&tensor::Array` is also viewed as an `ArrayViewD` without copying, which
//! is how gradients are read as ndarray arrays.
//!
//! ```
//! use chainrule::tensor::{Array, TensorTape};
//! use ndarray::{ArrayD, ArrayViewD, array};
//!
//! // Feed an ndarray matrix to the tape, read the gradient back as one.
//! let w = array![[1.0, 2.0], [3.0, 4.0]];
//! let tape = TensorTape::new();
//! let x = tape.input(Array::from(w.clone()));
//! let loss = x.mul(&x).unwrap().sum(); // Σ wᵢⱼ²
//! let gradient = tape.backward(&loss).unwrap().of(&x);
//! let g: ArrayViewD<'_, f64> = (&gradient).into();
//! assert_eq!(g, (&w * 2.0).into_dyn());
//! let owned: ArrayD<f64> = gradient.into();
//! assert_eq!(owned.shape(), &[2, 2]);
//! ```

use ::ndarray::{ArrayBase, ArrayD, ArrayViewD, Dimension, IxDyn, OwnedRepr};

use crate::tensor::{Array, Element};

/// A chainrule array as an `ndarray::ArrayD`: the buffer is moved, not
/// copied.
impl<T: Element> From<Array<T>> for ArrayD<T> {
    fn from(array: Array<T>) -> Self {
        let (shape, data) = array.into_parts();
        ArrayD::from_shape_vec(IxDyn(&shape), data).expect("an Array's data fill its shape exactly, row-major")
    }
}

/// A view of a chainrule array as an `ndarray::ArrayViewD`, without copying.
impl<'a, T: Element> From<&'a Array<T>> for ArrayViewD<'a, T> {
    fn from(array: &'a Array<T>) -> Self {
        ArrayViewD::from_shape(IxDyn(array.shape()), array.data())
            .expect("an Array's data fill its shape exactly, row-major")
    }
}

/// An owned ndarray array of any dimension as a chainrule array: the buffer
/// is moved when the array is in standard layout, and the elements copied in
/// row-major order otherwise.
impl<T: Element, D: Dimension> From<ArrayBase<OwnedRepr<T>, D>> for Array<T> {
    fn from(array: ArrayBase<OwnedRepr<T>, D>) -> Self {
        let shape = array.shape().to_vec();
        let len = array.len();
        let data = if array.is_standard_layout() {
            let (mut buffer, offset) = array.into_raw_vec_and_offset();
            // Standard layout: the elements are contiguous from the offset.
            let start = offset.unwrap_or(0);
            if start == 0 && buffer.len() == len {
                buffer
            } else {
                buffer.drain(start..start + len).collect()
            }
        } else {
            array.iter().copied().collect()
        };
        Array::new(shape, data).expect("an ndarray array's elements fill its shape and fit in memory")
    }
}

#[cfg(test)]
mod tests {
    use ::ndarray::{Array2, Axis, array, s};

    use super::*;

    #[test]
    fn standard_layout_moves_the_buffer() {
        let m: Array2<f64> = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64);
        let pointer = m.as_ptr();
        let a = Array::from(m);
        assert_eq!(a.shape(), &[3, 4]);
        assert_eq!(a.data().as_ptr(), pointer, "no copy");
        assert_eq!(a.data()[5], 5.0);
        let back: ArrayD<f64> = a.into();
        assert_eq!(back.as_ptr(), pointer, "no copy back either");
        assert_eq!(back[[1, 1]], 5.0);
    }

    #[test]
    fn other_layouts_are_copied_in_logical_order() {
        let m = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let a = Array::from(m.clone().reversed_axes());
        assert_eq!(a.shape(), &[3, 2]);
        assert_eq!(a.data(), &[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        let mut sliced = m.clone();
        sliced.slice_axis_inplace(Axis(1), (1..).into());
        let a = Array::from(sliced);
        assert_eq!((a.shape(), a.data()), (&[2usize, 2][..], &[2.0, 3.0, 5.0, 6.0][..]));
        let mut rows = m.clone();
        rows.slice_collapse(s![1.., ..]);
        assert_eq!(Array::from(rows).data(), &[4.0, 5.0, 6.0]);
    }

    #[test]
    fn views_and_scalars_and_empty_arrays() {
        let a = Array::new(vec![2, 0, 3], Vec::<f32>::new()).unwrap();
        let view: ArrayViewD<'_, f32> = (&a).into();
        assert_eq!(view.shape(), &[2, 0, 3]);
        let scalar = Array::scalar(2.5f64);
        let d: ArrayD<f64> = scalar.clone().into();
        assert_eq!((d.ndim(), d.sum()), (0, 2.5));
        assert_eq!(Array::from(d), scalar);
    }
}
