//! Shards: a sweep's runs cut into N disjoint slices, each run by its own `surge sweep
//! --shard K/N` (on as many machines), and the slices' `sweep.json` files joined back into the
//! report the unsharded sweep writes (`surge merge`).

use super::{PlacedRun, Sweep, SweepReport, group, read_sweep_report};
use crate::config::ConfigError;
use indexmap::IndexMap;
use std::path::PathBuf;

/// `--shard` is not `K/N` with 1 <= K <= N.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--shard expects K/N with 1 <= K <= N (e.g. 2/4), got \"{0}\"")]
pub struct ShardError(pub String);

/// Parses `K/N` (1 <= K <= N): the K-th of N slices, as [`super::SweepOptions::shard`] takes it.
pub fn parse_shard(text: &str) -> Result<(usize, usize), ShardError> {
    let bad = || ShardError(text.to_string());
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

impl Sweep {
    /// How many runs `shard` (K of N) holds, as [`super::run_sweep`] slices them: the runs
    /// whose index is K-1 modulo N. Without a shard, all of them.
    pub fn shard_runs(&self, shard: Option<(usize, usize)>) -> usize {
        let all = self.runs().len();
        match shard {
            Some((k, n)) => (all + n - k) / n,
            None => all,
        }
    }
}

/// Shards' files could not be joined.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// A file is missing or not a `sweep.json`.
    #[error(transparent)]
    Read(#[from] ConfigError),
    /// The files are not every shard of one sweep, each once.
    #[error("cannot merge {}: {reason}", crate::output::list_paths(.files))]
    Shards {
        /// The files given.
        files: Vec<PathBuf>,
        /// What does not fit.
        reason: String,
    },
}

/// Reads every shard's `sweep.json` (a directory stands for the `sweep.json` in it, as the
/// Kubernetes job writes one directory per shard) and joins them with [`SweepReport::merge`].
pub fn merge_files(inputs: &[PathBuf]) -> Result<SweepReport, MergeError> {
    let mut shards = Vec::new();
    for input in inputs {
        let f = if input.is_dir() {
            input.join("sweep.json")
        } else {
            input.clone()
        };
        shards.push(read_sweep_report(&f)?);
    }
    SweepReport::merge(shards).map_err(|reason| MergeError::Shards {
        files: inputs.to_vec(),
        reason,
    })
}

impl SweepReport {
    /// Joins shard outputs into the report the unsharded sweep writes. Fails if the shards
    /// are not all of one sweep, overlap, or leave runs out.
    pub fn merge(shards: Vec<SweepReport>) -> Result<SweepReport, String> {
        let Some(first) = shards.first() else {
            return Err("nothing to merge".into());
        };
        let n = match first.shard {
            Some((_, n)) => n,
            None => return Err("the first file is not a shard (it holds the whole sweep)".into()),
        };
        for s in &shards {
            s.check().map_err(|(at, m)| format!("at `{at}`: {m}"))?;
        }
        // `check` bounds n by the sweep's runs, so this is never large.
        let mut seen = vec![false; n];
        for s in &shards {
            let same = s.experiment == first.experiment
                && s.seed == first.seed
                && s.parameters == first.parameters
                && s.mode == first.mode
                && s.total_runs == first.total_runs
                && s.replications == first.replications;
            match s.shard {
                Some((k, m)) if same && m == n && (1..=n).contains(&k) => {
                    if std::mem::replace(&mut seen[k - 1], true) {
                        return Err(format!("shard {k}/{n} is given twice"));
                    }
                }
                _ => return Err("the files are not shards of one sweep".into()),
            }
        }
        if let Some(k) = seen.iter().position(|s| !s) {
            return Err(format!("shard {}/{n} is missing", k + 1));
        }
        // Every run goes back to its place: (point, variant in file order, replication).
        let order: IndexMap<&str, usize> = first
            .variants
            .iter()
            .enumerate()
            .map(|(i, v)| (v.as_str(), i))
            .collect();
        let mut runs: Vec<(usize, PlacedRun)> = Vec::new();
        for s in &shards {
            for point in &s.points {
                for (vname, v) in &point.variants {
                    let vi = *order
                        .get(vname.as_str())
                        .ok_or_else(|| format!("variant `{vname}` is not in the sweep"))?;
                    for r in &v.runs {
                        let run = PlacedRun {
                            point: point.index,
                            parameters: point.parameters.clone(),
                            variant: vname.clone(),
                            metrics: r.clone(),
                        };
                        runs.push((vi, run));
                    }
                }
            }
        }
        runs.sort_by_key(|(vi, r)| (r.point, *vi, r.metrics.replication));
        let merged = SweepReport {
            shard: None,
            points: group(runs.into_iter().map(|(_, r)| r)),
            ..first.clone()
        };
        let count: usize = merged
            .points
            .iter()
            .flat_map(|p| p.variants.values())
            .map(|v| v.runs.len())
            .sum();
        if count != merged.total_runs {
            return Err(format!(
                "the shards hold {count} runs, the sweep has {}",
                merged.total_runs
            ));
        }
        Ok(merged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_k_of_n_with_k_from_1_to_n() {
        for (text, expected) in [
            ("2/4", Some((2, 4))),
            (" 1 / 3 ", Some((1, 3))),
            ("4/4", Some((4, 4))),
            ("0/2", None),
            ("3/2", None),
            ("1/0", None),
            ("2", None),
            ("a/b", None),
            ("-1/2", None),
        ] {
            assert_eq!(parse_shard(text).ok(), expected, "{text:?}");
        }
        assert_eq!(
            parse_shard("x").unwrap_err().to_string(),
            "--shard expects K/N with 1 <= K <= N (e.g. 2/4), got \"x\""
        );
    }
}
