//! The signed apt repository: `publish`, `repo init`, `repo gc`.
//!
//! This module owns the repository on disk. Layout under the repository root (the directory a
//! web server serves):
//!
//! ```text
//! pool/<component>/<first letter|libX>/<source>/<name>_<version>_<arch>.deb
//! dists/<suite>/{InRelease,Release,Release.gpg}
//! dists/<suite>/<component>/binary-<arch>/Packages{,.gz,.xz}
//! dists/<suite>/<component>/binary-<arch>/by-hash/{SHA256,SHA512}/<hex>
//! archive-key.asc                 public signing key
//! .cts-repo/config.toml           Origin, Label, suites, architectures, components, key id
//! .cts-repo/suites/<suite>.db     package database (published stanzas, index hashes, tombstones)
//! .cts-repo/lock                  flock(2) target
//! .cts-repo/cache/                compressed index chunks (see `compress`)
//! .cts-repo/gc.json               when gc first saw each unreferenced file
//! ```
//!
//! **Order of a publish** (each step's name is the `CTS_DEB_FAULT=after:<step>` kill point):
//!
//! 0. take the exclusive `flock` on `.cts-repo/lock` (blocking). The kernel drops it when the
//!    holder exits or dies, so a killed publisher never leaves a stale lock, and two publishers
//!    run one after the other, the second one seeing the first one's packages;
//! 1. read and check every input (`checked`): bad version, unknown architecture, same
//!    name+version+arch with other bytes, older than the newest: refused here, before any write;
//! 2. copy new pool files to new paths (`pool`), via temp file + rename;
//! 3. render every changed index and write each variant to `by-hash/SHA256/<hex>`, hard-linked
//!    to `by-hash/SHA512/<hex>` (`by-hash`): content-addressed, so nothing served changes;
//! 4. render Release and sign it in memory (`signed`);
//! 5. `syncfs`, then write the suite database atomically (`db`). It records the SHA-256 of the
//!    Release files about to be written; from here the publish rolls forward: a later publish
//!    that finds other Release files on disk rewrites everything from the database;
//! 6. replace the canonical `Packages{,.gz,.xz}` paths (`index-first`, `indices`), each a
//!    rename of a hard link to the by-hash file;
//! 7. replace `Release` (`release`), then `Release.gpg` (`release-gpg`);
//! 8. replace `InRelease` (`inrelease`): **the commit point**. A by-hash client sees the old
//!    InRelease with the old (still present) by-hash indices, or the new one with the new.
//!
//! `publish::run` takes these steps in this order, one call each; the phases live in the
//! submodules of [`mod@publish`] (open, check, retention, index, commit).
//!
//! Superseded by-hash files and pool files that left the index stay for a grace period and are
//! removed by `repo gc` (see [`mod@gc`]). Files are written without per-file fsync and made durable
//! by one `syncfs` before the database is written; Release files and the database are synced
//! individually.

mod compress;
pub mod config;
pub mod control;
pub mod db;
pub mod debfile;
mod error;
mod fsio;
pub mod gc;
pub mod init;
mod inputs;
pub mod publish;
pub mod release;
pub mod sign;

pub use config::{Layout, RepoConfig};
pub use error::{RepoError, Result};
pub use gc::{gc, GcOptions, GcReport};
pub use init::{init, InitOptions, InitReport};
pub use publish::{publish, refresh, Outcome, PublishOptions, PublishReport};
