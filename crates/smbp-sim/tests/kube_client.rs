//! kube-rs against smbp-sim: CRUD on built-ins and a CRD, watches across a forced reconnect and an
//! expired history, a Controller reconciling to completion, server-side apply ownership and
//! conflicts, garbage collection, finalizers, fault injection and request accounting.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::core::{DynamicObject, GroupVersionKind};
use kube::discovery::ApiResource;
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;
use smbp_sim::{FaultRule, SimCluster, SimHandle};
use std::time::Duration;

async fn cluster_with_namespace(namespace: &str) -> SimHandle {
    let cluster = SimCluster::start().await.expect("the sim starts");
    let namespaces: Api<Namespace> = Api::all(cluster.client());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": namespace}})).unwrap(),
        )
        .await
        .unwrap();
    cluster
}

fn config_map(name: &str, data: serde_json::Value) -> ConfigMap {
    serde_json::from_value(
        json!({"metadata": {"name": name, "labels": {"grp": "t"}}, "data": data}),
    )
    .unwrap()
}

fn widget_crd() -> CustomResourceDefinition {
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.ref.example.com"},
        "spec": {"group": "ref.example.com", "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "required": ["size"],
                        "x-kubernetes-validations": [{"rule": "!has(oldSelf.color) || self.color == oldSelf.color", "message": "color is immutable"}],
                        "properties": {
                            "size": {"type": "integer", "minimum": 1, "maximum": 10},
                            "color": {"type": "string", "default": "red"}}},
                    "status": {"type": "object", "properties": {"phase": {"type": "string"}}}}}}}]}}))
    .unwrap()
}

async fn widgets(cluster: &SimHandle, namespace: &str) -> Api<DynamicObject> {
    let crds: Api<CustomResourceDefinition> = Api::all(cluster.client());
    crds.create(&PostParams::default(), &widget_crd())
        .await
        .unwrap();
    let established = kube::runtime::wait::await_condition(
        crds,
        "widgets.ref.example.com",
        kube::runtime::wait::conditions::is_crd_established(),
    );
    tokio::time::timeout(Duration::from_secs(5), established)
        .await
        .unwrap()
        .unwrap();
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("ref.example.com", "v1", "Widget"),
        "widgets",
    );
    Api::namespaced_with(cluster.client(), namespace, &resource)
}

fn widget(name: &str, spec: serde_json::Value) -> DynamicObject {
    serde_json::from_value(json!({"apiVersion": "ref.example.com/v1", "kind": "Widget",
        "metadata": {"name": name}, "spec": spec}))
    .unwrap()
}

#[tokio::test]
async fn crud_on_a_builtin_with_optimistic_concurrency() {
    let cluster = cluster_with_namespace("t").await;
    let api: Api<ConfigMap> = Api::namespaced(cluster.client(), "t");
    let created = api
        .create(&PostParams::default(), &config_map("c", json!({"a": "1"})))
        .await
        .unwrap();
    let stale = created.clone();
    let mut changed = created.clone();
    changed.data = Some([("a".to_string(), "2".to_string())].into());
    let replaced = api
        .replace("c", &PostParams::default(), &changed)
        .await
        .unwrap();
    assert_ne!(
        replaced.metadata.resource_version,
        created.metadata.resource_version
    );
    let error = api
        .replace("c", &PostParams::default(), &stale)
        .await
        .unwrap_err();
    assert!(
        matches!(error, kube::Error::Api(ref s) if s.code == 409 && s.reason == "Conflict"),
        "{error:?}"
    );
    let error = api
        .create(&PostParams::default(), &config_map("c", json!({})))
        .await
        .unwrap_err();
    assert!(
        matches!(error, kube::Error::Api(ref s) if s.code == 409 && s.reason == "AlreadyExists")
    );
    let listed = api
        .list(&ListParams::default().labels("grp=t"))
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    api.delete("c", &DeleteParams::default()).await.unwrap();
    let error = api.get("c").await.unwrap_err();
    assert!(matches!(error, kube::Error::Api(ref s) if s.code == 404));
    cluster.shutdown().await;
}

