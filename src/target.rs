//! The Debian releases a package set is built for: one table, read by the config (which names the
//! targets), the planner (version suffix, Depends) and the templates (`target.*`).
//!
//! Why a fixed table and not detection: the build host is any Debian (or not Debian at all), and
//! what differs between releases is known and small: the interpreter the virtualenv runs on, the
//! glibc that binary wheels may need, nginx's `http2` syntax, the PostgreSQL and RabbitMQ majors.
//! Adding a release is adding a row here (and its golden files).
//!
//! Versions: each build's version is the config's version plus the release's suffix (`+deb12`,
//! `+deb13`). The suffix keeps both builds in one pool under distinct file names, and orders the
//! newer release's build above the older one's of the same release (`1.0-1+deb13` >>
//! `1.0-1+deb12`), so `apt full-upgrade` from 12 to 13 moves to it; a later upstream version or
//! revision still wins over either (`1.0-2+deb12` >> `1.0-1+deb13`). `+` rather than `~`: a build
//! of an existing unsuffixed version (`1.0-1`, the single-release packages of before) sorts above
//! it, so servers installed before targets existed upgrade to the same release's build.

use serde::Serialize;

/// One Debian release cts-deb builds for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// The codename: `bookworm`, `trixie` (what `package.targets` and `--target` name).
    pub codename: &'static str,
    /// Debian's major version: 12, 13.
    pub debian: u32,
    /// Appended to the package version: `+deb12`.
    pub version_suffix: &'static str,
    /// `python3`'s major.minor in the release: the virtualenv's interpreter, the wheels' ABI.
    pub python: &'static str,
    /// The release's glibc (major, minor): the newest manylinux tag a binary wheel may carry.
    pub glibc: (u32, u32),
    /// The PostgreSQL major of the release's `postgresql` metapackage.
    pub postgresql: u32,
    /// The RabbitMQ major of the release's `rabbitmq-server`.
    pub rabbitmq: u32,
    /// nginx ≥ 1.25.1: `http2 on;` (the `listen … http2` flag warns on every `nginx -t`).
    /// Older nginx does not know `http2 on;`, so the site then needs the listen flag.
    pub nginx_http2_on: bool,
    /// Extra Depends the templates of this release need (`nginx (>= 1.25.1)` for `http2 on;`).
    pub depends: &'static [&'static str],
}

/// Every release cts-deb knows, oldest first. The default targets are all of them.
pub const TARGETS: &[Target] = &[
    Target {
        codename: "bookworm",
        debian: 12,
        version_suffix: "+deb12",
        python: "3.11",
        glibc: (2, 36),
        postgresql: 15,
        rabbitmq: 3,
        nginx_http2_on: false,
        depends: &[],
    },
    Target {
        codename: "trixie",
        debian: 13,
        version_suffix: "+deb13",
        python: "3.13",
        glibc: (2, 41),
        postgresql: 17,
        rabbitmq: 4,
        nginx_http2_on: true,
        depends: &["nginx (>= 1.25.1)"],
    },
];

/// The release named `codename`, if cts-deb knows it.
pub fn by_name(codename: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.codename == codename)
}

/// The known codenames, for error messages: `bookworm, trixie`.
pub fn known() -> String {
    TARGETS.iter().map(|t| t.codename).collect::<Vec<_>>().join(", ")
}

impl Target {
    /// The package version for this release: `version` plus the suffix.
    pub fn version(&self, version: &str) -> String {
        format!("{version}{}", self.version_suffix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::Version;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn newer_release_orders_above_older_and_later_versions_above_both() {
        let [old, new] = [&TARGETS[0], &TARGETS[1]];
        assert!(v(&new.version("1.0.0-1")) > v(&old.version("1.0.0-1")));
        assert!(v(&old.version("1.0.0-2")) > v(&new.version("1.0.0-1")));
        // a build of a version installed before targets existed upgrades it
        assert!(v(&old.version("1.0.0-1")) > v("1.0.0-1"));
        assert!(v(&new.version("2:1.0")) > v(&old.version("2:1.0")));
    }

    #[test]
    fn table_is_ordered_and_unique() {
        for w in TARGETS.windows(2) {
            assert!(w[0].debian < w[1].debian);
        }
        assert_eq!(by_name("trixie").map(|t| t.debian), Some(13));
        assert_eq!(by_name("sid"), None);
        assert_eq!(known(), "bookworm, trixie");
    }
}
