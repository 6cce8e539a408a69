//! `[python]`: where the pinned requirements file is, and reading it checked ([`requirements`]).
//!
//! Two places, one key each, exactly one of them given:
//!
//! - `python.requirements`: a file relative to `cts.toml`, read and checked on load, as before.
//! - `python.requirements_in_source`: a file relative to the application source root, so that a
//!   `source.git` repository's own requirements are the ones built, with no copy beside the
//!   config to drift from them. The source is not there yet on load (a git source is checked out
//!   later), so load checks only the path's form ([`in_source_path`]); once the source is
//!   resolved, [`requirements_file`] finds the file and runs the same content check. The file
//!   must stay inside the source tree: no `..`, no absolute path, no symlink out of it.

use std::path::{Component, Path, PathBuf};

use super::check::shown;
use super::raw::RawPython;
use super::resolve::Ctx;
use super::{requirements, Config, ConfigError, Requirements};

/// The key of a file next to the config.
pub const KEY_FILE: &str = "python.requirements";
/// The key of a file inside the application source.
pub const KEY_IN_SOURCE: &str = "python.requirements_in_source";

/// `[python]` on load: a file beside the config, read and checked now; or a path inside the
/// source, its form checked now and the file later ([`requirements_file`]).
pub(super) fn resolve(cx: &Ctx, raw: RawPython) -> Result<Requirements, ConfigError> {
    match (raw.requirements, raw.requirements_in_source) {
        (Some(rel), None) => {
            let path = cx.path(&rel);
            checked(&path).map_err(|m| cx.err(KEY_FILE, m))?;
            Ok(Requirements::File(path))
        }
        (None, Some(rel)) => {
            in_source_path(&rel).map(Requirements::InSource).map_err(|m| cx.err(KEY_IN_SOURCE, m))
        }
        (Some(_), Some(_)) => Err(cx.err(
            "python",
            "give either `requirements` (relative to this file) or `requirements_in_source` \
             (relative to the application source), not both",
        )),
        (None, None) => Err(cx.err(
            "python",
            "give `requirements` (a file relative to this file) or `requirements_in_source` (a \
             file relative to the application source root)",
        )),
    }
}

/// The requirements file of `config` for the source resolved at `source_root`: the checked
/// file beside the config, or the file inside the source, found and checked now. A missing,
/// escaping or invalid file is a [`ConfigError`] naming the key.
pub fn requirements_file(config: &Config, source_root: &Path) -> Result<PathBuf, ConfigError> {
    match &config.requirements {
        Requirements::File(path) => Ok(path.clone()),
        Requirements::InSource(rel) => {
            let err = |message| ConfigError {
                file: config.file.clone(),
                key: KEY_IN_SOURCE.into(),
                message,
            };
            let path = inside(source_root, rel).map_err(err)?;
            checked(&path).map_err(err)?;
            Ok(path)
        }
    }
}

/// The form of `python.requirements_in_source`: a relative path of plain names (`.` allowed),
/// one line, naming something below the source root.
fn in_source_path(rel: &str) -> Result<PathBuf, String> {
    super::check::one_line(rel)?;
    let path = Path::new(rel);
    let mut named = false;
    for component in path.components() {
        match component {
            Component::Normal(_) => named = true,
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(format!(
                    "`{}` contains `..`: name a file inside the application source",
                    shown(rel)
                ))
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!(
                    "`{}` is absolute: give a path relative to the application source root, \
                     such as `requirements.txt`",
                    shown(rel)
                ))
            }
        }
    }
    if !named {
        return Err("name a file relative to the application source root, such as \
                    `requirements.txt`"
            .into());
    }
    Ok(path.to_path_buf())
}

