//! The command line: kubectl's global flags (`--kubeconfig`, `--context`, `-n`, `-A`, `-o`) and
//! one subcommand per question. Every command and flag has help (`kubectl smbp help <cmd>`).

use crate::output::Format;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// `kubectl smbp`: status, upgrades, diagnosis and support bundles for Big Peer (the SMBP
/// operator's BigPeer resources).
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-smbp",
    bin_name = "kubectl smbp",
    version,
    after_help = "Exit codes: 0 success; 1 the cluster could not be reached or answered with an error; 2 usage; \
3 not found; 4 forbidden (RBAC); 5 not confirmed; 6 checks failed (diagnose findings, failing pre-flight \
checks, incompatible versions, a control that does not apply now); 7 a field manager conflict.\n\
Documentation: docs/kubectl-plugin.md"
)]
pub struct Cli {
    /// Cluster connection and output flags, as kubectl's.
    #[command(flatten)]
    pub global: Global,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: the current context).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The namespace (default: the context's namespace, else "default").
    #[arg(short = 'n', long, global = true, value_name = "NS")]
    pub namespace: Option<String>,
    /// Every namespace (status without NAME, must-gather).
    #[arg(short = 'A', long, global = true, conflicts_with = "namespace")]
    pub all_namespaces: bool,
    /// Output format.
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// The namespace the operator runs in (its Deployment, Lease and webhook CA Secret).
    #[arg(
        long,
        global = true,
        env = "SMBP_OPERATOR_NAMESPACE",
        default_value = "smbp-system",
        value_name = "NS"
    )]
    pub operator_namespace: String,
    /// The operator's Deployment and Lease name (the chart's full name).
    #[arg(
        long,
        global = true,
        default_value = "smbp-operator",
        value_name = "NAME"
    )]
    pub operator_name: String,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show a BigPeer's versions, conditions, pods, endpoints, transaction log, certificate,
    /// recent warnings and upgrade progress; without NAME, list the BigPeers.
    Status(StatusArgs),
    /// Show the plugin's, the operator's and the CRD's versions and whether they are compatible.
    Version,
    /// Plan and control version upgrades.
    #[command(subcommand)]
    Upgrade(UpgradeCommand),
    /// Check what commonly breaks a BigPeer and say what to do, with runbook links.
    Diagnose(NameArg),
    /// Write a support bundle (tar.gz) with secrets redacted.
    MustGather(MustGatherArgs),
}

/// `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The BigPeer; without it, every BigPeer of the namespace (or of all with -A).
    pub name: Option<String>,
    /// How many recent Warning Events to show.
    #[arg(long, default_value_t = 10)]
    pub events: usize,
}

/// A BigPeer's name.
#[derive(Debug, Args)]
pub struct NameArg {
    /// The BigPeer.
    pub name: String,
}

/// Flags of every upgrade control.
#[derive(Debug, Clone, Args)]
pub struct Confirm {
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Take the fields over from another field manager that set them (for example a GitOps
    /// controller, which will then set them back: change the source of truth instead).
    #[arg(long)]
    pub force_conflicts: bool,
}

/// `upgrade ...`.
#[derive(Debug, Subcommand)]
pub enum UpgradeCommand {
    /// Show what an upgrade to VERSION would do: the path, migrations, pre-flight checks
    /// evaluated now, the order pods roll and how long it may take.
    Plan {
        /// The BigPeer.
        name: String,
        /// The version to upgrade to.
        #[arg(long, value_name = "VERSION")]
        to: String,
    },
    /// Start an upgrade: set spec.version to VERSION.
    Start {
        /// The BigPeer.
        name: String,
        /// The version to upgrade to.
        #[arg(long, value_name = "VERSION")]
        to: String,
        /// Confirmation flags.
        #[command(flatten)]
        confirm: Confirm,
    },
    /// Pause the upgrade at the next safe point (spec.upgrade.paused=true).
    Pause {
        /// The BigPeer.
        name: String,
        /// Confirmation flags.
        #[command(flatten)]
        confirm: Confirm,
    },
    /// Resume a paused upgrade (spec.upgrade.paused=false).
    Resume {
        /// The BigPeer.
        name: String,
        /// Confirmation flags.
        #[command(flatten)]
        confirm: Confirm,
    },
    /// Approve one step of a Manual upgrade (default: the step awaiting approval).
    Approve {
        /// The BigPeer.
        name: String,
        /// The step, as named in status.upgrade.awaitingApproval (e.g. 1.5.1:store-1).
        step: Option<String>,
        /// Confirmation flags.
        #[command(flatten)]
        confirm: Confirm,
    },
    /// Retry a rolled-back or failed upgrade.
    Retry {
        /// The BigPeer.
        name: String,
        /// Confirmation flags.
        #[command(flatten)]
        confirm: Confirm,
    },
}

/// `must-gather`.
#[derive(Debug, Args)]
pub struct MustGatherArgs {
    /// How far back logs and Events go (Go duration: 30m, 6h, 2h30m).
    #[arg(long, default_value = "24h", value_name = "DURATION")]
    pub since: String,
    /// Log lines kept per container.
    #[arg(long, default_value_t = 1000)]
    pub tail: i64,
    /// Replace namespace and object names by stable hashes.
    #[arg(long)]
    pub redact_names: bool,
    /// Where to write the bundle (default: smbp-must-gather-<UTC time>.tar.gz); never
    /// overwritten.
    #[arg(long, short = 'f', value_name = "PATH")]
    pub file: Option<PathBuf>,
}
