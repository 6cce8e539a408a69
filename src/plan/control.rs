//! The control file: the `package` fields the templates see (Description folded, Depends
//! worked out from the stack and the target), then `debian/control.tera` rendered, parsed and
//! checked, and the `.deb` file name.

use serde::Serialize;

use super::build::PlanError;
use crate::config::Config;
use crate::render::Engine;
use crate::target::Target;

#[derive(Serialize)]
pub(super) struct PackageCtx {
    name: String,
    version: String,
    arch: String,
    maintainer: String,
    section: String,
    priority: String,
    synopsis: String,
    /// The Description field value: synopsis, then folded extended lines.
    description: String,
}

impl PackageCtx {
    pub(super) fn new(cfg: &Config, version: &str, arch: &str) -> PackageCtx {
        PackageCtx {
            name: cfg.package.name.clone(),
            version: version.to_string(),
            arch: arch.to_string(),
            maintainer: cfg.package.maintainer.clone(),
            section: cfg.package.section.clone(),
            priority: cfg.package.priority.clone(),
            synopsis: cfg.package.synopsis.clone(),
            description: fold_description(&cfg.package.synopsis, &cfg.package.extended),
        }
    }
}

/// Renders `debian/control.tera` with `context` and parses it into ordered fields.
pub(super) fn render<C: Serialize>(
    engine: &Engine,
    context: &C,
    origin: &str,
) -> Result<Vec<(String, String)>, PlanError> {
    let control_template = "debian/control.tera";
    let control_text = engine.render_one(control_template, context)?;
    parse_control(&control_text).map_err(|message| PlanError::Control {
        template: format!("{origin}/{control_template}"),
        message,
    })
}

/// `<name>_<version>_<arch>.deb`, the version without its epoch.
pub(super) fn file_name(name: &str, version: &str, arch: &str) -> String {
    let upstream_and_rev = version.split_once(':').map_or(version, |(_, v)| v);
    format!("{name}_{upstream_and_rev}_{arch}.deb")
}

/// The package's Depends: what the stack and the maintainer scripts need, what the target's
/// templates need, the dependencies package `pydeps` (which pins the interpreter when its wheels
/// are impure), then the user's extras in the order given. A remote database or broker needs
/// only its client side.
pub(super) fn depends(cfg: &Config, target: &Target, pydeps: &str) -> Vec<String> {
    let mut d: Vec<String> = vec!["nginx".into()];
    d.push(if cfg.database.local { "postgresql" } else { "postgresql-client" }.into());
    if cfg.broker.local {
        d.push("rabbitmq-server".into());
    }
    for p in [
        "supervisor",
        "python3",
        "python3-venv",
        "adduser",
        "ssl-cert",
        "libpq5",
        "openssl",
        "logrotate",
    ] {
        d.push(p.into());
    }
    // A versioned relation takes the place of the plain one on the same package.
    for rel in target.depends {
        let name = rel.split_whitespace().next().unwrap_or_default().to_string();
        match d.iter().position(|x| *x == name) {
            Some(i) => d[i] = rel.to_string(),
            None => d.push(rel.to_string()),
        }
    }
    d.push(format!("{pydeps} (= {})", super::pydeps::VERSION));
    for extra in &cfg.package.depends {
        if !d.contains(extra) {
            d.push(extra.clone());
        }
    }
    d
}

/// `Description:` value: the synopsis, then each extended line with a leading space; an empty
/// line becomes ` .` (a truly blank line would end the stanza).
fn fold_description(synopsis: &str, extended: &[String]) -> String {
    let mut lines: Vec<&str> = extended.iter().map(String::as_str).collect();
    while lines.last() == Some(&"") {
        lines.pop();
    }
    let mut out = synopsis.to_string();
    let mut prev_empty = true;
    for l in lines {
        if l.is_empty() {
            if !prev_empty {
                out.push_str("\n .");
            }
            prev_empty = true;
        } else {
            out.push_str("\n ");
            out.push_str(l);
            prev_empty = false;
        }
    }
    out
}

/// Parses a rendered control file into ordered fields and checks that the required ones are set
/// and that every relation field parses (a template's Depends as much as the config's).
fn parse_control(text: &str) -> Result<Vec<(String, String)>, String> {
    let fields = crate::deb822::parse_paragraph(text)?;
    for required in ["Package", "Version", "Architecture", "Maintainer", "Description"] {
        match fields.iter().find(|(k, _)| k == required) {
            Some((_, v)) if !v.is_empty() => {}
            _ => return Err(format!("required field `{required}` is missing or empty")),
        }
    }
    crate::deb822::check_relation_fields(&fields)?;
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_folding() {
        let ext = vec!["one".to_string(), "".into(), "two".into(), "".into()];
        assert_eq!(fold_description("Syn", &ext), "Syn\n one\n .\n two");
    }

    #[test]
    fn control_parsing() {
        let ok = "Package: a\nVersion: 1\nArchitecture: all\nMaintainer: x <y@z>\n\
                  Description: s\n long\n";
        assert_eq!(parse_control(ok).unwrap().len(), 5);
        assert!(parse_control("Package: a\n\nVersion: 1\n").unwrap_err().contains("empty"));
        assert!(parse_control("Package: a\nPackage: b\n").unwrap_err().contains("twice"));
        let junk = format!("{ok}Depends: nginx, memcached junk\n");
        assert!(parse_control(&junk).unwrap_err().contains("field `Depends`"));
    }
}
