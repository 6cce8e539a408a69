//! Small syntax checks for config values. Each returns `Err(reason)`; the caller adds file and key.

/// Debian package name: lowercase letters, digits, `+`, `-`, `.`; at least two characters;
/// starts alphanumeric (Policy 5.6.1).
pub fn package_name(s: &str) -> Result<(), String> {
    let ok = crate::deb822::is_package_name(s);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid package name `{s}`: use at least two of a-z 0-9 + - . starting with a letter \
             or digit"
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
        Err(format!("invalid name `{s}`: use a-z, 0-9 and _ (at most 32), starting with a letter"))
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
        Err(format!("invalid user name `{s}`"))
    }
}

/// A URL prefix: `/` followed by letters, digits, `-` or `_` (one path segment).
pub fn url_prefix(s: &str) -> Result<(), String> {
    let rest = s.strip_prefix('/').unwrap_or("");
    if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)) {
        Ok(())
    } else {
        Err(format!("invalid URL prefix `{s}`: expected one path segment such as `/TR`"))
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
        Err(format!("invalid Python module path `{s}`"))
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
        Err(format!("invalid host name `{s}`"))
    }
}

/// An environment variable name.
pub fn env_name(s: &str) -> Result<(), String> {
    let ok = s.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
        && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!("invalid environment variable name `{s}`: use A-Z, 0-9 and _"))
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
        Err(format!("invalid size `{s}`: expected e.g. `25m`"))
    }
}

/// A single Depends relation: no commas (use one list entry per relation), no newlines.
pub fn relation(s: &str) -> Result<(), String> {
    let name_end = s.find([' ', '(', ':', '|']).unwrap_or(s.len());
    let first = s[..name_end].trim();
    if s.contains([',', '\n']) || s.trim().is_empty() || package_name(first).is_err() {
        Err(format!("invalid dependency `{s}`: expected one relation such as `memcached (>= 1.6)`"))
    } else {
        Ok(())
    }
}

/// A Debian version as dpkg-deb accepts it in a binary package (dpkg's parser, plus what dpkg
/// only warns about, since `dpkg-deb --build` refuses it).
pub fn version(s: &str) -> Result<(), String> {
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
        assert!(relation("a, b").is_err());
        assert!(python_module("cts.settings").is_ok());
        assert!(python_module("cts..settings").is_err());
    }
}
