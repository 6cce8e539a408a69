//! Template rendering: the only module that knows tera.
//!
//! A [`TemplateSet`] is the tree of `conffiles/`, `files/`, `maintscripts/` and `debian/`
//! (embedded at compile time, or read from `--templates DIR`); [`Engine::render_all`] renders every
//! template against one context and says where each result lands. See docs/templates.md.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};
use serde::Serialize;

use crate::fsx;

static CONFFILES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/conffiles");
static FILES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/files");
static MAINTSCRIPTS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/maintscripts");
static DEBIAN: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/debian");

/// The top-level template directories, in the order they are rendered.
pub const ROOTS: [&str; 4] = ["conffiles", "files", "maintscripts", "debian"];

/// The control members `maintscripts/` may hold: the maintainer scripts and `triggers`;
/// anything else is an error.
const SCRIPTS: [&str; 5] = ["preinst", "postinst", "prerm", "postrm", "triggers"];

/// A template that could not be loaded or rendered.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template `{template}` failed to render: {message}")]
    Render { template: String, message: String },
    #[error("template `{template}`: {message}")]
    Layout { template: String, message: String },
    #[error(transparent)]
    Fs(#[from] fsx::FsError),
}

/// Where a rendered template lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A conffile under /etc (path relative to the root, `etc/…`).
    Conffile,
    /// Another shipped file (path relative to the root).
    File,
    /// A maintainer script in control.tar (path = script name).
    Script,
}

/// One rendered template.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The template it came from (`conffiles/etc/nginx/sites-available/@project@.conf.tera`).
    pub template: String,
    pub target: Target,
    /// Destination: relative to the package root, or the script name.
    pub path: String,
    pub contents: Vec<u8>,
}

/// The loaded templates: relative path (`conffiles/etc/…`) → text, sorted by path.
#[derive(Debug, Clone)]
pub struct TemplateSet {
    templates: Vec<(String, String)>,
    /// Where they came from, for messages (`embedded` or a directory).
    pub origin: String,
}

impl TemplateSet {
    /// The templates compiled into this binary.
    pub fn embedded() -> Self {
        let mut templates = Vec::new();
        for (root, dir) in [
            ("conffiles", &CONFFILES),
            ("files", &FILES),
            ("maintscripts", &MAINTSCRIPTS),
            ("debian", &DEBIAN),
        ] {
            collect_embedded(root, dir, &mut templates);
        }
        templates.sort();
        TemplateSet { templates, origin: "embedded".into() }
    }

    /// Reads a directory with the same layout (`--templates DIR`).
    pub fn from_dir(dir: &Path) -> Result<Self, TemplateError> {
        if !fsx::metadata(dir)?.is_dir() {
            return Err(TemplateError::Layout {
                template: dir.display().to_string(),
                message: "not a directory".into(),
            });
        }
        let mut templates = Vec::new();
        for root in ROOTS {
            let base = dir.join(root);
            if !base.is_dir() {
                continue;
            }
            for entry in walkdir::WalkDir::new(&base).sort_by_file_name() {
                let entry = entry.map_err(|e| {
                    let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| base.clone());
                    fsx::FsError::new("read", &path, e.into())
                })?;
                let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
                if entry.file_type().is_file() && !is_hidden(rel) {
                    let text = fsx::read_to_string(entry.path())?;
                    templates.push((rel.to_string_lossy().into_owned(), text));
                }
            }
        }
        if !templates.iter().any(|(p, _)| p.starts_with("debian/control")) {
            return Err(TemplateError::Layout {
                template: dir.join("debian/control.tera").display().to_string(),
                message: "missing: a template set needs debian/control.tera".into(),
            });
        }
        templates.sort();
        Ok(TemplateSet { templates, origin: dir.display().to_string() })
    }

    /// The raw text of one template (e.g. `debian/changelog`).
    pub fn get(&self, rel: &str) -> Option<&str> {
        self.templates.iter().find(|(p, _)| p == rel).map(|(_, t)| t.as_str())
    }

    fn engine(&self) -> Result<tera::Tera, TemplateError> {
        let mut tera = tera::Tera::default();
        tera.autoescape_on(vec![]);
        tera.register_filter("shell_quote", shell_quote_filter);
        for (name, text) in &self.templates {
            tera.add_raw_template(name, text).map_err(|e| TemplateError::Render {
                template: name.clone(),
                message: chain(&e),
            })?;
        }
        Ok(tera)
    }
}

