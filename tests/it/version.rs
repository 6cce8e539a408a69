//! `cts-deb version compare|check`, and the comparator property-tested against
//! `dpkg --compare-versions` (skipped when dpkg is not installed, except under CI).

use std::cmp::Ordering;
use std::process::Command;

use cts_deb::version::Version;
use proptest::prelude::*;

use crate::Test;

/// apt-repository.md §8 (dpkg's scripts/t/Dpkg_Version.t).
const VECTORS: &[(&str, &str, &str)] = &[
    ("1.0-1", "lt", "2.0-2"),
    ("2.2~rc-4", "lt", "2.2-1"),
    ("1.0000-1", "eq", "1.0-1"),
    ("1", "eq", "0:1"),
    ("0", "eq", "0:0-0"),
    ("2:2.5", "gt", "1:7.5"),
    ("1:0foo", "gt", "0foo"),
    ("0foo~1", "lt", "0foo"),
    ("0foo~foo+Bar", "lt", "0foo~foo+bar"),
    ("0foo~~", "lt", "0foo~"),
    ("1~", "lt", "1"),
    ("0foo-0", "lt", "0foo-01"),
    ("0foo.bar", "gt", "0foobar"),
    ("0foo.bar", "gt", "0foo1bar"),
    ("0foo2.0", "gt", "0foo2"),
    ("0foo2.0", "lt", "0foo2.0.0"),
    ("0foo2.1", "lt", "0foo2.10"),
    ("1.09", "eq", "1.9"),
    ("1.0.8+nmu1", "gt", "1.0.8"),
    ("3.11", "gt", "3.10+nmu1"),
    ("1.2.0~b7-1", "gt", "1.2.0~b6-1"),
    ("1:3.8.1-1", "gt", "3.8.GA-1"),
    ("1.0.1+gpl-1", "gt", "1.0.1-2"),
    ("1a", "lt", "1000a"),
    ("0.9j-20080306-4", "gt", "0.9i-20070324-2"),
    ("1.0.99999999999999999999999", "lt", "1.0.100000000000000000000000"),
];

fn compare(a: &str, op: &str, b: &str) -> crate::Run {
    Test::new().args(["version", "compare", a, op, b]).run()
}

#[test]
fn reference_vectors_through_the_cli() {
    for &(a, op, b) in VECTORS {
        assert_eq!(compare(a, op, b).code(), 0, "{a} {op} {b}");
        let negated = match op {
            "lt" => "ge",
            "gt" => "le",
            _ => "ne",
        };
        assert_eq!(compare(a, negated, b).code(), 1, "{a} {negated} {b}");
    }
}

#[test]
fn symbolic_operators() {
    for (op, want) in [("<<", 0), ("<=", 0), ("=", 1), (">=", 1), (">>", 1), ("ne", 0)] {
        assert_eq!(compare("1.0", op, "1.1").code(), want, "1.0 {op} 1.1");
    }
    compare("1.0", "<", "1.1").fails(2, &["unknown relation `<`"]);
}

#[test]
fn invalid_versions_exit_2_naming_the_version() {
    for (bad, reason) in [
        ("0:", "nothing after colon"),
        ("a:0-0", "epoch in version is empty"),
        ("1.0-1:1", "epoch in version is not number"),
        ("-1:0-1", "epoch in version is negative"),
        ("2147483648:1", "epoch in version is too big"),
        ("0:0 0-1", "embedded spaces"),
        ("0:-0", "version number is empty"),
        ("1.0-", "revision number is empty"),
    ] {
        compare(bad, "lt", "1").fails(2, &[&format!("`{bad}`"), reason]);
        compare("1", "lt", bad).fails(2, &[&format!("`{bad}`"), reason]);
    }
}

#[test]
fn empty_version_is_lowest_like_dpkg() {
    assert_eq!(compare("", "lt", "0").code(), 0);
    assert_eq!(compare("", "eq", "").code(), 0);
    assert_eq!(compare("0~", "gt", "").code(), 0);
}

#[test]
fn warnings_are_accepted_by_compare_but_refused_by_check() {
    let run = compare("0:abc3-0", "lt", "1");
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert!(run.stderr().contains("does not start with digit"), "{}", run.stderr());
    Test::new()
        .args(["version", "check", "0:abc3-0"])
        .run()
        .fails(3, &["`0:abc3-0`", "does not start with digit"]);
    Test::new()
        .args(["version", "check", "1.0_1-1"])
        .run()
        .fails(3, &["`1.0_1-1`", "invalid character '_'"]);
    assert_eq!(Test::new().args(["version", "check", "0:1.2.3-1"]).run().success(), "1.2.3-1\n");
}

fn dpkg_available() -> bool {
    Command::new("dpkg").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// dpkg's verdict: Some(ordering), or None when dpkg rejects either version (exit 2).
fn dpkg_compare(a: &str, b: &str) -> Option<Ordering> {
    let run = |op: &str| {
        let out = Command::new("dpkg")
            .args(["--compare-versions", "--", a, op, b])
            .output()
            .expect("dpkg runs");
        out.status.code()
    };
    match run("lt") {
        Some(0) => Some(Ordering::Less),
        Some(1) => match run("eq") {
            Some(0) => Some(Ordering::Equal),
            Some(1) => Some(Ordering::Greater),
            _ => None,
        },
        _ => None,
    }
}

/// Versions that are mostly well-formed, with every interesting character.
fn plausible() -> impl Strategy<Value = String> {
    (prop::option::of(0u32..3), "[0-9][0-9A-Za-z.+~]{0,6}", prop::option::of("[0-9A-Za-z.+~]{1,4}"))
        .prop_map(|(epoch, up, rev)| {
            let mut s = String::new();
            if let Some(e) = epoch {
                s.push_str(&format!("{e}:"));
            }
            s.push_str(&up);
            if let Some(r) = rev {
                s.push('-');
                s.push_str(&r);
            }
            s
        })
}

/// Anything from the character set, valid or not.
fn arbitrary() -> impl Strategy<Value = String> {
    "[0-9a-zA-Z~+.:-]{1,10}"
}

fn version_string() -> impl Strategy<Value = String> {
    prop_oneof![3 => plausible(), 1 => arbitrary()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn agrees_with_dpkg(a in version_string(), b in version_string()) {
        if !dpkg_available() && crate::skip_without("dpkg") {
            return Ok(());
        }
        let ours = match (Version::parse(&a), Version::parse(&b)) {
            (Ok(x), Ok(y)) => Some(x.cmp(&y)),
            _ => None,
        };
        prop_assert_eq!(ours, dpkg_compare(&a, &b), "{} vs {}", a, b);
    }

    #[test]
    fn ordering_is_consistent(a in plausible(), b in plausible(), c in plausible()) {
        let (x, y, z) = (Version::parse(&a).unwrap(), Version::parse(&b).unwrap(), Version::parse(&c).unwrap());
        prop_assert_eq!(x.cmp(&y), y.cmp(&x).reverse());
        if x <= y && y <= z {
            prop_assert!(x <= z);
        }
        // Display is a normal form that compares equal to the input.
        prop_assert_eq!(Version::parse(&x.to_string()).unwrap(), x);
    }
}
