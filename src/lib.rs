//! cts-deb: builds and publishes the `cts-server` Debian package.
//!
//! The pipeline shows in the layout:
//! [`config`] (parse + validate `cts.toml`) → [`plan`] (pure: every file, mode, owner, script and
//! control field decided) → [`deb`] (archive writers that only serialise the plan).
//! [`repo`] publishes finished packages into a signed apt repository. [`cli`] owns clap and
//! nothing else does.

pub mod build;
pub mod changelog;
pub mod cli;
pub mod config;
pub mod deb;
pub mod deb822;
pub mod defaults;
pub mod error;
pub mod fsx;
pub mod par;
pub mod plan;
pub mod render;
pub mod repo;
pub mod report;
pub mod source;
pub mod target;
pub mod version;
pub mod wheels;
