//! The package version and where it came from. Precedence: `--version`, then `package.version`,
//! then a tag pointing exactly at the packaged commit of a git source (`v1.2.3` or `1.2.3` →
//! upstream `1.2.3`, Debian revision `-1`), then the top entry of `debian/changelog`. The
//! target's suffix (`+deb12`, …) is added afterwards ([`crate::target::Target::version`]).
//!
//! Why the tag: a git source checked out at `v1.0` used to build as the changelog's `1.0.0-1`,
//! the version of the default build with other bytes, which apt and `publish` cannot tell
//! apart. A tag that names no valid version is ignored, not an error: repositories carry tags
//! such as `release-candidate` that were never meant as versions. This module is pure: it
//! returns the tags it ignored, and the caller warns about them and says which commit it
//! packages as which version ([`PackageVersion::summary`]).

use std::path::Path;

use super::build::PlanError;
use crate::config::{Config, SourceSpec};
use crate::render::TemplateSet;
use crate::source::SourceTree;
use crate::version::Version;

/// Which input gave the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionOrigin {
    /// `--version`.
    Flag,
    /// `package.version`.
    Config,
    /// A tag at the packaged commit ([`PackageVersion::tag`]).
    Tag,
    /// The top entry of `debian/changelog`.
    Changelog,
}

/// A tag at the packaged commit that names no valid version, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredTag {
    pub tag: String,
    pub reason: String,
}

/// The chosen version, before the target's suffix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageVersion {
    pub version: String,
    pub origin: VersionOrigin,
    /// The version tag at the packaged commit, whether it gave the version or was overridden.
    pub tag: Option<String>,
    /// Tags at the packaged commit that name no version.
    pub ignored: Vec<IgnoredTag>,
}

/// The candidates, in the order they win.
#[derive(Debug, Clone, Copy)]
struct Candidates<'a> {
    flag: Option<&'a str>,
    configured: Option<&'a str>,
    tags: &'a [String],
    /// The configured `source.ref`: of several version tags, the one it names wins.
    git_ref: Option<&'a str>,
    changelog: &'a str,
}

/// The package version for the planner's inputs: reads the changelog's top entry, then
/// checks the choice. The build calls this once to report the choice; the planner, per target.
pub fn package_version(
    config: &Config,
    templates: &TemplateSet,
    source: &SourceTree,
    flag: Option<&str>,
) -> Result<PackageVersion, PlanError> {
    let changelog = super::docs::changelog(templates)?;
    checked(config, &templates.origin, source, flag, &changelog.top.version)
}

/// The chosen version, checked; an error names the input it came from.
pub(super) fn checked(
    config: &Config,
    templates_origin: &str,
    source: &SourceTree,
    flag: Option<&str>,
    changelog: &str,
) -> Result<PackageVersion, PlanError> {
    let git_ref = match (&source.commit, &config.source) {
        (Some(_), SourceSpec::Git { git_ref, .. }) => Some(git_ref.as_str()),
        _ => None,
    };
    let chosen = choose(Candidates {
        flag,
        configured: config.package.version.as_deref(),
        tags: &source.tags,
        git_ref,
        changelog,
    });
    let origin = match chosen.origin {
        VersionOrigin::Flag => "--version".to_string(),
        VersionOrigin::Config => format!("{}: package.version", config.file.display()),
        VersionOrigin::Tag => format!("tag `{}`", chosen.tag.as_deref().unwrap_or_default()),
        VersionOrigin::Changelog => format!("{templates_origin}/debian/changelog"),
    };
    crate::config::check_version(&chosen.version)
        .map_err(|message| PlanError::Version { origin, message })?;
    Ok(chosen)
}

/// The first candidate present; the tags' versions are checked here, the others by the caller.
fn choose(c: Candidates) -> PackageVersion {
    let (tagged, ignored) = version_tag(c.tags, c.git_ref);
    let tag = tagged.as_ref().map(|(tag, _)| tag.clone());
    let (version, origin) = match (c.flag, c.configured, tagged) {
        (Some(v), _, _) => (v.to_string(), VersionOrigin::Flag),
        (None, Some(v), _) => (v.to_string(), VersionOrigin::Config),
        (None, None, Some((_, v))) => (v, VersionOrigin::Tag),
        (None, None, None) => (c.changelog.to_string(), VersionOrigin::Changelog),
    };
    PackageVersion { version, origin, tag, ignored }
}

