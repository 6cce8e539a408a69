//! Each instance's supervisor programs, decided once: name, command, how a new version reaches
//! it and whether an upgrade stops it. The supervisor conffile, the setup script (what it reloads
//! and restarts), the prerm (what an upgrade stops) and the end-to-end test (which reads the
//! installed supervisor.conf) all iterate over this one list, so a new program (say, Flower) is
//! one more entry here and nowhere else.

use serde::Serialize;

use crate::config::Instance;

/// How a running program picks up a new version of the code and virtualenv.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reload {
    /// `supervisorctl signal HUP`: gunicorn starts new workers while the old ones finish their
    /// requests, and the listening socket never closes.
    Hup,
    /// `supervisorctl restart`.
    Restart,
}

/// One supervisor program of one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Program {
    /// `<project>-<instance>-<kind>`, the supervisor program name (and its log file's name).
    pub name: String,
    /// `<project>-<instance>`, the supervisor group: one per instance, so that `supervisorctl
    /// update` starts an added instance, stops a removed one and restarts a changed one
    /// without touching the others.
    pub group: String,
    /// The instance whose settings and secrets `cts-run` loads.
    pub instance: String,
    /// The instance's system user, which the program runs as.
    pub user: String,
    /// `gunicorn`, `worker` or `beat`.
    pub kind: &'static str,
    /// What `cts-run <instance>` executes.
    pub command: String,
    /// Seconds supervisor waits after SIGTERM before SIGKILL.
    pub stop_wait_secs: u32,
    pub reload: Reload,
    /// Stopped by the prerm while a new version migrates (no task may run against a schema in
    /// flux); gunicorn keeps serving.
    pub stop_on_upgrade: bool,
    /// Exactly one process (`numprocs=1`): Celery beat, of which two would schedule every task
    /// twice.
    pub single: bool,
}

/// Where the programs' files live.
pub struct ProgramPaths<'a> {
    /// `/usr/share/<package>`, holding `gunicorn.conf.py`.
    pub share: &'a str,
    /// The parent of the instance users' homes (where the beat schedules live).
    pub beat: &'a str,
    /// The application's code: a link through the current release. gunicorn is told it
    /// (`--chdir`) so that a reload (HUP) resolves it anew and loads the release switched to.
    pub source: &'a str,
}

/// Every program of every instance, in instance order: gunicorn, worker, beat.
pub fn programs(project: &str, instances: &[Instance], paths: &ProgramPaths) -> Vec<Program> {
    instances.iter().flat_map(|i| instance_programs(project, i, paths)).collect()
}

fn instance_programs(project: &str, i: &Instance, paths: &ProgramPaths) -> [Program; 3] {
    // the instance user's home, which holds its beat schedule
    let home = format!("{}/{}", paths.beat, i.name);
    let program = |kind, command: String, stop_wait_secs, reload| Program {
        name: format!("{project}-{}-{kind}", i.name),
        group: format!("{project}-{}", i.name),
        instance: i.name.clone(),
        user: i.user.clone(),
        kind,
        command,
        stop_wait_secs,
        reload,
        stop_on_upgrade: reload == Reload::Restart,
        single: kind == "beat",
    };
    [
        program(
            "gunicorn",
            format!(
                "gunicorn cts.wsgi:application --bind {} --workers {} --timeout 180 \
                 --graceful-timeout 30 --max-requests 1000 --max-requests-jitter 100 \
                 --forwarded-allow-ips 127.0.0.1 --access-logfile - --error-logfile - \
                 --chdir {} --config {}/gunicorn.conf.py",
                i.gunicorn.bind, i.gunicorn.workers, paths.source, paths.share
            ),
            60,
            Reload::Hup,
        ),
        program(
            "worker",
            format!(
                "celery -A cts.celery:app worker -Q {} --concurrency {} --hostname {}@%h \
                 --loglevel INFO --without-gossip --without-mingle",
                i.celery.queue, i.celery.concurrency, i.name
            ),
            120,
            Reload::Restart,
        ),
        program(
            "beat",
            format!(
                "celery -A cts.celery:app beat --schedule {home}/celerybeat-{}.schedule --loglevel INFO",
                i.name
            ),
            30,
            Reload::Restart,
        ),
    ]
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests may use std::fs directly
mod tests {
    use super::*;

    fn reference() -> crate::config::Config {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cts.toml");
        crate::config::parse(&path, &std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    #[test]
    fn three_programs_per_instance_and_only_gunicorn_keeps_serving_through_an_upgrade() {
        let cfg = reference();
        let paths = ProgramPaths {
            share: "/usr/share/cts-server",
            beat: "/var/lib/cts-server/beat",
            source: "/var/www/cts/source",
        };
        let list = programs("cts", &cfg.instances, &paths);
        let names: Vec<&str> = list.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "cts-turkey-gunicorn",
                "cts-turkey-worker",
                "cts-turkey-beat",
                "cts-iraq-gunicorn",
                "cts-iraq-worker",
                "cts-iraq-beat"
            ]
        );
        for p in &list {
            assert_eq!(p.stop_on_upgrade, p.kind != "gunicorn", "{}", p.name);
            assert_eq!(p.reload == Reload::Hup, p.kind == "gunicorn", "{}", p.name);
            assert_eq!(p.single, p.kind == "beat", "{}", p.name);
            assert_eq!(p.user, format!("cts-{}", p.instance), "one system user per instance");
            assert_eq!(p.group, format!("cts-{}", p.instance), "one supervisor group per instance");
        }
        assert!(list[0].command.contains("--bind 127.0.0.1:8001"));
        assert!(
            list[1].command.contains("-Q queue_turkey") && list[1].command.contains("turkey@%h")
        );
        assert!(list[2]
            .command
            .contains("/var/lib/cts-server/beat/turkey/celerybeat-turkey.schedule"));
    }
}
