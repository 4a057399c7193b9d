//! Errors in HPA snapshots and states: each names the JSON path (and line and column where the
//! parser knows them) and says what was expected. The caller adds the file name.

use std::fmt;
use std::path::PathBuf;

/// A snapshot that cannot be read, or a state that does not validate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The text is not JSON.
    #[error("{line}:{column}: malformed JSON: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's description, without its position.
        message: String,
    },
    /// The JSON is well formed but is not a valid HPA state: a wrong type, an unknown field, an
    /// impossible value, parts that do not agree.
    #[error("{}at `{path}`: {message}", Position(*.line_column))]
    Invalid {
        /// The JSON path, such as `metrics[0].target.average_utilization`; `.` is the root.
        path: String,
        /// 1-based line and column, when the parser knows them.
        line_column: Option<(usize, usize)>,
        /// What was wrong and what was expected.
        message: String,
    },
}

impl StateError {
    /// An `Invalid` error at `path`.
    pub(crate) fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        StateError::Invalid {
            path: path.into(),
            line_column: None,
            message: message.into(),
        }
    }

    /// The JSON path of the problem, if it has one.
    pub fn path(&self) -> Option<&str> {
        match self {
            StateError::Invalid { path, .. } => Some(path),
            StateError::Syntax { .. } => None,
        }
    }

    /// Converts a typed-deserialisation error, keeping the path serde_path_to_error tracked.
    pub(crate) fn from_serde(err: serde_path_to_error::Error<serde_json::Error>) -> Self {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = strip_position(&inner.to_string());
        if inner.is_syntax() || inner.is_eof() {
            return StateError::Syntax {
                line: inner.line(),
                column: inner.column(),
                message,
            };
        }
        let line_column = (inner.line() > 0).then(|| (inner.line(), inner.column()));
        StateError::Invalid {
            path,
            line_column,
            message,
        }
    }
}

/// A `surge hpa` snapshot file that cannot be read or is not a valid state; the message
/// starts with the file's name (and the line and column where the parser knows them).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotFileError {
    /// The file cannot be read.
    #[error("{}: cannot read the HPA snapshot: {source}", .file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid snapshot.
    #[error("{}{}{source}", .file.display(), separator(.source))]
    Invalid {
        /// The file.
        file: PathBuf,
        /// What is wrong, and where.
        source: StateError,
    },
}

/// What goes between the file name and a [`StateError`]: `:` before its `line:column`, `: `
/// when it has none.
fn separator(e: &StateError) -> &'static str {
    match e {
        StateError::Invalid {
            line_column: None, ..
        } => ": ",
        _ => ":",
    }
}

/// `line:column: ` or nothing.
struct Position(Option<(usize, usize)>);

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some((line, column)) => write!(f, "{line}:{column}: "),
            None => Ok(()),
        }
    }
}

/// serde_json appends " at line L column C"; the error carries the position separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}