fn collect_embedded(root: &str, dir: &Dir<'_>, out: &mut Vec<(String, String)>) {
    for file in dir.files() {
        if is_hidden(file.path()) {
            continue;
        }
        let text = String::from_utf8_lossy(file.contents()).into_owned();
        out.push((format!("{root}/{}", file.path().display()), text));
    }
    for sub in dir.dirs() {
        collect_embedded(root, sub, out);
    }
}

/// Whether a path below the template set's root is no template: any of its components is left
/// out of a package by the source's rule (dot files such as `.keep`, which hold directories in
/// git; `__pycache__/` and `*.pyc` that Python leaves beside a helper it once imported; editor
/// backups).
fn is_hidden(rel: &Path) -> bool {
    rel.components().any(|c| crate::source::excluded(&c.as_os_str().to_string_lossy()))
}

/// What a per-instance template is rendered for: `@instance@` in its path becomes `name`, and the
/// context gets `instance` set to `value`.
pub struct InstanceCtx<'a, T: Serialize> {
    pub name: &'a str,
    pub value: &'a T,
}

/// A template set compiled once, for every render of one build.
pub struct Engine<'a> {
    set: &'a TemplateSet,
    tera: tera::Tera,
}

impl<'a> Engine<'a> {
    /// Parses every template of `set`; a syntax error names its template.
    pub fn new(set: &'a TemplateSet) -> Result<Self, TemplateError> {
        Ok(Engine { set, tera: set.engine()? })
    }

    /// Renders every template except `debian/*` (those are read or rendered by the planner
    /// through [`Engine::render_one`]) and maps each to its target. `names` gives the
    /// `@package@`/`@project@` substitutions for paths.
    pub fn render_all<C: Serialize, I: Serialize>(
        &self,
        context: &C,
        names: &PathNames<'_>,
        instances: &[InstanceCtx<'_, I>],
    ) -> Result<Vec<Rendered>, TemplateError> {
        let (set, tera) = (self.set, &self.tera);
        let base = tera::Context::from_serialize(context).map_err(|e| TemplateError::Render {
            template: "(context)".into(),
            message: chain(&e),
        })?;
        let mut out = Vec::new();
        for (name, _) in &set.templates {
            let (root, rest) = name.split_once('/').unwrap_or((name, ""));
            let target = match root {
                "conffiles" => Target::Conffile,
                "files" => Target::File,
                "maintscripts" => Target::Script,
                _ => continue,
            };
            let rest = rest.strip_suffix(".tera").unwrap_or(rest);
            let dest = rest.replace("@package@", names.package).replace("@project@", names.project);
            let per_instance = dest.contains("@instance@");
            let runs: Vec<(String, tera::Context)> = if per_instance {
                instances
                    .iter()
                    .map(|i| {
                        let mut ctx = base.clone();
                        ctx.insert("instance", i.value);
                        (dest.replace("@instance@", i.name), ctx)
                    })
                    .collect()
            } else {
                vec![(dest.clone(), base.clone())]
            };
            for (dest, ctx) in runs {
                check_target(name, target, &dest)?;
                let text = tera.render(name, &ctx).map_err(|e| TemplateError::Render {
                    template: name.clone(),
                    message: chain(&e),
                })?;
                out.push(Rendered {
                    template: name.clone(),
                    target,
                    path: dest,
                    contents: text.into_bytes(),
                });
            }
        }
        Ok(out)
    }

    /// Renders one template (e.g. `debian/control.tera`) with `context`.
    pub fn render_one<C: Serialize>(
        &self,
        name: &str,
        context: &C,
    ) -> Result<String, TemplateError> {
        let ctx = tera::Context::from_serialize(context)
            .map_err(|e| TemplateError::Render { template: name.into(), message: chain(&e) })?;
        self.tera
            .render(name, &ctx)
            .map_err(|e| TemplateError::Render { template: name.into(), message: chain(&e) })
    }
}

/// Substitutions for path segments.
pub struct PathNames<'a> {
    pub package: &'a str,
    pub project: &'a str,
}

