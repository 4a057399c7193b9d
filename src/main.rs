//! The `surge` command line: parses arguments, calls the library, prints, and exits with
//! 0 (success), 2 (bad input), 3 (a `surge compare --fail-if` threshold crossed) or 1
//! (anything else, e.g. an output that cannot be written).

mod cli;

use anyhow::Context;
use clap::Parser;
use cli::{Cli, Command, CompareArgs, RunArgs, SchemaArg, SweepArgs};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use surge::experiment::{ExecuteOptions, run_experiment};
use surge::output::{OutputError, Staging, list_paths};
use surge::report::{HtmlPage, ImageFormats, Report, html, table, write_outputs_with, write_plots};
use surge::terminal::{Progress, escape_controls, with_progress};

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
        Command::Run(args) => run(args),
        Command::Plot {
            file,
            out,
            metrics,
            png,
        } => plot(&file, out, &metrics, cli::image_formats(png)),
        Command::Report { file, html, out } => {
            if html {
                report_html(&file, out.as_deref())
            } else {
                report_table(&file)
            }
        }
        Command::Validate { files } => validate(&files),
        Command::Sweep(args) => sweep(args),
        Command::Merge { files, out } => merge(&files, &out),
        Command::Hpa { file } => hpa(&file),
        Command::Compare(args) => compare(args),
        Command::Schema { format } => schema(format),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(msg)) => {
            eprintln!("error: {}", escape_controls(&msg));
            ExitCode::from(2)
        }
        Err(Failure::Threshold) => ExitCode::from(3),
        Err(Failure::Other(e)) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {}", escape_controls(&chain(&e)));
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

fn bad_input(e: impl std::fmt::Display) -> Failure {
    Failure::BadInput(e.to_string())
}

/// An output directory that is not Surge's is bad input; a failed write is not.
fn output_failure(e: OutputError) -> Failure {
    match e {
        OutputError::NotOurs { .. } => bad_input(e),
        other => Failure::Other(other.into()),
    }
}

/// Writes `text` to stdout as it is; `what` names it if that fails.
fn print(text: &str, what: &'static str) -> Result<(), Failure> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context(what)
        .map_err(Failure::Other)
}

/// As [`print`], with control characters escaped: the text holds names from files.
fn print_escaped(text: &str, what: &'static str) -> Result<(), Failure> {
    print(&escape_controls(text), what)
}

fn check_jobs(jobs: Option<usize>) -> Result<(), Failure> {
    if jobs == Some(0) {
        return Err(bad_input("-j/--jobs must be at least 1"));
    }
    Ok(())
}

fn run(args: RunArgs) -> Result<(), Failure> {
    let file = &args.file;
    let mut exp = surge::config::load_experiment(file).map_err(bad_input)?;
    if let Some(s) = args.seed {
        exp.set_seed(s);
    }
    if let Some(r) = args.replications {
        exp.set_replications(r)
            .map_err(|e| bad_input(format!("{}: --replications {r}: {e}", file.display())))?;
    }
    check_jobs(args.jobs)?;
    let out = args.out.unwrap_or_else(|| exp.default_out());
    // Before anything runs: a file in the way or a directory that cannot be written shows now.
    let staging = Staging::prepare(&out).map_err(output_failure)?;
    let progress = Arc::new(AtomicU64::new(0));
    let options = ExecuteOptions {
        threads: args.jobs,
        progress: Some(progress.clone()),
        limits: args.limits.limits(),
    };
    let bar = (!args.quiet).then(|| Progress::simulated(&exp));
    let results = with_progress(bar, &progress, || run_experiment(&exp, &options))
        .map_err(|e| bad_input(format!("{}: {e}; nothing was written", file.display())))?;
    let report = Report::new(&exp, &results);
    let page = if args.html {
        HtmlPage::Write
    } else {
        HtmlPage::Skip
    };
    let written = write_outputs_with(
        staging.dir(),
        &report,
        &results,
        cli::image_formats(args.png),
        page,
    )
    .map_err(|e| Failure::Other(e.into()))?;
    let written = staging.commit_files(&written).map_err(output_failure)?;
    if args.quiet {
        return Ok(());
    }
    let summary = table::titled(
        &exp.name,
        exp.description.as_deref(),
        &table::render(&report),
    );
    print_escaped(
        &format!("{summary}\nwrote {}\n", list_paths(&written)),
        "writing the summary",
    )
}

fn report_table(file: &Path) -> Result<(), Failure> {
    let summary = surge::report::read_summary(file).map_err(bad_input)?;
    print_escaped(&summary, "writing the summary")
}

fn report_html(file: &Path, out: Option<&Path>) -> Result<(), Failure> {
    let path = html::write_page(file, out).map_err(|e| match e {
        html::HtmlError::Report(e) => bad_input(e),
        other => Failure::Other(other.into()),
    })?;
    print_escaped(&format!("wrote {}\n", path.display()), "writing the path")
}

