//! `debian/changelog` and `debian/copyright`: the changelog's top entry gives the default
//! version and the build clock, and both ship under `usr/share/doc/<name>` as Policy 12.5 and
//! 12.7 ask, the changelog gzip'd with `-9n` so that every build has the same bytes.

use std::io::Write;

use super::build::PlanError;
use super::payload::{bytes, Files};
use crate::changelog::TopEntry;
use crate::render::{TemplateError, TemplateSet};

/// `debian/changelog` and its top entry.
pub(super) struct Changelog<'a> {
    pub text: &'a str,
    pub top: TopEntry,
}

/// Reads `debian/changelog` from the templates.
pub(super) fn changelog(templates: &TemplateSet) -> Result<Changelog<'_>, PlanError> {
    let origin = &templates.origin;
    let text = templates.get("debian/changelog").ok_or_else(|| PlanError::Changelog {
        origin: origin.clone(),
        message: "missing".into(),
    })?;
    let top = crate::changelog::top_entry(text)
        .map_err(|e| PlanError::Changelog { origin: origin.clone(), message: e.to_string() })?;
    Ok(Changelog { text, top })
}

/// `debian/copyright` from the templates: every package of the set ships it.
pub(super) fn copyright(templates: &TemplateSet) -> Result<&str, PlanError> {
    Ok(templates.get("debian/copyright").ok_or_else(|| TemplateError::Layout {
        template: format!("{}/debian/copyright", templates.origin),
        message: "missing: every package needs a copyright file".into(),
    })?)
}

/// Adds `usr/share/doc/<name>/copyright` and the changelog: `changelog.Debian.gz` when the
/// version has a Debian revision, else `changelog.gz`.
pub(super) fn add_docs(
    files: &mut Files,
    templates: &TemplateSet,
    changelog_text: &str,
    name: &str,
    version: &str,
) -> Result<(), PlanError> {
    let doc = format!("usr/share/doc/{name}");
    let copyright = copyright(templates)?;
    files.add(
        format!("{doc}/copyright"),
        0o644,
        bytes(copyright.as_bytes().to_vec()),
        "debian/copyright",
    )?;
    let changelog_name = if version.contains('-') { "changelog.Debian.gz" } else { "changelog.gz" };
    files.add(
        format!("{doc}/{changelog_name}"),
        0o644,
        bytes(gzip_n(changelog_text.as_bytes())),
        "debian/changelog",
    )
}

/// gzip with `-9 -n` semantics: no file name, mtime 0 — the same bytes on every build.
pub(super) fn gzip_n(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(3)
        .write(Vec::new(), flate2::Compression::best());
    enc.write_all(data).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_deterministic() {
        assert_eq!(gzip_n(b"hello"), gzip_n(b"hello"));
        assert_eq!(&gzip_n(b"hello")[4..8], &[0, 0, 0, 0]);
    }
}
