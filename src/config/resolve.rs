//! Turns the declared [`RawConfig`] into a checked [`Config`]: defaults filled in, names, ports,
//! paths and cross-references validated. Nothing is written; the only file-system access is
//! checking that referenced inputs exist.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::raw::{RawConfig, RawInstance};
use super::{
    check, Broker, Celery, Config, ConfigError, Database, Gunicorn, Instance, InstanceBroker,
    InstanceDatabase, Package, Project, SourceSpec, Tls, Web,
};
use crate::target::Target;

/// Environment names the package sets itself; an instance's `env` may not override them.
const RESERVED_ENV: &[&str] = &[
    "DJANGO_SETTINGS_MODULE",
    "CTS_INSTANCE",
    "CTS_URL_PREFIX",
    "CTS_ALLOWED_HOSTS",
    "CTS_STATIC_ROOT",
    "CTS_MEDIA_ROOT",
    "CTS_DB_NAME",
    "CTS_DB_USER",
    "CTS_DB_HOST",
    "CTS_DB_PORT",
    "CTS_DB_PASSWORD",
    "CTS_BROKER_HOST",
    "CTS_BROKER_PORT",
    "CTS_BROKER_VHOST",
    "CTS_BROKER_USER",
    "CTS_BROKER_PASSWORD",
    "CTS_CELERY_QUEUE",
    "CTS_CELERY_QUEUE_TYPE",
    "CTS_SECRET_KEY",
    "CTS_BEAT_SCHEDULE",
];

struct Ctx<'a> {
    file: &'a Path,
    dir: PathBuf,
}

impl Ctx<'_> {
    fn err(&self, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError { file: self.file.to_path_buf(), key: key.into(), message: message.into() }
    }

    fn check(&self, key: &str, r: Result<(), String>) -> Result<(), ConfigError> {
        r.map_err(|m| self.err(key, m))
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.join(p)
    }
}

