//! Every bad input from the builder issue: a one-line error naming the file, key or value, a
//! non-zero exit, and nothing created or changed in the output directory.

use crate::{is_root, snapshot, Fixture, Run, Test};

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
    failed_build(fx, extra, code, needles).1
}

/// [`build_fails`], also returning the run.
fn failed_build(fx: &Fixture, extra: &[&str], code: i32, needles: &[&str]) -> (Run, String) {
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
    (run, line)
}

/// A config refused: the fixture's cts.toml with each `(from, to)` edit made, then `build`
/// exits 3 with exactly one line on stderr, naming cts.toml and every needle, and writes nothing.
/// Returns that line (printed, for the record).
fn config_refused(edits: &[(&str, &str)], needles: &[&str]) -> String {
    let fx = Fixture::new();
    for (from, to) in edits {
        fx.edit_config(from, to);
    }
    let cfg = fx.config().display().to_string();
    let (run, line) = failed_build(&fx, &[], 3, &[&[cfg.as_str()][..], needles].concat());
    assert_eq!(run.stderr().lines().count(), 1, "not one line:\n{}", run.stderr());
    eprintln!("{line}");
    line
}

/// The last line of the fixture's instance[0] (`turkey`) and instance[1] (`iraq`) tables: edit
/// it into itself plus a line ([`and`]) to add a key to that instance.
const TURKEY: &str = "celery = { concurrency = 1, queue = \"queue_turkey\" }";
const IRAQ: &str = "celery = { concurrency = 1, queue = \"queue_iraq\" }";

