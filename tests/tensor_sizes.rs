//! Shape arithmetic never overflows: every size and shape product is checked,
//! so a huge shape is an error (or, in a constructor without `Result`, a
//! panic before any allocation), never a wrapped size that a matrix kernel
//! then reads past. Tensors and gradients also know their tape.

use chainrule::tensor::{Array, Element, TensorError, TensorTape};

const HUGE: usize = 1 << 32;

fn too_large<T>(result: Result<T, TensorError>) -> bool {
    matches!(result, Err(TensorError::TooLarge { .. }))
}

#[test]
fn a_shape_whose_size_overflows_is_refused() {
    // 2^32 · 2^32 wraps to 0 in usize: it must not pass for an empty array.
    assert!(too_large(Array::<f64>::new(vec![HUGE, HUGE], vec![])));
    assert!(too_large(Array::<f64>::new(vec![HUGE, HUGE, 0], vec![])));
    assert!(too_large(Array::<f64>::try_full(vec![usize::MAX, 2], 0.0)));
    // More bytes than memory can address, even though the count fits.
    assert!(too_large(Array::<f64>::new(vec![usize::MAX / 4], vec![])));
    let message = Array::<f64>::new(vec![HUGE, HUGE], vec![]).unwrap_err().to_string();
    assert!(message.contains("[4294967296, 4294967296]"), "{message}");
}

#[test]
fn empty_arrays_with_large_axes_still_work() {
    let a = Array::<f64>::new(vec![1 << 12, 0], vec![]).unwrap();
    assert_eq!(a.len(), 0);
    assert_eq!(a.sum_axis(0).unwrap().shape(), &[0]);
    assert_eq!(a.reshape(vec![0, 1 << 12]).unwrap().shape(), &[0, 1 << 12]);
    // An inner size of 0: the product is all zeros.
    let (p, q) = (
        Array::<f64>::new(vec![3, 0], vec![]).unwrap(),
        Array::<f64>::new(vec![0, 4], vec![]).unwrap(),
    );
    assert_eq!(p.matmul(&q).unwrap(), Array::zeros(vec![3, 4]));
}

#[test]
fn full_and_zeros_panic_before_allocating_a_huge_shape() {
    let panic = std::panic::catch_unwind(|| Array::<f64>::zeros(vec![HUGE, HUGE])).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("try_full"), "{message}");
}

#[test]
fn products_of_valid_shapes_that_overflow_are_refused() {
    // Valid, empty operands whose product or broadcast would not be.
    let tall = Array::<f64>::new(vec![HUGE, 0], vec![]).unwrap();
    let wide = Array::<f64>::new(vec![0, HUGE], vec![]).unwrap();
    assert!(too_large(tall.matmul(&wide)));
    assert!(too_large(tall.matmul_transposed(false, &tall, true)));
    let column = Array::<f64>::new(vec![HUGE, 1, 0], vec![]).unwrap();
    let row = Array::<f64>::new(vec![1, HUGE, 0], vec![]).unwrap();
    assert!(too_large(column.add(&row)));
    let half = Array::<f64>::new(vec![0, usize::MAX / 2 + 1], vec![]).unwrap_err();
    assert!(matches!(half, TensorError::TooLarge { .. }));
    let big = Array::<f64>::new(vec![0, isize::MAX as usize / 8], vec![]).unwrap();
    assert!(too_large(Array::concat(&[&big, &big], 1)));
    // The same through the tape.
    let tape = TensorTape::<f64>::new();
    let (t, w) = (tape.input(tall), tape.input(wide));
    assert!(too_large(t.matmul(&w)));
}

#[test]
fn gemm_checks_its_slices_with_checked_arithmetic() {
    // m·k wraps to 0: the kernel must not be called with empty slices.
    let call = || f64::gemm(HUGE, HUGE, 1, (&[], false), (&[], false), &mut []);
    let panic = std::panic::catch_unwind(call).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("cannot hold"), "{message}");
    let uninit = std::mem::MaybeUninit::<f32>::uninit;
    let short =
        std::panic::catch_unwind(|| f32::gemm(2, 2, 2, (&[1.0; 4], false), (&[1.0; 4], true), &mut [uninit(); 3]));
    assert!(short.is_err());
    let mut c = [uninit(); 4];
    f32::gemm(2, 2, 2, (&[1.0; 4], false), (&[1.0; 4], true), &mut c);
    // SAFETY: gemm writes all m·n = 4 elements of C (its contract).
    let c = c.map(|v| unsafe { v.assume_init() });
    assert_eq!(c, [2.0; 4]);
}

#[test]
fn gradients_refuse_a_tensor_of_another_tape() {
    let first = TensorTape::<f64>::new();
    let a = first.input(Array::new(vec![2], vec![1.0, 2.0]).unwrap());
    let loss = a.mul(&a).unwrap().sum();
    let grads = first.backward(&loss).unwrap();
    assert_eq!(grads.of(&a).data(), &[2.0, 4.0]);
    // Same index, other tape: an unrelated gradient before, a panic now.
    let second = TensorTape::<f64>::new();
    let b = second.input(Array::new(vec![2], vec![5.0, 6.0]).unwrap());
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| grads.of(&b))).unwrap_err();
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(message.contains("not from the swept tape"), "{message}");
    // A cleared tape is a new tape to its old gradients.
    let mut third = TensorTape::<f64>::new();
    let c = third.input(Array::new(vec![1], vec![3.0]).unwrap());
    let old = third.backward(&c.sum()).unwrap();
    third.clear();
    let d = third.input(Array::new(vec![1], vec![4.0]).unwrap());
    assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| old.of(&d))).is_err());
}

#[test]
fn a_layer_too_large_to_address_panics_before_allocating() {
    let mut rng = chainrule::tensor::nn::SplitMix64::new(1);
    let panic = std::panic::catch_unwind(move || chainrule::tensor::nn::Linear::<f32>::new(HUGE, HUGE, &mut rng));
    let message = panic.unwrap_err().downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("Linear::new(4294967296, 4294967296)"), "{message}");
}
