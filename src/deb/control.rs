//! The text members of `control.tar`: rendering `control`, `md5sums` and `conffiles` from the plan
//! and the sums gathered while writing data.tar, and putting every member in dpkg-deb's order
//! (sorted by name).

use super::DebError;
use crate::plan::ControlMember;

/// Members the writer derives itself; the plan may not supply them.
pub const DERIVED: [&str; 3] = ["conffiles", "control", "md5sums"];
/// Maintainer scripts, whose modes dpkg-deb restricts to 0555–0775.
pub const SCRIPTS: [&str; 5] = ["config", "postinst", "postrm", "preinst", "prerm"];

/// One control.tar file ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub mode: u32,
    pub contents: Vec<u8>,
}

/// `Key: value` lines. Values are folded already; this checks that they stay one stanza.
pub fn render_control(fields: &[(String, String)]) -> Result<Vec<u8>, DebError> {
    let mut out = String::new();
    for (key, value) in fields {
        check_field(key, value)?;
        out.push_str(key);
        out.push_str(": ");
        out.push_str(value);
        out.push('\n');
    }
    Ok(out.into_bytes())
}

fn check_field(key: &str, value: &str) -> Result<(), DebError> {
    let bad = |reason: &'static str| DebError::BadControlField { field: key.to_string(), reason };
    let key_ok = !key.is_empty()
        && !key.starts_with(['#', '-'])
        && key.bytes().all(|b| b.is_ascii_graphic() && b != b':');
    if !key_ok {
        return Err(bad("not a valid field name"));
    }
    if value.trim().is_empty() {
        return Err(bad("empty value"));
    }
    if value.starts_with(char::is_whitespace) || value.ends_with('\n') {
        return Err(bad("value starts with white space or ends with a newline"));
    }
    for line in value.split('\n').skip(1) {
        if !line.starts_with([' ', '\t']) {
            return Err(bad("continuation line does not start with a space"));
        }
        if line.trim().is_empty() {
            return Err(bad("blank continuation line (write ` .` instead)"));
        }
    }
    Ok(())
}

/// `<md5>  <path>` lines, in archive order.
pub fn render_md5sums(sums: &[(String, [u8; 16])]) -> Vec<u8> {
    let mut out = String::with_capacity(sums.len() * 80);
    for (path, sum) in sums {
        out.push_str(&hex::encode(sum));
        out.push_str("  ");
        out.push_str(path);
        out.push('\n');
    }
    out.into_bytes()
}

/// One absolute path per line.
pub fn render_conffiles(conffiles: &[String]) -> Vec<u8> {
    conffiles.iter().flat_map(|c| c.bytes().chain([b'\n'])).collect()
}

/// All control.tar files in dpkg-deb's order (by name): derived ones plus the plan's extras.
pub fn members(
    control: Vec<u8>,
    md5sums: Vec<u8>,
    conffiles: &[String],
    extra: &[ControlMember],
) -> Result<Vec<Member>, DebError> {
    let mut all = vec![
        Member { name: "control".into(), mode: 0o644, contents: control },
        Member { name: "md5sums".into(), mode: 0o644, contents: md5sums },
    ];
    if !conffiles.is_empty() {
        all.push(Member {
            name: "conffiles".into(),
            mode: 0o644,
            contents: render_conffiles(conffiles),
        });
    }
    for m in extra {
        check_extra(m)?;
        all.push(Member { name: m.name.clone(), mode: m.mode, contents: m.contents.clone() });
    }
    all.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    if let Some(w) = all.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(DebError::BadControlMember {
            name: w[0].name.clone(),
            reason: "appears twice",
        });
    }
    Ok(all)
}

fn check_extra(m: &ControlMember) -> Result<(), DebError> {
    let bad = |reason| DebError::BadControlMember { name: m.name.clone(), reason };
    if DERIVED.contains(&m.name.as_str()) {
        return Err(bad("is derived from the plan by the writer"));
    }
    let name_ok = !m.name.is_empty()
        && m.name != "."
        && m.name != ".."
        && m.name.bytes().all(|b| b.is_ascii_graphic() && b != b'/');
    if !name_ok {
        return Err(bad("is not a plain file name"));
    }
    if m.mode & !0o777 != 0 {
        return Err(bad("mode has bits outside 0777"));
    }
    if SCRIPTS.contains(&m.name.as_str()) && (m.mode & 0o555 != 0o555 || m.mode & 0o002 != 0) {
        return Err(bad("maintainer script mode must be within 0555–0775"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn control_keeps_order_and_folding() {
        let text = render_control(&fields(&[
            ("Package", "cts-server"),
            ("Version", "1.0"),
            ("Description", "synopsis\n long text\n .\n more"),
        ]))
        .unwrap();
        assert_eq!(
            String::from_utf8(text).unwrap(),
            "Package: cts-server\nVersion: 1.0\nDescription: synopsis\n long text\n .\n more\n"
        );
    }

    #[test]
    fn blank_continuation_lines_are_refused() {
        let err = render_control(&fields(&[("Description", "a\n\n b")])).unwrap_err();
        assert!(err.to_string().contains("Description"), "{err}");
        assert!(render_control(&fields(&[("Bad Key", "x")])).is_err());
        assert!(render_control(&fields(&[("Depends", "")])).is_err());
    }

    #[test]
    fn members_are_sorted_like_dpkg_deb() {
        let extra = vec![
            ControlMember { name: "triggers".into(), mode: 0o644, contents: b"x\n".to_vec() },
            ControlMember {
                name: "postinst".into(),
                mode: 0o755,
                contents: b"#!/bin/sh\n".to_vec(),
            },
        ];
        let all = members(b"c".to_vec(), b"m".to_vec(), &["/etc/a".into()], &extra).unwrap();
        let names: Vec<_> = all.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["conffiles", "control", "md5sums", "postinst", "triggers"]);
        assert_eq!(all[0].contents, b"/etc/a\n");
    }

    #[test]
    fn bad_extra_members_are_refused() {
        let script = |name: &str, mode| ControlMember { name: name.into(), mode, contents: vec![] };
        assert!(members(vec![], vec![], &[], &[script("postinst", 0o644)]).is_err());
        assert!(members(vec![], vec![], &[], &[script("md5sums", 0o644)]).is_err());
        assert!(members(vec![], vec![], &[], &[script("a/b", 0o644)]).is_err());
        let twice = [script("triggers", 0o644), script("triggers", 0o644)];
        assert!(members(vec![], vec![], &[], &twice).is_err());
    }
}
