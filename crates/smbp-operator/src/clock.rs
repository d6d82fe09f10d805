//! The clock conditions are stamped with (`smbp_core::clock`), shared by the operator's parts.

use std::sync::Arc;

pub use smbp_core::clock::{Clock, FnClock, SystemClock};

/// A shared clock.
pub type SharedClock = Arc<dyn Clock>;
