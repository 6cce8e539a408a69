//! deb822 paragraphs as the publisher needs them: parse a binary package's `control` file (field
//! order and continuation lines kept verbatim), look fields up case-insensitively, and check the
//! names that end up in paths (package, architecture, suite, component).

use super::error::{RepoError, Result};

/// One paragraph: `(name, value)` pairs in file order. A multi-line value keeps its continuation
/// lines, newline-separated, each still starting with its space or tab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paragraph {
    pub fields: Vec<(String, String)>,
}

impl Paragraph {
    /// Parses one paragraph (see [`crate::deb822::parse_paragraph`]); an error string says what
    /// is wrong (the caller adds the path).
    pub fn parse(text: &str) -> std::result::Result<Paragraph, String> {
        crate::deb822::parse_paragraph(text).map(|fields| Paragraph { fields })
    }

    /// The relation fields (Depends, Pre-Depends, Recommends, Suggests, Enhances, Breaks,
    /// Conflicts, Replaces, Provides) as dpkg and apt parse them: one that apt cannot parse
    /// would make `apt-get update` fail on every client of the suite. The error names the field.
    pub fn check_relations(&self) -> std::result::Result<(), String> {
        crate::deb822::check_relation_fields(&self.fields)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(f, _)| f.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Renders the paragraph without a trailing newline. Fields in `skip` are left out.
    pub fn render(&self, skip: &[&str]) -> String {
        let mut out = String::with_capacity(512);
        for (name, value) in &self.fields {
            if skip.iter().any(|s| s.eq_ignore_ascii_case(name)) {
                continue;
            }
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(name);
            out.push(':');
            if !value.is_empty() && !value.starts_with('\n') {
                out.push(' ');
            }
            out.push_str(value);
        }
        out
    }
}

/// Fields the publisher adds to each Packages stanza; a control file carrying them is refused.
pub const PUBLISHER_FIELDS: &[&str] =
    &["Filename", "Size", "MD5sum", "SHA1", "SHA256", "SHA512", "Description-md5"];

/// Package names (deb-control(5)): lowercase letters, digits, `+ - .`, at least two characters,
/// starting with a letter or digit.
pub fn check_package_name(name: &str) -> Result<()> {
    let ok = crate::deb822::is_package_name(name);
    if ok {
        Ok(())
    } else {
        Err(RepoError::InvalidName {
            what: "package name",
            value: name.to_string(),
            reason: "use lowercase letters, digits, `+`, `-` and `.`, starting with a letter or \
                     digit, at least two characters",
        })
    }
}

/// Suite, component and architecture names become directory names: a conservative set.
pub fn check_path_name(what: &'static str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"+-._".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(RepoError::InvalidName {
            what,
            value: name.to_string(),
            reason: "use letters, digits, `+`, `-`, `.` and `_`, starting with a letter or digit",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_continuations() {
        let p = Paragraph::parse(
            "Package: x\nVersion: 1.0\nDescription: short\n long line\n .\n more\n\n",
        )
        .unwrap();
        assert_eq!(p.get("package"), Some("x"));
        assert_eq!(p.get("Description"), Some("short\n long line\n .\n more"));
        assert_eq!(p.render(&["Version"]), "Package: x\nDescription: short\n long line\n .\n more");
    }

    #[test]
    fn rejects_broken_paragraphs() {
        assert!(Paragraph::parse("Package: a\n\nPackage: b\n").is_err());
        assert!(Paragraph::parse(" x\n").is_err());
        assert!(Paragraph::parse("Package a\n").is_err());
        assert!(Paragraph::parse("Package: a\npackage: b\n").is_err());
        assert!(Paragraph::parse("\n").is_err());
    }

    #[test]
    fn relation_fields() {
        let p = Paragraph::parse("Package: x\nDepends: a | b (>= 1.0), libc6:amd64\n").unwrap();
        assert_eq!(p.check_relations(), Ok(()));
        let p = Paragraph::parse("Package: x\nBreaks: memcached (>> 1\n").unwrap();
        assert!(p.check_relations().unwrap_err().starts_with("field `Breaks`: invalid relation"));
    }

    #[test]
    fn names() {
        assert!(check_package_name("cts-server").is_ok());
        assert!(check_package_name("libc6").is_ok());
        assert!(check_package_name("../x").is_err());
        assert!(check_package_name("X").is_err());
        assert!(check_path_name("suite", "prod").is_ok());
        assert!(check_path_name("suite", "../prod").is_err());
        assert!(check_path_name("suite", "").is_err());
    }
}
