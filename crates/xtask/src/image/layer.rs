//! A deterministic tar (+ gzip) of entries: fixed order, mtime, owners and modes, no user or
//! group names, gzip without a timestamp or file name, so the same entries give the same bytes.

use std::io::Write;

use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};

use super::Result;
use super::rootfs::Entry;

/// One image layer: the tar (whose digest is the config's `diff_id`) and its gzip (the blob).
pub struct Layer {
    /// The uncompressed tar.
    pub tar: Vec<u8>,
    /// The gzip-compressed tar.
    pub gzip: Vec<u8>,
}

impl Layer {
    /// Packs `entries` (in their order) with every mtime set to `mtime`.
    pub fn pack(entries: &[Entry], mtime: u64) -> Result<Self> {
        let tar = tar_of(entries, mtime)?;
        let gzip = gzip(&tar)?;
        Ok(Self { tar, gzip })
    }
}

/// A tar archive of `entries`, in order, every header fixed but for path, size, mode and owner.
pub fn tar_of(entries: &[Entry], mtime: u64) -> Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_ustar();
        header.set_mtime(mtime);
        header.set_mode(entry.mode);
        header.set_uid(entry.owner);
        header.set_gid(entry.owner);
        let (path, data): (String, &[u8]) = match &entry.data {
            Some(data) => {
                header.set_entry_type(tar::EntryType::Regular);
                (entry.path.clone(), data)
            }
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                (format!("{}/", entry.path), &[])
            }
        };
        header.set_size(data.len() as u64);
        builder
            .append_data(&mut header, &path, data)
            .map_err(|e| format!("cannot add {path} to the tar: {e}"))?;
    }
    builder
        .into_inner()
        .map_err(|e| format!("cannot finish the tar: {e}"))
}

/// gzip at the best level, header without mtime or name (flate2's defaults: mtime 0, OS unknown).
fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::best());
    encoder.write_all(bytes).map_err(|e| format!("gzip: {e}"))?;
    encoder.finish().map_err(|e| format!("gzip: {e}"))
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries() -> Vec<Entry> {
        vec![
            Entry {
                path: "etc".into(),
                data: None,
                mode: 0o755,
                owner: 0,
            },
            Entry {
                path: "etc/passwd".into(),
                data: Some(b"root\n".to_vec()),
                mode: 0o644,
                owner: 0,
            },
            Entry {
                path: "home".into(),
                data: None,
                mode: 0o700,
                owner: 65532,
            },
        ]
    }

    #[test]
    fn the_same_entries_give_the_same_bytes() {
        let (a, b) = (
            Layer::pack(&entries(), 1).unwrap(),
            Layer::pack(&entries(), 1).unwrap(),
        );
        assert_eq!(sha256_hex(&a.gzip), sha256_hex(&b.gzip));
        assert_ne!(
            sha256_hex(&a.tar),
            sha256_hex(&Layer::pack(&entries(), 2).unwrap().tar)
        );
    }

    #[test]
    fn headers_carry_the_given_mode_owner_and_mtime_and_no_names() {
        let tar = tar_of(&entries(), 1_700_000_000).unwrap();
        let mut archive = tar::Archive::new(tar.as_slice());
        let seen: Vec<(String, u32, u64, u64, bool)> = archive
            .entries()
            .unwrap()
            .map(|entry| {
                let header = entry.unwrap().header().clone();
                assert_eq!(header.username().unwrap(), Some(""));
                (
                    header.path().unwrap().display().to_string(),
                    header.mode().unwrap(),
                    header.uid().unwrap(),
                    header.mtime().unwrap(),
                    header.entry_type().is_dir(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("etc/".into(), 0o755, 0, 1_700_000_000, true),
                ("etc/passwd".into(), 0o644, 0, 1_700_000_000, false),
                ("home/".into(), 0o700, 65532, 1_700_000_000, true),
            ]
        );
    }

    #[test]
    fn sha256_of_the_empty_input_is_the_well_known_one() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
