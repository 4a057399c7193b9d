//! Experiment and model files: parsing (serde types that mirror the JSON), variant patches,
//! and validation into the typed [`Experiment`] the simulation runs.
//!
//! Two steps, as in ripgrep's low/high args: [`raw`] accepts any well-typed JSON and refuses
//! unknown fields; [`resolve`] refuses impossible values. Every error names the file, the JSON
//! path and what was expected.

mod error;
pub mod patch;
pub mod quantity;
pub mod raw;
mod resolve;
pub mod schema;

pub use error::{ConfigError, Location};

use crate::experiment::{Experiment, Variant};
use crate::workload::Arrivals;
use raw::{ModelSource, RawExperiment, RawModel};
use resolve::At;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// Reads an experiment or model file of at most [`crate::input::MAX_CONFIG_BYTES`]; `what`
/// names it in the error ("the model file").
pub(crate) fn read(
    file: &Path,
    what: &'static str,
    referenced_from: Option<Location>,
) -> Result<String, ConfigError> {
    read_capped(file, what, crate::input::MAX_CONFIG_BYTES, referenced_from)
}

/// Reads a result Surge wrote (a report, a sweep), which may be larger than any configuration:
/// at most [`crate::input::MAX_RESULT_BYTES`].
pub(crate) fn read_result(file: &Path, what: &'static str) -> Result<String, ConfigError> {
    read_capped(file, what, crate::input::MAX_RESULT_BYTES, None)
}

fn read_capped(
    file: &Path,
    what: &'static str,
    limit: u64,
    referenced_from: Option<Location>,
) -> Result<String, ConfigError> {
    crate::input::read_text(file, limit).map_err(|source| ConfigError::Read {
        file: file.to_path_buf(),
        what,
        referenced_from,
        source,
    })
}

/// Parses `text` as `T`, with the path of any error and its line and column; `context`
/// starts the message of a document of the wrong shape.
pub(crate) fn parse_text<T: DeserializeOwned>(
    file: &Path,
    text: &str,
    context: &str,
) -> Result<T, ConfigError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| ConfigError::from_serde(file, "", e, context))?;
    // Anything after the document is a syntax error too.
    de.end().map_err(|e| ConfigError::Syntax {
        file: file.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: "unexpected characters after the end of the JSON document".into(),
    })?;
    Ok(value)
}

/// Parses a JSON value already in memory as `T`; errors carry `prefix` in their path.
fn parse_value<T: DeserializeOwned>(
    file: &Path,
    prefix: &str,
    value: &serde_json::Value,
    context: &str,
) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(value)
        .map_err(|e| ConfigError::from_serde(file, prefix, e, context))
}

fn file_stem(path: &Path) -> String {
    path.file_stem().map_or_else(
        || "experiment".to_string(),
        |s| s.to_string_lossy().into_owned(),
    )
}

/// Loads and validates a model file on its own.
pub fn load_model(path: &Path) -> Result<crate::model::Model, ConfigError> {
    let text = read(path, "the model file", None)?;
    let raw: RawModel = parse_text(path, &text, "")?;
    let dir = path.parent().unwrap_or(Path::new("."));
    resolve::model(
        &raw,
        At {
            file: path,
            prefix: "",
            context: "",
            dir,
        },
        &file_stem(path),
    )
}

/// Loads an experiment file, its model and traces, applies the variants and validates it all.
/// Nothing is run and nothing is written.
pub fn load_experiment(path: &Path) -> Result<Experiment, ConfigError> {
    let text = read(path, "the experiment file", None)?;
    load_experiment_text(path, &text)
}

