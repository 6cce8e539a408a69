//! deb822 control paragraphs, as the planner (the rendered `control`), the .deb reader and the
//! publisher all read them: one parser with one set of rules, and the package-name syntax.

/// Fields in file order. A multi-line value keeps its continuation lines, newline-separated, each
/// still starting with its space or tab (trailing white space dropped).
pub type Fields = Vec<(String, String)>;

/// Parses one paragraph. Blank lines may only trail it; `#` lines are comments; field names are
/// unique (case-insensitively). The error says what is wrong and where; the caller adds the file.
pub fn parse_paragraph(text: &str) -> Result<Fields, String> {
    let mut fields: Fields = Vec::new();
    let mut blank_at = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            blank_at = blank_at.or(Some(n));
            continue;
        }
        if let Some(b) = blank_at {
            return Err(format!("line {b} is empty: a blank line would end the paragraph"));
        }
        if line.starts_with([' ', '\t']) {
            let (_, value) =
                fields.last_mut().ok_or(format!("line {n} continues no field: `{line}`"))?;
            value.push('\n');
            value.push_str(line.trim_end());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (name, value) =
            line.split_once(':').ok_or(format!("line {n}: expected `Field: value`"))?;
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!("line {n}: invalid field name `{name}`"));
        }
        if fields.iter().any(|(f, _)| f.eq_ignore_ascii_case(name)) {
            return Err(format!("line {n}: field `{name}` appears twice"));
        }
        fields.push((name.to_string(), value.trim().to_string()));
    }
    if fields.is_empty() {
        return Err("the paragraph has no fields".into());
    }
    Ok(fields)
}

/// A Debian package name (Policy 5.6.1): lowercase letters, digits, `+`, `-`, `.`; at least two
/// characters; starts with a letter or digit.
pub fn is_package_name(name: &str) -> bool {
    name.len() >= 2
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_continuations_and_trailing_blank_lines() {
        let f =
            parse_paragraph("Package: a\nDescription: x\n y \n .\n# c\nVersion: 1\n\n").unwrap();
        assert_eq!(f[0], ("Package".into(), "a".into()));
        assert_eq!(f[1], ("Description".into(), "x\n y\n .".into()));
        assert_eq!(f[2].0, "Version");
    }

    #[test]
    fn rejects_broken_paragraphs() {
        assert!(parse_paragraph("Package: a\n\nVersion: 1\n").unwrap_err().contains("empty"));
        assert!(parse_paragraph("Package: a\npackage: b\n").unwrap_err().contains("twice"));
        assert!(parse_paragraph(" x\n").unwrap_err().contains("continues no field"));
        assert!(parse_paragraph("Package a\n").is_err());
        assert!(parse_paragraph("\n").is_err());
    }

    #[test]
    fn package_names() {
        assert!(is_package_name("cts-server"));
        assert!(is_package_name("libc6"));
        assert!(!is_package_name("c"));
        assert!(!is_package_name("CTS"));
        assert!(!is_package_name("-cts"));
        assert!(!is_package_name("../x"));
    }
}
