//! [`write_atomically`]: no partial file, ever.

use super::io_error;
use crate::NnError;
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically: under a temporary name in the same directory, flushed
/// to disk, then renamed over `path`, so a crash or an error never leaves a partial file there
/// (a previous file stays intact until the rename). The temporary is removed on error.
///
/// # Errors
/// [`NnError::Io`] naming `path` if the file cannot be written.
///
/// # Example
/// ```
/// let path = std::env::temp_dir().join(format!("adroit-doc-atomic-{}.txt", std::process::id()));
/// adroit_nn::io::write_atomically(&path, b"epoch,loss\n0,1.5\n").unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"epoch,loss\n0,1.5\n");
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn write_atomically(path: impl AsRef<Path>, bytes: &[u8]) -> Result<(), NnError> {
    let path = path.as_ref();
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Unique per process and call, so concurrent saves to one path never share a temporary.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // At most 100 bytes of the name, so the temporary stays within the usual 255-byte limit
    // on a file name whenever the target's own name does.
    let mut stem_len = 0;
    let stem: String = file_name
        .chars()
        .take_while(|c| {
            stem_len += c.len_utf8();
            stem_len <= 100
        })
        .collect();
    let tmp = dir.join(format!(".{stem}.{}.{n}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable (best effort: not every platform opens directories).
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_error(path, e)
    })
}
