//! Each thread's tape for each scalar type, and the one way to reach it.
//!
//! The scalars the API uses have a thread-local tape each, reached with one
//! load; every other [`Real`] type gets its tape from a per-thread table,
//! borrowed through a `RefCell`. The access is sealed: only this crate can
//! name the trait method that reaches a tape.

use std::any::{Any, TypeId};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::Real;
use crate::reverse::tape::Tape;
use crate::{Dual, DualN};

pub(crate) mod sealed {
    use super::Tape;

    /// Proof of being inside this crate. Its field is private and the type
    /// lives in a private module, so code outside the crate can neither name
    /// nor make one, and therefore cannot call [`HasTape::with_tape`].
    pub struct Token(pub(super) ());

    /// Access to the thread-local tape of one scalar type. Sealed twice over:
    /// the trait cannot be named outside the crate, and its one method needs a
    /// [`Token`], so even generic code bounded by [`TapeScalar`](super::TapeScalar)
    /// (which has this trait as a supertrait) cannot reach the tape.
    pub trait HasTape: Sized {
        /// Runs `f` on this thread's tape for `Self`.
        fn with_tape<R>(token: Token, f: impl FnOnce(&mut Tape<Self>) -> R) -> R;
    }
}

/// Runs `f` on this thread's tape for `T`.
///
/// `f` must be this crate's own recording or sweeping code, which does not
/// reach the tape of `T` again (through `with_tape` or `Var` arithmetic on
/// `T`) and runs no user code but `T`'s own arithmetic. For the built-in
/// scalars that arithmetic is this crate's too; for any other scalar the
/// tape is borrowed through a [`RefCell`], so arithmetic that reached its
/// own tape would panic, not alias it.
#[inline(always)]
pub(crate) fn with_tape<T: TapeScalar, R>(f: impl FnOnce(&mut Tape<T>) -> R) -> R {
    T::with_tape(sealed::Token(()), f)
}

/// A scalar type with a tape on every thread: every [`Real`], so `f32`,
/// `f64`, [`Dual`], [`DualN`], [`Var`](crate::Var) itself (reverse over reverse) and
/// their nestings, and scalar types defined outside chainrule.
///
/// The built-in scalars used by the API (`f32`, `f64`, `Dual<f32>`,
/// `Dual<f64>`, `DualN<f32, 8>`, `DualN<f64, 8>`) each have a thread-local
/// tape reached with one load. Every other type's tape is found in a
/// per-thread table by its [`TypeId`] and borrowed through a [`RefCell`],
/// which costs a lookup per recorded operation (a gradient of Rosenbrock
/// with 1000 inputs on a scalar that wraps `f64` takes about 3.5 times as
/// long as on `f64`) and makes re-entry (a scalar whose own arithmetic
/// records on its own tape) a panic.
///
/// The trait is sealed: its tape cannot be reached from outside, even
/// through the bound (the one accessor takes a token only chainrule can
/// make). This fails to compile:
///
/// ```compile_fail
/// fn swap_tapes<T: chainrule::TapeScalar>() {
///     T::with_tape(|o| T::with_tape(|i| std::mem::swap(o, i)))
/// }
/// ```
pub trait TapeScalar: Real + sealed::HasTape {}

impl<T: Real> TapeScalar for T {}

impl<T: Real> sealed::HasTape for T {
    #[inline(always)]
    fn with_tape<R>(_: sealed::Token, f: impl FnOnce(&mut Tape<T>) -> R) -> R {
        on_tape!(T, |tape| f(tape))
    }
}

/// Evaluates `$body` with `$tape` bound to this thread's tape for `$t`:
/// the built-in scalars' tapes directly, any other type's through
/// [`with_table_tape`]. A macro rather than a function taking a closure so
/// that the recording hot path is straight-line code the compiler inlines
/// whole. `$body` must be this crate's own code, under the contract of
/// [`with_tape`].
macro_rules! on_tape {
    ($t:ty, |$tape:ident| $body:expr) => {
        match built_in_tape::<$t>() {
            Some(pointer) => {
                // SAFETY: `pointer` is this thread's live tape for `$t`
                // (allocated by its thread-local owner, freed only when the
                // thread ends), no other thread sees it, and `$body` is crate
                // code that neither reaches this tape again nor runs user code
                // (the contract of `with_tape`; `$t` is a built-in scalar,
                // whose arithmetic is this crate's; user code cannot get here,
                // since `HasTape::with_tape` needs a crate-private `Token`), so
                // this `&mut` is the only reference to the tape while it lives.
                let $tape: &mut Tape<$t> = unsafe { &mut *pointer };
                $body
            }
            None => with_table_tape(|$tape: &mut Tape<$t>| $body),
        }
    };
}
pub(crate) use on_tape;