/// As [`load_experiment`], from the file's text (`path` names it in errors, and relative
/// paths in it are relative to its directory).
pub fn load_experiment_text(path: &Path, text: &str) -> Result<Experiment, ConfigError> {
    let text = text.to_string();
    let raw: RawExperiment = parse_text(path, &text, "")?;
    let mut config: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| ConfigError::Syntax {
            file: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let exp_at = At {
        file: path,
        prefix: "",
        context: "",
        dir: &base_dir,
    };

    // The base model, from its own file or inline.
    let (model_file, model_prefix, model_raw, model_value): (
        PathBuf,
        &str,
        RawModel,
        serde_json::Value,
    ) = match raw.model {
        ModelSource::Path(p) => {
            let file = base_dir.join(&p);
            let from = Location {
                file: path.to_path_buf(),
                path: "model".into(),
                line_column: None,
            };
            let mtext = read(&file, "the model file", Some(from))?;
            let mraw: RawModel = parse_text(&file, &mtext, "")?;
            let mvalue: serde_json::Value = serde_json::from_str(&mtext).expect("parsed above");
            (file, "", mraw, mvalue)
        }
        ModelSource::Inline(m) => (path.to_path_buf(), "model", *m, config["model"].clone()),
    };
    // Relative names in a model resolve against the model file's directory.
    let model_dir = model_file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let model_at = At {
        file: &model_file,
        prefix: model_prefix,
        context: "",
        dir: &model_dir,
    };
    let base_model = resolve::model(&model_raw, model_at, &file_stem(&model_file))?;

    if let Some(name) = &raw.name {
        check_label(path, "name", name, "the experiment's name")?;
    }
    // Settings.
    let duration = resolve::positive_duration(exp_at, "duration", raw.duration, "duration")?;
    let warmup = raw.warmup.map_or(crate::kernel::SimDuration::ZERO, |w| w.0);
    if warmup >= duration {
        return Err(ConfigError::invalid(
            path,
            "warmup",
            format!(
                "warmup (\"{warmup}\") must be shorter than duration (\"{duration}\"), or nothing is measured"
            ),
        ));
    }
    let resolution = match raw.resolution {
        Some(r) => resolve::positive_duration(exp_at, "resolution", r, "resolution")?,
        None => crate::kernel::SimDuration::from_secs(1),
    };
    let buckets = duration.as_nanos().div_ceil(resolution.as_nanos());
    if buckets > crate::experiment::MAX_ROWS_PER_RUN {
        return Err(ConfigError::invalid(
            path,
            "resolution",
            format!(
                "resolution \"{resolution}\" makes {buckets} time-series rows per run for duration \"{duration}\", more than {}; use a coarser resolution",
                crate::experiment::MAX_ROWS_PER_RUN
            ),
        ));
    }
    let replications = match raw.replications {
        Some(0) => {
            return Err(ConfigError::invalid(
                path,
                "replications",
                "replications must be at least 1",
            ));
        }
        Some(n) if n > MAX_REPLICATIONS => {
            return Err(ConfigError::invalid(
                path,
                "replications",
                format!("replications must be at most {MAX_REPLICATIONS}, got {n}"),
            ));
        }
        Some(n) => n,
        None => 1,
    };
    let batch_means = match raw.batch_means {
        None => None,
        Some(n) if !(2..=MAX_BATCHES).contains(&n) => {
            return Err(ConfigError::invalid(
                path,
                "batch_means",
                format!(
                    "batch_means is a number of batches from 2 to {MAX_BATCHES} (20 to 30 is usual), got {n}"
                ),
            ));
        }
        Some(_) if replications > 1 => {
            return Err(ConfigError::invalid(
                path,
                "batch_means",
                format!(
                    "batch_means is for one long run, but replications is {replications}: intervals already come from the replications; drop one of them"
                ),
            ));
        }
        Some(n) => Some(n),
    };
    let slo = raw
        .slo
        .as_ref()
        .map(|s| resolve::slo(s, exp_at))
        .transpose()?;
    if let Some(slo) = &slo {
        check_period_count(path, "slo.window", duration, slo.window, "SLO windows")?;
    }
    if raw.workload.is_empty() {
        return Err(ConfigError::invalid(
            path,
            "workload",
            "the workload needs at least one client",
        ));
    }
    let arrivals = raw
        .workload
        .iter()
        .enumerate()
        .map(|(k, c)| resolve::client_arrivals(c, k, exp_at, &base_dir))
        .collect::<Result<Vec<_>, _>>()?;
    for (k, a) in arrivals.iter().enumerate() {
        let Some(rate) = a.as_ref().and_then(Arrivals::profile) else {
            continue;
        };
        if rate
            .pieces_before(duration.as_secs_f64(), MAX_RATE_PIECES)
            .is_none()
        {
            return Err(ConfigError::invalid(
                path,
                format!("workload[{k}].rate"),
                format!(
                    "the rate profile changes more than {MAX_RATE_PIECES} times over the run's {duration} (a diurnal period, a trace bin or points far too close together for the horizon); a run walks every change, so this one would not finish"
                ),
            ));
        }
    }

    // Variants: patches over the base model's JSON.
    let mut models = Vec::new();
    if raw.variants.is_empty() {
        models.push(("base".to_string(), base_model, None));
    } else {
        for (name, patch) in &raw.variants {
            let prefix = format!("variants.{name}");
            check_label(
                path,
                &format!("variants.{}", name.escape_debug()),
                name,
                "a variant name",
            )?;
            if !patch.is_object() {
                return Err(ConfigError::invalid(
                    path,
                    &prefix,
                    "a variant is a JSON merge patch over the model: an object such as {\"services\": {\"api\": {\"replicas\": 3}}}, or {} for the model as it is",
                ));
            }
            patch::check(patch, &model_value).map_err(|(rel, msg)| {
                ConfigError::invalid(
                    path,
                    error::join_path(&prefix, &rel),
                    format!("in variant `{name}`: {msg}"),
                )
            })?;
            let mut patched = model_value.clone();
            patch::apply(&mut patched, patch);
            let context = format!("in variant `{name}` (the model with its patch applied): ");
            let vraw: RawModel = parse_value(path, &prefix, &patched, &context)?;
            let at = At {
                file: path,
                prefix: &prefix,
                context: &context,
                dir: &model_dir,
            };
            let model = resolve::model(&vraw, at, &base_model.name)?;
            models.push((name.clone(), model, Some(prefix)));
        }
    }
    let mut variants = Vec::new();
    for (name, model, prefix) in models {
        let context = match &prefix {
            Some(_) => format!("in variant `{name}`: "),
            None => String::new(),
        };
        let model_at = At {
            file: path,
            prefix: "",
            context: &context,
            dir: &base_dir,
        };
        let workload = raw
            .workload
            .iter()
            .enumerate()
            .map(|(k, c)| resolve::client(c, k, arrivals[k].clone(), &model, model_at, exp_at))
            .collect::<Result<Vec<_>, _>>()?;
        let mut names: Vec<&str> = workload.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(ConfigError::invalid(
                path,
                "workload",
                format!(
                    "two clients are named `{}`; names must be unique because they key the random streams",
                    w[0]
                ),
            ));
        }
        for svc in &model.services {
            for (k, f) in svc.faults.iter().enumerate() {
                if f.start >= duration {
                    let rel = match &prefix {
                        Some(p) => format!("{p}.services.{}.faults[{k}].at", svc.name),
                        None => format!("services.{}.faults[{k}].at", svc.name),
                    };
                    return Err(ConfigError::invalid(
                        path,
                        rel,
                        format!(
                            "the fault starts at {}, when the run ({duration}) has ended: it would never happen",
                            f.start
                        ),
                    ));
                }
            }
        }
        for svc in &model.services {
            let Some(a) = &svc.autoscaler else { continue };
            let rel = match &prefix {
                Some(p) => format!("{p}.services.{}.autoscaler", svc.name),
                None => format!("services.{}.autoscaler", svc.name),
            };
            check_period_count(
                path,
                &rel,
                duration,
                crate::kernel::SimDuration::from_secs_f64(a.period_s()),
                "evaluations",
            )?;
            if let Some(scrape) = a.scrape_interval_s() {
                check_period_count(
                    path,
                    &rel,
                    duration,
                    crate::kernel::SimDuration::from_secs_f64(scrape),
                    "metric scrapes",
                )?;
            }
        }
        variants.push(Variant {
            name,
            model,
            workload,
        });
    }
    config["model"] = model_value;
    // `$schema` is a path for editors, relative to the file it is in: beside the report it
    // would point nowhere.
    if let Some(o) = config.as_object_mut() {
        o.shift_remove("$schema");
    }
    if let Some(o) = config["model"].as_object_mut() {
        o.shift_remove("$schema");
    }
    let experiment = Experiment {
        name: raw.name.unwrap_or_else(|| file_stem(path)),
        description: raw.description,
        file: path.to_path_buf(),
        seed: raw.seed.unwrap_or(1),
        replications,
        duration,
        warmup,
        resolution,
        batch_means,
        slo,
        variants,
        config,
    };
    experiment
        .check_rows_held()
        .map_err(|m| ConfigError::invalid(path, "resolution", m))?;
    Ok(experiment)
}

