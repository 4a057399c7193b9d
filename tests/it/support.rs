//! Helpers: experiments from inline JSON, runs, and temporary directories.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use surge::experiment::{ExecuteOptions, Experiment, RunResult, run_experiment};

/// A fresh directory under the system temp dir, unique per call.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "surge-it-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `json` as an experiment file in a fresh directory and returns its path.
pub fn write_experiment(tag: &str, json: &str) -> PathBuf {
    let path = temp_dir(tag).join(format!("{tag}.json"));
    std::fs::write(&path, json).unwrap();
    path
}

/// Loads an experiment from inline JSON, panicking with the error if it is invalid.
pub fn experiment(tag: &str, json: &str) -> Experiment {
    let path = write_experiment(tag, json);
    surge::config::load_experiment(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs every run of an experiment on all cores.
pub fn run(exp: &Experiment) -> Vec<RunResult> {
    run_experiment(exp, &ExecuteOptions::default())
}

/// The repository root.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Whether the slow, exhaustive tests are on.
pub fn slow() -> bool {
    std::env::var("SURGE_SLOW_TESTS").is_ok_and(|v| v == "1")
}
