//! Golden tests of every builder: each sample in `config/samples/` is built with a fixed uid and
//! fixed observations, and the children, as YAML, must equal `golden/<sample>.yaml`. Together the
//! samples reach every builder (Ingress, HTTPRoute with a BackendTLSPolicy and its CA
//! ConfigMap, GRPCRoute, TLSRoute, TCPRoute, Certificate and a TLS Secret,
//! Strimzi and external logs, monitoring, NetworkPolicies, every Service type).
//!
//! After an intended change: `UPDATE_GOLDEN=1 cargo test -p smbp-core golden`, then review the
//! diff of the golden files like code.

use super::*;
use std::path::PathBuf;

fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/samples")
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/build/golden")
}

/// A sample as the API server would store it: namespace and uid filled in.
pub(super) fn sample(file: &str) -> BigPeer {
    let text = std::fs::read_to_string(samples_dir().join(file)).unwrap();
    let mut bigpeer: BigPeer = serde_yaml::from_str(&text).unwrap();
    bigpeer
        .metadata
        .namespace
        .get_or_insert_with(|| "smbp".into());
    bigpeer.metadata.uid = Some("00000000-0000-4000-8000-000000000001".into());
    bigpeer
}

/// What the dereference stage would have observed for a sample.
pub(super) fn observed(bigpeer: &BigPeer) -> Observed {
    let strimzi_elsewhere = bigpeer
        .spec
        .transaction_log
        .strimzi
        .as_ref()
        .is_some_and(|s| s.cluster_ref.namespace.is_some());
    Observed {
        tls_checksum: bigpeer.spec.tls.as_ref().map(|_| "5e1f00dcafe5e1f0".into()),
        kafka_bootstrap: None,
        kafka_user_secret: strimzi_elsewhere
            .then(|| BTreeMap::from([("password".to_string(), ByteString(b"s3cret".to_vec()))])),
        tls_ca: bigpeer.spec.tls.as_ref().map(|_| {
            "-----BEGIN CERTIFICATE-----\nR09MREVOIENB\n-----END CERTIFICATE-----\n".into()
        }),
    }
}

fn render(children: Children) -> String {
    children
        .into_objects()
        .into_iter()
        .map(|child| serde_yaml::to_string(&child.object).unwrap())
        .collect::<Vec<_>>()
        .join("---\n")
}

#[test]
fn every_sample_builds_its_golden_children() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut files: Vec<_> = std::fs::read_dir(samples_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|f| f.ends_with(".yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 7, "{files:?}");
    let mut mismatched = Vec::new();
    for file in files {
        let bigpeer = sample(&file);
        let (validated, _) = ValidatedBigPeer::new(&bigpeer, None)
            .unwrap_or_else(|report| panic!("{file}: {report:?}"));
        let rendered = render(build(
            &validated,
            &observed(&bigpeer),
            &Rollout::steady(&validated),
        ));
        let path = golden_dir().join(&file);
        if update {
            std::fs::create_dir_all(golden_dir()).unwrap();
            std::fs::write(&path, &rendered).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        if expected != rendered {
            mismatched.push(file);
        }
    }
    assert!(
        mismatched.is_empty(),
        "children differ from their golden files for {mismatched:?}; if the change is intended, \
         run `UPDATE_GOLDEN=1 cargo test -p smbp-core golden` and review the diff"
    );
}
