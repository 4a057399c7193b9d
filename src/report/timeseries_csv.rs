//! `timeseries.csv`: one row per variant x replication x bucket, for spreadsheets, plots and
//! notebooks; and reading it back, so that `surge plot report.json` can draw a run's plots
//! again.

use super::Report;
use super::csv_text::{neutralise, restore};
use crate::experiment::{RunId, RunResult};
use crate::metrics::timeseries::{ServiceBucket, TimeSeriesRow};
use crate::metrics::{Outcome, OutcomeCounts};
use crate::simulation::RunOutput;
use std::fmt::Write;

/// The columns each service adds, after its name and a dot.
const SERVICE_COLUMNS: [&str; 9] = [
    "arrivals",
    "desired",
    "starting",
    "instances",
    "draining",
    "cpu_utilisation",
    "queue_length",
    "max_event_loop_lag_s",
    "in_rotation",
];

/// The columns each cache adds, after `cache.`, its name and a dot (`flushed` and `lost`:
/// a write-behind cache's writes to its database and those lost, 0 for other caches).
const CACHE_COLUMNS: [&str; 6] = [
    "lookups",
    "hits",
    "coalesced",
    "hit_ratio",
    "flushed",
    "lost",
];

/// The columns each database adds, after `db.`, its name and a dot.
const DATABASE_COLUMNS: [&str; 6] = [
    "writes",
    "replica_reads",
    "stale_reads",
    "applied",
    "lag_mean_s",
    "lag_max_s",
];

