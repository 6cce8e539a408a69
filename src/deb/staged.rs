//! A dpkg-deb-style staged directory (`DEBIAN/control` + the payload tree) turned into a
//! [`PackagePlan`], so that cts-deb and `dpkg-deb --build` can be compared on the same input
//! (benchmarks, byte-level tests). Not used by `cts-deb build`, which plans from `cts.toml`.

use std::path::Path;

use super::DebError;
use crate::fsx;
use crate::plan::{installed_size_kib, ControlMember, Entry, EntryKind, FileSource, PackagePlan};

/// Plans every file, directory and symlink under `root` (modes from the file system, owner
/// root), sorted by path in byte order. `Installed-Size` is added when `control` lacks it.
pub fn plan_from_tree(
    root: &Path,
    control: Vec<(String, String)>,
    mtime: u64,
) -> Result<PackagePlan, DebError> {
    Ok(build_plan(scan(root)?, control, mtime))
}

fn build_plan(entries: Vec<Entry>, control: Vec<(String, String)>, mtime: u64) -> PackagePlan {
    let mut control = control;
    if !control.iter().any(|(k, _)| k == "Installed-Size") {
        let at = control.iter().position(|(k, _)| k == "Depends" || k == "Description");
        let field = ("Installed-Size".to_string(), installed_size_kib(&entries).to_string());
        control.insert(at.unwrap_or(control.len()), field);
    }
    let get = |k: &str| control.iter().find(|(n, _)| n == k).map_or("", |(_, v)| v.as_str());
    let version = get("Version");
    let version = version.split_once(':').map_or(version, |(_, v)| v);
    let file_name = format!("{}_{}_{}.deb", get("Package"), version, get("Architecture"));
    PackagePlan {
        control,
        entries,
        conffiles: Vec::new(),
        control_members: Vec::new(),
        mtime,
        file_name,
    }
}

/// Plans a staged directory the way `dpkg-deb --build` reads it: `DEBIAN/control` and
/// `DEBIAN/conffiles` become the control data, other `DEBIAN/*` files control members, the rest
/// the payload.
pub fn plan_from_staged_dir(dir: &Path, mtime: u64) -> Result<PackagePlan, DebError> {
    let debian = dir.join("DEBIAN");
    let control_path = debian.join("control");
    let text = fsx::read_to_string(&control_path)?;
    let control = super::reader::parse_control(&text)
        .map_err(|detail| DebError::Invalid { path: control_path.clone(), detail })?
        .into_iter()
        .map(|f| (f.name, f.value))
        .collect();
    let mut members = Vec::new();
    let mut conffiles = Vec::new();
    for e in scan(&debian)? {
        let src = debian.join(&e.path);
        match e.path.as_str() {
            "control" | "md5sums" => {}
            "conffiles" => {
                conffiles = fsx::read_to_string(&src)?.lines().map(str::to_string).collect();
            }
            name => members.push(ControlMember {
                name: name.to_string(),
                mode: e.mode,
                contents: fsx::read(&src)?,
            }),
        }
    }
    let mut entries = scan(dir)?;
    entries.retain(|e| e.path != "DEBIAN" && !e.path.starts_with("DEBIAN/"));
    let mut plan = build_plan(entries, control, mtime);
    plan.control_members = members;
    plan.conffiles = conffiles;
    Ok(plan)
}

fn scan(root: &Path) -> Result<Vec<Entry>, DebError> {
    use std::os::unix::fs::PermissionsExt;
    let mut entries = Vec::new();
    for item in walkdir::WalkDir::new(root).min_depth(1) {
        let item = item.map_err(|e| {
            let path = e.path().unwrap_or(root).to_path_buf();
            DebError::ReadSource { path, source: e.into() }
        })?;
        let rel = item.path().strip_prefix(root).unwrap_or(item.path());
        let path = rel.to_string_lossy().into_owned();
        let meta = fsx::symlink_metadata(item.path())?;
        let mode = meta.permissions().mode() & 0o7777;
        let kind = if meta.is_dir() {
            EntryKind::Dir
        } else if meta.file_type().is_symlink() {
            let target = fsx::read_link(item.path())?.to_string_lossy().into_owned();
            EntryKind::Symlink { target }
        } else {
            EntryKind::File {
                source: FileSource::Disk(item.path().to_path_buf()),
                size: meta.len(),
            }
        };
        let mode = if matches!(kind, EntryKind::Symlink { .. }) { 0o777 } else { mode };
        entries.push(Entry { path, mode, kind });
    }
    entries.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    Ok(entries)
}
