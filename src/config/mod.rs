//! `cts.toml`: the declarative config, parsed strictly and validated before anything is written.

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);
