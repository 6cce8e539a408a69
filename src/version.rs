//! Debian version strings, parsed, validated and compared exactly as dpkg does.
//!
//! This module owns the one dpkg-exact comparator of the crate (publish ordering, `--keep-last`,
//! the "not newer" refusal and `cts-deb version compare` all go through [`Version`]'s `Ord`).
//! The rules follow dpkg's `lib/dpkg/parsehelp.c` (`parseversion`) and `lib/dpkg/version.c`
//! (`verrevcmp`):
//!
//! * blanks around the string are stripped; a blank inside it is an error;
//! * the epoch is the text before the **first** `:` and must fit a signed 32-bit int;
//! * the revision is the text after the **last** `-`;
//! * digit runs compare as unbounded numbers, never through a fixed-width integer.
//!
//! [`Version::parse`] accepts what dpkg accepts (dpkg only *warns* about an upstream that does not
//! start with a digit and about unusual characters); [`Version::parse_strict`] also refuses those,
//! as `dpkg-deb --build` does, and is what the builder and the publisher use.
//!
//! Why ours and not the `debversion` crate (0.5.5, checked on crates.io): its comparison matches
//! dpkg's (`~` first, unbounded digit runs), but it parses with one regular expression, so it
//! has no such strict/lenient split; it reads the epoch as a `u32` (dpkg refuses anything above
//! `i32::MAX`), takes `a:1` as an upstream version containing `:` where dpkg says the epoch is
//! not a number, refuses surrounding blanks that dpkg strips, and its error is a bare string
//! where [`VersionErrorKind`] carries dpkg's own messages (which `cts-deb version` prints). It
//! also brings `lazy-regex` and `num-bigint`. Using it would take dpkg's parse rules, a strict
//! mode and typed error kinds on its side, or a wrapper that re-implements the parsing anyway.

use std::cmp::Ordering;
use std::fmt;

/// Why a version string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionErrorKind {
    /// Nothing but blanks.
    Empty,
    /// A blank inside the string.
    EmbeddedSpace,
    /// Nothing before the first colon.
    EpochEmpty,
    /// The text before the first colon is not a decimal number.
    EpochNotNumber,
    /// The epoch is below zero.
    EpochNegative,
    /// The epoch does not fit a signed 32-bit integer.
    EpochTooBig,
    /// The string ends with the epoch colon.
    NothingAfterColon,
    /// The string ends with the revision hyphen.
    RevisionEmpty,
    /// Nothing between the epoch and the revision.
    UpstreamEmpty,
    /// The upstream version does not start with a digit (dpkg warns, we refuse when strict).
    UpstreamNotDigit,
    /// A character outside `[A-Za-z0-9.+~-:]` in the upstream version (dpkg warns).
    UpstreamBadChar(char),
    /// A character outside `[A-Za-z0-9.+~]` in the revision (dpkg warns).
    RevisionBadChar(char),
}

impl VersionErrorKind {
    /// True for the problems dpkg only warns about; [`Version::parse`] accepts them,
    /// [`Version::parse_strict`] does not.
    pub fn is_warning(&self) -> bool {
        matches!(
            self,
            VersionErrorKind::UpstreamNotDigit
                | VersionErrorKind::UpstreamBadChar(_)
                | VersionErrorKind::RevisionBadChar(_)
        )
    }
}

impl fmt::Display for VersionErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionErrorKind::Empty => f.write_str("version string is empty"),
            VersionErrorKind::EmbeddedSpace => f.write_str("version string has embedded spaces"),
            VersionErrorKind::EpochEmpty => f.write_str("epoch in version is empty"),
            VersionErrorKind::EpochNotNumber => f.write_str("epoch in version is not number"),
            VersionErrorKind::EpochNegative => f.write_str("epoch in version is negative"),
            VersionErrorKind::EpochTooBig => f.write_str("epoch in version is too big"),
            VersionErrorKind::NothingAfterColon => {
                f.write_str("nothing after colon in version number")
            }
            VersionErrorKind::RevisionEmpty => f.write_str("revision number is empty"),
            VersionErrorKind::UpstreamEmpty => f.write_str("version number is empty"),
            VersionErrorKind::UpstreamNotDigit => {
                f.write_str("version number does not start with digit")
            }
            VersionErrorKind::UpstreamBadChar(c) => {
                write!(f, "invalid character {c:?} in version number")
            }
            VersionErrorKind::RevisionBadChar(c) => {
                write!(f, "invalid character {c:?} in revision number")
            }
        }
    }
}

