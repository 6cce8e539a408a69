//! `cts-deb repo init`, `publish` and `repo gc` on real repositories in temp dirs, checked by an
//! independent reader written here (Release/InRelease parsing, by-hash and pool hashes, Packages
//! parsing, gzip/xz decoding) and by `gpgv` against the exported public key. Test packages are
//! built with `dpkg-deb --build`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256, Sha512};

use crate::{sh, Test};

const SUITE: &str = "prod";

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Builds `<name>_<version>_<arch>.deb` in `dir`; `salt` changes the bytes.
fn mkdeb(dir: &Path, name: &str, version: &str, arch: &str, salt: &str) -> PathBuf {
    mkdeb_with(dir, name, version, arch, salt, &[])
}

fn mkdeb_with(
    dir: &Path,
    name: &str,
    version: &str,
    arch: &str,
    salt: &str,
    dpkg_deb_args: &[&str],
) -> PathBuf {
    let root = dir.join(format!("src-{name}-{version}-{arch}-{salt}"));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(root.join(format!("usr/share/doc/{name}"))).unwrap();
    std::fs::write(
        root.join("DEBIAN/control"),
        format!(
            "Package: {name}\nVersion: {version}\nArchitecture: {arch}\n\
             Maintainer: CTS tests <tests@cts.invalid>\nSection: admin\nPriority: optional\n\
             Description: test package {name}\n A test package.\n .\n Second paragraph.\n"
        ),
    )
    .unwrap();
    std::fs::write(root.join(format!("usr/share/doc/{name}/salt")), salt).unwrap();
    let out = dir.join(format!("{name}_{version}_{arch}-{salt}.deb"));
    let status = Command::new("dpkg-deb")
        .args(dpkg_deb_args)
        .args(["--root-owner-group", "--build"])
        .arg(&root)
        .arg(&out)
        .output()
        .expect("dpkg-deb runs");
    assert!(status.status.success(), "dpkg-deb: {}", String::from_utf8_lossy(&status.stderr));
    out
}

struct Repo {
    tmp: tempfile::TempDir,
}

impl Repo {
    /// A repository for amd64 + arm64 with a fresh Ed25519 key.
    fn new() -> (Repo, String) {
        let tmp = tempfile::tempdir().unwrap();
        let r = Repo { tmp };
        let stdout = r
            .cmd()
            .args(["repo", "init", "--origin", "CTS", "--label", "CTS internal", "--suite", SUITE])
            .args(["--codename", "bookworm-cts", "--architectures", "amd64,arm64"])
            .arg_path("--repo", &r.root())
            .arg_path("--generate-key", &r.key())
            .run()
            .success();
        (r, stdout)
    }
    fn root(&self) -> PathBuf {
        self.tmp.path().join("repo")
    }
    fn key(&self) -> PathBuf {
        self.tmp.path().join("signing-key.asc")
    }
    fn debs(&self) -> PathBuf {
        let d = self.tmp.path().join("debs");
        std::fs::create_dir_all(&d).unwrap();
        d
    }
    /// TMPDIR of every cts-deb run in this repository's tests.
    fn tmpdir(&self) -> PathBuf {
        let d = self.tmp.path().join("tmp");
        std::fs::create_dir_all(&d).unwrap();
        d
    }
    /// Nothing left behind in TMPDIR by our runs.
    fn assert_no_temp_leftovers(&self) {
        let left: Vec<_> =
            std::fs::read_dir(self.tmpdir()).unwrap().map(|e| e.unwrap().path()).collect();
        assert!(left.is_empty(), "left in TMPDIR: {left:?}");
    }
    fn publish(&self, debs: &[&Path], extra: &[&str]) -> crate::Run {
        self.cmd()
            .args(["publish", "--suite", SUITE])
            .arg_path("--repo", &self.root())
            .arg_path("--key", &self.key())
            .args(extra)
            .args(debs)
            .run()
    }
    /// cts-deb with TMPDIR inside this test's directory (see `assert_no_temp_leftovers`).
    fn cmd(&self) -> Test {
        Test::new().env("TMPDIR", self.tmpdir())
    }
    fn gc(&self, grace: &str) -> crate::Run {
        self.cmd().args(["repo", "gc", "--grace", grace]).arg_path("--repo", &self.root()).run()
    }
}

trait ArgPath {
    fn arg_path(self, flag: &str, path: &Path) -> Self;
}

impl ArgPath for Test {
    fn arg_path(self, flag: &str, path: &Path) -> Self {
        self.args([std::ffi::OsStr::new(flag), path.as_os_str()])
    }
}

/// Every file under `dir` with its SHA-256 (the lock file included: its bytes never change).
fn tree(dir: &Path) -> BTreeMap<String, String> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            (rel, sha256(&std::fs::read(e.path()).unwrap()))
        })
        .collect()
}

