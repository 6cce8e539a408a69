//! deb822 control paragraphs, as the planner (the rendered `control`), the .deb reader and the
//! publisher all read them: one parser with one set of rules, the package-name syntax, and the
//! relation fields (`Depends`, …) checked as dpkg and apt parse them.
//!
//! Why ours and not `deb822-lossless` / `debian-control` (0.5 / 0.3, jelmer/debian-parsers):
//! those are lossless syntax trees (rowan) for editing control files in place, keeping comments
//! and layout. We only read, and need the reverse emphasis: refuse, with the line, everything apt
//! or dpkg would refuse or read differently (a blank line inside the paragraph, a continuation
//! of no field, a field name twice in any case, a field name Policy 5.1 does not allow) and
//! check relations against what `dpkg-deb --build` accepts (no obsolete `<`/`>`, only `=` in
//! `Provides`, versions by [`Version::parse_strict`], no source-only `[arch]` or `<profile>`).
//! Using those crates would need that strict mode, with positions, verified case by case; the
//! paragraph parser here is about forty lines.

use crate::version::Version;

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
        let (name, value) = line.split_once(':').ok_or(format!(
            "line {n} is neither `Field: value` nor a continuation: `{}`",
            line.escape_debug()
        ))?;
        // Policy 5.1: printable ASCII but space and colon, not starting with `#` or `-`.
        if name.is_empty() || name.starts_with('-') || !name.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!("line {n}: invalid field name `{}`", name.escape_debug()));
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

/// The fields whose value is a list of relations (deb-control(5)), and whether an entry may
/// offer alternatives (`a | b`) and any operator (Provides allows only `=`).
const RELATION_FIELDS: &[(&str, bool, bool)] = &[
    ("Pre-Depends", true, true),
    ("Depends", true, true),
    ("Recommends", true, true),
    ("Suggests", true, true),
    ("Enhances", true, true),
    ("Breaks", false, true),
    ("Conflicts", false, true),
    ("Replaces", false, true),
    ("Provides", false, false),
];

/// The version operators of a relation. dpkg's obsolete `<` and `>` (meaning `<=` and `>=`)
/// are refused: dpkg warns about them and they read as the opposite of what they look like.
const OPERATORS: &[&str] = &["<<", "<=", ">=", ">>", "="];

/// Checks every relation field of a paragraph (`RELATION_FIELDS`): comma-separated entries,
/// each a [`relation`]; a folded value's line breaks are white space. The error names the
/// field and the entry.
pub fn check_relation_fields(fields: &Fields) -> Result<(), String> {
    for (name, value) in fields {
        let rules = RELATION_FIELDS.iter().find(|(f, _, _)| f.eq_ignore_ascii_case(name));
        let Some(&(_, alternatives, any_op)) = rules else { continue };
        for entry in value.split(',') {
            relation(entry, alternatives, any_op).map_err(|reason| {
                let shown = entry.split_ascii_whitespace().collect::<Vec<_>>().join(" ");
                format!("field `{name}`: invalid relation `{shown}`: {reason}")
            })?;
        }
    }
    Ok(())
}

/// One relation: `name[:arch] [(op version)]`, with op one of `<< <= = >= >>` and a version
/// dpkg-deb accepts, and, where `alternatives`, more of them separated by `|`. Only `=` unless
/// `any_op`. Architecture restrictions (`[amd64]`) and build profiles are for source packages.
pub fn relation(entry: &str, alternatives: bool, any_op: bool) -> Result<(), String> {
    let entry = entry.trim_ascii();
    if entry.is_empty() {
        return Err("empty relation (a stray or doubled `,`)".into());
    }
    if !alternatives && entry.contains('|') {
        return Err("alternatives (`|`) are not allowed in this field".into());
    }
    entry.split('|').try_for_each(|alt| alternative(alt.trim_ascii(), any_op))
}

/// `name[:arch] [(op version)]`.
fn alternative(s: &str, any_op: bool) -> Result<(), String> {
    if s.is_empty() {
        return Err("`|` needs a package on each side".into());
    }
    let end = s.find(|c: char| c.is_ascii_whitespace() || c == '(').unwrap_or(s.len());
    let (name_arch, rest) = s.split_at(end);
    let (name, arch) = name_arch.split_once(':').map_or((name_arch, None), |(n, a)| (n, Some(a)));
    if !is_relation_name(name) {
        return Err(format!("`{name}` is not a package name"));
    }
    if arch.is_some_and(|a| !is_arch_name(a)) {
        return Err(format!("`{name_arch}`: invalid architecture qualifier"));
    }
    let rest = rest.trim_ascii_start();
    if rest.is_empty() {
        return Ok(());
    }
    let Some(inner) = rest.strip_prefix('(') else {
        return Err(format!(
            "`{rest}` after `{name_arch}`: expected `(op version)`, `|` or the end"
        ));
    };
    let (inner, after) = inner.split_once(')').ok_or(format!("`({inner}` lacks its `)`"))?;
    if !after.trim_ascii().is_empty() {
        return Err(format!("`{}` after `({inner})`", after.trim_ascii()));
    }
    constraint(inner.trim_ascii(), any_op)
}

