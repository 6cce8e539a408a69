//! Retention: `--keep-last N` drops all but the N highest versions of each package and
//! architecture named on the command line, and the pool files that leave the index get a
//! tombstone, so that `repo gc` removes them after the grace period (see
//! [`crate::repo::gc`]).
//!
//! Python dependencies packages (`<P>-pydeps-<key>`, one version each, named by their content)
//! would never be thinned by version: instead, one of a package `P` named on the command line
//! goes when no entry left in the suite depends on it any more, and stays while any kept
//! package names it, so that every kept version of `P` stays installable.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::Published1;
use crate::repo::db::Entry;
use crate::version::Version;

/// Removes from `entries` what `--keep-last` (`keep`) drops, and returns it.
pub(super) fn keep_last(
    keep: Option<usize>,
    rows: &[Published1],
    entries: &mut Vec<Entry>,
) -> Vec<Entry> {
    let mut removed: Vec<Entry> = Vec::new();
    let Some(n) = keep else {
        return removed;
    };
    let dropped = dropped(n, rows, entries);
    remove_indices(entries, &dropped, &mut removed);
    let orphans = orphaned_deps(rows, entries);
    remove_indices(entries, &orphans, &mut removed);
    removed
}

/// Moves the entries at `indices` from `entries` to `removed`.
fn remove_indices(entries: &mut Vec<Entry>, indices: &HashSet<usize>, removed: &mut Vec<Entry>) {
    let mut i = 0;
    entries.retain(|e| {
        let keep = !indices.contains(&i);
        if !keep {
            removed.push(e.clone());
        }
        i += 1;
        keep
    });
}

/// Indices of the dependencies packages (`<P>-pydeps-<key>`, `P` named by `rows`) that no entry
/// of `entries` depends on.
fn orphaned_deps(rows: &[Published1], entries: &[Entry]) -> HashSet<usize> {
    let names: HashSet<&str> = rows.iter().map(|r| r.package.as_str()).collect();
    let is_deps = |name: &str| names.iter().any(|p| crate::plan::is_deps_of(p, name));
    let wanted: HashSet<&str> = entries.iter().flat_map(|e| depended_on(&e.stanza)).collect();
    entries
        .iter()
        .enumerate()
        .filter(|(_, e)| is_deps(&e.package) && !wanted.contains(e.package.as_str()))
        .map(|(i, _)| i)
        .collect()
}

/// The package names a stanza's Depends and Pre-Depends name (every alternative; a field may
/// continue on lines that start with white space).
fn depended_on(stanza: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut in_relation = false;
    for line in stanza.lines() {
        let value = if line.starts_with([' ', '\t']) {
            if !in_relation {
                continue;
            }
            line
        } else {
            let v = line.strip_prefix("Depends:").or_else(|| line.strip_prefix("Pre-Depends:"));
            in_relation = v.is_some();
            match v {
                Some(v) => v,
                None => continue,
            }
        };
        for rel in value.split([',', '|']) {
            let name = rel.trim().split([' ', '(', ':']).next().unwrap_or_default();
            if !name.is_empty() {
                names.push(name);
            }
        }
    }
    names
}

/// Indices into `entries` of all but the `n` highest versions of each (package, arch) pair
/// that `rows` name.
fn dropped(n: usize, rows: &[Published1], entries: &[Entry]) -> HashSet<usize> {
    let groups: HashSet<(&str, &str)> =
        rows.iter().map(|r| (r.package.as_str(), r.architecture.as_str())).collect();
    let mut members: HashMap<(&str, &str), Vec<(Version, usize)>> = HashMap::new();
    for (i, e) in entries.iter().enumerate() {
        let key = (e.package.as_str(), e.architecture.as_str());
        if groups.contains(&key) {
            members.entry(key).or_default().push((e.parsed_version(), i));
        }
    }
    let mut drop: HashSet<usize> = HashSet::new();
    for mut versions in members.into_values() {
        versions.sort_by(|a, b| b.0.cmp(&a.0));
        drop.extend(versions.iter().skip(n).map(|(_, i)| *i));
    }
    drop
}

/// Tombstones the pool files of `removed` that no entry lists any more, and lifts the
/// tombstone of every pool file an entry lists (published again).
pub(super) fn tombstone_pool_files(
    tombstones: &mut BTreeMap<String, i64>,
    entries: &[Entry],
    removed: &[Entry],
    now: i64,
) {
    let referenced: HashSet<&str> = entries.iter().map(|e| e.filename.as_str()).collect();
    for e in removed {
        if !referenced.contains(e.filename.as_str()) {
            tombstones.insert(e.filename.clone(), now);
        }
    }
    for e in entries.iter() {
        tombstones.remove(&e.filename);
    }
}

#[cfg(test)]
mod tests {
    use super::depended_on;

    #[test]
    fn relations_are_read_by_name() {
        let stanza = "Package: cts-server\nPre-Depends: dpkg (>= 1.17)\n\
                      Depends: nginx (>= 1.25.1), a | b:any,\n cts-server-pydeps-0123 (= 1)\n\
                      Description: x\n y";
        assert_eq!(depended_on(stanza), ["dpkg", "nginx", "a", "b", "cts-server-pydeps-0123"]);
    }
}
