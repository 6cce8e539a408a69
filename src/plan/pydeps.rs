//! The Python dependencies package: the wheelhouse and the requirements file, in a package of
//! their own so that a release which changes only application code downloads only that code.
//!
//! **Named by its content.** The package is `<name>-pydeps-<key>`, version `1`, where `key` is a
//! digest of everything its bytes are made of ([`key`]): the wheels and the requirements file
//! (by SHA-256), the interpreter and architecture they are for, the maintainer and the copyright
//! text, and [`FORMAT`]. Two builds with the same requirements therefore produce the same file
//! name and the same bytes (publishing it again is a no-op, apt downloads nothing), and a new
//! requirements set is a new package beside the old one, which `apt autoremove` takes away once
//! the common package no longer depends on it. This is how Debian names ABI-bound packages
//! (`linux-image-<abi>`, `libssl3` → `libssl3t64`): a digest cannot be a version, because
//! versions must order and digests do not; a name needs no order.
//!
//! Why the control file is built here and not from a template: every byte of this package must be
//! covered by the key, and a user's `--templates` must not be able to change the bytes of a
//! package whose name promises them. When this module changes what it writes, bump [`FORMAT`].

use sha2::{Digest, Sha256};

use super::build::PlanError;
use super::docs::gzip_n;
use super::payload::{bytes, disk, Files};
use super::{installed_size_kib, PackagePlan};
use crate::target::Target;

/// Bumped whenever this module changes the bytes it plans for the same inputs.
pub const FORMAT: &str = "1";
/// The package version: the name carries the content, so the version never needs to move.
pub const VERSION: &str = "1";
/// The one clock of every dependencies package (2025-01-01T00:00:00Z): not the release's, so
/// that an application release leaves these bytes alone.
pub const MTIME: u64 = 1_735_689_600;
const DATE: &str = "Wed, 01 Jan 2025 00:00:00 +0000";

/// One wheel of the wheelhouse, with the digest the key is made of.
#[derive(Debug, Clone)]
pub struct Wheel {
    pub path: std::path::PathBuf,
    pub file_name: String,
    pub size: u64,
    pub sha256: String,
}

/// What the dependencies package is made of.
pub(super) struct DepsInputs<'a> {
    /// The common package's name (`cts-server`).
    pub name: &'a str,
    pub maintainer: &'a str,
    pub copyright: &'a str,
    pub target: &'a Target,
    pub arch: &'a str,
    pub pure: bool,
    pub wheels: &'a [Wheel],
    pub requirements: &'a std::path::Path,
    pub requirements_size: u64,
    pub requirements_sha256: &'a str,
}

/// The content key: 12 hex digits of a SHA-256 over every input of the package's bytes.
pub(super) fn key(d: &DepsInputs) -> String {
    let mut h = Sha256::new();
    let mut field = |k: &str, v: &str| {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([0]);
    };
    field("format", FORMAT);
    field("name", d.name);
    field("maintainer", d.maintainer);
    field("copyright", d.copyright);
    field("target", d.target.codename);
    field("python", d.target.python);
    field("arch", d.arch);
    field("requirements", d.requirements_sha256);
    for w in d.wheels {
        field(&w.file_name, &w.sha256);
    }
    hex::encode(h.finalize())[..12].to_string()
}

