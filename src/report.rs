//! Progress reporting. The core calls a [`Reporter`]; only the CLI decides where it goes.
//! stdout carries the result alone (a path or JSON), so reporters write to stderr.

/// Receives progress and warnings from the core.
pub trait Reporter {
    fn info(&self, msg: &str);
    fn warn(&self, msg: &str);
}

/// Writes `cts-deb: …` lines to stderr.
pub struct Stderr {
    pub quiet: bool,
}

impl Reporter for Stderr {
    fn info(&self, msg: &str) {
        if !self.quiet {
            eprintln!("cts-deb: {msg}");
        }
    }
    fn warn(&self, msg: &str) {
        eprintln!("cts-deb: warning: {msg}");
    }
}

/// Drops everything (tests, library use).
pub struct Silent;

impl Reporter for Silent {
    fn info(&self, _msg: &str) {}
    fn warn(&self, _msg: &str) {}
}
