//! The `[package]` values that become control fields, checked as Policy, dpkg and lintian want
//! them, so that neither `dpkg-deb`, `apt-get update` nor lintian fails on the package:
//!
//! - every one-line field on one line (a newline in `section` would add a field of its own);
//! - `section`: a Debian archive section ([`SECTIONS`], lintian's `fields/archive-sections`),
//!   optionally prefixed by an archive area other than main (`contrib/`, `non-free/`,
//!   `non-free-firmware/`, Policy 2.4);
//! - `priority`: one of [`PRIORITIES`]; `extra` is refused (deprecated since Policy 4.0.1, where
//!   it became `optional`; lintian `priority-extra-is-replaced-by-priority-optional`);
//! - `maintainer`: `Full Name <address>`, exactly one `<…>` with an `@`, no `,` (a list);
//! - `description`: a synopsis of 1 to [`SYNOPSIS_MAX`] characters, then an extended text of at
//!   most [`EXTENDED_LINES_MAX`] lines of at most [`EXTENDED_LINE_MAX`] characters and
//!   [`EXTENDED_BYTES_MAX`] bytes in all: a description is a summary (Debian's longest are a few
//!   dozen lines), and apt keeps every one in each client's package cache.

use super::check::{one_line, shown};

/// lintian 2.116's `data/fields/archive-sections`.
pub const SECTIONS: &[&str] = &[
    "admin",
    "cli-mono",
    "comm",
    "database",
    "debian-installer",
    "debug",
    "devel",
    "doc",
    "editors",
    "education",
    "electronics",
    "embedded",
    "fonts",
    "games",
    "gnome",
    "gnu-r",
    "gnustep",
    "golang",
    "graphics",
    "hamradio",
    "haskell",
    "httpd",
    "interpreters",
    "introspection",
    "java",
    "javascript",
    "kde",
    "kernel",
    "libdevel",
    "libs",
    "lisp",
    "localization",
    "mail",
    "math",
    "metapackages",
    "misc",
    "net",
    "news",
    "ocaml",
    "oldlibs",
    "otherosfs",
    "perl",
    "php",
    "python",
    "raku",
    "ruby",
    "rust",
    "science",
    "shells",
    "sound",
    "tasks",
    "tex",
    "text",
    "utils",
    "vcs",
    "video",
    "web",
    "x11",
    "xfce",
    "zope",
];

/// Archive areas other than main, which prefix a section (`contrib/net`).
pub const AREAS: &[&str] = &["contrib", "non-free", "non-free-firmware"];

/// Policy 2.5 priorities (lintian's `data/fields/priorities`).
pub const PRIORITIES: &[&str] = &["required", "important", "standard", "optional"];

/// The synopsis, in characters (lintian `synopsis-too-long` above 80).
pub const SYNOPSIS_MAX: usize = 80;
/// An extended line, in characters (lintian `extended-description-line-too-long` above 79).
pub const EXTENDED_LINE_MAX: usize = 79;
/// Extended lines, paragraph breaks included.
pub const EXTENDED_LINES_MAX: usize = 100;
/// The extended text in bytes (its lines joined by newlines).
pub const EXTENDED_BYTES_MAX: usize = 8 * 1024;

/// `package.section`.
pub fn section(s: &str) -> Result<(), String> {
    let (area, name) = s.split_once('/').map_or((None, s), |(a, n)| (Some(a), n));
    if area.is_some_and(|a| !AREAS.contains(&a)) || !SECTIONS.contains(&name) {
        return Err(format!(
            "`{}` is not a Debian section: one of {}, optionally prefixed by {}/",
            shown(s),
            SECTIONS.join(", "),
            AREAS.join("/, ")
        ));
    }
    Ok(())
}

/// `package.priority`.
pub fn priority(s: &str) -> Result<(), String> {
    if s == "extra" {
        return Err("`extra` is deprecated since Policy 4.0.1: use `optional`".into());
    }
    if !PRIORITIES.contains(&s) {
        return Err(format!("`{}` is not one of {}", shown(s), PRIORITIES.join(", ")));
    }
    Ok(())
}

/// `package.maintainer` (already trimmed).
pub fn maintainer(s: &str) -> Result<(), String> {
    let why = |reason: &str| {
        format!("`{}` is not of the form `Full Name <address@example.org>`: {reason}", shown(s))
    };
    one_line(s).map_err(|e| why(&e))?;
    if s.contains(',') {
        return Err(why("a `,` makes it a list of maintainers"));
    }
    let (name, rest) = s.split_once('<').ok_or_else(|| why("no `<address>`"))?;
    let address = rest.strip_suffix('>').ok_or_else(|| why("it must end with the `>`"))?;
    if name.trim().is_empty() || name.contains('>') {
        return Err(why("a name must come before the `<address>`"));
    }
    let ok = address.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !domain.is_empty() && !domain.contains('@')
    });
    if !ok || address.contains(['<', '>']) || address.contains(char::is_whitespace) {
        return Err(why("exactly one `<local@domain>` without spaces"));
    }
    Ok(())
}

