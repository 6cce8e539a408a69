//! Every bad input from the builder issue: a one-line error naming the file, key or value, a
//! non-zero exit, and nothing created or changed in the output directory.

use crate::{is_root, snapshot, Fixture, Test};

const SENTINEL: &[u8] = b"an existing package that must survive a failed build\n";

/// An output directory that already holds a file with the package's name.
fn out_with_existing(fx: &Fixture) -> std::path::PathBuf {
    let out = fx.path("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("cts-server_1.0.0-1_all.deb"), SENTINEL).unwrap();
    out
}

/// Runs `build` on the fixture and checks the output directory is untouched.
fn build_fails(fx: &Fixture, extra: &[&str], code: i32, needles: &[&str]) -> String {
    let out = out_with_existing(fx);
    let before = snapshot(&out);
    let run = Test::new()
        .args(["build", "--config"])
        .arg_path(&fx.config())
        .args(["--out"])
        .arg_path(&out)
        .args(extra)
        .run();
    let line = run.fails(code, needles);
    assert_eq!(snapshot(&out), before, "the output directory changed");
    line
}

trait ArgPath {
    fn arg_path(self, p: &std::path::Path) -> Self;
}

impl ArgPath for Test {
    fn arg_path(self, p: &std::path::Path) -> Self {
        self.args([p])
    }
}

#[test]
fn malformed_toml() {
    let fx = Fixture::new();
    fx.edit_config("[web]", "[web");
    let cfg = fx.config().display().to_string();
    build_fails(&fx, &[], 3, &[&cfg, "line 45"]);
}

#[test]
fn unknown_key() {
    let fx = Fixture::new();
    fx.edit_config("workers = 2, bind", "wrokers = 2, bind");
    let cfg = fx.config().display().to_string();
    build_fails(&fx, &[], 3, &[&cfg, "instance[0].gunicorn", "unknown field `wrokers`"]);
}

#[test]
fn invalid_package_name() {
    let fx = Fixture::new();
    fx.edit_config("name = \"cts-server\"", "name = \"CTS_Server\"");
    build_fails(&fx, &[], 3, &["package.name", "invalid package name `CTS_Server`"]);
}

#[test]
fn invalid_version_in_config() {
    let fx = Fixture::new();
    fx.edit_config("[package]\n", "[package]\nversion = \"1.0-\"\n");
    build_fails(&fx, &[], 3, &["package.version", "invalid version `1.0-`"]);
}

#[test]
fn invalid_version_on_command_line() {
    let fx = Fixture::new();
    build_fails(&fx, &["--version", "v1.0"], 3, &["--version", "invalid version `v1.0`"]);
}

#[test]
fn unknown_target_release() {
    let fx = Fixture::new();
    fx.edit_config("[package]\n", "[package]\ntargets = [\"bookworm\", \"buster\"]\n");
    build_fails(
        &fx,
        &[],
        3,
        &["package.targets[1]", "unknown Debian release `buster`", "bookworm, trixie"],
    );
}

#[test]
fn target_listed_twice_or_none() {
    let fx = Fixture::new();
    fx.edit_config("[package]\n", "[package]\ntargets = [\"trixie\", \"trixie\"]\n");
    build_fails(&fx, &[], 3, &["package.targets[1]", "`trixie` is listed twice"]);
    let fx = Fixture::new();
    fx.edit_config("[package]\n", "[package]\ntargets = []\n");
    build_fails(&fx, &[], 3, &["package.targets", "name at least one Debian release"]);
}

#[test]
fn target_option_outside_the_configured_targets() {
    let fx = Fixture::new();
    fx.edit_config("[package]\n", "[package]\ntargets = [\"trixie\"]\n");
    build_fails(
        &fx,
        &["--target", "bookworm"],
        3,
        &["--target `bookworm`", "package.targets", "(trixie)"],
    );
}

#[test]
fn missing_source_directory() {
    let fx = Fixture::new();
    let missing = fx.path("no-such-app");
    let m = missing.display().to_string();
    build_fails(&fx, &["--source", &m], 3, &[&format!("source directory `{m}`"), "does not exist"]);
}

#[test]
fn source_that_is_not_a_directory() {
    let fx = Fixture::new();
    let file = fx.path("cts.toml").display().to_string();
    build_fails(&fx, &["--source", &file], 3, &[&file, "is not a directory"]);
}

#[test]
fn unreadable_source_file() {
    let fx = Fixture::new();
    let f = fx.path("cts-app/manage.py");
    std::fs::set_permissions(&f, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    let out = out_with_existing(&fx);
    let before = snapshot(&out);
    let args = [
        "build",
        "--config",
        &fx.config().display().to_string(),
        "--out",
        &out.display().to_string(),
    ];
    // root reads every file whatever its mode, so as root run the build as `nobody`.
    let run = if is_root() {
        std::fs::set_permissions(
            fx.dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        Test::as_nobody(&args).run()
    } else {
        Test::new().args(args).run()
    };
    run.fails(3, &[&f.display().to_string(), "Permission denied"]);
    assert_eq!(snapshot(&out), before, "the output directory changed");
}

#[test]
fn requirements_file_missing() {
    let fx = Fixture::new();
    fx.edit_config("requirements = \"cts-app/requirements.txt\"", "requirements = \"nope.txt\"");
    build_fails(&fx, &[], 3, &["python.requirements", "nope.txt", "does not exist"]);
}

#[test]
fn duplicate_instance_names() {
    let fx = Fixture::new();
    fx.edit_config("name = \"iraq\"", "name = \"turkey\"");
    build_fails(&fx, &[], 3, &["instance[1].name", "duplicate instance name `turkey`"]);
}

#[test]
fn duplicate_ports() {
    let fx = Fixture::new();
    fx.edit_config("127.0.0.1:8002", "127.0.0.1:8001");
    build_fails(&fx, &[], 3, &["instance[1].gunicorn.bind", "duplicate gunicorn port `8001`"]);
}

#[test]
fn public_bind_address_is_refused() {
    let fx = Fixture::new();
    fx.edit_config("127.0.0.1:8002", "0.0.0.0:8002");
    build_fails(&fx, &[], 3, &["instance[1].gunicorn.bind", "not a loopback address"]);
}

#[test]
fn template_that_fails_to_render() {
    let fx = Fixture::new();
    let t = fx.templates();
    let nginx = t.join("conffiles/etc/nginx/sites-available/@project@.conf.tera");
    let text = std::fs::read_to_string(&nginx).unwrap();
    std::fs::write(&nginx, format!("{text}\n{{{{ no_such_value }}}}\n")).unwrap();
    let td = t.display().to_string();
    build_fails(
        &fx,
        &["--templates", &td],
        3,
        &["template `conffiles/etc/nginx/sites-available/@project@.conf.tera`", "no_such_value"],
    );
}

#[test]
fn conffile_outside_etc() {
    let fx = Fixture::new();
    let t = fx.templates();
    std::fs::create_dir_all(t.join("conffiles/usr/share")).unwrap();
    std::fs::write(t.join("conffiles/usr/share/x.conf.tera"), "x\n").unwrap();
    let td = t.display().to_string();
    build_fails(
        &fx,
        &["--templates", &td],
        3,
        &["conffiles/usr/share/x.conf.tera", "outside /etc"],
    );
}

#[test]
fn output_directory_not_writable() {
    let fx = Fixture::new();
    let out = fx.path("ro");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("cts-server_1.0.0-1_all.deb"), SENTINEL).unwrap();
    let mounted = if is_root() {
        crate::sh(&format!(
            "mount -t tmpfs -o size=1m tmpfs {0} && echo x > {0}/keep && mount -o remount,ro {0}",
            out.display()
        ));
        true
    } else {
        std::fs::set_permissions(&out, std::os::unix::fs::PermissionsExt::from_mode(0o555))
            .unwrap();
        false
    };
    let before = snapshot(&out);
    let run = Test::new()
        .args(["build", "--config"])
        .arg_path(&fx.config())
        .args(["--out"])
        .arg_path(&out)
        .run();
    let after = snapshot(&out);
    if mounted {
        crate::sh(&format!("umount {}", out.display()));
    }
    run.fails(1, &[&out.display().to_string()]);
    assert_eq!(after, before, "the output directory changed");
}

#[test]
fn disk_full_during_write() {
    if !is_root() {
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    }
    let fx = Fixture::new();
    let out = fx.path("full");
    std::fs::create_dir_all(&out).unwrap();
    // Room for the existing file and a little more, far less than the package needs.
    crate::sh(&format!("mount -t tmpfs -o size=600k tmpfs {}", out.display()));
    std::fs::write(out.join("cts-server_1.0.0-1_all.deb"), SENTINEL).unwrap();
    let before = snapshot(&out);
    let run = Test::new()
        .args(["build", "--config"])
        .arg_path(&fx.config())
        .args(["--out"])
        .arg_path(&out)
        .run();
    let after = snapshot(&out);
    crate::sh(&format!("umount {}", out.display()));
    run.fails(1, &["No space left on device"]);
    assert_eq!(after, before, "a partial file was left or the existing one changed");
}
