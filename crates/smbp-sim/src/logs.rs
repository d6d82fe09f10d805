//! Container logs: the per-container log buffers the simulated kubelet keeps (what a container
//! runtime captures from a container's stdout), and the `pods/log` subresource serving them as
//! kube-apiserver and the kubelet do — `text/plain`, the container chosen by `container` (required
//! when the pod has several), `previous`, `tailLines`, `sinceSeconds`/`sinceTime`, `timestamps`
//! and `limitBytes`, with their validation and error messages (upstream
//! `pkg/registry/core/pod/rest/log.go`, `LogLocation` in `pkg/registry/core/pod/strategy.go`,
//! and the kubelet's `validateContainerLogStatus`).

use crate::error::{ApiError, Cause};
use crate::request::ApiRequest;
use crate::sim::Sim;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;

/// One line a container wrote, with the time the runtime received it.
#[derive(Clone, Debug)]
struct Line {
    at: Timestamp,
    text: String,
}

/// The log of one container of one pod: the running (or last) instance and the instance before.
#[derive(Debug, Default)]
struct ContainerLog {
    current: Vec<Line>,
    previous: Vec<Line>,
}

/// Which instance of a container a line belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Instance {
    /// The instance running now (or the last one, when none was started since).
    Current,
    /// The instance before it: what `previous=true` reads once the container restarted.
    Previous,
}

/// Every container log the simulated kubelets keep, by pod uid and container name (a pod
/// recreated under the same name starts with empty logs, as on a real node).
#[derive(Debug, Default)]
pub struct LogBuffers {
    logs: Mutex<HashMap<(String, String), ContainerLog>>,
}

impl LogBuffers {
    fn with<T>(&self, uid: &str, container: &str, f: impl FnOnce(&mut ContainerLog) -> T) -> T {
        let mut logs = self.logs.lock().unwrap_or_else(|e| e.into_inner());
        f(logs
            .entry((uid.to_string(), container.to_string()))
            .or_default())
    }

    /// Appends a line to an instance of a container's log.
    pub fn append(
        &self,
        uid: &str,
        container: &str,
        instance: Instance,
        at: Timestamp,
        text: &str,
    ) {
        let line = Line {
            at,
            text: text.to_string(),
        };
        self.with(uid, container, |log| match instance {
            Instance::Current => log.current.push(line),
            Instance::Previous => log.previous.push(line),
        });
    }

    /// The container exited and will be restarted: its log becomes the previous instance's, and
    /// the next instance starts with an empty one (the kubelet keeps one terminated instance).
    pub fn restart(&self, uid: &str, container: &str) {
        self.with(uid, container, |log| {
            log.previous = std::mem::take(&mut log.current);
        });
    }

    fn lines(&self, uid: &str, container: &str, instance: Instance) -> Vec<Line> {
        self.with(uid, container, |log| match instance {
            Instance::Current => log.current.clone(),
            Instance::Previous => log.previous.clone(),
        })
    }
}

/// Whether a request is for the `pods/log` subresource.
pub fn is_log_request(request: &ApiRequest) -> bool {
    request.rt.group.is_empty()
        && request.rt.plural == "pods"
        && request.subresource.as_deref() == Some("log")
}

/// The options of a log request (`PodLogOptions`).
#[derive(Debug, Default)]
struct Options {
    container: String,
    previous: bool,
    timestamps: bool,
    tail_lines: Option<i64>,
    limit_bytes: Option<i64>,
    since_seconds: Option<i64>,
    since_time: Option<Timestamp>,
}

impl Options {
    /// Decodes the query as kube-apiserver's parameter codec does: a value that does not
    /// convert is a 400.
    fn parse(request: &ApiRequest) -> Result<Self, ApiError> {
        let int = |key: &str| {
            request
                .param(key)
                .map(|v| {
                    v.parse::<i64>().map_err(|_| {
                        ApiError::bad_request(&format!(
                            "strconv.ParseInt: parsing {v:?}: invalid syntax"
                        ))
                    })
                })
                .transpose()
        };
        let boolean = |key: &str| match request.param(key) {
            None | Some("") => Ok(false),
            Some("1" | "t" | "T" | "true" | "TRUE" | "True") => Ok(true),
            Some("0" | "f" | "F" | "false" | "FALSE" | "False") => Ok(false),
            Some(v) => Err(ApiError::bad_request(&format!(
                "strconv.ParseBool: parsing {v:?}: invalid syntax"
            ))),
        };
        let since_time = request
            .param("sinceTime")
            .map(|v| {
                v.parse::<Timestamp>().map_err(|_| {
                    ApiError::bad_request(&format!(
                        "parsing time {v:?} as \"2006-01-02T15:04:05Z07:00\": cannot parse {v:?} as \"2006\""
                    ))
                })
            })
            .transpose()?;
        Ok(Options {
            container: request.param("container").unwrap_or_default().to_string(),
            previous: boolean("previous")?,
            timestamps: boolean("timestamps")?,
            tail_lines: int("tailLines")?,
            limit_bytes: int("limitBytes")?,
            since_seconds: int("sinceSeconds")?,
            since_time,
        })
    }

