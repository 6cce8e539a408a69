//! Small syntax checks for config values. Each returns `Err(reason)`; the caller adds file and key.

/// Debian package name: lowercase letters, digits, `+`, `-`, `.`; at least two characters;
/// starts alphanumeric (Policy 5.6.1).
pub fn package_name(s: &str) -> Result<(), String> {
    let ok = crate::deb822::is_package_name(s);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid package name `{}`: use at least two of a-z 0-9 + - . starting with a letter \
             or digit",
            shown(s)
        ))
    }
}

/// A name used in paths, database, user and supervisor program names: `[a-z][a-z0-9_]*`,
/// at most 32 characters (PostgreSQL and adduser limits stay far away).
pub fn ident(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 32
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid name `{}`: use a-z, 0-9 and _ (at most 32), starting with a letter",
            shown(s)
        ))
    }
}

/// A system user name (`adduser --system`): `[a-z_][a-z0-9_-]*`, at most 32.
pub fn user_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 32
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid user name `{}`: use a-z, 0-9, _ and - (at most 32), starting with a letter or _",
            shown(s)
        ))
    }
}

/// A URL prefix: `/` followed by letters, digits, `-` or `_` (one path segment).
pub fn url_prefix(s: &str) -> Result<(), String> {
    let rest = s.strip_prefix('/').unwrap_or("");
    if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)) {
        Ok(())
    } else {
        Err(format!("invalid URL prefix `{}`: expected one path segment such as `/TR`", shown(s)))
    }
}

/// A dotted Python module path.
pub fn python_module(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.split('.').all(|part| {
            part.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if ok {
        Ok(())
    } else {
        Err(format!("invalid Python module path `{}`", shown(s)))
    }
}

/// A DNS host name (RFC 1123 labels), as used in nginx `server_name` and service hosts.
pub fn host_name(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err(format!("invalid host name `{}`", shown(s)))
    }
}

/// An nginx `server_name`: a host name, or a wildcard for its subdomains, `*.example.org`
/// (subdomains only) or `.example.org` (the name and its subdomains). nginx's other forms
/// (`example.*`, `~regex`) are refused: nothing else (certificate, Django) reads them.
pub fn server_name(s: &str) -> Result<(), String> {
    let host = s.strip_prefix("*.").or_else(|| s.strip_prefix('.')).unwrap_or(s);
    host_name(host).map_err(|_| {
        format!(
            "invalid server name `{}`: a host name, `*.example.org` or `.example.org`",
            shown(s)
        )
    })
}

/// A PostgreSQL extension name as `CREATE EXTENSION "name"` takes it: `[a-z][a-z0-9_-]*`, at
/// most 63 (`uuid-ossp`, `pg_trgm`). Setup double-quotes it, so `-` is safe.
pub fn extension_name(s: &str) -> Result<(), String> {
    let ok = s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid extension name `{}`: use a-z, 0-9, _ and - (at most 63), starting with a \
             letter",
            shown(s)
        ))
    }
}

/// Characters that end or change a word in an nginx directive or a shell line, besides white
/// space and control characters.
const PATH_SPECIALS: &[char] = &['"', '\'', '`', ';', '$', '{', '}', '#', '\\'];

/// A path on the server that lands in the nginx site and in setup's shell: absolute, and no
/// white space, quote, `;`, `$`, `{`, `}`, `#` or control character (nginx would split or
/// misread it, and `nginx -t` fails).
pub fn server_path(s: &str) -> Result<(), String> {
    let bad =
        s.chars().find(|&c| c.is_whitespace() || c.is_control() || PATH_SPECIALS.contains(&c));
    match (s.starts_with('/'), bad) {
        (false, _) => Err(format!("`{}` is not an absolute path", shown(s))),
        (true, Some(c)) => Err(format!(
            "`{}` contains {c:?}: nginx and the setup script need a path without white space, \
             quotes or any of ; $ {{ }} # \\",
            shown(s)
        )),
        (true, None) => Ok(()),
    }
}

/// An environment variable name.
pub fn env_name(s: &str) -> Result<(), String> {
    let ok = s.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
        && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!("invalid environment variable name `{}`: use A-Z, 0-9 and _", shown(s)))
    }
}

