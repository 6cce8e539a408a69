//! Turns the declared [`RawConfig`] into a checked [`Config`]: defaults filled in, names, ports,
//! paths and cross-references validated. Nothing is written; the only file-system access is
//! checking that referenced inputs exist and reading the requirements file (one beside the
//! config; one in the application source waits for the source, see [`super::python`]). An error
//! names the key the operator wrote: a value derived from another key (`database.user` from the
//! instance name) is blamed on that key, with the rule that derived it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::raw::{RawConfig, RawInstance};
use super::{
    check, control, python, reserved, Broker, Celery, Config, ConfigError, Database, Gunicorn,
    Instance, InstanceBroker, InstanceDatabase, Package, Project, SourceSpec, Tls, Web,
};
use crate::target::Target;

pub(super) struct Ctx<'a> {
    file: &'a Path,
    dir: PathBuf,
}

impl Ctx<'_> {
    pub(super) fn err(&self, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError { file: self.file.to_path_buf(), key: key.into(), message: message.into() }
    }

    fn check(&self, key: &str, r: Result<(), String>) -> Result<(), ConfigError> {
        r.map_err(|m| self.err(key, m))
    }

    pub(super) fn path(&self, p: &str) -> PathBuf {
        self.dir.join(p)
    }
}

/// A syntax or reservation check of one value.
type Check = fn(&str) -> Result<(), String>;

/// Validates `raw` (read from `file`) and fills in every default.
pub fn resolve(file: &Path, raw: RawConfig) -> Result<Config, ConfigError> {
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
    let cx = Ctx { file, dir };

    let package = resolve_package(&cx, raw.package)?;
    let project_name = raw.project.name;
    cx.check("project.name", check::ident(&project_name))?;
    let user = resolve_user(&cx, raw.project.user, &project_name)?;
    let database = resolve_database(&cx, raw.database)?;
    let broker = resolve_broker(&cx, raw.broker)?;

    if raw.instances.is_empty() {
        return Err(cx.err("instance", "at least one [[instance]] is required"));
    }
    let ports = (database.port, broker.port);
    let mut instances = Vec::new();
    let mut unique = Vec::new();
    for (i, inst) in raw.instances.into_iter().enumerate() {
        let (instance, names) = resolve_instance(&cx, i, (&project_name, &user), ports, inst)?;
        instances.push(instance);
        unique.push(names);
    }
    check_unique(&cx, &unique)?;

    let default_instance =
        raw.project.default_instance.unwrap_or_else(|| instances[0].name.clone());
    if !instances.iter().any(|i| i.name == default_instance) {
        return Err(cx.err(
            "project.default_instance",
            format!("`{}` is not the name of any [[instance]]", check::shown(&default_instance)),
        ));
    }
    let root = format!("/var/www/{project_name}");
    let web = resolve_web(&cx, raw.web, &root, &project_name)?;
    let requirements = python::resolve(&cx, raw.python)?;
    let source = resolve_source(&cx, raw.source)?;

    Ok(Config {
        file: file.to_path_buf(),
        package,
        project: Project { name: project_name, root, group: user.clone(), user, default_instance },
        instances,
        web,
        database,
        broker,
        requirements,
        source,
    })
}

/// `project.user`, by default the project name: never a system account of the server.
fn resolve_user(cx: &Ctx, user: Option<String>, project: &str) -> Result<String, ConfigError> {
    match user {
        Some(user) => {
            cx.check("project.user", check::user_name(&user))?;
            cx.check("project.user", reserved::account(&user))?;
            Ok(user)
        }
        None => {
            let why =
                |e| format!("{e}; project.user defaults to the project name: set project.user");
            cx.check("project.name", reserved::account(project).map_err(why))?;
            Ok(project.to_string())
        }
    }
}

fn resolve_database(cx: &Ctx, d: super::raw::RawDatabase) -> Result<Database, ConfigError> {
    let (local, host) = service_host(cx, "database.host", d.host)?;
    for (i, ext) in d.extensions.iter().enumerate() {
        cx.check(&format!("database.extensions[{i}]"), check::extension_name(ext))?;
    }
    let port = port(cx, "database.port", d.port.unwrap_or(5432))?;
    Ok(Database { local, host, port, extensions: d.extensions })
}