use crate::experiment::MAX_REPLICATIONS;
use crate::metrics::batch_means::MAX_BATCHES;

/// Longest experiment or variant name.
const MAX_LABEL_CHARS: usize = 200;

/// A name people read in tables, plots and CSV headers: not empty, not too long, and free of
/// control characters (a newline breaks a CSV row, an escape sequence rewrites a terminal).
fn check_label(path: &Path, at: &str, name: &str, what: &str) -> Result<(), ConfigError> {
    let problem = if name.trim().is_empty() {
        Some("must not be empty".to_string())
    } else if name.chars().count() > MAX_LABEL_CHARS {
        Some(format!("must be at most {MAX_LABEL_CHARS} characters"))
    } else {
        name.chars().find(|c| c.is_control()).map(|c| {
            format!(
                "must not hold control characters such as newlines, tabs or terminal escapes (found {})",
                c.escape_unicode()
            )
        })
    };
    match problem {
        Some(p) => Err(ConfigError::invalid(
            path,
            at,
            format!("{what} {p}; got \"{}\"", name.escape_debug()),
        )),
        None => Ok(()),
    }
}

/// Most pieces a rate profile may have over a run (a diurnal day has 8; a one-second trace
/// over a week, 604,800).
const MAX_RATE_PIECES: u64 = 10_000_000;
/// Most periodic steps (SLO windows, policy evaluations, scrapes) in one run.
const MAX_PERIODS: u64 = 10_000_000;

/// Refuses a period so short that a run would take `duration / period` steps beyond reason.
fn check_period_count(
    file: &Path,
    rel: &str,
    duration: crate::kernel::SimDuration,
    period: crate::kernel::SimDuration,
    what: &str,
) -> Result<(), ConfigError> {
    let n = duration.as_nanos() / period.as_nanos().max(1);
    if n > MAX_PERIODS {
        return Err(ConfigError::invalid(
            file,
            rel,
            format!(
                "a period of \"{period}\" makes {n} {what} in \"{duration}\"; at most {MAX_PERIODS} are allowed, so use a longer period"
            ),
        ));
    }
    Ok(())
}
