//! The table form of a `status` report: the summary lines, the upgrade's progress bar, and one
//! table per section, ages measured against the injected clock.

use super::{PodRow, Progress, Report};
use crate::clock::age;
use crate::output::{self, Table, Tone, toned};
use jiff::Timestamp;

/// A text progress bar of `done` out of `total`, 20 characters wide.
pub fn bar(done: usize, total: usize) -> String {
    let width = 20;
    let filled = (done * width).checked_div(total).unwrap_or(0).min(width);
    format!("[{}{}]", "#".repeat(filled), "-".repeat(width - filled))
}

/// The table form of a report, ages measured at `now`.
pub fn render(report: &Report, now: Timestamp, colour: bool) -> String {
    let mut out = String::new();
    let field = |out: &mut String, key: &str, value: &str| {
        out.push_str(&format!("{:<17}{value}\n", format!("{key}:")));
    };
    field(&mut out, "Name", &report.name);
    field(&mut out, "Namespace", &report.namespace);
    let phase = report.phase.as_deref().unwrap_or("-");
    let tone = match phase {
        "Running" => Tone::Good,
        "Failed" | "Degraded" => Tone::Bad,
        _ => Tone::Warn,
    };
    field(&mut out, "Phase", &output::paint(phase, tone, colour));
    let v = &report.version;
    field(
        &mut out,
        "Version",
        &format!(
            "running {}, desired {}, target {}",
            v.running.as_deref().unwrap_or("-"),
            v.desired,
            v.target.as_deref().unwrap_or("-")
        ),
    );
    render_upgrade(&mut out, report.upgrade.as_ref(), colour);
    field(
        &mut out,
        "Transaction log",
        &format!(
            "{} ({})",
            report.transaction_log.backend,
            report
                .transaction_log
                .ready
                .as_deref()
                .unwrap_or("not reported")
        ),
    );
    if let Some(cert) = &report.certificate {
        let expiry = match cert.not_after {
            Some(t) if t > now => {
                let left = t.duration_since(now).as_secs().max(0) as u64;
                let tone = if left < 14 * 86_400 {
                    Tone::Warn
                } else {
                    Tone::Good
                };
                output::paint(
                    &format!("expires {t} (in {})", crate::clock::human(left)),
                    tone,
                    colour,
                )
            }
            Some(t) => output::paint(&format!("EXPIRED at {t}"), Tone::Bad, colour),
            None => "expiry not known".into(),
        };
        field(
            &mut out,
            "Certificate",
            &format!("{}, {expiry}", cert.source),
        );
    }

    let mut conditions = Table::new(&["TYPE", "STATUS", "REASON", "AGE", "MESSAGE"]);
    for c in &report.conditions {
        let good = condition_ok(&c.type_, &c.status);
        conditions.row(vec![
            c.type_.clone().into(),
            toned(c.status.clone(), Tone::of(good)),
            c.reason.clone().into(),
            c.since.map_or("-".into(), |t| age(t, now)).into(),
            c.message.clone().into(),
        ]);
    }
    section_table(&mut out, "Conditions", &conditions, colour);

    let pods = pods_table(&report.pods, now);
    section_table(&mut out, "Pods", &pods, colour);

    let mut volumes = Table::new(&["NAME", "STATUS", "CAPACITY", "USAGE"]);
    for v in &report.volumes {
        volumes.row(vec![
            v.name.clone().into(),
            toned(v.phase.clone(), Tone::of(v.phase == "Bound")),
            v.capacity.clone().unwrap_or_else(|| "-".into()).into(),
            "not reported by the API".into(),
        ]);
    }
    section_table(&mut out, "Volumes", &volumes, colour);

    if let Some(hpa) = &report.autoscaler {
        out.push_str(&format!(
            "\nAutoscaler:      min {}, max {}, current {}, desired {}\n",
            hpa.min.map_or("-".into(), |m| m.to_string()),
            hpa.max,
            hpa.current.map_or("-".into(), |m| m.to_string()),
            hpa.desired
        ));
    }

    let mut endpoints = Table::new(&["SOURCE", "ADDRESS"]);
    for e in &report.endpoints {
        endpoints.row(vec![e.source.clone().into(), e.address.clone().into()]);
    }
    section_table(&mut out, "Endpoints", &endpoints, colour);

    let mut warnings = Table::new(&["LAST SEEN", "REASON", "OBJECT", "COUNT", "MESSAGE"]);
    for w in &report.warnings {
        warnings.row(vec![
            w.last_seen.map_or("-".into(), |t| age(t, now)).into(),
            toned(w.reason.clone(), Tone::Warn),
            w.object.clone().into(),
            w.count.to_string().into(),
            w.message.clone().into(),
        ]);
    }
    section_table(&mut out, "Recent warnings", &warnings, colour);

    if !report.unavailable.is_empty() {
        out.push_str("\nNot shown (could not be read):\n");
        for u in &report.unavailable {
            out.push_str(&format!("  {u}\n"));
        }
    }
    out
}

