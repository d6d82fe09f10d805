//! Helpers for the controller's integration tests: a simulated cluster with the BigPeer CRD, the
//! operator running against it over HTTPS like in production, object access, and polling.

#![allow(dead_code)]

pub mod chart;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use smbp_operator::clock::FnClock;
use smbp_operator::context::{Context, Settings};
use smbp_sim::{SimCluster, SimHandle, SimOptions, ThirdPartyCrds};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// How much faster than real time the simulated cluster runs.
pub const SCALE: f64 = 10.0;
/// How long a test waits for the cluster to settle.
pub const WAIT: Duration = Duration::from_secs(60);

/// A simulated cluster with the operator running against it.
pub struct Env {
    /// The cluster.
    pub sim: SimHandle,
    /// The operator's shared state (counters).
    pub operator: Arc<Context>,
    settings: Settings,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Env {
    /// A full cluster with the given third-party CRDs, the BigPeer CRD, and the operator.
    pub async fn start(crds: ThirdPartyCrds) -> Env {
        Self::start_with(crds, |_| {}).await
    }

    /// Like [`Env::start`], with the operator's settings adjusted by `tune`.
    pub async fn start_with(crds: ThirdPartyCrds, tune: impl FnOnce(&mut Settings)) -> Env {
        let sim = cluster(crds).await;
        let mut settings = test_settings();
        tune(&mut settings);
        let (operator, stop, task) = spawn_operator(&sim, settings.clone()).await;
        Env {
            sim,
            operator,
            settings,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Starts a new operator process (a fresh context: no caches, no memory) after
    /// [`Env::stop_operator`].
    pub async fn start_operator(&mut self) {
        let (operator, stop, task) = spawn_operator(&self.sim, self.settings.clone()).await;
        self.operator = operator;
        self.stop = Some(stop);
        self.task = Some(task);
    }

    /// Stops the operator, waiting for in-flight reconciles.
    pub async fn stop_operator(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// A dynamic API for `kind` (`group/version`, kind, plural) in `namespace` ("" = all).
    pub fn api(
        &self,
        api_version: &str,
        kind: &str,
        plural: &str,
        namespace: &str,
    ) -> Api<DynamicObject> {
        self.sim.dynamic_api(
            api_version,
            kind,
            plural,
            Some(namespace).filter(|n| !n.is_empty()),
        )
    }

    /// The BigPeer API of `namespace`.
    pub fn bigpeers(&self, namespace: &str) -> Api<DynamicObject> {
        bigpeer_api(&self.sim, namespace)
    }

    /// Creates a namespace.
    pub async fn namespace(&self, name: &str) {
        create_namespace(&self.sim, name).await;
    }

    /// Creates a Strimzi Kafka cluster with a TLS listener.
    pub async fn kafka(&self, namespace: &str, name: &str) {
        create_kafka(&self.sim, namespace, name).await;
    }

    /// Creates a self-signed cert-manager Issuer.
    pub async fn issuer(&self, namespace: &str, name: &str) {
        create(&self.api("cert-manager.io/v1", "Issuer", "issuers", namespace), json!({
            "apiVersion": "cert-manager.io/v1", "kind": "Issuer", "metadata": {"name": name}, "spec": {"selfSigned": {}}})).await;
    }

    /// Creates a BigPeer.
    pub async fn create_bigpeer(&self, namespace: &str, name: &str, spec: Value) {
        create(&self.bigpeers(namespace), json!({"apiVersion": "smbp.dev/v1alpha1", "kind": "BigPeer", "metadata": {"name": name}, "spec": spec})).await;
    }

    /// Merge-patches a BigPeer's spec.
    pub async fn patch_spec(&self, namespace: &str, name: &str, spec: Value) {
        self.bigpeers(namespace)
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": spec})),
            )
            .await
            .expect("patch BigPeer");
    }

    /// Waits until the BigPeer's condition `type_` has `status`, returning the condition.
    pub async fn condition(&self, namespace: &str, name: &str, type_: &str, status: &str) -> Value {
        let api = self.bigpeers(namespace);
        let start = Instant::now();
        loop {
            let object =
                serde_json::to_value(api.get(name).await.expect("get BigPeer")).expect("json");
            let generation = object.pointer("/metadata/generation").cloned();
            let found = object
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|c| {
                    c.iter().find(|c| {
                        c["type"] == type_
                            && c["status"] == status
                            && c.get("observedGeneration") == generation.as_ref()
                    })
                })
                .cloned();
            if let Some(condition) = found {
                return condition;
            }
            assert!(
                start.elapsed() < WAIT,
                "timed out waiting for {namespace}/{name} {type_}={status}; status: {:#}",
                object["status"]
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The object, if it exists.
    pub async fn get(&self, api: &Api<DynamicObject>, name: &str) -> Option<Value> {
        api.get_opt(name)
            .await
            .expect("get")
            .map(|o| serde_json::to_value(o).expect("json"))
    }

    /// Write requests the operator made (by its User-Agent) so far.
    pub fn operator_writes(&self) -> u64 {
        self.sim
            .requests()
            .total(|k| k.user_agent.starts_with("smbp-operator") && smbp_sim::is_write(&k.verb))
    }

    /// Write requests the operator made, by verb and resource.
    pub fn operator_writes_by_resource(&self) -> Vec<(String, String, u64)> {
        self.sim
            .requests()
            .snapshot()
            .into_iter()
            .filter(|(k, _)| {
                k.user_agent.starts_with("smbp-operator") && smbp_sim::is_write(&k.verb)
            })
            .map(|(k, n)| (k.verb, k.resource, n))
            .collect()
    }

    /// Waits until the operator has finished `more` reconciles after now.
    pub async fn reconciles(&self, more: u64) {
        let start = self.reconcile_count();
        eventually("reconciles", WAIT, || async {
            (self.reconcile_count() >= start + more).then_some(())
        })
        .await;
    }

    /// Reconciles finished so far.
    pub fn reconcile_count(&self) -> u64 {
        self.operator
            .stats
            .reconciles
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// A full simulated cluster with the given third-party CRDs and the BigPeer CRD, without an
/// operator.
pub async fn cluster(crds: ThirdPartyCrds) -> SimHandle {
    cluster_at(crds, SCALE).await
}

/// Like [`cluster`], with the cluster clock `scale` times faster than real time (1.0 for a
/// process that reads the wall clock, such as the operator binary).
pub async fn cluster_at(crds: ThirdPartyCrds, scale: f64) -> SimHandle {
    let options = SimOptions {
        crds,
        ..SimOptions::full_cluster().with_time_scale(scale)
    };
    let sim = SimCluster::start_with(options)
        .await
        .expect("cluster starts");
    let crd_api: Api<CustomResourceDefinition> = Api::all(sim.client());
    crd_api
        .create(&PostParams::default(), &smbp_api::crd::bigpeer_crd())
        .await
        .expect("BigPeer CRD");
    sim
}

/// Controller settings fast enough for tests.
pub fn test_settings() -> Settings {
    Settings {
        resync: Duration::from_secs(2),
        not_ready_requeue: Duration::from_millis(300),
        backoff: (Duration::from_millis(200), Duration::from_secs(5)),
        probe_ttl: Duration::from_millis(500),
        ..Settings::default()
    }
}

type Running = (
    Arc<Context>,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
);

async fn spawn_operator(sim: &SimHandle, settings: Settings) -> Running {
    let metrics = Arc::new(smbp_operator::metrics::Metrics::new());
    let client = smbp_operator::client::client(Some(sim.kubeconfig_path()), &metrics)
        .await
        .expect("operator client");
    // The operator reads the cluster's (faster) clock, as a real operator and a real cluster
    // share the wall clock: pod Ready times and step deadlines compare.
    let clock = Arc::new(FnClock(sim.clock_reader()));
    let operator = smbp_operator::controller::context(client, settings, clock, metrics).await;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(smbp_operator::controller::run(
        operator.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    (operator, stop, task)
}

/// The BigPeer API of `namespace`.
pub fn bigpeer_api(sim: &SimHandle, namespace: &str) -> Api<DynamicObject> {
    sim.dynamic_api("smbp.dev/v1alpha1", "BigPeer", "bigpeers", Some(namespace))
}

/// Creates a namespace.
pub async fn create_namespace(sim: &SimHandle, name: &str) {
    create(
        &sim.dynamic_api("v1", "Namespace", "namespaces", None),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
    )
    .await;
}

/// Creates a Strimzi Kafka cluster with a TLS listener.
pub async fn create_kafka(sim: &SimHandle, namespace: &str, name: &str) {
    create(&sim.dynamic_api("kafka.strimzi.io/v1", "Kafka", "kafkas", Some(namespace)), json!({
        "apiVersion": "kafka.strimzi.io/v1", "kind": "Kafka", "metadata": {"name": name},
        "spec": {"kafka": {"listeners": [{"name": "tls", "port": 9093, "type": "internal", "tls": true}]}}})).await;
}

/// A loopback port nothing listens on (bound and released at once).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("addr").port()
}

/// Creates an object from JSON.
pub async fn create(api: &Api<DynamicObject>, object: Value) -> Value {
    let object: DynamicObject = serde_json::from_value(object).expect("object shape");
    let created = api
        .create(&PostParams::default(), &object)
        .await
        .expect("create");
    serde_json::to_value(created).expect("json")
}

/// Polls `check` until it returns `Some`, or panics after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A spec with a Strimzi log on `kafka`, cert-manager TLS from Issuer `issuer`, and `extra`
/// merged on top.
pub fn spec(kafka: &str, issuer: Option<&str>, extra: Value) -> Value {
    let mut spec = json!({
        "version": "1.6.1",
        "store": {"replicas": 3, "storage": {"size": "1Gi"}},
        "sync": {"replicas": 2},
        "transactionLog": {"strimzi": {"clusterRef": {"name": kafka}}},
    });
    if let Some(issuer) = issuer {
        spec["tls"] = json!({"certManager": {"issuerRef": {"name": issuer}}});
    }
    merge(&mut spec, &extra);
    spec
}

/// A JSON merge.
pub fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (k, v) in patch {
                if v.is_null() {
                    base.remove(k);
                } else {
                    merge(base.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (base, patch) => *base = patch.clone(),
    }
}
