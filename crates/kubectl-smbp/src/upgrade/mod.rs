//! `kubectl smbp upgrade`: `plan` (what an upgrade would do, checked against the live cluster
//! now) and the controls the operator obeys (`start`, `pause`, `resume`, `approve`, `retry`).

pub mod controls;
pub mod plan;

use crate::cli::UpgradeCommand;
use crate::error::{Error, Result};
use crate::session::{Io, Session};
use kube::api::Api;
use smbp_api::v1alpha1::BigPeer;

/// Runs one `upgrade` subcommand.
pub async fn run(session: &Session, io: &mut Io, command: UpgradeCommand) -> Result<()> {
    match command {
        UpgradeCommand::Plan { name, to } => plan::run(session, io, &name, &to).await,
        UpgradeCommand::Start { name, to, confirm } => {
            controls::start(session, io, &name, &to, &confirm).await
        }
        UpgradeCommand::Pause { name, confirm } => {
            controls::set_paused(session, io, &name, true, &confirm).await
        }
        UpgradeCommand::Resume { name, confirm } => {
            controls::set_paused(session, io, &name, false, &confirm).await
        }
        UpgradeCommand::Approve {
            name,
            step,
            confirm,
        } => controls::approve(session, io, &name, step.as_deref(), &confirm).await,
        UpgradeCommand::Retry { name, confirm } => {
            controls::retry(session, io, &name, &confirm).await
        }
    }
}

/// Reads the BigPeer `name` of the session's namespace.
pub async fn bigpeer(session: &Session, name: &str) -> Result<BigPeer> {
    Api::<BigPeer>::namespaced(session.client.clone(), &session.namespace)
        .get(name)
        .await
        .map_err(|e| Error::kube(format!("BigPeer {}/{name}", session.namespace), e))
}
