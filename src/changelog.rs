//! debian/changelog: the top entry gives the default version and the build clock.

use time::format_description::well_known::Rfc2822;
use time::OffsetDateTime;

/// The top entry of a Debian changelog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopEntry {
    pub source: String,
    pub version: String,
    /// Seconds since the epoch, from the trailer line.
    pub timestamp: u64,
}

/// Parses the first entry: `source (version) dist; urgency=…` … ` -- Name <mail>  Date`.
pub fn top_entry(text: &str) -> Result<TopEntry, String> {
    let first = text.lines().find(|l| !l.trim().is_empty()).ok_or("the changelog is empty")?;
    let (source, rest) = first
        .split_once(" (")
        .ok_or_else(|| format!("first line `{first}` is not `package (version) dist; …`"))?;
    let (version, _) = rest
        .split_once(')')
        .ok_or_else(|| format!("first line `{first}` has no closing `)` after the version"))?;
    let trailer = text
        .lines()
        .find(|l| l.starts_with(" -- "))
        .ok_or("no trailer line ` -- Name <address>  Date` after the first entry")?;
    let (_, date) = trailer
        .split_once(">  ")
        .ok_or_else(|| format!("trailer `{trailer}` lacks `>  ` before the date"))?;
    let when = OffsetDateTime::parse(date.trim(), &Rfc2822)
        .map_err(|e| format!("trailer date `{}` is not RFC 2822: {e}", date.trim()))?;
    let timestamp = u64::try_from(when.unix_timestamp())
        .map_err(|_| format!("trailer date `{}` is before 1970", date.trim()))?;
    Ok(TopEntry { source: source.trim().into(), version: version.trim().into(), timestamp })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_top_entry() {
        let text = "cts-server (1.2.3-1) bookworm; urgency=medium\n\n  * x\n\n -- A B <a@b.c>  \
                    Tue, 24 Nov 2026 12:00:00 +0000\n\ncts-server (1.0-1) x; urgency=low\n";
        let e = top_entry(text).unwrap();
        assert_eq!(e.version, "1.2.3-1");
        assert_eq!(e.source, "cts-server");
        assert_eq!(e.timestamp, 1_795_521_600);
    }

    #[test]
    fn rejects_garbage() {
        assert!(top_entry("").is_err());
        assert!(top_entry("nonsense\n").is_err());
    }
}
