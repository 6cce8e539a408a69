//! The common package's data.tar entries: the application source, the source commit and every
//! rendered file, collected in [`Files`], which adds the parent directories
//! and refuses two sources for one path. Conffiles and maintainer scripts are sorted out of
//! the rendered templates here too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::build::{Inputs, PlanError};
use super::docs::gzip_n;
use super::{ControlMember, Entry, EntryKind, FileSource};
use crate::render::{Rendered, Target as Dest};
use crate::source::SourceKind;

pub(super) fn disk(path: PathBuf, size: u64) -> EntryKind {
    EntryKind::File { source: FileSource::Disk(path), size }
}

pub(super) fn bytes(b: Vec<u8>) -> EntryKind {
    let size = b.len() as u64;
    EntryKind::File { source: FileSource::Bytes(b), size }
}

/// Adds the application under `usr/share/<name>/app` and, for a git source, the commit. (The
/// wheels and the requirements are the dependencies package's: [`super::pydeps`].)
pub(super) fn add_inputs(files: &mut Files, inputs: &Inputs, name: &str) -> Result<(), PlanError> {
    let share_rel = format!("usr/share/{name}");
    add_source(files, inputs, &share_rel)?;
    files.dir(&format!("{share_rel}/app"));
    if let Some(commit) = &inputs.source.commit {
        files.add(
            format!("{share_rel}/source-commit"),
            0o644,
            bytes(format!("{commit}\n").into_bytes()),
            "source.git",
        )?;
    }
    Ok(())
}

/// The source tree, as found, under `<share_rel>/app`.
fn add_source(files: &mut Files, inputs: &Inputs, share_rel: &str) -> Result<(), PlanError> {
    for f in &inputs.source.files {
        let path = format!("{share_rel}/app/{}", f.rel);
        let from = inputs.source.root.join(&f.rel);
        match &f.kind {
            SourceKind::Dir => files.dir(&path),
            SourceKind::File { size, executable } => {
                let mode = if *executable { 0o755 } else { 0o644 };
                files.add(path, mode, disk(from, *size), "the source")?;
            }
            SourceKind::Symlink { target } => files.add(
                path,
                0o777,
                EntryKind::Symlink { target: target.clone() },
                "the source",
            )?,
        }
    }
    Ok(())
}

/// Adds every rendered file to `files`; returns the conffiles (absolute paths, in template
/// order) and the control members (unsorted).
pub(super) fn add_rendered(
    files: &mut Files,
    rendered: &[Rendered],
) -> Result<(Vec<String>, Vec<ControlMember>), PlanError> {
    let mut conffiles = Vec::new();
    let mut scripts = Vec::new();
    for r in rendered {
        match r.target {
            Dest::Conffile => {
                conffiles.push(format!("/{}", r.path));
                files.add(r.path.clone(), 0o644, bytes(r.contents.clone()), &r.template)?;
            }
            Dest::File if r.path.starts_with("usr/share/man/") => {
                // Man pages ship gzip'd (`gzip -9n`), as Policy 12.1 asks.
                let path = format!("{}.gz", r.path.trim_end_matches(".gz"));
                files.add(path, 0o644, bytes(gzip_n(&r.contents)), &r.template)?;
            }
            Dest::File => {
                let mode = if executable(&r.path) { 0o755 } else { 0o644 };
                files.add(r.path.clone(), mode, bytes(r.contents.clone()), &r.template)?;
            }
            Dest::Script => scripts.push(ControlMember {
                name: r.path.clone(),
                // `triggers` is data for dpkg; the scripts are executables.
                mode: if r.path == "triggers" { 0o644 } else { 0o755 },
                contents: r.contents.clone(),
            }),
        }
    }
    Ok((conffiles, scripts))
}

/// Whether a rendered file at `path` is a program: in `usr/sbin`, `usr/bin` or any `bin`.
fn executable(path: &str) -> bool {
    path.starts_with("usr/sbin/")
        || path.starts_with("usr/bin/")
        || path.split('/').rev().nth(1) == Some("bin")
}

/// Collects entries, adds every parent directory, refuses two sources for one path. Keyed by path,
/// so conflicts are found at once and the result comes out in byte order.
#[derive(Default)]
pub(super) struct Files {
    /// Path → (entry, where it came from, for conflict messages).
    entries: BTreeMap<String, (Entry, String)>,
    dirs: BTreeSet<String>,
}

impl Files {
    /// Records `path` and its ancestors as directories (stops at the first one already known).
    pub(super) fn dir(&mut self, path: &str) {
        let mut p = path;
        while self.dirs.insert(p.to_string()) {
            match p.rsplit_once('/') {
                Some((parent, _)) => p = parent,
                None => break,
            }
        }
    }

    pub(super) fn add(
        &mut self,
        path: String,
        mode: u32,
        kind: EntryKind,
        from: &str,
    ) -> Result<(), PlanError> {
        if let Some((_, first)) = self.entries.get(&path) {
            return Err(PlanError::Conflict { path, first: first.clone(), second: from.into() });
        }
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.dir(parent);
        }
        self.entries.insert(path.clone(), (Entry { path, mode, kind }, from.to_string()));
        Ok(())
    }

    pub(super) fn into_entries(self) -> Vec<Entry> {
        let mut entries = self.entries;
        for d in self.dirs {
            entries.entry(d.clone()).or_insert_with(|| {
                (Entry { path: d, mode: 0o755, kind: EntryKind::Dir }, String::new())
            });
        }
        entries.into_values().map(|(e, _)| e).collect()
    }
}
