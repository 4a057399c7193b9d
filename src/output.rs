//! Where results go, written so that an output directory always holds one complete result
//! set: the old one, or the new one, never a mix and never a partial file.
//!
//! A run's files are written into a fresh directory with an unpredictable name beside the
//! target (created exclusively, so no file in it can be a planted symlink), which then takes
//! the target's place in one step: an atomic exchange (`renameat2(RENAME_EXCHANGE)`) where
//! the file system has it, else two renames with an interrupt held off between them. The old
//! results are deleted only after the new ones are in place.
//!
//! The target is checked before anything runs: it must be absent, empty, or a directory of
//! earlier Surge results, so that `--out .` can never replace a user's own files.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Names Surge writes into an output directory (with `*.svg` and `*.png` plots).
const OWN_FILES: [&str; 6] = [
    "report.json",
    "timeseries.csv",
    "report.html",
    "sweep.json",
    "sweep.csv",
    MARKER,
];
/// Marks a directory as Surge's own results.
const MARKER: &str = ".surge-results";

/// An output directory could not be prepared or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    /// The target holds something that is not Surge's results.
    #[error(
        "cannot write results to {}: {reason}; give --out a new or empty directory, or one that holds earlier Surge results",
        .target.display()
    )]
    NotOurs {
        /// The output directory asked for.
        target: PathBuf,
        /// What is in the way.
        reason: String,
    },
    /// A file system operation failed.
    #[error("cannot write {}: {cause}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |cause| OutputError::Io {
        path: path.to_path_buf(),
        cause,
    }
}

/// What an interrupt (Ctrl-C) finds going on.
#[derive(Debug)]
enum Pending {
    /// Nothing is being written.
    Nothing,
    /// Results are being staged here for `target`.
    Staging { staging: PathBuf, target: PathBuf },
    /// Results are complete at this directory.
    Written(PathBuf),
}

/// Shared with the interrupt handler; held while results replace a target, so that an
/// interrupt waits for the exchange to finish.
static PENDING: Mutex<Pending> = Mutex::new(Pending::Nothing);

/// Installs the Ctrl-C handler: it removes any half-written results, says what happened to
/// the output directory, and exits with 130. Call once, from `main`.
pub fn handle_interrupts() {
    let _ = ctrlc::set_handler(|| {
        let pending = PENDING.lock().unwrap_or_else(|p| p.into_inner());
        let message = match &*pending {
            Pending::Nothing => "interrupted: nothing was written".to_string(),
            Pending::Staging { staging, target } => {
                let _ = std::fs::remove_dir_all(staging);
                format!(
                    "interrupted: nothing was written; {} is as it was",
                    target.display()
                )
            }
            Pending::Written(target) => format!(
                "interrupted: the results in {} are complete",
                target.display()
            ),
        };
        eprintln!("{message}");
        std::process::exit(130);
    });
}

/// A result set being written: files go into [`Staging::dir`], and [`Staging::commit`] puts
/// them at the target. Dropped without a commit, it leaves the target as it was.
#[derive(Debug)]
pub struct Staging {
    target: PathBuf,
    dir: Option<tempfile::TempDir>,
    /// The topmost directory created to hold the target, removed again if nothing commits.
    created: Option<PathBuf>,
}

impl Staging {
    /// Checks `target` and makes a fresh, empty directory beside it to write into. Fails if
    /// the target is a file, holds files Surge did not write, or its parent cannot be
    /// created or written.
    pub fn prepare(target: &Path) -> Result<Staging, OutputError> {
        check_target(target)?;
        let parent = dir_of(target).to_path_buf();
        let created = topmost_missing(&parent);
        std::fs::create_dir_all(&parent).map_err(io(&parent))?;
        let stem = target
            .file_name()
            .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
        let dir = tempfile::Builder::new()
            .prefix(&format!(".{stem}.surge-"))
            .tempdir_in(&parent)
            .map_err(io(&parent))?;
        std::fs::write(dir.path().join(MARKER), MARKER_TEXT).map_err(io(dir.path()))?;
        *lock() = Pending::Staging {
            staging: dir.path().to_path_buf(),
            target: target.to_path_buf(),
        };
        Ok(Staging {
            target: target.to_path_buf(),
            dir: Some(dir),
            created,
        })
    }

    /// Where to write the files.
    pub fn dir(&self) -> &Path {
        self.dir.as_ref().expect("present until commit").path()
    }

