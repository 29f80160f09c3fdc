//! Sweep buffers kept per thread and number type, so that sweeping a large
//! program again touches memory it already has: fresh buffers of hundreds
//! of megabytes each call cost more in page faults than the sweep itself.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;

/// The buffers of one sweep: node values, the local partials the forward
/// sweep stores (see `Step`), adjoints.
pub(super) struct Scratch<T> {
    pub values: Vec<T>,
    pub partials: Vec<T>,
    pub adjoints: Vec<T>,
}

impl<T> Default for Scratch<T> {
    fn default() -> Self {
        Scratch {
            values: Vec::new(),
            partials: Vec::new(),
            adjoints: Vec::new(),
        }
    }
}

thread_local! {
    /// One `Box<Scratch<T>>` per number type `T` used on this thread.
    static POOL: RefCell<HashMap<TypeId, Box<dyn Any>>> = RefCell::new(HashMap::new());
}

/// This thread's buffers for `T` (fresh ones if they are in use further up
/// the stack), handed back for the next sweep when the guard is dropped.
pub(super) fn take_scratch<T: 'static>() -> ScratchGuard<T> {
    let taken = POOL.with(|pool| pool.borrow_mut().remove(&TypeId::of::<T>()));
    ScratchGuard(Some(taken.and_then(|b| b.downcast().ok()).unwrap_or_default()))
}

/// Holds a thread's sweep buffers while a sweep uses them.
pub(super) struct ScratchGuard<T: 'static>(Option<Box<Scratch<T>>>);

impl<T: 'static> std::ops::Deref for ScratchGuard<T> {
    type Target = Scratch<T>;
    fn deref(&self) -> &Scratch<T> {
        self.0
            .as_ref()
            .expect("scratch buffers are present until the guard drops")
    }
}

impl<T: 'static> std::ops::DerefMut for ScratchGuard<T> {
    fn deref_mut(&mut self) -> &mut Scratch<T> {
        self.0
            .as_mut()
            .expect("scratch buffers are present until the guard drops")
    }
}

impl<T: 'static> Drop for ScratchGuard<T> {
    fn drop(&mut self) {
        if let Some(scratch) = self.0.take() {
            // During thread exit the pool may be gone: then the buffers are freed.
            let _ = POOL.try_with(|pool| pool.borrow_mut().insert(TypeId::of::<T>(), scratch));
        }
    }
}

/// Frees the sweep buffers this thread keeps for recorded programs (they
/// are kept at the size of the largest sweep so far, to be reused).
pub fn release_buffers() {
    POOL.with(|pool| pool.borrow_mut().clear());
}
