//! End-to-end tests of the writer and reader: round trips through our own reader, and, when
//! `dpkg-deb` is installed, through dpkg-deb itself (including byte-for-byte equality with a
//! package dpkg-deb builds from the same staged tree).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;
use crate::fsx;
use crate::plan::{ControlMember, Entry, EntryKind, FileSource, PackagePlan};
use crate::report::Silent;

const MTIME: u64 = 1_700_000_000;
const DPKG_DEB: &str = "/usr/bin/dpkg-deb";

fn dir(path: &str) -> Entry {
    Entry { path: path.into(), mode: 0o755, kind: EntryKind::Dir }
}

fn bytes(path: &str, contents: &[u8]) -> Entry {
    Entry {
        path: path.into(),
        mode: 0o644,
        kind: EntryKind::File {
            source: FileSource::Bytes(contents.to_vec()),
            size: contents.len() as u64,
        },
    }
}

fn disk(path: &str, src: &Path, mode: u32) -> Entry {
    let size = fsx::metadata(src).unwrap().len();
    Entry {
        path: path.into(),
        mode,
        kind: EntryKind::File { source: FileSource::Disk(src.to_path_buf()), size },
    }
}

fn long_dir() -> String {
    format!("usr/share/cts-server/{}", "d".repeat(90))
}

/// A small plan with every entry kind, a conffile, scripts and names longer than 100 bytes.
fn sample_plan(src_dir: &Path) -> PackagePlan {
    let big = src_dir.join("big.bin");
    let mut content = Vec::new();
    let mut x: u64 = 7;
    while content.len() < 300_000 {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        content.extend_from_slice(format!("{:x} {}\n", x >> 40, x % 97).as_bytes());
    }
    fsx::write(&big, &content).unwrap();
    let tool = src_dir.join("tool");
    fsx::write(&tool, b"#!/bin/sh\necho hi\n").unwrap();
    let long = long_dir();
    let mut entries = vec![
        dir("etc"),
        dir("etc/cts-server"),
        bytes("etc/cts-server/cts.conf", b"key = 1\n"),
        dir("usr"),
        dir("usr/bin"),
        disk("usr/bin/cts-tool", &tool, 0o755),
        dir("usr/share"),
        dir("usr/share/cts-server"),
        disk("usr/share/cts-server/big.bin", &big, 0o644),
        Entry {
            path: "usr/share/cts-server/current".into(),
            mode: 0o777,
            kind: EntryKind::Symlink { target: "big.bin".into() },
        },
        dir(&long),
        bytes(&format!("{long}/{}", "f".repeat(40)), b"long\n"),
        bytes("usr/share/cts-server/empty", b""),
    ];
    entries.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    let control = [
        ("Package", "cts-server"),
        ("Version", "1:2.3-1"),
        ("Architecture", "all"),
        ("Maintainer", "CTS operations <ops@cts.invalid>"),
        ("Installed-Size", "310"),
        ("Section", "admin"),
        ("Priority", "optional"),
        ("Description", "CTS server\n The CTS application.\n .\n Second paragraph."),
    ];
    PackagePlan {
        control: control.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        entries,
        conffiles: vec![
            "/etc/cts-server/cts.conf".into(),
            "remove-on-upgrade /etc/cts-server/old.conf".into(),
        ],
        control_members: vec![
            ControlMember {
                name: "postinst".into(),
                mode: 0o755,
                contents: b"#!/bin/sh\nset -e\nexit 0\n".to_vec(),
            },
            ControlMember {
                name: "triggers".into(),
                mode: 0o644,
                contents: b"interest-noawait /usr/bin/python3\n".to_vec(),
            },
        ],
        mtime: MTIME,
        file_name: "cts-server_2.3-1_all.deb".into(),
    }
}

fn small_xz(threads: u32) -> WriteOptions {
    WriteOptions { xz: XzOptions { block_size: 1 << 20, threads, ..XzOptions::default() } }
}