    /// As [`Staging::commit`], for `written`, files staged in [`Staging::dir`]: returns where
    /// they are now, in the same order.
    pub fn commit_files(self, written: &[PathBuf]) -> Result<Vec<PathBuf>, OutputError> {
        let dir = self.commit()?;
        Ok(written
            .iter()
            .map(|p| {
                p.file_name()
                    .map_or_else(|| p.clone(), |name| dir.join(name))
            })
            .collect())
    }

    /// Puts the staged files at the target, replacing what was there, and returns the
    /// target's path.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        let staged = self.dir.take().expect("present until commit").keep();
        let mut pending = lock();
        let result = replace(&staged, &self.target);
        *pending = match result {
            Ok(()) => Pending::Written(self.target.clone()),
            Err(_) => Pending::Nothing,
        };
        drop(pending);
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&staged);
        }
        result.map(|()| self.target.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.dir.is_some() {
            *lock() = Pending::Nothing;
            // The TempDir removes itself; a parent made only for it goes too.
            drop(self.dir.take());
            if let Some(top) = &self.created {
                remove_empty_up_to(&self.target, top);
            }
        }
    }
}

const MARKER_TEXT: &str = "This directory holds results written by Surge; `surge run` or `surge sweep` may replace it whole.\n";

fn lock() -> std::sync::MutexGuard<'static, Pending> {
    PENDING.lock().unwrap_or_else(|p| p.into_inner())
}

/// The target must be absent, an empty directory, or Surge's results.
fn check_target(target: &Path) -> Result<(), OutputError> {
    let not_ours = |reason: String| OutputError::NotOurs {
        target: target.to_path_buf(),
        reason,
    };
    let meta = match std::fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(target)(e)),
    };
    if meta.file_type().is_symlink() {
        return Err(not_ours("it is a symbolic link".into()));
    }
    if !meta.is_dir() {
        return Err(not_ours("a file is in the way".into()));
    }
    if target.join(MARKER).is_file() {
        return Ok(());
    }
    let mut foreign = Vec::new();
    for entry in std::fs::read_dir(target).map_err(io(target))? {
        let entry = entry.map_err(io(target))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let plot = name.ends_with(".svg") || name.ends_with(".png");
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if !(is_file && (plot || OWN_FILES.contains(&name.as_str()))) {
            foreign.push(name);
        }
    }
    if foreign.is_empty() {
        return Ok(());
    }
    foreign.sort();
    let shown: Vec<String> = foreign.iter().take(5).map(|n| format!("`{n}`")).collect();
    let more = if foreign.len() > 5 {
        format!(" and {} more", foreign.len() - 5)
    } else {
        String::new()
    };
    Err(not_ours(format!(
        "it holds files Surge did not write ({}{more})",
        shown.join(", ")
    )))
}

/// Moves `staged` to `target`, which may hold earlier results.
fn replace(staged: &Path, target: &Path) -> Result<(), OutputError> {
    if std::fs::symlink_metadata(target).is_err() {
        return std::fs::rename(staged, target).map_err(io(target));
    }
    if exchange(staged, target).is_ok() {
        // `staged` now holds the old results.
        let _ = std::fs::remove_dir_all(staged);
        return Ok(());
    }
    // No atomic exchange here: the old results step aside under a hidden name, the new ones
    // take their place, and only then are the old ones deleted.
    let aside = staged.with_extension("old");
    std::fs::rename(target, &aside).map_err(io(target))?;
    if let Err(e) = std::fs::rename(staged, target) {
        let _ = std::fs::rename(&aside, target);
        return Err(io(target)(e));
    }
    let _ = std::fs::remove_dir_all(&aside);
    Ok(())
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other("no atomic exchange"))
}

/// The first ancestor of `dir` (or `dir` itself) that does not exist yet.
fn topmost_missing(dir: &Path) -> Option<PathBuf> {
    let mut missing = None;
    let mut p = Some(dir);
    while let Some(d) = p {
        if d.as_os_str().is_empty() || d.exists() {
            break;
        }
        missing = Some(d.to_path_buf());
        p = d.parent();
    }
    missing
}

/// Removes the empty directories from `target`'s parent up to `top`.
fn remove_empty_up_to(target: &Path, top: &Path) {
    let mut p = target.parent();
    while let Some(d) = p {
        if std::fs::remove_dir(d).is_err() || d == top {
            break;
        }
        p = d.parent();
    }
}

