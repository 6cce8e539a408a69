//! Where the package puts things on the server: the `paths` the templates and maintainer
//! scripts see. Package-owned paths derive from the package name, the application's from
//! `project.root`; nothing else names them.

use serde::Serialize;

#[derive(Serialize)]
pub(super) struct Paths {
    pub share: String,
    pub app: String,
    pub wheels: String,
    pub requirements: String,
    pub etc: String,
    pub state: String,
    pub beat: String,
    pub backups: String,
    pub setup: String,
    pub source: String,
    pub env: String,
    /// one directory per release (its virtualenv and a copy of its code), and the link to the
    /// one that runs: `source` and `env` point through it
    pub releases: String,
    pub current: String,
    pub log: String,
    #[serde(rename = "static")]
    pub static_: String,
    pub media: String,
    pub ssl: String,
}

impl Paths {
    /// The paths of package `name` whose application lives under `root` and whose dependencies
    /// package puts the wheels and the requirements in `pydeps`.
    pub(super) fn new(name: &str, root: &str, pydeps: &str) -> Paths {
        let share = format!("/usr/share/{name}");
        Paths {
            app: format!("{share}/app"),
            wheels: format!("{pydeps}/wheels"),
            requirements: format!("{pydeps}/requirements.txt"),
            etc: format!("/etc/{name}"),
            state: format!("/var/lib/{name}"),
            beat: format!("/var/lib/{name}/beat"),
            backups: format!("/var/backups/{name}"),
            setup: format!("/usr/sbin/{name}-setup"),
            source: format!("{root}/source"),
            env: format!("{root}/env"),
            releases: format!("{root}/releases"),
            current: format!("{root}/current"),
            log: format!("{root}/log"),
            static_: format!("{root}/public/static"),
            media: format!("{root}/public/media"),
            ssl: format!("{root}/ssl"),
            share,
        }
    }
}
