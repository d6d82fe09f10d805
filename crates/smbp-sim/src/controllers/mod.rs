//! The simulated cluster's controllers: what kube-controller-manager, kube-scheduler, the kubelets,
//! a storage provisioner, a cloud load balancer, an ingress and a Gateway API implementation,
//! cert-manager and Strimzi would do. Each is its own module, switched on or off by
//! [`Controllers`]; they talk to the API server in-process (see `api`), under their real field
//! manager names, and read delays from the simulated clock so a run can go faster than real time.
//! Tests steer them through [`Controls`] (image behaviours, CPU figures).

pub mod api;
mod certmanager;
mod deployment;
mod disruption;
mod endpoints;
mod events;
mod exposure;
mod gateway;
mod hpa;
mod job;
mod kubelet;
mod nodes;
pub mod runtime;
mod scheduler;
mod statefulset;
mod storage;
mod strimzi;
pub mod util;

use crate::sim::Sim;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

pub use nodes::{NodePool, set_ready as set_node_ready};

/// Which simulated controllers run. [`Controllers::all`] is a whole cluster;
/// [`Controllers::none`] (the default) is a bare API server, like envtest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Controllers {
    /// Registers the simulated nodes and keeps their status.
    pub nodes: bool,
    /// Binds pods to Ready nodes.
    pub scheduler: bool,
    /// Runs bound pods: phases, readiness, restarts, graceful termination.
    pub kubelet: bool,
    /// StatefulSets and their ControllerRevisions and PVCs.
    pub statefulsets: bool,
    /// Deployments and ReplicaSets.
    pub deployments: bool,
    /// Jobs.
    pub jobs: bool,
    /// HorizontalPodAutoscalers, from the CPU figures in [`Controls`].
    pub autoscaling: bool,
    /// PodDisruptionBudget status (the eviction subresource reads it).
    pub disruption: bool,
    /// The default StorageClass, PV provisioning, binding and expansion.
    pub storage: bool,
    /// EndpointSlices for Services.
    pub endpoints: bool,
    /// LoadBalancer Service addresses, Ingress addresses and Gateway API status.
    pub exposure: bool,
    /// cert-manager: Issuers, ClusterIssuers and Certificates.
    pub cert_manager: bool,
    /// Strimzi: Kafka, KafkaTopic and KafkaUser.
    pub strimzi: bool,
}

impl Controllers {
    /// No controllers: an API server only.
    pub fn none() -> Self {
        Self::default()
    }

    /// Every controller.
    pub fn all() -> Self {
        Controllers {
            nodes: true,
            scheduler: true,
            kubelet: true,
            statefulsets: true,
            deployments: true,
            jobs: true,
            autoscaling: true,
            disruption: true,
            storage: true,
            endpoints: true,
            exposure: true,
            cert_manager: true,
            strimzi: true,
        }
    }
}

/// How long the simulated kubelet takes, in simulated time.
#[derive(Clone, Debug, PartialEq)]
pub struct KubeletTiming {
    /// From binding to the containers running (image pull and start).
    pub start: Duration,
    /// From running to Ready, after the readiness probe's `initialDelaySeconds`.
    pub ready: Duration,
    /// How long containers take to stop after a deletion (capped by the grace period).
    pub stop: Duration,
    /// How long a run-to-completion container (restartPolicy Never/OnFailure) runs.
    pub run: Duration,
    /// The first crash-loop back-off; it doubles per restart up to five minutes.
    pub crash_backoff: Duration,
}

impl Default for KubeletTiming {
    fn default() -> Self {
        KubeletTiming {
            start: Duration::from_millis(500),
            ready: Duration::from_millis(500),
            stop: Duration::from_millis(500),
            run: Duration::from_secs(1),
            crash_backoff: Duration::from_secs(10),
        }
    }
}

/// How containers of an image behave, set by a test.
#[derive(Clone, Debug, PartialEq)]
pub enum ImageBehaviour {
    /// The container exits with code 1 right after starting; the kubelet restarts it with a
    /// back-off (CrashLoopBackOff) and the pod never becomes Ready.
    CrashLoop,
    /// The container runs, but its readiness probe never passes.
    NeverReady,
    /// The readiness probe passes only this long (simulated) after the container started.
    ReadyAfter(Duration),
    /// The container exits with `code` after running `after` (simulated); for pods that restart
    /// (restartPolicy Always) a non-zero code is a crash loop.
    Exit {
        /// The exit code.
        code: i32,
        /// How long it runs first.
        after: Duration,
    },
}

/// Which containers of an image a behaviour applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageScope {
    /// Every container of the image.
    All,
    /// Only containers of pods that restart (`restartPolicy: Always`): servers.
    Servers,
    /// Only containers of run-to-completion pods (`Never`/`OnFailure`): Jobs.
    RunToCompletion,
}

/// The switches a test turns to steer the simulated controllers.
#[derive(Debug, Default)]
pub struct Controls {
    images: Mutex<Vec<(String, ImageScope, ImageBehaviour)>>,
    cpu: Mutex<HashMap<(String, String, String), u32>>,
}

impl Controls {
    /// Containers whose image contains `pattern` behave as said (the first matching rule wins;
    /// a rule for the same pattern and scope is replaced).
    pub fn set_image_behaviour(&self, pattern: &str, behaviour: ImageBehaviour) {
        self.set_image_behaviour_in(pattern, ImageScope::All, behaviour);
    }

