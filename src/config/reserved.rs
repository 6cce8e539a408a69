//! Names, prefixes and ports a config may not use because the server, its services or the
//! package already own them. Each concept has one list; a trailing `*` makes an entry a prefix.
//!
//! - [`RESERVED_ACCOUNTS`] (`project.user`, each instance's `<project.user>-<name>`,
//!   `instance[].database.user`, `instance[].broker.user`):
//!   the accounts of a Debian server. A fixed list, not the build host's `/etc/passwd`: the build
//!   host is not the server. It holds base-passwd's static users (UID 0–99: root, daemon, bin,
//!   sys, sync, games, man, lp, mail, news, uucp, proxy, www-data, backup, list, irc, gnats,
//!   nobody), the system users of the packages a server runs (`_apt`, `systemd-*`, messagebus,
//!   sshd) and those of the stack this package depends on (postgres, rabbitmq, nginx,
//!   supervisor). Programs running as one of them run as root or as a database superuser, and
//!   setup resets a database or broker user's password and strips PostgreSQL roles of SUPERUSER.
//! - [`RESERVED_ROLES`]: role names PostgreSQL itself refuses (`public`, `none`, `pg_*`).
//! - [`RESERVED_BROKER_USERS`]: RabbitMQ's default administrator `guest` (setup deletes it).
//! - [`RESERVED_DATABASES`]: the databases every PostgreSQL cluster starts with.
//! - [`RESERVED_VHOSTS`]: RabbitMQ's default vhost `/`.
//! - [`RESERVED_SERVER_NAMES`]: the keywords of an nginx `map` block, which lists the server
//!   names (a name `default` would become the map's default).
//! - [`RESERVED_PREFIXES`]: the locations of the nginx site other than the instances'.
//! - [`RESERVED_PORTS`] (gunicorn): nginx's 80 and 443, epmd's 4369 and RabbitMQ's Erlang
//!   distribution port 25672; besides these, `database.port`, `broker.port` and every port
//!   below 1024 (privileged: gunicorn runs as the instance's unprivileged user) are refused.
//! - [`RESERVED_ENV`] and [`STARTUP_ENV`] (`instance[].env`): what the package sets, and what
//!   changes how the programs start.

/// Accounts of a Debian server (see the module documentation).
pub const RESERVED_ACCOUNTS: &[&str] = &[
    "root",
    "daemon",
    "bin",
    "sys",
    "sync",
    "games",
    "man",
    "lp",
    "mail",
    "news",
    "uucp",
    "proxy",
    "www-data",
    "backup",
    "list",
    "irc",
    "gnats",
    "nobody",
    "_apt",
    "systemd-*",
    "messagebus",
    "sshd",
    "postgres",
    "rabbitmq",
    "nginx",
    "supervisor",
];

/// Role names `CREATE ROLE` refuses.
pub const RESERVED_ROLES: &[&str] = &["public", "none", "pg_*"];

/// RabbitMQ's default administrator, which setup deletes.
pub const RESERVED_BROKER_USERS: &[&str] = &["guest"];

/// The databases of a fresh PostgreSQL cluster.
pub const RESERVED_DATABASES: &[&str] = &["postgres", "template0", "template1"];

/// RabbitMQ's default vhost.
pub const RESERVED_VHOSTS: &[&str] = &["/"];

/// Parameters of nginx's `map` block, where the site lists the server names.
pub const RESERVED_SERVER_NAMES: &[&str] = &["default", "hostnames", "include", "volatile"];

/// nginx locations of the site besides the instances' (`location /static/`, `location
/// /media/`); `/` itself (the redirect to the default instance) is no prefix either.
pub const RESERVED_PREFIXES: &[&str] = &["/", "/static", "/media"];

/// Ports gunicorn may not bind, and who owns them.
pub const RESERVED_PORTS: &[(u16, &str)] = &[
    (80, "nginx's HTTP port"),
    (443, "nginx's HTTPS port"),
    (4369, "epmd's port (RabbitMQ's Erlang port mapper)"),
    (25672, "RabbitMQ's Erlang distribution port"),
];

/// Environment names the package sets itself; an instance's `env` may not override them.
pub const RESERVED_ENV: &[&str] = &[
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

/// Environment names that change how the programs start: the instance's conf is sourced by
/// `/bin/sh` (cts-run, gunicorn.conf.py, setup), whose `ETC`, `VENV`, `SOURCE` and `INSTANCES`
/// it would overwrite, and then execs Python, gunicorn and Celery.
pub const STARTUP_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "SHELL",
    "IFS",
    "ENV",
    "BASH_ENV",
    "CDPATH",
    "LD_*",
    "PYTHON*",
    "VIRTUAL_ENV",
    "GUNICORN_CMD_ARGS",
    "ETC",
    "VENV",
    "SOURCE",
    "INSTANCES",
];

/// Whether `list` names `s` (exactly, or by a `prefix*` entry). Case matters.
pub fn listed(list: &[&str], s: &str) -> bool {
    list.iter().any(|r| match r.strip_suffix('*') {
        Some(prefix) => s.starts_with(prefix),
        None => s == *r,
    })
}

/// The list as an error message shows it.
fn joined(list: &[&str]) -> String {
    list.join(", ")
}

/// A user name for the programs, PostgreSQL or RabbitMQ.
pub fn account(s: &str) -> Result<(), String> {
    if listed(RESERVED_ACCOUNTS, s) {
        return Err(format!(
            "`{s}` is a system account on Debian servers (reserved: {})",
            joined(RESERVED_ACCOUNTS)
        ));
    }
    Ok(())
}