    /// `ValidatePodLogOptions`: a 422 naming `PodLogOptions`.
    fn validate(&self, pod: &str) -> Result<(), ApiError> {
        let mut causes = Vec::new();
        if let Some(n) = self.tail_lines.filter(|n| *n < 0) {
            causes.push(Cause::new(
                "FieldValueInvalid",
                "tailLines",
                format!("Invalid value: {n}: must be greater than or equal to 0"),
            ));
        }
        if let Some(n) = self.limit_bytes.filter(|n| *n < 1) {
            causes.push(Cause::new(
                "FieldValueInvalid",
                "limitBytes",
                format!("Invalid value: {n}: must be greater than 0"),
            ));
        }
        if self.since_seconds.is_some() && self.since_time.is_some() {
            causes.push(Cause::new(
                "FieldValueForbidden",
                "",
                "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified",
            ));
        } else if let Some(n) = self.since_seconds.filter(|n| *n < 1) {
            causes.push(Cause::new(
                "FieldValueInvalid",
                "sinceSeconds",
                format!("Invalid value: {n}: must be greater than 0"),
            ));
        }
        if causes.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid_named(
                "PodLogOptions",
                "",
                "PodLogOptions",
                pod,
                &causes,
            ))
        }
    }
}

/// Serves `GET .../pods/{name}/log`: the text of the chosen container instance's log.
pub fn serve(sim: &Sim, request: &ApiRequest) -> Result<String, ApiError> {
    let name = request.name.clone().unwrap_or_default();
    let options = Options::parse(request)?;
    options.validate(&name)?;
    let namespace = request.namespace.clone().unwrap_or_default();
    let pod = sim
        .store()
        .get("/pods", &(namespace, name.clone()))
        .ok_or_else(|| ApiError::not_found(&request.rt, &name))?;
    let container = chosen_container(&pod, &name, &options.container)?;
    if pod
        .pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        // Not bound to a node: kube-apiserver has no kubelet to ask and answers empty.
        return Ok(String::new());
    }
    let instance = instance_to_read(&pod, &name, &container, options.previous)?;
    let uid = pod
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let lines = sim.logs.lines(uid, &container, instance);
    Ok(render(&lines, &options, sim.clock.now()))
}

/// Every container name of the pod: init containers, containers, ephemeral containers.
fn container_names(pod: &Value) -> Vec<String> {
    ["initContainers", "containers", "ephemeralContainers"]
        .iter()
        .filter_map(|list| pod.pointer(&format!("/spec/{list}"))?.as_array())
        .flatten()
        .filter_map(|c| c["name"].as_str().map(String::from))
        .collect()
}

/// `validateContainer`: the named container, or the only one.
fn chosen_container(pod: &Value, name: &str, wanted: &str) -> Result<String, ApiError> {
    let all = container_names(pod);
    if !wanted.is_empty() {
        return if all.iter().any(|c| c == wanted) {
            Ok(wanted.to_string())
        } else {
            Err(ApiError::bad_request(&format!(
                "container {wanted} is not valid for pod {name}"
            )))
        };
    }
    let regular: Vec<&str> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| cs.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    match regular.as_slice() {
        [only] => Ok(only.to_string()),
        [] => Err(ApiError::bad_request(&format!(
            "a container name must be specified for pod {name}"
        ))),
        _ => Err(ApiError::bad_request(&format!(
            "a container name must be specified for pod {name}, choose one of: [{}]",
            all.join(" ")
        ))),
    }
}

/// The kubelet's `validateContainerLogStatus`: which instance the container's status lets be
/// read, or the kubelet's refusal (a 400 through kube-apiserver).
fn instance_to_read(
    pod: &Value,
    name: &str,
    container: &str,
    previous: bool,
) -> Result<Instance, ApiError> {
    let refuse = |why: &str| {
        Err(ApiError::bad_request(&format!(
            "container {container:?} in pod {name:?} {why}"
        )))
    };
    let Some(status) = [
        "containerStatuses",
        "initContainerStatuses",
        "ephemeralContainerStatuses",
    ]
    .iter()
    .filter_map(|list| pod.pointer(&format!("/status/{list}"))?.as_array())
    .flatten()
    .find(|s| s["name"].as_str() == Some(container)) else {
        return refuse("is not available");
    };
    let last_terminated = status
        .pointer("/lastState/terminated/containerID")
        .and_then(Value::as_str)
        .is_some_and(|id| !id.is_empty());
    let state = |s: &str| status.pointer(&format!("/state/{s}")).is_some();
    if previous {
        return if last_terminated {
            Ok(Instance::Previous)
        } else {
            Err(ApiError::bad_request(&format!(
                "previous terminated container {container:?} in pod {name:?} not found"
            )))
        };
    }
    if state("running") || state("terminated") {
        return Ok(Instance::Current);
    }
    if last_terminated {
        // Waiting to restart: the kubelet serves the instance that exited last.
        return Ok(Instance::Previous);
    }
    match status
        .pointer("/state/waiting/reason")
        .and_then(Value::as_str)
    {
        Some(reason) => refuse(&format!("is waiting to start: {reason}")),
        None => refuse("is waiting to start - no logs yet"),
    }
}

