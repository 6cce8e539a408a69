//! The embedded default input: `examples/cts.toml` and the reference app beside it, compiled into
//! the binary so `cts-deb build` with no arguments works anywhere (inside the repository or not).

use std::path::PathBuf;

use include_dir::{include_dir, Dir};

use crate::fsx;

static EXAMPLES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/examples");

/// A materialised copy of the embedded examples; removed when dropped.
pub struct Defaults {
    dir: tempfile::TempDir,
}

impl Defaults {
    /// Writes the embedded examples into a fresh temporary directory.
    pub fn materialise() -> Result<Self, fsx::FsError> {
        let dir = tempfile::Builder::new()
            .prefix("cts-deb-defaults-")
            .tempdir()
            .map_err(|e| fsx::FsError::new("create", &std::env::temp_dir(), e))?;
        write_dir(&EXAMPLES, dir.path())?;
        Ok(Defaults { dir })
    }

    /// The path of the materialised `cts.toml`.
    pub fn config(&self) -> PathBuf {
        self.dir.path().join("cts.toml")
    }
}

fn write_dir(d: &Dir<'_>, base: &std::path::Path) -> Result<(), fsx::FsError> {
    for file in d.files() {
        let path = base.join(file.path());
        if let Some(parent) = path.parent() {
            fsx::create_dir_all(parent)?;
        }
        fsx::write(&path, file.contents())?;
    }
    for sub in d.dirs() {
        fsx::create_dir_all(&base.join(sub.path()))?;
        write_dir(sub, base)?;
    }
    Ok(())
}
