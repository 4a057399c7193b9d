//! The `surge` command line: parses arguments, calls the library, prints, and exits with
//! 0 (success), 2 (bad input) or 1 (anything else, e.g. an output that cannot be written).

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use surge::experiment::{ExecuteOptions, Experiment, run_experiment};
use surge::report::{Report, table, write_outputs};
use surge::workload::ClientKind;

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
    /// report.json and timeseries.csv.
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
        /// Print nothing but errors.
        #[arg(short, long)]
        quiet: bool,
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

/// The file formats `surge schema` describes.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum SchemaArg {
    /// An experiment file (experiments/*.json).
    Experiment,
    /// A model file (models/*.json).
    Model,
}

/// Input problems exit with 2, everything else with 1.
enum Failure {
    BadInput(String),
    Other(anyhow::Error),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            file,
            out,
            seed,
            replications,
            jobs,
            quiet,
        } => run(&file, out, seed, replications, jobs, quiet),
        Command::Validate { files } => validate(&files),
        Command::Sweep {
            file,
            out,
            jobs,
            shard,
            quiet,
        } => sweep(&file, out, jobs, shard.as_deref(), quiet),
        Command::Merge { files, out } => merge(&files, &out),
        Command::Hpa { file } => hpa(&file),
        Command::Schema { format } => schema(format),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Other(e)) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
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

fn run(
    file: &Path,
    out: Option<PathBuf>,
    seed: Option<u64>,
    replications: Option<u32>,
    jobs: Option<usize>,
    quiet: bool,
) -> Result<(), Failure> {
    let mut exp = load(file)?;
    if let Some(s) = seed {
        exp.seed = s;
        exp.config["seed"] = s.into();
    }
    if let Some(r) = replications {
        if r == 0 {
            return Err(Failure::BadInput(
                "--replications must be at least 1".into(),
            ));
        }
        exp.replications = r;
        exp.config["replications"] = r.into();
    }
    if jobs == Some(0) {
        return Err(Failure::BadInput("-j/--jobs must be at least 1".into()));
    }
    let out = out.unwrap_or_else(|| Path::new("results").join(&exp.name));
    let progress = Arc::new(AtomicU64::new(0));
    let options = ExecuteOptions {
        threads: jobs,
        progress: Some(progress.clone()),
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
    });
    let report = Report::new(&exp, &results);
    let written = write_outputs(&out, &report, &results).map_err(|e| Failure::Other(e.into()))?;
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
            .write_all(text.as_bytes())
            .context("writing the summary")
            .map_err(Failure::Other)?;
    }
    Ok(())
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
    quiet: bool,
) -> Result<(), Failure> {
    if jobs == Some(0) {
        return Err(Failure::BadInput("-j/--jobs must be at least 1".into()));
    }
    let shard = shard.map(parse_shard).transpose()?;
    let sw = surge::sweep::load_sweep(file).map_err(|e| Failure::BadInput(e.to_string()))?;
    let out = out.unwrap_or_else(|| Path::new("results").join(format!("{}-sweep", sw.name)));
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
    };
    let report = std::thread::scope(|scope| {
        if show_bar {
            scope.spawn(|| draw_sweep_progress(&done_runs, total as u64, &finished));
        }
        let r = surge::sweep::run_sweep(&sw, &options, Some(&done_runs));
        finished.store(true, Ordering::Relaxed);
        r
    });
    let written = write_sweep(&out, &report)?;
    if !quiet {
        println!(
            "{}: {} point(s) x {} variant(s) x {} replication(s){}: wrote {}",
            report.experiment,
            sw.points.len(),
            report.variants.len(),
            report.replications,
            shard.map_or(String::new(), |(k, n)| format!(
                ", shard {k}/{n} ({total} runs)"
            )),
            written
        );
    }
    Ok(())
}

fn write_sweep(out: &Path, report: &surge::sweep::SweepReport) -> Result<String, Failure> {
    std::fs::create_dir_all(out)
        .with_context(|| format!("creating {}", out.display()))
        .map_err(Failure::Other)?;
    let mut written = Vec::new();
    for (name, text) in [
        ("sweep.csv", report.to_csv()),
        ("sweep.json", report.to_json()),
    ] {
        let path = out.join(name);
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .with_context(|| format!("writing {}", path.display()))
            .map_err(Failure::Other)?;
        written.push(path.display().to_string());
    }
    Ok(written.join(", "))
}

fn merge(files: &[PathBuf], out: &Path) -> Result<(), Failure> {
    let mut shards = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| {
            Failure::BadInput(format!("{}: cannot read the shard: {e}", f.display()))
        })?;
        let r: surge::sweep::SweepReport = serde_json::from_str(&text)
            .map_err(|e| Failure::BadInput(format!("{}: not a sweep.json: {e}", f.display())))?;
        shards.push(r);
    }
    let merged = surge::sweep::SweepReport::merge(shards).map_err(Failure::BadInput)?;
    let written = write_sweep(out, &merged)?;
    println!("merged {} shard(s): wrote {written}", files.len());
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

fn hpa(file: &Path) -> Result<(), Failure> {
    let text = std::fs::read_to_string(file).map_err(|e| {
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
        match surge::config::load_experiment(f) {
            Ok(exp) => {
                let line = format!("ok: {} ({})\n", f.display(), describe(&exp));
                stdout
                    .write_all(line.as_bytes())
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
    for v in &exp.variants {
        let mut load = vec![0.0; v.model.services.len()];
        let horizon = exp.duration.as_secs_f64();
        for c in &v.workload {
            let ClientKind::Open { rate } = &c.kind else {
                continue;
            };
            let mean_rate = rate.expected_arrivals(horizon) / horizon;
            for (i, e) in c.mix.entries().iter().enumerate() {
                let svc = &v.model.services[e.service as usize];
                if let Some(cpu) = svc.mean_cpu_s(e.endpoint as usize) {
                    load[e.service as usize] += mean_rate * c.mix.share(i) * cpu;
                }
            }
        }
        let loads: Vec<String> = v
            .model
            .services
            .iter()
            .zip(&load)
            .filter(|(_, l)| **l > 0.0)
            .map(|(s, l)| {
                let cores = f64::from(s.replicas * s.instance.cores);
                format!(
                    "{} at {:.0}% of CPU capacity",
                    s.name,
                    100.0 * l / cores.max(1e-9)
                )
            })
            .collect();
        if !loads.is_empty() {
            parts.push(format!("{}: {}", v.name, loads.join(", ")));
        }
    }
    parts.join("; ")
}