fn dir_listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn round_trip_through_our_reader() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = sample_plan(tmp.path());
    let out = tmp.path().join("out");
    fsx::create_dir_all(&out).unwrap();
    let deb = write_deb(&plan, &out, &Silent).unwrap();
    assert_eq!(deb, out.join("cts-server_2.3-1_all.deb"));
    assert_eq!(dir_listing(&out), ["cts-server_2.3-1_all.deb"], "no temporary files left");

    let info = read_deb(&deb).unwrap();
    let names: Vec<_> = info.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["debian-binary", "control.tar.xz", "data.tar.xz"]);
    assert!(info.members.iter().all(|m| m.mtime == MTIME && m.mode == 0o100644));
    let control: Vec<_> = info.control.iter().map(|f| (f.name.clone(), f.value.clone())).collect();
    assert_eq!(control, plan.control);
    assert_eq!(info.conffiles, plan.conffiles);
    let members: Vec<_> = info.control_members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(members, ["conffiles", "control", "md5sums", "postinst", "triggers"]);
    assert_eq!(info.scripts[0].name, "postinst");
    assert_eq!(info.scripts[0].mode, 0o755);
    assert_eq!(info.scripts[0].contents, "#!/bin/sh\nset -e\nexit 0\n");

    let paths: Vec<_> = info.data.iter().map(|e| e.path.clone()).collect();
    let mut want = vec!["./".to_string()];
    for e in &plan.entries {
        let slash = if matches!(e.kind, EntryKind::Dir) { "/" } else { "" };
        want.push(format!("./{}{slash}", e.path));
    }
    assert_eq!(paths, want);
    assert!(info.data.iter().all(|e| e.uname == "root" && e.gname == "root" && e.uid == 0));
    assert!(info.data.iter().all(|e| e.mtime == MTIME));
    let link = info.data.iter().find(|e| e.kind == DataKind::Symlink).unwrap();
    assert_eq!(link.link_target.as_deref(), Some("big.bin"));

    // md5sums: every regular file but the conffile, archive order, no `./`.
    let md5_paths: Vec<_> = info.md5sums.iter().map(|l| l.path.as_str()).collect();
    let long_file = format!("{}/{}", long_dir(), "f".repeat(40));
    assert_eq!(
        md5_paths,
        [
            "usr/bin/cts-tool",
            "usr/share/cts-server/big.bin",
            long_file.as_str(),
            "usr/share/cts-server/empty",
        ]
    );
    assert_eq!(info.md5sums[3].md5, "d41d8cd98f00b204e9800998ecf8427e");
    let text = info.to_text();
    assert!(text.contains(" Package: cts-server\n"), "{text}");
    assert!(text.contains("\n  .\n  Second paragraph.\n"), "{text}");
    assert!(text.contains("lrwxrwxrwx root/root         0 2023-11-14 22:13 ./usr/share/cts-server/current -> big.bin"), "{text}");
    let json = serde_json::to_value(&info).unwrap();
    assert_eq!(json["data"][0]["kind"], "dir");
}

#[test]
fn same_plan_gives_same_bytes_whatever_the_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let mut plan = sample_plan(tmp.path());
    // Enough payload for several 1 MiB xz blocks.
    let filler: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8 ^ (i >> 13) as u8).collect();
    plan.entries.push(bytes("usr/share/zz-filler", &filler));
    let mut hashes = Vec::new();
    for (i, threads) in [1, 2, 2, 4].into_iter().enumerate() {
        let out = tmp.path().join(format!("out{i}"));
        fsx::create_dir_all(&out).unwrap();
        let deb = write_deb_with(&plan, &out, &small_xz(threads), &Silent).unwrap();
        hashes.push(fsx::read(&deb).unwrap());
    }
    assert!(hashes.windows(2).all(|w| w[0] == w[1]), "builds differ");
    assert!(hashes[0].len() > 1000);
}

