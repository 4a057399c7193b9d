//! Errors in experiment and model files. Each names the file, the JSON path and what was
//! expected, so a user can fix the file without reading Surge's source.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in a file something is: a JSON path and, when the parser knows it, line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub file: PathBuf,
    /// JSON path such as `services.api.instance.cores` or `workload[0].rate`; `.` is the root.
    pub path: String,
    /// 1-based line and column, when known.
    pub line_column: Option<(usize, usize)>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((l, c)) = self.line_column {
            write!(f, ":{l}:{c}")?;
        }
        write!(
            f,
            ": at `{}`",
            if self.path.is_empty() {
                "."
            } else {
                &self.path
            }
        )
    }
}

/// A problem with an input file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read (missing, unreadable).
    #[error("{}: cannot read {what}: {source}{}", .file.display(), referenced(.referenced_from))]
    Read {
        /// The file that could not be read.
        file: PathBuf,
        /// What the file was meant to be ("the experiment file", "the model file", ...).
        what: &'static str,
        /// The field that named the file, if another file referenced it.
        referenced_from: Option<Location>,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The text is not JSON.
    #[error("{}:{line}:{column}: malformed JSON: {message}", .file.display())]
    Syntax {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// The JSON is well formed but does not describe a valid experiment or model.
    #[error("{location}: {message}")]
    Invalid {
        /// Where.
        location: Location,
        /// What was wrong and what was expected.
        message: String,
    },
}

fn referenced(from: &Option<Location>) -> String {
    match from {
        Some(loc) => format!(" (named by {loc})"),
        None => String::new(),
    }
}

impl ConfigError {
    /// An `Invalid` error at `path` in `file`.
    pub fn invalid(file: &Path, path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            location: Location {
                file: file.to_path_buf(),
                path: path.into(),
                line_column: None,
            },
            message: message.into(),
        }
    }

    /// The location, when the error has one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            ConfigError::Invalid { location, .. } => Some(location),
            _ => None,
        }
    }

    /// Converts a typed-deserialisation error into a located error. `prefix` is the JSON path
    /// of the value that was being deserialised within the file (empty for the whole file).
    pub(crate) fn from_serde(
        file: &Path,
        prefix: &str,
        err: serde_path_to_error::Error<serde_json::Error>,
        context: &str,
    ) -> Self {
        let inner = err.inner();
        let line_column = (inner.line() > 0).then(|| (inner.line(), inner.column()));
        if inner.is_syntax() || inner.is_eof() {
            return ConfigError::Syntax {
                file: file.to_path_buf(),
                line: inner.line(),
                column: inner.column(),
                message: strip_position(&inner.to_string()),
            };
        }
        let path = join_path(prefix, &err.path().to_string());
        let message = explain_serde(&strip_position(&inner.to_string()));
        ConfigError::Invalid {
            location: Location {
                file: file.to_path_buf(),
                path,
                line_column,
            },
            message: format!("{context}{message}"),
        }
    }
}

/// Joins a prefix path and a relative path from serde_path_to_error (which prints `.` for root).
pub(crate) fn join_path(prefix: &str, rel: &str) -> String {
    let rel = if rel == "." { "" } else { rel };
    match (prefix.is_empty(), rel.is_empty()) {
        (true, _) => rel.to_string(),
        (false, true) => prefix.to_string(),
        (false, false) if rel.starts_with('[') => format!("{prefix}{rel}"),
        (false, false) => format!("{prefix}.{rel}"),
    }
}

/// serde_json appends " at line L column C"; we print the position ourselves.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Rewords serde's terse messages into what a user should write.
fn explain_serde(msg: &str) -> String {
    if let Some(rest) = msg.strip_prefix("unknown field ") {
        return format!(
            "unknown field {rest}. Check the spelling; unknown fields are refused so that typos cannot silently change a run."
        );
    }
    if let Some(rest) = msg.strip_prefix("unknown variant ") {
        return format!("unknown kind {rest}");
    }
    let plain = msg
        .replace("expected i64", "expected a whole number")
        .replace("expected u64", "expected a whole number, zero or more")
        .replace("expected u32", "expected a whole number, zero or more")
        .replace("expected f64", "expected a number");
    if let Some(rest) = plain.strip_prefix("invalid type: ") {
        return format!("wrong type: found {rest}");
    }
    plain
}