/// Of the tags at the commit, the one that gives the version (and that version): the tag
/// `git_ref` names if it is a version tag, else the highest version; plus the tags that name
/// no version.
fn version_tag(
    tags: &[String],
    git_ref: Option<&str>,
) -> (Option<(String, String)>, Vec<IgnoredTag>) {
    let mut versions = Vec::new();
    let mut ignored = Vec::new();
    for tag in tags {
        match tag_version(tag) {
            Ok(version) => versions.push((tag.clone(), version)),
            Err(reason) => ignored.push(IgnoredTag { tag: tag.clone(), reason }),
        }
    }
    let named = |tag: &str| {
        git_ref.is_some_and(|r| {
            let r = r.strip_prefix("refs/").unwrap_or(r);
            r.strip_prefix("tags/").unwrap_or(r) == tag
        })
    };
    let by_ref = versions.iter().position(|(tag, _)| named(tag));
    let pick = by_ref.or_else(|| {
        let highest = versions.iter().enumerate().max_by_key(|(_, (_, v))| Version::parse(v).ok());
        highest.map(|(i, _)| i)
    });
    (pick.map(|i| versions.swap_remove(i)), ignored)
}

/// `v1.2.3` or `1.2.3` → `1.2.3-1`, if that is a version the build accepts. A pre-release
/// (`v2.0.0-rc1`, `2.0.0rc1`, `2.0b2`) gets `~` (`2.0.0~rc1-1`), so that it sorts below the
/// release (`2.0.0-1`) as it must, or the release could never be published after it.
fn tag_version(tag: &str) -> Result<String, String> {
    let upstream = match tag.strip_prefix('v') {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
        _ => tag,
    };
    let version = format!("{}-1", pre_release_tilde(upstream));
    crate::config::check_version(&version)?;
    Ok(version)
}

/// `2.0.0-rc1` / `2.0.0.rc1` / `2.0.0rc1` → `2.0.0~rc1`: a pre-release word (`alpha`, `beta`,
/// `rc`, `pre`, `dev`, `a`, `b`) right after a digit (or after `-`/`.` after a digit) and followed
/// by a digit or the end. Anything else is returned as it is.
fn pre_release_tilde(upstream: &str) -> String {
    const WORDS: [&str; 7] = ["alpha", "beta", "pre", "dev", "rc", "a", "b"];
    let b = upstream.as_bytes();
    for i in 1..b.len() {
        let (start, before) = match b[i - 1] {
            b'-' | b'.' if i >= 2 && b[i - 2].is_ascii_digit() => (i - 1, i),
            c if c.is_ascii_digit() => (i, i),
            _ => continue,
        };
        for w in WORDS {
            let rest = &upstream[before..];
            let after = rest.strip_prefix(w).map(|r| r.as_bytes().first().copied());
            if let Some(None | Some(b'0'..=b'9')) = after {
                return format!("{}~{}", &upstream[..start], rest);
            }
        }
    }
    upstream.to_string()
}

impl PackageVersion {
    /// Whether the tags were consulted (nothing above them gave a version), so ignored tags
    /// deserve a warning.
    pub fn consulted_tags(&self) -> bool {
        matches!(self.origin, VersionOrigin::Tag | VersionOrigin::Changelog)
    }

