//! Golden files: every rendered artifact (control, conffiles, scripts, shipped templates) of each
//! fixture — the reference config, and `remote` (tests/fixtures/remote/cts.toml) — is pinned
//! under tests/golden/<fixture>/<codename>/. `UPDATE_GOLDEN=1 cargo test golden` rewrites them
//! all; review the diff like code.

use std::path::Path;

use crate::{repo_root, Test};

fn files(root: &Path) -> Vec<String> {
    let mut v: Vec<String> = walkdir::WalkDir::new(root)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(root).unwrap().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Each golden fixture: its directory under tests/golden/ and its config (`None`: the embedded
/// reference config, examples/cts.toml).
const FIXTURES: &[(&str, Option<&str>)] = &[
    ("default", None),
    // PostgreSQL and RabbitMQ on other hosts, a provided certificate, one instance.
    ("remote", Some("tests/fixtures/remote/cts.toml")),
];

#[test]
fn rendered_tree_matches_golden_files() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut known: Vec<String> = FIXTURES.iter().map(|(name, _)| name.to_string()).collect();
    known.sort();
    let mut present: Vec<String> = std::fs::read_dir(repo_root().join("tests/golden"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    present.sort();
    if !update {
        assert_eq!(present, known, "tests/golden/ holds a directory per fixture, no others");
    }
    let mut failures = Vec::new();
    for (name, config) in FIXTURES {
        failures.extend(check_fixture(name, *config, update));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Renders one fixture and compares it with tests/golden/<name>/ (or rewrites that directory);
/// returns one message per difference.
fn check_fixture(name: &str, config: Option<&str>, update: bool) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("rendered");
    let mut test = Test::new().args(["render", "--out"]).args([&out]);
    if let Some(config) = config {
        test = test.args(["--config"]).args([repo_root().join(config)]);
    }
    test.run().success();
    let golden = repo_root().join("tests/golden").join(name);
    if update {
        let _ = std::fs::remove_dir_all(&golden);
        crate::copy_tree(&out, &golden);
        return Vec::new();
    }
    if files(&out) != files(&golden) {
        return vec![format!(
            "the set of rendered files of fixture `{name}` changed:\n  golden:   {:?}\n  rendered: {:?}",
            files(&golden),
            files(&out)
        )];
    }
    let mut failures = Vec::new();
    for f in files(&out) {
        let got = std::fs::read_to_string(out.join(&f)).unwrap();
        let want = std::fs::read_to_string(golden.join(&f)).unwrap();
        if got != want {
            failures.push(format!(
                "{f} differs from tests/golden/{name}/{f} (UPDATE_GOLDEN=1 to accept):\n{}",
                first_difference(&want, &got)
            ));
        }
    }
    failures
}

fn first_difference(want: &str, got: &str) -> String {
    for (i, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        if w != g {
            return format!("line {}:\n- {w}\n+ {g}", i + 1);
        }
    }
    format!("lengths differ: {} vs {} lines", want.lines().count(), got.lines().count())
}
