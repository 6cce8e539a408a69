//! Golden files: every rendered artifact of the reference config (control, conffiles, scripts,
//! shipped templates) is pinned under tests/golden/. `UPDATE_GOLDEN=1 cargo test golden`
//! rewrites them; review the diff like code.

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

#[test]
fn rendered_tree_matches_golden_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("rendered");
    Test::new().args(["render", "--out"]).args([&out]).run().success();
    let golden = repo_root().join("tests/golden/default");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let _ = std::fs::remove_dir_all(&golden);
        crate::copy_tree(&out, &golden);
        return;
    }
    assert_eq!(files(&out), files(&golden), "the set of rendered files changed");
    for f in files(&out) {
        let got = std::fs::read_to_string(out.join(&f)).unwrap();
        let want = std::fs::read_to_string(golden.join(&f)).unwrap();
        assert!(
            got == want,
            "{f} differs from tests/golden/default/{f} (UPDATE_GOLDEN=1 to accept):\n{}",
            first_difference(&want, &got)
        );
    }
}

fn first_difference(want: &str, got: &str) -> String {
    for (i, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        if w != g {
            return format!("line {}:\n- {w}\n+ {g}", i + 1);
        }
    }
    format!("lengths differ: {} vs {} lines", want.lines().count(), got.lines().count())
}
