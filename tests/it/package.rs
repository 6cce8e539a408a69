//! The built default package, checked with independent readers: dpkg-deb, md5sum, lintian,
//! sh -n and checkbashisms, and our own `inspect`.

use std::collections::BTreeMap;

use crate::{common_debs, default_debs, is_pydeps, sh, Test};

/// `dpkg-deb -x` and `-e` into a fresh directory.
fn extract(deb: &std::path::Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    sh(&format!(
        "dpkg-deb -x {0} {1}/root && dpkg-deb -e {0} {1}/DEBIAN",
        deb.display(),
        dir.path().display()
    ));
    dir
}

#[test]
fn md5sums_verify_after_dpkg_deb_extract() {
    for deb in default_debs() {
        let dir = extract(&deb);
        let out = sh(&format!(
            "cd {0}/root && md5sum -c --strict ../DEBIAN/md5sums | grep -vc ': OK$' || true",
            dir.path().display()
        ));
        assert_eq!(out.trim(), "0", "some md5sums did not verify");
        let n = sh(&format!("wc -l < {}/DEBIAN/md5sums", dir.path().display()));
        let least = if is_pydeps(&deb) { 20 } else { 30 };
        assert!(n.trim().parse::<u32>().unwrap() > least, "md5sums lists too few files: {n}");
    }
}

#[test]
fn dpkg_deb_and_inspect_agree() {
    for deb in default_debs() {
        let json = Test::new().args(["inspect", "--json"]).args([&deb]).run().success();
        let info: serde_json::Value = serde_json::from_str(&json).unwrap();

        // Control fields.
        let dpkg_fields = sh(&format!("dpkg-deb -f {}", deb.display()));
        let ours: BTreeMap<String, String> = info["control"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (f["name"].as_str().unwrap().to_string(), f["value"].as_str().unwrap().to_string())
            })
            .collect();
        for line in dpkg_fields.lines().filter(|l| !l.starts_with(' ')) {
            let (k, v) = line.split_once(": ").unwrap();
            let mine = ours.get(k).unwrap_or_else(|| panic!("inspect lacks field {k}"));
            assert_eq!(mine.lines().next().unwrap(), v, "field {k}");
        }

        // File list: paths, types and sizes.
        let contents = sh(&format!("dpkg-deb --contents {}", deb.display()));
        let mut dpkg_paths: Vec<(String, String)> = contents
            .lines()
            .map(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                let size = cols[2].to_string();
                let path = cols[5].trim_start_matches("./").trim_end_matches('/').to_string();
                (path, size)
            })
            .filter(|(p, _)| !p.is_empty())
            .collect();
        dpkg_paths.sort();
        let mut our_paths: Vec<(String, String)> = info["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let path =
                    f["path"].as_str().unwrap().trim_start_matches("./").trim_end_matches('/');
                (path.to_string(), f["size"].as_u64().unwrap_or(0).to_string())
            })
            .filter(|(p, _)| !p.is_empty())
            .collect();
        our_paths.sort();
        assert_eq!(our_paths, dpkg_paths, "inspect and dpkg-deb --contents disagree");

        // Conffiles (the dependencies package has none).
        if is_pydeps(&deb) {
            assert_eq!(info["conffiles"].as_array().map(Vec::len), Some(0));
            continue;
        }
        let dir = extract(&deb);
        let conffiles = std::fs::read_to_string(dir.path().join("DEBIAN/conffiles")).unwrap();
        let ours: Vec<String> = info["conffiles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().into())
            .collect();
        assert_eq!(ours, conffiles.lines().map(String::from).collect::<Vec<_>>());
        assert!(ours.iter().all(|c| c.starts_with("/etc/")));
        assert!(ours.contains(&"/etc/nginx/sites-available/cts.conf".to_string()));
    }
}

#[test]
fn installed_size_follows_dpkg_gencontrol() {
    for deb in default_debs() {
        let dir = extract(&deb);
        // dpkg-gencontrol: files and symlinks rounded up to KiB, 1 KiB for anything else.
        let expected = sh(&format!(
            "cd {}/root && find . -mindepth 1 \\( -type f -o -type l \\) -printf '%s\\n' \
         | awk '{{s += int(($1 + 1023) / 1024)}} END {{print s}}'; \
         find . -mindepth 1 ! -type f ! -type l | wc -l",
            dir.path().display()
        ));
        let mut nums = expected.split_whitespace().map(|n| n.parse::<u64>().unwrap());
        let expected = nums.next().unwrap() + nums.next().unwrap();
        let field = sh(&format!("dpkg-deb -f {} Installed-Size", deb.display()));
        assert_eq!(field.trim().parse::<u64>().unwrap(), expected);
    }
}

#[test]
fn maintainer_scripts_pass_sh_n_and_checkbashisms() {
    for deb in common_debs() {
        let dir = extract(&deb);
        let mut scripts: Vec<std::path::PathBuf> = ["preinst", "postinst", "prerm", "postrm"]
            .iter()
            .map(|s| dir.path().join("DEBIAN").join(s))
            .filter(|p| p.exists())
            .collect();
        assert!(scripts.len() >= 3, "expected maintainer scripts, found {scripts:?}");
        // Shell shipped in the payload (setup command, wrappers) counts too.
        for entry in walkdir::WalkDir::new(dir.path().join("root")) {
            let entry = entry.unwrap();
            if entry.file_type().is_file() {
                let head = std::fs::read(entry.path()).unwrap();
                if head.starts_with(b"#!/bin/sh") {
                    scripts.push(entry.path().to_path_buf());
                }
            }
        }
        for s in &scripts {
            let text = std::fs::read_to_string(s).unwrap();
            assert!(text.starts_with("#!/bin/sh"), "{} lacks #!/bin/sh", s.display());
            assert!(text.lines().any(|l| l.trim() == "set -e"), "{} lacks set -e", s.display());
            sh(&format!("sh -n {}", s.display()));
            sh(&format!("checkbashisms {}", s.display()));
        }
    }
}

