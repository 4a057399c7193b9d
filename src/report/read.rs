//! Reading a `report.json` back, for commands that work from a finished run (`surge report`,
//! `surge plot`, `surge compare`).

use super::Report;
use crate::config::{ConfigError, parse_text, read_result};
use std::path::Path;

/// What a report.json of the wrong shape is told.
const NOT_A_REPORT: &str = "not a report.json as `surge run` writes it: ";

/// Reads and parses a `report.json`. A missing file, malformed JSON or JSON that is not a
/// report gives a [`ConfigError`] naming the file, and for the last two the line, column and
/// JSON path.
pub fn read_report(path: &Path) -> Result<Report, ConfigError> {
    parse_report(path, &read_result(path, "the report")?)
}

/// What `surge report` prints of a file, under the experiment's name and description: a
/// run's `report.json` as its summary table, or a `sweep.json` (merged shards too) as the
/// summary `surge sweep` prints. A file that is neither gets the error of a report.
pub fn read_summary(path: &Path) -> Result<String, ConfigError> {
    let (name, description, table) = match read_report(path) {
        Ok(r) => {
            let table = super::table::render(&r);
            (r.experiment, r.description, table)
        }
        Err(e) => match crate::sweep::read_sweep_report(path) {
            Ok(sw) => {
                let table = crate::sweep::summary::render(&sw);
                (sw.experiment, sw.description, table)
            }
            Err(_) => return Err(e),
        },
    };
    Ok(super::table::titled(&name, description.as_deref(), &table))
}

/// Parses a report's text; `path` names it in errors.
pub fn parse_report(path: &Path, text: &str) -> Result<Report, ConfigError> {
    let report = parse_text(path, text, NOT_A_REPORT)?;
    check_figures(path, text, NOT_A_REPORT)?;
    Ok(report)
}

/// The largest magnitude of a figure in a result Surge wrote (1e15: a billion requests a
/// second for eleven days); anything beyond was edited in, and would overflow a plot's
/// coordinates.
pub const MAX_FIGURE: f64 = 1e15;

/// Refuses a result file (already parsed as JSON) holding a number beyond [`MAX_FIGURE`],
/// other than a seed (any u64), naming its JSON path.
pub(crate) fn check_figures(path: &Path, text: &str, context: &str) -> Result<(), ConfigError> {
    fn walk(v: &serde_json::Value, at: &mut String, key: &str) -> Option<String> {
        match v {
            serde_json::Value::Number(n) if key != "seed" => {
                let x = n.as_f64().unwrap_or(f64::INFINITY);
                (x.abs() > MAX_FIGURE).then(|| at.clone())
            }
            serde_json::Value::Object(o) => o.iter().find_map(|(k, x)| {
                let len = at.len();
                if !at.is_empty() {
                    at.push('.');
                }
                at.push_str(k);
                let found = walk(x, at, k);
                at.truncate(len);
                found
            }),
            serde_json::Value::Array(a) => a.iter().enumerate().find_map(|(i, x)| {
                let len = at.len();
                at.push_str(&format!("[{i}]"));
                let found = walk(x, at, key);
                at.truncate(len);
                found
            }),
            _ => None,
        }
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| ConfigError::Syntax {
        file: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    match walk(&value, &mut String::new(), "") {
        Some(at) => Err(ConfigError::invalid(
            path,
            at,
            format!("{context}a figure beyond {MAX_FIGURE:e}, more than any run produces"),
        )),
        None => Ok(()),
    }
}