#[test]
fn failures_leave_nothing_behind_and_keep_the_old_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    fsx::create_dir_all(&out).unwrap();
    let mut plan = sample_plan(tmp.path());
    let target = out.join(&plan.file_name);
    fsx::write(&target, b"previous build").unwrap();

    // A source file that vanished: the error names it.
    let gone = tmp.path().join("gone.txt");
    plan.entries.push(Entry {
        path: "usr/share/zz".into(),
        mode: 0o644,
        kind: EntryKind::File { source: FileSource::Disk(gone.clone()), size: 3 },
    });
    let err = write_deb(&plan, &out, &Silent).unwrap_err();
    assert!(err.to_string().contains(&gone.display().to_string()), "{err}");
    assert!(!err.is_invalid_input());
    assert_eq!(dir_listing(&out), [plan.file_name.clone()]);
    assert_eq!(fsx::read(&target).unwrap(), b"previous build");

    // A source file whose size differs from the plan.
    fsx::write(&gone, b"four").unwrap();
    let err = write_deb(&plan, &out, &Silent).unwrap_err();
    assert!(
        matches!(&err, DebError::SizeChanged { path, planned: 3, actual: 4, .. } if *path == gone),
        "{err}"
    );
    assert_eq!(dir_listing(&out), [plan.file_name.clone()]);
    assert_eq!(fsx::read(&target).unwrap(), b"previous build");
}

#[test]
fn plan_mistakes_are_refused_before_writing() {
    let tmp = tempfile::tempdir().unwrap();
    let base = sample_plan(tmp.path());
    let check = |plan: PackagePlan, needle: &str| {
        let err = write_deb(&plan, tmp.path(), &Silent).unwrap_err();
        assert!(err.is_invalid_input(), "{err}");
        assert!(err.to_string().contains(needle), "{err} lacks {needle}");
    };
    let mut unsorted = base.clone();
    unsorted.entries.push(dir("etc"));
    check(unsorted, "out of order");
    let mut orphan = base.clone();
    orphan.entries.retain(|e| e.path != "usr/bin");
    check(orphan, "`usr/bin/cts-tool` has no entry for its parent");
    let mut conffile = base.clone();
    conffile.conffiles.push("/etc/missing".into());
    check(conffile, "`/etc/missing` does not appear");
    let mut relative = base.clone();
    relative.conffiles = vec!["etc/cts-server/cts.conf".into()];
    check(relative, "not an absolute path");
    let mut flagged = base.clone();
    flagged.conffiles.push("remove-on-upgrade /etc/cts-server/cts.conf".into());
    check(flagged, "flagged remove-on-upgrade");
    let mut dotted = base.clone();
    dotted.entries.insert(0, dir("./etc"));
    check(dotted, "`./etc`");
    let mut zero = base;
    zero.mtime = 0;
    check(zero, "mtime");
    assert!(dir_listing(tmp.path()).iter().all(|n| !n.starts_with(".cts-deb-")));
}

#[test]
fn dpkg_deb_reads_what_we_write() {
    if !Path::new(DPKG_DEB).exists() && crate::testing::skip_without(DPKG_DEB) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let plan = sample_plan(tmp.path());
    let deb = write_deb(&plan, tmp.path(), &Silent).unwrap();

    let info = run(Command::new(DPKG_DEB).arg("--info").arg(&deb));
    assert!(info.contains(" Package: cts-server\n"), "{info}");
    assert!(info.contains("  Second paragraph.\n"), "{info}");
    assert!(info.contains("postinst"), "{info}");

    let contents = run(Command::new(DPKG_DEB).arg("--contents").arg(&deb));
    let long_file = format!("./{}/{}", long_dir(), "f".repeat(40));
    assert!(contents.contains(&long_file), "{contents}");
    assert!(contents.contains("./usr/share/cts-server/current -> big.bin"), "{contents}");
    assert!(contents.lines().all(|l| l.contains(" root/root ")), "{contents}");

    let ctrl = run(Command::new("sh")
        .arg("-c")
        .arg(format!("{DPKG_DEB} --ctrl-tarfile '{}' | tar -t", deb.display())));
    assert_eq!(ctrl, "./\n./conffiles\n./control\n./md5sums\n./postinst\n./triggers\n");
    let fsys = run(Command::new("sh")
        .arg("-c")
        .arg(format!("{DPKG_DEB} --fsys-tarfile '{}' | tar -t", deb.display())));
    assert!(fsys.starts_with("./\n./etc/\n./etc/cts-server/\n"), "{fsys}");

    let root = tmp.path().join("x");
    run(Command::new(DPKG_DEB).arg("-x").arg(&deb).arg(&root));
    let control = root.join("DEBIAN");
    run(Command::new(DPKG_DEB).arg("-e").arg(&deb).arg(&control));
    let check =
        run(Command::new("md5sum").arg("-c").arg(control.join("md5sums")).current_dir(&root));
    assert_eq!(check.lines().count(), 4, "{check}");
    assert!(check.lines().all(|l| l.ends_with(": OK")), "{check}");
    // dpkg-deb accepts the unpacked tree back.
    run(Command::new(DPKG_DEB)
        .args(["--root-owner-group", "--build"])
        .arg(&root)
        .arg(tmp.path().join("rebuilt.deb")));
}