/// The lines the options select, as the kubelet writes them: the last `tailLines`, those since
/// `sinceSeconds`/`sinceTime`, each prefixed with its RFC 3339 (nanoseconds) time when
/// `timestamps`, cut after `limitBytes` bytes.
fn render(lines: &[Line], options: &Options, now: Timestamp) -> String {
    let since = options.since_time.or_else(|| {
        options
            .since_seconds
            .map(|s| now - SignedDuration::from_secs(s))
    });
    let tail = options
        .tail_lines
        .map_or(lines.len(), |n| lines.len().min(n as usize));
    let mut out = String::new();
    for line in &lines[lines.len() - tail..] {
        if since.is_some_and(|since| line.at < since) {
            continue;
        }
        if options.timestamps {
            out.push_str(&format!("{} ", line.at));
        }
        out.push_str(&line.text);
        out.push('\n');
    }
    if let Some(limit) = options.limit_bytes {
        let mut bytes = out.into_bytes();
        bytes.truncate(limit as usize);
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    out
}

/// The tests' way to write what a container prints: stands in for the container runtime
/// capturing a container's stdout, which the simulated kubelet (having no processes) cannot do.
/// A test input, like fault injection; lines get the simulated clock's time.
pub struct PodLogs<'a> {
    sim: &'a Sim,
}

impl<'a> PodLogs<'a> {
    pub(crate) fn new(sim: &'a Sim) -> Self {
        PodLogs { sim }
    }

    /// Appends `line` to the log of the running (or last) instance of `container` in pod
    /// `namespace/pod`, which must exist.
    pub fn append(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        line: &str,
    ) -> Result<(), String> {
        self.write(namespace, pod, container, Instance::Current, line)
    }

    /// Appends `line` to the log of the previous instance of `container`: what
    /// `previous=true` reads once the pod's status shows a terminated last instance.
    pub fn append_previous(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        line: &str,
    ) -> Result<(), String> {
        self.write(namespace, pod, container, Instance::Previous, line)
    }

    fn write(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        instance: Instance,
        line: &str,
    ) -> Result<(), String> {
        let object = self
            .sim
            .store()
            .get("/pods", &(namespace.to_string(), pod.to_string()))
            .ok_or_else(|| format!("pods \"{pod}\" not found in {namespace}"))?;
        if !container_names(&object).iter().any(|c| c == container) {
            return Err(format!(
                "pod {namespace}/{pod} has no container {container}"
            ));
        }
        let uid = object
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or_default();
        self.sim
            .logs
            .append(uid, container, instance, self.sim.clock.now(), line);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(now: Timestamp) -> Vec<Line> {
        (0..4)
            .map(|i| Line {
                at: now - SignedDuration::from_secs(30 - i * 10),
                text: format!("line {i}"),
            })
            .collect()
    }

    #[test]
    fn tail_since_timestamps_and_limit_compose_as_the_kubelet_does() {
        let now: Timestamp = "2026-01-02T03:04:05.5Z".parse().unwrap();
        let all = lines(now);
        let plain = render(&all, &Options::default(), now);
        assert_eq!(plain, "line 0\nline 1\nline 2\nline 3\n");
        let tail = Options {
            tail_lines: Some(2),
            ..Options::default()
        };
        assert_eq!(render(&all, &tail, now), "line 2\nline 3\n");
        let since = Options {
            since_seconds: Some(15),
            timestamps: true,
            ..Options::default()
        };
        assert_eq!(
            render(&all, &since, now),
            "2026-01-02T03:03:55.5Z line 2\n2026-01-02T03:04:05.5Z line 3\n"
        );
        let limited = Options {
            limit_bytes: Some(9),
            ..Options::default()
        };
        assert_eq!(render(&all, &limited, now), "line 0\nli");
    }

    #[test]
    fn the_container_status_decides_which_instance_is_read() {
        let pod = |status: Value| serde_json::json!({"status": {"containerStatuses": [status]}});
        let crashed = serde_json::json!({"terminated": {"exitCode": 1, "containerID": "sim://x"}});
        let waiting = pod(serde_json::json!({"name": "app", "lastState": crashed,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}}}));
        assert_eq!(
            instance_to_read(&waiting, "p", "app", false).unwrap(),
            Instance::Previous
        );
        let creating = pod(serde_json::json!({"name": "app", "lastState": {},
            "state": {"waiting": {"reason": "ContainerCreating"}}}));
        let refused = instance_to_read(&creating, "p", "app", false).unwrap_err();
        assert_eq!(
            refused.body["message"],
            "container \"app\" in pod \"p\" is waiting to start: ContainerCreating"
        );
        let refused = instance_to_read(&creating, "p", "other", false).unwrap_err();
        assert_eq!(
            refused.body["message"],
            "container \"other\" in pod \"p\" is not available"
        );
    }
}
