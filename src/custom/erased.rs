//! Custom functions with their types erased, for recorded programs: they
//! keep the rule and run it at every new point, on each of the number types
//! their sweeps use.
//!
//! A rule's methods are generic over the number type, so a trait object
//! cannot carry them. Instead the sweep hands an [`Erased`] rule a [`Job`]
//! of its own number type as `dyn Any`; the rule, which holds its methods
//! monomorphised for each number type a program sweeps with (the scalar,
//! `Dual`, `DualN` with 2, 4 and 8 lanes), recognises the job's type by its
//! `TypeId` and does the work. Elementary and vector rules share the job,
//! the dispatch and the list of types.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::custom::{Elementary, VectorRule};
use crate::{Dual, DualN, Real};

/// A custom function's work at one point, on the sweep's number type `T`:
/// the arguments `x` (and, for a vector-Jacobian product, the value `y` and
/// the adjoints `y_bar`); the result lands in `out`.
#[cfg_attr(not(feature = "program"), allow(dead_code))] // read by recorded programs
pub(crate) struct Job<T> {
    pub x: Vec<T>,
    pub y: Vec<T>,
    pub y_bar: Vec<T>,
    pub out: Vec<T>,
}

impl<T> Default for Job<T> {
    fn default() -> Self {
        Job {
            x: Vec::new(),
            y: Vec::new(),
            y_bar: Vec::new(),
            out: Vec::new(),
        }
    }
}

/// What a [`Job`] asks for.
#[cfg_attr(not(feature = "program"), allow(dead_code))] // read by recorded programs
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Work {
    /// The value: one entry for an elementary function, one per output for
    /// a vector function.
    Value,
    /// An elementary function's value, then its partials (as numbers of the
    /// sweep's type, so dual numbers carry second derivatives).
    ValueAndPartials,
    /// A vector function's vector-Jacobian product, one entry per argument.
    VectorJacobian,
}

/// One custom function, usable on every number type a program sweeps with:
/// [`run`](Erased::run) recognises the job's number type by its `TypeId`.
pub(crate) trait Erased<S>: Send + Sync {
    fn name(&self) -> &'static str;
    /// Does `work` on `job`, a `Job<T>` for one of the program's number
    /// types; false if `T` is none of them.
    #[cfg_attr(not(feature = "program"), allow(dead_code))]
    fn run(&self, work: Work, job: &mut dyn Any) -> bool;
}

/// A shared erased custom function.
pub(crate) type Shared<S> = Arc<dyn Erased<S>>;

/// Erases the elementary rule `f` of `K` arguments.
pub(crate) fn erase<S: Real, E: Elementary<K>, const K: usize>(f: &E) -> Shared<S> {
    Arc::new(ErasedElementary::<E, K>(f.clone()))
}

/// Erases the vector function `f`.
pub(crate) fn erase_vector<S: Real, F: VectorRule>(f: &F) -> Shared<S> {
    Arc::new(ErasedVector(f.clone()))
}

/// Runs `$serve!(T)` for the job's number type `T` among those the program
/// sweeps use (the scalar `S`, `Dual<S>`, `DualN<S, 2 | 4 | 8>`), returning
/// true, or falls through.
macro_rules! for_sweep_types {
    ($serve:ident) => {
        $serve!(S);
        $serve!(Dual<S>);
        $serve!(DualN<S, 2>);
        $serve!(DualN<S, 4>);
        $serve!(DualN<S, 8>);
    };
}

struct ErasedElementary<E, const K: usize>(E);

impl<S: Real, E: Elementary<K>, const K: usize> Erased<S> for ErasedElementary<E, K> {
    fn name(&self) -> &'static str {
        E::NAME
    }
    fn run(&self, work: Work, job: &mut dyn Any) -> bool {
        macro_rules! serve {
            ($u:ty) => {
                if let Some(job) = job.downcast_mut::<Job<$u>>() {
                    let args: [$u; K] = std::array::from_fn(|k| job.x[k]);
                    job.out.clear();
                    job.out.push(<$u>::apply_elementary(&self.0, args));
                    match work {
                        Work::Value => {}
                        Work::ValueAndPartials => job.out.extend(<$u>::elementary_partials(&self.0, args)),
                        Work::VectorJacobian => unreachable!("an elementary function has no vector-Jacobian job"),
                    }
                    return true;
                }
            };
        }
        for_sweep_types!(serve);
        false
    }
}

struct ErasedVector<F>(F);

impl<S: Real, F: VectorRule> Erased<S> for ErasedVector<F> {
    fn name(&self) -> &'static str {
        F::NAME
    }
    fn run(&self, work: Work, job: &mut dyn Any) -> bool {
        macro_rules! serve {
            ($u:ty) => {
                if let Some(job) = job.downcast_mut::<Job<$u>>() {
                    job.out = match work {
                        Work::Value => <$u>::apply_vector(&self.0, &job.x),
                        Work::VectorJacobian => self.0.vjp(&job.x, &job.y, &job.y_bar),
                        Work::ValueAndPartials => unreachable!("a vector function has no partials job"),
                    };
                    return true;
                }
            };
        }
        for_sweep_types!(serve);
        false
    }
}

/// Runs `rule` on `job`, whose number type must be one the program sweeps
/// use.
///
/// # Panics
/// On any other number type: a bug in the sweep (add the type to
/// `for_sweep_types`).
#[cfg_attr(not(feature = "program"), allow(dead_code))] // read by recorded programs
pub(crate) fn run<S, T: 'static>(rule: &dyn Erased<S>, work: Work, job: &mut Job<T>) {
    assert!(
        rule.run(work, job),
        "a program sweep ran the custom function `{}` on {}, a number type recorded programs do not use; \
         add it to chainrule's custom::erased",
        rule.name(),
        std::any::type_name::<T>()
    );
}

impl<S> fmt::Debug for dyn Erased<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