/// Validates `raw` (read from `file`) and fills in every default.
pub fn resolve(file: &Path, raw: RawConfig) -> Result<Config, ConfigError> {
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
    let cx = Ctx { file, dir };

    let package = resolve_package(&cx, raw.package)?;
    let project_name = raw.project.name;
    cx.check("project.name", check::ident(&project_name))?;
    let user = raw.project.user.unwrap_or_else(|| project_name.clone());
    cx.check("project.user", check::user_name(&user))?;

    if raw.instances.is_empty() {
        return Err(cx.err("instance", "at least one [[instance]] is required"));
    }
    let mut instances = Vec::new();
    for (i, inst) in raw.instances.into_iter().enumerate() {
        instances.push(resolve_instance(&cx, i, &project_name, inst)?);
    }
    check_unique(&cx, &instances)?;

    let default_instance =
        raw.project.default_instance.unwrap_or_else(|| instances[0].name.clone());
    if !instances.iter().any(|i| i.name == default_instance) {
        return Err(cx.err(
            "project.default_instance",
            format!("`{default_instance}` is not the name of any [[instance]]"),
        ));
    }
    let root = format!("/var/www/{project_name}");

    let web = resolve_web(&cx, raw.web, &root, &project_name)?;

    let (db_local, db_host) = service_host(&cx, "database.host", raw.database.host)?;
    for (i, ext) in raw.database.extensions.iter().enumerate() {
        cx.check(&format!("database.extensions[{i}]"), check::ident(ext))?;
    }
    let database = Database {
        local: db_local,
        host: db_host,
        port: port(&cx, "database.port", raw.database.port.unwrap_or(5432))?,
        extensions: raw.database.extensions,
    };
    let (br_local, br_host) = service_host(&cx, "broker.host", raw.broker.host)?;
    let broker = Broker {
        local: br_local,
        host: br_host,
        port: port(&cx, "broker.port", raw.broker.port.unwrap_or(5672))?,
    };

    let requirements = cx.path(&raw.python.requirements);
    if !requirements.is_file() {
        return Err(cx.err(
            "python.requirements",
            format!("requirements file `{}` does not exist", requirements.display()),
        ));
    }

    let source = match (raw.source.path, raw.source.git, raw.source.git_ref) {
        (Some(p), None, None) => SourceSpec::Dir(cx.path(&p)),
        (None, Some(url), git_ref) => {
            SourceSpec::Git { url, git_ref: git_ref.unwrap_or_else(|| "HEAD".into()) }
        }
        (Some(_), Some(_), _) => {
            return Err(cx.err("source", "give either `path` or `git` (+ `ref`), not both"))
        }
        (_, None, Some(_)) => return Err(cx.err("source.ref", "`ref` needs `git`")),
        (None, None, None) => return Err(cx.err("source", "give `path` or `git`")),
    };

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
                format!("unknown Debian release `{name}` (known: {})", crate::target::known()),
            ));
        }
        if names[..i].contains(name) {
            return Err(
                cx.err(format!("package.targets[{i}]"), format!("`{name}` is listed twice"))
            );
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
    if !(maintainer.contains('<') && maintainer.ends_with('>')) || maintainer.contains('\n') {
        return Err(cx.err(
            "package.maintainer",
            format!("`{maintainer}` is not of the form `Full Name <address@example.org>`"),
        ));
    }
    let mut lines = p.description.trim().lines().map(str::trim_end);
    let synopsis = lines.next().unwrap_or("").trim().to_string();
    if synopsis.is_empty() || synopsis.len() > 80 {
        return Err(
            cx.err("package.description", "the first line (synopsis) must be 1 to 80 characters")
        );
    }
    let lower = synopsis.to_ascii_lowercase();
    if ["a ", "an ", "the "].iter().any(|a| lower.starts_with(a)) {
        return Err(cx.err("package.description", "the synopsis must not start with an article"));
    }
    if lower == name {
        return Err(cx.err("package.description", "the synopsis must not be the package name"));
    }
    let extended: Vec<String> = lines.map(|l| l.trim().to_string()).collect();
    if extended.iter().all(|l| l.is_empty()) {
        return Err(
            cx.err("package.description", "add an extended description (lines after the synopsis)")
        );
    }
    if let Some(l) = extended.iter().find(|l| l.len() > 79) {
        return Err(cx.err(
            "package.description",
            format!("extended description lines must be at most 79 characters: `{l}`"),
        ));
    }
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
        section: p.section.unwrap_or_else(|| "web".into()),
        priority: p.priority.unwrap_or_else(|| "optional".into()),
        depends: p.depends,
        targets,
    })
}

