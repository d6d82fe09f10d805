//! The name of every child object of a BigPeer, in one place. A BigPeer's name is at most 40
//! characters (a CRD rule), so every name here fits the 63-character limit of DNS labels, and the
//! longest derived names (`<name>-store-<ordinal>` pods, `<name>-store-<hash>` revisions) too.

/// Names of the children of the BigPeer called `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    name: String,
}

impl Names {
    /// The names of `name`'s children.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
        }
    }

    /// The created service account, when `spec.security.serviceAccount.name` is unset.
    pub fn service_account(&self) -> String {
        self.name.clone()
    }

    /// The rendered configuration ConfigMap.
    pub fn config(&self) -> String {
        format!("{}-config", self.name)
    }

    /// The store StatefulSet, its client Service and its PodDisruptionBudget.
    pub fn store(&self) -> String {
        format!("{}-store", self.name)
    }

    /// The store's headless Service (stable pod DNS names for replication).
    pub fn store_headless(&self) -> String {
        format!("{}-store-headless", self.name)
    }

    /// The sync Deployment, its Service, HPA, Ingress and Gateway route.
    pub fn sync(&self) -> String {
        format!("{}-sync", self.name)
    }

    /// The ConfigMap holding the CA the Gateway verifies the sync pods' certificate with, and
    /// the BackendTLSPolicy naming it (`spec.network.gateway.backendTLS`).
    pub fn backend_ca(&self) -> String {
        format!("{}-sync-ca", self.name)
    }

    /// The Service every pod's metrics port is scraped through.
    pub fn metrics(&self) -> String {
        format!("{}-metrics", self.name)
    }

    /// The cert-manager Certificate and the Secret it fills.
    pub fn certificate(&self) -> String {
        format!("{}-tls", self.name)
    }

    /// The Strimzi KafkaTopic and KafkaUser. `namespace` is the BigPeer's; when the Kafka
    /// cluster lives elsewhere the BigPeer's namespace is part of the name, so two BigPeers of
    /// the same name in different namespaces never share a topic.
    pub fn transaction_log(&self, namespace: &str, kafka_namespace: Option<&str>) -> String {
        match kafka_namespace {
            Some(other) if other != namespace => format!("{namespace}.{}-txlog", self.name),
            _ => format!("{}-txlog", self.name),
        }
    }

    /// The Kafka topic name (inside Kafka, not a Kubernetes name).
    pub fn kafka_topic(&self, namespace: &str) -> String {
        format!("smbp.{namespace}.{}", self.name)
    }

    /// The copy of the KafkaUser's credentials in the BigPeer's namespace, when the Kafka
    /// cluster (and so Strimzi's own Secret) is in another namespace.
    pub fn kafka_credentials(&self) -> String {
        format!("{}-txlog-credentials", self.name)
    }

    /// The ServiceMonitor and PrometheusRule.
    pub fn monitoring(&self) -> String {
        self.name.clone()
    }

    /// The Grafana dashboard ConfigMap.
    pub fn dashboards(&self) -> String {
        format!("{}-dashboards", self.name)
    }

    /// The NetworkPolicy of the store pods.
    pub fn store_network_policy(&self) -> String {
        format!("{}-store", self.name)
    }

    /// The NetworkPolicy of the sync pods.
    pub fn sync_network_policy(&self) -> String {
        format!("{}-sync", self.name)
    }

    /// The migration Job of `phase` (`pre` or `post`) for `version` in the upgrade that follows
    /// `attempt` finished ones: deterministic, so an operator restart finds the Job it started
    /// instead of running the migration again, while every new upgrade or retry gets fresh Jobs.
    /// Fits a DNS label (63 characters) for any version string.
    pub fn migration(&self, phase: &str, version: &str, attempt: u32) -> String {
        let version: String = version
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let retry = if attempt > 0 {
            format!("-r{attempt}")
        } else {
            String::new()
        };
        let name = format!("{}-migrate-{phase}-{version}{retry}", self.name);
        if name.len() <= 63 {
            return name;
        }
        let digest = super::meta::digest(name.as_bytes());
        format!("{}-{}", name[..52].trim_end_matches('-'), &digest[..10])
    }
}
