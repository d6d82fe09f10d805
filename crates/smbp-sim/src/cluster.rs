//! Starting and stopping a simulated cluster: an HTTPS listener on loopback with a generated CA,
//! bearer-token authentication, a kubeconfig file carrying both, a ready `kube::Client`, and the
//! background garbage collector. `SimHandle` is what tests hold: client, URL, kubeconfig path,
//! fault switches, request counters, shutdown.

use crate::accounting::Accounting;
use crate::controllers::api::Api;
use crate::controllers::{Controllers, Controls, KubeletTiming, NodePool};
use crate::crds::ThirdPartyCrds;
use crate::faults::Faults;
use crate::router::handle;
use crate::sim::Sim;
use crate::tls::CertificateAuthority;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// What can go wrong when starting a cluster.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listener could not bind.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port asked for.
        port: u16,
        /// The cause.
        source: std::io::Error,
    },
    /// Certificate generation failed.
    #[error("cannot generate the cluster's certificates: {0}")]
    Certificates(String),
    /// The kubeconfig could not be written.
    #[error("cannot write the kubeconfig {path}: {source}")]
    Kubeconfig {
        /// Where.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// kube-rs could not build a client from the kubeconfig.
    #[error("cannot build a client from the kubeconfig: {0}")]
    Client(String),
    /// A feature gate the sim does not know.
    #[error("invalid feature gates: {0}")]
    FeatureGates(String),
    /// An object kube-apiserver creates at start (the system PriorityClasses) was refused.
    #[error("cannot create the built-in objects: {0}")]
    Bootstrap(String),
    /// A vendored third-party CRD was refused.
    #[error("cannot install the third-party CRD {0}")]
    Crd(String),
}

/// How to start a cluster.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Where to write the kubeconfig; None writes it into a private temporary directory.
    pub kubeconfig: Option<PathBuf>,
    /// How many changes watches can replay (older resourceVersions answer 410).
    pub watch_history: usize,
    /// How many times faster than real time the cluster's clock runs (timestamps, pod start-up,
    /// grace periods, minReadySeconds, certificate lifetimes); at least 1.
    pub time_scale: f64,
    /// The simulated controllers that run; none by default (an API server only).
    pub controllers: Controllers,
    /// The third-party CRDs installed at start; none by default.
    pub crds: ThirdPartyCrds,
    /// The simulated nodes (registered when `controllers.nodes` is on).
    pub nodes: NodePool,
    /// How long the simulated kubelet takes.
    pub kubelet: KubeletTiming,
    /// Feature gates of the simulated control plane (Kubernetes' defaults for the version the sim
    /// reports unless set).
    pub feature_gates: crate::features::FeatureGates,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            port: 0,
            kubeconfig: None,
            watch_history: 100_000,
            time_scale: 1.0,
            controllers: Controllers::none(),
            crds: ThirdPartyCrds::none(),
            nodes: NodePool::default(),
            kubelet: KubeletTiming::default(),
            feature_gates: Default::default(),
        }
    }
}

impl SimOptions {
    /// A whole cluster: every controller and every third-party CRD, at real-time speed.
    pub fn full_cluster() -> Self {
        SimOptions {
            controllers: Controllers::all(),
            crds: ThirdPartyCrds::all(),
            ..Self::default()
        }
    }

    /// The same options with a feature gate set, e.g. `("MaxUnavailableStatefulSet", true)`; an
    /// unknown gate makes the start fail.
    pub fn with_feature_gate(mut self, name: &str, enabled: bool) -> Self {
        self.feature_gates.set(name, enabled);
        self
    }

    /// The same options with the clock running `scale` times faster than real time.
    pub fn with_time_scale(mut self, scale: f64) -> Self {
        self.time_scale = scale;
        self
    }
}

/// Starts simulated clusters.
pub struct SimCluster;

impl SimCluster {
    /// Starts a cluster with default options.
    pub async fn start() -> Result<SimHandle, StartError> {
        Self::start_with(SimOptions::default()).await
    }

    /// Starts a cluster.
    pub async fn start_with(options: SimOptions) -> Result<SimHandle, StartError> {
        options
            .feature_gates
            .check()
            .map_err(StartError::FeatureGates)?;
        let ca = CertificateAuthority::new("smbp-sim-ca")
            .map_err(|e| StartError::Certificates(e.to_string()))?;
        let serving = ca
            .issue(&["localhost".to_string(), "127.0.0.1".to_string()], 365)
            .map_err(|e| StartError::Certificates(e.to_string()))?;
        let tls = serving
            .server_config()
            .map_err(|e| StartError::Certificates(e.to_string()))?;
        let listener = TcpListener::bind(("127.0.0.1", options.port))
            .await
            .map_err(|source| StartError::Bind {
                port: options.port,
                source,
            })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartError::Bind {
                port: options.port,
                source,
            })?
            .port();
        let url = format!("https://127.0.0.1:{port}");
        let token = uuid::Uuid::new_v4().simple().to_string();

