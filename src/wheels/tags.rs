//! Wheel file names (PEP 427) and the tags a target interpreter installs.
//!
//! [`platform_tags`] lists the manylinux platforms given to `pip download --platform`, and
//! [`accepts`] checks every wheel of a house against the target. Both follow `packaging.tags`
//! (what pip itself uses to decide whether a wheel installs), narrowed to CPython on glibc Linux:
//!
//! - platform `any`, or `manylinux_2_N_<machine>` with `2.N` no newer than the target's glibc, or
//!   a legacy alias (`manylinux1` = 2.5, `manylinux2010` = 2.12, `manylinux2014` = 2.17);
//!   `linux_<machine>` only for wheels built on a host of the target's version (see
//!   [`Mode::Build`](super::Mode::Build));
//! - with such a platform: `cp3N-cp3N` (the target's own ABI), `cp3K-abi3` for `2 <= K <= N`
//!   (the stable ABI is forward compatible), or ABI `none` with `cp3N`, `py3` or `py3K`
//!   (`K <= N`);
//! - with platform `any`, only ABI `none` (`py3-none-any`, `py2.py3-none-any`, `cp3N-none-any`).
//!
//! Anything else (another CPython's ABI, free-threaded `cp313t`, musllinux, another machine,
//! a newer glibc) is refused. pip has no `cp3` tag (a CPython-only pure wheel is `cp3N`).

use super::PyTarget;

/// A wheel file name split per PEP 427:
/// `{distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl`, where each of the last
/// three may be a compressed tag set (`py2.py3`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelName {
    pub distribution: String,
    pub version: String,
    pub build: Option<String>,
    pub python: Vec<String>,
    pub abi: Vec<String>,
    pub platform: Vec<String>,
}

impl WheelName {
    /// Parses a file name (not a path); `None` when it is not a wheel name.
    pub fn parse(file_name: &str) -> Option<WheelName> {
        let stem = file_name.strip_suffix(".whl")?;
        let parts: Vec<&str> = stem.split('-').collect();
        if parts.iter().any(|p| p.is_empty()) {
            return None;
        }
        let (build, tags) = match parts.len() {
            5 => (None, &parts[2..]),
            // The build tag must start with a digit.
            6 if parts[2].starts_with(|c: char| c.is_ascii_digit()) => {
                (Some(parts[2].to_string()), &parts[3..])
            }
            _ => return None,
        };
        let set = |tag: &str| -> Option<Vec<String>> {
            let tags: Vec<String> = tag.split('.').map(str::to_string).collect();
            (!tags.iter().any(String::is_empty)).then_some(tags)
        };
        Some(WheelName {
            distribution: parts[0].to_string(),
            version: parts[1].to_string(),
            build,
            python: set(tags[0])?,
            abi: set(tags[1])?,
            platform: set(tags[2])?,
        })
    }

    /// ABI `none` and platform `any`: runs on every architecture.
    pub fn is_pure(&self) -> bool {
        self.abi.iter().all(|t| t == "none") && self.platform.iter().all(|t| t == "any")
    }
}

/// The manylinux aliases older than PEP 600 and the glibc each stands for.
const LEGACY_MANYLINUX: [(&str, u32); 3] =
    [("manylinux1", 5), ("manylinux2010", 12), ("manylinux2014", 17)];

/// The oldest glibc minor a manylinux tag exists for on `machine`: 2.5 (`manylinux1`) on the
/// PC architectures, 2.17 (`manylinux2014`, the first to cover them) on the others.
fn oldest_glibc_minor(machine: &str) -> u32 {
    if matches!(machine, "x86_64" | "i686") {
        5
    } else {
        17
    }
}

/// Every manylinux platform tag `target` installs, most preferred (newest glibc) first, each
/// legacy alias right after its PEP 600 spelling, as `packaging.tags` orders them:
/// `manylinux_2_41_x86_64`, …, `manylinux_2_17_x86_64`, `manylinux2014_x86_64`, …,
/// `manylinux_2_5_x86_64`, `manylinux1_x86_64`. pip does not expand PEP 600 tags to older ones
/// by itself, so `pip download` needs them all.
pub fn platform_tags(target: &PyTarget) -> Vec<String> {
    let (major, newest) = target.glibc;
    let machine = &target.machine;
    let mut tags = Vec::new();
    for minor in (oldest_glibc_minor(machine)..=newest).rev() {
        tags.push(format!("manylinux_{major}_{minor}_{machine}"));
        if major == 2 {
            if let Some((alias, _)) = LEGACY_MANYLINUX.iter().find(|(_, m)| *m == minor) {
                tags.push(format!("{alias}_{machine}"));
            }
        }
    }
    tags
}

