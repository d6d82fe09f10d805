//! Leader election on a `coordination.k8s.io/v1` Lease, with client-go's semantics: the holder
//! renews every retry period; another instance takes the Lease only once it has seen the same
//! record unchanged for the Lease's duration (measured on its own clock, so clock skew between
//! nodes does not matter); a leader that could not renew for the renew deadline stops leading,
//! which is before anyone else may take over; a leader that stops releases the Lease so the next
//! one starts at once. Every write is guarded by the Lease's resourceVersion.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How the Lease is named and timed.
#[derive(Debug, Clone)]
pub struct LeaseSettings {
    /// The Lease's name.
    pub name: String,
    /// The Lease's namespace.
    pub namespace: String,
    /// This instance's identity in `holderIdentity` (the pod name, made unique).
    pub identity: String,
    /// How long a Lease is valid after its last renewal (whole seconds in the Lease).
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew before it gives up leading.
    pub renew_deadline: Duration,
    /// How often every instance tries to acquire or renew.
    pub retry_period: Duration,
}

impl LeaseSettings {
    /// Why these durations cannot work, if they cannot: the leader must give up before anyone
    /// else may take over, and must get several tries before it gives up.
    pub fn check(&self) -> Result<(), String> {
        if self.lease_duration < Duration::from_secs(1) {
            return Err(
                "--lease-duration must be at least 1s (the Lease stores whole seconds)".into(),
            );
        }
        if self.renew_deadline >= self.lease_duration {
            return Err(format!(
                "--lease-renew-deadline ({:?}) must be shorter than --lease-duration ({:?}), or two leaders could overlap",
                self.renew_deadline, self.lease_duration
            ));
        }
        if self.retry_period >= self.renew_deadline {
            return Err(format!(
                "--lease-retry-period ({:?}) must be shorter than --lease-renew-deadline ({:?})",
                self.retry_period, self.renew_deadline
            ));
        }
        Ok(())
    }
}

/// What this instance knows about leadership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leadership {
    /// Not known yet (the Lease has not been read).
    Unknown,
    /// This instance leads (or leader election is off).
    Leading,
    /// Another instance leads, or nobody does yet.
    Following {
        /// The current holder, when there is one.
        holder: Option<String>,
    },
}

/// Why the election stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ElectionError {
    /// The leader could not renew in time, or another instance took the Lease.
    #[error("leadership lost: {0}")]
    Lost(String),
}

/// One instance's side of the election.
pub struct Elector {
    api: Api<Lease>,
    settings: LeaseSettings,
    /// The last Lease record seen and when it was first seen (this instance's clock).
    observed: Option<(String, Instant)>,
}

impl Elector {
    /// An elector on `client` with `settings`.
    pub fn new(client: kube::Client, settings: LeaseSettings) -> Self {
        Self {
            api: Api::namespaced(client, &settings.namespace),
            settings,
            observed: None,
        }
    }

    /// The identity this elector holds the Lease under.
    pub fn identity(&self) -> &str {
        &self.settings.identity
    }

    /// Tries to acquire or renew until `stop` turns true (then returns, still holding the Lease
    /// if it did: call [`Elector::release`] once the work it guards has stopped). Every change of
    /// leadership goes to `state`. Returns an error when leadership is lost.
    pub async fn run(
        &mut self,
        state: &watch::Sender<Leadership>,
        stop: watch::Receiver<bool>,
    ) -> Result<(), ElectionError> {
        let mut renewed: Option<Instant> = None;
        loop {
            let attempt =
                tokio::time::timeout(self.settings.retry_period, self.try_acquire_or_renew()).await;
            match attempt {
                Ok(Ok(Some(holder))) if holder == self.settings.identity => {
                    if renewed.is_none() {
                        tracing::info!(lease = %self.settings.name, identity = %holder, "became the leader");
                    }
                    renewed = Some(Instant::now());
                    state.send_if_modified(|s| replace(s, Leadership::Leading));
                }
                Ok(Ok(holder)) => {
                    if renewed.is_some() {
                        return Err(ElectionError::Lost(format!(
                            "Lease {}/{} is now held by {}",
                            self.settings.namespace,
                            self.settings.name,
                            holder.as_deref().unwrap_or("nobody")
                        )));
                    }
                    state.send_if_modified(|s| replace(s, Leadership::Following { holder }));
                }
                Ok(Err(error)) => {
                    tracing::warn!(%error, lease = %self.settings.name, "could not acquire or renew the Lease")
                }
                Err(_) => {
                    tracing::warn!(lease = %self.settings.name, "acquiring or renewing the Lease timed out")
                }
            }
            if let Some(at) = renewed
                && at.elapsed() >= self.settings.renew_deadline
            {
                return Err(ElectionError::Lost(format!(
                    "could not renew Lease {}/{} for {:?}",
                    self.settings.namespace, self.settings.name, self.settings.renew_deadline
                )));
            }
            tokio::select! {
                _ = tokio::time::sleep(self.settings.retry_period) => {}
                _ = crate::serve::until(stop.clone()) => return Ok(()),
            }
        }
    }

