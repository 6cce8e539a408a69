//! The package cache: finished packages whose file name promises their bytes (the Python
//! dependencies package, [`crate::plan::Role::PythonDeps`], is named by a digest of its contents),
//! kept so that a rebuild with unchanged requirements copies the package instead of compressing
//! the wheelhouse again.
//!
//! Layout: `<dir>/<file name>.deb` and `<dir>/<file name>.deb.sha256` (the hex digest written when
//! it was stored). The build hashes the copy it makes (not the cached file before copying, which
//! could change in between) and uses it only when that digest matches the recorded one, so a
//! damaged or tampered entry is rebuilt rather than shipped. Entries appear by rename of a
//! complete, synced file. The cache is an optimisation: failing to store is a warning, never an
//! error of the build.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::fsx;

/// A cache entry: the package and the SHA-256 recorded when it was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cached {
    pub path: PathBuf,
    pub sha256: String,
}

/// A cache directory.
pub struct DebCache {
    dir: PathBuf,
}

impl DebCache {
    pub fn new(dir: &Path) -> DebCache {
        DebCache { dir: dir.to_path_buf() }
    }

    /// The cached package named `file_name` and the digest recorded when it was stored, if both
    /// are there. The caller checks its copy against the digest.
    pub fn lookup(&self, file_name: &str) -> Option<Cached> {
        let path = self.dir.join(file_name);
        let recorded = fsx::read_to_string(&self.sidecar(file_name)).ok()?;
        path.is_file().then(|| Cached { path, sha256: recorded.trim().to_string() })
    }

    /// Stores a copy of the package `path` under its file name.
    pub fn store(&self, path: &Path) -> Result<(), fsx::FsError> {
        let file_name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        fsx::create_dir_all(&self.dir)?;
        let digest = sha256_of(path)?;
        let tmp_err = |e| fsx::FsError::new("write", &self.dir, e);
        let mut tmp = tempfile::Builder::new()
            .prefix(".cts-deb-cache-")
            .tempfile_in(&self.dir)
            .map_err(tmp_err)?;
        std::io::copy(&mut fsx::open(path)?, tmp.as_file_mut()).map_err(tmp_err)?;
        tmp.as_file().sync_all().map_err(tmp_err)?;
        let target = self.dir.join(&file_name);
        tmp.persist(&target).map_err(|e| fsx::FsError::new("rename", &target, e.error))?;
        let mut side = tempfile::Builder::new()
            .prefix(".cts-deb-cache-")
            .tempfile_in(&self.dir)
            .map_err(tmp_err)?;
        writeln!(side, "{digest}").map_err(tmp_err)?;
        let side_path = self.sidecar(&file_name);
        side.persist(&side_path).map_err(|e| fsx::FsError::new("rename", &side_path, e.error))?;
        Ok(())
    }

    /// Whether the cache may be used: absent (it is created on the first store), or a directory
    /// (not a symlink) owned by this user that nobody else can write, since a package placed in
    /// it would ship to every server.
    pub fn usable(&self) -> Result<(), String> {
        use std::os::unix::fs::MetadataExt;
        let meta = match fsx::symlink_metadata(&self.dir) {
            Err(e) if e.source.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.to_string()),
            Ok(m) => m,
        };
        if !meta.file_type().is_dir() {
            return Err("not a directory".into());
        }
        if meta.uid() != rustix::process::geteuid().as_raw() {
            return Err(format!("owned by uid {}, not by this user", meta.uid()));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(format!("writable by others (mode {:o})", meta.mode() & 0o7777));
        }
        Ok(())
    }

    fn sidecar(&self, file_name: &str) -> PathBuf {
        self.dir.join(format!("{file_name}.sha256"))
    }
}

fn sha256_of(path: &Path) -> Result<String, fsx::FsError> {
    let mut f = fsx::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(|e| fsx::FsError::new("read", path, e))?;
    Ok(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::disallowed_methods)]
    use super::*;

    #[test]
    fn a_cache_others_can_write_is_not_used() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("cache");
        let cache = DebCache::new(&dir);
        assert_eq!(cache.usable(), Ok(()), "absent: created on the first store");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(cache.usable(), Ok(()));
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(cache.usable().unwrap_err().contains("writable by others"));
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        assert_eq!(DebCache::new(&link).usable(), Err("not a directory".into()));
    }

    #[test]
    fn stores_and_finds_with_the_digest_of_what_was_stored() {
        let tmp = tempfile::tempdir().unwrap();
        let deb = tmp.path().join("p-pydeps-abc_1_all.deb");
        std::fs::write(&deb, b"package bytes").unwrap();
        let cache = DebCache::new(&tmp.path().join("cache"));
        assert_eq!(cache.lookup("p-pydeps-abc_1_all.deb"), None);
        cache.store(&deb).unwrap();
        let hit = cache.lookup("p-pydeps-abc_1_all.deb").unwrap();
        assert_eq!(std::fs::read(&hit.path).unwrap(), b"package bytes");
        assert_eq!(hit.sha256, sha256_of(&deb).unwrap());
    }
}
