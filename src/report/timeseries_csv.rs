//! `timeseries.csv`: one row per variant x replication x bucket, for spreadsheets, plots and
//! notebooks.

use crate::experiment::RunResult;
use crate::metrics::Outcome;
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
