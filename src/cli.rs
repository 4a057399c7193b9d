//! What the `surge` command line accepts (clap): the subcommands, their arguments and help
//! text, and their conversion into the library's types. Part of the binary, not the library.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use surge::compare::TestChoice;
use surge::compare::render::Format;
use surge::config::schema::SchemaKind;
use surge::report::ImageFormats;

#[derive(Parser, Debug)]
#[command(
    name = "surge",
    version,
    about = "Deterministic discrete-event simulation of scalability strategies"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run an experiment: every variant x replication, then print a summary and write
    /// report.json, timeseries.csv and the plots (and report.html with --html).
    Run(RunArgs),
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
    Sweep(SweepArgs),
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
    Compare(CompareArgs),
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

// `surge run`'s arguments (its help text is the variant's).
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The experiment file.
    pub file: PathBuf,
    /// Output directory [default: results/<experiment name>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override the file's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override the file's number of replications.
    #[arg(long)]
    pub replications: Option<u32>,
    /// Worker threads [default: all cores].
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    /// Also write report.html: one self-contained page with the summary, plots and
    /// configuration.
    #[arg(long)]
    pub html: bool,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
    /// Also write each plot as PNG, beside its SVG.
    #[arg(long)]
    pub png: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

// `surge sweep`'s arguments (its help text is the variant's).
#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// The experiment file, with a `sweep`.
    pub file: PathBuf,
    /// Output directory [default: results/<experiment name>-sweep].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads [default: all cores].
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    /// Run only the K-th of N disjoint slices of the runs, e.g. `--shard 2/4`; join the
    /// slices with `surge merge`.
    #[arg(long)]
    pub shard: Option<String>,
    /// Print nothing but errors.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

// `surge compare`'s arguments (its help text is the variant's).
#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// report.json files, or `report.json#variant` for one variant; a file alone brings
    /// all its variants. The first is the baseline.
    #[arg(required = true)]
    pub reports: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CompareFormat::Table)]
    pub format: CompareFormat,
    /// Metrics to show, by flat name or `*` pattern (repeatable), e.g. `latency_s.*`
    /// [default: latency, errors, SLO, replicas, CPU and cost].
    #[arg(long = "metric")]
    pub metrics: Vec<String>,
    /// Fail (exit 3) when a candidate crosses a threshold, e.g. 'p99 > +10%' (relative to
    /// the baseline), 'cost > +2' (absolute change), 'error_rate > 1%' (its own value).
    /// Repeatable.
    #[arg(long = "fail-if")]
    pub fail_if: Vec<String>,
    /// Count a change against --fail-if only when it is statistically significant.
    #[arg(long)]
    pub significant_only: bool,
    /// Significance level of the two-sided t-tests.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Which t-test: paired when both sides ran the same replications from the same seed
    /// (common random numbers), Welch otherwise.
    #[arg(long, value_enum, default_value_t = CompareTest::Auto)]
    pub test: CompareTest,
}

/// What one run may use before it is stopped as runaway.
#[derive(clap::Args, Debug)]
pub struct LimitArgs {
    /// Most events one run may process [default: 5000000000, about 600 million requests];
    /// a run whose pace would take it past this stops early and says what drives it.
    #[arg(long, value_name = "N")]
    pub max_events: Option<u64>,
    /// Most requests one run may hold in memory at once [default: 5000000, about 1 GB]; a run
    /// that crosses it stops and names the queue that grew.
    #[arg(long, value_name = "N")]
    pub max_in_flight: Option<u64>,
}

impl LimitArgs {
    pub fn limits(&self) -> surge::simulation::RunLimits {
        let d = surge::simulation::RunLimits::default();
        surge::simulation::RunLimits {
            max_events: self.max_events.unwrap_or(d.max_events),
            max_in_flight: self.max_in_flight.unwrap_or(d.max_in_flight),
        }
    }
}

/// The file formats `surge schema` describes.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum SchemaArg {
    /// An experiment file (experiments/*.json).
    Experiment,
    /// A model file (models/*.json).
    Model,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum CompareFormat {
    Table,
    Markdown,
    Json,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum CompareTest {
    Auto,
    Paired,
    Welch,
}

impl From<SchemaArg> for SchemaKind {
    fn from(a: SchemaArg) -> SchemaKind {
        match a {
            SchemaArg::Experiment => SchemaKind::Experiment,
            SchemaArg::Model => SchemaKind::Model,
        }
    }
}

impl From<CompareFormat> for Format {
    fn from(f: CompareFormat) -> Format {
        match f {
            CompareFormat::Table => Format::Table,
            CompareFormat::Markdown => Format::Markdown,
            CompareFormat::Json => Format::Json,
        }
    }
}

impl From<CompareTest> for TestChoice {
    fn from(t: CompareTest) -> TestChoice {
        match t {
            CompareTest::Auto => TestChoice::Auto,
            CompareTest::Paired => TestChoice::Paired,
            CompareTest::Welch => TestChoice::Welch,
        }
    }
}

/// What `--png` asks for.
pub fn image_formats(png: bool) -> ImageFormats {
    if png {
        ImageFormats::SvgAndPng
    } else {
        ImageFormats::Svg
    }
}
