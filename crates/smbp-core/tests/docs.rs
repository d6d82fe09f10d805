//! The generated parts of the user documentation stay current: docs/upgrades.md carries the
//! compatibility matrix of the release catalogue and the list of pre-flight checks, and
//! docs/compatibility.md the Kubernetes APIs the operator writes, the optional products and the
//! releases. `UPDATE_DOCS=1 cargo test -p smbp-core --test docs` rewrites them.

use smbp_core::build::{ChildKind, OptionalApi};
use smbp_core::catalogue::{self, Catalogue};
use std::path::PathBuf;

fn section(text: &str, name: &str) -> Option<(usize, usize)> {
    let begin = format!("<!-- BEGIN {name} (generated) -->\n");
    let end = format!("<!-- END {name} -->");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    Some((start, stop))
}

/// A Markdown table from a header row and rows.
fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    out += &line(header.iter().map(|_| "---".to_string()).collect());
    rows.into_iter().map(line).for_each(|row| out += &row);
    out
}

fn checks() -> String {
    let rows = smbp_core::upgrade::CHECKS
        .iter()
        .map(|(name, what)| vec![format!("`{name}`"), what.to_string()]);
    table(&["check", "passes when"], rows)
}

/// Every kind the operator creates, with its API version and the product it needs.
fn kubernetes_apis() -> String {
    let rows = ChildKind::ALL.iter().map(|kind| {
        let api = kind.api_resource();
        let needs = kind
            .optional_api()
            .map_or("Kubernetes 1.33+".to_string(), |o| o.product().to_string());
        vec![format!("`{}`", api.api_version), api.kind, needs]
    });
    table(&["apiVersion", "kind", "served by"], rows)
}

fn optional_apis() -> String {
    let rows = OptionalApi::ALL.iter().map(|api| {
        let (group, version) = api.group_version();
        let resources = api
            .resource()
            .map_or("any".to_string(), |r| format!("`{r}`"));
        vec![
            api.product().to_string(),
            format!("`{group}/{version}`"),
            resources,
            api.serving_releases().to_string(),
        ]
    });
    table(
        &["product", "group/version", "resource checked", "releases"],
        rows,
    )
}

fn releases(catalogue: &Catalogue) -> String {
    let rows = catalogue.releases().iter().map(|release| {
        vec![
            release.version.to_string(),
            if release.required_stop { "yes" } else { "" }.to_string(),
            release
                .withdrawn
                .as_ref()
                .map_or("installable".into(), |why| format!("withdrawn: {why}")),
        ]
    });
    table(
        &["Big Peer", "required stop", "this operator version"],
        rows,
    )
}

/// Rewrites (with UPDATE_DOCS) or checks the generated sections of `file` under docs/.
fn check_generated(file: &str, generated: Vec<(&str, String)>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs")
        .join(file);
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("docs/{file}: {e}"));
    let mut stale = Vec::new();
    for (name, content) in generated {
        let (start, stop) = section(&text, name)
            .unwrap_or_else(|| panic!("docs/{file} has no generated section {name:?}"));
        if text[start..stop] != content {
            stale.push(name);
            text.replace_range(start..stop, &content);
        }
    }
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, text).unwrap();
        return;
    }
    assert!(
        stale.is_empty(),
        "docs/{file} is stale in {stale:?}; run UPDATE_DOCS=1 cargo test -p smbp-core --test docs"
    );
}

#[test]
fn upgrade_guide_carries_the_current_matrix_and_checks() {
    let matrix = catalogue::builtin().compatibility_matrix();
    check_generated(
        "upgrades.md",
        vec![
            ("compatibility matrix", matrix),
            ("pre-flight checks", checks()),
        ],
    );
}

#[test]
fn compatibility_matrix_carries_the_current_apis_and_releases() {
    check_generated(
        "compatibility.md",
        vec![
            ("kubernetes apis", kubernetes_apis()),
            ("optional apis", optional_apis()),
            ("releases", releases(catalogue::builtin())),
            ("upgrade paths", catalogue::builtin().compatibility_matrix()),
        ],
    );
}