/// Whether a wheel with this name installs on `target`: some (python, abi, platform) triple of
/// its tag sets is one the target supports. `built_on_host` also allows `linux_<machine>`, the
/// tag of a wheel pip built from an sdist.
pub fn accepts(target: &PyTarget, wheel: &WheelName, built_on_host: bool) -> bool {
    let Some(minor) = target.minor() else { return false };
    wheel.platform.iter().any(|platform| {
        let any = platform == "any";
        if !any && !platform_ok(target, platform, built_on_host) {
            return false;
        }
        wheel.abi.iter().any(|abi| {
            wheel.python.iter().any(|python| match abi.as_str() {
                "none" => {
                    cpython_minor(python) == Some(minor)
                        || python == "py3"
                        || python.strip_prefix("py3").and_then(number).is_some_and(|k| k <= minor)
                }
                "abi3" => !any && cpython_minor(python).is_some_and(|k| (2..=minor).contains(&k)),
                abi => {
                    !any && cpython_minor(abi) == Some(minor)
                        && cpython_minor(python) == Some(minor)
                }
            })
        })
    })
}

/// `cp3N` → N.
fn cpython_minor(tag: &str) -> Option<u32> {
    tag.strip_prefix("cp3").and_then(number)
}

/// A plain decimal number: digits only (no sign, no `t` of a free-threaded ABI).
fn number(s: &str) -> Option<u32> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