#[test]
fn lintian_reports_no_errors_or_warnings() {
    for deb in default_debs() {
        let out = std::process::Command::new("lintian")
            .args(["--fail-on", "error,warning", "--display-info"])
            .arg(&deb)
            .output()
            .expect("lintian is installed (the test command installs it)");
        let text = String::from_utf8_lossy(&out.stdout);
        let bad: Vec<&str> =
            text.lines().filter(|l| l.starts_with("E:") || l.starts_with("W:")).collect();
        assert!(
            bad.is_empty() && out.status.success(),
            "lintian:\n{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Every override carries a written reason (a comment line above it).
        let dir = extract(&deb);
        let overrides = dir.path().join("root/usr/share/lintian/overrides/cts-server");
        if overrides.exists() {
            let text = std::fs::read_to_string(&overrides).unwrap();
            let mut prev = "";
            for line in text.lines() {
                if line.starts_with("cts-server:") {
                    assert!(prev.starts_with('#'), "override without a reason: {line}");
                }
                prev = line;
            }
        }
    }
}

#[test]
fn no_var_www_pycache_or_vcs_files_in_the_payload() {
    for deb in default_debs() {
        let contents = sh(&format!("dpkg-deb --contents {}", deb.display()));
        for bad in ["./var/www", "__pycache__", ".pyc", "/.git"] {
            assert!(!contents.contains(bad), "payload contains {bad}");
        }
        if is_pydeps(&deb) {
            assert!(contents.contains("/wheels/Django-") || contents.contains("/wheels/django-"));
            assert!(!contents.contains("./usr/share/cts-server/app/"), "code in the deps package");
        } else {
            assert!(contents.contains("./usr/share/cts-server/app/manage.py"));
            assert!(!contents.contains(".whl"), "a wheel in the common package");
        }
    }
}

#[test]
fn one_package_per_release_and_the_newer_release_orders_higher() {
    let debs = common_debs();
    let field = |deb: &std::path::Path, f: &str| sh(&format!("dpkg-deb -f {} {f}", deb.display()));
    let (old, new) = (field(&debs[0], "Version"), field(&debs[1], "Version"));
    assert!(old.trim().ends_with("+deb12") && new.trim().ends_with("+deb13"), "{old} {new}");
    // dpkg itself orders them: a 12 -> 13 dist-upgrade moves to the Debian 13 build.
    sh(&format!("dpkg --compare-versions {} gt {}", new.trim(), old.trim()));
    let site = |deb: &std::path::Path| {
        sh(&format!(
            "dpkg-deb --fsys-tarfile {} | tar -xO ./etc/nginx/sites-available/cts.conf",
            deb.display()
        ))
    };
    assert!(site(&debs[0]).contains("listen 443 ssl http2;"));
    let trixie = site(&debs[1]);
    assert!(trixie.contains("http2 on;") && !trixie.contains("ssl http2"), "{trixie}");
    // `http2 on;` needs nginx >= 1.25.1: the Debian 13 build says so.
    assert!(field(&debs[1], "Depends").contains("nginx (>= 1.25.1)"));
    assert!(!field(&debs[0], "Depends").contains("nginx ("));
}

#[test]
fn json_lists_every_package_built() {
    let fx = crate::Fixture::new();
    let out = fx.path("out");
    let json = Test::new()
        .args(["build", "--json", "--config"])
        .args([fx.config()])
        .args(["--out"])
        .args([&out])
        .run()
        .success();
    let list: serde_json::Value = serde_json::from_str(&json).unwrap();
    let sets: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["target"].as_str().unwrap(), p["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        sets,
        [
            ("bookworm", "common"),
            ("bookworm", "python-deps"),
            ("trixie", "common"),
            ("trixie", "python-deps")
        ]
    );
    // The common package depends on exactly the dependencies package built with it.
    for pair in list.as_array().unwrap().chunks(2) {
        let depends = sh(&format!("dpkg-deb -f {} Depends", pair[0]["path"].as_str().unwrap()));
        let deps = format!("{} (= {})", pair[1]["package"].as_str().unwrap(), pair[1]["version"]);
        assert!(depends.contains(&deps.replace('"', "")), "{depends} lacks {deps}");
    }
    for p in list.as_array().unwrap() {
        let path = std::path::Path::new(p["path"].as_str().unwrap());
        assert!(path.exists(), "{}", path.display());
        assert_eq!(sha256_of(path), p["sha256"].as_str().unwrap());
    }
    let one = Test::new()
        .args(["build", "--target", "trixie", "--config"])
        .args([fx.config()])
        .args(["--out"])
        .args([fx.path("one")])
        .run()
        .success();
    assert_eq!(one.lines().count(), 2);
    assert!(one.lines().next().unwrap().ends_with("cts-server_1.0.0-1+deb13_all.deb"), "{one}");
}

fn sha256_of(path: &std::path::Path) -> String {
    sh(&format!("sha256sum {}", path.display())).split_whitespace().next().unwrap().to_string()
}
