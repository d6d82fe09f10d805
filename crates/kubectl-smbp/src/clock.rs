//! The clock every age and expiry is measured against (`smbp_core::clock`, injected so that
//! golden outputs are deterministic: the binary reads the wall clock, tests fix the instant), and
//! ages printed as kubectl prints them.

use jiff::Timestamp;

pub use smbp_core::clock::{Clock, FixedClock, SystemClock};

/// A duration as kubectl prints ages: the two largest units (`45s`, `3m12s`, `5h2m`, `12d`),
/// `<unknown>` for an instant in the future beyond a little clock skew.
pub fn age(since: Timestamp, now: Timestamp) -> String {
    let secs = now.duration_since(since).as_secs();
    if secs < -5 {
        return "<unknown>".into();
    }
    human(secs.max(0) as u64)
}

/// Whole seconds as kubectl's short human form.
pub fn human(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match () {
        _ if d >= 10 => format!("{d}d"),
        _ if d > 0 => format!("{d}d{h}h"),
        _ if secs >= 3600 => format!("{}h{m}m", secs / 3600),
        _ if secs >= 60 => format!("{}m{s}s", secs / 60),
        _ => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectls() {
        let now: Timestamp = "2026-12-02T10:00:00Z".parse().unwrap();
        let ago = |s: i64| age(now - jiff::SignedDuration::from_secs(s), now);
        assert_eq!(ago(45), "45s");
        assert_eq!(ago(192), "3m12s");
        assert_eq!(ago(5 * 3600 + 120), "5h2m");
        assert_eq!(ago(2 * 86_400 + 3600), "2d1h");
        assert_eq!(ago(12 * 86_400), "12d");
        assert_eq!(ago(-60), "<unknown>");
    }
}
