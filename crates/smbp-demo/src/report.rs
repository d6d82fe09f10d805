//! What the demo prints: each step with the elapsed time, the BigPeer's progress as its status
//! changes, and the final tables (the `kubectl get` columns, conditions, endpoints, children).

use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;
use smbp_sim::SimHandle;
use std::time::{Duration, Instant};

/// Prints one step.
pub fn step(started: Instant, text: &str) {
    println!("[{:>6.2}s] {text}", started.elapsed().as_secs_f64());
}

fn condition<'a>(status: &'a Value, type_: &str) -> Option<&'a Value> {
    status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

/// Follows the BigPeer until it is Ready, printing each change of phase, replica counts and
/// conditions, and the operator's Events as they appear. Errors after `timeout`.
pub async fn follow(
    sim: &SimHandle,
    bigpeers: &Api<DynamicObject>,
    name: &str,
    started: Instant,
    timeout: Duration,
) -> Result<(), String> {
    let mut last_line = String::new();
    let mut seen_conditions: Vec<(String, String, String)> = Vec::new();
    let mut seen_events = std::collections::BTreeSet::new();
    let events = Api::<k8s_openapi::api::events::v1::Event>::namespaced(
        sim.client(),
        bigpeers.namespace().unwrap_or("default"),
    );
    loop {
        let object = serde_json::to_value(bigpeers.get(name).await.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        let status = &object["status"];
        let line = format!(
            "phase {}, store {}/{} ready, sync {}/{} available",
            status["phase"].as_str().unwrap_or("-"),
            status["store"]["readyReplicas"],
            status["store"]["replicas"],
            status["sync"]["readyReplicas"],
            status["sync"]["replicas"],
        );
        if line != last_line && status.get("phase").is_some() {
            step(started, &line);
            last_line = line;
        }
        for c in status["conditions"].as_array().into_iter().flatten() {
            let key = (
                c["type"].as_str().unwrap_or("").to_string(),
                c["status"].as_str().unwrap_or("").to_string(),
                c["reason"].as_str().unwrap_or("").to_string(),
            );
            if !seen_conditions.contains(&key) {
                step(
                    started,
                    &format!(
                        "  condition {}={} ({}): {}",
                        key.0,
                        key.1,
                        key.2,
                        c["message"].as_str().unwrap_or("")
                    ),
                );
                seen_conditions.retain(|k| k.0 != key.0);
                seen_conditions.push(key);
            }
        }
        if let Ok(list) = events.list(&ListParams::default()).await {
            for event in list.items {
                let id = event.metadata.name.clone().unwrap_or_default();
                let about = event.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name);
                if about && seen_events.insert(id) {
                    step(
                        started,
                        &format!(
                            "  event {} {}: {}",
                            event.type_.as_deref().unwrap_or(""),
                            event.reason.as_deref().unwrap_or(""),
                            event.note.as_deref().unwrap_or("")
                        ),
                    );
                }
            }
        }
        let ready = condition(status, "Ready").is_some_and(|c| c["status"] == "True");
        if ready && status["observedGeneration"] == object["metadata"]["generation"] {
            step(started, &format!("BigPeer {name} is Ready"));
            return Ok(());
        }
        if started.elapsed() > timeout {
            return Err(format!(
                "BigPeer {name} was not Ready after {}s",
                timeout.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Prints the final tables.
pub async fn summary(
    sim: &SimHandle,
    bigpeers: &Api<DynamicObject>,
    name: &str,
    namespace: &str,
) -> Result<(), String> {
    let object = serde_json::to_value(bigpeers.get(name).await.map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let status = &object["status"];
    println!("\n$ kubectl get bigpeers -n {namespace}");
    println!(
        "{:<12} {:<9} {:<7} {:<10}",
        "NAME", "VERSION", "READY", "PHASE"
    );
    println!(
        "{:<12} {:<9} {:<7} {:<10}",
        name,
        status["version"]["current"].as_str().unwrap_or("<none>"),
        condition(status, "Ready")
            .and_then(|c| c["status"].as_str())
            .unwrap_or("<none>"),
        status["phase"].as_str().unwrap_or("<none>"),
    );
    println!("\nConditions:");
    println!("  {:<20} {:<7} {:<24} MESSAGE", "TYPE", "STATUS", "REASON");
    for c in status["conditions"].as_array().into_iter().flatten() {
        println!(
            "  {:<20} {:<7} {:<24} {}",
            c["type"].as_str().unwrap_or(""),
            c["status"].as_str().unwrap_or(""),
            c["reason"].as_str().unwrap_or(""),
            c["message"].as_str().unwrap_or("")
        );
    }
    println!("\nEndpoints:");
    println!(
        "  in cluster: {}",
        status["endpoints"]["service"].as_str().unwrap_or("-")
    );
    for e in status["endpoints"]["external"]
        .as_array()
        .into_iter()
        .flatten()
    {
        println!(
            "  {}: {}",
            e["source"].as_str().unwrap_or(""),
            e["address"].as_str().unwrap_or("")
        );
    }
    println!(
        "  image: {}",
        status["version"]["image"].as_str().unwrap_or("-")
    );
    println!("\nChildren (label app.kubernetes.io/instance={name}):");
    let selector =
        format!("app.kubernetes.io/instance={name},app.kubernetes.io/managed-by=smbp-operator");
    for kind in smbp_core_kinds() {
        let resource = kind.api_resource();
        for ns in [namespace, "kafka"] {
            let api: Api<DynamicObject> = Api::namespaced_with(sim.client(), ns, &resource);
            if let Ok(list) = api.list(&ListParams::default().labels(&selector)).await {
                for item in list.items {
                    println!(
                        "  {:<24} {}/{}",
                        resource.kind,
                        ns,
                        item.metadata.name.unwrap_or_default()
                    );
                }
            }
            if ns == namespace && !matches!(resource.kind.as_str(), "KafkaTopic" | "KafkaUser") {
                break;
            }
        }
    }
    Ok(())
}

fn smbp_core_kinds() -> impl Iterator<Item = smbp_core::build::ChildKind> {
    smbp_core::build::ChildKind::ALL.into_iter()
}
