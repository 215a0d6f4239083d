//! [`write_atomically`]: no partial file, ever.

use super::io_error;
use crate::NnError;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` atomically: under a temporary name in the same directory, flushed
/// to disk, then renamed over `path`, so a crash or an error never leaves a partial file there
/// (a previous file stays intact until the rename). The temporary is removed on error.
///
/// Where `path` already exists it is treated as a file being overwritten (as `torch.save`
/// opening it for writing would): a symbolic link is followed, so the file it names is
/// replaced and the link kept; the new file keeps the old one's permissions; and a read-only
/// file (no write permission bit, whoever runs the program) or something that is not a
/// regular file (a directory, a device) is refused and left as it is. The temporary is made
/// in the directory of the file written (a link's target's), which must be writable, as a new
/// file (never through a file or link already at its name); a dangling link is replaced by
/// the new file.
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
    let mut created = None;
    let mut write = || -> std::io::Result<()> {
        let (tmp, mut f) = create_temporary(dir, &stem)?;
        let tmp = created.insert(tmp);
        if let Some(permissions) = &permissions {
            f.set_permissions(permissions.clone())?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(tmp, path)?;
        // Make the rename itself durable (best effort: not every platform opens directories).
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    };
    write().map_err(|e| {
        if let Some(tmp) = &created {
            let _ = std::fs::remove_file(tmp);
        }
        // The usual cause of "not found" here: the directory is missing; say so.
        if e.kind() == std::io::ErrorKind::NotFound && !dir.is_dir() {
            let why = format!("the directory {} does not exist", dir.display());
            return refused(named, std::io::ErrorKind::NotFound, &why);
        }
        io_error(named, e)
    })
}

/// Numbers the temporaries: unique per process and call, so concurrent saves to one path
/// never share one.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// How many names [`create_temporary`] tries.
const TEMPORARY_TRIES: usize = 64;

/// Creates a new file `.{stem}.{process id}.{n}.tmp` in `dir` for the next number `n`, never
/// opening one that exists: a file or link already at that name (another program's, or left by
/// a crash) is left alone and the next number tried, [`TEMPORARY_TRIES`] times at most. (The
/// names are predictable, so a link planted there in a shared directory would otherwise be
/// written through.)
fn create_temporary(dir: &Path, stem: &str) -> std::io::Result<(PathBuf, File)> {
    let mut taken = None;
    for _ in 0..TEMPORARY_TRIES {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{stem}.{}.{n}.tmp", std::process::id()));
        match File::options().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => taken = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(taken.unwrap_or_else(|| std::io::ErrorKind::AlreadyExists.into()))
}

/// The error for an existing `path` that is not overwritten.
fn refused(path: &Path, kind: std::io::ErrorKind, why: &str) -> NnError {
    io_error(path, std::io::Error::new(kind, why))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Links planted at the next temporaries' names (which are predictable) are skipped, not
    /// written through, and left as they are.
    #[cfg(unix)]
    #[test]
    fn a_link_at_a_temporarys_name_is_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let target = dir.path().join("weights.bin");
        let next = COUNTER.load(Ordering::Relaxed);
        let planted: Vec<PathBuf> = (next..next + 8)
            .map(|n| {
                let name = format!(".weights.bin.{}.{n}.tmp", std::process::id());
                let link = dir.path().join(name);
                std::os::unix::fs::symlink(&victim, &link).unwrap();
                link
            })
            .collect();
        write_atomically(&target, b"new").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        for link in &planted {
            let meta = std::fs::symlink_metadata(link).unwrap();
            assert!(meta.file_type().is_symlink(), "{}", link.display());
        }
    }
}