    /// Like [`Controls::set_image_behaviour`], for only the containers in `scope`: an image
    /// whose server crashes while its migration command works, or the other way round.
    pub fn set_image_behaviour_in(
        &self,
        pattern: &str,
        scope: ImageScope,
        behaviour: ImageBehaviour,
    ) {
        let mut images = self.images.lock().unwrap_or_else(|e| e.into_inner());
        images.retain(|(p, s, _)| !(p == pattern && *s == scope));
        images.push((pattern.to_string(), scope, behaviour));
    }

    /// Forgets every image rule.
    pub fn clear_image_behaviours(&self) {
        self.images
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// The behaviour of an image in a pod that runs to completion or not, when a rule matches.
    pub fn image_behaviour(&self, image: &str, run_to_completion: bool) -> Option<ImageBehaviour> {
        self.images
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(pattern, scope, _)| {
                image.contains(pattern.as_str())
                    && match scope {
                        ImageScope::All => true,
                        ImageScope::Servers => !run_to_completion,
                        ImageScope::RunToCompletion => run_to_completion,
                    }
            })
            .map(|(_, _, b)| b.clone())
    }

    /// The CPU utilisation (percent of requests) the pods of a scale target report to the HPA.
    pub fn set_cpu_utilisation(&self, namespace: &str, kind: &str, name: &str, percent: u32) {
        self.cpu
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((namespace.into(), kind.into(), name.into()), percent);
    }

    /// The CPU utilisation set for a scale target.
    pub fn cpu_utilisation(&self, namespace: &str, kind: &str, name: &str) -> Option<u32> {
        self.cpu
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(namespace.to_string(), kind.to_string(), name.to_string()))
            .copied()
    }
}

/// The field managers / user agents the controllers write as.
mod agents {
    pub const CONTROLLER_MANAGER: &str =
        "kube-controller-manager/v1.36.2 (linux/amd64) kubernetes/smbp-sim";
    pub const SCHEDULER: &str = "kube-scheduler/v1.36.2 (linux/amd64) kubernetes/smbp-sim";
    pub const KUBELET: &str = "kubelet/v1.36.2 (linux/amd64) kubernetes/smbp-sim";
    pub const CLOUD: &str = "cloud-controller-manager/v1.36.2 (linux/amd64) kubernetes/smbp-sim";
    pub const EXPOSURE: &str = "smbp-sim-ingress-gateway/v1";
    pub const CERT_MANAGER: &str = "cert-manager-certificates-issuing/v1.19";
    pub const STRIMZI: &str = "strimzi-cluster-operator/0.49";
}

/// Starts the chosen controllers.
pub(crate) async fn start(
    sim: &Arc<Sim>,
    controllers: &Controllers,
    pool: &NodePool,
    timing: &KubeletTiming,
) -> Vec<JoinHandle<()>> {
    use runtime::run;
    let mut tasks = Vec::new();
    let api = |agent| api::Api::new(sim.clone(), agent);
    if controllers.nodes {
        nodes::register(&api(agents::KUBELET), pool).await;
    }
    if controllers.storage {
        storage::install_default_class(&api(agents::CONTROLLER_MANAGER)).await;
        tasks.push(tokio::spawn(run(
            sim.clone(),
            storage::Storage::new(api(agents::CONTROLLER_MANAGER)),
        )));
    }
    if controllers.kubelet {
        sim.kubelet_running
            .store(true, std::sync::atomic::Ordering::Relaxed);
        tasks.push(tokio::spawn(run(
            sim.clone(),
            kubelet::Kubelet::new(api(agents::KUBELET), timing.clone()),
        )));
    }
    if controllers.scheduler {
        tasks.push(tokio::spawn(run(
            sim.clone(),
            scheduler::Scheduler::new(api(agents::SCHEDULER)),
        )));
    }
    if controllers.statefulsets {
        tasks.push(tokio::spawn(run(
            sim.clone(),
            statefulset::StatefulSets::new(api(agents::CONTROLLER_MANAGER)),
        )));
    }
    if controllers.deployments {
        tasks.push(tokio::spawn(run(
            sim.clone(),
            deployment::Deployments::new(api(agents::CONTROLLER_MANAGER)),
        )));
        tasks.push(tokio::spawn(run(
            sim.clone(),
            deployment::ReplicaSets::new(api(agents::CONTROLLER_MANAGER)),
        )));
    }
    if controllers.jobs {
        tasks.push(tokio::spawn(run(
            sim.clone(),
            job::Jobs::new(api(agents::CONTROLLER_MANAGER)),
        )));
    }
    if controllers.autoscaling {
        tasks.push(tokio::spawn(run(
            sim.clone(),
            hpa::Autoscalers::new(api(agents::CONTROLLER_MANAGER)),
        )));
    }
    if controllers.disruption {
        tasks.push(tokio::spawn(run(
            sim.clone(),
            disruption::Disruption::new(api(agents::CONTROLLER_MANAGER)),
        )));
    }
    if controllers.endpoints {
        tasks.push(tokio::spawn(run(
            sim.clone(),
            endpoints::EndpointSlices::new(api(agents::CONTROLLER_MANAGER)),
        )));
    }
    if controllers.exposure {
        tasks.push(tokio::spawn(run(
            sim.clone(),
            exposure::LoadBalancers::new(api(agents::CLOUD)),
        )));
        tasks.push(tokio::spawn(run(
            sim.clone(),
            exposure::Routes::new(api(agents::EXPOSURE)),
        )));
    }
    if controllers.cert_manager {
        tasks.push(tokio::spawn(run(
            sim.clone(),
            certmanager::CertManager::new(api(agents::CERT_MANAGER)),
        )));
    }
    if controllers.strimzi {
        tasks.push(tokio::spawn(run(
            sim.clone(),
            strimzi::Strimzi::new(api(agents::STRIMZI)),
        )));
    }
    tasks
}
