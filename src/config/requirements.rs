//! `python.requirements` (or `python.requirements_in_source`), checked before pip runs so that a
//! file pip would refuse under `--require-hashes` is invalid input (exit 3, naming the line) and
//! not a failed build: every requirement is pinned (`name[extras]==version [; marker]`) and
//! carries at least one `--hash=sha256:…` (on its line or its `\` continuation lines). Nested
//! files (`-r`), constraints (`-c`), editables (`-e`), URL and path requirements and every other
//! pip option are refused: the file must be the full, hashed closure (another index is pip's own
//! setting, `PIP_INDEX_URL`).

use super::check::shown;

/// Options that take another file or a source tree, and what they are.
const INCLUDES: &[(&str, &str, &str)] = &[
    ("-r", "--requirement", "another requirements file"),
    ("-c", "--constraint", "a constraints file"),
    ("-e", "--editable", "an editable source tree"),
];

/// A refused line: its number (of its first physical line), its text and why.
#[derive(Debug, PartialEq, Eq)]
pub struct BadLine {
    pub number: usize,
    pub text: String,
    pub reason: String,
}

/// Checks every requirement of the file's `text`.
pub fn check(text: &str) -> Result<(), BadLine> {
    for (number, line) in logical_lines(text) {
        let text = line.split_ascii_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            continue;
        }
        requirement_line(&text).map_err(|reason| BadLine { number, text: shown(&text), reason })?;
    }
    Ok(())
}

/// Lines with comments cut and `\` continuations joined, numbered by their first line.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut open = false;
    for (i, raw) in text.lines().enumerate() {
        let line = without_comment(raw);
        let (body, continues) = match line.trim_end().strip_suffix('\\') {
            Some(body) => (body, true),
            None => (line, false),
        };
        match out.last_mut() {
            Some((_, joined)) if open => {
                joined.push(' ');
                joined.push_str(body);
            }
            _ => out.push((i + 1, body.to_string())),
        }
        open = continues;
    }
    out
}

/// `line` without a `#` comment (pip: `#` at the start or after white space).
fn without_comment(line: &str) -> &str {
    let cut = line.char_indices().find(|&(i, c)| {
        c == '#' && line[..i].chars().next_back().is_none_or(|p| p.is_whitespace())
    });
    cut.map_or(line, |(i, _)| &line[..i])
}

/// One logical line, white space normalised: options only, or a requirement and its options.
fn requirement_line(line: &str) -> Result<(), String> {
    let tokens: Vec<&str> = line.split(' ').collect();
    let split = tokens.iter().position(|t| t.starts_with('-')).unwrap_or(tokens.len());
    let (requirement, options) = tokens.split_at(split);
    if requirement.is_empty() {
        return options_only(options);
    }
    pinned(&requirement.join(" "))?;
    hashes(options)
}

/// A line of options alone: only `--require-hashes` (which the build passes anyway).
fn options_only(options: &[&str]) -> Result<(), String> {
    let first = options[0];
    for (short, long, what) in INCLUDES {
        if (first.starts_with(short) && !first.starts_with("--")) || first.starts_with(long) {
            return Err(format!(
                "`{short}` ({what}) is not allowed: list the full closure in this one file, \
                 pinned and hashed"
            ));
        }
    }
    if options.iter().all(|o| *o == "--require-hashes") {
        return Ok(());
    }
    Err(format!(
        "pip option `{first}` is not allowed: only pinned, hashed requirements (set PIP_INDEX_URL \
         or PIP_FIND_LINKS for another index)"
    ))
}

