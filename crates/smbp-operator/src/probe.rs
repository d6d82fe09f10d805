//! Discovery of the optional APIs (cert-manager, Strimzi, Prometheus Operator, Gateway API and
//! those of its kinds that not every release serves at `v1`): probed
//! when first needed and again once the answer is older than the TTL, so a CRD installed after the
//! operator started is picked up without a restart.

use smbp_core::build::OptionalApi;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// The installed optional APIs, cached.
pub struct ApiProbe {
    client: kube::Client,
    ttl: Duration,
    cached: Mutex<Option<(Instant, BTreeSet<OptionalApi>)>>,
}

impl ApiProbe {
    /// A probe whose answers are trusted for `ttl`.
    pub fn new(client: kube::Client, ttl: Duration) -> Self {
        Self {
            client,
            ttl,
            cached: Mutex::new(None),
        }
    }

    /// The optional APIs installed now (as of at most `ttl` ago).
    pub async fn installed(&self) -> Result<BTreeSet<OptionalApi>, kube::Error> {
        let mut cached = self.cached.lock().await;
        if let Some((at, apis)) = cached.as_ref()
            && at.elapsed() < self.ttl
        {
            return Ok(apis.clone());
        }
        let mut served: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
        let mut apis = BTreeSet::new();
        for api in OptionalApi::ALL {
            let group_version = api.group_version();
            if let Entry::Vacant(entry) = served.entry(group_version) {
                entry.insert(self.resources(group_version).await?);
            }
            let resources = &served[&group_version];
            let present = match api.resource() {
                Some(plural) => resources.iter().any(|r| r == plural),
                None => !resources.is_empty(),
            };
            if present {
                apis.insert(api);
            }
        }
        *cached = Some((Instant::now(), apis.clone()));
        Ok(apis)
    }

    /// The resources `group/version` serves; none when the group version is not served.
    async fn resources(&self, (group, version): (&str, &str)) -> Result<Vec<String>, kube::Error> {
        match self
            .client
            .list_api_group_resources(&format!("{group}/{version}"))
            .await
        {
            Ok(list) => Ok(list.resources.into_iter().map(|r| r.name).collect()),
            Err(e) if crate::error::is_not_found(&e) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}
