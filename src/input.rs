//! Reading input files with limits: only regular files, and never more than a stated size, so
//! that a path such as `/dev/zero`, a FIFO or a runaway file cannot hang Surge or exhaust memory.

use std::io::Read;
use std::path::Path;

/// Largest experiment, model or HPA snapshot file read (64 MiB): far beyond any hand-written
/// file, small enough that a wrong path cannot exhaust memory.
pub const MAX_CONFIG_BYTES: u64 = 64 << 20;
/// Largest trace (CSV) file read (256 MiB: about ten million rows).
pub const MAX_TRACE_BYTES: u64 = 256 << 20;
/// Largest `report.json`, `sweep.json` or `timeseries.csv` read back (1 GiB).
pub const MAX_RESULT_BYTES: u64 = 1 << 30;

/// Reads `path` as UTF-8 text if it is a regular file of at most `limit` bytes. The error is an
/// I/O error whose message says what was wrong (callers add the file's name and role).
pub fn read_text(path: &Path, limit: u64) -> std::io::Result<String> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a device, FIFO or socket)"
        };
        return Err(std::io::Error::other(format!(
            "it is {kind}; expected a regular file"
        )));
    }
    if meta.len() > limit {
        return Err(too_big(meta.len(), limit));
    }
    // The file may grow while it is read: never take more than the limit.
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > limit {
        return Err(too_big(text.len() as u64, limit));
    }
    Ok(text)
}

fn too_big(len: u64, limit: u64) -> std::io::Error {
    std::io::Error::other(format!(
        "it holds {} bytes, more than the {} MiB Surge reads from such a file",
        len,
        limit >> 20
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_devices_and_directories_without_reading_them() {
        let e = read_text(Path::new("/dev/zero"), MAX_CONFIG_BYTES).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let e = read_text(Path::new("/"), MAX_CONFIG_BYTES).unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
    }

    #[test]
    fn refuses_a_file_over_the_limit() {
        let dir = std::env::temp_dir().join(format!("surge-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big.json");
        std::fs::write(&path, vec![b' '; 2048]).unwrap();
        let e = read_text(&path, 1024).unwrap_err();
        assert!(e.to_string().contains("2048 bytes"), "{e}");
        assert_eq!(read_text(&path, 4096).unwrap().len(), 2048);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
