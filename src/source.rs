//! The application source: a directory, or a git repository checked out at a ref into a temporary
//! directory (its commit is recorded in the package; the tags pointing at it may name the
//! version, see [`crate::plan::package_version`]). Lists the files to ship, leaving out what must
//! never be in a package: dot files and directories (`.git`, `.env`, editor state),
//! `__pycache__`, `*.pyc`.
//!
//! Two steps, [`checkout`] then [`Checkout::list`], so that a file the config names inside the
//! source (`python.requirements_in_source`) is found and refused with its key before the listing
//! refuses anything else about the tree.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::config::SourceSpec;
use crate::fsx;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("source directory `{}`: {message}", path.display())]
    Dir { path: PathBuf, message: String },
    #[error("source `{url}` at `{git_ref}`: {message}")]
    Git { url: String, git_ref: String, message: String },
    #[error(transparent)]
    Fs(#[from] fsx::FsError),
}

/// One entry below the source root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    Dir,
    File { size: u64, executable: bool },
    Symlink { target: String },
}

#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Relative to the source root, `/`-separated.
    pub rel: String,
    pub kind: SourceKind,
}

/// A resolved source tree. Holds the temporary checkout (if any) alive.
#[derive(Debug)]
pub struct SourceTree {
    pub root: PathBuf,
    /// The checked-out commit of a git source.
    pub commit: Option<String>,
    /// The tags pointing exactly at `commit`, sorted by name; none for a directory.
    pub tags: Vec<String>,
    pub files: Vec<SourceFile>,
    _checkout: Option<tempfile::TempDir>,
}

/// A source root that exists and is a directory, its files not yet listed.
#[derive(Debug)]
pub struct Checkout {
    pub root: PathBuf,
    pub commit: Option<String>,
    pub tags: Vec<String>,
    tmp: Option<tempfile::TempDir>,
}

/// Finds the source root, checking a git source out first: `dir_override` (from `--source`)
/// wins over the config.
pub fn checkout(spec: &SourceSpec, dir_override: Option<&Path>) -> Result<Checkout, SourceError> {
    let (root, git, tmp) = match (dir_override, spec) {
        (Some(dir), _) => (dir.to_path_buf(), None, None),
        (None, SourceSpec::Dir(dir)) => (dir.clone(), None, None),
        (None, SourceSpec::Git { url, git_ref }) => {
            let (tmp, git) = checkout_git(url, git_ref)?;
            (tmp.path().join("src"), Some(git), Some(tmp))
        }
    };
    let meta = fsx::metadata(&root).map_err(|e| SourceError::Dir {
        path: root.clone(),
        message: match e.source.kind() {
            std::io::ErrorKind::NotFound => "does not exist".into(),
            _ => e.source.to_string(),
        },
    })?;
    if !meta.is_dir() {
        return Err(SourceError::Dir { path: root, message: "is not a directory".into() });
    }
    let (commit, tags) = git.map_or((None, Vec::new()), |g| (Some(g.commit), g.tags));
    Ok(Checkout { root, commit, tags, tmp })
}

impl Checkout {
    /// Lists the files to ship; the root must hold a Django project (`manage.py`).
    pub fn list(self) -> Result<SourceTree, SourceError> {
        let files = list(&self.root)?;
        if !files.iter().any(|f| f.rel == "manage.py") {
            return Err(SourceError::Dir {
                path: self.root,
                message: "has no manage.py at its top: expected a Django project".into(),
            });
        }
        let Checkout { root, commit, tags, tmp } = self;
        Ok(SourceTree { root, commit, tags, files, _checkout: tmp })
    }
}

/// Whether a file or directory of this name is left out of a package: dot files and directories,
/// Python bytecode, editor backups. The templates (`render`) follow the same rule.
pub(crate) fn excluded(name: &str) -> bool {
    name.starts_with('.')
        || name == "__pycache__"
        || name.ends_with(".pyc")
        || name.ends_with(".pyo")
        || name.ends_with('~')
}

fn list(root: &Path) -> Result<Vec<SourceFile>, SourceError> {
    let mut out = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| !excluded(&e.file_name().to_string_lossy()));
    for entry in walker {
        let entry = entry.map_err(|e| {
            let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| root.to_path_buf());
            SourceError::Dir { path, message: format!("cannot be read: {e}") }
        })?;
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let rel = rel
            .to_str()
            .ok_or_else(|| SourceError::Dir {
                path: entry.path().to_path_buf(),
                message: "the name is not UTF-8".into(),
            })?
            .to_string();
        let ft = entry.file_type();
        let kind = if ft.is_dir() {
            SourceKind::Dir
        } else if ft.is_symlink() {
            let target = fsx::read_link(entry.path())?;
            let target = target.to_string_lossy().into_owned();
            let depth = rel.matches('/').count();
            let ups = target.split('/').filter(|s| *s == "..").count();
            if target.starts_with('/') || ups > depth {
                return Err(SourceError::Dir {
                    path: entry.path().to_path_buf(),
                    message: format!("symlink to `{target}` points outside the source tree"),
                });
            }
            SourceKind::Symlink { target }
        } else if ft.is_file() {
            use std::os::unix::fs::PermissionsExt;
            let meta = fsx::metadata(entry.path())?;
            // Fail now, not half-way through writing, if a file cannot be read.
            fsx::open(entry.path())?;
            SourceKind::File {
                size: meta.len(),
                executable: meta.permissions().mode() & 0o111 != 0,
            }
        } else {
            return Err(SourceError::Dir {
                path: entry.path().to_path_buf(),
                message: "is neither a file, a directory nor a symlink".into(),
            });
        };
        out.push(SourceFile { rel, kind });
    }
    Ok(out)
}

/// What a git checkout records: its commit and the tags pointing at it.
struct GitHead {
    commit: String,
    tags: Vec<String>,
}

fn checkout_git(url: &str, git_ref: &str) -> Result<(tempfile::TempDir, GitHead), SourceError> {
    let err =
        |message: String| SourceError::Git { url: url.into(), git_ref: git_ref.into(), message };
    let tmp = tempfile::Builder::new()
        .prefix("cts-deb-src-")
        .tempdir()
        .map_err(|e| err(format!("cannot create a temporary directory: {e}")))?;
    let dest = tmp.path().join("src");
    let run = |args: &[&str]| -> Result<String, SourceError> {
        let out = Command::new("git")
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .output()
            .map_err(|e| err(format!("cannot run git: {e}")))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(err(format!("git {} failed: {}", args[0], stderr.trim())));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let d = dest.to_string_lossy().into_owned();
    run(&["clone", "--quiet", "--no-checkout", "--", url, &d])?;
    run(&["-C", &d, "-c", "advice.detachedHead=false", "checkout", "--quiet", git_ref])?;
    let commit = run(&["-C", &d, "rev-parse", "HEAD"])?;
    // Annotated tags count too: `--points-at` matches a tag object's target.
    let tags = run(&["-C", &d, "tag", "--list", "--points-at", &commit])?;
    let tags = tags.lines().map(str::to_string).collect();
    Ok((tmp, GitHead { commit, tags }))
}
