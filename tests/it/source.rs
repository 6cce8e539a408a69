//! Application sources: a git repository at a ref, with its commit recorded, its tag as the
//! package version, and its own requirements file.

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

/// Issue 13: `v1.0` built as the changelog's `1.0.0-1`, the version of the default build with
/// other bytes. A version tag at the packaged commit now names the version; a tag that names
/// none is ignored with a warning; the build says which commit it packages as what.
#[test]
fn r13_a_version_tag_at_the_commit_names_the_package_version() {
    let fx = Fixture::new();
    let commit = fx.git_app("git tag -a -m release v1.2.3 && git tag deployed");
    fx.use_git_source(None);
    let out = fx.path("out");
    let built = run(&fx, "build", &out, &[]);
    let out = built.success();
    let deb = out.lines().next().unwrap(); // cts-server, then its dependencies package
    let version = sh(&format!("dpkg-deb -f {} Version", deb.trim()));
    assert_eq!(version.trim(), "1.2.3-1+deb12");
    assert!(deb.trim().ends_with("/cts-server_1.2.3-1+deb12_all.deb"), "{deb}");
    let err = built.stderr();
    let said = format!("cts-deb: packaging commit {commit} (tag v1.2.3) as version 1.2.3-1\n");
    assert!(err.contains(&said), "{err}");
    let warned = format!(
        "cts-deb: warning: tag `deployed` at commit {commit} is not a package version (invalid \
         version `deployed-1`: version number does not start with digit); ignored\n"
    );
    assert!(err.contains(&warned), "{err}");

    // `--version` and `package.version` win over the tag, and the tag is then not consulted.
    let flagged = run(&fx, "render", &fx.path("flag"), &["--version", "2.0-1"]);
    flagged.success();
    assert_eq!(rendered_version(&fx.path("flag")), "2.0-1+deb12");
    let said = format!("packaging commit {commit} (tag v1.2.3) as version 2.0-1 (from --version)");
    assert!(flagged.stderr().contains(&said), "{}", flagged.stderr());
    assert!(!flagged.stderr().contains("warning"), "{}", flagged.stderr());
    fx.edit_config("name = \"cts-server\"", "name = \"cts-server\"\nversion = \"3.0-1\"");
    run(&fx, "render", &fx.path("config"), &[]).success();
    assert_eq!(rendered_version(&fx.path("config")), "3.0-1+deb12");
}

/// Only a tag pointing exactly at the checked-out commit counts: one commit later the
/// changelog gives the version again; checked out at the tag, the tag does.
#[test]
fn r13_only_a_tag_at_the_checked_out_commit_counts() {
    let fx = Fixture::new();
    let head = fx.git_app("git tag v1.2.3 && git commit -q --allow-empty -m later");
    fx.use_git_source(None);
    let later = run(&fx, "render", &fx.path("head"), &[]);
    later.success();
    assert_eq!(rendered_version(&fx.path("head")), "1.0.0-1+deb12");
    let said = format!(
        "packaging commit {head} as version 1.0.0-1 (from debian/changelog: no version tag at \
         this commit)"
    );
    assert!(later.stderr().contains(&said), "{}", later.stderr());

    let git = format!("git = \"{}\"", fx.path("cts-app").display());
    fx.edit_config(&git, &format!("{git}\nref = \"v1.2.3\""));
    let tagged = run(&fx, "render", &fx.path("tag"), &[]);
    tagged.success();
    assert_eq!(rendered_version(&fx.path("tag")), "1.2.3-1+deb12");
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
    let out = run(&fx, "build", &fx.path("out"), &[]).success();
    // the requirements ship in the dependencies package, the second line
    let deps = out.lines().nth(1).unwrap();
    let shipped = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "dpkg-deb --fsys-tarfile {} | tar -xO --wildcards './usr/share/cts-server/pydeps/*/requirements.txt'",
            deps.trim()
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
