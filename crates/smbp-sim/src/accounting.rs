//! Request accounting: how many requests the server answered, by verb, resource and the client's
//! User-Agent, and how many it refused with 403, by user. Tests read it to prove, for example,
//! that a reconcile of an unchanged object writes nothing, or that a ServiceAccount's RBAC rules
//! are enough (no 403 for it).

use std::collections::BTreeMap;
use std::sync::Mutex;

/// The key requests are counted under.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestKey {
    /// Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection.
    pub verb: String,
    /// Plural resource (with `/subresource`), or the path for non-resource requests.
    pub resource: String,
    /// The client's User-Agent header (empty when absent).
    pub user_agent: String,
}

/// The key refused (403) requests are counted under.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Denial {
    /// The user name, e.g. `system:serviceaccount:ns:sa` or `system:anonymous`.
    pub user: String,
    /// The verb as authorized (`list`, `watch`, ...; the lower-cased method for paths).
    pub verb: String,
    /// Plural resource (with `/subresource`), or the path for non-resource requests.
    pub resource: String,
}

/// The counters.
#[derive(Debug, Default)]
pub struct Accounting {
    counts: Mutex<BTreeMap<RequestKey, u64>>,
    denials: Mutex<BTreeMap<Denial, u64>>,
}

impl Accounting {
    /// Counts one request.
    pub fn record(&self, verb: &str, resource: &str, user_agent: &str) {
        let key = RequestKey {
            verb: verb.into(),
            resource: resource.into(),
            user_agent: user_agent.into(),
        };
        *self
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default() += 1;
    }

    /// Counts one 403 answer.
    pub fn record_forbidden(&self, user: &str, verb: &str, resource: &str) {
        let key = Denial {
            user: user.into(),
            verb: verb.into(),
            resource: resource.into(),
        };
        *self
            .denials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default() += 1;
    }

    /// A copy of every 403 counter.
    pub fn forbidden(&self) -> BTreeMap<Denial, u64> {
        self.denials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// How many 403 answers went to `user`.
    pub fn forbidden_for(&self, user: &str) -> u64 {
        self.forbidden()
            .iter()
            .filter(|(k, _)| k.user == user)
            .map(|(_, n)| n)
            .sum()
    }

    /// A copy of every counter.
    pub fn snapshot(&self) -> BTreeMap<RequestKey, u64> {
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The sum of the counters that `filter` selects.
    pub fn total(&self, filter: impl Fn(&RequestKey) -> bool) -> u64 {
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(k, _)| filter(k))
            .map(|(_, n)| n)
            .sum()
    }

    /// Forgets every count.
    pub fn reset(&self) {
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.denials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// Whether a verb changes state.
pub fn is_write(verb: &str) -> bool {
    matches!(
        verb,
        "create" | "update" | "patch" | "delete" | "deletecollection"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_filter_by_key() {
        let accounting = Accounting::default();
        accounting.record("get", "configmaps", "op");
        accounting.record("patch", "configmaps", "op");
        accounting.record("patch", "configmaps", "op");
        assert_eq!(accounting.total(|k| is_write(&k.verb)), 2);
        accounting.record_forbidden("u", "list", "pods");
        accounting.record_forbidden("u", "get", "/metrics");
        accounting.record_forbidden("v", "list", "pods");
        assert_eq!(accounting.forbidden_for("u"), 2);
        accounting.reset();
        assert_eq!(accounting.total(|_| true), 0);
        assert_eq!(accounting.forbidden_for("u"), 0);
    }
}