fn sweep(args: SweepArgs) -> Result<(), Failure> {
    use surge::sweep::{SweepOptions, parse_shard, run_sweep};
    check_jobs(args.jobs)?;
    let shard = args.shard.as_deref().map(parse_shard);
    let shard = shard.transpose().map_err(bad_input)?;
    let sw = surge::sweep::load_sweep(&args.file).map_err(bad_input)?;
    let out = args.out.unwrap_or_else(|| sw.default_out());
    let staging = Staging::prepare(&out).map_err(output_failure)?;
    let total = sw.shard_runs(shard);
    let done = AtomicU64::new(0);
    let options = SweepOptions {
        threads: args.jobs,
        shard,
        limits: args.limits.limits(),
    };
    let bar = (!args.quiet).then_some(Progress::Runs {
        total: total as u64,
    });
    let report = with_progress(bar, &done, || run_sweep(&sw, &options, Some(&done)))
        .map_err(|e| bad_input(format!("{}: {e}; nothing was written", args.file.display())))?;
    let written = report.write_into(staging).map_err(output_failure)?;
    if args.quiet {
        return Ok(());
    }
    let mut text = format!(
        "{}: {} point(s) x {} variant(s) x {} replication(s){}: wrote {}\n",
        report.experiment,
        sw.points.len(),
        report.variants.len(),
        report.replications,
        shard.map_or(String::new(), |(k, n)| format!(
            ", shard {k}/{n} ({total} runs)"
        )),
        list_paths(&written)
    );
    // A shard holds part of each point's runs: its summary waits for `surge merge`.
    if shard.is_none() {
        text.push('\n');
        text.push_str(&surge::sweep::summary::render(&report));
    }
    print_escaped(&text, "writing the summary")
}

fn merge(inputs: &[PathBuf], out: &Path) -> Result<(), Failure> {
    let staging = Staging::prepare(out).map_err(output_failure)?;
    let merged = surge::sweep::merge_files(inputs).map_err(bad_input)?;
    let written = merged.write_into(staging).map_err(output_failure)?;
    println!(
        "merged {} shard(s): wrote {}",
        inputs.len(),
        list_paths(&written)
    );
    Ok(())
}

fn compare(args: CompareArgs) -> Result<(), Failure> {
    use surge::compare::{self, render, threshold};
    let bad = |e: compare::InputError| Failure::BadInput(e.0);
    let alpha = args.alpha;
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(bad_input(format!(
            "--alpha must be between 0 and 1 (exclusive), got {alpha}"
        )));
    }
    let rules = args
        .fail_if
        .iter()
        .map(|r| threshold::Rule::parse(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    let subjects = compare::load_subjects(&args.reports).map_err(bad)?;
    let options = compare::Options {
        alpha,
        test: args.test.into(),
        metrics: args.metrics,
    };
    let comparison = compare::compare(&subjects, &options).map_err(bad)?;
    let tests = threshold::tests_of(&comparison);
    let checks =
        threshold::check(&rules, &subjects, &tests, alpha, args.significant_only).map_err(bad)?;
    let text = render::render(&comparison, &checks, args.format.into());
    print_escaped(&text, "writing the comparison")?;
    let breached: Vec<String> = checks
        .iter()
        .filter(|c| c.breached)
        .map(|c| format!("{} ({} {})", c.rule, c.candidate, c.metric))
        .collect();
    if breached.is_empty() {
        return Ok(());
    }
    eprintln!(
        "error: {} --fail-if check(s) failed: {}",
        breached.len(),
        breached.join("; ")
    );
    Err(Failure::Threshold)
}

fn hpa(file: &Path) -> Result<(), Failure> {
    use surge::autoscaler::hpa::{read_snapshot, reconcile};
    let state = read_snapshot(file).map_err(bad_input)?;
    let json = serde_json::to_string_pretty(&reconcile(&state))
        .context("encoding the decision")
        .map_err(Failure::Other)?;
    print(&format!("{json}\n"), "writing the decision")
}

fn schema(format: SchemaArg) -> Result<(), Failure> {
    let text = surge::config::schema::schema_text(format.into());
    print(&text, "writing the schema")
}

fn validate(files: &[PathBuf]) -> Result<(), Failure> {
    let mut failures = Vec::new();
    for f in files {
        match surge::sweep::describe_file(f) {
            Ok(what) => print_escaped(&format!("ok: {} ({what})\n", f.display()), "writing")?,
            Err(e) => failures.push(e.to_string()),
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Failure::BadInput(failures.join("\nerror: ")))
    }
}

/// `surge plot`: a sweep.json's plots, or a run's plots again from its report.json and
/// timeseries.csv, into `out` (default: beside the file).
fn plot(
    file: &Path,
    out: Option<PathBuf>,
    metrics: &[String],
    formats: ImageFormats,
) -> Result<(), Failure> {
    use surge::report::plots::{PlotFileError, plot_file};
    let plots = plot_file(file, metrics).map_err(|e| match e {
        PlotFileError::Draw(e) => Failure::Other(e.into()),
        other => bad_input(other),
    })?;
    let dir = out.unwrap_or_else(|| surge::output::dir_of(file).to_path_buf());
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating {}", dir.display()))
        .map_err(Failure::Other)?;
    let written = write_plots(&dir, &plots, formats).map_err(|e| Failure::Other(e.into()))?;
    let lines: String = written
        .iter()
        .map(|p| format!("{}\n", p.display()))
        .collect();
    print(&lines, "writing the list of files")
}
