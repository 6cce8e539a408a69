//! Application sources: a git repository at a ref, with its commit recorded, and its own
//! requirements file.

use std::path::Path;

use crate::{sh, Fixture, Run, Test};

/// `cts-deb <command> --target bookworm` on the fixture's config, plus `extra`, into `out`.
fn run(fx: &Fixture, command: &str, out: &Path, extra: &[&str]) -> Run {
    Test::new()
        .args([command, "--target", "bookworm", "--config"])
        .args([fx.config()])
        .args(["--out"])
        .args([out])
        .args(extra)
        .run()
}

/// The `Version` of a rendered tree's control file (`render --out DIR`).
fn rendered_version(out: &Path) -> String {
    let control = std::fs::read_to_string(out.join("bookworm/DEBIAN/control")).unwrap();
    let line = control.lines().find_map(|l| l.strip_prefix("Version: "));
    line.expect("a Version field").to_string()
}

#[test]
fn git_source_is_checked_out_at_the_ref_and_its_commit_recorded() {
    let fx = Fixture::new();
    let commit = fx.git_app("git tag v1");
    fx.use_git_source(Some("v1"));
    let deb = run(&fx, "build", &fx.path("out"), &[]).success();
    let deb = deb.lines().next().unwrap(); // the common package; its dependencies package follows
    let recorded = sh(&format!(
        "dpkg-deb --fsys-tarfile {} | tar -xO ./usr/share/cts-server/source-commit",
        deb.trim()
    ));
    assert_eq!(recorded.trim(), commit);
    let listing = sh(&format!("dpkg-deb --contents {}", deb.trim()));
    assert!(listing.contains("./usr/share/cts-server/app/manage.py"));
    assert!(!listing.contains("/.git"), "the checkout's .git must not ship");
}

/// Issue 13: `python.requirements_in_source` takes the requirements from the checked-out
/// source, not from a copy beside the config (nor from the repository's work tree).
#[test]
fn r13_requirements_come_from_the_git_source() {
    let fx = Fixture::new();
    let committed = std::fs::read(fx.path("cts-app/requirements.txt")).unwrap();
    fx.git_app("echo '# not committed' >> requirements.txt");
    fx.use_git_source(None);
    fx.edit_config(
        "requirements = \"cts-app/requirements.txt\"",
        "requirements_in_source = \"requirements.txt\"",
    );
    let deb = run(&fx, "build", &fx.path("out"), &[]).success();
    let shipped = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "dpkg-deb --fsys-tarfile {} | tar -xO ./usr/share/cts-server/requirements.txt",
            deb.trim()
        ))
        .output()
        .unwrap();
    assert!(shipped.status.success());
    assert_eq!(shipped.stdout, committed, "the committed requirements ship");
}

/// The same key with a `source.path` directory: the file below it.
#[test]
fn r13_requirements_in_source_work_with_a_source_directory() {
    let fx = Fixture::new();
    std::fs::rename(fx.path("cts-app/requirements.txt"), fx.path("cts-app/req.txt")).unwrap();
    fx.edit_config(
        "requirements = \"cts-app/requirements.txt\"",
        "requirements_in_source = \"./req.txt\"",
    );
    let out = fx.path("out");
    run(&fx, "render", &out, &[]).success();
    assert_eq!(rendered_version(&out), "1.0.0-1+deb12");
}
