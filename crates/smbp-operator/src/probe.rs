//! Discovery of the optional APIs (cert-manager, Strimzi, Prometheus Operator, Gateway API): probed
//! when first needed and again once the answer is older than the TTL, so a CRD installed after the
//! operator started is picked up without a restart.

use smbp_core::build::OptionalApi;
use std::collections::BTreeSet;
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
        let mut apis = BTreeSet::new();
        for api in OptionalApi::ALL {
            let (group, version) = api.group_version();
            match self
                .client
                .list_api_group_resources(&format!("{group}/{version}"))
                .await
            {
                Ok(list) if !list.resources.is_empty() => {
                    apis.insert(api);
                }
                Ok(_) => {}
                Err(e) if crate::error::is_not_found(&e) => {}
                Err(e) => return Err(e),
            }
        }
        *cached = Some((Instant::now(), apis.clone()));
        Ok(apis)
    }
}