/// `package.description`: the synopsis and the extended lines (trimmed; an empty line is a
/// paragraph break). `package` is the package name, which the synopsis must not just repeat.
pub fn description(text: &str, package: &str) -> Result<(String, Vec<String>), String> {
    let mut lines = text.trim().lines().map(str::trim);
    let synopsis = lines.next().unwrap_or("").to_string();
    let extended: Vec<String> = lines.map(str::to_string).collect();
    synopsis_ok(&synopsis, package)?;
    extended_ok(&extended)?;
    Ok((synopsis, extended))
}

fn synopsis_ok(synopsis: &str, package: &str) -> Result<(), String> {
    if synopsis.is_empty() || synopsis.chars().count() > SYNOPSIS_MAX {
        return Err(format!("the first line (synopsis) must be 1 to {SYNOPSIS_MAX} characters"));
    }
    one_line(synopsis).map_err(|e| format!("the synopsis {e}"))?;
    let lower = synopsis.to_ascii_lowercase();
    if ["a ", "an ", "the "].iter().any(|a| lower.starts_with(a)) {
        return Err("the synopsis must not start with an article".into());
    }
    if lower == package {
        return Err("the synopsis must not be the package name".into());
    }
    Ok(())
}

fn extended_ok(extended: &[String]) -> Result<(), String> {
    if extended.iter().all(|l| l.is_empty()) {
        return Err("add an extended description (lines after the synopsis)".into());
    }
    if extended.len() > EXTENDED_LINES_MAX {
        return Err(format!(
            "the extended description has {} lines: at most {EXTENDED_LINES_MAX}",
            extended.len()
        ));
    }
    let bytes = extended.iter().map(|l| l.len() + 1).sum::<usize>() - 1;
    if bytes > EXTENDED_BYTES_MAX {
        return Err(format!(
            "the extended description has {bytes} bytes: at most {EXTENDED_BYTES_MAX}"
        ));
    }
    for (i, l) in extended.iter().enumerate() {
        if l.chars().count() > EXTENDED_LINE_MAX {
            return Err(format!(
                "extended description lines must be at most {EXTENDED_LINE_MAX} characters: `{l}`"
            ));
        }
        one_line(l).map_err(|e| format!("extended description line {}: {e}", i + 2))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_priorities() {
        for ok in ["web", "admin", "contrib/net", "non-free/web", "non-free-firmware/kernel"] {
            assert!(section(ok).is_ok(), "{ok}");
        }
        for bad in ["webb", "main/web", "free/web", "web\nEssential: yes", "", "contrib/"] {
            assert!(section(bad).is_err(), "{bad:?}");
        }
        assert!(!section("web\nEssential: yes").unwrap_err().contains('\n'));
        assert!(priority("optional").is_ok());
        assert!(priority("extra").unwrap_err().contains("deprecated"));
        assert!(priority("high").is_err());
    }

    #[test]
    fn maintainers() {
        assert!(maintainer("CTS Operations <ops@cts.invalid>").is_ok());
        assert!(maintainer("J. Random <j@example.org>").is_ok());
        for bad in [
            "ops@cts.invalid",
            "<ops@cts.invalid>",
            "A <ops>",
            "A <ops@cts.invalid>, B <b@c.d>",
            "A <a@b> <c@d>",
            "A <a@b>\nEssential: yes",
            "A <a b@c>",
            "A <a@>",
            "A <a@b> x",
        ] {
            assert!(maintainer(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn descriptions_are_bounded() {
        let (syn, ext) = description("Syn\nOne\n\nTwo\n", "x").unwrap();
        assert_eq!((syn.as_str(), ext.len()), ("Syn", 3));
        assert!(description("Syn", "x").unwrap_err().contains("extended"));
        assert!(description("A syn\nx", "x").unwrap_err().contains("article"));
        let long = format!("Syn\n{}", "line\n".repeat(101));
        assert!(description(&long, "x").unwrap_err().contains("101 lines: at most 100"));
        let wide = format!("Syn\n{}", format!("{}\n", "é".repeat(79)).repeat(60));
        assert!(description(&wide, "x").unwrap_err().contains("bytes: at most 8192"));
        assert!(description("Syn\nx\u{0}y", "x").unwrap_err().contains("line 2"));
        assert!(description(&format!("Syn\n{}", "é".repeat(79)), "x").is_ok());
    }
}
