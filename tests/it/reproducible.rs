//! Reproducibility: the same inputs give byte-identical packages whatever the time zone, umask,
//! locale or working directory; the clock comes from SOURCE_DATE_EPOCH or the changelog.

use crate::{sh, Fixture, Test};

fn sha256(path: &str) -> String {
    sh(&format!("sha256sum {path}")).split_whitespace().next().unwrap().to_string()
}

#[test]
fn two_builds_under_different_tz_umask_locale_and_cwd_are_identical() {
    let fx = Fixture::new();
    let cfg = fx.config().display().to_string();
    let a = fx.path("a");
    let b = fx.path("b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let run_a = Test::with_umask("022", &["build", "--config", &cfg, "--out", "."])
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .cwd(&a)
        .run();
    let run_b = Test::with_umask("077", &["build", "--config", &cfg, "--out", "."])
        .env("TZ", "Asia/Tokyo")
        .env("LC_ALL", "C.UTF-8")
        .cwd(&b)
        .run();
    let (out_a, out_b) = (run_a.success(), run_b.success());
    assert_eq!(out_a.lines().count(), 2, "one package per target release");
    for (la, lb) in out_a.lines().zip(out_b.lines()) {
        let (pa, pb) = (a.join(la), b.join(lb));
        assert_eq!(pa.file_name(), pb.file_name());
        assert_eq!(sha256(&pa.display().to_string()), sha256(&pb.display().to_string()));
    }
}

#[test]
fn source_date_epoch_sets_every_timestamp() {
    let fx = Fixture::new();
    let out = fx.path("out");
    let stdout = Test::new()
        .args(["build", "--config"])
        .args([fx.config()])
        .args(["--out"])
        .args([&out])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .run()
        .success();
    for deb in stdout.lines() {
        check_clock(deb);
    }
}

fn check_clock(deb: &str) {
    // ar member dates and every tar entry carry the one clock.
    let ar = sh(&format!("TZ=UTC ar tv {deb}"));
    assert!(ar.lines().all(|l| l.contains("Nov 14") && l.contains("2023")), "{ar}");
    let listing = sh(&format!("dpkg-deb --fsys-tarfile {deb} | TZ=UTC tar -tv --full-time"));
    assert!(listing.lines().all(|l| l.contains("2023-11-14 22:13:20")), "{listing}");
}