/// `op version` inside the parentheses.
fn constraint(s: &str, any_op: bool) -> Result<(), String> {
    let Some(op) = OPERATORS.iter().find(|op| s.starts_with(**op)) else {
        return Err(if s.starts_with(['<', '>']) {
            format!("`({s})`: `<` and `>` are obsolete, use `<<`, `<=`, `>=` or `>>`")
        } else {
            format!("`({s})`: expected an operator `<<`, `<=`, `=`, `>=` or `>>`")
        });
    };
    if !any_op && *op != "=" {
        return Err(format!("`({s})`: only `=` is allowed in this field"));
    }
    let version = s[op.len()..].trim_ascii();
    if version.is_empty() {
        return Err(format!("`({s})`: no version after `{op}`"));
    }
    Version::parse_strict(version).map(|_| ()).map_err(|e| e.to_string())
}

/// A Debian architecture name as a relation's qualifier (`amd64`, `any`, `native`).
fn is_arch_name(a: &str) -> bool {
    a.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && a.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A Debian package name (Policy 5.6.1): lowercase letters, digits, `+`, `-`, `.`; at least two
/// characters; starts with a letter or digit.
pub fn is_package_name(name: &str) -> bool {
    name.len() >= 2 && is_relation_name(name)
}

/// A name a relation refers to, by dpkg's rule: a package name without Policy's two-character
/// minimum (that is for a package's own name; `a | b` parses).
fn is_relation_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphanumeric())
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
        assert!(parse_paragraph("A: 1\n: x\n").unwrap_err().contains("invalid field name ``"));
        assert!(parse_paragraph("A: 1\n-B: x\n").unwrap_err().contains("field name `-B`"));
        let junk = parse_paragraph("A: 1\njunk line\n").unwrap_err();
        assert!(junk.contains("line 2 is neither `Field: value` nor a continuation"), "{junk}");
    }

    #[test]
    fn relations_as_dpkg_reads_them() {
        let ok = |s: &str| relation(s, true, true).map_err(|e| format!("{s}: {e}")).unwrap();
        ok("memcached");
        ok("memcached (>= 1.6)");
        ok("a | b (>= 1.0)");
        ok("libc6:amd64");
        ok("python3:any (>= 3.11~)");
        ok("foo(>=1.0)");
        ok(" foo ( >= 1:1.0-1+deb12u1 ) ");
        ok("foo (<< 2)|bar");
        let bad = |s: &str| relation(s, true, true).unwrap_err();
        assert!(bad("memcached junk").contains("`junk` after `memcached`"));
        assert!(bad("memcached (>> 1").contains("lacks its `)`"));
        assert!(bad("foo (> 1)").contains("obsolete"));
        assert!(bad("foo (< 1)").contains("obsolete"));
        assert!(bad("foo (=)").contains("no version after `=`"));
        assert!(bad("foo (>= abc)").contains("does not start with digit"));
        assert!(bad("foo (>= 1 2)").contains("embedded spaces"));
        assert!(bad("foo (~ 1)").contains("expected an operator"));
        assert!(bad("foo (>= 1) (<< 2)").contains("`(<< 2)` after `(>= 1)`"));
        assert!(bad("foo [amd64]").contains("`[amd64]` after `foo`"));
        assert!(bad("Foo").contains("`Foo` is not a package name"));
        assert!(bad("foo:").contains("architecture qualifier"));
        assert!(bad("foo:AMD64").contains("architecture qualifier"));
        assert!(bad("a |").contains("each side"));
        assert!(bad("").contains("empty relation"));
        assert!(relation("a | b", false, true).unwrap_err().contains("alternatives"));
        assert!(relation("foo (>= 1)", true, false).unwrap_err().contains("only `=`"));
        assert!(relation("foo (= 1)", false, false).is_ok());
    }

    #[test]
    fn relation_fields_of_a_paragraph() {
        let f = parse_paragraph("Package: a\nDepends: b,\n c (>= 1)\nX-Other: ! !\n").unwrap();
        assert!(check_relation_fields(&f).is_ok());
        let f = parse_paragraph("Package: a\ndepends: b, memcached junk\n").unwrap();
        let e = check_relation_fields(&f).unwrap_err();
        assert!(e.starts_with("field `depends`: invalid relation `memcached junk`:"), "{e}");
        let f = parse_paragraph("Package: a\nDepends: b,\n").unwrap();
        assert!(check_relation_fields(&f).unwrap_err().contains("empty relation"));
        let f = parse_paragraph("Package: a\nConflicts: b | c\n").unwrap();
        assert!(check_relation_fields(&f).unwrap_err().contains("alternatives"));
        let f = parse_paragraph("Package: a\nProvides: b (>= 1)\n").unwrap();
        assert!(check_relation_fields(&f).unwrap_err().contains("only `=`"));
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
