//! `smbp-operator images`: every image this operator version may run, for mirroring into an
//! air-gapped registry — the operator's own, then each installable Big Peer release of the
//! built-in catalogue (its store, sync and migration-Job pods all run that one image), by tag and
//! digest, in a form `skopeo`/`crane`/`oc image mirror` take.

use serde::Serialize;
use smbp_core::catalogue::Catalogue;

/// The operator image the chart installs by default (`charts/smbp-operator/values.yaml`).
pub fn default_operator_image() -> String {
    format!(
        "registry.smbp.dev/smbp/smbp-operator:{}",
        env!("CARGO_PKG_VERSION")
    )
}

/// One image to mirror.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MirroredImage {
    /// The reference to copy: `repository:tag@digest`, or as given for the operator.
    pub image: String,
    /// What runs it.
    pub used_by: String,
}

/// The operator image, then every non-withdrawn release of `catalogue`, oldest first.
pub fn images_to_mirror(catalogue: &Catalogue, operator_image: &str) -> Vec<MirroredImage> {
    let operator = MirroredImage {
        image: operator_image.to_string(),
        used_by: "the operator".into(),
    };
    let releases = catalogue
        .releases()
        .iter()
        .filter(|release| release.withdrawn.is_none())
        .map(|release| {
            let image = catalogue.image(release, None, None);
            MirroredImage {
                image: format!("{}@{}", image.by_tag(), image.digest),
                used_by: format!("Big Peer {} (store, sync, migration Jobs)", release.version),
            }
        });
    std::iter::once(operator).chain(releases).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_the_operator_then_every_installable_release_by_tag_and_digest() {
        let catalogue = smbp_core::catalogue::builtin();
        let list = images_to_mirror(catalogue, "mirror.local/smbp-operator:9");
        assert_eq!(list[0].image, "mirror.local/smbp-operator:9");
        let installable: Vec<_> = catalogue
            .releases()
            .iter()
            .filter(|r| r.withdrawn.is_none())
            .collect();
        assert_eq!(list.len(), 1 + installable.len());
        for (entry, release) in list[1..].iter().zip(installable) {
            assert!(
                entry
                    .image
                    .ends_with(&format!(":{}@{}", release.tag, release.digest))
            );
            assert!(entry.used_by.contains(&release.version.to_string()));
        }
        assert!(catalogue.releases().iter().any(|r| r.withdrawn.is_some()));
    }
}
