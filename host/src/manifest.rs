//! `connector.json`: the fields of the connector's manifest the host reads.
//!
//! The host reads only what it needs to load and sandbox the component: where the component is,
//! which WIT interface and functions it exports, and the rate limit per account. The network rule
//! (`network.hosts`: the config's `api_url` host only) is enforced by [`crate::egress`].

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The interface the host was built against (`bindgen!` over wit/world.wit).
pub(crate) const INTERFACE: &str = "activecampaign:source/connector@0.2.0";
/// The functions the host calls through that interface.
const FUNCTIONS: [&str; 4] = ["spec", "check", "discover", "read"];

/// What the host takes from `connector.json`.
#[derive(Debug, Clone)]
pub(crate) struct Manifest {
    /// The component file (the manifest's `component`, relative to the manifest's folder).
    pub(crate) component: PathBuf,
    /// Requests per second per account when the config does not say (`rate_limit`).
    pub(crate) requests_per_second: u32,
    /// The config field that overrides it (`rate_limit.config_field`).
    pub(crate) rate_field: String,
}

#[derive(Deserialize)]
struct Raw {
    component: String,
    wit: RawWit,
    #[serde(default)]
    rate_limit: Option<RawRate>,
}

#[derive(Deserialize)]
struct RawWit {
    interface: String,
    #[serde(default)]
    functions: Vec<String>,
}

#[derive(Deserialize)]
struct RawRate {
    requests_per_second: u32,
    #[serde(default)]
    config_field: Option<String>,
}

impl Manifest {
    /// Reads and checks `connector.json`; `component` overrides the component path.
    pub(crate) fn load(path: &Path, component: Option<&Path>) -> Result<Manifest> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the connector manifest {}", path.display()))?;
        let raw: Raw = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a connector manifest (needs component, wit.interface, wit.functions)",
                path.display()
            )
        })?;
        if raw.wit.interface != INTERFACE {
            bail!(
                "{} names the interface {:?}, but this host speaks {INTERFACE}: rebuild ac-host against the component's wit/world.wit",
                path.display(),
                raw.wit.interface
            );
        }
        for f in FUNCTIONS {
            if !raw.wit.functions.iter().any(|g| g == f) {
                bail!(
                    "{} does not list the function {f:?} in wit.functions; the host needs {FUNCTIONS:?}",
                    path.display()
                );
            }
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let component = match component {
            Some(c) => c.to_path_buf(),
            None => base.join(&raw.component),
        };
        let (rps, field) = match raw.rate_limit {
            Some(r) => (
                r.requests_per_second,
                r.config_field
                    .unwrap_or_else(|| "requests_per_second".into()),
            ),
            None => (5, "requests_per_second".into()),
        };
        if rps == 0 {
            bail!(
                "{}: rate_limit.requests_per_second must be at least 1",
                path.display()
            );
        }
        Ok(Manifest {
            component,
            requests_per_second: rps,
            rate_field: field,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "ac-host-manifest-{}-{}",
            std::process::id(),
            text.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("connector.json");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_the_repository_manifest() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../connector.json");
        let m = Manifest::load(&p, None).unwrap();
        assert!(m.component.ends_with("source_activecampaign.wasm"));
        assert_eq!(m.requests_per_second, 5);
        assert_eq!(m.rate_field, "requests_per_second");
    }

    #[test]
    fn rejects_another_interface_and_missing_functions() {
        let p = write(
            r#"{"component":"x.wasm","wit":{"interface":"other:x/y@1.0.0","functions":["spec","check","discover","read"]}}"#,
        );
        let e = Manifest::load(&p, None).unwrap_err().to_string();
        assert!(e.contains("other:x/y@1.0.0"), "{e}");
        let p = write(
            r#"{"component":"x.wasm","wit":{"interface":"activecampaign:source/connector@0.2.0","functions":["spec"]}}"#,
        );
        let e = Manifest::load(&p, None).unwrap_err().to_string();
        assert!(e.contains("\"check\""), "{e}");
    }
}
