//! Custom functions with their types erased, for recorded programs: they
//! keep the rule and run it at every new point, on each of the number types
//! their sweeps use.
//!
//! The rule's methods are generic over the number type, so a trait object
//! cannot carry them; instead [`ErasedElementary`] has one method per number
//! type a program sweeps with (the scalar, `Dual`, `DualN` with 2, 4 and 8
//! lanes), each the rule monomorphised for that type, and [`eval`] picks
//! the method for the sweep's type by its `TypeId`. A vector function's
//! work is larger and its arguments many, so [`ErasedVector`] takes the
//! whole job (arguments, value, adjoints and result, in one
//! [`VectorJob`]) and recognises its number type itself.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::custom::{Elementary, VectorRule};
use crate::{Dual, DualN, Real};

/// One custom elementary function, usable on every number type a program
/// sweeps with. `args` holds the rule's arity; with `partials`, the
/// partials are appended (as numbers of the sweep's type, so dual numbers
/// carry second derivatives).
pub(crate) trait ErasedElementary<S>: Send + Sync {
    fn name(&self) -> &'static str;
    fn arity(&self) -> usize;
    fn on_scalar(&self, args: &[S], partials: Option<&mut Vec<S>>) -> S;
    fn on_dual(&self, args: &[Dual<S>], partials: Option<&mut Vec<Dual<S>>>) -> Dual<S>;
    fn on_dual_2(&self, args: &[DualN<S, 2>], partials: Option<&mut Vec<DualN<S, 2>>>) -> DualN<S, 2>;
    fn on_dual_4(&self, args: &[DualN<S, 4>], partials: Option<&mut Vec<DualN<S, 4>>>) -> DualN<S, 4>;
    fn on_dual_8(&self, args: &[DualN<S, 8>], partials: Option<&mut Vec<DualN<S, 8>>>) -> DualN<S, 8>;
}

/// A shared erased rule.
pub(crate) type SharedRule<S> = Arc<dyn ErasedElementary<S>>;

/// Erases the rule `f` of `K` arguments.
pub(crate) fn erase<S: Real, E: Elementary<K>, const K: usize>(f: &E) -> SharedRule<S> {
    Arc::new(Erased::<E, K>(f.clone()))
}

struct Erased<E, const K: usize>(E);

/// The rule on one number type: its value, and its partials if asked.
fn apply<T: Real, E: Elementary<K>, const K: usize>(f: &E, args: &[T], partials: Option<&mut Vec<T>>) -> T {
    let args: [T; K] = std::array::from_fn(|k| args[k]);
    if let Some(partials) = partials {
        partials.extend(T::elementary_partials(f, args));
    }
    T::apply_elementary(f, args)
}

impl<S: Real, E: Elementary<K>, const K: usize> ErasedElementary<S> for Erased<E, K> {
    fn name(&self) -> &'static str {
        E::NAME
    }
    fn arity(&self) -> usize {
        K
    }
    fn on_scalar(&self, args: &[S], partials: Option<&mut Vec<S>>) -> S {
        apply(&self.0, args, partials)
    }
    fn on_dual(&self, args: &[Dual<S>], partials: Option<&mut Vec<Dual<S>>>) -> Dual<S> {
        apply(&self.0, args, partials)
    }
    fn on_dual_2(&self, args: &[DualN<S, 2>], partials: Option<&mut Vec<DualN<S, 2>>>) -> DualN<S, 2> {
        apply(&self.0, args, partials)
    }
    fn on_dual_4(&self, args: &[DualN<S, 4>], partials: Option<&mut Vec<DualN<S, 4>>>) -> DualN<S, 4> {
        apply(&self.0, args, partials)
    }
    fn on_dual_8(&self, args: &[DualN<S, 8>], partials: Option<&mut Vec<DualN<S, 8>>>) -> DualN<S, 8> {
        apply(&self.0, args, partials)
    }
}

