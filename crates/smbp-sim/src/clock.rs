//! The simulated cluster's clock. Every timestamp the cluster writes (creationTimestamp,
//! deletionTimestamp, conditions, certificate validity) and every delay its controllers wait
//! (pod start-up, grace periods, minReadySeconds, certificate renewal) is read from this clock, so
//! the whole simulation can run faster than real time: with `scale` 50, one simulated minute
//! passes in 1.2 real seconds. The clock starts at the real wall-clock time.

use jiff::{SignedDuration, Timestamp};
use std::time::{Duration, Instant};

/// A clock running `scale` times faster than real time.
#[derive(Debug)]
pub struct Clock {
    origin_real: Instant,
    origin_wall: Timestamp,
    scale: f64,
}

impl Clock {
    /// A clock starting now, running `scale` times faster than real time (at least 1).
    pub fn new(scale: f64) -> Self {
        Clock {
            origin_real: Instant::now(),
            origin_wall: Timestamp::now(),
            scale: if scale.is_finite() && scale >= 1.0 {
                scale
            } else {
                1.0
            },
        }
    }

    /// How many times faster than real time the clock runs.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The simulated current time.
    pub fn now(&self) -> Timestamp {
        let elapsed = self.origin_real.elapsed().mul_f64(self.scale);
        self.origin_wall + SignedDuration::try_from(elapsed).unwrap_or(SignedDuration::MAX)
    }

    /// The current time as kube-apiserver writes timestamps (RFC 3339, seconds, UTC).
    pub fn now_rfc3339(&self) -> String {
        format_seconds(self.now())
    }

    /// The current time plus `seconds`, as an RFC 3339 timestamp.
    pub fn now_plus(&self, seconds: i64) -> String {
        format_seconds(self.now() + SignedDuration::from_secs(seconds))
    }

    /// Whether an RFC 3339 timestamp lies in the simulated past.
    pub fn is_past(&self, timestamp: &str) -> bool {
        timestamp
            .parse::<Timestamp>()
            .is_ok_and(|t| t <= self.now())
    }

    /// Simulated time since an RFC 3339 timestamp (zero when unparseable or in the future).
    pub fn since(&self, timestamp: &str) -> Duration {
        timestamp
            .parse::<Timestamp>()
            .ok()
            .and_then(|t| Duration::try_from(self.now().duration_since(t)).ok())
            .unwrap_or_default()
    }

    /// Simulated time until an RFC 3339 timestamp (zero when unparseable or past).
    pub fn until(&self, timestamp: &str) -> Duration {
        timestamp
            .parse::<Timestamp>()
            .ok()
            .and_then(|t| Duration::try_from(t.duration_since(self.now())).ok())
            .unwrap_or_default()
    }

    /// The real duration a simulated one takes.
    pub fn real(&self, simulated: Duration) -> Duration {
        simulated.div_f64(self.scale)
    }

    /// The real instant at which `simulated` will have passed.
    pub fn deadline(&self, simulated: Duration) -> Instant {
        Instant::now() + self.real(simulated)
    }
}

/// A timestamp truncated to seconds, as Kubernetes writes most of them.
pub fn format_seconds(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scaled_clock_runs_faster_than_real_time() {
        let clock = Clock::new(100.0);
        let start = clock.now();
        std::thread::sleep(Duration::from_millis(20));
        let simulated = clock.now().duration_since(start);
        assert!(simulated >= SignedDuration::from_secs(2), "{simulated:?}");
        assert_eq!(
            clock.real(Duration::from_secs(10)),
            Duration::from_millis(100)
        );
    }

    #[test]
    fn timestamps_compare_against_simulated_time() {
        let clock = Clock::new(1.0);
        assert!(clock.is_past(&clock.now_plus(-5)));
        assert!(!clock.is_past(&clock.now_plus(60)));
        assert!(clock.since(&clock.now_plus(-30)) >= Duration::from_secs(29));
        assert!(clock.until(&clock.now_plus(30)) >= Duration::from_secs(29));
        assert_eq!(clock.until(&clock.now_plus(-30)), Duration::ZERO);
        assert_eq!(Clock::new(0.0).scale(), 1.0);
    }
}
