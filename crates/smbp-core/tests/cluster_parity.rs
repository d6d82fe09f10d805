//! Apply-time validation parity, as a property: any spec that `ValidatedBigPeer::new` admits
//! (`validate` and the merged pod templates: what the admission webhook and the reconciler enforce) builds children that an API server with
//! kube-apiserver's built-in validation accepts — smbp-sim, server-side applied with
//! `dryRun=All`. A child the cluster would refuse for a spec the webhook let through is a
//! validation rule missing from `smbp_core::validation`.

mod support;

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use proptest::prelude::*;
use smbp_api::v1alpha1::{BigPeer, BigPeerSpec};
use smbp_core::build::{Observed, Rollout, ValidatedBigPeer, build};
use smbp_core::catalogue;
use smbp_sim::{SimCluster, SimHandle, SimOptions, ThirdPartyCrds};
use std::sync::OnceLock;
use support::embedded::spec_with_embedded_fields;

/// One simulated API server (no controllers) with the third-party CRDs, shared by every case.
fn cluster() -> &'static (tokio::runtime::Runtime, SimHandle) {
    static CLUSTER: OnceLock<(tokio::runtime::Runtime, SimHandle)> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let options = SimOptions {
            crds: ThirdPartyCrds::all(),
            ..SimOptions::default()
        };
        let sim = runtime
            .block_on(SimCluster::start_with(options))
            .expect("cluster");
        (runtime, sim)
    })
}

/// Server-side applies every child of `validated` with `dryRun=All`; returns the refusals.
async fn refusals(sim: &SimHandle, validated: &ValidatedBigPeer) -> Vec<String> {
    let children = build(validated, &Observed::default(), &Rollout::steady(validated));
    let params = PatchParams {
        dry_run: true,
        ..PatchParams::apply("parity").force()
    };
    let mut refused = Vec::new();
    for child in children.into_objects() {
        let resource = child.kind.api_resource();
        let api: Api<DynamicObject> =
            Api::namespaced_with(sim.client(), &child.namespace, &resource);
        if let Err(error) = api
            .patch(&child.name, &params, &Patch::Apply(&child.object))
            .await
        {
            refused.push(format!("{} {}: {error}", resource.kind, child.name));
        }
    }
    refused
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn children_of_every_admitted_spec_are_accepted_by_the_api_server(
        (name, raw) in spec_with_embedded_fields(catalogue::builtin().latest().version.to_string()),
    ) {
        let spec: BigPeerSpec = serde_json::from_value(raw).expect("generated specs decode");
        let mut bigpeer = BigPeer::new(&name, spec);
        bigpeer.metadata.namespace = Some("default".into());
        bigpeer.metadata.uid = Some("6f0c1c1e-0000-4000-8000-00000000beef".into());
        // What the webhook and the reconciler admit: `validate` and the merged pod templates.
        let admitted = ValidatedBigPeer::new(&bigpeer, None);
        prop_assume!(admitted.is_ok());
        let (validated, _) = admitted.expect("admitted");
        let (runtime, sim) = cluster();
        let refused = runtime.block_on(refusals(sim, &validated));
        prop_assert!(refused.is_empty(), "admitted, but the API server refuses: {:#?}", refused);
    }
}