/// A rejected version string, carrying the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid version `{input}`: {kind}")]
pub struct VersionError {
    pub input: String,
    pub kind: VersionErrorKind,
}

/// A parsed Debian version: `[epoch:]upstream[-revision]`.
///
/// Equality and ordering are dpkg's: `1.0000-1 == 1.0-1` and `1 == 0:1`. `Display` prints the
/// normalised form (no `0:` epoch, no empty revision), which may differ from the input text.
#[derive(Debug, Clone)]
pub struct Version {
    epoch: u32,
    upstream: String,
    revision: String,
}

/// dpkg's `c_isblank`: what is stripped in front of the version.
fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// dpkg's `c_isspace`: what ends the version and is stripped after it.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

impl Version {
    /// Parses with dpkg's rules: everything dpkg rejects is an error, what it only warns about
    /// is accepted (use [`Version::warning`] to see it).
    pub fn parse(input: &str) -> Result<Version, VersionError> {
        let err = |kind| VersionError { input: input.to_string(), kind };
        let bytes = input.as_bytes();
        let start = bytes.iter().position(|&b| !is_blank(b)).unwrap_or(bytes.len());
        let rest = &bytes[start..];
        if rest.is_empty() {
            return Err(err(VersionErrorKind::Empty));
        }
        let end = rest.iter().position(|&b| is_space(b)).unwrap_or(rest.len());
        if rest[end..].iter().any(|&b| !is_space(b)) {
            return Err(err(VersionErrorKind::EmbeddedSpace));
        }
        // Only ASCII blanks were cut, so these are char boundaries.
        let token = &input[start..start + end];

        let (epoch, after_epoch) = match token.find(':') {
            Some(colon) => {
                let epoch = parse_epoch(&token[..colon]).map_err(err)?;
                let after = &token[colon + 1..];
                if after.is_empty() {
                    return Err(err(VersionErrorKind::NothingAfterColon));
                }
                (epoch, after)
            }
            None => (0, token),
        };
        let (upstream, revision) = match after_epoch.rfind('-') {
            Some(hyphen) => {
                let revision = &after_epoch[hyphen + 1..];
                if revision.is_empty() {
                    return Err(err(VersionErrorKind::RevisionEmpty));
                }
                (&after_epoch[..hyphen], revision)
            }
            None => (after_epoch, ""),
        };
        if upstream.is_empty() {
            return Err(err(VersionErrorKind::UpstreamEmpty));
        }
        Ok(Version { epoch, upstream: upstream.to_string(), revision: revision.to_string() })
    }

    /// Parses and also refuses what dpkg only warns about: an upstream version that does not
    /// start with a digit, and characters outside the allowed sets. `dpkg-deb --build` refuses
    /// these, so the builder and the publisher do too.
    pub fn parse_strict(input: &str) -> Result<Version, VersionError> {
        let v = Version::parse(input)?;
        match v.warning() {
            Some(kind) => Err(VersionError { input: input.to_string(), kind }),
            None => Ok(v),
        }
    }

    /// The first problem dpkg would warn about, if any.
    pub fn warning(&self) -> Option<VersionErrorKind> {
        if !self.upstream.as_bytes()[0].is_ascii_digit() {
            return Some(VersionErrorKind::UpstreamNotDigit);
        }
        if let Some(c) =
            self.upstream.chars().find(|&c| !(c.is_ascii_alphanumeric() || ".-+~:".contains(c)))
        {
            return Some(VersionErrorKind::UpstreamBadChar(c));
        }
        if let Some(c) =
            self.revision.chars().find(|&c| !(c.is_ascii_alphanumeric() || ".+~".contains(c)))
        {
            return Some(VersionErrorKind::RevisionBadChar(c));
        }
        None
    }

    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// The revision; empty when the version has none (it compares equal to `0`).
    pub fn revision(&self) -> &str {
        &self.revision
    }

    /// `upstream[-revision]`: the form used in pool file names (dpkg-name drops the epoch).
    pub fn without_epoch(&self) -> String {
        if self.revision.is_empty() {
            self.upstream.clone()
        } else {
            format!("{}-{}", self.upstream, self.revision)
        }
    }
}

/// dpkg uses `strtol`: an optional sign, then decimal digits, which must end at the colon.
fn parse_epoch(text: &str) -> Result<u32, VersionErrorKind> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let len = digits.bytes().take_while(u8::is_ascii_digit).count();
    if len == 0 {
        // strtol consumed nothing: dpkg says "empty" for ":1" and for "a:1" alike.
        return Err(VersionErrorKind::EpochEmpty);
    }
    if len != digits.len() {
        return Err(VersionErrorKind::EpochNotNumber);
    }
    let significant = digits.trim_start_matches('0');
    if negative && !significant.is_empty() {
        return Err(VersionErrorKind::EpochNegative);
    }
    if significant.len() > 10 {
        return Err(VersionErrorKind::EpochTooBig);
    }
    match significant.parse::<u64>().unwrap_or(0) {
        n if n > i32::MAX as u64 => Err(VersionErrorKind::EpochTooBig),
        n => Ok(n as u32),
    }
}