/// Names across every run, in the order they first appear: variants may differ (a sharded
/// service has a shard service per shard of its variant), so a run fills the columns of what
/// it has and leaves the others empty.
fn union<'a, I: Iterator<Item = &'a String>>(lists: impl Iterator<Item = I>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for list in lists {
        for n in list {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    names
}

/// The services, caches and databases of every run, as their summaries name them.
fn names_of<'a>(
    summaries: impl Iterator<Item = &'a crate::simulation::RunSummary> + Clone,
) -> [Vec<String>; 3] {
    [
        union(summaries.clone().map(|s| s.services.keys())),
        union(summaries.clone().map(|s| s.caches.keys())),
        union(summaries.map(|s| s.databases.keys())),
    ]
}

/// Where each named column group's figures are in one run's rows (`None`: it has none).
fn positions(names: &[String], index: impl Fn(&str) -> Option<usize>) -> Vec<Option<usize>> {
    names.iter().map(|n| index(n)).collect()
}

/// The header's fields, as names (before [`neutralise`]).
fn header(services: &[String], caches: &[String], databases: &[String]) -> Vec<String> {
    let mut fields: Vec<String> = ["variant", "replication", "t_s", "width_s", "arrivals"]
        .map(String::from)
        .into();
    fields.extend(Outcome::ALL.iter().map(|o| o.name().to_string()));
    fields.extend(["throughput_rps", "p50_s", "p99_s", "in_flight"].map(String::from));
    for s in services {
        fields.extend(SERVICE_COLUMNS.iter().map(|c| format!("{s}.{c}")));
    }
    for k in caches {
        fields.extend(CACHE_COLUMNS.iter().map(|c| format!("cache.{k}.{c}")));
    }
    for d in databases {
        fields.extend(DATABASE_COLUMNS.iter().map(|c| format!("db.{d}.{c}")));
    }
    fields
}

/// Renders every run's time series. Service columns are prefixed with the service name. Names
/// (the variant column, service names in the header) go through [`neutralise`], and the `csv`
/// crate quotes any field holding a comma, a quote, a CR or a LF, so no name can run as a
/// formula in a spreadsheet or break a row.
pub fn render(results: &[RunResult]) -> String {
    let mut out = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail; numbers are formatted here (Rust's shortest round-trip
    // form), as they always were.
    let [services, caches, databases] = names_of(results.iter().map(|r| &r.output.summary));
    let names = header(&services, &caches, &databases);
    let _ = out.write_record(names.iter().map(|n| neutralise(n).into_owned()));
    let mut number = String::new();
    let mut field = |out: &mut csv::Writer<Vec<u8>>, v: &dyn std::fmt::Display| {
        number.clear();
        let _ = write!(number, "{v}");
        let _ = out.write_field(number.as_bytes());
    };
    let blank = |out: &mut csv::Writer<Vec<u8>>, n: usize| {
        for _ in 0..n {
            let _ = out.write_field(b"");
        }
    };
    for r in results {
        let variant = neutralise(&r.variant);
        let sum = &r.output.summary;
        let at_services = positions(&services, |n| sum.services.get_index_of(n));
        let at_caches = positions(&caches, |n| sum.caches.get_index_of(n));
        let at_databases = positions(&databases, |n| sum.databases.get_index_of(n));
        for row in &r.output.timeseries {
            let _ = out.write_field(variant.as_bytes());
            field(&mut out, &r.id.replication);
            field(&mut out, &row.t_s);
            field(&mut out, &row.width_s);
            field(&mut out, &row.arrivals);
            for o in Outcome::ALL {
                field(&mut out, &row.outcomes.get(o));
            }
            field(&mut out, &row.throughput_rps);
            field(&mut out, &row.p50_s);
            field(&mut out, &row.p99_s);
            field(&mut out, &row.in_flight);
            for at in &at_services {
                let Some(b) = at.and_then(|j| row.services.get(j)) else {
                    blank(&mut out, SERVICE_COLUMNS.len());
                    continue;
                };
                field(&mut out, &b.arrivals);
                field(&mut out, &b.desired);
                field(&mut out, &b.starting);
                field(&mut out, &b.instances);
                field(&mut out, &b.draining);
                field(&mut out, &b.cpu_utilisation);
                field(&mut out, &b.queue_length);
                field(&mut out, &b.max_event_loop_lag_s);
                field(&mut out, &b.in_rotation);
            }
            for at in &at_caches {
                let Some(c) = at.and_then(|j| row.caches.get(j)) else {
                    blank(&mut out, CACHE_COLUMNS.len());
                    continue;
                };
                field(&mut out, &c.lookups);
                field(&mut out, &c.hits);
                field(&mut out, &c.coalesced);
                field(&mut out, &c.hit_ratio());
                field(&mut out, &c.writes_flushed);
                field(&mut out, &c.writes_lost);
            }
            for at in &at_databases {
                let Some(d) = at.and_then(|j| row.databases.get(j)) else {
                    blank(&mut out, DATABASE_COLUMNS.len());
                    continue;
                };
                field(&mut out, &d.writes);
                field(&mut out, &d.checked_reads);
                field(&mut out, &d.stale_reads);
                field(&mut out, &d.applied);
                field(&mut out, &d.mean_lag_s());
                field(&mut out, &(d.max_lag_ns as f64 / 1e9));
            }
            let _ = out.write_record(None::<&[u8]>);
        }
    }
    let bytes = out.into_inner().unwrap_or_default();
    String::from_utf8(bytes).expect("every field written is UTF-8")
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
/// must be the one `render` writes for the report's services. Names are read with
/// [`restore`], so a name holding commas, quotes, CR, LF or a formula prefix comes back as it
/// was.
pub fn read_first_replications(text: &str, report: &Report) -> Result<Vec<RunResult>, CsvError> {
    let [services, caches, databases] = names_of(report.runs.iter().map(|r| &r.summary));
    let err = |line: usize, message: String| CsvError { line, message };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let line_of = |e: &csv::Error| {
        e.position()
            .map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX))
    };
    let unreadable = |e: csv::Error| {
        err(
            line_of(&e),
            format!("not CSV as `surge run` writes it: {e}"),
        )
    };
    let expected = header(&services, &caches, &databases);
    let found: Vec<String> = match records.next() {
        Some(record) => record
            .map_err(unreadable)?
            .iter()
            .map(|f| restore(f).to_string())
            .collect(),
        None => Vec::new(),
    };
    if found != expected {
        return Err(err(
            1,
            format!(
                "the header is not the one `surge run` writes for the report beside it \
                 (services: {}); expected `{}`",
                services.join(", "),
                expected.join(",")
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
    let columns = expected.len();
    for record in records {
        let fields = record.map_err(unreadable)?;
        let n = fields
            .position()
            .map_or(0, |p| usize::try_from(p.line()).unwrap_or(usize::MAX));
        if fields.len() != columns {
            return Err(err(
                n,
                format!("{} fields, expected {columns}", fields.len()),
            ));
        }
        // `f64::from_str` takes "NaN" and "inf"; a figure Surge wrote is an ordinary number.
        let num = |k: usize| -> Result<f64, CsvError> {
            fields[k]
                .parse::<f64>()
                .ok()
                .filter(|v| v.abs() <= super::read::MAX_FIGURE)
                .ok_or_else(|| {
                    err(
                        n,
                        format!(
                            "field {} is `{}`, expected a number of at most {:e}",
                            k + 1,
                            &fields[k],
                            super::read::MAX_FIGURE
                        ),
                    )
                })
        };
        let count = |k: usize| -> Result<u64, CsvError> {
            fields[k].parse::<u64>().map_err(|_| {
                err(
                    n,
                    format!("field {} is `{}`, expected a count", k + 1, &fields[k]),
                )
            })
        };
        if count(1)? != 0 {
            continue;
        }
        let variant = restore(&fields[0]);
        let Some(result) = results.iter_mut().find(|r| r.variant == variant) else {
            return Err(err(
                n,
                format!("variant `{}` is not in the report", variant.escape_debug()),
            ));
        };
        let mut outcomes = OutcomeCounts::default();
        for (k, o) in Outcome::ALL.into_iter().enumerate() {
            outcomes.add(o, count(5 + k)?);
        }
        let at = 5 + Outcome::ALL.len();
        let sum = &result.output.summary;
        let mut buckets = vec![ServiceBucket::default(); sum.services.len()];
        for (s, name) in services.iter().enumerate() {
            let Some(j) = sum.services.get_index_of(name) else {
                continue; // not in this variant
            };
            let b = at + 4 + SERVICE_COLUMNS.len() * s;
            let replicas = |k: usize| -> Result<u32, CsvError> {
                u32::try_from(count(k)?)
                    .map_err(|_| err(n, format!("field {} is too large", k + 1)))
            };
            buckets[j] = ServiceBucket {
                arrivals: count(b)?,
                desired: replicas(b + 1)?,
                starting: replicas(b + 2)?,
                instances: replicas(b + 3)?,
                draining: replicas(b + 4)?,
                cpu_utilisation: num(b + 5)?,
                queue_length: num(b + 6)?,
                max_event_loop_lag_s: num(b + 7)?,
                in_rotation: replicas(b + 8)?,
            };
        }
        let at_caches = at + 4 + SERVICE_COLUMNS.len() * services.len();
        let mut cache_buckets = vec![Default::default(); sum.caches.len()];
        for (k, name) in caches.iter().enumerate() {
            let Some(j) = sum.caches.get_index_of(name) else {
                continue;
            };
            let b = at_caches + CACHE_COLUMNS.len() * k;
            let (lookups, hits, coalesced) = (count(b)?, count(b + 1)?, count(b + 2)?);
            if hits + coalesced > lookups {
                return Err(err(
                    n,
                    format!("fields {} and {} count more than the lookups", b + 2, b + 3),
                ));
            }
            cache_buckets[j] = crate::metrics::cache::CacheCounts {
                lookups,
                hits,
                coalesced,
                writes_flushed: count(b + 4)?,
                writes_lost: count(b + 5)?,
                ..Default::default()
            };
        }
        let at_databases = at_caches + CACHE_COLUMNS.len() * caches.len();
        let mut database_buckets = vec![Default::default(); sum.databases.len()];
        for (k, name) in databases.iter().enumerate() {
            let Some(j) = sum.databases.get_index_of(name) else {
                continue;
            };
            let b = at_databases + DATABASE_COLUMNS.len() * k;
            let (checked_reads, stale_reads, applied) =
                (count(b + 1)?, count(b + 2)?, count(b + 3)?);
            if stale_reads > checked_reads {
                return Err(err(
                    n,
                    format!("field {} counts more than the replica reads", b + 3),
                ));
            }
            let (mean, max) = (num(b + 4)?, num(b + 5)?);
            if !(mean >= 0.0 && max >= 0.0 && mean.is_finite() && max.is_finite()) {
                return Err(err(
                    n,
                    format!("fields {} and {} are lags: 0 or more seconds", b + 5, b + 6),
                ));
            }
            database_buckets[j] = crate::metrics::database::DatabaseCounts {
                writes: count(b)?,
                checked_reads,
                stale_reads,
                applied,
                lag_ns: lag_sum_ns(mean, applied),
                max_lag_ns: (max * 1e9).round() as u64,
                ..Default::default()
            };
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
            caches: cache_buckets,
            databases: database_buckets,
        });
    }
    Ok(results)
}

/// The lag sum (ns) that gives back `mean_s`, the `lag_mean_s` written for `applied` writes:
/// the least `x` whose [`DatabaseCounts::mean_lag_s`] is at least `mean_s`. That mean is
/// monotone in `x`, and the file keeps the written mean exactly (shortest round-trip form), so
/// the mean recomputed from what is read back is the one written, bit for bit, however large
/// the sum; `surge plot` then draws what `surge run` drew. (Rounding `mean * 1e9 * applied`
/// alone is off by a nanosecond or more once a bucket's sum nears 1e15 ns.) O(log x).
///
/// [`DatabaseCounts::mean_lag_s`]: crate::metrics::database::DatabaseCounts::mean_lag_s
fn lag_sum_ns(mean_s: f64, applied: u64) -> u128 {
    let mean_of = |lag_ns: u128| {
        crate::metrics::database::DatabaseCounts {
            applied,
            lag_ns,
            ..Default::default()
        }
        .mean_lag_s()
    };
    if applied == 0 {
        return 0;
    }
    // Above the sum: `as` saturates, so no value can overflow.
    let mut hi = ((mean_s * 1e9 * applied as f64) * (1.0 + 1e-9)) as u128;
    hi = hi.saturating_add(2);
    if mean_of(hi) < mean_s {
        return hi;
    }
    let mut lo = 0;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if mean_of(mid) >= mean_s {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::{ExecuteOptions, run_experiment};

    /// One service named like a formula (`-` is the one formula prefix a service name may start with), two variants with names a naive CSV would break on.
    const EXPERIMENT: &str = r#"{
      "name": "csv-test",
      "model": { "services": { "-api": {
        "replicas": 2,
        "instance": { "cores": 1 },
        "endpoints": { "get": { "steps": [ { "cpu": { "kind": "constant", "value": "2ms" } } ] } }
      } } },
      "workload": [ { "name": "users", "kind": "open", "rate": { "kind": "constant", "rps": 100 },
        "mix": [ { "service": "-api", "endpoint": "get" } ] } ],
      "duration": "4s", "seed": 5, "replications": 2, "resolution": "1s",
      "variants": { "plain": {}, "other": {} }
    }"#;

    fn fixture(tag: &str, names: &[&str]) -> (Report, Vec<RunResult>) {
        let dir = std::env::temp_dir().join(format!("surge-csv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{tag}.json"));
        std::fs::write(&path, EXPERIMENT).unwrap();
        let mut exp = crate::config::load_experiment(&path).unwrap_or_else(|e| panic!("{e}"));
        let _ = std::fs::remove_file(&path);
        // Names set after validation, as a hand-edited report could carry them.
        for (v, name) in exp.variants.iter_mut().zip(names) {
            v.name = (*name).to_string();
        }
        let results = run_experiment(&exp, &ExecuteOptions::default())
            .expect("the run stays within its limits");
        (Report::new(&exp, &results), results)
    }

    #[test]
    fn names_with_separators_line_breaks_and_formula_prefixes_round_trip() {
        for names in [
            ["two\nlines", "a\rb"],
            ["=HYPERLINK(\"x\")", "'quoted, \"twice\""],
            ["-1", "@x\r\n"],
        ] {
            let (report, results) = fixture(&format!("round-trip-{}", names[0].len()), &names);
            let text = render(&results);
            for line in text.split(['\n', '\r']) {
                for field in line.split(',') {
                    let field = field.trim_start_matches('"');
                    assert!(
                        !field.starts_with(['=', '+', '-', '@', '\t']),
                        "{field:?} in {text}"
                    );
                }
            }
            let back = read_first_replications(&text, &report).unwrap_or_else(|e| panic!("{e}"));
            let mut expected: Vec<RunResult> = results
                .iter()
                .filter(|r| r.id.replication == 0)
                .cloned()
                .collect();
            expected.sort_by_key(|r| r.id);
            assert_eq!(back.len(), expected.len());
            for (b, e) in back.iter().zip(&expected) {
                assert_eq!(b.variant, e.variant);
                assert_eq!(b.output.timeseries, e.output.timeseries, "{:?}", e.variant);
            }
            // And what was read renders to the same bytes (what `surge plot` relies on).
            let first: Vec<RunResult> = expected;
            assert_eq!(render(&back), render(&first));
        }
    }

    #[test]
    fn per_service_arrivals_add_up_to_the_bucket_arrivals() {
        let (_, results) = fixture("arrivals", &["plain", "other"]);
        for r in &results {
            assert!(!r.output.timeseries.is_empty());
            for row in &r.output.timeseries {
                let by_service: u64 = row.services.iter().map(|b| b.arrivals).sum();
                assert_eq!(by_service, row.arrivals);
            }
        }
    }

    #[test]
    fn a_broken_file_names_its_line() {
        let (report, results) = fixture("broken", &["plain", "other"]);
        let text = render(&results);
        let mut lines: Vec<&str> = text.lines().collect();
        lines[3] = "plain,0,1";
        let e = read_first_replications(&lines.join("\n"), &report).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("3 fields"), "{e}");
        let e = read_first_replications("variant,replication\n", &report).unwrap_err();
        assert_eq!(e.line, 1);
        assert!(text.starts_with("variant,") && text.contains(",'-api.arrivals,"));
    }

    /// Whatever a bucket's lag sum, the mean read back is the mean written, bit for bit: the
    /// plots draw that mean, and `surge plot` must redraw them byte for byte.
    #[test]
    fn the_mean_lag_reads_back_exactly() {
        use crate::metrics::database::DatabaseCounts;
        for (lag_ns, applied) in [
            (0u128, 0u64),
            (0, 5),
            (1, 1),
            (1_544_100, 1),
            (3_000_000_007, 1_999),
            (123_456_789_012_345, 4_001),
            (9_876_543_210_987_654, 39_999),
            (u128::from(u64::MAX) * 3, 7),
        ] {
            let written = DatabaseCounts {
                applied,
                lag_ns,
                ..Default::default()
            };
            let mean: f64 = written.mean_lag_s().to_string().parse().unwrap();
            let read = DatabaseCounts {
                applied,
                lag_ns: lag_sum_ns(mean, applied),
                ..Default::default()
            };
            assert_eq!(
                read.mean_lag_s().to_bits(),
                written.mean_lag_s().to_bits(),
                "{lag_ns} ns over {applied}"
            );
            if lag_ns < 1 << 50 {
                assert_eq!(read.lag_ns, lag_ns, "exact below 2^50 ns");
            }
        }
    }
}