/// A staged tree without symlinks (dpkg-deb moves those to the end of data.tar).
fn staged_tree(root: &Path) -> PathBuf {
    let stage = root.join("stage");
    let files: [(&str, &[u8]); 5] = [
        ("etc/cts-server/cts.conf", b"key = 1\n"),
        ("usr/bin/cts-tool", b"#!/bin/sh\necho hi\n"),
        ("usr/share/cts-server/a.py", b"print('a')\n"),
        ("usr/share/cts-server/b/c.txt", b"c\n"),
        ("usr/share/cts-server/empty", b""),
    ];
    for (path, contents) in files {
        let p = stage.join(path);
        fsx::create_dir_all(p.parent().unwrap()).unwrap();
        fsx::write(&p, contents).unwrap();
    }
    let long = stage.join(long_dir()).join("f".repeat(40));
    fsx::create_dir_all(long.parent().unwrap()).unwrap();
    fsx::write(&long, b"long\n").unwrap();
    fsx::create_dir_all(&stage.join("DEBIAN")).unwrap();
    fsx::write(
        &stage.join("DEBIAN/control"),
        "Package: cts-server\nVersion: 2.3-1\nArchitecture: all\n\
         Maintainer: CTS operations <ops@cts.invalid>\nInstalled-Size: 42\n\
         Description: CTS server\n The CTS application.\n",
    )
    .unwrap();
    fsx::write(&stage.join("DEBIAN/conffiles"), "/etc/cts-server/cts.conf\n").unwrap();
    fsx::write(&stage.join("DEBIAN/postinst"), "#!/bin/sh\nset -e\n").unwrap();
    run(Command::new("chmod").args(["-R", "u=rwX,go=rX"]).arg(&stage));
    run(Command::new("chmod").arg("755").arg(stage.join("DEBIAN/postinst")));
    run(Command::new("chmod").arg("755").arg(stage.join("usr/bin/cts-tool")));
    stage
}

#[test]
fn same_bytes_as_dpkg_deb_for_the_same_tree() {
    if !Path::new(DPKG_DEB).exists() && crate::testing::skip_without(DPKG_DEB) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let stage = staged_tree(tmp.path());
    // dpkg-deb ships DEBIAN/md5sums as given: write ours first so both packages carry it.
    let plan = staged::plan_from_staged_dir(&stage, MTIME).unwrap();
    let ours = write_deb(&plan, tmp.path(), &Silent).unwrap();
    let info = read_deb(&ours).unwrap();
    let md5sums: String = info.md5sums.iter().map(|l| format!("{}  {}\n", l.md5, l.path)).collect();
    fsx::write(&stage.join("DEBIAN/md5sums"), md5sums).unwrap();
    run(Command::new("find").arg(&stage).args([
        "-exec",
        "touch",
        "-h",
        "-d",
        &format!("@{MTIME}"),
        "{}",
        "+",
    ]));
    let theirs = tmp.path().join("dpkg.deb");
    run(Command::new(DPKG_DEB)
        .env("SOURCE_DATE_EPOCH", MTIME.to_string())
        .args(["--root-owner-group", "-Zxz", "--build"])
        .arg(&stage)
        .arg(&theirs));
    let tar_of =
        |deb: &Path, what: &str| Command::new(DPKG_DEB).arg(what).arg(deb).output().unwrap().stdout;
    assert!(tar_of(&ours, "--fsys-tarfile") == tar_of(&theirs, "--fsys-tarfile"), "data.tar");
    assert!(tar_of(&ours, "--ctrl-tarfile") == tar_of(&theirs, "--ctrl-tarfile"), "control.tar");
    assert!(fsx::read(&ours).unwrap() == fsx::read(&theirs).unwrap(), "whole .deb");
}
