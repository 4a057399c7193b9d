//! Reading a `report.json` back, for commands that work from a finished run (`surge report`,
//! `surge plot`, `surge compare`).

use super::Report;
use crate::config::{ConfigError, parse_text, read};
use std::path::Path;

/// What a report.json of the wrong shape is told.
const NOT_A_REPORT: &str = "not a report.json as `surge run` writes it: ";

/// Reads and parses a `report.json`. A missing file, malformed JSON or JSON that is not a
/// report gives a [`ConfigError`] naming the file, and for the last two the line, column and
/// JSON path.
pub fn read_report(path: &Path) -> Result<Report, ConfigError> {
    parse_report(path, &read(path, "the report", None)?)
}

/// Parses a report's text; `path` names it in errors.
pub fn parse_report(path: &Path, text: &str) -> Result<Report, ConfigError> {
    parse_text(path, text, NOT_A_REPORT)
}