fn check_target(template: &str, target: Target, dest: &str) -> Result<(), TemplateError> {
    let bad = |message: String| Err(TemplateError::Layout { template: template.into(), message });
    if dest.split('/').any(|seg| seg.is_empty() || seg == "." || seg == "..") {
        return bad(format!("target path `{dest}` is not a clean relative path"));
    }
    match target {
        Target::Conffile if !dest.starts_with("etc/") => bad(format!(
            "conffile target `/{dest}` is outside /etc: conffiles must live under /etc \
             (Policy 10.7.2); put other files under files/"
        )),
        Target::File if dest.starts_with("etc/") => bad(format!(
            "`/{dest}` is under /etc: every /etc file must be a conffile, put it under conffiles/"
        )),
        Target::File if dest.starts_with("var/www/") => {
            bad(format!("`/{dest}` is under /var/www: the layout there is made at install time"))
        }
        Target::Script if !SCRIPTS.contains(&dest) => bad(format!(
            "`{dest}` is not a maintainer script (expected one of {})",
            SCRIPTS.join(", ")
        )),
        _ => Ok(()),
    }
}

/// Quotes a value for POSIX sh: `'…'`, with each `'` written as `'\''`.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn shell_quote_filter(
    value: &tera::Value,
    _args: &HashMap<String, tera::Value>,
) -> tera::Result<tera::Value> {
    let s = match value {
        tera::Value::String(s) => s.clone(),
        tera::Value::Number(n) => n.to_string(),
        tera::Value::Bool(b) => b.to_string(),
        tera::Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|v| match v {
                    tera::Value::String(s) => shell_quote(s),
                    other => shell_quote(&other.to_string()),
                })
                .collect();
            return Ok(tera::Value::String(parts.join(" ")));
        }
        other => return Err(tera::Error::msg(format!("shell_quote: cannot quote {other}"))),
    };
    Ok(tera::Value::String(shell_quote(&s)))
}

/// Tera puts the useful part of a message in the source chain.
fn chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        cur = s.source();
    }
    msg.replace('\n', " ")
}

/// Writes a rendered tree for review (`cts-deb render`): conffiles and files at their target
/// paths below `out`, scripts and control under `out/DEBIAN/`.
pub fn write_tree(out: &Path, files: &[(PathBuf, Vec<u8>)]) -> Result<(), fsx::FsError> {
    for (rel, contents) in files {
        let path = out.join(rel);
        if let Some(parent) = path.parent() {
            fsx::create_dir_all(parent)?;
        }
        fsx::write(&path, contents)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytecode_and_dot_files_are_not_templates() {
        for p in ["files/.keep", "files/usr/bin/__pycache__/x.cpython-311.pyc", "files/a/b.pyc"] {
            assert!(is_hidden(Path::new(p)), "{p}");
        }
        assert!(!is_hidden(Path::new("files/usr/share/@package@/bin/share-tree")));
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
    }

    #[test]
    fn conffile_outside_etc_is_refused() {
        let e = check_target("conffiles/usr/x", Target::Conffile, "usr/x").unwrap_err();
        assert!(e.to_string().contains("outside /etc"), "{e}");
        assert!(check_target("conffiles/etc/x", Target::Conffile, "etc/x").is_ok());
        assert!(check_target("maintscripts/foo", Target::Script, "foo").is_err());
    }
}
