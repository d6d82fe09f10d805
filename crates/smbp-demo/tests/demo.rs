//! The README's main command works: the demo binary brings the production sample to Ready on the
//! simulated cluster, prints the status table, and cleans up its kubeconfig without `--keep`.

use std::process::Command;

#[test]
fn the_demo_brings_the_production_sample_to_ready() {
    let dir = std::env::temp_dir().join(format!("smbp-demo-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("demo.kubeconfig");
    let output = Command::new(env!("CARGO_BIN_EXE_smbp-demo"))
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .arg("--timeout")
        .arg("90")
        .output()
        .expect("the demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("BigPeer edge-sync is Ready"), "{stdout}");
    let table = stdout
        .split("$ kubectl get bigpeers")
        .nth(1)
        .expect("the status table");
    assert!(
        table.contains("edge-sync    1.6.1     True    Running"),
        "{table}"
    );
    for condition in [
        "TransactionLogReady  True",
        "CertificateReady     True",
        "ExposureReady        True",
        "MonitoringReady      True",
    ] {
        assert!(table.contains(condition), "{condition} missing in {table}");
    }
    assert!(
        !kubeconfig.exists(),
        "the kubeconfig is removed without --keep"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