    /// One round: reads the Lease and takes it when it is free, expired or already this
    /// instance's. Returns the holder after the round.
    async fn try_acquire_or_renew(&mut self) -> Result<Option<String>, kube::Error> {
        let now = MicroTime(jiff::Timestamp::now());
        let seconds = self.settings.lease_duration.as_secs().max(1) as i32;
        let Some(lease) = self.api.get_opt(&self.settings.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.settings.name.clone()),
                    namespace: Some(self.settings.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.settings.identity.clone()),
                    lease_duration_seconds: Some(seconds),
                    acquire_time: Some(now.clone()),
                    renew_time: Some(now),
                    lease_transitions: Some(0),
                    ..LeaseSpec::default()
                }),
            };
            self.api.create(&PostParams::default(), &lease).await?;
            return Ok(Some(self.settings.identity.clone()));
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let record = format!(
            "{:?}|{:?}|{:?}",
            spec.holder_identity, spec.renew_time, spec.lease_duration_seconds
        );
        let first_seen = match &self.observed {
            Some((seen, at)) if *seen == record => *at,
            _ => {
                let at = Instant::now();
                self.observed = Some((record, at));
                at
            }
        };
        let holder = spec.holder_identity.clone().filter(|h| !h.is_empty());
        let mine = holder.as_deref() == Some(self.settings.identity.as_str());
        let valid_for =
            Duration::from_secs(spec.lease_duration_seconds.unwrap_or(seconds).max(0) as u64);
        if holder.is_some() && !mine && first_seen.elapsed() < valid_for {
            return Ok(holder);
        }
        let mut taken = lease.clone();
        taken.spec = Some(LeaseSpec {
            holder_identity: Some(self.settings.identity.clone()),
            lease_duration_seconds: Some(seconds),
            acquire_time: if mine {
                spec.acquire_time.clone()
            } else {
                Some(now.clone())
            },
            renew_time: Some(now),
            lease_transitions: Some(spec.lease_transitions.unwrap_or(0) + i32::from(!mine)),
            ..spec
        });
        match self
            .api
            .replace(&self.settings.name, &PostParams::default(), &taken)
            .await
        {
            Ok(_) => Ok(Some(self.settings.identity.clone())),
            // Someone else wrote first; the next round reads who.
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(holder),
            Err(error) => Err(error),
        }
    }

    /// Gives the Lease up when this instance holds it, so the next leader need not wait for it
    /// to expire.
    pub async fn release(&self) -> Result<(), kube::Error> {
        let Some(mut lease) = self.api.get_opt(&self.settings.name).await? else {
            return Ok(());
        };
        let spec = lease.spec.clone().unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(self.settings.identity.as_str()) {
            return Ok(());
        }
        let now = MicroTime(jiff::Timestamp::now());
        lease.spec = Some(LeaseSpec {
            holder_identity: None,
            lease_duration_seconds: Some(1),
            acquire_time: None,
            renew_time: Some(now),
            ..spec
        });
        self.api
            .replace(&self.settings.name, &PostParams::default(), &lease)
            .await?;
        tracing::info!(lease = %self.settings.name, "released the Lease");
        Ok(())
    }
}

fn replace(state: &mut Leadership, new: Leadership) -> bool {
    if *state == new {
        false
    } else {
        *state = new;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(lease: u64, renew: u64, retry: u64) -> LeaseSettings {
        LeaseSettings {
            name: "smbp-operator".into(),
            namespace: "smbp-system".into(),
            identity: "a".into(),
            lease_duration: Duration::from_millis(lease),
            renew_deadline: Duration::from_millis(renew),
            retry_period: Duration::from_millis(retry),
        }
    }

    #[test]
    fn durations_must_let_the_leader_give_up_before_anyone_may_take_over() {
        assert!(settings(15_000, 10_000, 2_000).check().is_ok());
        let overlap = settings(15_000, 15_000, 2_000).check().unwrap_err();
        assert!(overlap.contains("--lease-renew-deadline"), "{overlap}");
        let retry = settings(15_000, 10_000, 10_000).check().unwrap_err();
        assert!(retry.contains("--lease-retry-period"), "{retry}");
        let short = settings(500, 400, 100).check().unwrap_err();
        assert!(short.contains("whole seconds"), "{short}");
    }
}