fn resolve_broker(cx: &Ctx, b: super::raw::RawBroker) -> Result<Broker, ConfigError> {
    let (local, host) = service_host(cx, "broker.host", b.host)?;
    Ok(Broker { local, host, port: port(cx, "broker.port", b.port.unwrap_or(5672))? })
}

/// `[source]`: a directory, or a git URL and ref (neither may pass for a git option).
fn resolve_source(cx: &Ctx, s: super::raw::RawSource) -> Result<SourceSpec, ConfigError> {
    let not_option = |key: &str, v: &str| {
        let r = check::one_line(v).and_then(|()| match v.starts_with('-') {
            true => Err(format!("`{}` starts with `-`: git would read it as an option", v)),
            false => Ok(()),
        });
        cx.check(key, r)
    };
    match (s.path, s.git, s.git_ref) {
        (Some(p), None, None) => Ok(SourceSpec::Dir(cx.path(&p))),
        (None, Some(url), git_ref) => {
            not_option("source.git", &url)?;
            let git_ref = git_ref.unwrap_or_else(|| "HEAD".into());
            not_option("source.ref", &git_ref)?;
            Ok(SourceSpec::Git { url, git_ref })
        }
        (Some(_), Some(_), _) => {
            Err(cx.err("source", "give either `path` or `git` (+ `ref`), not both"))
        }
        (_, None, Some(_)) => Err(cx.err("source.ref", "`ref` needs `git`")),
        (None, None, None) => Err(cx.err("source", "give `path` or `git`")),
    }
}

/// `package.targets`: known codenames, each once; none given means every known release. Kept in
/// the table's order (oldest first), whatever order the config lists them in.
fn resolve_targets(cx: &Ctx, names: Option<Vec<String>>) -> Result<Vec<Target>, ConfigError> {
    let Some(names) = names else { return Ok(crate::target::TARGETS.to_vec()) };
    if names.is_empty() {
        return Err(cx.err(
            "package.targets",
            "name at least one Debian release, or leave the key out for all",
        ));
    }
    for (i, name) in names.iter().enumerate() {
        if crate::target::by_name(name).is_none() {
            return Err(cx.err(
                format!("package.targets[{i}]"),
                format!(
                    "unknown Debian release `{}` (known: {})",
                    check::shown(name),
                    crate::target::known()
                ),
            ));
        }
        if names[..i].contains(name) {
            return Err(cx.err(
                format!("package.targets[{i}]"),
                format!("`{}` is listed twice", check::shown(name)),
            ));
        }
    }
    Ok(crate::target::TARGETS
        .iter()
        .filter(|t| names.iter().any(|n| n == t.codename))
        .cloned()
        .collect())
}

fn resolve_package(cx: &Ctx, p: super::raw::RawPackage) -> Result<Package, ConfigError> {
    let name = p.name.unwrap_or_else(|| "cts-server".into());
    cx.check("package.name", check::package_name(&name))?;
    if let Some(v) = &p.version {
        cx.check("package.version", check::version(v))?;
    }
    let maintainer = p.maintainer.trim().to_string();
    cx.check("package.maintainer", control::maintainer(&maintainer))?;
    let (synopsis, extended) = control::description(&p.description, &name)
        .map_err(|e| cx.err("package.description", e))?;
    let section = p.section.unwrap_or_else(|| "web".into());
    cx.check("package.section", control::section(&section))?;
    let priority = p.priority.unwrap_or_else(|| "optional".into());
    cx.check("package.priority", control::priority(&priority))?;
    let targets = resolve_targets(cx, p.targets)?;
    for (i, dep) in p.depends.iter().enumerate() {
        cx.check(&format!("package.depends[{i}]"), check::relation(dep))?;
    }
    Ok(Package {
        name,
        version: p.version,
        maintainer,
        synopsis,
        extended,
        section,
        priority,
        depends: p.depends,
        targets,
    })
}

/// A name that must differ between instances: what it is, the key an error names, where the
/// first one came from (for the second's error), its value as shown and as compared, and why.
struct Unique {
    what: &'static str,
    key: String,
    origin: String,
    shown: String,
    compared: String,
    why: &'static str,
}

