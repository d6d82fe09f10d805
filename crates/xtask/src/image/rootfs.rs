//! What the operator image holds, distroless-style: the binary, the shared libraries it loads
//! (as `ldd` finds them on the build host), CA certificates, a passwd/group with the `nonroot`
//! user (UID 65532), writable `/tmp`, and the Debian package records and copyright files of what
//! was copied (so SBOM scanners see the packages). No shell and no other program.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Result, host};

/// The unprivileged user the image runs as (distroless's `nonroot`).
pub const NONROOT_UID: u64 = 65532;
/// Where the binary lives in the image.
pub const BINARY_PATH: &str = "usr/local/bin/smbp-operator";
/// The CA bundle (Debian's path; `SSL_CERT_FILE` points at it).
pub const CA_BUNDLE: &str = "etc/ssl/certs/ca-certificates.crt";

/// One file-system object of the image, by its path without the leading `/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the image, e.g. `etc/passwd`.
    pub path: String,
    /// File contents, or `None` for a directory.
    pub data: Option<Vec<u8>>,
    /// Permission bits, e.g. `0o755`.
    pub mode: u32,
    /// Owner (user and group).
    pub owner: u64,
}

impl Entry {
    fn file(path: &str, data: Vec<u8>, mode: u32) -> Self {
        Self {
            path: path.into(),
            data: Some(data),
            mode,
            owner: 0,
        }
    }

    fn dir(path: &str, mode: u32, owner: u64) -> Self {
        Self {
            path: path.into(),
            data: None,
            mode,
            owner,
        }
    }
}

/// Every entry of the operator image, sorted by path, parents before children.
pub fn operator_rootfs(binary: &Path) -> Result<Vec<Entry>> {
    let mut entries = BTreeMap::new();
    let mut add = |entry: Entry| {
        entries.insert(entry.path.clone(), entry);
    };
    add(Entry::file(BINARY_PATH, host::read(binary)?, 0o755));
    add(Entry::file("etc/passwd", PASSWD.into(), 0o644));
    add(Entry::file("etc/group", GROUP.into(), 0o644));
    add(Entry::file("etc/nsswitch.conf", NSSWITCH.into(), 0o644));
    add(Entry::file(
        CA_BUNDLE,
        host::read(Path::new("/").join(CA_BUNDLE).as_path())?,
        0o644,
    ));
    add(Entry::dir("tmp", 0o1777, 0));
    add(Entry::dir("home/nonroot", 0o700, NONROOT_UID));
    let libraries = shared_libraries(binary)?;
    for library in &libraries {
        let mode = if library.contains("ld-linux") {
            0o755
        } else {
            0o644
        };
        add(Entry::file(
            library.trim_start_matches('/'),
            host::read(Path::new(library))?,
            mode,
        ));
    }
    for entry in package_records(&libraries)? {
        add(entry);
    }
    Ok(with_parent_dirs(entries))
}

/// Adds the missing parent directories (root-owned, 0755) and returns all entries in path order.
fn with_parent_dirs(mut entries: BTreeMap<String, Entry>) -> Vec<Entry> {
    let parents: Vec<String> = entries
        .keys()
        .flat_map(|path| {
            let parts: Vec<&str> = path.split('/').collect();
            (1..parts.len()).map(move |n| parts[..n].join("/"))
        })
        .collect();
    for parent in parents {
        entries
            .entry(parent.clone())
            .or_insert_with(|| Entry::dir(&parent, 0o755, 0));
    }
    entries.into_values().collect()
}

/// The absolute paths of the shared libraries and the loader `binary` needs (none when static).
fn shared_libraries(binary: &Path) -> Result<Vec<String>> {
    let binary = binary.to_str().ok_or("the binary's path is not UTF-8")?;
    let listing = match host::output(Path::new("/"), "ldd", &[binary]) {
        Ok(listing) => listing,
        Err(error) if error.contains("not a dynamic executable") => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    Ok(parse_ldd(&listing))
}

/// The absolute paths in `ldd` output (`libc.so.6 => /lib/…/libc.so.6 (0x…)`, `/lib64/ld-… (0x…)`).
fn parse_ldd(listing: &str) -> Vec<String> {
    let mut paths: Vec<String> = listing
        .lines()
        .filter_map(|line| line.split_whitespace().find(|word| word.starts_with('/')))
        .map(str::to_string)
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// For each Debian package a library came from (and ca-certificates): its dpkg record under
/// `var/lib/dpkg/status.d/` (as distroless images carry them) and its copyright file.
fn package_records(libraries: &[String]) -> Result<Vec<Entry>> {
    if host::output(Path::new("/"), "dpkg-query", &["--version"]).is_err() {
        eprintln!("warning: no dpkg-query on this host: the image will carry no package records");
        return Ok(Vec::new());
    }
    let mut packages = vec!["ca-certificates".to_string()];
    for library in libraries {
        packages.push(owning_package(library)?);
    }
    packages.sort();
    packages.dedup();
    let mut entries = Vec::new();
    for package in packages {
        let record = host::output(Path::new("/"), "dpkg-query", &["--status", &package])?;
        let name = package.split(':').next().unwrap_or(&package).to_string();
        entries.push(Entry::file(
            &format!("var/lib/dpkg/status.d/{name}"),
            record.into(),
            0o644,
        ));
        let copyright = format!("usr/share/doc/{name}/copyright");
        if let Ok(text) = std::fs::read(Path::new("/").join(&copyright)) {
            entries.push(Entry::file(&copyright, text, 0o644));
        }
    }
    Ok(entries)
}

/// `libc6:amd64` for `/lib/x86_64-linux-gnu/libc.so.6`, from `dpkg-query --search`.
fn owning_package(path: &str) -> Result<String> {
    let answer = host::output(Path::new("/"), "dpkg-query", &["--search", path])?;
    answer
        .split(": ")
        .next()
        .map(str::to_string)
        .ok_or_else(|| format!("dpkg-query names no package for {path}"))
}

const PASSWD: &str = "root:x:0:0:root:/root:/sbin/nologin\n\
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n\
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n";
const GROUP: &str = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n";
const NSSWITCH: &str = "passwd: files\ngroup: files\nhosts: files dns\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_output_gives_the_library_and_loader_paths_sorted() {
        let listing = "\tlinux-vdso.so.1 (0x00007ffd)\n\
            \tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007f1)\n\
            \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2)\n\
            \t/lib64/ld-linux-x86-64.so.2 (0x00007f3)\n";
        assert_eq!(
            parse_ldd(listing),
            [
                "/lib/x86_64-linux-gnu/libc.so.6",
                "/lib/x86_64-linux-gnu/libgcc_s.so.1",
                "/lib64/ld-linux-x86-64.so.2"
            ]
        );
    }

    #[test]
    fn parents_are_added_once_before_their_children() {
        let mut entries = BTreeMap::new();
        for path in ["usr/local/bin/a", "usr/local/lib/b"] {
            entries.insert(path.to_string(), Entry::file(path, vec![], 0o644));
        }
        let paths: Vec<String> = with_parent_dirs(entries)
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(
            paths,
            [
                "usr",
                "usr/local",
                "usr/local/bin",
                "usr/local/bin/a",
                "usr/local/lib",
                "usr/local/lib/b"
            ]
        );
    }

    #[test]
    fn the_nonroot_user_has_no_login_shell() {
        let nonroot = PASSWD.lines().find(|l| l.starts_with("nonroot:")).unwrap();
        assert!(nonroot.starts_with("nonroot:x:65532:65532:"));
        assert!(PASSWD.lines().all(|l| l.ends_with("/sbin/nologin")));
    }
}
