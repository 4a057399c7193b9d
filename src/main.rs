//! The `surge` command line: parses arguments, calls the library, prints, and exits with
//! 0 (success), 2 (bad input), 3 (a `surge compare --fail-if` threshold crossed) or 1
//! (anything else, e.g. an output that cannot be written).

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use surge::experiment::{ExecuteOptions, Experiment, run_experiment};
use surge::output::Staging;
use surge::report::plots::sweep::{SweepPlotError, render_sweep};
use surge::report::{HtmlPage, ImageFormats, Report, html, table, write_outputs_with, write_plots};

#[derive(Parser, Debug)]
#[command(
    name = "surge",
    version,
    about = "Deterministic discrete-event simulation of scalability strategies"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run an experiment: every variant x replication, then print a summary and write
    /// report.json, timeseries.csv and the plots (and report.html with --html).
    Run {
        /// The experiment file.
        file: PathBuf,
        /// Output directory [default: results/<experiment name>].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override the file's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Override the file's number of replications.
        #[arg(long)]
        replications: Option<u32>,
        /// Worker threads [default: all cores].
        #[arg(short = 'j', long)]
        jobs: Option<usize>,
        /// Also write report.html: one self-contained page with the summary, plots and
        /// configuration.
        #[arg(long)]
        html: bool,
        /// Print nothing but errors.
        #[arg(short, long)]
        quiet: bool,
        /// Also write each plot as PNG, beside its SVG.
        #[arg(long)]
        png: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Show a finished run's report.json: print its summary table, or with --html write
    /// report.html beside it. Given a sweep.json, print the sweep's summary.
    Report {
        /// The report.json written by `surge run` (or a sweep.json).
        file: PathBuf,
        /// Write the self-contained HTML page (with the SVG plots beside the report) instead of
        /// printing the table, and print its path.
        #[arg(long)]
        html: bool,
        /// Where to write the page [default: report.html beside the report].
        #[arg(long, requires = "html")]
        out: Option<PathBuf>,
    },
    /// Run every point of an experiment's `sweep` (x variants x replications) in parallel and
    /// write sweep.json and sweep.csv.
    Sweep {
        /// The experiment file, with a `sweep`.
        file: PathBuf,
        /// Output directory [default: results/<experiment name>-sweep].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Worker threads [default: all cores].
        #[arg(short = 'j', long)]
        jobs: Option<usize>,
        /// Run only the K-th of N disjoint slices of the runs, e.g. `--shard 2/4`; join the
        /// slices with `surge merge`.
        #[arg(long)]
        shard: Option<String>,
        /// Print nothing but errors.
        #[arg(short, long)]
        quiet: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Join the sweep.json files of every shard of a sweep into the sweep.json (and sweep.csv)
    /// the unsharded sweep writes.
    Merge {
        /// The shards' sweep.json files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Draw the plots of a sweep (its sweep.json): each metric against the swept parameter
    /// and, for a grid over two parameters, heatmaps. Given a run's report.json instead, draw
    /// the run's plots again from it and the timeseries.csv beside it.
    Plot {
        /// A sweep.json (or a report.json).
        file: PathBuf,
        /// Output directory [default: the file's directory].
        #[arg(long)]
        out: Option<PathBuf>,
        /// A metric to plot, e.g. `latency_s.p99` (repeatable) [default: p99 latency, error
        /// rate, SLO-violation minutes, cost, and each service's instance-hours and peak
        /// instances, those the sweep has].
        #[arg(long = "metric", value_name = "NAME")]
        metrics: Vec<String>,
        /// Also write each plot as PNG, beside its SVG.
        #[arg(long)]
        png: bool,
    },
    /// Put reports (or the variants inside one) side by side: every metric with its 95%
    /// interval, the difference from the first (the baseline) and whether it is statistically
    /// significant. Exits 3 when a --fail-if threshold is crossed.
    Compare {
        /// report.json files, or `report.json#variant` for one variant; a file alone brings
        /// all its variants. The first is the baseline.
        #[arg(required = true)]
        reports: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = CompareFormat::Table)]
        format: CompareFormat,
        /// Metrics to show, by flat name or `*` pattern (repeatable), e.g. `latency_s.*`
        /// [default: latency, errors, SLO, replicas, CPU and cost].
        #[arg(long = "metric")]
        metrics: Vec<String>,
        /// Fail (exit 3) when a candidate crosses a threshold, e.g. 'p99 > +10%' (relative to
        /// the baseline), 'cost > +2' (absolute change), 'error_rate > 1%' (its own value).
        /// Repeatable.
        #[arg(long = "fail-if")]
        fail_if: Vec<String>,
        /// Count a change against --fail-if only when it is statistically significant.
        #[arg(long)]
        significant_only: bool,
        /// Significance level of the two-sided t-tests.
        #[arg(long, default_value_t = 0.05)]
        alpha: f64,
        /// Which t-test: paired when both sides ran the same replications from the same seed
        /// (common random numbers), Welch otherwise.
        #[arg(long, value_enum, default_value_t = CompareTest::Auto)]
        test: CompareTest,
    },
    /// What one Kubernetes HPA reconcile would set the replica count to, from a snapshot of
    /// the HPA spec, its pods and their metrics. Prints the decision as JSON.
    Hpa {
        /// The snapshot file (see src/autoscaler/hpa/examples/).
        file: PathBuf,
    },
    /// Check experiment files (and the models and traces they name) without running them.
    Validate {
        /// Experiment files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the JSON Schema (draft 2020-12) of an experiment file or a model file, for
    /// editors: a file that names it in "$schema" gets completion and checking as it is typed.
    Schema {
        /// Which file format.
        #[arg(value_enum, default_value_t = SchemaArg::Experiment)]
        format: SchemaArg,
    },
}

/// What one run may use before it is stopped as runaway.
#[derive(clap::Args, Debug)]
struct LimitArgs {
    /// Most events one run may process [default: 5000000000, about 600 million requests];
    /// a run whose pace would take it past this stops early and says what drives it.
    #[arg(long, value_name = "N")]
    max_events: Option<u64>,
    /// Most requests one run may hold in memory at once [default: 5000000, about 1 GB]; a run
    /// that crosses it stops and names the queue that grew.
    #[arg(long, value_name = "N")]
    max_in_flight: Option<u64>,
}

impl LimitArgs {
    fn limits(&self) -> surge::simulation::RunLimits {
        let d = surge::simulation::RunLimits::default();
        surge::simulation::RunLimits {
            max_events: self.max_events.unwrap_or(d.max_events),
            max_in_flight: self.max_in_flight.unwrap_or(d.max_in_flight),
        }
    }
}

/// The file formats `surge schema` describes.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum SchemaArg {
    /// An experiment file (experiments/*.json).
    Experiment,
    /// A model file (models/*.json).
    Model,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum CompareFormat {
    Table,
    Markdown,
    Json,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum CompareTest {
    Auto,
    Paired,
    Welch,
}

/// Input problems exit with 2, a crossed `--fail-if` threshold with 3, everything else
/// with 1.
enum Failure {
    BadInput(String),
    Threshold,
    Other(anyhow::Error),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    surge::output::handle_interrupts();
    let result = match cli.command {
        Command::Run {
            file,
            out,
            seed,
            replications,
            jobs,
            html,
            quiet,
            png,
            limits,
        } => {
            let page = if html {
                HtmlPage::Write
            } else {
                HtmlPage::Skip
            };
            run(
                &file,
                out,
                RunOverrides { seed, replications },
                jobs,
                RunOutputs {
                    formats: formats(png),
                    page,
                },
                limits.limits(),
                quiet,
            )
        }
        Command::Plot {
            file,
            out,
            metrics,
            png,
        } => plot(&file, out, &metrics, formats(png)),
        Command::Report { file, html, out } => {
            if html {
                report_html(&file, out.as_deref())
            } else {
                report_table(&file)
            }
        }
        Command::Validate { files } => validate(&files),
        Command::Sweep {
            file,
            out,
            jobs,
            shard,
            quiet,
            limits,
        } => sweep(&file, out, jobs, shard.as_deref(), limits.limits(), quiet),
        Command::Merge { files, out } => merge(&files, &out),
        Command::Hpa { file } => hpa(&file),
        Command::Compare {
            reports,
            format,
            metrics,
            fail_if,
            significant_only,
            alpha,
            test,
        } => compare(
            &reports,
            format,
            metrics,
            &fail_if,
            significant_only,
            alpha,
            test,
        ),
        Command::Schema { format } => schema(format),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(msg)) => {
            eprintln!("error: {}", terminal_safe(&msg));
            ExitCode::from(2)
        }
        Err(Failure::Threshold) => ExitCode::from(3),
        Err(Failure::Other(e)) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {}", terminal_safe(&chain(&e)));
            ExitCode::from(1)
        }
    }
}

