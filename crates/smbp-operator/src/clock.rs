//! The clock conditions are stamped with, injected so tests are deterministic.

use jiff::Timestamp;
use std::sync::Arc;

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

/// A shared clock.
pub type SharedClock = Arc<dyn Clock>;