/// The pods as a table, ages measured at `now`.
pub fn pods_table(rows: &[PodRow], now: Timestamp) -> Table {
    let mut pods = Table::new(&[
        "NAME", "ROLE", "VERSION", "READY", "STATUS", "RESTARTS", "NODE", "AGE",
    ]);
    for p in rows {
        pods.row(vec![
            p.name.clone().into(),
            p.role.clone().into(),
            p.version.clone().unwrap_or_else(|| "-".into()).into(),
            toned(p.ready.clone(), Tone::of(p.is_ready)),
            p.phase.clone().into(),
            toned(
                p.restarts.to_string(),
                if p.restarts > 0 {
                    Tone::Warn
                } else {
                    Tone::Plain
                },
            ),
            p.node.clone().unwrap_or_else(|| "-".into()).into(),
            p.started.map_or("-".into(), |t| age(t, now)).into(),
        ]);
    }
    pods
}

fn render_upgrade(out: &mut String, upgrade: Option<&Progress>, colour: bool) {
    let Some(u) = upgrade else {
        return;
    };
    let pad = " ".repeat(17);
    let path = format!(
        "{} → {}",
        u.from.as_deref().unwrap_or("?"),
        u.to.as_deref().unwrap_or("?")
    );
    if !u.active {
        let tone = if u.phase == "Completed" {
            Tone::Good
        } else {
            Tone::Bad
        };
        out.push_str(&format!(
            "{:<17}{} {path}\n",
            "Last upgrade:",
            output::paint(&u.phase, tone, colour)
        ));
        if let Some(message) = &u.message {
            out.push_str(&format!("{pad}{message}\n"));
        }
        return;
    }
    let hop = match (u.hop.as_deref(), u.hop_index) {
        (Some(hop), Some(i)) => format!(", hop {i} of {} ({hop})", u.hops),
        _ => String::new(),
    };
    let paused = if u.paused { " (paused)" } else { "" };
    out.push_str(&format!(
        "{:<17}{}{paused} {path}{hop}\n",
        "Upgrade:",
        output::paint(&u.phase, Tone::Warn, colour)
    ));
    let done = u.step_index.map_or(0, |k| k - 1);
    let at = match (&u.step_index, &u.step_id) {
        (Some(k), Some(id)) => format!("step {k} of {}: {id}", u.steps),
        _ => format!("before step 1 of {}", u.steps),
    };
    out.push_str(&format!("{pad}{} {at}\n", bar(done, u.steps)));
    if let Some(step) = &u.step {
        out.push_str(&format!("{pad}{step}\n"));
    }
}

/// Whether a condition's status is the healthy one (`Degraded`, `Progressing`, `Upgrading` and
/// `ReconcilePaused` are healthy when False).
fn condition_ok(type_: &str, status: &str) -> bool {
    let healthy_false = matches!(
        type_,
        "Degraded" | "Progressing" | "Upgrading" | "ReconcilePaused"
    );
    (status == "True") != healthy_false
}

fn section_table(out: &mut String, title: &str, table: &Table, colour: bool) {
    out.push_str(&format!("\n{title}:\n"));
    if table.is_empty() {
        out.push_str("  none\n");
    } else {
        out.push_str(&table.render(colour));
    }
}
