//! `timeseries.csv`: one row per variant x replication x bucket, for spreadsheets, plots and
//! notebooks; and reading it back, so that `surge plot report.json` can draw a run's plots
//! again.

use super::Report;
use crate::experiment::{RunId, RunResult};
use crate::metrics::timeseries::{ServiceBucket, TimeSeriesRow};
use crate::metrics::{Outcome, OutcomeCounts};
use crate::simulation::RunOutput;
use std::fmt::Write;

/// Renders every run's time series. Service columns are prefixed with the service name.
pub fn render(results: &[RunResult], services: &[String]) -> String {
    let mut out = String::from("variant,replication,t_s,width_s,arrivals");
    for o in Outcome::ALL {
        let _ = write!(out, ",{}", o.name());
    }
    out.push_str(",throughput_rps,p50_s,p99_s,in_flight");
    for s in services {
        let _ = write!(
            out,
            ",{s}.desired,{s}.starting,{s}.instances,{s}.draining,{s}.cpu_utilisation,{s}.queue_length,{s}.max_event_loop_lag_s"
        );
    }
    out.push('\n');
    for r in results {
        let variant = quote(&r.variant);
        for row in &r.output.timeseries {
            let _ = write!(
                out,
                "{variant},{},{},{},{}",
                r.id.replication, row.t_s, row.width_s, row.arrivals
            );
            for o in Outcome::ALL {
                let _ = write!(out, ",{}", row.outcomes.get(o));
            }
            let _ = write!(
                out,
                ",{},{},{},{}",
                row.throughput_rps, row.p50_s, row.p99_s, row.in_flight
            );
            for b in &row.services {
                let _ = write!(
                    out,
                    ",{},{},{},{},{},{},{}",
                    b.desired,
                    b.starting,
                    b.instances,
                    b.draining,
                    b.cpu_utilisation,
                    b.queue_length,
                    b.max_event_loop_lag_s
                );
            }
            out.push('\n');
        }
    }
    out
}

/// Quotes a CSV field if it needs it (RFC 4180).
fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A line of `timeseries.csv` that cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}: {message}")]
pub struct CsvError {
    /// The line, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

/// Reads `timeseries.csv` back (as [`render`] wrote it for `report`) into one result per
/// variant: its replication 0, which is what the plots show, with the summary from the report.
/// Rows of other replications are skipped, so memory follows one run per variant. The header
/// must be the one `render` writes for the report's services.
pub fn read_first_replications(text: &str, report: &Report) -> Result<Vec<RunResult>, CsvError> {
    let services: Vec<String> = report
        .runs
        .first()
        .map(|r| r.summary.services.keys().cloned().collect())
        .unwrap_or_default();
    let err = |line: usize, message: String| CsvError { line, message };
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let expected = render(&[], &services);
    let header = lines.next().map_or("", |(_, h)| h);
    if header != expected.trim_end() {
        return Err(err(
            1,
            format!(
                "the header is not the one `surge run` writes for the report beside it \
                 (services: {}); expected `{}`",
                services.join(", "),
                expected.trim_end()
            ),
        ));
    }
    let mut results: Vec<RunResult> = report
        .variants
        .keys()
        .enumerate()
        .filter_map(|(v, name)| {
            let run = report
                .runs
                .iter()
                .find(|r| r.variant == *name && r.replication == 0)?;
            Some(RunResult {
                id: RunId {
                    variant: v,
                    replication: 0,
                },
                variant: name.clone(),
                seed: run.seed,
                output: RunOutput {
                    summary: run.summary.clone(),
                    timeseries: Vec::new(),
                },
            })
        })
        .collect();
    let columns = 5 + Outcome::ALL.len() + 4 + 7 * services.len();
    for (n, line) in lines {
        if line.is_empty() {
            continue;
        }
        let fields = split(line).ok_or_else(|| err(n, "an unterminated quoted field".into()))?;
        if fields.len() != columns {
            return Err(err(
                n,
                format!("{} fields, expected {columns}", fields.len()),
            ));
        }
        let num = |k: usize| -> Result<f64, CsvError> {
            fields[k].parse::<f64>().map_err(|_| {
                err(
                    n,
                    format!("field {} is `{}`, expected a number", k + 1, fields[k]),
                )
            })
        };
        let count = |k: usize| -> Result<u64, CsvError> {
            fields[k].parse::<u64>().map_err(|_| {
                err(
                    n,
                    format!("field {} is `{}`, expected a count", k + 1, fields[k]),
                )
            })
        };
        if count(1)? != 0 {
            continue;
        }
        let Some(result) = results.iter_mut().find(|r| r.variant == fields[0]) else {
            return Err(err(
                n,
                format!("variant `{}` is not in the report", fields[0]),
            ));
        };
        let mut outcomes = OutcomeCounts::default();
        for (k, o) in Outcome::ALL.into_iter().enumerate() {
            outcomes.add(o, count(5 + k)?);
        }
        let at = 5 + Outcome::ALL.len();
        let mut buckets = Vec::with_capacity(services.len());
        for s in 0..services.len() {
            let b = at + 4 + 7 * s;
            let replicas = |k: usize| -> Result<u32, CsvError> {
                u32::try_from(count(k)?)
                    .map_err(|_| err(n, format!("field {} is too large", k + 1)))
            };
            buckets.push(ServiceBucket {
                desired: replicas(b)?,
                starting: replicas(b + 1)?,
                instances: replicas(b + 2)?,
                draining: replicas(b + 3)?,
                cpu_utilisation: num(b + 4)?,
                queue_length: num(b + 5)?,
                max_event_loop_lag_s: num(b + 6)?,
            });
        }
        result.output.timeseries.push(TimeSeriesRow {
            t_s: num(2)?,
            width_s: num(3)?,
            arrivals: count(4)?,
            outcomes,
            throughput_rps: num(at)?,
            p50_s: num(at + 1)?,
            p99_s: num(at + 2)?,
            in_flight: num(at + 3)?,
            services: buckets,
        });
    }
    Ok(results)
}

/// Splits a CSV line into fields, unquoting RFC 4180 quoted ones. `None` if a quote is left
/// open.
fn split(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (_, c) => field.push(c),
        }
    }
    if quoted {
        return None;
    }
    fields.push(field);
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn fields_split_and_unquote() {
        assert_eq!(split("a,b,,c").unwrap(), ["a", "b", "", "c"]);
        assert_eq!(
            split("\"x,y\",\"say \"\"hi\"\"\",z").unwrap(),
            ["x,y", "say \"hi\"", "z"]
        );
        assert_eq!(split("\"open"), None);
    }
}