/// `root/rel` with every symlink resolved, refused unless it exists and stays below `root`.
fn inside(root: &Path, rel: &Path) -> Result<PathBuf, String> {
    let joined = root.join(rel);
    let root = crate::fsx::canonicalize(root).map_err(|e| {
        format!("cannot resolve the source root `{}`: {}", root.display(), e.source)
    })?;
    let path = crate::fsx::canonicalize(&joined).map_err(|e| match e.source.kind() {
        std::io::ErrorKind::NotFound => format!(
            "requirements file `{}` does not exist in the application source `{}`",
            rel.display(),
            root.display()
        ),
        _ => format!("cannot resolve `{}`: {}", joined.display(), e.source),
    })?;
    if !path.starts_with(&root) {
        return Err(format!(
            "`{}` leads to `{}` through a symlink, outside the application source `{}`",
            rel.display(),
            path.display(),
            root.display()
        ));
    }
    Ok(path)
}

/// An existing, readable UTF-8 file of pinned, hashed requirements ([`requirements::check`]).
fn checked(path: &Path) -> Result<(), String> {
    if !path.exists() {
        return Err(format!("requirements file `{}` does not exist", path.display()));
    }
    if !path.is_file() {
        return Err(format!("requirements file `{}` is not a file", path.display()));
    }
    let text = crate::fsx::read(path)
        .map_err(|e| format!("cannot read `{}`: {}", path.display(), e.source))?;
    let text = String::from_utf8(text).map_err(|_| format!("`{}` is not UTF-8", path.display()))?;
    requirements::check(&text).map_err(|bad| {
        format!("`{}` line {}: `{}`: {}", path.display(), bad.number, bad.text, bad.reason)
    })
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests may use std::fs directly
mod tests {
    use super::*;

    const H: &str = "9362660c4a31150cf18e78cae2ce8aa1e929fc6c6739e69f6dd5dbea9c3edc82";

    #[test]
    fn in_source_paths_are_relative_and_stay_below_the_root() {
        assert_eq!(in_source_path("requirements.txt"), Ok(PathBuf::from("requirements.txt")));
        assert_eq!(in_source_path("./req/base.txt"), Ok(PathBuf::from("./req/base.txt")));
        assert!(in_source_path("../requirements.txt").unwrap_err().contains("contains `..`"));
        assert!(in_source_path("req/../../x.txt").unwrap_err().contains("contains `..`"));
        assert!(in_source_path("/etc/requirements.txt").unwrap_err().contains("is absolute"));
        assert!(in_source_path("").unwrap_err().contains("name a file"));
        assert!(in_source_path(".").unwrap_err().contains("name a file"));
        assert!(in_source_path("a\nb").unwrap_err().contains("one line"));
    }

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src/req")).unwrap();
        std::fs::write(dir.path().join("src/req/ok.txt"), format!("a==1 --hash=sha256:{H}\n"))
            .unwrap();
        std::fs::write(dir.path().join("outside.txt"), format!("a==1 --hash=sha256:{H}\n"))
            .unwrap();
        dir
    }

    #[test]
    fn a_file_inside_is_found_through_symlinks_that_stay_inside() {
        let dir = tree();
        let root = dir.path().join("src");
        std::os::unix::fs::symlink("req", root.join("alias")).unwrap();
        let want = std::fs::canonicalize(root.join("req/ok.txt")).unwrap();
        assert_eq!(inside(&root, Path::new("req/ok.txt")), Ok(want.clone()));
        assert_eq!(inside(&root, Path::new("alias/ok.txt")), Ok(want.clone()));
        assert_eq!(checked(&want), Ok(()));
    }

    #[test]
    fn a_symlink_out_of_the_tree_or_a_missing_file_is_refused() {
        let dir = tree();
        let root = dir.path().join("src");
        std::os::unix::fs::symlink("../outside.txt", root.join("out.txt")).unwrap();
        std::os::unix::fs::symlink(dir.path(), root.join("up")).unwrap();
        let out = inside(&root, Path::new("out.txt")).unwrap_err();
        assert!(out.contains("through a symlink, outside the application source"), "{out}");
        let up = inside(&root, Path::new("up/outside.txt")).unwrap_err();
        assert!(up.contains("outside the application source"), "{up}");
        let missing = inside(&root, Path::new("nope.txt")).unwrap_err();
        assert!(missing.starts_with("requirements file `nope.txt` does not exist"), "{missing}");
        assert!(checked(&root.join("req")).unwrap_err().contains("is not a file"));
    }
}