/// Runs `rule` on `args` of the sweep's number type `T`, which must be one
/// the erased rule serves (the program's scalar `S`, `Dual<S>`, `DualN<S,
/// 2 | 4 | 8>`).
///
/// `args` is a `Vec`, not a slice, because a `Vec<T>` can be viewed as
/// `dyn Any` and so recognised as a `Vec` of one of those types.
///
/// # Panics
/// On any other `T`: a program sweep on a number type this module does not
/// serve, a bug in the sweep (add the type here).
#[allow(clippy::ptr_arg)]
pub(crate) fn eval<S: Real, T: Real>(
    rule: &dyn ErasedElementary<S>,
    args: &Vec<T>,
    partials: Option<&mut Vec<T>>,
) -> T {
    let mut result: Option<T> = None;
    let slot: &mut dyn Any = &mut result;
    let args: &dyn Any = args;
    // `partials` as `&mut Vec<U>` when `T` is `U` (checked by `downcast`).
    let mut partials = partials.map(|p| p as &mut dyn Any);
    macro_rules! serve {
        ($($u:ty => $method:ident),*) => {$(
            if let (Some(args), Some(slot)) = (args.downcast_ref::<Vec<$u>>(), slot.downcast_mut::<Option<$u>>()) {
                let partials = partials.as_mut().map(|p| {
                    p.downcast_mut::<Vec<$u>>().expect("partials are of the sweep's number type")
                });
                *slot = Some(rule.$method(args, partials));
                return result.expect("just set");
            }
        )*};
    }
    serve!(S => on_scalar, Dual<S> => on_dual, DualN<S, 2> => on_dual_2, DualN<S, 4> => on_dual_4, DualN<S, 8> => on_dual_8);
    panic!(
        "a program sweep ran the custom function `{}` on {}, a number type recorded programs do not use; \
         add it to chainrule's custom::erased::eval",
        rule.name(),
        std::any::type_name::<T>()
    )
}

impl<S> fmt::Debug for dyn ErasedElementary<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.name(), self.arity())
    }
}

/// A custom vector function's work at one point, on the sweep's number
/// type `T`: its value at `x`, or its vector-Jacobian product at `x` (with
/// value `y`) for the adjoints `y_bar`; the result lands in `out`.
pub(crate) struct VectorJob<T> {
    pub x: Vec<T>,
    pub y: Vec<T>,
    pub y_bar: Vec<T>,
    pub out: Vec<T>,
}

impl<T> Default for VectorJob<T> {
    fn default() -> Self {
        VectorJob {
            x: Vec::new(),
            y: Vec::new(),
            y_bar: Vec::new(),
            out: Vec::new(),
        }
    }
}

/// Which product a [`VectorJob`] asks for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum VectorWork {
    Value,
    VectorJacobian,
}

/// One custom vector function, usable on every number type a program
/// sweeps with: [`run`](ErasedVector::run) recognises the job's number
/// type by its `TypeId`.
pub(crate) trait ErasedVector<S>: Send + Sync {
    fn name(&self) -> &'static str;
    /// Does `work` on `job`, a `VectorJob<T>` for one of the program's
    /// number types; false if `T` is none of them.
    fn run(&self, work: VectorWork, job: &mut dyn Any) -> bool;
}

/// A shared erased vector function.
pub(crate) type SharedVector<S> = Arc<dyn ErasedVector<S>>;

/// Erases the vector function `f`.
pub(crate) fn erase_vector<S: Real, F: VectorRule>(f: &F) -> SharedVector<S> {
    Arc::new(ErasedRule(f.clone()))
}

struct ErasedRule<F>(F);

impl<S: Real, F: VectorRule> ErasedVector<S> for ErasedRule<F> {
    fn name(&self) -> &'static str {
        F::NAME
    }
    fn run(&self, work: VectorWork, job: &mut dyn Any) -> bool {
        macro_rules! serve {
            ($($u:ty),*) => {$(
                if let Some(job) = job.downcast_mut::<VectorJob<$u>>() {
                    job.out = match work {
                        VectorWork::Value => <$u>::apply_vector(&self.0, &job.x),
                        VectorWork::VectorJacobian => self.0.vjp(&job.x, &job.y, &job.y_bar),
                    };
                    return true;
                }
            )*};
        }
        serve!(S, Dual<S>, DualN<S, 2>, DualN<S, 4>, DualN<S, 8>);
        false
    }
}

/// Runs `rule` on `job`, whose number type must be one the program sweeps
/// use.
///
/// # Panics
/// On any other number type: a bug in the sweep (add the type to
/// [`ErasedRule::run`]).
pub(crate) fn run_vector<S, T: 'static>(rule: &dyn ErasedVector<S>, work: VectorWork, job: &mut VectorJob<T>) {
    assert!(
        rule.run(work, job),
        "a program sweep ran the custom function `{}` on {}, a number type recorded programs do not use; \
         add it to chainrule's custom::erased",
        rule.name(),
        std::any::type_name::<T>()
    );
}

impl<S> fmt::Debug for dyn ErasedVector<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