/// An nginx size: digits with an optional k/m/g suffix.
pub fn nginx_size(s: &str) -> Result<(), String> {
    let digits = s.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G']);
    if !digits.is_empty()
        && digits.len() + 1 >= s.len()
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        Ok(())
    } else {
        Err(format!("invalid size `{}`: expected e.g. `25m`", shown(s)))
    }
}

/// One `package.depends` entry: a Debian relation (`pkg[:arch] [(op version)] [| alt …]`, see
/// [`crate::deb822::relation`]) on one line, without commas (one list entry per relation).
pub fn relation(s: &str) -> Result<(), String> {
    let invalid = |why: String| format!("invalid dependency `{}`: {why}", shown(s));
    one_line(s).map_err(invalid)?;
    if s.contains(',') {
        return Err(invalid("one relation per list entry (no `,`)".into()));
    }
    crate::deb822::relation(s, true, true).map_err(invalid)
}

/// No control character (newline, carriage return, NUL, …): the value goes into a one-line
/// field or setting.
pub fn one_line(s: &str) -> Result<(), String> {
    match s.chars().find(|c| c.is_control()) {
        Some(c) => Err(format!("must be one line without control characters (found {c:?})")),
        None => Ok(()),
    }
}

/// `s` for an error message: control characters escaped, so the message stays one line.
pub fn shown(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { c.escape_default().to_string() } else { c.into() })
        .collect()
}

/// A Debian version as dpkg-deb accepts it in a binary package (dpkg's parser, plus what dpkg
/// only warns about, since `dpkg-deb --build` refuses it).
pub fn version(s: &str) -> Result<(), String> {
    one_line(s).map_err(|why| format!("invalid version `{}`: {why}", shown(s)))?;
    crate::version::Version::parse_strict(s).map(|_| ()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(package_name("cts-server").is_ok());
        assert!(package_name("c").is_err());
        assert!(package_name("CTS").is_err());
        assert!(package_name("-cts").is_err());
        assert!(ident("turkey").is_ok());
        assert!(ident("Turkey").is_err());
        assert!(ident("tr-1").is_err());
        assert!(url_prefix("/TR").is_ok());
        assert!(url_prefix("TR").is_err());
        assert!(url_prefix("/").is_err());
        assert!(url_prefix("/a/b").is_err());
        assert!(host_name("cts.example.org").is_ok());
        assert!(host_name("-bad.org").is_err());
        assert!(nginx_size("25m").is_ok());
        assert!(nginx_size("25mb").is_err());
        assert!(nginx_size("m").is_err());
        assert!(relation("memcached (>= 1.6)").is_ok());
        assert!(relation("a | b (>= 1.0)").is_ok());
        assert!(relation("libc6:amd64").is_ok());
        assert!(relation("a, b").is_err());
        assert!(relation("memcached junk").unwrap_err().contains("`junk` after `memcached`"));
        assert!(relation("memcached (>> 1").unwrap_err().contains("lacks its `)`"));
        assert!(relation("foo (> 1)").unwrap_err().contains("obsolete"));
        assert!(relation("foo (=)").unwrap_err().contains("no version"));
        assert!(relation("foo\nEssential: yes").unwrap_err().contains("one line"));
        assert!(server_name("*.example.org").is_ok());
        assert!(server_name(".example.org").is_ok());
        assert!(server_name("cts.example.org").is_ok());
        for bad in ["*", "*.", ".", "example.*", "~^w+$", "*.*.example.org", "a b", "a;b"] {
            assert!(server_name(bad).is_err(), "{bad}");
        }
        assert!(extension_name("uuid-ossp").is_ok());
        assert!(extension_name("pg_trgm").is_ok());
        assert!(extension_name("a\"b").is_err());
        assert!(extension_name("-x").is_err());
        assert!(server_path("/etc/ssl/certs/cts.pem").is_ok());
        for bad in ["etc/x", "/etc/my cert.pem", "/a;b", "/a$b", "/a{b", "/a#b", "/a\"b", "/a'b"] {
            assert!(server_path(bad).is_err(), "{bad}");
        }
        assert!(server_path("/a\tb").is_err());
        assert!(version("1.0\n").unwrap_err().contains("one line"));
        assert_eq!(shown("a\nb"), "a\\nb");
        assert!(python_module("cts.settings").is_ok());
        assert!(python_module("cts..settings").is_err());
    }
}