fn and(line: &str, more: &str) -> String {
    format!("{line}\n{more}")
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

// Issue 11: each of these built, then broke the server or every apt client.

#[test]
fn system_accounts_are_refused_as_users() {
    let reserved = "is a system account on Debian servers (reserved: root, daemon, bin,";
    config_refused(
        &[(IRAQ, &and(IRAQ, "database = { user = \"postgres\" }"))],
        &[&format!("instance[1].database.user: `postgres` {reserved}"), "postgres, rabbitmq"],
    );
    config_refused(
        &[("user = \"cts\"", "user = \"root\"")],
        &[&format!("project.user: `root` {reserved}")],
    );
    config_refused(
        &[("user = \"cts\"", "user = \"postgres\"")],
        &[&format!("project.user: `postgres` {reserved}")],
    );
    config_refused(
        &[("user = \"cts\"", "user = \"systemd-network\"")],
        &["project.user: `systemd-network` is a system account"],
    );
    config_refused(
        &[(IRAQ, &and(IRAQ, "broker = { user = \"rabbitmq\" }"))],
        &[&format!("instance[1].broker.user: `rabbitmq` {reserved}")],
    );
    config_refused(
        &[(IRAQ, &and(IRAQ, "broker = { user = \"guest\" }"))],
        &["instance[1].broker.user: `guest` is RabbitMQ's default administrator, which setup deletes"],
    );
    config_refused(
        &[(IRAQ, &and(IRAQ, "database = { user = \"pg_monitor\" }"))],
        &["instance[1].database.user: PostgreSQL reserves the role name `pg_monitor`"],
    );
    // project.user defaults to the project name: the error names the key that was written.
    config_refused(
        &[("user = \"cts\"", ""), ("name = \"cts\"", "name = \"postgres\"")],
        &[&format!("project.name: `postgres` {reserved}"), "set project.user"],
    );
}

#[test]
fn cluster_databases_and_the_default_vhost_are_refused() {
    for db in ["postgres", "template0", "template1"] {
        config_refused(
            &[(IRAQ, &and(IRAQ, &format!("database = {{ name = \"{db}\" }}")))],
            &[&format!(
                "instance[1].database.name: `{db}` is a database of every PostgreSQL cluster \
                 (reserved: postgres, template0, template1)"
            )],
        );
    }
    config_refused(
        &[(IRAQ, &and(IRAQ, "broker = { vhost = \"/\" }"))],
        &["instance[1].broker.vhost: `/` is RabbitMQ's default vhost"],
    );
}

#[test]
fn instances_sharing_a_database_or_broker_name_are_refused() {
    // instance[0]'s database and broker names default to cts_turkey.
    let first = "(also the default instance[0].database.user (from instance[0].name))";
    config_refused(
        &[(IRAQ, &and(IRAQ, "database = { user = \"cts_turkey\" }"))],
        &[
            &format!("instance[1].database.user: duplicate database user `cts_turkey` {first}"),
            "setup sets each one's password on it",
        ],
    );
    config_refused(
        &[(IRAQ, &and(IRAQ, "database = { name = \"cts_turkey\" }"))],
        &["instance[1].database.name: duplicate database name `cts_turkey`"],
    );
    config_refused(
        &[(IRAQ, &and(IRAQ, "broker = { vhost = \"cts_turkey\" }"))],
        &["instance[1].broker.vhost: duplicate broker vhost `cts_turkey`"],
    );
    // Both written: the second names the first's key.
    config_refused(
        &[
            (TURKEY, &and(TURKEY, "broker = { user = \"cts_mq\" }")),
            (IRAQ, &and(IRAQ, "broker = { user = \"cts_mq\" }")),
        ],
        &["instance[1].broker.user: duplicate broker user `cts_mq` (also instance[0].broker.user)"],
    );
}

#[test]
fn depends_entries_must_be_debian_relations() {
    for (dep, why) in [
        ("memcached junk", "`junk` after `memcached`: expected `(op version)`, `|` or the end"),
        ("memcached (>> 1", "`(>> 1` lacks its `)`"),
        ("foo (> 1)", "`<` and `>` are obsolete"),
        ("foo (=)", "no version after `=`"),
        ("foo (>= abc)", "version number does not start with digit"),
        ("foo [amd64]", "`[amd64]` after `foo`"),
        ("a, b", "one relation per list entry"),
        ("foo\nEssential: yes", "must be one line"),
    ] {
        let list = format!("depends = [\"nginx\", {dep:?}]");
        config_refused(
            &[("depends = []", &list)],
            &["package.depends[1]: invalid dependency", why],
        );
    }
}

#[test]
fn control_fields_must_be_single_line_and_known_to_policy() {
    config_refused(
        &[("section = \"web\"", "section = \"web\\nEssential: yes\"")],
        &["package.section: `web\\nEssential: yes` is not a Debian section: one of admin,"],
    );
    config_refused(
        &[("section = \"web\"", "section = \"webapps\"")],
        &["package.section: `webapps` is not a Debian section", "contrib/, non-free/"],
    );
    config_refused(
        &[("priority = \"optional\"", "priority = \"extra\"")],
        &["package.priority: `extra` is deprecated since Policy 4.0.1: use `optional`"],
    );
    config_refused(
        &[("priority = \"optional\"", "priority = \"high\"")],
        &["package.priority: `high` is not one of required, important, standard, optional"],
    );
    let maintainer = "maintainer = \"CTS Operations <ops@cts.invalid>\"";
    for (bad, why) in [
        ("ops@cts.invalid", "no `<address>`"),
        ("A <a@cts.invalid>, B <b@cts.invalid>", "a `,` makes it a list of maintainers"),
        ("CTS <ops@cts.invalid>\\nEssential: yes", "must be one line"),
        ("CTS <ops>", "exactly one `<local@domain>`"),
    ] {
        config_refused(
            &[(maintainer, &format!("maintainer = \"{bad}\""))],
            &["package.maintainer:", "is not of the form `Full Name <address@example.org>`", why],
        );
    }
}

#[test]
fn descriptions_are_bounded() {
    let last = "with PostgreSQL databases and RabbitMQ vhosts created on configure.\n";
    config_refused(
        &[(last, &format!("{last}{}", "More about the server.\n".repeat(20_000)))],
        &["package.description: the extended description has 20003 lines: at most 100"],
    );
}

#[test]
fn prefixes_the_site_serves_itself_are_refused() {
    for prefix in ["/static", "/media", "/Static"] {
        config_refused(
            &[("prefix = \"/IQ\"", &format!("prefix = \"{prefix}\""))],
            &[&format!(
                "instance[1].prefix: `{prefix}` is reserved: the nginx site serves it itself \
                 (reserved: /, /static, /media)"
            )],
        );
    }
    config_refused(&[("prefix = \"/IQ\"", "prefix = \"/\"")], &["instance[1].prefix"]);
}

#[test]
fn tls_paths_nginx_would_misread_are_refused() {
    let tls = "tls = { mode = \"self-signed\" }";
    let provided = |cert: &str, key: &str| {
        format!("tls = {{ mode = \"provided\", certificate = \"{cert}\", key = \"{key}\" }}")
    };
    let key = "/etc/ssl/private/cts.key";
    config_refused(
        &[(tls, &provided("/etc/ssl/certs/my cert.pem", key))],
        &["web.tls.certificate: `/etc/ssl/certs/my cert.pem` contains ' ': nginx and the setup \
           script need a path without white space"],
    );
    for bad in ["/etc/ssl/x;y.pem", "/etc/ssl/$x.pem", "/etc/ssl/{x}.pem", "/etc/ssl/x#.pem"] {
        config_refused(&[(tls, &provided("/etc/ssl/certs/cts.pem", bad))], &["web.tls.key:", bad]);
    }
    config_refused(
        &[(tls, &provided("ssl/cts.pem", key))],
        &["web.tls.certificate: `ssl/cts.pem` is not an absolute path"],
    );
}

#[test]
fn gunicorn_ports_of_other_services_are_refused() {
    for (port, owner) in [
        ("80", "nginx's HTTP port"),
        ("443", "nginx's HTTPS port"),
        ("5432", "database.port (PostgreSQL)"),
        ("5672", "broker.port (RabbitMQ)"),
        ("4369", "epmd's port (RabbitMQ's Erlang port mapper)"),
        ("25672", "RabbitMQ's Erlang distribution port"),
    ] {
        config_refused(
            &[("127.0.0.1:8002", &format!("127.0.0.1:{port}"))],
            &[&format!(
                "instance[1].gunicorn.bind: port {port} is {owner}; gunicorn needs a port of its own"
            )],
        );
    }
    config_refused(
        &[("127.0.0.1:8002", "127.0.0.1:1000")],
        &["instance[1].gunicorn.bind: port 1000 is privileged (below 1024)"],
    );
    // The configured ports, not the defaults.
    config_refused(
        &[("port = 5432", "port = 6432"), ("127.0.0.1:8002", "127.0.0.1:6432")],
        &["instance[1].gunicorn.bind: port 6432 is database.port"],
    );
}

#[test]
fn a_derived_name_too_long_is_blamed_on_the_instance_name() {
    let long = "a".repeat(30);
    config_refused(
        &[
            ("default_instance = \"turkey\"", &format!("default_instance = \"{long}\"")),
            ("name = \"turkey\"", &format!("name = \"{long}\"")),
        ],
        &[
            &format!("instance[0].name: invalid name `cts_{long}`"),
            "(instance[0].database.name defaults to `<project.name>_<name>`: change \
             instance[0].name or set instance[0].database.name)",
        ],
    );
}

#[test]
fn an_instance_user_name_too_long_is_blamed_on_the_instance_name() {
    // the database name `cts_<25 chars>` fits; the system user `ctsservice-<25 chars>` does not
    let long = "a".repeat(25);
    config_refused(
        &[
            ("user = \"cts\"", "user = \"ctsservice\""),
            ("default_instance = \"turkey\"", &format!("default_instance = \"{long}\"")),
            ("name = \"turkey\"", &format!("name = \"{long}\"")),
        ],
        &[
            &format!("instance[0].name: invalid user name `ctsservice-{long}`"),
            "(at most 32)",
            "the instance's programs run as `<project.user>-<name>`",
        ],
    );
}

#[test]
fn environment_that_changes_how_programs_start_is_refused() {
    let env = "env = { CTS_POLL_INTERVAL = \"30\" }";
    for name in ["PATH", "LD_PRELOAD", "PYTHONPATH", "IFS", "BASH_ENV", "GUNICORN_CMD_ARGS"] {
        config_refused(
            &[(env, &format!("env = {{ {name} = \"/tmp\" }}"))],
            &[&format!("instance[0].env.{name}: changes how the programs start (reserved: PATH,")],
        );
    }
    config_refused(
        &[(env, "env = { CTS_DB_NAME = \"x\" }")],
        &["instance[0].env.CTS_DB_NAME: is set by the package itself"],
    );
    config_refused(
        &[(env, "env = { path = \"/tmp\" }")],
        &["instance[0].env.path: invalid environment variable name `path`"],
    );
    config_refused(
        &[(env, "env = { CTS_X = \"a\\nCTS_DB_HOST=evil\" }")],
        &["instance[0].env.CTS_X: values must be one line"],
    );
}

#[test]
fn requirements_are_checked_before_pip_runs() {
    let key = "requirements = \"cts-app/requirements.txt\"";
    let hash = "sha256:9362660c4a31150cf18e78cae2ce8aa1e929fc6c6739e69f6dd5dbea9c3edc82";
    for (text, line, why) in [
        ("# pins\ndjango>=5\n", "line 2: `django>=5`", "not pinned: expected `name==version`"),
        ("django==5.2.19\n", "line 1: `django==5.2.19`", "no `--hash=sha256:…`"),
        ("-r base.txt\n", "line 1: `-r base.txt`", "`-r` (another requirements file)"),
        ("-e ./src\n", "line 1: `-e ./src`", "`-e` (an editable source tree)"),
        (
            &format!("cts @ https://x.invalid/cts.whl \\\n --hash={hash}\n"),
            "line 1: `cts @ https://x.invalid/cts.whl --hash=",
            "a URL or path requirement",
        ),
    ] {
        let fx = Fixture::new();
        std::fs::write(fx.path("req.txt"), text).unwrap();
        fx.edit_config(key, "requirements = \"req.txt\"");
        let req = fx.path("req.txt").display().to_string();
        let cfg = fx.config().display().to_string();
        let (run, out) = failed_build(
            &fx,
            &[],
            3,
            &[&cfg, &format!("python.requirements: `{req}` {line}"), why],
        );
        assert_eq!(run.stderr().lines().count(), 1, "{}", run.stderr());
        eprintln!("{out}");
    }
}

#[test]
fn a_git_source_that_git_would_read_as_an_option_is_refused() {
    let source = "path = \"cts-app\"";
    config_refused(
        &[(source, "git = \"--upload-pack=touch /tmp/cts-deb-pwned\"")],
        &["source.git: `--upload-pack=touch /tmp/cts-deb-pwned` starts with `-`: git would read \
           it as an option"],
    );
    config_refused(
        &[(source, "git = \"https://git.invalid/cts.git\"\nref = \"--orphan=x\"")],
        &["source.ref: `--orphan=x` starts with `-`"],
    );
    assert!(!std::path::Path::new("/tmp/cts-deb-pwned").exists());
}

#[test]
fn server_names_nginx_would_misparse_are_refused() {
    let names = "server_names = [\"cts.example.org\"]";
    for bad in ["*", "example.*", "~^www\\\\.example\\\\.org$", "*.*.example.org", "a b.org"] {
        config_refused(
            &[(names, &format!("server_names = [\"cts.example.org\", \"{bad}\"]"))],
            &["web.server_names[1]: invalid server name", "`*.example.org` or `.example.org`"],
        );
    }
    config_refused(
        &[(names, "server_names = [\"default\"]")],
        &["web.server_names[0]: `default` is a keyword of nginx's `map` block"],
    );
}

/// nginx's `hostnames` map (the site's known-host check) refuses a name twice, in any case, and
/// `.x` next to `x` or `*.x`: nginx would not start.
#[test]
fn server_names_that_repeat_one_another_are_refused() {
    let names = "server_names = [\"cts.example.org\"]";
    for (second, first) in [
        ("cts.example.org", "cts.example.org"),
        ("CTS.Example.org", "cts.example.org"),
        (".cts.example.org", "cts.example.org"),
        ("*.example.org", ".example.org"),
    ] {
        config_refused(
            &[(names, &format!("server_names = [\"{first}\", \"{second}\"]"))],
            &[
                "web.server_names[1]",
                &format!("`{second}` repeats `{first}`"),
                "nginx would refuse",
            ],
        );
    }
}

#[test]
fn postgres_extensions_with_dashes_are_allowed_but_not_quotes() {
    config_refused(
        &[("extensions = [\"hstore\"]", "extensions = [\"uuid-ossp\", \"x\\\"y\"]")],
        &["database.extensions[1]: invalid extension name `x\"y`"],
    );
}

/// What issue 11 asked to allow builds: wildcard server names, an extension with a dash and
/// relations with alternatives and architecture qualifiers.
#[test]
fn wildcard_names_dashed_extensions_and_full_relations_build() {
    let fx = Fixture::new();
    let names = "server_names = [\"cts.example.org\", \"*.example.org\", \".example.net\"]";
    fx.edit_config("server_names = [\"cts.example.org\"]", names);
    fx.edit_config("extensions = [\"hstore\"]", "extensions = [\"hstore\", \"uuid-ossp\"]");
    fx.edit_config("depends = []", "depends = [\"a | b (>= 1.0)\", \"libc6:amd64\"]");
    let out = fx.path("out");
    let stdout = Test::new()
        .args(["build", "--target", "trixie", "--config"])
        .arg_path(&fx.config())
        .args(["--out"])
        .arg_path(&out)
        .run()
        .success();
    let deb = stdout.lines().next().unwrap();
    let depends = crate::sh(&format!("dpkg-deb -f {deb} Depends"));
    assert!(depends.trim_end().ends_with(", a | b (>= 1.0), libc6:amd64"), "{depends}");
}

/// Issue 13: `python.requirements_in_source` names a file inside the application source. Its
/// form is checked on load: relative, no `..`, and not next to `python.requirements`.
#[test]
fn r13_requirements_in_source_must_be_a_relative_path_below_the_source() {
    let key = "requirements = \"cts-app/requirements.txt\"";
    config_refused(
        &[(key, "requirements_in_source = \"../cts-app/requirements.txt\"")],
        &["python.requirements_in_source: `../cts-app/requirements.txt` contains `..`"],
    );
    config_refused(
        &[(key, "requirements_in_source = \"/etc/requirements.txt\"")],
        &["python.requirements_in_source: `/etc/requirements.txt` is absolute"],
    );
    config_refused(
        &[(key, &format!("{key}\nrequirements_in_source = \"requirements.txt\""))],
        &["python: give either `requirements`", "or `requirements_in_source`", "not both"],
    );
    config_refused(&[(key, "")], &["python: give `requirements`"]);
}

/// `build --quiet` on the fixture exits 3 with exactly one line on stderr, naming cts.toml and
/// every needle, and writes nothing (for errors found after the source is resolved).
fn source_refused(fx: &Fixture, needles: &[&str]) {
    let cfg = fx.config().display().to_string();
    let (run, line) = failed_build(fx, &["--quiet"], 3, &[&[cfg.as_str()][..], needles].concat());
    assert_eq!(run.stderr().lines().count(), 1, "not one line:\n{}", run.stderr());
    eprintln!("{line}");
}

/// Once the source is resolved (a git source: checked out), the file must exist in it, and no
/// symlink may lead out of the tree; each is refused naming the key, before the source's own
/// listing refuses the symlink.
#[test]
fn r13_requirements_in_source_missing_or_behind_a_symlink_out_are_refused() {
    let key = "requirements = \"cts-app/requirements.txt\"";
    let fx = Fixture::new();
    fx.edit_config(key, "requirements_in_source = \"requirements/prod.txt\"");
    source_refused(
        &fx,
        &["python.requirements_in_source: requirements file `requirements/prod.txt` does not \
           exist in the application source `"],
    );

    let fx = Fixture::new();
    let outside = fx.path("outside.txt");
    std::fs::copy(fx.path("cts-app/requirements.txt"), &outside).unwrap();
    fx.git_app(&format!(
        "ln -s {} prod.txt && git add prod.txt && git commit -q -m link",
        outside.display()
    ));
    fx.use_git_source(None);
    fx.edit_config(key, "requirements_in_source = \"prod.txt\"");
    source_refused(
        &fx,
        &[&format!(
            "python.requirements_in_source: `prod.txt` leads to `{}` through a symlink, outside \
             the application source `",
            std::fs::canonicalize(&outside).unwrap().display()
        )],
    );
}