/// Owns one thread's tape of one scalar type; frees it when the thread ends.
struct OwnedTape<T> {
    tape: *mut Tape<T>,
    /// Clears the thread's fast pointer to the tape before it is freed.
    forget: fn(),
}

impl<T> OwnedTape<T> {
    fn new(forget: fn()) -> Self {
        OwnedTape {
            tape: Box::into_raw(Box::new(Tape::new())),
            forget,
        }
    }
}

impl<T> Drop for OwnedTape<T> {
    fn drop(&mut self) {
        (self.forget)();
        // SAFETY: `tape` came from `Box::into_raw` in `new` and is freed only here.
        drop(unsafe { Box::from_raw(self.tape) });
    }
}

/// This thread's tape for `T` if `T` is one of the built-in scalars, each
/// with its own thread-local: the type comparisons are constants after
/// monomorphisation, so for those types this is one load.
#[inline(always)]
pub(crate) fn built_in_tape<T: 'static>() -> Option<*mut Tape<T>> {
    macro_rules! built_in {
        ($($t:ty),*) => {$(
            if TypeId::of::<T>() == TypeId::of::<$t>() {
                thread_local! {
                    // The hot path reads only this pointer: a thread-local
                    // without a destructor costs one load, no registration check.
                    static FAST: Cell<*mut Tape<$t>> = const { Cell::new(std::ptr::null_mut()) };
                    static OWNER: OwnedTape<$t> = OwnedTape::new(|| FAST.set(std::ptr::null_mut()));
                }
                let mut tape = FAST.get();
                if tape.is_null() {
                    tape = OWNER.with(|owner| owner.tape);
                    FAST.set(tape);
                }
                // `T` is `$t` (the `TypeId`s are equal), so this cast
                // changes only the pointer's spelled type.
                return Some(tape.cast::<Tape<T>>());
            }
        )*};
    }
    built_in!(f64, f32, Dual<f64>, Dual<f32>, DualN<f64, 8>, DualN<f32, 8>);
    None
}

thread_local! {
    /// This thread's tapes of the scalar types that are not built in, by type.
    static TABLE_TAPES: RefCell<Vec<(TypeId, Rc<dyn Any>)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on this thread's tape for `T`, found (or made) in the table of
/// other scalar types' tapes and borrowed through its `RefCell`.
///
/// # Panics
/// If the tape is already borrowed: `T`'s own arithmetic, run by a sweep or
/// recording of its tape, recorded on that tape again.
#[cold]
#[inline(never)]
pub(crate) fn with_table_tape<T: 'static, R>(f: impl FnOnce(&mut Tape<T>) -> R) -> R {
    let id = TypeId::of::<T>();
    let tape: Rc<RefCell<Tape<T>>> = TABLE_TAPES.with(|table| {
        let mut table = table.borrow_mut();
        let entry = match table.iter().position(|(t, _)| *t == id) {
            Some(i) => &table[i].1,
            None => {
                table.push((id, Rc::new(RefCell::new(Tape::<T>::new()))));
                &table[table.len() - 1].1
            }
        };
        Rc::clone(entry)
            .downcast::<RefCell<Tape<T>>>()
            .unwrap_or_else(|_| unreachable!("the table holds each type's tape under its own TypeId"))
    });
    let Ok(mut borrowed) = tape.try_borrow_mut() else {
        panic!(
            "the tape of `Var<{}>` was reached while it is in use: the scalar type's own arithmetic \
             records on its own tape; a scalar's operations must not use `Var` of that same scalar",
            std::any::type_name::<T>()
        )
    };
    f(&mut borrowed)
}
