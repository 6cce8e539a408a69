//! The `Release` text of a suite: fixed Origin/Label/Suite/Codename from the repository config,
//! a C-locale UTC `Date`, Architectures, Components, `Acquire-By-Hash: yes`, and SHA256 and
//! SHA512 lines for every index variant (uncompressed, `.gz`, `.xz`), all of which exist both at
//! their canonical path and under `by-hash/`.

use std::collections::BTreeMap;
use std::fmt::Write;

use time::OffsetDateTime;

use super::config::{RepoConfig, SuiteConfig};
use super::db::IndexHashes;
use super::error::{RepoError, Result};

/// The one clock of a publish: `SOURCE_DATE_EPOCH` when set (reproducible output), else now.
pub fn now() -> Result<OffsetDateTime> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .ok_or_else(|| RepoError::Usage(format!("SOURCE_DATE_EPOCH `{v}` is not a Unix time"))),
        Err(_) => Ok(OffsetDateTime::now_utc()),
    }
}

/// RFC 2822 in UTC with English names whatever the locale: `Tue, 24 Nov 2026 16:41:23 +0000`.
pub fn rfc2822(t: OffsetDateTime) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} +0000",
        DAYS[t.weekday().number_days_from_monday() as usize],
        t.day(),
        MONTHS[t.month() as usize - 1],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Renders Release for `suite`; `indices` maps paths relative to `dists/<suite>` to hashes.
pub fn render(
    config: &RepoConfig,
    suite: &str,
    suite_config: &SuiteConfig,
    date: OffsetDateTime,
    indices: &BTreeMap<String, IndexHashes>,
) -> String {
    let mut out = String::with_capacity(512 + indices.len() * 220);
    let _ = writeln!(out, "Origin: {}", config.origin);
    let _ = writeln!(out, "Label: {}", config.label);
    let _ = writeln!(out, "Suite: {suite}");
    let _ = writeln!(out, "Codename: {}", suite_config.codename);
    let _ = writeln!(out, "Date: {}", rfc2822(date));
    let _ = writeln!(out, "Architectures: {}", config.architectures.join(" "));
    let _ = writeln!(out, "Components: {}", config.components.join(" "));
    if let Some(d) = &config.description {
        let _ = writeln!(out, "Description: {d}");
    }
    out.push_str("Acquire-By-Hash: yes\n");
    let width = indices.values().map(|h| h.size.to_string().len()).max().unwrap_or(1);
    out.push_str("SHA256:\n");
    for (path, h) in indices {
        let _ = writeln!(out, " {} {:>width$} {path}", h.sha256, h.size);
    }
    out.push_str("SHA512:\n");
    for (path, h) in indices {
        let _ = writeln!(out, " {} {:>width$} {path}", h.sha512, h.size);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_is_c_locale_utc() {
        let t = OffsetDateTime::from_unix_timestamp(1_795_538_483).unwrap();
        assert_eq!(rfc2822(t), "Tue, 24 Nov 2026 16:41:23 +0000");
    }
}
