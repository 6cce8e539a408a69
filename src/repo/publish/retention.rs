//! Retention: `--keep-last N` drops all but the N highest versions of each package and
//! architecture named on the command line, and the pool files that leave the index get a
//! tombstone, so that `repo gc` removes them after the grace period (see
//! [`crate::repo::gc`]).

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
    let mut i = 0;
    entries.retain(|e| {
        let keep = !dropped.contains(&i);
        if !keep {
            removed.push(e.clone());
        }
        i += 1;
        keep
    });
    removed
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