/// A name the operator wrote, or its default derived from another key.
struct Named {
    value: String,
    /// The key an error about the value names: the one the operator wrote.
    key: String,
    /// How the value came about, for another instance's duplicate error.
    origin: String,
}

impl Unique {
    /// A value written at `key`, never derived.
    fn at(what: &'static str, key: String, shown: &str, compared: String) -> Unique {
        Unique { what, origin: key.clone(), key, shown: shown.to_string(), compared, why: "" }
    }
}

impl Named {
    fn unique(&self, what: &'static str, why: &'static str) -> Unique {
        Unique {
            what,
            key: self.key.clone(),
            origin: self.origin.clone(),
            shown: self.value.clone(),
            compared: self.value.clone(),
            why,
        }
    }
}

/// `written` (errors name `key`), or else `default`, derived by `rule` from the key `from`
/// (errors name `from` and the rule). Each of `checks` must pass.
fn named(
    cx: &Ctx,
    key: String,
    written: Option<String>,
    (from, rule, default): (&str, &str, String),
    checks: &[Check],
) -> Result<Named, ConfigError> {
    let (named, note) = match written {
        Some(value) => (Named { value, origin: key.clone(), key }, String::new()),
        None => {
            let origin = format!("the default {key} (from {from})");
            let note = format!(" ({key} defaults to {rule}: change {from} or set {key})");
            (Named { value: default, key: from.to_string(), origin }, note)
        }
    };
    for check in checks {
        check(&named.value).map_err(|e| cx.err(&named.key, format!("{e}{note}")))?;
    }
    Ok(named)
}

fn resolve_instance(
    cx: &Ctx,
    i: usize,
    (project, project_user): (&str, &str),
    (db_port, broker_port): (u16, u16),
    r: RawInstance,
) -> Result<(Instance, Vec<Unique>), ConfigError> {
    let key = |k: &str| format!("instance[{i}].{k}");
    cx.check(&key("name"), check::ident(&r.name))?;
    cx.check(&key("prefix"), check::url_prefix(&r.prefix))?;
    cx.check(&key("prefix"), reserved::prefix(&r.prefix))?;
    cx.check(&key("settings_module"), check::python_module(&r.settings_module))?;
    let gunicorn = resolve_gunicorn(cx, &key("gunicorn"), &r.gunicorn, db_port, broker_port)?;
    let concurrency = r.celery.concurrency.unwrap_or(1);
    if concurrency == 0 || concurrency > 64 {
        return Err(cx.err(key("celery.concurrency"), "must be between 1 and 64"));
    }
    let names = instance_names(cx, i, project, &r)?;
    let user = instance_user(project_user, &r.name);
    let why = |e| format!("{e}; the instance's programs run as `<project.user>-<name>`");
    cx.check(&key("name"), check::user_name(&user).map_err(why))?;
    cx.check(&key("name"), reserved::account(&user).map_err(why))?;
    let port = gunicorn.port.to_string();
    let unique = vec![
        Unique::at("instance name", key("name"), &r.name, r.name.clone()),
        Unique::at("URL prefix", key("prefix"), &r.prefix, r.prefix.to_ascii_lowercase()),
        Unique::at("gunicorn port", key("gunicorn.bind"), &port, port.clone()),
        names.db_name.unique("database name", ": the instances would share tables and migrations"),
        names.db_user.unique("database user", SHARED_ACCOUNT),
        names.vhost.unique("broker vhost", ": the instances would share queues and tasks"),
        names.br_user.unique("broker user", SHARED_ACCOUNT),
    ];
    check_env(cx, i, &r.env)?;
    let instance = Instance {
        name: r.name,
        user,
        prefix: r.prefix,
        settings_module: r.settings_module,
        gunicorn,
        celery: Celery { concurrency, queue: names.queue.value },
        database: InstanceDatabase { name: names.db_name.value, user: names.db_user.value },
        broker: InstanceBroker { vhost: names.vhost.value, user: names.br_user.value },
        env: r.env,
    };
    Ok((instance, unique))
}