    /// One line for the operator: what is packaged, as which version, from where; e.g.
    /// `packaging commit 0123… (tag v1.2.3) as version 1.2.3-1`.
    pub fn summary(&self, commit: Option<&str>, root: &Path) -> String {
        let what = match commit {
            Some(commit) => format!("commit {commit}"),
            None => format!("directory {}", root.display()),
        };
        let tag = self.tag.as_ref().map(|t| format!(" (tag {t})")).unwrap_or_default();
        let from = match self.origin {
            VersionOrigin::Flag => " (from --version)",
            VersionOrigin::Config => " (from package.version)",
            VersionOrigin::Tag => "",
            VersionOrigin::Changelog if commit.is_some() => {
                " (from debian/changelog: no version tag at this commit)"
            }
            VersionOrigin::Changelog => " (from debian/changelog)",
        };
        format!("packaging {what}{tag} as version {}{from}", self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn with(flag: Option<&str>, configured: Option<&str>, tags: &[String]) -> PackageVersion {
        choose(Candidates { flag, configured, tags, git_ref: None, changelog: "1.0.0-1" })
    }

    #[test]
    fn a_tag_names_the_upstream_version_with_revision_1() {
        assert_eq!(tag_version("v1.2.3"), Ok("1.2.3-1".into()));
        assert_eq!(tag_version("1.2.3"), Ok("1.2.3-1".into()));
        assert_eq!(tag_version("v2"), Ok("2-1".into()));
        assert_eq!(tag_version("1.2.3+really1.2"), Ok("1.2.3+really1.2-1".into()));
        assert!(tag_version("release").unwrap_err().contains("does not start with digit"));
        assert!(tag_version("v").unwrap_err().contains("does not start with digit"));
        assert!(tag_version("vv1").unwrap_err().contains("does not start with digit"));
        assert!(tag_version("1.2_3").unwrap_err().contains("invalid character '_'"));
        assert!(tag_version("release/1.2").unwrap_err().contains("does not start with digit"));
    }

    #[test]
    fn precedence_flag_then_config_then_tag_then_changelog() {
        let t = tags(&["v1.2.3"]);
        let v = |p: PackageVersion| (p.version, p.origin, p.tag);
        let tag = Some("v1.2.3".to_string());
        assert_eq!(
            v(with(Some("9-1"), Some("8-1"), &t)),
            ("9-1".into(), VersionOrigin::Flag, tag.clone())
        );
        assert_eq!(
            v(with(None, Some("8-1"), &t)),
            ("8-1".into(), VersionOrigin::Config, tag.clone())
        );
        assert_eq!(v(with(None, None, &t)), ("1.2.3-1".into(), VersionOrigin::Tag, tag));
        assert_eq!(v(with(None, None, &[])), ("1.0.0-1".into(), VersionOrigin::Changelog, None));
    }

    #[test]
    fn tags_that_name_no_version_are_ignored_and_returned() {
        let chosen = with(None, None, &tags(&["deployed", "v1.2.3"]));
        assert_eq!(chosen.version, "1.2.3-1");
        assert_eq!(chosen.ignored.len(), 1);
        assert_eq!(chosen.ignored[0].tag, "deployed");
        assert!(chosen.ignored[0].reason.contains("`deployed-1`"), "{:?}", chosen.ignored);
        let only_bad = with(None, None, &tags(&["deployed"]));
        assert_eq!(only_bad.origin, VersionOrigin::Changelog);
        assert!(only_bad.consulted_tags());
        assert!(!with(None, Some("8-1"), &tags(&["deployed"])).consulted_tags());
    }

    #[test]
    fn of_several_version_tags_the_ref_wins_else_the_highest() {
        let t = tags(&["v1.10", "v1.9", "v1.9.1"]);
        let pick = |git_ref| version_tag(&t, git_ref).0.unwrap();
        assert_eq!(pick(None), ("v1.10".into(), "1.10-1".into()));
        assert_eq!(pick(Some("main")), ("v1.10".into(), "1.10-1".into()));
        assert_eq!(pick(Some("v1.9")), ("v1.9".into(), "1.9-1".into()));
        assert_eq!(pick(Some("refs/tags/v1.9.1")), ("v1.9.1".into(), "1.9.1-1".into()));
    }

    #[test]
    fn the_summary_names_the_commit_the_tag_and_the_origin() {
        let root = Path::new("/src/cts-app");
        let c = Some("0123abcd");
        let t = tags(&["v1.2.3"]);
        assert_eq!(
            with(None, None, &t).summary(c, root),
            "packaging commit 0123abcd (tag v1.2.3) as version 1.2.3-1"
        );
        assert_eq!(
            with(Some("2.0-1"), None, &t).summary(c, root),
            "packaging commit 0123abcd (tag v1.2.3) as version 2.0-1 (from --version)"
        );
        assert_eq!(
            with(None, Some("3.0-1"), &[]).summary(c, root),
            "packaging commit 0123abcd as version 3.0-1 (from package.version)"
        );
        assert_eq!(
            with(None, None, &[]).summary(c, root),
            "packaging commit 0123abcd as version 1.0.0-1 (from debian/changelog: no version \
             tag at this commit)"
        );
        assert_eq!(
            with(None, None, &[]).summary(None, root),
            "packaging directory /src/cts-app as version 1.0.0-1 (from debian/changelog)"
        );
    }

    #[test]
    fn pre_release_tags_sort_below_the_release() {
        assert_eq!(tag_version("v2.0.0-rc1").unwrap(), "2.0.0~rc1-1");
        assert_eq!(tag_version("2.0.0rc1").unwrap(), "2.0.0~rc1-1");
        assert_eq!(tag_version("v2.0.0.beta2").unwrap(), "2.0.0~beta2-1");
        assert_eq!(tag_version("v2.0b1").unwrap(), "2.0~b1-1");
        assert_eq!(tag_version("v1.2.3").unwrap(), "1.2.3-1");
        assert_eq!(tag_version("v1.2.3-foo").unwrap(), "1.2.3-foo-1");
        let (rc, release) = (tag_version("v2.0.0-rc1").unwrap(), tag_version("v2.0.0").unwrap());
        assert!(Version::parse(&rc).unwrap() < Version::parse(&release).unwrap());
    }
}
