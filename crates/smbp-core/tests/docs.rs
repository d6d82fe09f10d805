//! The generated parts of the user documentation stay current: docs/upgrades.md carries the
//! compatibility matrix of the release catalogue and the list of pre-flight checks.
//! `UPDATE_DOCS=1 cargo test -p smbp-core --test docs` rewrites them.

use std::path::PathBuf;

fn section(text: &str, name: &str) -> Option<(usize, usize)> {
    let begin = format!("<!-- BEGIN {name} (generated) -->\n");
    let end = format!("<!-- END {name} -->");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    Some((start, stop))
}

fn checks() -> String {
    smbp_core::upgrade::CHECKS
        .iter()
        .map(|(name, what)| format!("| `{name}` | {what} |\n"))
        .fold(
            "| check | passes when |\n|---|---|\n".to_string(),
            |a, b| a + &b,
        )
}

#[test]
fn upgrade_guide_carries_the_current_matrix_and_checks() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/upgrades.md");
    let mut text = std::fs::read_to_string(&path).expect("docs/upgrades.md exists");
    let generated = [
        (
            "compatibility matrix",
            smbp_core::catalogue::builtin().compatibility_matrix(),
        ),
        ("pre-flight checks", checks()),
    ];
    let mut stale = Vec::new();
    for (name, content) in generated {
        let (start, stop) = section(&text, name)
            .unwrap_or_else(|| panic!("docs/upgrades.md has no generated section {name:?}"));
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
        "docs/upgrades.md is stale in {stale:?}; run UPDATE_DOCS=1 cargo test -p smbp-core --test docs"
    );
}