#[tokio::test]
async fn custom_resources_are_defaulted_validated_and_keep_status_apart() {
    let cluster = cluster_with_namespace("t").await;
    let api = widgets(&cluster, "t").await;
    let created = api
        .create(&PostParams::default(), &widget("w", json!({"size": 3})))
        .await
        .unwrap();
    assert_eq!(
        created.data["spec"]["color"], "red",
        "the schema default applies"
    );
    assert_eq!(created.metadata.generation, Some(1));

    let error = api
        .create(&PostParams::default(), &widget("bad", json!({"size": 11})))
        .await
        .unwrap_err();
    let kube::Error::Api(status) = error else {
        panic!("an API error")
    };
    assert_eq!(status.code, 422);
    assert_eq!(
        status.message,
        "Widget.ref.example.com \"bad\" is invalid: spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10"
    );

    let error = api
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"color": "blue"}})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, kube::Error::Api(ref s) if s.code == 422 && s.message.contains("color is immutable")),
        "{error:?}"
    );

    let status = api
        .patch_status(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Ready"}, "spec": {"size": 9}})),
        )
        .await
        .unwrap();
    assert_eq!(status.data["status"]["phase"], "Ready");
    assert_eq!(status.data["spec"]["size"], 3, "/status ignores spec");
    assert_eq!(
        status.metadata.generation,
        Some(1),
        "a status change does not bump generation"
    );
    let spec = api
        .patch(
            "w",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"size": 4}})),
        )
        .await
        .unwrap();
    assert_eq!(spec.metadata.generation, Some(2));
    cluster.shutdown().await;
}

#[tokio::test]
async fn server_side_apply_tracks_owners_and_conflicts() {
    let cluster = cluster_with_namespace("t").await;
    let api: Api<ConfigMap> = Api::namespaced(cluster.client(), "t");
    let apply = |data: serde_json::Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data});
    api.patch(
        "c",
        &PatchParams::apply("a"),
        &Patch::Apply(apply(json!({"x": "1", "y": "1"}))),
    )
    .await
    .unwrap();
    let error = api
        .patch(
            "c",
            &PatchParams::apply("b"),
            &Patch::Apply(apply(json!({"x": "2"}))),
        )
        .await
        .unwrap_err();
    let kube::Error::Api(status) = error else {
        panic!("an API error")
    };
    assert_eq!(status.code, 409);
    assert_eq!(
        status.message,
        "Apply failed with 1 conflict: conflict with \"a\": .data.x"
    );
    api.patch(
        "c",
        &PatchParams::apply("b").force(),
        &Patch::Apply(apply(json!({"x": "2"}))),
    )
    .await
    .unwrap();
    let after = api
        .patch(
            "c",
            &PatchParams::apply("a"),
            &Patch::Apply(apply(json!({}))),
        )
        .await
        .unwrap();
    assert_eq!(
        after.data,
        Some([("x".to_string(), "2".to_string())].into()),
        "y is dropped by its only owner; x stays with b"
    );
    let again = api
        .patch(
            "c",
            &PatchParams::apply("b"),
            &Patch::Apply(apply(json!({"x": "2"}))),
        )
        .await
        .unwrap();
    assert_eq!(
        again.metadata.resource_version, after.metadata.resource_version,
        "a no-op apply writes nothing"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn finalizers_hold_deletion_and_garbage_collection_follows_owners() {
    let cluster = cluster_with_namespace("t").await;
    let api: Api<ConfigMap> = Api::namespaced(cluster.client(), "t");
    let mut held = config_map("held", json!({}));
    held.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    api.create(&PostParams::default(), &held).await.unwrap();
    api.delete("held", &DeleteParams::default()).await.unwrap();
    let terminating = api.get("held").await.unwrap();
    assert!(terminating.metadata.deletion_timestamp.is_some());
    api.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert!(api.get_opt("held").await.unwrap().is_none());

    let owner = api
        .create(&PostParams::default(), &config_map("owner", json!({})))
        .await
        .unwrap();
    let mut dependent = config_map("dependent", json!({}));
    dependent.metadata.owner_references = Some(vec![serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid.unwrap()}))
    .unwrap()]);
    api.create(&PostParams::default(), &dependent)
        .await
        .unwrap();
    api.delete("owner", &DeleteParams::foreground())
        .await
        .unwrap();
    for _ in 0..50 {
        if api.get_opt("owner").await.unwrap().is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(api.get_opt("owner").await.unwrap().is_none());
    assert!(api.get_opt("dependent").await.unwrap().is_none());
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_watcher_sees_every_change_in_order_across_a_dropped_connection_and_expired_history() {
    let cluster = cluster_with_namespace("t").await;
    let api: Api<ConfigMap> = Api::namespaced(cluster.client(), "t");
    let mut seen = watcher(api.clone(), watcher::Config::default())
        .applied_objects()
        .map_ok(|cm| {
            (
                cm.metadata.name.unwrap(),
                cm.data.unwrap_or_default().get("n").cloned(),
            )
        })
        .boxed();
    api.create(&PostParams::default(), &config_map("c", json!({"n": "0"})))
        .await
        .unwrap();
    assert_eq!(
        seen.try_next().await.unwrap(),
        Some(("c".into(), Some("0".into())))
    );
    for n in 1..=3 {
        if n == 2 {
            cluster.faults().drop_all_watches();
        }
        if n == 3 {
            cluster.faults().drop_all_watches();
            cluster.expire_watch_history();
        }
        api.patch(
            "c",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"n": n.to_string()}})),
        )
        .await
        .unwrap();
        let next = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let item = seen.try_next().await.unwrap().unwrap();
                if item.1 == Some(n.to_string()) {
                    return item;
                }
            }
        })
        .await
        .expect("the change arrives after the reconnect");
        assert_eq!(next, ("c".into(), Some(n.to_string())));
    }
    cluster.shutdown().await;
}