/// `name[extras]==version [; marker]`.
fn pinned(requirement: &str) -> Result<(), String> {
    let spec = requirement.split(';').next().unwrap_or_default().replace(' ', "");
    if spec.contains("://") || spec.contains('@') || spec.starts_with(['.', '/']) {
        return Err("a URL or path requirement: pin `name==version` from the index".into());
    }
    let unpinned = || "not pinned: expected `name==version`".to_string();
    let (name, version) = spec.split_once("==").ok_or_else(unpinned)?;
    let name = match name.split_once('[') {
        Some((n, extras)) if extras.ends_with(']') => n,
        Some(_) => return Err(unpinned()),
        None => name,
    };
    let version = version.strip_prefix('=').unwrap_or(version);
    let name_ok = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    let version_ok = !version.is_empty()
        && version.chars().all(|c| c.is_ascii_alphanumeric() || ".+!_-".contains(c));
    if name_ok && version_ok {
        Ok(())
    } else {
        Err(unpinned())
    }
}

/// The options after a requirement: `--hash=ALG:HEX` only, at least one of them SHA-256.
fn hashes(options: &[&str]) -> Result<(), String> {
    for o in options {
        let hash = o.strip_prefix("--hash=").and_then(|h| h.split_once(':'));
        let ok = hash.is_some_and(|(alg, hex)| {
            let len = match alg {
                "sha256" => 64,
                "sha384" => 96,
                "sha512" => 128,
                _ => 0,
            };
            hex.len() == len && hex.bytes().all(|b| b.is_ascii_hexdigit())
        });
        if !ok {
            return Err(format!(
                "`{o}`: only `--hash=sha256:<64 hex digits>` (or sha384, sha512) may follow a \
                 requirement"
            ));
        }
    }
    if !options.iter().any(|o| o.starts_with("--hash=sha256:")) {
        return Err("no `--hash=sha256:…`: every requirement needs its hashes".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "9362660c4a31150cf18e78cae2ce8aa1e929fc6c6739e69f6dd5dbea9c3edc82";

    fn reason(text: &str) -> String {
        check(text).unwrap_err().reason
    }

    #[test]
    fn pinned_hashed_requirements_pass() {
        let text = format!(
            "# header\n--require-hashes\namqp==5.4.2 \\\n    --hash=sha256:{H} \\\n    \
             --hash=sha256:{H}\n    # via kombu\n\ncelery[redis]==5.5.3 ; python_version >= \
             \"3.11\" --hash=sha256:{H}\nfoo===1.0 --hash=sha256:{H} # trailing\n"
        );
        assert_eq!(check(&text), Ok(()));
    }

    #[test]
    fn everything_else_is_refused_naming_the_line() {
        let bad = check(&format!("# c\nok==1 --hash=sha256:{H}\ndjango>=5\n")).unwrap_err();
        assert_eq!((bad.number, bad.text.as_str()), (3, "django>=5"));
        assert!(bad.reason.contains("not pinned"));
        assert!(reason("django\n").contains("not pinned"));
        assert!(reason("django==5.*  --hash=sha256:x\n").contains("not pinned"));
        assert!(reason("django==5.2\n").contains("no `--hash=sha256:"));
        let continued = format!("django==5.2 \\\n  --hash=sha256:{H}\n");
        assert_eq!(check(&continued), Ok(()));
        assert!(reason("django==5.2 --hash=sha256:abc\n").contains("64 hex"));
        assert!(reason(&format!("django==5.2 --hash=md5:{H}\n")).contains("only `--hash"));
        assert!(reason("-r base.txt\n").contains("`-r` (another requirements file)"));
        assert!(reason("--requirement=base.txt\n").contains("`-r`"));
        assert!(reason("-c constraints.txt\n").contains("`-c`"));
        assert!(reason("-e ./src\n").contains("`-e`"));
        assert!(reason("--index-url https://x.invalid/simple\n").contains("PIP_INDEX_URL"));
        let url = format!("pkg @ https://x.invalid/pkg.whl --hash=sha256:{H}\n");
        assert!(reason(&url).contains("URL or path"));
        assert!(reason(&format!("./pkg.whl --hash=sha256:{H}\n")).contains("URL or path"));
        assert!(reason(&format!("git+https://x.invalid/r --hash=sha256:{H}\n")).contains("URL"));
    }
}