fn platform_ok(target: &PyTarget, platform: &str, built_on_host: bool) -> bool {
    let machine = target.machine.as_str();
    if built_on_host && platform.strip_prefix("linux_") == Some(machine) {
        return true;
    }
    if let Some(rest) = platform.strip_prefix("manylinux_") {
        let mut parts = rest.splitn(3, '_');
        let (Some(major), Some(minor), Some(arch)) = (parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        return match (number(major), number(minor)) {
            (Some(major), Some(minor)) => arch == machine && (major, minor) <= target.glibc,
            _ => false,
        };
    }
    LEGACY_MANYLINUX.iter().any(|(alias, minor)| {
        platform.strip_prefix(alias).and_then(|p| p.strip_prefix('_')) == Some(machine)
            && (2, *minor) <= target.glibc
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(version: &str, glibc: (u32, u32), machine: &str) -> PyTarget {
        PyTarget { version: version.into(), glibc, machine: machine.into() }
    }

    fn trixie() -> PyTarget {
        target("3.13", (2, 41), "x86_64")
    }

    fn ok(t: &PyTarget, name: &str, built: bool) -> bool {
        accepts(t, &WheelName::parse(name).unwrap_or_else(|| panic!("{name}")), built)
    }

    #[test]
    fn parses_pure_and_platform_wheels() {
        let w = WheelName::parse("django-5.2.19-py3-none-any.whl").unwrap();
        assert_eq!((w.distribution.as_str(), w.version.as_str()), ("django", "5.2.19"));
        assert_eq!(w.build, None);
        assert!(w.is_pure());

        let w = WheelName::parse("tzdata-2026.6-py2.py3-none-any.whl").unwrap();
        assert_eq!(w.python, ["py2", "py3"]);
        assert!(w.is_pure());

        let w = WheelName::parse(
            "wcwidth-0.9.4-cp310-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        )
        .unwrap();
        assert_eq!(w.abi, ["abi3"]);
        assert_eq!(w.platform, ["manylinux2014_x86_64", "manylinux_2_17_x86_64"]);
        assert!(!w.is_pure());

        // abi none but a platform: still arch-specific.
        assert!(!WheelName::parse("x-1-py3-none-linux_x86_64.whl").unwrap().is_pure());
        // abi3 on any platform is not none-any either.
        assert!(!WheelName::parse("x-1-cp311-cp311-any.whl").unwrap().is_pure());
    }

    #[test]
    fn parses_build_tags() {
        let w = WheelName::parse("pkg-1.0-1local-py3-none-any.whl").unwrap();
        assert_eq!(w.build.as_deref(), Some("1local"));
        assert_eq!(w.python, ["py3"]);
        // A sixth part that does not start with a digit is not a build tag.
        assert_eq!(WheelName::parse("pkg-1.0-local-py3-none-any.whl"), None);
    }

    #[test]
    fn rejects_non_wheel_names() {
        for name in [
            "django-5.2.19.tar.gz",
            "django-5.2.19-py3-none-any.zip",
            "django-5.2.19-py3-none.whl",
            "django--py3-none-any.whl",
            "django-5.2.19-py3..py2-none-any.whl",
            "a-b-1-c-d-e-f.whl",
            ".whl",
        ] {
            assert_eq!(WheelName::parse(name), None, "{name}");
        }
    }

    #[test]
    fn platform_tags_run_from_the_target_glibc_down_with_legacy_aliases() {
        let tags = platform_tags(&trixie());
        assert_eq!(tags.len(), (5..=41).count() + 3);
        assert_eq!(tags[..2], ["manylinux_2_41_x86_64", "manylinux_2_40_x86_64"]);
        let at = |t: &str| tags.iter().position(|x| x == t).unwrap_or_else(|| panic!("{t}"));
        assert_eq!(at("manylinux2014_x86_64"), at("manylinux_2_17_x86_64") + 1);
        assert_eq!(at("manylinux2010_x86_64"), at("manylinux_2_12_x86_64") + 1);
        assert_eq!(tags[tags.len() - 2..], ["manylinux_2_5_x86_64", "manylinux1_x86_64"]);

        let bookworm_arm = platform_tags(&target("3.11", (2, 36), "aarch64"));
        assert_eq!(bookworm_arm.first().unwrap(), "manylinux_2_36_aarch64");
        assert_eq!(
            bookworm_arm[bookworm_arm.len() - 2..],
            ["manylinux_2_17_aarch64", "manylinux2014_aarch64"]
        );
        assert_eq!(bookworm_arm.len(), (17..=36).count() + 1);
    }

    #[test]
    fn accepts_what_the_target_installs() {
        let t = trixie();
        for name in [
            "markupsafe-3.0.2-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "psycopg_binary-3.2.13-cp313-cp313-manylinux_2_28_x86_64.whl",
            "x-1-cp313-cp313-manylinux_2_41_x86_64.whl",
            "x-1-cp313-cp313-manylinux1_x86_64.whl",
            "wcwidth-0.9.4-cp310-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
            "x-1-cp32-abi3-manylinux_2_5_x86_64.whl",
            "x-1-cp313-abi3-manylinux_2_17_x86_64.whl",
            "x-1-py3-none-manylinux_2_17_x86_64.whl",
            "django-5.2.19-py3-none-any.whl",
            "tzdata-2026.6-py2.py3-none-any.whl",
            "x-1-py311-none-any.whl",
            "x-1-py313-none-any.whl",
            "x-1-cp313-none-any.whl",
            // One acceptable triple is enough.
            "x-1-cp311.cp313-cp311.cp313-manylinux_2_17_x86_64.whl",
        ] {
            assert!(ok(&t, name, false), "{name}");
        }
        // A wheel pip built from an sdist on a host of the target's version.
        assert!(ok(&t, "docopt-0.6.2-cp313-cp313-linux_x86_64.whl", true));
        assert!(ok(&t, "docopt-0.6.2-py3-none-linux_x86_64.whl", true));
    }

    #[test]
    fn refuses_what_the_target_does_not_install() {
        let t = trixie();
        for name in [
            // Another CPython's ABI, or the free-threaded one.
            "markupsafe-3.0.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "x-1-cp313-cp313t-manylinux_2_17_x86_64.whl",
            "x-1-cp314-abi3-manylinux_2_17_x86_64.whl",
            "x-1-py314-none-any.whl",
            "x-1-cp311-none-any.whl",
            "x-1-cp3-none-any.whl",
            "x-1-py2-none-any.whl",
            "x-1-pp310-pypy310_pp73-manylinux_2_17_x86_64.whl",
            // A newer glibc, another libc, machine or system.
            "x-1-cp313-cp313-manylinux_2_42_x86_64.whl",
            "x-1-cp313-cp313-manylinux_3_0_x86_64.whl",
            "x-1-cp313-cp313-musllinux_1_2_x86_64.whl",
            "x-1-cp313-cp313-manylinux_2_17_aarch64.whl",
            "x-1-cp313-cp313-manylinux2014_aarch64.whl",
            "x-1-cp313-cp313-macosx_11_0_arm64.whl",
            "x-1-cp313-cp313-win_amd64.whl",
            "x-1-cp313-cp313-manylinux_2_x_x86_64.whl",
            // An ABI needs a platform.
            "x-1-cp313-cp313-any.whl",
            "x-1-cp313-abi3-any.whl",
            // Built on some host, but the published-wheel mode never builds.
            "x-1-cp313-cp313-linux_x86_64.whl",
        ] {
            assert!(!ok(&t, name, false), "{name}");
        }
        assert!(!ok(&t, "x-1-cp313-cp313-linux_aarch64.whl", true));

        let bookworm = target("3.11", (2, 36), "x86_64");
        assert!(!ok(&bookworm, "x-1-cp311-cp311-manylinux_2_39_x86_64.whl", false));
        assert!(ok(&bookworm, "x-1-cp311-cp311-manylinux_2_34_x86_64.whl", false));
        assert!(!ok(&bookworm, "x-1-py313-none-any.whl", false));
    }
}
