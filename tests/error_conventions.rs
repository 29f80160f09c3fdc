//! Errors as a library user expects them: one variant per cause, with a
//! message that says what to do, `source()` where another error caused it,
//! and sizes a caller asks for reported instead of aborting the process.

use std::error::Error as _;

use chainrule::{Error, Matrix};

#[test]
fn sizes_beyond_memory_are_errors_not_aborts() {
    // 2⁶⁴ entries overflow the count; 2⁶⁰ · 8 bytes overflow the byte size.
    for (rows, cols) in [(usize::MAX, 2), (1 << 30, 1 << 30)] {
        let error = Matrix::<f64>::try_zeros(rows, cols).unwrap_err();
        assert_eq!(
            error,
            Error::TooLarge {
                what: "matrix",
                rows,
                cols
            }
        );
        assert!(error.to_string().contains(&format!("{rows}×{cols} matrix")));
        assert!(error.source().is_none());
    }
    assert_eq!(Matrix::<f64>::try_zeros(3, 0).unwrap().cols(), 0);
}

#[test]
fn an_allocation_refusal_keeps_its_cause() {
    // The allocator's refusal, made without allocating (a capacity overflow).
    let refusal = Vec::<u8>::new().try_reserve(usize::MAX).unwrap_err();
    let error = Error::OutOfMemory {
        what: "matrix",
        bytes: 1 << 40,
        source: refusal.clone(),
    };
    assert!(
        error
            .to_string()
            .contains("refused the 1099511627776 bytes of a matrix")
    );
    let source = error.source().expect("the refusal is the source");
    assert_eq!(source.to_string(), refusal.to_string());
}
