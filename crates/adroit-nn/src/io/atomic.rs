//! [`write_atomically`]: no partial file, ever.

use super::io_error;
use crate::NnError;
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` atomically: under a temporary name in the same directory, flushed
/// to disk, then renamed over `path`, so a crash or an error never leaves a partial file there
/// (a previous file stays intact until the rename). The temporary is removed on error.
///
/// Where `path` already exists it is treated as a file being overwritten (as `torch.save`
/// opening it for writing would): a symbolic link is followed, so the file it names is
/// replaced and the link kept; the new file keeps the old one's permissions; and a read-only
/// file (no write permission bit, whoever runs the program) or something that is not a
/// regular file (a directory, a device) is refused and left as it is. The temporary is made
/// in the directory of the file written (a link's target's), which must be writable; a
/// dangling link is replaced by the new file.
///
/// # Errors
/// [`NnError::Io`] naming `path` if the file cannot be written, or `path` is read-only or not
/// a regular file.
///
/// # Example
/// ```
/// let path = std::env::temp_dir().join(format!("adroit-doc-atomic-{}.txt", std::process::id()));
/// adroit_nn::io::write_atomically(&path, b"epoch,loss\n0,1.5\n").unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"epoch,loss\n0,1.5\n");
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn write_atomically(path: impl AsRef<Path>, bytes: &[u8]) -> Result<(), NnError> {
    let named = path.as_ref();
    // An existing link: write the file it names (a dangling one is replaced like a new file).
    let resolved = match std::fs::symlink_metadata(named) {
        Ok(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(named).ok(),
        _ => None,
    };
    let path = resolved.as_deref().unwrap_or(named);
    let permissions = match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => {
            return Err(refused(
                named,
                std::io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        Ok(meta) if meta.permissions().readonly() => {
            return Err(refused(
                named,
                std::io::ErrorKind::PermissionDenied,
                "the file is read-only",
            ));
        }
        Ok(meta) => Some(meta.permissions()),
        Err(_) => None,
    };
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
        if let Some(permissions) = &permissions {
            f.set_permissions(permissions.clone())?;
        }
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
        // The usual cause of "not found" here: the directory is missing; say so.
        if e.kind() == std::io::ErrorKind::NotFound && !dir.is_dir() {
            let why = format!("the directory {} does not exist", dir.display());
            return refused(named, std::io::ErrorKind::NotFound, &why);
        }
        io_error(named, e)
    })
}

/// The error for an existing `path` that is not overwritten.
fn refused(path: &Path, kind: std::io::ErrorKind, why: &str) -> NnError {
    io_error(path, std::io::Error::new(kind, why))
}
