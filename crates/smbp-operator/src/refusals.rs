//! Children the API server refused. A refusal (400, 403, 422: an invalid value, an admission
//! policy, a quota) is the user's problem, not the operator's: the spec or the cluster must
//! change. It is reported in the status and an Event, and the same desired object is not sent
//! again until its own backoff has passed — whatever triggers the reconcile (a pod becoming
//! ready, a watch event), so a refused child costs a handful of writes, not one per event. A
//! changed desired object (a new spec) is tried at once.

use crate::cache::ChildKey;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One refused child.
#[derive(Debug, Clone)]
struct Refusal {
    /// The applied hash of the refused desired object.
    hash: String,
    /// The API server's message.
    message: String,
    /// When it may be sent again.
    retry_at: Instant,
    /// How many times in a row it was refused.
    count: u32,
}

/// The refused children of every BigPeer, with their backoff.
#[derive(Debug)]
pub struct Refusals {
    base: Duration,
    max: Duration,
    refused: Mutex<HashMap<ChildKey, Refusal>>,
}

impl Refusals {
    /// Backoff from `base`, doubling per refusal, never above `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Self {
            base,
            max,
            refused: Mutex::new(HashMap::new()),
        }
    }

    /// The API server's message when the desired object with `hash` was refused and its backoff
    /// has not passed: it must not be sent now.
    pub fn holding(&self, key: &ChildKey, hash: &str, now: Instant) -> Option<String> {
        let refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        refused
            .get(key)
            .filter(|r| r.hash == hash && now < r.retry_at)
            .map(|r| r.message.clone())
    }

    /// Records that the desired object with `hash` was refused with `message`; returns whether
    /// this is news (a first refusal, or a new message) worth an Event.
    pub fn refused(&self, key: ChildKey, hash: &str, message: String, now: Instant) -> bool {
        let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        let previous = refused.remove(&key);
        let news = previous.as_ref().is_none_or(|p| p.message != message);
        let count = previous
            .filter(|p| p.hash == hash)
            .map_or(0, |p| p.count.saturating_add(1));
        let delay = self
            .base
            .saturating_mul(2u32.saturating_pow(count.min(20)))
            .min(self.max);
        refused.insert(
            key,
            Refusal {
                hash: hash.to_string(),
                message,
                retry_at: now + delay,
                count,
            },
        );
        news
    }

    /// The API server's message for a refused child.
    pub fn message(&self, key: &ChildKey) -> Option<String> {
        let refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        refused.get(key).map(|r| r.message.clone())
    }

    /// Forgets a refusal: the child was accepted, already matches, or is no longer desired.
    pub fn accepted(&self, key: &ChildKey) {
        self.refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    /// The soonest time a refused child of `keys` may be sent again.
    pub fn next_retry(&self, keys: &[ChildKey]) -> Option<Instant> {
        let refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        keys.iter()
            .filter_map(|k| refused.get(k).map(|r| r.retry_at))
            .min()
    }
}

/// Whether the API server's answer means "this object is not acceptable" (the user's to fix)
/// rather than "try again" (unavailable, throttled, conflicting, not found).
pub fn is_refusal(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if matches!(status.code, 400 | 403 | 413 | 422))
}

/// The message of a refusal, as the API server wrote it.
pub fn message(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => status.message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smbp_core::build::ChildKind;

    fn key() -> ChildKey {
        (ChildKind::Service, "ns".into(), "edge-sync".into())
    }

    #[test]
    fn a_refused_object_is_held_for_its_backoff_and_a_changed_one_is_not() {
        let refusals = Refusals::new(Duration::from_secs(1), Duration::from_secs(8));
        let t0 = Instant::now();
        assert!(refusals.refused(key(), "h1", "bad".into(), t0));
        assert_eq!(refusals.holding(&key(), "h1", t0).as_deref(), Some("bad"));
        assert_eq!(
            refusals.holding(&key(), "h2", t0),
            None,
            "a new spec is tried"
        );
        let later = t0 + Duration::from_millis(1001);
        assert_eq!(refusals.holding(&key(), "h1", later), None);
        // Refused again with the same message: no news, and the delay doubles (1, 2, 4, 8, 8).
        assert!(!refusals.refused(key(), "h1", "bad".into(), later));
        assert!(
            refusals
                .holding(&key(), "h1", later + Duration::from_millis(1999))
                .is_some()
        );
        assert!(
            refusals
                .holding(&key(), "h1", later + Duration::from_millis(2001))
                .is_none()
        );
        for _ in 0..5 {
            refusals.refused(key(), "h1", "bad".into(), later);
        }
        let retry = refusals.next_retry(&[key()]).unwrap();
        assert_eq!(retry - later, Duration::from_secs(8), "capped");
        refusals.accepted(&key());
        assert_eq!(refusals.next_retry(&[key()]), None);
    }

    #[test]
    fn only_the_answers_about_the_object_itself_are_refusals() {
        let api = |code| {
            kube::Error::Api(
                kube::core::Status::failure("m", "Reason")
                    .with_code(code)
                    .boxed(),
            )
        };
        for code in [400, 403, 422] {
            assert!(is_refusal(&api(code)), "{code}");
        }
        for code in [404, 409, 429, 500, 503] {
            assert!(!is_refusal(&api(code)), "{code}");
        }
    }
}