/// The system user an instance's programs run as: one per instance, so that no instance can read
/// another's secrets (env file, `/proc/PID/environ`).
fn instance_user(project_user: &str, instance: &str) -> String {
    format!("{project_user}-{instance}")
}

/// An instance's queue, database and broker names.
struct Names {
    queue: Named,
    db_name: Named,
    db_user: Named,
    vhost: Named,
    br_user: Named,
}

/// Each name as written, or derived from the instance's name (and the project's).
fn instance_names(
    cx: &Ctx,
    i: usize,
    project: &str,
    r: &RawInstance,
) -> Result<Names, ConfigError> {
    let key = |k: &str| format!("instance[{i}].{k}");
    let name_key = key("name");
    let from_name = |rule, default| (name_key.as_str(), rule, default);
    let derived = || from_name("`<project.name>_<name>`", format!("{project}_{}", r.name));
    let queue_default = from_name("`queue_<name>`", format!("queue_{}", r.name));
    let (db, broker) = (&r.database, &r.broker);
    Ok(Names {
        queue: named(cx, key("celery.queue"), r.celery.queue.clone(), queue_default, &QUEUE)?,
        db_name: named(cx, key("database.name"), db.name.clone(), derived(), &DB_NAME)?,
        db_user: named(cx, key("database.user"), db.user.clone(), derived(), &DB_USER)?,
        vhost: named(cx, key("broker.vhost"), broker.vhost.clone(), derived(), &VHOST)?,
        br_user: named(cx, key("broker.user"), broker.user.clone(), derived(), &BROKER_USER)?,
    })
}

const QUEUE: [Check; 1] = [check::ident];
const DB_NAME: [Check; 2] = [check::ident, reserved::database];
const DB_USER: [Check; 2] = [check::ident, reserved::db_role];
const VHOST: [Check; 2] = [reserved::vhost, check::ident];
const BROKER_USER: [Check; 2] = [check::ident, reserved::broker_user];
const SHARED_ACCOUNT: &str =
    ": each instance needs its own, as setup sets each one's password on it in turn";

/// `gunicorn.workers` and `.bind`: a loopback address and a port of its own.
fn resolve_gunicorn(
    cx: &Ctx,
    key: &str,
    g: &super::raw::RawGunicorn,
    db_port: u16,
    broker_port: u16,
) -> Result<Gunicorn, ConfigError> {
    let bind_key = format!("{key}.bind");
    if g.workers == 0 || g.workers > 64 {
        return Err(cx.err(format!("{key}.workers"), "must be between 1 and 64"));
    }
    let (host, port_s) =
        g.bind.rsplit_once(':').ok_or_else(|| cx.err(&bind_key, "expected `127.0.0.1:PORT`"))?;
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        return Err(cx.err(
            &bind_key,
            format!(
                "`{}` is not a loopback address: gunicorn sits behind nginx and must bind \
                 127.0.0.1, localhost or [::1]",
                check::shown(&g.bind)
            ),
        ));
    }
    let port_n: u16 = port_s
        .parse()
        .map_err(|_| cx.err(&bind_key, format!("invalid port `{}`", check::shown(port_s))))?;
    let port_n = port(cx, &bind_key, port_n)?;
    cx.check(&bind_key, reserved::gunicorn_port(port_n, db_port, broker_port))?;
    Ok(Gunicorn {
        workers: g.workers,
        host: host.trim_matches(['[', ']']).to_string(),
        bind: g.bind.clone(),
        port: port_n,
    })
}

/// `instance.env`: names the package neither sets nor starts programs by, one-line values.
fn check_env(cx: &Ctx, i: usize, env: &BTreeMap<String, String>) -> Result<(), ConfigError> {
    for (k, v) in env {
        let key = format!("instance[{i}].env.{}", check::shown(k));
        cx.check(&key, check::env_name(k))?;
        cx.check(&key, reserved::env(k))?;
        if v.contains(['\n', '\r', '\0']) {
            return Err(cx.err(key, "values must be one line (no newline, carriage return or NUL)"));
        }
    }
    Ok(())
}