        let (kubeconfig, private_dir) = match options.kubeconfig {
            Some(path) => (path, None),
            None => {
                let dir = std::env::temp_dir()
                    .join(format!("smbp-sim-{}", uuid::Uuid::new_v4().simple()));
                std::fs::create_dir_all(&dir).map_err(|source| StartError::Kubeconfig {
                    path: dir.clone(),
                    source,
                })?;
                (dir.join("kubeconfig"), Some(dir))
            }
        };
        std::fs::write(&kubeconfig, kubeconfig_yaml(&url, &ca.cert_pem(), &token)).map_err(
            |source| StartError::Kubeconfig {
                path: kubeconfig.clone(),
                source,
            },
        )?;

        let mut sim = Sim::new(options.watch_history, options.time_scale);
        sim.gates = options.feature_gates.clone();
        let sim = Arc::new(sim);
        sim.tokens.add_admin(&token);
        let gc = tokio::spawn(crate::gc::run(sim.clone()));
        let setup = Api::new(sim.clone(), "smbp-sim/v1");
        // The namespaces kube-apiserver creates at start.
        for namespace in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let object = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
            let _ = setup
                .create(crate::controllers::api::gvr::NAMESPACES, "", &object)
                .await;
        }
        crate::priority::install(&setup)
            .await
            .map_err(|e| StartError::Bootstrap(e.body.to_string()))?;
        crate::crds::install(&setup, &options.crds)
            .await
            .map_err(StartError::Crd)?;
        let mut tasks = vec![gc];
        tasks.extend(
            crate::controllers::start(&sim, &options.controllers, &options.nodes, &options.kubelet)
                .await,
        );
        let (stop, stopped) = oneshot::channel();
        let server = tokio::spawn(serve(listener, tls, sim.clone(), stopped));
        let client = client_from(&kubeconfig).await.map_err(StartError::Client)?;
        Ok(SimHandle {
            sim,
            url,
            kubeconfig,
            private_dir,
            ca,
            client,
            stop: Some(stop),
            tasks: {
                tasks.push(server);
                tasks
            },
        })
    }
}

/// A running cluster. Dropping it stops the server.
pub struct SimHandle {
    sim: Arc<Sim>,
    url: String,
    kubeconfig: PathBuf,
    private_dir: Option<PathBuf>,
    ca: CertificateAuthority,
    client: kube::Client,
    stop: Option<oneshot::Sender<()>>,
    tasks: Vec<JoinHandle<()>>,
}

