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
    // Without the package cache: both builds must make every package themselves.
    let run_a =
        Test::with_umask("022", &["build", "--no-package-cache", "--config", &cfg, "--out", "."])
            .env("TZ", "UTC")
            .env("LC_ALL", "C")
            .cwd(&a)
            .run();
    let run_b =
        Test::with_umask("077", &["build", "--no-package-cache", "--config", &cfg, "--out", "."])
            .env("TZ", "Asia/Tokyo")
            .env("LC_ALL", "C.UTF-8")
            .cwd(&b)
            .run();
    let (out_a, out_b) = (run_a.success(), run_b.success());
    assert_eq!(out_a.lines().count(), 4, "two packages per target release");
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
        // The dependencies package keeps its own fixed clock: an application release (a new
        // SOURCE_DATE_EPOCH) must not change the bytes its name promises.
        match deb.contains("-pydeps-") {
            true => check_clock(deb, ("Jan  1", "2025"), "2025-01-01 00:00:00"),
            false => check_clock(deb, ("Nov 14", "2023"), "2023-11-14 22:13:20"),
        }
    }
}

fn check_clock(deb: &str, (day, year): (&str, &str), full: &str) {
    // ar member dates and every tar entry carry the one clock.
    let ar = sh(&format!("TZ=UTC ar tv {deb}"));
    assert!(ar.lines().all(|l| l.contains(day) && l.contains(year)), "{ar}");
    let listing = sh(&format!("dpkg-deb --fsys-tarfile {deb} | TZ=UTC tar -tv --full-time"));
    assert!(listing.lines().all(|l| l.contains(full)), "{listing}");
}

#[test]
fn an_application_release_reuses_the_cached_dependencies_package_byte_for_byte() {
    let fx = Fixture::new();
    let cache = fx.path("cache");
    let build = |out: &str, version: &str| {
        let run = Test::new()
            .args(["build", "--config"])
            .args([fx.config()])
            .args(["--version", version, "--target", "trixie", "--package-cache"])
            .args([&cache])
            .args(["--out"])
            .args([fx.path(out)])
            .run();
        (run.success(), run.stderr())
    };
    let (first, _) = build("n", "1.0-1");
    let (second, log) = build("n1", "1.0-2");
    let (deps1, deps2) = (first.lines().nth(1).unwrap(), second.lines().nth(1).unwrap());
    assert!(deps1.contains("-pydeps-"), "{first}");
    assert!(log.contains("unchanged, from the package cache"), "{log}");
    assert_eq!(
        std::path::Path::new(deps1).file_name(),
        std::path::Path::new(deps2).file_name(),
        "the same requirements keep the same name"
    );
    assert_eq!(sha256(deps1), sha256(deps2));
    // and a build without the cache makes the very same bytes
    let fresh = Test::new()
        .args(["build", "--no-package-cache", "--config"])
        .args([fx.config()])
        .args(["--version", "1.0-3", "--target", "trixie", "--out"])
        .args([fx.path("fresh")])
        .run()
        .success();
    assert_eq!(sha256(fresh.lines().nth(1).unwrap()), sha256(deps1));
    // A damaged cache entry is not shipped: the build says so and makes the package again.
    let name = std::path::Path::new(deps1).file_name().unwrap();
    let entry = cache.join(name);
    let mut bytes = std::fs::read(&entry).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&entry, bytes).unwrap();
    let (third, log) = build("n2", "1.0-4");
    assert!(log.contains("differs from the digest it was stored with: rebuilding"), "{log}");
    assert_eq!(sha256(third.lines().nth(1).unwrap()), sha256(deps1));
    assert_eq!(sha256(&entry.display().to_string()), sha256(deps1), "the entry is stored again");
}