#[tokio::test]
async fn a_controller_reconciles_objects_to_completion() {
    use kube::runtime::controller::{Action, Controller};
    use std::sync::Arc;
    let cluster = cluster_with_namespace("t").await;
    let api: Api<ConfigMap> = Api::namespaced(cluster.client(), "t");
    for i in 0..5 {
        api.create(
            &PostParams::default(),
            &config_map(&format!("c{i}"), json!({})),
        )
        .await
        .unwrap();
    }
    async fn reconcile(
        cm: Arc<ConfigMap>,
        api: Arc<Api<ConfigMap>>,
    ) -> Result<Action, kube::Error> {
        if cm.data.as_ref().and_then(|d| d.get("done")).is_none() {
            let patch = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"done": "yes"}});
            api.patch(
                cm.metadata.name.as_deref().unwrap(),
                &PatchParams::apply("test-controller").force(),
                &Patch::Apply(patch),
            )
            .await?;
        }
        Ok(Action::await_change())
    }
    let controller = Controller::new(api.clone(), watcher::Config::default())
        .run(
            reconcile,
            |_, _, _| Action::requeue(Duration::from_secs(1)),
            Arc::new(api.clone()),
        )
        .for_each(|_| async {});
    let handle = tokio::spawn(controller);
    let done = async {
        loop {
            let list = api.list(&ListParams::default()).await.unwrap();
            if list
                .items
                .iter()
                .all(|c| c.data.as_ref().is_some_and(|d| d.contains_key("done")))
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(15), done)
        .await
        .expect("every object reconciled");
    handle.abort();
    cluster.shutdown().await;
}

#[tokio::test]
async fn injected_faults_and_request_accounting() {
    let cluster = cluster_with_namespace("t").await;
    let api: Api<ConfigMap> = Api::namespaced(cluster.client(), "t");
    cluster.faults().inject(FaultRule {
        verb: Some("create".into()),
        resource: Some("configmaps".into()),
        code: 500,
        count: Some(1),
    });
    let error = api
        .create(&PostParams::default(), &config_map("c", json!({})))
        .await
        .unwrap_err();
    assert!(matches!(error, kube::Error::Api(ref s) if s.code == 500));
    api.create(&PostParams::default(), &config_map("c", json!({})))
        .await
        .unwrap();
    let creates = cluster
        .requests()
        .total(|k| k.verb == "create" && k.resource == "configmaps");
    assert_eq!(creates, 2);
    // kube-rs retries a 429 after its Retry-After: the second attempt succeeds.
    cluster.requests().reset();
    cluster.faults().inject(FaultRule {
        verb: Some("get".into()),
        resource: None,
        code: 429,
        count: Some(1),
    });
    api.get("c").await.unwrap();
    assert_eq!(
        cluster
            .requests()
            .total(|k| k.verb == "get" && k.resource == "configmaps"),
        2
    );
    cluster.requests().reset();
    api.get("c").await.unwrap();
    assert_eq!(cluster.requests().total(|k| smbp_sim::is_write(&k.verb)), 0);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_patches_without_a_resource_version_never_lose_a_race() {
    let cluster = cluster_with_namespace("t").await;
    let api: Api<ConfigMap> = Api::namespaced(cluster.client(), "t");
    api.create(&PostParams::default(), &config_map("shared", json!({})))
        .await
        .unwrap();
    // Many writers patch one object at once; kube-apiserver recomputes each patch on the latest
    // object until it commits, so none of them sees a 409.
    let writers = (0..32).map(|writer| {
        let api = api.clone();
        tokio::spawn(async move {
            for round in 0..8 {
                let patch = json!({"data": {format!("w{writer}-{round}"): "x"}});
                api.patch("shared", &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .map_err(|e| format!("writer {writer} round {round}: {e}"))?;
            }
            Ok::<(), String>(())
        })
    });
    for result in futures::future::join_all(writers).await {
        result.unwrap().unwrap();
    }
    let data = api.get("shared").await.unwrap().data.unwrap_or_default();
    assert_eq!(data.len(), 32 * 8);
}
