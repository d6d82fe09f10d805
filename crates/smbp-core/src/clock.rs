//! Where "now" comes from, injected so that conditions, ages and expiries are deterministic in
//! tests: the operator stamps conditions with it, the kubectl plugin measures ages against it.

use jiff::Timestamp;

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock read through a function (the simulated cluster's, in tests and the demo).
pub struct FnClock<F>(pub F);

impl<F: Fn() -> Timestamp + Send + Sync> Clock for FnClock<F> {
    fn now(&self) -> Timestamp {
        (self.0)()
    }
}

/// A clock stopped at one instant (tests, golden outputs).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}