fn resolve_instance(
    cx: &Ctx,
    i: usize,
    project: &str,
    r: RawInstance,
) -> Result<Instance, ConfigError> {
    let key = |k: &str| format!("instance[{i}].{k}");
    cx.check(&key("name"), check::ident(&r.name))?;
    cx.check(&key("prefix"), check::url_prefix(&r.prefix))?;
    cx.check(&key("settings_module"), check::python_module(&r.settings_module))?;
    if r.gunicorn.workers == 0 || r.gunicorn.workers > 64 {
        return Err(cx.err(key("gunicorn.workers"), "must be between 1 and 64"));
    }
    let (host, port_s) = r
        .gunicorn
        .bind
        .rsplit_once(':')
        .ok_or_else(|| cx.err(key("gunicorn.bind"), "expected `127.0.0.1:PORT`"))?;
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        return Err(cx.err(
            key("gunicorn.bind"),
            format!("`{}` is not a loopback address: gunicorn sits behind nginx and must bind 127.0.0.1, localhost or [::1]", r.gunicorn.bind),
        ));
    }
    let port_n: u16 = port_s
        .parse()
        .map_err(|_| cx.err(key("gunicorn.bind"), format!("invalid port `{port_s}`")))?;
    let port_n = port(cx, &key("gunicorn.bind"), port_n)?;
    let concurrency = r.celery.concurrency.unwrap_or(1);
    if concurrency == 0 || concurrency > 64 {
        return Err(cx.err(key("celery.concurrency"), "must be between 1 and 64"));
    }
    let queue = r.celery.queue.unwrap_or_else(|| format!("queue_{}", r.name));
    cx.check(&key("celery.queue"), check::ident(&queue))?;
    let default_name = format!("{project}_{}", r.name);
    let db_name = r.database.name.unwrap_or_else(|| default_name.clone());
    cx.check(&key("database.name"), check::ident(&db_name))?;
    let db_user = r.database.user.unwrap_or_else(|| default_name.clone());
    cx.check(&key("database.user"), check::ident(&db_user))?;
    let vhost = r.broker.vhost.unwrap_or_else(|| default_name.clone());
    cx.check(&key("broker.vhost"), check::ident(&vhost))?;
    let br_user = r.broker.user.unwrap_or(default_name);
    cx.check(&key("broker.user"), check::ident(&br_user))?;
    for (k, v) in &r.env {
        cx.check(&key(&format!("env.{k}")), check::env_name(k))?;
        if RESERVED_ENV.contains(&k.as_str()) {
            return Err(cx.err(key(&format!("env.{k}")), "is set by the package itself"));
        }
        if v.contains(['\n', '\0']) {
            return Err(cx.err(key(&format!("env.{k}")), "values must be one line"));
        }
    }
    Ok(Instance {
        name: r.name,
        prefix: r.prefix,
        settings_module: r.settings_module,
        gunicorn: Gunicorn {
            workers: r.gunicorn.workers,
            host: host.trim_matches(['[', ']']).to_string(),
            bind: r.gunicorn.bind,
            port: port_n,
        },
        celery: Celery { concurrency, queue },
        database: InstanceDatabase { name: db_name, user: db_user },
        broker: InstanceBroker { vhost, user: br_user },
        env: r.env,
    })
}

fn check_unique(cx: &Ctx, instances: &[Instance]) -> Result<(), ConfigError> {
    let mut names = BTreeSet::new();
    let mut prefixes = BTreeSet::new();
    let mut ports = BTreeSet::new();
    let mut dbs = BTreeSet::new();
    let mut vhosts = BTreeSet::new();
    for (i, inst) in instances.iter().enumerate() {
        let dup = |what: &str, k: &str, v: &dyn std::fmt::Display| {
            cx.err(format!("instance[{i}].{k}"), format!("duplicate {what} `{v}`"))
        };
        if !names.insert(&inst.name) {
            return Err(dup("instance name", "name", &inst.name));
        }
        if !prefixes.insert(inst.prefix.to_ascii_lowercase()) {
            return Err(dup("URL prefix", "prefix", &inst.prefix));
        }
        if !ports.insert(inst.gunicorn.port) {
            return Err(dup("gunicorn port", "gunicorn.bind", &inst.gunicorn.port));
        }
        if !dbs.insert(&inst.database.name) {
            return Err(dup("database name", "database.name", &inst.database.name));
        }
        if !vhosts.insert(&inst.broker.vhost) {
            return Err(dup("broker vhost", "broker.vhost", &inst.broker.vhost));
        }
    }
    Ok(())
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
        cx.check(&format!("web.server_names[{i}]"), check::host_name(n))?;
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
                Some(p) if p.starts_with('/') && !p.contains(['\n', ';', '"', '\'']) => Ok(p),
                Some(p) => {
                    Err(cx.err(format!("web.tls.{k}"), format!("`{p}` is not an absolute path")))
                }
                None => Err(cx.err(format!("web.tls.{k}"), "required with mode = \"provided\"")),
            };
            Tls {
                certificate: get("certificate", w.tls.certificate)?,
                key: get("key", w.tls.key)?,
                mode: w.tls.mode,
            }
        }
        other => {
            return Err(cx
                .err("web.tls.mode", format!("`{other}` is not one of `self-signed`, `provided`")))
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
