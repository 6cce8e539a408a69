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

/// Why [`top_entry`] refused a changelog; each variant carries the text it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangelogError {
    #[error("the changelog is empty")]
    Empty,
    /// The first non-blank line has no ` (` after the source name.
    #[error("first line `{line}` is not `package (version) dist; …`")]
    Heading { line: String },
    /// The first non-blank line has no `)` after the version.
    #[error("first line `{line}` has no closing `)` after the version")]
    Unclosed { line: String },
    #[error("no trailer line ` -- Name <address>  Date` after the first entry")]
    NoTrailer,
    /// The trailer has no `>  ` (two spaces) between the address and the date.
    #[error("trailer `{trailer}` lacks `>  ` before the date")]
    NoDate { trailer: String },
    #[error("trailer date `{date}` is not RFC 2822: {source}")]
    BadDate { date: String, source: time::error::Parse },
    #[error("trailer date `{date}` is before 1970")]
    Before1970 { date: String },
}

/// Parses the first entry: `source (version) dist; urgency=…` … ` -- Name <mail>  Date`.
pub fn top_entry(text: &str) -> Result<TopEntry, ChangelogError> {
    let first = text.lines().find(|l| !l.trim().is_empty()).ok_or(ChangelogError::Empty)?;
    let (source, rest) =
        first.split_once(" (").ok_or_else(|| ChangelogError::Heading { line: first.into() })?;
    let (version, _) =
        rest.split_once(')').ok_or_else(|| ChangelogError::Unclosed { line: first.into() })?;
    let trailer = text.lines().find(|l| l.starts_with(" -- ")).ok_or(ChangelogError::NoTrailer)?;
    let (_, date) = trailer
        .split_once(">  ")
        .ok_or_else(|| ChangelogError::NoDate { trailer: trailer.into() })?;
    let date = date.trim();
    let when = OffsetDateTime::parse(date, &Rfc2822)
        .map_err(|source| ChangelogError::BadDate { date: date.into(), source })?;
    let timestamp = u64::try_from(when.unix_timestamp())
        .map_err(|_| ChangelogError::Before1970 { date: date.into() })?;
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

    #[test]
    fn refusals_say_what_is_wrong() {
        let head = "cts-server (1.0-1) bookworm; urgency=low\n\n  * x\n\n";
        let cases = [
            ("\n  \n".to_string(), "the changelog is empty".to_string()),
            (
                "nonsense\n".into(),
                "first line `nonsense` is not `package (version) dist; …`".into(),
            ),
            ("a (1.0\n".into(), "first line `a (1.0` has no closing `)` after the version".into()),
            (
                head.into(),
                "no trailer line ` -- Name <address>  Date` after the first entry".into(),
            ),
            (
                format!("{head} -- A B <a@b.c> Tue, 24 Nov 2026 12:00:00 +0000\n"),
                "trailer ` -- A B <a@b.c> Tue, 24 Nov 2026 12:00:00 +0000` lacks `>  ` before \
                 the date"
                    .into(),
            ),
            (
                format!("{head} -- A B <a@b.c>  Thu, 01 Jan 1970 00:00:00 +0100\n"),
                "trailer date `Thu, 01 Jan 1970 00:00:00 +0100` is before 1970".into(),
            ),
        ];
        for (text, message) in cases {
            assert_eq!(top_entry(&text).unwrap_err().to_string(), message, "{text}");
        }
        let bad_date = top_entry(&format!("{head} -- A B <a@b.c>  yesterday\n")).unwrap_err();
        let parse = OffsetDateTime::parse("yesterday", &Rfc2822).unwrap_err();
        assert_eq!(
            bad_date.to_string(),
            format!("trailer date `yesterday` is not RFC 2822: {parse}")
        );
    }
}
