//! Feature gates of the simulated kube-apiserver and controllers: the gates the sim models, with
//! their defaults for the Kubernetes version `/version` reports, settable per cluster through
//! `SimOptions::with_feature_gate` or `smbp-sim serve --feature-gates Name=true,...`.

use std::collections::BTreeMap;

/// The gates the sim models and their defaults at the version it reports (1.36).
///
/// - `MaxUnavailableStatefulSet`: upstream's `kube_features.go` lists it Beta and on since 1.35,
///   but the recorded 1.36.2 server (`apiserver-reference/09-statefulset.json`) neither defaults
///   nor keeps `rollingUpdate.maxUnavailable`, as it does with the gate off; the recording wins.
/// - `RelaxedServiceNameValidation`: Alpha since 1.34, off (Service names are DNS-1035 labels).
pub const KNOWN: [(&str, bool); 2] = [
    ("MaxUnavailableStatefulSet", false),
    ("RelaxedServiceNameValidation", false),
];

/// `MaxUnavailableStatefulSet`.
pub const MAX_UNAVAILABLE_STATEFULSET: &str = "MaxUnavailableStatefulSet";
/// `RelaxedServiceNameValidation`.
pub const RELAXED_SERVICE_NAME_VALIDATION: &str = "RelaxedServiceNameValidation";

/// Gate settings: the defaults of [`KNOWN`] plus explicit overrides.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FeatureGates {
    overrides: BTreeMap<String, bool>,
}

impl FeatureGates {
    /// Sets a gate; unknown names are refused at start (see [`FeatureGates::check`]).
    pub fn set(&mut self, name: &str, enabled: bool) {
        self.overrides.insert(name.to_string(), enabled);
    }

    /// Whether a gate is on.
    pub fn enabled(&self, name: &str) -> bool {
        self.overrides.get(name).copied().unwrap_or_else(|| {
            KNOWN
                .iter()
                .find(|(known, _)| *known == name)
                .is_some_and(|(_, default)| *default)
        })
    }

    /// Err names the first gate the sim does not know, as kube-apiserver's flag parsing does.
    pub fn check(&self) -> Result<(), String> {
        match self
            .overrides
            .keys()
            .find(|name| !KNOWN.iter().any(|(known, _)| known == name))
        {
            Some(name) => Err(format!("unrecognized feature gate: {name}")),
            None => Ok(()),
        }
    }

    /// Parses `--feature-gates` syntax: `Name=true,Other=false`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut gates = FeatureGates::default();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("missing bool value for {pair}"))?;
            let enabled = value
                .trim()
                .parse::<bool>()
                .map_err(|_| format!("invalid value of {name}={value}, err: invalid syntax"))?;
            gates.set(name.trim(), enabled);
        }
        gates.check()?;
        Ok(gates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_overrides_and_parsing() {
        let mut gates = FeatureGates::default();
        assert!(!gates.enabled(MAX_UNAVAILABLE_STATEFULSET));
        gates.set(MAX_UNAVAILABLE_STATEFULSET, true);
        assert!(gates.enabled(MAX_UNAVAILABLE_STATEFULSET));
        let parsed = FeatureGates::parse("RelaxedServiceNameValidation=true").unwrap();
        assert!(parsed.enabled(RELAXED_SERVICE_NAME_VALIDATION));
        assert_eq!(
            FeatureGates::parse("Nope=true").unwrap_err(),
            "unrecognized feature gate: Nope"
        );
        assert!(FeatureGates::parse("MaxUnavailableStatefulSet").is_err());
    }
}
