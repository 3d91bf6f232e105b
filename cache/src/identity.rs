//! Which trace file a cache entry belongs to: its path, size, modification time and the
//! contents of its first and last MiB, hashed into the key a cache file is named and checked by.
//!
//! The kctx version is part of the key too: a newer kctx may import the same file
//! differently, so it never reads an older one's stores.
//!
//! A trace rewritten in place (same path, new contents) changes its size, its mtime or its
//! first or last bytes; each of them alone changes the key, so it is never served from the
//! cache of the trace it replaced.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use trace_model::stable_hash::Fnv64;

/// How much of each end of the file is hashed: enough to tell a rewritten trace from the old
/// one (headers at the start, the last pages at the end) at the cost of two small reads.
const EDGE_BYTES: u64 = 1 << 20;

/// The cache key of the trace file at `path`.
pub fn trace_key(path: &Path) -> std::io::Result<u64> {
    let canonical = std::fs::canonicalize(path)?;
    let mut file = File::open(&canonical)?;
    let meta = file.metadata()?;
    let mut key = Fnv64::default();
    key.write(env!("CARGO_PKG_VERSION").as_bytes());
    key.write(canonical.as_os_str().as_encoded_bytes());
    key.write(&meta.len().to_le_bytes());
    if let Ok(modified) = meta.modified()
        && let Ok(since_epoch) = modified.duration_since(std::time::UNIX_EPOCH)
    {
        key.write(&since_epoch.as_nanos().to_le_bytes());
    }
    let mut edge = Vec::with_capacity(EDGE_BYTES as usize);
    (&mut file).take(EDGE_BYTES).read_to_end(&mut edge)?;
    key.write(&crc32fast::hash(&edge).to_le_bytes());
    if meta.len() > EDGE_BYTES {
        edge.clear();
        file.seek(SeekFrom::Start(meta.len() - EDGE_BYTES))?;
        file.take(EDGE_BYTES).read_to_end(&mut edge)?;
        key.write(&crc32fast::hash(&edge).to_le_bytes());
    }
    Ok(key.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("kctx-identity-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    /// Writes `bytes` and gives the file the modification time `mtime`, so that only the
    /// contents differ.
    fn rewrite(path: &Path, bytes: &[u8], mtime: std::time::SystemTime) {
        std::fs::write(path, bytes).unwrap();
        File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
    }

    #[test]
    fn the_key_follows_the_contents_at_either_end_the_size_and_the_mtime() {
        let path = scratch("trace.dat");
        let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let mut bytes = vec![7u8; 3 << 20];
        rewrite(&path, &bytes, mtime);
        let first = trace_key(&path).unwrap();
        assert_eq!(
            trace_key(&path).unwrap(),
            first,
            "the same file, the same key"
        );
        // Same size and mtime: a byte changed at either end still tells.
        for at in [0, bytes.len() - 1] {
            bytes[at] ^= 1;
            rewrite(&path, &bytes, mtime);
            assert_ne!(trace_key(&path).unwrap(), first, "byte {at} changed");
            bytes[at] ^= 1;
        }
        rewrite(&path, &bytes, mtime);
        assert_eq!(trace_key(&path).unwrap(), first, "the same contents again");
        rewrite(&path, &bytes, mtime + std::time::Duration::from_nanos(1));
        assert_ne!(trace_key(&path).unwrap(), first, "touched");
        bytes.push(0);
        rewrite(&path, &bytes, mtime);
        assert_ne!(trace_key(&path).unwrap(), first, "grown");
        std::fs::remove_file(&path).unwrap();
        assert!(trace_key(&path).is_err());
    }
}