/// One deb822 paragraph list, fields by name (continuation lines joined with `\n`).
fn parse_paragraphs(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    let mut cur: BTreeMap<String, String> = BTreeMap::new();
    let mut last = String::new();
    for line in text.lines() {
        if line.is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else if line.starts_with(' ') {
            let v = cur.get_mut(&last).expect("continuation after a field");
            v.push('\n');
            v.push_str(line.trim());
        } else {
            let (k, v) = line.split_once(':').expect("field line");
            assert!(!cur.contains_key(k), "duplicate field {k}");
            last = k.to_string();
            cur.insert(k.to_string(), v.trim().to_string());
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The signed text of a clear-signed message (RFC 4880 §7, dash-escaping undone).
fn clearsigned_text(msg: &str) -> String {
    let mut lines = msg.lines();
    assert_eq!(lines.next(), Some("-----BEGIN PGP SIGNED MESSAGE-----"));
    for l in lines.by_ref() {
        if l.is_empty() {
            break;
        }
        assert!(l.starts_with("Hash: "), "armor header {l}");
        assert_eq!(l, "Hash: SHA512", "signed with SHA512");
    }
    let mut body = Vec::new();
    for l in lines {
        if l == "-----BEGIN PGP SIGNATURE-----" {
            return body.join("\n") + "\n";
        }
        body.push(l.strip_prefix("- ").unwrap_or(l).to_string());
    }
    panic!("no signature block");
}

/// gpgv's verdict with the repository's public key; a missing gpgv fails the test
/// (scripts/install-deps installs it).
fn gpgv(repo: &Path, args: &[&Path]) {
    let home = tempfile::tempdir().unwrap();
    let keyring = home.path().join("key.gpg");
    sh(&format!(
        "GNUPGHOME={h} gpg --batch --dearmor < {k} > {r}",
        h = home.path().display(),
        k = repo.join("archive-key.asc").display(),
        r = keyring.display()
    ));
    let out = Command::new("gpgv")
        .arg("--keyring")
        .arg(&keyring)
        .args(args)
        .output()
        .expect("gpgv runs (scripts/install-deps installs it)");
    assert!(out.status.success(), "gpgv failed: {}", String::from_utf8_lossy(&out.stderr));
}

fn decompress(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if name.ends_with(".gz") {
        flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    } else if name.ends_with(".xz") {
        xz2::read::XzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    } else {
        out = bytes.to_vec();
    }
    out
}

/// What a by-hash client sees: checks everything InRelease names and every pool file the
/// indices name. With `canonical`, also the canonical index paths and the detached signature.
/// Returns `arch → {(package, version)}`.
fn verify(repo: &Path, canonical: bool) -> BTreeMap<String, BTreeSet<(String, String)>> {
    let dists = repo.join("dists").join(SUITE);
    let inrelease = std::fs::read_to_string(dists.join("InRelease")).unwrap();
    gpgv(repo, &[&dists.join("InRelease")]);
    let text = clearsigned_text(&inrelease);
    let release = &parse_paragraphs(&text)[0];
    assert_eq!(release["Origin"], "CTS");
    assert_eq!(release["Label"], "CTS internal");
    assert_eq!(release["Suite"], SUITE);
    assert_eq!(release["Codename"], "bookworm-cts");
    assert_eq!(release["Acquire-By-Hash"], "yes");
    assert_eq!(release["Architectures"], "amd64 arm64");
    assert_eq!(release["Components"], "main");
    assert!(release["Date"].ends_with(" +0000"), "{}", release["Date"]);
    time::OffsetDateTime::parse(&release["Date"], &time::format_description::well_known::Rfc2822)
        .expect("Date parses as RFC 2822");
    if canonical {
        assert_eq!(std::fs::read_to_string(dists.join("Release")).unwrap(), text);
        gpgv(repo, &[&dists.join("Release.gpg"), &dists.join("Release")]);
    }

    let mut listed: BTreeMap<String, (u64, String, String)> = BTreeMap::new();
    for (field, len) in [("SHA256", 64), ("SHA512", 128)] {
        for line in release[field].lines().filter(|l| !l.is_empty()) {
            let parts: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(parts.len(), 3, "{line}");
            assert_eq!(parts[0].len(), len);
            let e = listed.entry(parts[2].to_string()).or_default();
            e.0 = parts[1].parse().unwrap();
            if field == "SHA256" {
                e.1 = parts[0].to_string();
            } else {
                e.2 = parts[0].to_string();
            }
        }
    }
    let mut seen = BTreeMap::new();
    for arch in ["amd64", "arm64"] {
        for suffix in ["", ".gz", ".xz"] {
            assert!(listed.contains_key(&format!("main/binary-{arch}/Packages{suffix}")));
        }
    }
    let mut plain_by_dir: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (path, (size, h256, h512)) in &listed {
        let dir = dists.join(path).parent().unwrap().to_path_buf();
        let by256 = std::fs::read(dir.join("by-hash/SHA256").join(h256))
            .unwrap_or_else(|e| panic!("by-hash SHA256 of {path}: {e}"));
        let by512 = std::fs::read(dir.join("by-hash/SHA512").join(h512))
            .unwrap_or_else(|e| panic!("by-hash SHA512 of {path}: {e}"));
        assert_eq!(by256.len() as u64, *size, "{path}");
        assert_eq!(&sha256(&by256), h256, "{path}");
        assert_eq!(hex::encode(Sha512::digest(&by512)), *h512, "{path}");
        if canonical {
            assert_eq!(std::fs::read(dists.join(path)).unwrap(), by256, "canonical {path}");
        }
        let plain = decompress(path, &by256);
        let key = Path::new(path).parent().unwrap().to_string_lossy().into_owned();
        match plain_by_dir.get(&key) {
            Some(p) => assert_eq!(p, &plain, "{path} decompresses to the same Packages"),
            None => {
                plain_by_dir.insert(key, plain);
            }
        }
    }
    for (dir, plain) in plain_by_dir {
        let arch = dir.trim_start_matches("main/binary-").to_string();
        let mut set = BTreeSet::new();
        let plain = std::str::from_utf8(&plain).unwrap();
        // Stanzas separated by exactly one blank line; the file ends with one.
        assert!(!plain.starts_with('\n') && !plain.contains("\n\n\n"), "{dir}: {plain}");
        assert!(plain.is_empty() || plain.ends_with("\n\n"), "{dir}: {plain}");
        for stanza in parse_paragraphs(plain) {
            for f in ["Package", "Version", "Architecture", "Description", "Filename", "Size"] {
                assert!(stanza.contains_key(f), "stanza lacks {f}: {stanza:?}");
            }
            assert!(stanza["Architecture"] == arch || stanza["Architecture"] == "all");
            let pool = std::fs::read(repo.join(&stanza["Filename"]))
                .unwrap_or_else(|e| panic!("pool file {}: {e}", stanza["Filename"]));
            assert_eq!(pool.len().to_string(), stanza["Size"]);
            assert_eq!(sha256(&pool), stanza["SHA256"]);
            assert_eq!(hex::encode(Sha512::digest(&pool)), stanza["SHA512"]);
            assert_eq!(hex::encode(md5::Md5::digest(&pool)), stanza["MD5sum"]);
            assert_eq!(hex::encode(sha1::Sha1::digest(&pool)), stanza["SHA1"]);
            set.insert((stanza["Package"].clone(), stanza["Version"].clone()));
        }
        seen.insert(arch, set);
    }
    seen
}

fn pv(p: &str, v: &str) -> (String, String) {
    (p.to_string(), v.to_string())
}

#[test]
fn init_writes_config_key_and_a_valid_empty_repository() {
    let (repo, sources) = Repo::new();
    assert!(sources.starts_with("Types: deb\nURIs: file://"), "{sources}");
    assert!(sources.contains("\nSuites: prod\nComponents: main\nSigned-By:\n"), "{sources}");
    assert!(sources.contains("\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n"), "{sources}");
    assert!(sources.trim_end().ends_with(" -----END PGP PUBLIC KEY BLOCK-----"));
    let mode = std::fs::metadata(repo.key()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "secret key mode");
    let key = std::fs::read_to_string(repo.key()).unwrap();
    assert!(key.starts_with("-----BEGIN PGP PRIVATE KEY BLOCK-----"));
    let config = std::fs::read_to_string(repo.root().join(".cts-repo/config.toml")).unwrap();
    assert!(config.contains("origin = \"CTS\""), "{config}");
    let seen = verify(&repo.root(), true);
    assert!(seen.values().all(BTreeSet::is_empty));
    // Ed25519, as gpg reports it.
    let home = tempfile::tempdir().unwrap();
    let listing = sh(&format!(
        "GNUPGHOME={} gpg --batch --with-colons --show-keys {}",
        home.path().display(),
        repo.root().join("archive-key.asc").display()
    ));
    assert!(listing.contains(":ed25519:"), "{listing}");
    repo.assert_no_temp_leftovers();
}

#[test]
fn init_refuses_to_change_origin() {
    let (repo, _) = Repo::new();
    repo.cmd()
        .args(["repo", "init", "--origin", "Other", "--label", "CTS internal", "--suite", "x"])
        .arg_path("--repo", &repo.root())
        .run()
        .fails(3, &["Origin is `CTS`", "--allow-releaseinfo-change"]);
}

#[test]
fn publish_lists_packages_in_the_pool_layout_and_all_in_every_arch() {
    let (repo, _) = Repo::new();
    let d = repo.debs();
    let server = mkdeb(&d, "cts-server", "1.0-1", "amd64", "a");
    let lib = mkdeb(&d, "libcts-util", "2.0", "all", "a");
    let out = repo.publish(&[&server, &lib], &[]).success();
    assert_eq!(
        out,
        "pool/main/c/cts-server/cts-server_1.0-1_amd64.deb\n\
         pool/main/libc/libcts-util/libcts-util_2.0_all.deb\n"
    );
    let seen = verify(&repo.root(), true);
    assert_eq!(
        seen["amd64"],
        BTreeSet::from([pv("cts-server", "1.0-1"), pv("libcts-util", "2.0")])
    );
    assert_eq!(seen["arm64"], BTreeSet::from([pv("libcts-util", "2.0")]));
    // Several versions coexist.
    let newer = mkdeb(&d, "cts-server", "1:0.9-1", "amd64", "a");
    repo.publish(&[&newer], &[]).success();
    let seen = verify(&repo.root(), true);
    assert!(seen["amd64"].contains(&pv("cts-server", "1.0-1")));
    assert!(seen["amd64"].contains(&pv("cts-server", "1:0.9-1")));
}

#[test]
fn a_directory_publishes_every_deb_below_it_and_the_pool_reindexes_as_a_no_op() {
    let (repo, _) = Repo::new();
    let d = repo.debs();
    let nested = d.join("ci/job-2");
    std::fs::create_dir_all(&nested).unwrap();
    mkdeb(&d, "cts-server", "1.0-1", "amd64", "a");
    mkdeb(&nested, "cts-tools", "3.1-1", "all", "a");
    std::fs::write(d.join("README"), "not a package").unwrap();
    let out = repo.publish(&[&d], &[]).success();
    // Path order: ci/job-2/cts-tools… sorts before cts-server….
    assert_eq!(
        out,
        "pool/main/c/cts-tools/cts-tools_3.1-1_all.deb\n\
         pool/main/c/cts-server/cts-server_1.0-1_amd64.deb\n"
    );
    let seen = verify(&repo.root(), true);
    assert_eq!(
        seen["amd64"],
        BTreeSet::from([pv("cts-server", "1.0-1"), pv("cts-tools", "3.1-1")])
    );
    // Re-indexing the repository's own pool changes nothing.
    let before = tree(&repo.root());
    let out = repo.publish(&[&repo.root().join("pool")], &[]).success();
    assert_eq!(out.lines().count(), 2, "{out}");
    assert_eq!(tree(&repo.root()), before);
    // A directory without packages is refused.
    let empty = repo.tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    repo.publish(&[&empty], &[]).fails(3, &["no .deb files below"]);
    assert_eq!(tree(&repo.root()), before);
}

#[test]
fn identical_republish_is_a_no_op() {
    let (repo, _) = Repo::new();
    let deb = mkdeb(&repo.debs(), "cts-server", "1.0-1", "amd64", "a");
    repo.publish(&[&deb], &[]).success();
    let before = tree(&repo.root());
    let run = repo.publish(&[&deb], &[]);
    assert_eq!(run.success(), "pool/main/c/cts-server/cts-server_1.0-1_amd64.deb\n");
    assert!(run.stderr().contains("unchanged"), "{}", run.stderr());
    assert_eq!(tree(&repo.root()), before, "repository changed");
    repo.assert_no_temp_leftovers();
}

#[test]
fn conflicting_bytes_are_refused_naming_both_hashes_and_nothing_changes() {
    let (repo, _) = Repo::new();
    let d = repo.debs();
    let first = mkdeb(&d, "cts-server", "1.0-1", "amd64", "a");
    let rebuilt = mkdeb(&d, "cts-server", "1.0-1", "amd64", "b");
    let other = mkdeb(&d, "cts-extra", "1.0", "amd64", "a");
    repo.publish(&[&first], &[]).success();
    let before = tree(&repo.root());
    let (h1, h2) =
        (sha256(&std::fs::read(&first).unwrap()), sha256(&std::fs::read(&rebuilt).unwrap()));
    // Also with a valid package first on the command line: nothing at all is written.
    let line = repo.publish(&[&other, &rebuilt], &[]).fails(
        4,
        &["cts-server 1.0-1 (amd64) is already in suite prod with different bytes", &h1, &h2],
    );
    assert!(line.contains(&format!("published sha256 {h1}, new sha256 {h2}")), "{line}");
    assert_eq!(tree(&repo.root()), before, "repository changed");
    // Same version spelled differently is the same version to apt.
    let respelled = mkdeb(&d, "cts-server", "1.00-1", "amd64", "c");
    repo.publish(&[&respelled], &[]).fails(4, &["different bytes"]);
}

#[test]
fn older_versions_are_refused_unless_allowed() {
    let (repo, _) = Repo::new();
    let d = repo.debs();
    let new = mkdeb(&d, "cts-server", "1.2.0-1", "amd64", "a");
    let old = mkdeb(&d, "cts-server", "1.2.0~rc1-1", "amd64", "a");
    repo.publish(&[&new], &[]).success();
    let before = tree(&repo.root());
    repo.publish(&[&old], &[])
        .fails(4, &["cts-server 1.2.0~rc1-1 (amd64) is older than 1.2.0-1", "--allow-older"]);
    assert_eq!(tree(&repo.root()), before);
    repo.publish(&[&old], &["--allow-older"]).success();
    assert!(verify(&repo.root(), true)["amd64"].contains(&pv("cts-server", "1.2.0~rc1-1")));
}

#[test]
fn invalid_inputs_are_refused_before_writing() {
    let (repo, _) = Repo::new();
    let d = repo.debs();
    let before = tree(&repo.root());
    let bad_version = mkdeb_with(&d, "cts-server", "0:abc3-0", "amd64", "a", &["--nocheck"]);
    repo.publish(&[&bad_version], &[]).fails(3, &["`0:abc3-0`", "does not start with digit"]);
    let i386 = mkdeb(&d, "cts-server", "1.0", "i386", "a");
    repo.publish(&[&i386], &[]).fails(3, &["architecture i386", "amd64, arm64"]);
    let zstd = mkdeb_with(&d, "cts-server", "1.0", "amd64", "z", &["-Zzstd"]);
    repo.publish(&[&zstd], &[]).fails(3, &["zstd"]);
    let not_deb = d.join("not.deb");
    std::fs::write(&not_deb, "hello").unwrap();
    repo.publish(&[&not_deb], &[]).fails(3, &["not.deb", "not a valid .deb"]);
    // A cut-off upload: its control member still reads (dpkg-deb --info accepts it), but
    // dpkg could not install it.
    let whole = std::fs::read(mkdeb(&d, "cts-server", "1.0", "amd64", "t")).unwrap();
    let truncated = d.join("truncated.deb");
    std::fs::write(&truncated, &whole[..whole.len() - 100]).unwrap();
    repo.publish(&[&truncated], &[])
        .fails(3, &["truncated.deb", "truncated: member data.tar.xz ends at byte"]);
    assert_eq!(tree(&repo.root()), before);
    repo.assert_no_temp_leftovers();
}

#[test]
fn another_key_is_refused() {
    let (repo, _) = Repo::new();
    let (other, _) = Repo::new();
    let deb = mkdeb(&repo.debs(), "cts-server", "1.0", "amd64", "a");
    repo.cmd()
        .args(["publish", "--suite", SUITE])
        .arg_path("--repo", &repo.root())
        .arg_path("--key", &other.key())
        .args([&deb])
        .run()
        .fails(4, &["but this repository is signed by"]);
    repo.cmd()
        .args(["publish", "--suite", SUITE])
        .arg_path("--repo", &repo.root())
        .args([&deb])
        .run()
        .fails(3, &["is signed: pass --key"]);
    repo.assert_no_temp_leftovers();
    other.assert_no_temp_leftovers();
}

/// A gpg home in a temp dir; `gpg(args)` runs gpg there in batch mode and returns stdout.
struct GpgHome(tempfile::TempDir);

impl GpgHome {
    fn new() -> GpgHome {
        let dir = tempfile::Builder::new().prefix("gh").tempdir_in("/tmp").unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        GpgHome(dir)
    }
    fn gpg(&self, args: &str) -> String {
        sh(&format!(
            "gpg --homedir {} --batch --no-tty --pinentry-mode loopback {args} 2>/dev/null",
            self.0.path().display()
        ))
    }
    /// Generates a key (`quick-gen-key` arguments after the uid) and returns (fingerprint,
    /// path of the exported armored secret key).
    fn key(&self, uid: &str, algo_usage: &str, passphrase: &str) -> (String, PathBuf) {
        self.gpg(&format!(
            "--passphrase '{passphrase}' --quick-gen-key '{uid}' {algo_usage} never"
        ));
        let fpr = self.fingerprints(uid)[0].clone();
        (fpr.clone(), self.export(&fpr, passphrase))
    }
    /// Exports the secret key `fpr` (armored, as it is now) and returns the file.
    fn export(&self, fpr: &str, passphrase: &str) -> PathBuf {
        let file = self.0.path().join(format!("{fpr}.asc"));
        let _ = std::fs::remove_file(&file);
        self.gpg(&format!(
            "--passphrase '{passphrase}' --armor --output {} --export-secret-keys {fpr}",
            file.display()
        ));
        file
    }
    /// `gpg --list-packets` of a key file.
    fn packets(&self, file: &Path) -> String {
        self.gpg(&format!("--list-packets {}", file.display()))
    }
    /// The primary key's fingerprint, then its subkeys'.
    fn fingerprints(&self, uid: &str) -> Vec<String> {
        let listing = self.gpg(&format!("--with-colons --list-secret-keys '{uid}'"));
        listing
            .lines()
            .filter(|l| l.starts_with("fpr:"))
            .map(|l| l.split(':').nth(9).unwrap().to_string())
            .collect()
    }
    fn drop_agent(&self) {
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(self.0.path())
            .args(["--kill", "all"])
            .output();
    }
}

impl Drop for GpgHome {
    fn drop(&mut self) {
        self.drop_agent();
    }
}

/// `repo init --key FILE` on a new repository; then publish one package and check it as a
/// client would (gpgv on InRelease and on Release + Release.gpg). Returns gpgv's report.
fn init_and_publish_with(key: &Path, env: &[(&str, &Path)]) -> (crate::Run, Option<String>) {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repo { tmp };
    let mut init = repo
        .cmd()
        .args(["repo", "init", "--origin", "CTS", "--label", "CTS internal", "--suite", SUITE])
        .args(["--codename", "bookworm-cts", "--architectures", "amd64,arm64"])
        .arg_path("--repo", &repo.root())
        .arg_path("--key", key);
    for (k, v) in env {
        init = init.env(k, v);
    }
    let run = init.run();
    if run.code() != 0 {
        // A refused key is refused before the repository directory is even made.
        assert!(!repo.root().exists(), "repo init wrote into {}", repo.root().display());
        repo.assert_no_temp_leftovers();
        return (run, None);
    }
    std::fs::copy(key, repo.key()).unwrap();
    let deb = mkdeb(&repo.debs(), "cts-server", "1.0-1", "amd64", "a");
    let mut publish = repo
        .cmd()
        .args(["publish", "--suite", SUITE])
        .arg_path("--repo", &repo.root())
        .arg_path("--key", &repo.key())
        .args([&deb]);
    for (k, v) in env {
        publish = publish.env(k, v);
    }
    publish.run().success();
    let seen = verify(&repo.root(), true);
    assert!(seen["amd64"].contains(&pv("cts-server", "1.0-1")));
    let home = tempfile::tempdir().unwrap();
    let ring = home.path().join("ring.gpg");
    sh(&format!(
        "gpg --homedir {} --batch --dearmor < {} > {}",
        home.path().display(),
        repo.root().join("archive-key.asc").display(),
        ring.display()
    ));
    let dists = repo.root().join("dists").join(SUITE);
    let out = Command::new("gpgv")
        .arg("--keyring")
        .arg(&ring)
        .arg(dists.join("Release.gpg"))
        .arg(dists.join("Release"))
        .output()
        .expect("gpgv runs (scripts/install-deps installs it)");
    // SHA-512 (digest algorithm 10) in the detached signature; `verify` checked InRelease's
    // `Hash: SHA512`.
    let sig = dists.join("Release.gpg");
    let packets =
        sh(&format!("gpg --homedir {} --list-packets {}", home.path().display(), sig.display()));
    assert!(packets.contains("digest algo 10"), "{packets}");
    repo.assert_no_temp_leftovers();
    (run, Some(String::from_utf8_lossy(&out.stderr).into_owned()))
}

#[test]
fn keys_made_by_gpg_sign_and_weak_or_locked_keys_are_refused() {
    let home = GpgHome::new();
    // RSA 3072: accepted.
    let (fpr, rsa) = home.key("rsa3072 <r@cts.invalid>", "rsa3072 sign", "");
    let (_, report) = init_and_publish_with(&rsa, &[]);
    assert!(report.unwrap().contains(&format!("using RSA key {fpr}")));

    // A certify-only primary key with an Ed25519 signing subkey: the subkey signs, as in gpg.
    let uid = "sub <s@cts.invalid>";
    home.gpg(&format!("--passphrase '' --quick-gen-key '{uid}' ed25519 cert never"));
    let primary = home.fingerprints(uid)[0].clone();
    home.gpg(&format!("--passphrase '' --quick-add-key {primary} ed25519 sign never"));
    let sub = home.fingerprints(uid)[1].clone();
    let file = home.0.path().join("sub.asc");
    home.gpg(&format!("--armor --output {} --export-secret-keys {primary}", file.display()));
    let (_, report) = init_and_publish_with(&file, &[]);
    assert!(report.unwrap().contains(&format!("using EDDSA key {sub}")));

    // RSA 2048 is refused before anything is written.
    let (_, weak) = home.key("rsa2048 <w@cts.invalid>", "rsa2048 sign", "");
    let (run, _) = init_and_publish_with(&weak, &[]);
    run.fails(3, &["RSA key of 2048 bits is too weak"]);

    // A passphrase: missing or wrong is refused naming the remedy; right one signs.
    let (_, locked) = home.key("locked <l@cts.invalid>", "ed25519 sign", "s3cret phrase");
    let (run, _) = init_and_publish_with(&locked, &[]);
    run.fails(3, &["protected by a passphrase", "CTS_DEB_GPG_PASSPHRASE_FILE"]);
    let wrong = home.0.path().join("wrong");
    std::fs::write(&wrong, "guess\n").unwrap();
    let (run, _) = init_and_publish_with(&locked, &[("CTS_DEB_GPG_PASSPHRASE_FILE", &wrong)]);
    run.fails(3, &["does not unlock it"]);
    let right = home.0.path().join("right");
    std::fs::write(&right, "s3cret phrase\n").unwrap();
    let (_, report) = init_and_publish_with(&locked, &[("CTS_DEB_GPG_PASSPHRASE_FILE", &right)]);
    assert!(report.unwrap().contains("Good signature"));
}

/// The digest algorithms (gpg's numbers: 2 SHA-1, 10 SHA-512) of the signatures of class
/// `class` (`0x13` user ID, `0x18` subkey binding, `0x19` back signature) in a key file.
fn digests(packets: &str, class: &str) -> Vec<String> {
    let lines: Vec<&str> = packets.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.contains(&format!("sigclass {class}")) {
            found.extend(lines.get(i + 1).and_then(|l| l.trim().strip_prefix("digest algo ")));
        }
        if let Some(rest) = line.split(&format!("class {class}, ")).nth(1) {
            found.extend(rest.split("digest algo ").nth(1));
        }
    }
    found.into_iter().map(|d| d.split([',', ')']).next().unwrap().to_string()).collect()
}

/// apt 3.0 (Debian 13, sqv) rejects SHA-1 self-signatures since 2026-02-01; gpgv in Debian 12
/// does not, so only our check stands between such a key and a repository trixie refuses.
#[test]
fn keys_with_sha1_self_signatures_are_refused_until_re_signed_with_sha512() {
    let home = GpgHome::new();
    let uid = "sha1 <s1@cts.invalid>";
    home.gpg(&format!(
        "--passphrase '' --cert-digest-algo SHA1 --quick-gen-key '{uid}' rsa3072 sign never"
    ));
    let fpr = home.fingerprints(uid)[0].clone();
    let file = home.export(&fpr, "");
    assert_eq!(digests(&home.packets(&file), "0x13"), ["2"], "a SHA-1 self-signature");
    let (run, _) = init_and_publish_with(&file, &[]);
    let line = run.fails(
        3,
        &[
            "the self-signature on user ID `sha1 <s1@cts.invalid>` uses SHA-1",
            "apt 3.0 (Debian 13) rejects since 2026-02-01",
            &format!("`gpg --cert-digest-algo SHA512 --quick-set-expire {fpr} 0`"),
            "cts-deb repo init --generate-key",
        ],
    );
    eprintln!("{line}");

    // The command the message names re-makes the self-signature with SHA-512, and the
    // RSA-3072 key is then accepted and signs what gpgv accepts.
    home.gpg(&format!("--passphrase '' --cert-digest-algo SHA512 --quick-set-expire {fpr} 0"));
    let file = home.export(&fpr, "");
    assert_eq!(digests(&home.packets(&file), "0x13"), ["10"], "re-signed with SHA-512");
    let (run, report) = init_and_publish_with(&file, &[]);
    run.success();
    assert!(report.unwrap().contains(&format!("Good signature from \"{uid}\"")));
}

/// The subkey that signs must be bound with SHA-256 or better, and so must its back signature
/// (the subkey's own signature over the primary key), which gpg copies unchanged when it
/// re-makes the binding.
#[test]
fn sha1_subkey_bindings_and_back_signatures_are_refused_until_a_new_subkey_signs() {
    let home = GpgHome::new();
    let uid = "sub1 <b1@cts.invalid>";
    home.gpg(&format!(
        "--passphrase '' --cert-digest-algo SHA512 --quick-gen-key '{uid}' rsa3072 cert never"
    ));
    let fpr = home.fingerprints(uid)[0].clone();
    home.gpg(&format!(
        "--passphrase '' --allow-weak-key-signatures --cert-digest-algo SHA1 \
         --quick-add-key {fpr} rsa3072 sign never"
    ));
    let sub = home.fingerprints(uid)[1].clone();
    let file = home.export(&fpr, "");
    let packets = home.packets(&file);
    assert_eq!(digests(&packets, "0x18"), ["2"], "SHA-1 binding:\n{packets}");
    assert_eq!(digests(&packets, "0x19"), ["2"], "SHA-1 back signature:\n{packets}");
    let remedy = format!("`gpg --cert-digest-algo SHA512 --quick-add-key {fpr} ed25519 sign`");
    let (run, _) = init_and_publish_with(&file, &[]);
    let binding = format!("the binding signature of signing subkey {sub} uses SHA-1");
    eprintln!("{}", run.fails(3, &[&binding, "since 2026-02-01", &remedy]));

    // Re-made with SHA-512, the binding still carries the SHA-1 back signature.
    home.gpg(&format!(
        "--passphrase '' --cert-digest-algo SHA512 --quick-set-expire {fpr} 0 {sub}"
    ));
    let file = home.export(&fpr, "");
    let packets = home.packets(&file);
    assert_eq!(digests(&packets, "0x18"), ["10"], "SHA-512 binding:\n{packets}");
    assert_eq!(digests(&packets, "0x19"), ["2"], "SHA-1 back signature:\n{packets}");
    let (run, _) = init_and_publish_with(&file, &[]);
    let back =
        format!("the primary-key binding (back) signature of signing subkey {sub} uses SHA-1");
    eprintln!("{}", run.fails(3, &[&back, &remedy]));

    // The remedy the message names: a new signing subkey, which then signs.
    home.gpg(&format!(
        "--passphrase '' --cert-digest-algo SHA512 --quick-add-key {fpr} ed25519 sign never"
    ));
    let new_sub = home.fingerprints(uid)[2].clone();
    let (run, report) = init_and_publish_with(&home.export(&fpr, ""), &[]);
    run.success();
    assert!(report.unwrap().contains(&format!("using EDDSA key {new_sub}")));
}

/// A key that expires within a year is used with a warning; an expired one is refused.
#[test]
fn expiring_keys_are_warned_about_and_expired_ones_refused() {
    let home = GpgHome::new();
    let uid = "soon <e1@cts.invalid>";
    home.gpg(&format!("--passphrase '' --quick-gen-key '{uid}' ed25519 sign 100d"));
    let fpr = home.fingerprints(uid)[0].clone();
    let (run, report) = init_and_publish_with(&home.export(&fpr, ""), &[]);
    assert!(report.unwrap().contains("Good signature"));
    let warning = run.stderr();
    let warning = warning.lines().find(|l| l.contains("warning:")).unwrap_or_default();
    assert!(warning.contains("the primary key expires on "), "{}", run.stderr());
    assert!(warning.contains(&format!("gpg --quick-set-expire {fpr} 2y`")), "{warning}");
    eprintln!("{warning}");

    // Made in 2020 to last a year.
    let uid = "old <e2@cts.invalid>";
    home.gpg(&format!(
        "--passphrase '' --faked-system-time 20200101T000000 --quick-gen-key '{uid}' ed25519 \
         sign 1y"
    ));
    let fpr = home.fingerprints(uid)[0].clone();
    let (run, _) = init_and_publish_with(&home.export(&fpr, ""), &[]);
    let line = run.fails(3, &["the primary key expired on 2020-12-31", "--quick-set-expire"]);
    eprintln!("{line}");
}

#[test]
fn keep_last_retains_the_highest_versions_and_gc_honours_the_grace_period() {
    let (repo, _) = Repo::new();
    let d = repo.debs();
    let versions = ["1.0-1", "1.0-2", "1.1~rc1-1", "1.1-1"];
    for v in versions {
        let deb = mkdeb(&d, "cts-server", v, "amd64", "a");
        repo.publish(&[&deb], &["--keep-last", "2"]).success();
    }
    let seen = verify(&repo.root(), true);
    assert_eq!(
        seen["amd64"],
        BTreeSet::from([pv("cts-server", "1.1~rc1-1"), pv("cts-server", "1.1-1")])
    );
    let pool = repo.root().join("pool/main/c/cts-server");
    // Dropped from the index but still in the pool during the grace period.
    assert!(pool.join("cts-server_1.0-1_amd64.deb").exists());
    let kept = repo.gc("24h");
    assert_eq!(kept.success(), "", "nothing removed within the grace period");
    assert!(pool.join("cts-server_1.0-1_amd64.deb").exists());
    let by_hash_before = tree(&repo.root().join("dists")).len();

    let removed = repo.gc("0s").success();
    assert!(removed.contains("pool/main/c/cts-server/cts-server_1.0-1_amd64.deb"), "{removed}");
    assert!(removed.contains("pool/main/c/cts-server/cts-server_1.0-2_amd64.deb"), "{removed}");
    assert!(removed.contains("/by-hash/SHA256/"), "{removed}");
    assert!(!pool.join("cts-server_1.0-1_amd64.deb").exists());
    assert!(tree(&repo.root().join("dists")).len() < by_hash_before);
    verify(&repo.root(), true);
    repo.assert_no_temp_leftovers();
}

#[test]
fn keep_last_drops_a_dependencies_package_only_when_no_kept_version_depends_on_it() {
    let (repo, _) = Repo::new();
    let d = repo.debs();
    // each dependencies package built once: publishing it again must be the same bytes
    let (aaa, bbb) = (
        mkdeb(&d, "cts-server-pydeps-aaaaaaaaaaaa", "1", "all", "a"),
        mkdeb(&d, "cts-server-pydeps-bbbbbbbbbbbb", "1", "all", "a"),
    );
    let deps = |key: &str| if key == "aaaaaaaaaaaa" { aaa.clone() } else { bbb.clone() };
    let common = |v: &str, key: &str| {
        let root = d.join(format!("src-common-{v}"));
        std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
        let control = format!(
            "Package: cts-server\nVersion: {v}\nArchitecture: all\n\
             Maintainer: CTS tests <tests@cts.invalid>\n\
             Depends: nginx, cts-server-pydeps-{key} (= 1)\n\
             Description: test package\n A test package.\n"
        );
        std::fs::write(root.join("DEBIAN/control"), control).unwrap();
        let out = d.join(format!("cts-server_{v}_all.deb"));
        crate::sh(&format!(
            "dpkg-deb --root-owner-group --build {} {} >/dev/null",
            root.display(),
            out.display()
        ));
        out
    };
    // 1.0-1 and 1.0-2 share dependencies aaa; 1.0-3 brings bbb.
    for (v, key) in
        [("1.0-1", "aaaaaaaaaaaa"), ("1.0-2", "aaaaaaaaaaaa"), ("1.0-3", "bbbbbbbbbbbb")]
    {
        repo.publish(&[&common(v, key), &deps(key)], &["--keep-last", "2"]).success();
    }
    let seen = verify(&repo.root(), true);
    assert!(
        seen["amd64"].contains(&pv("cts-server-pydeps-aaaaaaaaaaaa", "1")),
        "1.0-2 still needs aaa"
    );
    assert!(seen["amd64"].contains(&pv("cts-server-pydeps-bbbbbbbbbbbb", "1")), "{seen:?}");
    // 1.0-4 on bbb too: 1.0-2 leaves, and nothing kept depends on aaa any more.
    repo.publish(&[&common("1.0-4", "bbbbbbbbbbbb"), &deps("bbbbbbbbbbbb")], &["--keep-last", "2"])
        .success();
    let seen = verify(&repo.root(), true);
    assert!(!seen["amd64"].contains(&pv("cts-server-pydeps-aaaaaaaaaaaa", "1")), "{seen:?}");
    assert!(seen["amd64"].contains(&pv("cts-server-pydeps-bbbbbbbbbbbb", "1")), "{seen:?}");
    let removed = repo.gc("0s").success();
    assert!(removed.contains("cts-server-pydeps-aaaaaaaaaaaa_1_all.deb"), "{removed}");
    assert!(!removed.contains("cts-server-pydeps-bbbbbbbbbbbb"), "{removed}");
}

#[test]
fn two_concurrent_publishers_both_land() {
    let (repo, _) = Repo::new();
    let d = repo.debs();
    for round in 0..3 {
        let a = mkdeb(&d, "cts-server", &format!("1.{round}"), "amd64", "a");
        let b = mkdeb(&d, "cts-worker", &format!("2.{round}"), "all", "a");
        let spawn = |deb: &Path| {
            Command::new(assert_cmd::cargo::cargo_bin("cts-deb"))
                .args(["publish", "--suite", SUITE, "--repo"])
                .arg(repo.root())
                .arg("--key")
                .arg(repo.key())
                .arg(deb)
                .env("TMPDIR", repo.tmpdir())
                .output()
        };
        let (ra, rb) = std::thread::scope(|s| {
            let ha = s.spawn(|| spawn(&a).unwrap());
            let hb = s.spawn(|| spawn(&b).unwrap());
            (ha.join().unwrap(), hb.join().unwrap())
        });
        for r in [&ra, &rb] {
            assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        }
        let seen = verify(&repo.root(), true);
        assert!(seen["amd64"].contains(&pv("cts-server", &format!("1.{round}"))), "{seen:?}");
        assert!(seen["amd64"].contains(&pv("cts-worker", &format!("2.{round}"))), "{seen:?}");
        assert!(seen["arm64"].contains(&pv("cts-worker", &format!("2.{round}"))), "{seen:?}");
    }
    repo.assert_no_temp_leftovers();
}

/// Kill points in publish order (see the `repo` module documentation).
const STEPS: &[&str] = &[
    "checked",
    "pool",
    "by-hash",
    "signed",
    "db",
    "index-first",
    "indices",
    "release",
    "release-gpg",
    "inrelease",
];

#[test]
fn a_publish_killed_at_any_step_leaves_a_valid_repository() {
    for step in STEPS {
        let (repo, _) = Repo::new();
        let d = repo.debs();
        let first = mkdeb(&d, "cts-server", "1.0", "amd64", "a");
        let second = mkdeb(&d, "cts-server", "1.1", "amd64", "a");
        let lib = mkdeb(&d, "libcts", "1.0", "all", "a");
        repo.publish(&[&first], &[]).success();
        let killed = repo
            .cmd()
            .args(["publish", "--suite", SUITE])
            .arg_path("--repo", &repo.root())
            .arg_path("--key", &repo.key())
            .args([&second])
            .args([&lib])
            .env("CTS_DEB_FAULT", format!("after:{step}"))
            .run();
        assert_eq!(killed.code(), 86, "killed after {step}: {}", killed.stderr());
        repo.assert_no_temp_leftovers();
        // What apt sees right after the kill: everything InRelease names exists with its hash,
        // and so does every pool file the indices name.
        let seen = verify(&repo.root(), false);
        assert!(seen["amd64"].contains(&pv("cts-server", "1.0")), "after {step}: {seen:?}");
        // The next publish (of the same files) completes the repository.
        repo.publish(&[&second, &lib], &[]).success();
        let seen = verify(&repo.root(), true);
        for p in [pv("cts-server", "1.0"), pv("cts-server", "1.1"), pv("libcts", "1.0")] {
            assert!(seen["amd64"].contains(&p), "after {step}: {seen:?}");
        }
        assert!(seen["arm64"].contains(&pv("libcts", "1.0")), "after {step}");
        // And gc afterwards keeps it valid.
        repo.gc("0s").success();
        verify(&repo.root(), true);
        repo.assert_no_temp_leftovers();
    }
}

/// A .deb whose `control` file is `fields` after the usual Package, Version, Architecture and
/// Maintainer, built by `dpkg-deb --nocheck --build`, which packs the control file without
/// parsing it, as a tool that writes its own control file would.
fn mkdeb_with_control(dir: &Path, file: &str, fields: &str) -> PathBuf {
    let root = dir.join(format!("src-{file}"));
    std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(root.join("usr/share/doc/cts-extra")).unwrap();
    std::fs::write(root.join("usr/share/doc/cts-extra/file"), file).unwrap();
    let control = format!(
        "Package: cts-extra\nVersion: 1.0\nArchitecture: amd64\n\
         Maintainer: CTS tests <tests@cts.invalid>\n{fields}Description: test package\n A test.\n"
    );
    std::fs::write(root.join("DEBIAN/control"), control).unwrap();
    let out = dir.join(file);
    let status = Command::new("dpkg-deb")
        .args(["--nocheck", "--root-owner-group", "--build"])
        .arg(&root)
        .arg(&out)
        .output()
        .expect("dpkg-deb runs");
    assert!(status.status.success(), "dpkg-deb: {}", String::from_utf8_lossy(&status.stderr));
    out
}

#[test]
fn control_paragraphs_apt_cannot_parse_are_refused_and_nothing_changes() {
    let (repo, _) = Repo::new();
    let d = repo.debs();
    let good = mkdeb(&d, "cts-server", "1.0-1", "amd64", "a");
    repo.publish(&[&good], &[]).success();
    let before = tree(&repo.root());
    for (file, fields, why) in [
        (
            "junk.deb",
            "Depends: memcached junk\n",
            "control file: field `Depends`: invalid relation `memcached junk`: `junk` after \
             `memcached`",
        ),
        (
            "open.deb",
            "Pre-Depends: dpkg,\n memcached (>> 1\n",
            "field `Pre-Depends`: invalid relation `memcached (>> 1`: `(>> 1` lacks its `)`",
        ),
        ("gt.deb", "Recommends: foo (> 1)\n", "field `Recommends`: invalid relation `foo (> 1)`"),
        ("noversion.deb", "Suggests: foo (=)\n", "`(=)`: no version after `=`"),
        ("trailing.deb", "Depends: a,\n b,\n", "field `Depends`: invalid relation ``: empty"),
        ("alt.deb", "Conflicts: a | b\n", "field `Conflicts`: invalid relation `a | b`"),
        ("provides.deb", "Provides: foo (>= 1)\n", "only `=` is allowed in this field"),
        ("breaks.deb", "Breaks: Foo\n", "`Foo` is not a package name"),
        ("replaces.deb", "Replaces: foo (>= 1.0 2)\n", "embedded spaces"),
        ("twice.deb", "Depends: a\nDepends: b\n", "line 6: field `Depends` appears twice"),
        ("noname.deb", ": value\n", "line 5: invalid field name ``"),
        ("dash.deb", "-Depends: a\n", "line 5: invalid field name `-Depends`"),
        (
            "neither.deb",
            "Depends: a\njunk line\n",
            "line 6 is neither `Field: value` nor a continuation: `junk line`",
        ),
    ] {
        let bad = mkdeb_with_control(&d, file, fields);
        // Also behind a valid package on the command line: nothing at all is written.
        let other = mkdeb(&d, "cts-other", "1.0", "amd64", file);
        let line = repo.publish(&[&other, &bad], &[]).fails(3, &[file, "is not a valid .deb", why]);
        assert_eq!(repo.publish(&[&bad], &[]).stderr().lines().count(), 1);
        eprintln!("{line}");
        assert_eq!(tree(&repo.root()), before, "repository changed by {file}");
    }
    repo.assert_no_temp_leftovers();
    // What apt does parse goes through as written.
    let fine = mkdeb_with_control(
        &d,
        "fine.deb",
        "Depends: a | b (>= 1.0),\n libc6:amd64, python3:any (>= 3.11~)\nProvides: c (= 1.0)\n",
    );
    repo.publish(&[&fine], &[]).success();
    let packages = std::fs::read_to_string(
        repo.root().join("dists").join(SUITE).join("main/binary-amd64/Packages"),
    )
    .unwrap();
    assert!(
        packages.contains("Depends: a | b (>= 1.0),\n libc6:amd64, python3:any (>= 3.11~)\n"),
        "{packages}"
    );
    verify(&repo.root(), true);
}
