//! Reading a `report.json` back, for commands that work from a finished run (`surge report`).

use super::Report;
use crate::config::ConfigError;
use std::path::Path;

/// Reads and parses a `report.json`. A missing file, malformed JSON or JSON that is not a
/// report gives a [`ConfigError`] naming the file, and for the last two the line, column and
/// JSON path.
pub fn read_report(path: &Path) -> Result<Report, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        file: path.to_path_buf(),
        what: "the report",
        referenced_from: None,
        source,
    })?;
    parse_report(path, &text)
}

/// Parses a report's text; `path` names it in errors.
pub fn parse_report(path: &Path, text: &str) -> Result<Report, ConfigError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let report = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        ConfigError::from_serde(path, "", e, "not a report.json as `surge run` writes it: ")
    })?;
    de.end().map_err(|e| ConfigError::Syntax {
        file: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: "unexpected characters after the end of the JSON document".into(),
    })?;
    Ok(report)
}