/// A PostgreSQL role (`instance[].database.user`).
pub fn db_role(s: &str) -> Result<(), String> {
    account(s)?;
    if listed(RESERVED_ROLES, s) {
        return Err(format!(
            "PostgreSQL reserves the role name `{s}` (reserved: {})",
            joined(RESERVED_ROLES)
        ));
    }
    Ok(())
}

/// A RabbitMQ user (`instance[].broker.user`).
pub fn broker_user(s: &str) -> Result<(), String> {
    account(s)?;
    if listed(RESERVED_BROKER_USERS, s) {
        return Err(format!(
            "`{s}` is RabbitMQ's default administrator, which setup deletes: give the instance a \
             user of its own"
        ));
    }
    Ok(())
}

/// A database name (`instance[].database.name`).
pub fn database(s: &str) -> Result<(), String> {
    if listed(RESERVED_DATABASES, s) {
        return Err(format!(
            "`{s}` is a database of every PostgreSQL cluster (reserved: {})",
            joined(RESERVED_DATABASES)
        ));
    }
    Ok(())
}

/// A vhost (`instance[].broker.vhost`).
pub fn vhost(s: &str) -> Result<(), String> {
    if listed(RESERVED_VHOSTS, s) {
        return Err(format!("`{s}` is RabbitMQ's default vhost; give the instance its own"));
    }
    Ok(())
}

/// A `web.server_names` entry.
pub fn server_name(s: &str) -> Result<(), String> {
    if listed(RESERVED_SERVER_NAMES, s) {
        return Err(format!(
            "`{s}` is a keyword of nginx's `map` block, where the site lists the server names \
             (reserved: {})",
            joined(RESERVED_SERVER_NAMES)
        ));
    }
    Ok(())
}

/// An instance's URL prefix: not one of [`RESERVED_PREFIXES`] nor below one (compared without
/// case, as the instances' prefixes are among themselves).
pub fn prefix(p: &str) -> Result<(), String> {
    let lower = p.to_ascii_lowercase();
    let taken = RESERVED_PREFIXES
        .iter()
        .find(|r| lower == **r || (r.len() > 1 && lower.starts_with(&format!("{r}/"))));
    match taken {
        Some(r) => Err(format!(
            "`{p}` is {}: the nginx site serves it itself (reserved: {})",
            if lower == *r { "reserved" } else { "under a reserved prefix" },
            joined(RESERVED_PREFIXES)
        )),
        None => Ok(()),
    }
}

/// A gunicorn port, given the configured database and broker ports.
pub fn gunicorn_port(port: u16, database_port: u16, broker_port: u16) -> Result<(), String> {
    let owner = RESERVED_PORTS.iter().find(|(p, _)| *p == port).map(|(_, o)| o.to_string());
    let owner = owner.or_else(|| match port {
        _ if port == database_port => Some("database.port (PostgreSQL)".into()),
        _ if port == broker_port => Some("broker.port (RabbitMQ)".into()),
        _ => None,
    });
    if let Some(owner) = owner {
        return Err(format!("port {port} is {owner}; gunicorn needs a port of its own"));
    }
    if port < 1024 {
        return Err(format!(
            "port {port} is privileged (below 1024): gunicorn runs as the instance's own \
             unprivileged user and cannot bind it"
        ));
    }
    Ok(())
}

/// An `instance[].env` name that neither the package sets nor changes how programs start.
pub fn env(name: &str) -> Result<(), String> {
    if listed(RESERVED_ENV, name) {
        return Err("is set by the package itself".into());
    }
    if listed(STARTUP_ENV, name) {
        return Err(format!("changes how the programs start (reserved: {})", joined(STARTUP_ENV)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_roles_and_databases() {
        assert!(account("cts").is_ok());
        assert!(account("postgres").unwrap_err().contains("system account on Debian servers"));
        assert!(account("systemd-network").is_err());
        assert!(account("www-data").is_err());
        assert!(db_role("pg_monitor").unwrap_err().contains("PostgreSQL reserves"));
        assert!(db_role("public").is_err());
        assert!(db_role("cts_turkey").is_ok());
        assert!(broker_user("guest").is_err());
        assert!(database("template1").is_err());
        assert!(database("cts_turkey").is_ok());
        assert!(vhost("/").is_err());
        assert!(server_name("default").is_err());
        assert!(server_name("cts.example.org").is_ok());
    }

    #[test]
    fn prefixes() {
        for p in ["/static", "/media", "/Static", "/static/x", "/"] {
            assert!(prefix(p).is_err(), "{p}");
        }
        for p in ["/TR", "/statics", "/mediaX"] {
            assert!(prefix(p).is_ok(), "{p}");
        }
    }

    #[test]
    fn ports() {
        for p in [80, 443, 22, 1023, 4369, 25672, 5432, 5672] {
            assert!(gunicorn_port(p, 5432, 5672).is_err(), "{p}");
        }
        assert!(gunicorn_port(5433, 5433, 5672).unwrap_err().contains("database.port"));
        assert!(gunicorn_port(8001, 5432, 5672).is_ok());
        assert!(gunicorn_port(5432, 6432, 5672).is_ok());
    }

    #[test]
    fn environment() {
        assert!(env("CTS_POLL_INTERVAL").is_ok());
        assert!(env("CTS_DB_NAME").is_err());
        for n in ["PATH", "LD_PRELOAD", "LD_LIBRARY_PATH", "PYTHONPATH", "PYTHONSTARTUP", "IFS"] {
            assert!(env(n).unwrap_err().contains("changes how the programs start"), "{n}");
        }
    }
}
