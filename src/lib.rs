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
pub mod debcache;
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

/// Test support shared by the unit tests and the integration tests (`tests/it`), which cannot see
/// a `cfg(test)` item of the library: one rule for when a test may skip.
#[doc(hidden)]
pub mod testing {
    /// Whether a test that needs `what` (a tool, a privilege) may skip when it is missing: only
    /// outside CI. Under `CI` or `CTS_DEB_REQUIRE_TOOLS=1` a missing tool fails the test instead of
    /// letting it pass unchecked.
    pub fn skip_without(what: &str) -> bool {
        let required = std::env::var_os("CI").is_some()
            || std::env::var("CTS_DEB_REQUIRE_TOOLS").as_deref() == Ok("1");
        assert!(!required, "{what} is missing, and CI / CTS_DEB_REQUIRE_TOOLS=1 require it");
        eprintln!("skipped: {what} is missing");
        true
    }
}
