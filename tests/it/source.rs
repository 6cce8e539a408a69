//! Application sources: a git repository at a ref, with its commit recorded.

use crate::{sh, Fixture, Test};

#[test]
fn git_source_is_checked_out_at_the_ref_and_its_commit_recorded() {
    let fx = Fixture::new();
    let app = fx.path("cts-app");
    let commit = sh(&format!(
        "cd {} && git init -q -b main . && git -c user.name=t -c user.email=t@t.invalid add -A \
         && git -c user.name=t -c user.email=t@t.invalid commit -q -m app && git tag v1 \
         && git rev-parse HEAD",
        app.display()
    ));
    fx.edit_config("path = \"cts-app\"", &format!("git = \"{}\"\nref = \"v1\"", app.display()));
    let out = fx.path("out");
    let deb = Test::new()
        .args(["build", "--config"])
        .args([fx.config()])
        .args(["--out"])
        .args([&out, std::path::Path::new("--target"), std::path::Path::new("bookworm")])
        .run()
        .success();
    let deb = deb.lines().next().unwrap(); // the common package; its dependencies package follows
    let recorded = sh(&format!(
        "dpkg-deb --fsys-tarfile {} | tar -xO ./usr/share/cts-server/source-commit",
        deb.trim()
    ));
    assert_eq!(recorded.trim(), commit.trim());
    let listing = sh(&format!("dpkg-deb --contents {}", deb.trim()));
    assert!(listing.contains("./usr/share/cts-server/app/manage.py"));
    assert!(!listing.contains("/.git"), "the checkout's .git must not ship");
}