/// Names, prefixes, ports, databases, vhosts and users differ between instances; the second
/// of a pair is refused naming the first.
fn check_unique(cx: &Ctx, instances: &[Vec<Unique>]) -> Result<(), ConfigError> {
    let mut seen: BTreeMap<(&str, &str), &str> = BTreeMap::new();
    for u in instances.iter().flatten() {
        if let Some(first) = seen.insert((u.what, &u.compared), &u.origin) {
            return Err(cx.err(
                &u.key,
                format!("duplicate {} `{}` (also {first}){}", u.what, u.shown, u.why),
            ));
        }
    }
    Ok(())
}

/// What nginx's `map { hostnames; }` (the site's known-host map) matches for a server name:
/// lower case, and `.x` standing for both `x` and `*.x`.
fn host_patterns(name: &str) -> Vec<String> {
    let name = name.to_ascii_lowercase();
    match name.strip_prefix('.') {
        Some(base) => vec![base.to_string(), format!("*.{base}")],
        None => vec![name],
    }
}

/// A server name that repeats (or overlaps, `.x` with `x` or `*.x`) an earlier one: nginx's
/// `hostnames` map refuses it with "conflicting parameter", and nginx would then not start.
fn distinct_server_name(earlier: &[String], name: &str) -> Result<(), String> {
    let mine = host_patterns(name);
    match earlier.iter().find(|e| host_patterns(e).iter().any(|p| mine.contains(p))) {
        Some(e) => Err(format!(
            "`{name}` repeats `{e}` (names are case-insensitive, and `.x` already covers `x` and \
             `*.x`): nginx would refuse the site"
        )),
        None => Ok(()),
    }
}

fn resolve_web(
    cx: &Ctx,
    w: super::raw::RawWeb,
    root: &str,
    project: &str,
) -> Result<Web, ConfigError> {
    if w.server_names.is_empty() {
        return Err(cx.err("web.server_names", "at least one server name is required"));
    }
    for (i, n) in w.server_names.iter().enumerate() {
        let key = format!("web.server_names[{i}]");
        cx.check(&key, check::server_name(n))?;
        cx.check(&key, reserved::server_name(n))?;
        cx.check(&key, distinct_server_name(&w.server_names[..i], n))?;
    }
    let size = w.client_max_body_size.unwrap_or_else(|| "25m".into());
    cx.check("web.client_max_body_size", check::nginx_size(&size))?;
    let tls = match w.tls.mode.as_str() {
        "self-signed" => {
            if w.tls.certificate.is_some() || w.tls.key.is_some() {
                return Err(
                    cx.err("web.tls", "`certificate`/`key` are only for mode = \"provided\"")
                );
            }
            Tls {
                mode: w.tls.mode,
                certificate: format!("{root}/ssl/{project}.crt"),
                key: format!("{root}/ssl/{project}.key"),
            }
        }
        "provided" => {
            let get = |k: &str, v: Option<String>| match v {
                Some(p) => cx.check(&format!("web.tls.{k}"), check::server_path(&p)).map(|()| p),
                None => Err(cx.err(format!("web.tls.{k}"), "required with mode = \"provided\"")),
            };
            Tls {
                certificate: get("certificate", w.tls.certificate)?,
                key: get("key", w.tls.key)?,
                mode: w.tls.mode,
            }
        }
        other => {
            return Err(cx.err(
                "web.tls.mode",
                format!("`{}` is not one of `self-signed`, `provided`", check::shown(other)),
            ))
        }
    };
    Ok(Web {
        server_name: w.server_names[0].clone(),
        server_names: w.server_names,
        client_max_body_size: size,
        tls,
    })
}

/// `"local"` (or absent) → a server on this machine; otherwise a host name.
fn service_host(cx: &Ctx, key: &str, host: Option<String>) -> Result<(bool, String), ConfigError> {
    match host.as_deref() {
        None | Some("local") => Ok((true, "localhost".into())),
        Some(h) => {
            cx.check(key, check::host_name(h))?;
            Ok((false, h.to_string()))
        }
    }
}

fn port(cx: &Ctx, key: &str, p: u16) -> Result<u16, ConfigError> {
    if p == 0 {
        Err(cx.err(key, "port 0 is not a valid port"))
    } else {
        Ok(p)
    }
}
