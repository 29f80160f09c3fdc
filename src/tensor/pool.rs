//! Buffer reuse: array buffers freed on a thread are kept for the next
//! array of about the same size on that thread.
//!
//! An array program allocates a result per operation, forward and backward,
//! and large fresh allocations are expensive twice over: the allocator maps
//! new pages, and the kernel then zeroes each page on its first touch (a page
//! fault per 4 KiB). A training loop or a repeated gradient frees buffers of
//! the same sizes it is about to ask for again, so [`Array`](super::Array)
//! gives its buffer back here when it is dropped, and the kernels take their
//! outputs from here: after the first step, a steady loop maps no new memory.
//!
//! Only large buffers are kept ([`SMALLEST`] bytes and up: the allocator
//! recycles small ones itself), at most [`MOST_BUFFERS`] per thread and
//! element type, and a buffer is reused only for a request of at least half
//! its capacity, so little memory sits unused. [`release_pooled_memory`]
//! frees what the calling thread holds.

use std::cell::RefCell;

/// The smallest buffer kept, in bytes.
pub const SMALLEST: usize = 64 * 1024;
/// The most buffers kept per thread and element type.
pub const MOST_BUFFERS: usize = 32;

/// Freed buffers of one element type on one thread.
#[doc(hidden)]
#[derive(Debug)]
pub struct Pool<T> {
    free: Vec<Vec<T>>,
}

impl<T> Pool<T> {
    pub(crate) const fn new() -> Self {
        Pool { free: Vec::new() }
    }

    /// An empty buffer with room for `len` elements: a kept one whose
    /// capacity is `len` to `2·len` (the closest), or a new one.
    fn take(&mut self, len: usize) -> Option<Vec<T>> {
        let fits = |v: &Vec<T>| v.capacity() >= len && v.capacity() / 2 <= len;
        let best = (0..self.free.len())
            .filter(|&k| fits(&self.free[k]))
            .min_by_key(|&k| self.free[k].capacity())?;
        Some(self.free.swap_remove(best))
    }

    /// Keeps `buffer` if it is large enough to be worth keeping, dropping
    /// the smallest kept one when the pool is full.
    fn give(&mut self, mut buffer: Vec<T>) {
        if buffer.capacity().saturating_mul(size_of::<T>()) < SMALLEST {
            return;
        }
        buffer.clear();
        if self.free.len() >= MOST_BUFFERS {
            let smallest = (0..self.free.len()).min_by_key(|&k| self.free[k].capacity());
            match smallest {
                Some(k) if self.free[k].capacity() < buffer.capacity() => {
                    self.free[k] = buffer;
                }
                _ => {}
            }
            return;
        }
        self.free.push(buffer);
    }
}

/// A number type whose array buffers may be pooled: `f32` and `f64`, each
/// with its own per-thread pool.
#[doc(hidden)]
pub trait Pooled: Copy + 'static {
    /// Runs `f` with this thread's pool of freed buffers of this type, or
    /// with `None` where there is none (a type without a pool, a thread
    /// shutting down, or a pool already in use).
    fn with_pool<R>(f: impl FnOnce(Option<&mut Pool<Self>>) -> R) -> R {
        f(None)
    }
}

/// A pool per thread for each element type that has one.
macro_rules! pools {
    ($($t:ty => $name:ident),*) => {
        thread_local! {
            $(static $name: RefCell<Pool<$t>> = const { RefCell::new(Pool::new()) };)*
        }
        $(impl Pooled for $t {
            fn with_pool<R>(f: impl FnOnce(Option<&mut Pool<Self>>) -> R) -> R {
                let mut f = Some(f);
                let pooled = $name.try_with(|cell| match cell.try_borrow_mut() {
                    Ok(mut pool) => Ok((f.take().expect("called once"))(Some(&mut pool))),
                    Err(_) => Err(()),
                });
                match pooled {
                    Ok(Ok(result)) => result,
                    // The thread is shutting down, or the pool is in use:
                    // go without it.
                    _ => (f.take().expect("not yet called"))(None),
                }
            }
        })*
    };
}
pools!(f32 => POOL_F32, f64 => POOL_F64);

/// An empty buffer with room for `len` elements, reused when one is kept.
pub(crate) fn take<T: Pooled>(len: usize) -> Vec<T> {
    T::with_pool(|pool| pool.and_then(|pool| pool.take(len))).unwrap_or_else(|| Vec::with_capacity(len))
}

/// A buffer of `len` copies of `value`, reused when one is kept.
pub(crate) fn filled<T: Pooled>(len: usize, value: T) -> Vec<T> {
    let mut buffer = take(len);
    buffer.resize(len, value);
    buffer
}

/// Hands `buffer` back for reuse (or frees it).
pub(crate) fn give<T: Pooled>(buffer: Vec<T>) {
    if buffer.capacity().saturating_mul(size_of::<T>()) < SMALLEST {
        return;
    }
    let mut buffer = Some(buffer);
    T::with_pool(|pool| {
        if let (Some(pool), Some(buffer)) = (pool, buffer.take()) {
            pool.give(buffer);
        }
    });
}

/// Frees the array buffers kept for reuse on the calling thread.
///
/// ```
/// use chainrule::tensor::{release_pooled_memory, Array};
///
/// drop(Array::<f64>::zeros(vec![1000, 1000])); // its 8 MB buffer is kept
/// release_pooled_memory(); // and now freed
/// ```
pub fn release_pooled_memory() {
    // Taken out before they are dropped: freeing never runs inside the borrow.
    let f32s = POOL_F32.try_with(|pool| pool.try_borrow_mut().map(|mut pool| std::mem::take(&mut pool.free)));
    let f64s = POOL_F64.try_with(|pool| pool.try_borrow_mut().map(|mut pool| std::mem::take(&mut pool.free)));
    drop((f32s, f64s));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_for_requests_of_about_their_size() {
        release_pooled_memory();
        let buffer: Vec<f64> = vec![1.0; 100_000];
        let address = buffer.as_ptr();
        give(buffer);
        // A request larger than the capacity, or under half of it, gets a
        // new buffer.
        let (large, small) = (take::<f64>(200_001), take::<f64>(49_999));
        assert_ne!(large.as_ptr(), address);
        assert_ne!(small.as_ptr(), address);
        let reused = take::<f64>(60_000);
        assert_eq!((reused.as_ptr(), reused.len()), (address, 0));
        give(reused);
        assert_eq!(POOL_F64.with_borrow(|pool| pool.free.len()), 1);
        release_pooled_memory();
        assert_eq!(POOL_F64.with_borrow(|pool| pool.free.len()), 0);
    }

    #[test]
    fn small_buffers_are_left_to_the_allocator() {
        release_pooled_memory();
        give(vec![0.0f32; 100]);
        assert_eq!(POOL_F32.with_borrow(|pool| pool.free.len()), 0);
    }

    #[test]
    fn the_pool_holds_a_bounded_number_of_buffers() {
        release_pooled_memory();
        for k in 0..MOST_BUFFERS + 10 {
            give(vec![0.0f64; 10_000 + k]);
        }
        POOL_F64.with_borrow(|pool| {
            assert_eq!(pool.free.len(), MOST_BUFFERS);
            // The largest were kept.
            assert!(pool.free.iter().all(|b| b.capacity() >= 10_010));
        });
        release_pooled_memory();
    }
}