/// Whether `candidate` is a dependencies package of package `name`: `<name>-pydeps-` and a key
/// of 12 lowercase hex digits (a user's own `<name>-pydeps-tools` is not).
pub fn is_deps_of(name: &str, candidate: &str) -> bool {
    candidate.strip_prefix(name).and_then(|rest| rest.strip_prefix("-pydeps-")).is_some_and(|key| {
        key.len() == 12 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// The package's name for `key`.
pub(super) fn package_name(name: &str, key: &str) -> String {
    format!("{name}-pydeps-{key}")
}

/// Where the wheels and the requirements go: `/usr/share/<name>/pydeps/<key>`.
pub(super) fn dir(name: &str, key: &str) -> String {
    format!("/usr/share/{name}/pydeps/{key}")
}

/// The dependencies package, complete.
pub(super) fn plan(d: &DepsInputs, key: &str) -> Result<PackagePlan, PlanError> {
    let pkg = package_name(d.name, key);
    let dir = dir(d.name, key);
    let rel = dir.trim_start_matches('/');
    let mut files = Files::default();
    for w in d.wheels {
        let path = format!("{rel}/wheels/{}", w.file_name);
        files.add(path, 0o644, disk(w.path.clone(), w.size), "the wheelhouse")?;
    }
    let req = disk(d.requirements.to_path_buf(), d.requirements_size);
    files.add(format!("{rel}/requirements.txt"), 0o644, req, "python.requirements")?;
    let doc = format!("usr/share/doc/{pkg}");
    let copyright = bytes(d.copyright.as_bytes().to_vec());
    files.add(format!("{doc}/copyright"), 0o644, copyright, "debian/copyright")?;
    let changelog = bytes(gzip_n(changelog(d, &pkg).as_bytes()));
    files.add(format!("{doc}/changelog.gz"), 0o644, changelog, "the dependencies package")?;
    let overrides = bytes(lintian_overrides(&pkg).into_bytes());
    files.add(format!("usr/share/lintian/overrides/{pkg}"), 0o644, overrides, "lintian")?;
    let entries = files.into_entries();
    let control = control(d, &pkg, &dir, installed_size_kib(&entries));
    Ok(PackagePlan {
        control,
        entries,
        conffiles: Vec::new(),
        control_members: Vec::new(),
        mtime: MTIME,
        file_name: super::control::file_name(&pkg, VERSION, d.arch),
    })
}

fn control(d: &DepsInputs, pkg: &str, dir: &str, installed_size: u64) -> Vec<(String, String)> {
    let (major, minor) = d.target.python.split_once('.').unwrap_or((d.target.python, "0"));
    let next = minor.parse::<u32>().map_or(0, |m| m + 1);
    // Impure wheels install only on the interpreter they were made for.
    let depends = if d.pure {
        "python3".to_string()
    } else {
        format!("python3 (>= {major}.{minor}), python3 (<< {major}.{next})")
    };
    let description = format!(
        "Python dependencies of {name} ({n} wheels for Python {py})\n \
         The wheels of {name}'s pinned requirements for Python {py} on Debian {debian},\n \
         from which {name}-setup builds each release's virtualenv offline:\n \
         {dir}\n \
         The name carries a digest of the contents: a new set of requirements\n \
         is a new package, and apt autoremove removes this one once no\n \
         installed {name} depends on it.",
        name = d.name,
        n = d.wheels.len(),
        py = d.target.python,
        debian = d.target.debian,
    );
    [
        ("Package", pkg.to_string()),
        ("Version", VERSION.to_string()),
        ("Architecture", d.arch.to_string()),
        ("Maintainer", d.maintainer.to_string()),
        ("Installed-Size", installed_size.to_string()),
        ("Depends", depends),
        ("Section", "python".to_string()),
        ("Priority", "optional".to_string()),
        ("Description", description),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn changelog(d: &DepsInputs, pkg: &str) -> String {
    let mut text = format!("{pkg} ({VERSION}) unstable; urgency=medium\n\n");
    text.push_str(&format!("  * Python {} wheels for {}:\n", d.target.python, d.name));
    for w in d.wheels {
        text.push_str(&format!("    - {}\n", w.file_name));
    }
    text.push_str(&format!("\n -- {}  {DATE}\n", d.maintainer));
    text
}

fn lintian_overrides(pkg: &str) -> String {
    format!(
        "# Built by cts-deb for the organisation's own apt repository, never uploaded to Debian:\n\
         # its only changelog entry has no ITP bug to close.\n\
         {pkg}: initial-upload-closes-no-bugs\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs<'a>(wheels: &'a [Wheel], maintainer: &'a str, req: &'a str) -> DepsInputs<'a> {
        DepsInputs {
            name: "cts-server",
            maintainer,
            copyright: "c",
            target: &crate::target::TARGETS[1],
            arch: "all",
            pure: true,
            wheels,
            requirements: std::path::Path::new("/r"),
            requirements_size: 1,
            requirements_sha256: req,
        }
    }

    fn wheel(name: &str, sha: &str) -> Wheel {
        Wheel { path: name.into(), file_name: name.into(), size: 1, sha256: sha.into() }
    }

    #[test]
    fn the_key_changes_with_every_input_of_the_bytes_and_only_then() {
        let w = [wheel("a-1-py3-none-any.whl", "aa")];
        let base = key(&inputs(&w, "M <m@x>", "r1"));
        assert_eq!(base, key(&inputs(&w, "M <m@x>", "r1")));
        assert_eq!(base.len(), 12);
        assert_ne!(base, key(&inputs(&w, "N <m@x>", "r1")));
        assert_ne!(base, key(&inputs(&w, "M <m@x>", "r2")));
        assert_ne!(base, key(&inputs(&[wheel("a-1-py3-none-any.whl", "ab")], "M <m@x>", "r1")));
        let mut other = inputs(&w, "M <m@x>", "r1");
        other.target = &crate::target::TARGETS[0];
        assert_ne!(base, key(&other));
    }

    #[test]
    fn dependencies_packages_are_told_by_a_12_digit_key() {
        assert!(is_deps_of("cts-server", "cts-server-pydeps-0123456789ab"));
        assert!(!is_deps_of("cts-server", "cts-server-pydeps-tools"));
        assert!(!is_deps_of("cts-server", "cts-server-pydeps-0123456789AB"));
        assert!(!is_deps_of("cts", "cts-server-pydeps-0123456789ab"));
    }

    #[test]
    fn the_plan_is_named_by_the_key_and_pins_python_for_impure_wheels() {
        let w = [wheel("a-1-cp313-cp313-manylinux_2_17_x86_64.whl", "aa")];
        let mut d = inputs(&w, "M <m@x>", "r1");
        d.pure = false;
        d.arch = "amd64";
        let p = plan(&d, "0123456789ab").unwrap();
        assert_eq!(p.file_name, "cts-server-pydeps-0123456789ab_1_amd64.deb");
        assert_eq!(p.field("Depends"), Some("python3 (>= 3.13), python3 (<< 3.14)"));
        assert!(p.entries.iter().any(|e| e.path
            == "usr/share/cts-server/pydeps/0123456789ab/wheels/a-1-cp313-cp313-manylinux_2_17_x86_64.whl"));
        assert_eq!(p.mtime, MTIME);
    }
}