/// The error and its causes, each cause once: a message that already quotes its cause (as
/// `cannot write X: No space left on device` does) does not get it again.
fn chain(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn load(file: &Path) -> Result<Experiment, Failure> {
    surge::config::load_experiment(file).map_err(|e| Failure::BadInput(e.to_string()))
}

fn formats(png: bool) -> ImageFormats {
    if png {
        ImageFormats::SvgAndPng
    } else {
        ImageFormats::Svg
    }
}

/// What `surge run` may change of the file.
struct RunOverrides {
    seed: Option<u64>,
    replications: Option<u32>,
}

/// What `surge run` writes besides report.json and timeseries.csv.
struct RunOutputs {
    formats: ImageFormats,
    page: HtmlPage,
}

fn run(
    file: &Path,
    out: Option<PathBuf>,
    RunOverrides { seed, replications }: RunOverrides,
    jobs: Option<usize>,
    RunOutputs { formats, page }: RunOutputs,
    limits: surge::simulation::RunLimits,
    quiet: bool,
) -> Result<(), Failure> {
    let mut exp = load(file)?;
    if let Some(s) = seed {
        exp.seed = s;
        exp.config["seed"] = s.into();
    }
    if let Some(r) = replications {
        exp.set_replications(r).map_err(|e| {
            Failure::BadInput(format!("{}: --replications {r}: {e}", file.display()))
        })?;
    }
    if jobs == Some(0) {
        return Err(Failure::BadInput("-j/--jobs must be at least 1".into()));
    }
    let out = out.unwrap_or_else(|| default_out(&exp.name, ""));
    // Before anything runs: a file in the way or a directory that cannot be written shows now.
    let staging = Staging::prepare(&out).map_err(output_failure)?;
    let progress = Arc::new(AtomicU64::new(0));
    let options = ExecuteOptions {
        threads: jobs,
        progress: Some(progress.clone()),
        limits,
    };
    let show_bar = !quiet && std::io::stdout().is_terminal();
    let total_ns = exp.duration.as_nanos() as u128 * exp.runs().len() as u128;
    let done = AtomicBool::new(false);
    let results = std::thread::scope(|scope| {
        if show_bar {
            scope.spawn(|| draw_progress(&progress, total_ns, &done, exp.runs().len()));
        }
        let r = run_experiment(&exp, &options);
        done.store(true, Ordering::Relaxed);
        r
    })
    .map_err(|e| Failure::BadInput(format!("{}: {e}; nothing was written", file.display())))?;
    let report = Report::new(&exp, &results);
    let mut written = write_outputs_with(staging.dir(), &report, &results, formats, page)
        .map_err(|e| Failure::Other(e.into()))?;
    let dir = staging.commit().map_err(output_failure)?;
    for p in &mut written {
        if let Some(name) = p.file_name() {
            *p = dir.join(name);
        }
    }
    if !quiet {
        let mut stdout = std::io::stdout().lock();
        let text = format!(
            "{}{}\n{}\nwrote {}\n",
            exp.name,
            exp.description
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default(),
            table::render(&report),
            written
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        stdout
            .write_all(terminal_safe(&text).as_bytes())
            .context("writing the summary")
            .map_err(Failure::Other)?;
    }
    Ok(())
}

/// `results/<name><suffix>`, with the name made safe as one path component.
fn default_out(name: &str, suffix: &str) -> PathBuf {
    Path::new("results").join(surge::output::safe_file_name(&format!("{name}{suffix}")))
}

fn output_failure(e: surge::output::OutputError) -> Failure {
    match e {
        surge::output::OutputError::NotOurs { .. } => Failure::BadInput(e.to_string()),
        other => Failure::Other(other.into()),
    }
}

/// `text` with every control character but newline and tab shown as an escape, so that a
/// name from a file cannot move the cursor, retitle the terminal or clear the screen.
fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    if !text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

fn report_table(file: &Path) -> Result<(), Failure> {
    let (name, description, table) = match surge::report::read_report(file) {
        Ok(r) => {
            let table = table::render(&r);
            (r.experiment, r.description, table)
        }
        // A sweep.json (merged shards too) gets the summary `surge sweep` prints.
        Err(e) => match surge::sweep::read_sweep_report(file) {
            Ok(sw) => {
                let table = surge::sweep::summary::render(&sw);
                (sw.experiment, sw.description, table)
            }
            Err(_) => return Err(Failure::BadInput(e.to_string())),
        },
    };
    let description = description.map(|d| format!(": {d}")).unwrap_or_default();
    let text = format!("{name}{description}\n{table}");
    std::io::stdout()
        .lock()
        .write_all(terminal_safe(&text).as_bytes())
        .context("writing the summary")
        .map_err(Failure::Other)
}

fn report_html(file: &Path, out: Option<&Path>) -> Result<(), Failure> {
    let path = html::write_page(file, out).map_err(|e| match e {
        html::HtmlError::Report(e) => Failure::BadInput(e.to_string()),
        other => Failure::Other(other.into()),
    })?;
    let line = format!("wrote {}\n", path.display());
    std::io::stdout()
        .lock()
        .write_all(terminal_safe(&line).as_bytes())
        .context("writing the path")
        .map_err(Failure::Other)
}

fn draw_progress(progress: &AtomicU64, total_ns: u128, done: &AtomicBool, runs: usize) {
    let total_ms = (total_ns / 1_000_000).max(1) as u64;
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total_ms),
        indicatif::ProgressDrawTarget::stdout(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {percent:>3}% of {msg} simulated, {elapsed} elapsed, ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(format!("{runs} run(s)"));
    while !done.load(Ordering::Relaxed) {
        bar.set_position((progress.load(Ordering::Relaxed) / 1_000_000).min(total_ms));
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    bar.finish_and_clear();
}

/// Parses `K/N` (1 <= K <= N).
fn parse_shard(text: &str) -> Result<(usize, usize), Failure> {
    let bad = || {
        Failure::BadInput(format!(
            "--shard expects K/N with 1 <= K <= N (e.g. 2/4), got \"{text}\""
        ))
    };
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

fn sweep(
    file: &Path,
    out: Option<PathBuf>,
    jobs: Option<usize>,
    shard: Option<&str>,
    limits: surge::simulation::RunLimits,
    quiet: bool,
) -> Result<(), Failure> {
    if jobs == Some(0) {
        return Err(Failure::BadInput("-j/--jobs must be at least 1".into()));
    }
    let shard = shard.map(parse_shard).transpose()?;
    let sw = surge::sweep::load_sweep(file).map_err(|e| Failure::BadInput(e.to_string()))?;
    let out = out.unwrap_or_else(|| default_out(&sw.name, "-sweep"));
    let staging = Staging::prepare(&out).map_err(output_failure)?;
    let total = match shard {
        Some((k, n)) => (sw.runs().len() + n - k) / n,
        None => sw.runs().len(),
    };
    let done_runs = AtomicU64::new(0);
    let finished = AtomicBool::new(false);
    let show_bar = !quiet && std::io::stderr().is_terminal();
    let options = surge::sweep::SweepOptions {
        threads: jobs,
        shard,
        limits,
    };
    let report = std::thread::scope(|scope| {
        if show_bar {
            scope.spawn(|| draw_sweep_progress(&done_runs, total as u64, &finished));
        }
        let r = surge::sweep::run_sweep(&sw, &options, Some(&done_runs));
        finished.store(true, Ordering::Relaxed);
        r
    })
    .map_err(|e| Failure::BadInput(format!("{}: {e}; nothing was written", file.display())))?;
    let written = write_sweep(staging, &report)?;
    if !quiet {
        let mut text = format!(
            "{}: {} point(s) x {} variant(s) x {} replication(s){}: wrote {}\n",
            report.experiment,
            sw.points.len(),
            report.variants.len(),
            report.replications,
            shard.map_or(String::new(), |(k, n)| format!(
                ", shard {k}/{n} ({total} runs)"
            )),
            written
        );
        // A shard holds part of each point's runs: its summary waits for `surge merge`.
        if shard.is_none() {
            text.push('\n');
            text.push_str(&surge::sweep::summary::render(&report));
        }
        std::io::stdout()
            .lock()
            .write_all(terminal_safe(&text).as_bytes())
            .context("writing the summary")
            .map_err(Failure::Other)?;
    }
    Ok(())
}

/// Writes sweep.json and sweep.csv through `staging`, so the two always come from one sweep.
fn write_sweep(staging: Staging, report: &surge::sweep::SweepReport) -> Result<String, Failure> {
    let names: Vec<PathBuf> = report
        .write_files(staging.dir())
        .map_err(|e| Failure::Other(e.into()))?;
    let dir = staging.commit().map_err(output_failure)?;
    Ok(names
        .iter()
        .filter_map(|p| p.file_name())
        .map(|n| dir.join(n).display().to_string())
        .collect::<Vec<_>>()
        .join(", "))
}

fn merge(inputs: &[PathBuf], out: &Path) -> Result<(), Failure> {
    let staging = Staging::prepare(out).map_err(output_failure)?;
    let mut shards = Vec::new();
    for input in inputs {
        // The Kubernetes job writes one directory per shard: take its sweep.json.
        let f = if input.is_dir() {
            input.join("sweep.json")
        } else {
            input.clone()
        };
        shards.push(
            surge::sweep::read_sweep_report(&f).map_err(|e| Failure::BadInput(e.to_string()))?,
        );
    }
    let merged = surge::sweep::SweepReport::merge(shards).map_err(|e| {
        Failure::BadInput(format!(
            "cannot merge {}: {e}",
            inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let written = write_sweep(staging, &merged)?;
    println!("merged {} shard(s): wrote {written}", inputs.len());
    Ok(())
}

fn draw_sweep_progress(done: &AtomicU64, total: u64, finished: &AtomicBool) {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total.max(1)),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} runs, {per_sec}, {elapsed} elapsed, ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    while !finished.load(Ordering::Relaxed) {
        bar.set_position(done.load(Ordering::Relaxed).min(total));
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    bar.finish_and_clear();
}

fn compare(
    reports: &[String],
    format: CompareFormat,
    metrics: Vec<String>,
    fail_if: &[String],
    significant_only: bool,
    alpha: f64,
    test: CompareTest,
) -> Result<(), Failure> {
    use surge::compare::{self, TestChoice, render, threshold};
    let bad = |e: compare::InputError| Failure::BadInput(e.0);
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(Failure::BadInput(format!(
            "--alpha must be between 0 and 1 (exclusive), got {alpha}"
        )));
    }
    let rules = fail_if
        .iter()
        .map(|r| threshold::Rule::parse(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    let subjects = compare::load_subjects(reports).map_err(bad)?;
    let options = compare::Options {
        alpha,
        test: match test {
            CompareTest::Auto => TestChoice::Auto,
            CompareTest::Paired => TestChoice::Paired,
            CompareTest::Welch => TestChoice::Welch,
        },
        metrics,
    };
    let comparison = compare::compare(&subjects, &options).map_err(bad)?;
    let checks = threshold::check(
        &rules,
        &subjects,
        &threshold::tests_of(&comparison),
        alpha,
        significant_only,
    )
    .map_err(bad)?;
    let format = match format {
        CompareFormat::Table => render::Format::Table,
        CompareFormat::Markdown => render::Format::Markdown,
        CompareFormat::Json => render::Format::Json,
    };
    std::io::stdout()
        .lock()
        .write_all(terminal_safe(&render::render(&comparison, &checks, format)).as_bytes())
        .context("writing the comparison")
        .map_err(Failure::Other)?;
    let breached = checks.iter().filter(|c| c.breached).count();
    if breached > 0 {
        eprintln!(
            "error: {breached} --fail-if check(s) failed: {}",
            checks
                .iter()
                .filter(|c| c.breached)
                .map(|c| format!("{} ({} {})", c.rule, c.candidate, c.metric))
                .collect::<Vec<_>>()
                .join("; ")
        );
        return Err(Failure::Threshold);
    }
    Ok(())
}

fn hpa(file: &Path) -> Result<(), Failure> {
    let text = surge::input::read_text(file, surge::input::MAX_CONFIG_BYTES).map_err(|e| {
        Failure::BadInput(format!(
            "{}: cannot read the HPA snapshot: {e}",
            file.display()
        ))
    })?;
    let state = surge::autoscaler::hpa::parse_snapshot(&text).map_err(|e| {
        use surge::autoscaler::hpa::StateError;
        let sep = match &e {
            StateError::Invalid {
                line_column: None, ..
            } => ": ",
            _ => ":",
        };
        Failure::BadInput(format!("{}{sep}{e}", file.display()))
    })?;
    let decision = surge::autoscaler::hpa::reconcile(&state);
    let mut json = serde_json::to_string_pretty(&decision)
        .context("encoding the decision")
        .map_err(Failure::Other)?;
    json.push('\n');
    std::io::stdout()
        .lock()
        .write_all(json.as_bytes())
        .context("writing the decision")
        .map_err(Failure::Other)
}

fn schema(format: SchemaArg) -> Result<(), Failure> {
    use surge::config::schema::{SchemaKind, schema_text};
    let kind = match format {
        SchemaArg::Experiment => SchemaKind::Experiment,
        SchemaArg::Model => SchemaKind::Model,
    };
    std::io::stdout()
        .lock()
        .write_all(schema_text(kind).as_bytes())
        .context("writing the schema")
        .map_err(Failure::Other)
}

fn validate(files: &[PathBuf]) -> Result<(), Failure> {
    let mut failures = Vec::new();
    let mut stdout = std::io::stdout().lock();
    for f in files {
        // A file with a `sweep` is checked at every point, as `surge sweep` would.
        let checked = surge::config::load_experiment(f).and_then(|exp| {
            let points = if exp.config.get("sweep").is_some() {
                let sw = surge::sweep::load_sweep(f)?;
                format!(
                    "; sweep: {} point(s), {} run(s)",
                    sw.points.len(),
                    sw.runs().len()
                )
            } else {
                String::new()
            };
            Ok((exp, points))
        });
        match checked {
            Ok((exp, points)) => {
                let line = format!("ok: {} ({}{points})\n", f.display(), describe(&exp));
                stdout
                    .write_all(terminal_safe(&line).as_bytes())
                    .context("writing")
                    .map_err(Failure::Other)?;
            }
            Err(e) => failures.push(e.to_string()),
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Failure::BadInput(failures.join("\nerror: ")))
    }
}

/// One line on what will run, with the mean CPU load each open client offers each service.
fn describe(exp: &Experiment) -> String {
    let mut parts = vec![format!(
        "{} variant(s) x {} replication(s), {} simulated per run",
        exp.variants.len(),
        exp.replications,
        surge::kernel::SimDuration::from_nanos(exp.duration.as_nanos())
    )];
    for (variant, loads) in surge::experiment::load::offered_cpu_load(exp) {
        let loads: Vec<String> = loads
            .iter()
            .map(|l| {
                let note = if l.usable_cores < l.cores {
                    format!(
                        " (the {} cores its event loops can use, of {})",
                        l.usable_cores, l.cores
                    )
                } else {
                    String::new()
                };
                format!(
                    "{} at {:.0}% of CPU capacity{note}",
                    l.service,
                    100.0 * l.utilisation
                )
            })
            .collect();
        if !loads.is_empty() {
            parts.push(format!("{variant}: {}", loads.join(", ")));
        }
    }
    parts.join("; ")
}

/// `surge plot`: a sweep.json's plots, or a run's plots again from its report.json and
/// timeseries.csv.
fn plot(
    file: &Path,
    out: Option<PathBuf>,
    metrics: &[String],
    formats: ImageFormats,
) -> Result<(), Failure> {
    let shown = file.display();
    let text = surge::input::read_text(file, surge::input::MAX_RESULT_BYTES)
        .map_err(|e| Failure::BadInput(format!("{shown}: cannot read the file: {e}")))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Failure::BadInput(format!(
            "{shown}:{}:{}: not JSON: {e}; expected a sweep.json (from `surge sweep`) or a \
             report.json (from `surge run`)",
            e.line(),
            e.column()
        ))
    })?;
    let has = |key: &str| doc.get(key).is_some();
    let dir = out.unwrap_or_else(|| {
        file.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    });
    let plots = if has("points") && has("parameters") {
        let report = surge::sweep::parse_sweep_report(file, &text)
            .map_err(|e| Failure::BadInput(e.to_string()))?;
        let available = surge::report::plots::sweep::available_metrics(&report);
        let metrics = surge::report::aliases::expand(metrics, &available);
        render_sweep(&report, &metrics).map_err(|e| match e {
            SweepPlotError::Draw(e) => Failure::Other(e.into()),
            other => Failure::BadInput(format!("{shown}: {other}")),
        })?
    } else if has("runs") && has("variants") && has("config") {
        if !metrics.is_empty() {
            return Err(Failure::BadInput(format!(
                "{shown}: --metric chooses among a sweep's metrics; a report.json has its plots \
                 drawn whole"
            )));
        }
        let report = surge::report::parse_report(file, &text)
            .map_err(|e| Failure::BadInput(e.to_string()))?;
        run_plots(file, &report)?
    } else {
        return Err(Failure::BadInput(format!(
            "{shown}: not a sweep.json or a report.json: expected the sweep.json of `surge \
             sweep` (with `parameters` and `points`) or the report.json of `surge run` (with \
             `runs`, `variants` and `config`)"
        )));
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating {}", dir.display()))
        .map_err(Failure::Other)?;
    let written = write_plots(&dir, &plots, formats).map_err(|e| Failure::Other(e.into()))?;
    let mut stdout = std::io::stdout().lock();
    for path in written {
        writeln!(stdout, "{}", path.display())
            .context("writing the list of files")
            .map_err(Failure::Other)?;
    }
    Ok(())
}

/// A run's plots from its report.json (`file`, read as `report`) and the timeseries.csv
/// beside it.
fn run_plots(file: &Path, report: &Report) -> Result<Vec<surge::report::plots::Plot>, Failure> {
    let shown = file.display();
    let csv_path = file.with_file_name("timeseries.csv");
    let csv = surge::input::read_text(&csv_path, surge::input::MAX_RESULT_BYTES).map_err(|e| {
        Failure::BadInput(format!(
            "{}: cannot read the time series of {shown}: {e}",
            csv_path.display()
        ))
    })?;
    let results = surge::report::timeseries_csv::read_first_replications(&csv, report)
        .map_err(|e| Failure::BadInput(format!("{}:{e}", csv_path.display())))?;
    surge::report::plots::render(report, &results).map_err(|e| Failure::Other(e.into()))
}