impl SimHandle {
    /// A kube-rs client for the cluster (cheap to clone).
    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    /// A kube-rs API for any kind, named by `apiVersion` (`v1`, `apps/v1`), kind and plural, in
    /// `namespace`; `None` for all namespaces or a cluster-scoped kind.
    pub fn dynamic_api(
        &self,
        api_version: &str,
        kind: &str,
        plural: &str,
        namespace: Option<&str>,
    ) -> kube::Api<kube::api::DynamicObject> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let resource = kube::api::ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk(group, version, kind),
            plural,
        );
        match namespace {
            Some(ns) => kube::Api::namespaced_with(self.client.clone(), ns, &resource),
            None => kube::Api::all_with(self.client.clone(), &resource),
        }
    }

    /// The API server's URL, `https://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.url
    }

    /// The kubeconfig file (CA and bearer token included).
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// A kubeconfig authenticating as the ServiceAccount `namespace/name` (which must exist),
    /// with a token from the TokenRequest API valid for a simulated year; it stops working
    /// when the ServiceAccount is deleted. Written beside the cluster's kubeconfig.
    pub fn kubeconfig_for_service_account(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<PathBuf, String> {
        let account = self
            .sim
            .store()
            .get(
                "/serviceaccounts",
                &(namespace.to_string(), name.to_string()),
            )
            .ok_or_else(|| format!("serviceaccounts \"{name}\" not found in {namespace}"))?;
        let (token, _) = self.sim.tokens.issue(&self.sim, &account, 365 * 86_400);
        let path = self
            .kubeconfig
            .with_file_name(format!("kubeconfig-sa-{namespace}-{name}"));
        std::fs::write(
            &path,
            kubeconfig_yaml(&self.url, &self.ca.cert_pem(), &token),
        )
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    }

    /// A kube-rs client authenticating as the ServiceAccount `namespace/name` (see
    /// [`SimHandle::kubeconfig_for_service_account`]): RBAC decides what it may do.
    pub async fn client_for_service_account(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<kube::Client, String> {
        client_from(&self.kubeconfig_for_service_account(namespace, name)?).await
    }

    /// The cluster CA, which can also sign certificates for test servers (webhooks).
    pub fn ca(&self) -> &CertificateAuthority {
        &self.ca
    }

    /// Fault-injection switches.
    pub fn faults(&self) -> &Faults {
        &self.sim.faults
    }

    /// The containers' logs, for a test to write what a container prints (see [`PodLogs`]);
    /// clients read them through the `pods/log` subresource.
    pub fn pod_logs(&self) -> crate::PodLogs<'_> {
        crate::PodLogs::new(&self.sim)
    }

    /// Request counters.
    pub fn requests(&self) -> &Accounting {
        &self.sim.accounting
    }

    /// Forgets the watch history: watches from any earlier resourceVersion get 410 Gone.
    pub fn expire_watch_history(&self) {
        self.sim.store().expire_history();
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.sim.store().resource_version()
    }

    /// The switches that steer the simulated controllers (image behaviours, CPU figures).
    pub fn controls(&self) -> &Controls {
        &self.sim.controls
    }

    /// The cluster's current (simulated) time.
    pub fn now(&self) -> jiff::Timestamp {
        self.sim.clock.now()
    }

    /// A function reading the cluster's clock, for a process that must share the cluster's
    /// notion of time (an operator comparing pod timestamps with now, as on a real cluster where
    /// both read the wall clock).
    pub fn clock_reader(&self) -> impl Fn() -> jiff::Timestamp + Send + Sync + 'static {
        let sim = self.sim.clone();
        move || sim.clock.now()
    }

    /// How many times faster than real time the cluster's clock runs.
    pub fn time_scale(&self) -> f64 {
        self.sim.clock.scale()
    }

    /// The real time a simulated duration takes.
    pub fn real_duration(&self, simulated: std::time::Duration) -> std::time::Duration {
        self.sim.clock.real(simulated)
    }

    /// Marks a simulated node Ready or NotReady (tainted `node.kubernetes.io/unreachable`), as
    /// a node that stops reporting would be; its pods lose readiness.
    pub async fn set_node_ready(&self, node: &str, ready: bool) -> Result<(), String> {
        let api = Api::new(self.sim.clone(), "smbp-sim/v1");
        crate::controllers::set_node_ready(&api, node, ready)
            .await
            .map_err(|e| {
                e.body["message"]
                    .as_str()
                    .unwrap_or("node update failed")
                    .to_string()
            })
    }

    /// Installs third-party CRDs after start (for tests where an API appears later).
    pub async fn install_crds(&self, crds: &ThirdPartyCrds) -> Result<(), String> {
        crate::crds::install(&Api::new(self.sim.clone(), "smbp-sim/v1"), crds).await
    }

    /// Stops serving and waits for the server to end.
    pub async fn shutdown(mut self) {
        self.stop_now();
        for task in self.tasks.drain(..) {
            task.abort();
            let _ = task.await;
        }
    }

    fn stop_now(&mut self) {
        self.sim.faults.drop_all_watches();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.stop_now();
        for task in &self.tasks {
            task.abort();
        }
        if let Some(dir) = &self.private_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A kubeconfig with one cluster, user and context named `smbp-sim`.
fn kubeconfig_yaml(url: &str, ca_pem: &str, token: &str) -> String {
    use base64::Engine;
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: smbp-sim\n  cluster:\n    server: {url}\n    certificate-authority-data: {ca}\nusers:\n- name: smbp-sim\n  user:\n    token: {token}\ncontexts:\n- name: smbp-sim\n  context:\n    cluster: smbp-sim\n    user: smbp-sim\n    namespace: default\ncurrent-context: smbp-sim\n"
    )
}

/// A kube-rs client from a kubeconfig file.
async fn client_from(kubeconfig: &Path) -> Result<kube::Client, String> {
    let config = kube::config::Kubeconfig::read_from(kubeconfig).map_err(|e| e.to_string())?;
    let config =
        kube::Config::from_custom_kubeconfig(config, &kube::config::KubeConfigOptions::default())
            .await
            .map_err(|e| e.to_string())?;
    kube::Client::try_from(config).map_err(|e| e.to_string())
}

/// Accepts TLS connections until stopped; every request goes to the router, which
/// authenticates and authorizes it.
async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    sim: Arc<Sim>,
    mut stopped: oneshot::Receiver<()>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut stopped => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        let acceptor = acceptor.clone();
        let sim = sim.clone();
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(stream).await else {
                return;
            };
            let service =
                hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                    handle(sim.clone(), request)
                });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