/// `results/<name>`, with the name made safe as one path component: where a command writes
/// when it is given no `--out`.
pub fn results_dir(name: &str) -> PathBuf {
    Path::new("results").join(safe_file_name(name))
}

/// `paths` as one line, `a, b, c`: how the commands name the files they wrote or read.
pub fn list_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The directory `path` is in: its parent, or `.` for a bare file name.
pub fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes `bytes` to `path` through a temporary file created exclusively, with an
/// unpredictable name, in the same directory, then renamed into place: a reader never sees a
/// partial file, and a symlink planted at a predictable name is never followed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    use std::io::Write;
    let dir = dir_of(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(".surge-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io(dir))?;
    tmp.write_all(bytes).map_err(io(path))?;
    tmp.persist(path).map_err(|e| io(path)(e.error))?;
    Ok(())
}

/// A name made safe to use as one path component: every character but letters, digits,
/// `-`, `_` and `.` becomes `_`, and a leading `.` becomes `_`, so no name can climb out of
/// a directory, hide a file or name a device.
pub fn safe_file_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() {
        out.push('_');
    }
    if out.starts_with('.') {
        out.replace_range(0..1, "_");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("surge-output-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_name_never_leaves_its_directory() {
        for (name, safe) in [
            ("../../etc", "_._.._etc"),
            ("..", "_."),
            ("a/b", "a_b"),
            ("c:\\x", "c__x"),
            (".hidden", "_hidden"),
            ("", "_"),
            ("ok-name_1.2", "ok-name_1.2"),
            ("t\u{1b}]0;x", "t__0_x"),
        ] {
            assert_eq!(safe_file_name(name), safe, "{name:?}");
            assert_eq!(Path::new(safe).components().count(), 1);
        }
    }

    #[test]
    fn a_commit_replaces_earlier_results_whole_and_a_drop_leaves_them() {
        let root = scratch("commit");
        let target = root.join("out");
        let s = Staging::prepare(&target).unwrap();
        std::fs::write(s.dir().join("report.json"), "one").unwrap();
        std::fs::write(s.dir().join("a.svg"), "one").unwrap();
        s.commit().unwrap();
        assert_eq!(
            std::fs::read_to_string(target.join("a.svg")).unwrap(),
            "one"
        );
        // An abandoned second run leaves the first intact, and nothing beside it.
        let s = Staging::prepare(&target).unwrap();
        std::fs::write(s.dir().join("report.json"), "two").unwrap();
        drop(s);
        assert_eq!(
            std::fs::read_to_string(target.join("report.json")).unwrap(),
            "one"
        );
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 1);
        // A completed one replaces every file: the old plot does not survive.
        let s = Staging::prepare(&target).unwrap();
        std::fs::write(s.dir().join("report.json"), "three").unwrap();
        s.commit().unwrap();
        assert_eq!(
            std::fs::read_to_string(target.join("report.json")).unwrap(),
            "three"
        );
        assert!(!target.join("a.svg").exists());
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 1);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn refuses_a_directory_of_someone_elses_files_and_a_file_in_the_way() {
        let root = scratch("refuse");
        std::fs::write(root.join("Cargo.toml"), "").unwrap();
        let e = Staging::prepare(&root).unwrap_err().to_string();
        assert!(e.contains("`Cargo.toml`"), "{e}");
        let file = root.join("Cargo.toml");
        let e = Staging::prepare(&file).unwrap_err().to_string();
        assert!(e.contains("a file is in the way"), "{e}");
        // Old results without the marker are still ours.
        let old = root.join("old");
        std::fs::create_dir(&old).unwrap();
        std::fs::write(old.join("report.json"), "").unwrap();
        std::fs::write(old.join("latency.svg"), "").unwrap();
        assert!(Staging::prepare(&old).is_ok());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn an_atomic_write_never_follows_a_planted_symlink() {
        let root = scratch("symlink");
        let victim = root.join("victim");
        std::fs::write(&victim, "keep").unwrap();
        std::os::unix::fs::symlink(&victim, root.join("report.tmp")).unwrap();
        write_atomically(&root.join("report.json"), b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(
            std::fs::read_to_string(root.join("report.json")).unwrap(),
            "new"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_parent_made_for_an_abandoned_run_is_removed() {
        let root = scratch("parent");
        let target = root.join("a/b/out");
        drop(Staging::prepare(&target).unwrap());
        assert!(!root.join("a").exists());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
