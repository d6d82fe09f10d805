//! Fault injection for tests: error answers per verb and resource (500, 429 with Retry-After, 409),
//! added latency, dropping every open watch, and expiring watch history (see `SimHandle`).

use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;

/// An injected failure: the next `count` requests matching `verb` and `resource` fail with `code`.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultRule {
    /// Verb to match (`get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`), or None for any.
    pub verb: Option<String>,
    /// Plural resource to match, or None for any.
    pub resource: Option<String>,
    /// 500, 429 or 409.
    pub code: u16,
    /// How many matching requests fail; None for all of them until cleared.
    pub count: Option<u32>,
}

/// The switches, shared by the server and the test's handle.
#[derive(Debug)]
pub struct Faults {
    rules: Mutex<Vec<FaultRule>>,
    latency: Mutex<Duration>,
    /// Bumped to make every open watch end.
    pub(crate) drop_watches: watch::Sender<u64>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            rules: Mutex::new(Vec::new()),
            latency: Mutex::new(Duration::ZERO),
            drop_watches: watch::channel(0).0,
        }
    }
}

impl Faults {
    /// Adds a rule.
    pub fn inject(&self, rule: FaultRule) {
        self.rules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(rule);
    }

    /// Removes every rule and the latency.
    pub fn clear(&self) {
        self.rules.lock().unwrap_or_else(|e| e.into_inner()).clear();
        *self.latency.lock().unwrap_or_else(|e| e.into_inner()) = Duration::ZERO;
    }

    /// Delays every request by `latency`.
    pub fn set_latency(&self, latency: Duration) {
        *self.latency.lock().unwrap_or_else(|e| e.into_inner()) = latency;
    }

    /// The added latency.
    pub fn latency(&self) -> Duration {
        *self.latency.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Ends every open watch stream (clients see the connection end and re-watch).
    pub fn drop_all_watches(&self) {
        self.drop_watches.send_modify(|n| *n += 1);
    }

    /// The code a request must fail with, consuming one use of the matching rule.
    pub fn take(&self, verb: &str, resource: &str) -> Option<u16> {
        let mut rules = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        let index = rules.iter().position(|r| {
            r.verb.as_deref().is_none_or(|v| v == verb)
                && r.resource.as_deref().is_none_or(|p| p == resource)
        })?;
        let code = rules[index].code;
        match &mut rules[index].count {
            Some(1) => {
                rules.remove(index);
            }
            Some(n) => *n -= 1,
            None => {}
        }
        Some(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_rules_run_out() {
        let faults = Faults::default();
        faults.inject(FaultRule {
            verb: Some("create".into()),
            resource: Some("configmaps".into()),
            code: 500,
            count: Some(2),
        });
        assert_eq!(faults.take("get", "configmaps"), None);
        assert_eq!(faults.take("create", "configmaps"), Some(500));
        assert_eq!(faults.take("create", "configmaps"), Some(500));
        assert_eq!(faults.take("create", "configmaps"), None);
    }
}