/// dpkg's character weight in a non-digit part: `~` below the end of the part, the end (and a
/// digit) 0, letters their code, everything else its code + 256. Like dpkg on x86 (signed
/// `char`), bytes above 127 count as negative before the + 256.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c as i8) + 256,
    }
}

/// dpkg's `verrevcmp`: alternate non-digit and digit parts until both strings are exhausted.
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    let digit = |s: &[u8], k: usize| s.get(k).is_some_and(u8::is_ascii_digit);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !digit(a, i)) || (j < b.len() && !digit(b, j)) {
            let (ac, bc) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while a.get(i) == Some(&b'0') {
            i += 1;
        }
        while b.get(j) == Some(&b'0') {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while digit(a, i) && digit(b, j) {
            if first_diff == Ordering::Equal {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if digit(a, i) {
            return Ordering::Greater;
        }
        if digit(b, j) {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream.as_bytes(), other.upstream.as_bytes()))
            .then_with(|| verrevcmp(self.revision.as_bytes(), other.revision.as_bytes()))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch != 0 {
            write!(f, "{}:", self.epoch)?;
        }
        f.write_str(&self.upstream)?;
        if !self.revision.is_empty() {
            write!(f, "-{}", self.revision)?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Version {
    type Err = VersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::parse(s)
    }
}

/// A relation of `dpkg --compare-versions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Lt,
    Le,
    Eq,
    Ne,
    Ge,
    Gt,
}

impl Relation {
    /// Accepts `lt le eq ne ge gt` and `<< <= = >= >>`. dpkg's obsolete `<` and `>` (which mean
    /// `<=` and `>=`) are refused on purpose.
    pub fn parse(op: &str) -> Option<Relation> {
        Some(match op {
            "lt" | "<<" => Relation::Lt,
            "le" | "<=" => Relation::Le,
            "eq" | "=" => Relation::Eq,
            "ne" => Relation::Ne,
            "ge" | ">=" => Relation::Ge,
            "gt" | ">>" => Relation::Gt,
            _ => return None,
        })
    }

    /// Whether `ordering` (of A against B) satisfies the relation.
    pub fn holds(self, ordering: Ordering) -> bool {
        match self {
            Relation::Lt => ordering == Ordering::Less,
            Relation::Le => ordering != Ordering::Greater,
            Relation::Eq => ordering == Ordering::Equal,
            Relation::Ne => ordering != Ordering::Equal,
            Relation::Ge => ordering != Ordering::Less,
            Relation::Gt => ordering == Ordering::Greater,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    /// apt-repository.md §8, from dpkg's scripts/t/Dpkg_Version.t.
    const VECTORS: &[(&str, Ordering, &str)] = &[
        ("1.0-1", Ordering::Less, "2.0-2"),
        ("2.2~rc-4", Ordering::Less, "2.2-1"),
        ("1.0000-1", Ordering::Equal, "1.0-1"),
        ("1", Ordering::Equal, "0:1"),
        ("0", Ordering::Equal, "0:0-0"),
        ("2:2.5", Ordering::Greater, "1:7.5"),
        ("1:0foo", Ordering::Greater, "0foo"),
        ("0foo~1", Ordering::Less, "0foo"),
        ("0foo~foo+Bar", Ordering::Less, "0foo~foo+bar"),
        ("0foo~~", Ordering::Less, "0foo~"),
        ("1~", Ordering::Less, "1"),
        ("0foo-0", Ordering::Less, "0foo-01"),
        ("0foo.bar", Ordering::Greater, "0foobar"),
        ("0foo.bar", Ordering::Greater, "0foo1bar"),
        ("0foo2.0", Ordering::Greater, "0foo2"),
        ("0foo2.0", Ordering::Less, "0foo2.0.0"),
        ("0foo2.1", Ordering::Less, "0foo2.10"),
        ("1.09", Ordering::Equal, "1.9"),
        ("1.0.8+nmu1", Ordering::Greater, "1.0.8"),
        ("3.11", Ordering::Greater, "3.10+nmu1"),
        ("1.2.0~b7-1", Ordering::Greater, "1.2.0~b6-1"),
        ("1:3.8.1-1", Ordering::Greater, "3.8.GA-1"),
        ("1.0.1+gpl-1", Ordering::Greater, "1.0.1-2"),
        ("1a", Ordering::Less, "1000a"),
        ("0.9j-20080306-4", Ordering::Greater, "0.9i-20070324-2"),
    ];

    #[test]
    fn reference_vectors() {
        for &(a, want, b) in VECTORS {
            assert_eq!(v(a).cmp(&v(b)), want, "{a} vs {b}");
            assert_eq!(v(b).cmp(&v(a)), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn arbitrary_length_digit_runs() {
        assert!(v("1.0.99999999999999999999999") < v("1.0.100000000000000000000000"));
        assert_eq!(v("1.000000000000000000000000000001"), v("1.1"));
    }

    #[test]
    fn splits_epoch_at_first_colon_and_revision_at_last_hyphen() {
        let x = v("0:0-0-0");
        assert_eq!((x.epoch(), x.upstream(), x.revision()), (0, "0-0", "0"));
        let x = v("1:2:3-4");
        assert_eq!((x.epoch(), x.upstream(), x.revision()), (1, "2:3", "4"));
        let x = v("  2147483647:1.0\t");
        assert_eq!((x.epoch(), x.upstream(), x.revision()), (i32::MAX as u32, "1.0", ""));
        assert_eq!(x.without_epoch(), "1.0");
        assert_eq!(v("0:1.0-1").to_string(), "1.0-1");
    }

    #[test]
    fn rejected_like_dpkg() {
        let cases = [
            ("0:", VersionErrorKind::NothingAfterColon),
            ("a:0-0", VersionErrorKind::EpochEmpty),
            ("1.0-1:1", VersionErrorKind::EpochNotNumber),
            ("-1:0-1", VersionErrorKind::EpochNegative),
            ("2147483648:1", VersionErrorKind::EpochTooBig),
            ("99999999999999999999999:1", VersionErrorKind::EpochTooBig),
            ("0:0 0-1", VersionErrorKind::EmbeddedSpace),
            ("0:-0", VersionErrorKind::UpstreamEmpty),
            ("1.0-", VersionErrorKind::RevisionEmpty),
            ("", VersionErrorKind::Empty),
            ("  ", VersionErrorKind::Empty),
            (":1", VersionErrorKind::EpochEmpty),
        ];
        for (input, kind) in cases {
            let e = Version::parse(input).unwrap_err();
            assert_eq!(e.kind, kind, "{input:?}");
            assert!(!kind.is_warning());
            assert!(e.to_string().contains(&format!("`{input}`")), "{e}");
        }
    }

    #[test]
    fn warnings_accepted_by_parse_refused_by_strict() {
        let cases = [
            ("0:abc3-0", VersionErrorKind::UpstreamNotDigit),
            ("1.0_1-1", VersionErrorKind::UpstreamBadChar('_')),
            ("1.0-1_1", VersionErrorKind::RevisionBadChar('_')),
            ("1.0-1:1a", VersionErrorKind::EpochNotNumber),
        ];
        for (input, kind) in cases {
            if kind.is_warning() {
                assert!(Version::parse(input).is_ok(), "{input}");
            }
            assert_eq!(Version::parse_strict(input).unwrap_err().kind, kind, "{input}");
        }
        for c in "!#@$%&/|\\<>()[]{};,=*^'".chars() {
            let input = format!("1.0{c}1-1");
            assert!(Version::parse(&input).is_ok(), "{input}");
            assert!(Version::parse_strict(&input).is_err(), "{input}");
        }
        // Accepted by dpkg's strtol: a signed zero epoch.
        assert_eq!(v("-0:1"), v("1"));
        assert_eq!(v("+1:0"), v("1:0"));
    }

    #[test]
    fn relations() {
        let r = |s| Relation::parse(s).unwrap();
        assert!(r("lt").holds(Ordering::Less) && r("<<").holds(Ordering::Less));
        assert!(r("le").holds(Ordering::Equal) && !r("<=").holds(Ordering::Greater));
        assert!(r("eq").holds(Ordering::Equal) && r("=").holds(Ordering::Equal));
        assert!(r("ne").holds(Ordering::Less) && !r("ne").holds(Ordering::Equal));
        assert!(r("ge").holds(Ordering::Greater) && r(">=").holds(Ordering::Equal));
        assert!(r("gt").holds(Ordering::Greater) && !r(">>").holds(Ordering::Equal));
        assert!(Relation::parse("<").is_none() && Relation::parse(">").is_none());
    }
}
