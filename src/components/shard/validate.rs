//! Checks a shard-map spec against the key space it will serve. Messages say what is wrong
//! and what was expected; the caller prefixes the JSON path.

use super::{MAX_SHARDS, MAX_TOKENS, MAX_VNODES, Override, Placement, ShardMapSpec};
use crate::workload::keys::MAX_KEYS;

/// Whether `spec` describes a map over a space of `keys` keys: the first problem found.
pub fn validate(spec: &ShardMapSpec, keys: u64) -> Result<(), String> {
    let n = spec.shards;
    if n == 0 {
        return Err("`count` is 0: a sharded service needs at least 1 shard".into());
    }
    if n > MAX_SHARDS {
        return Err(format!(
            "`count` is {n}: at most {MAX_SHARDS} shards are supported"
        ));
    }
    if keys == 0 || keys > MAX_KEYS {
        return Err(format!(
            "the key space has {keys} keys: a sharded space needs 1 to 2^48"
        ));
    }
    placement(&spec.placement, n, keys)
}

fn placement(p: &Placement, n: u32, keys: u64) -> Result<(), String> {
    match p {
        Placement::Hash => Ok(()),
        Placement::Range { bounds: None } => {
            if keys < u64::from(n) {
                Err(format!(
                    "even ranges over {keys} keys cannot fill {n} shards: give `bounds` or fewer shards"
                ))
            } else {
                Ok(())
            }
        }
        Placement::Range { bounds: Some(b) } => bounds(b, n, keys),
        Placement::Consistent { vnodes, .. } => {
            let v = *vnodes;
            if v == 0 || v > MAX_VNODES {
                return Err(format!("`vnodes` is {v}: expected 1 to {MAX_VNODES}"));
            }
            let tokens = u64::from(n) * u64::from(v);
            if tokens > MAX_TOKENS {
                return Err(format!(
                    "{n} shards x {v} vnodes is {tokens} ring tokens: at most {MAX_TOKENS} (fewer vnodes)"
                ));
            }
            Ok(())
        }
        Placement::Directory { default, overrides } => {
            if let Placement::Directory { .. } = **default {
                return Err("the `fallback` of a directory cannot be another directory".into());
            }
            placement(default, n, keys).map_err(|e| format!("`fallback`: {e}"))?;
            directory(overrides, n, keys)
        }
    }
}

fn bounds(b: &[u64], n: u32, keys: u64) -> Result<(), String> {
    if b.len() as u64 != u64::from(n) - 1 {
        return Err(format!(
            "`bounds` has {} split points: {n} shards need {}",
            b.len(),
            n - 1
        ));
    }
    for (i, &x) in b.iter().enumerate() {
        if x == 0 || x >= keys {
            return Err(format!(
                "`bounds[{i}]` is {x}: split points lie in 1..{keys} (inside the key space)"
            ));
        }
        if i > 0 && x <= b[i - 1] {
            return Err(format!(
                "`bounds[{i}]` is {x}, not above `bounds[{}]` = {}: split points must be strictly ascending",
                i - 1,
                b[i - 1]
            ));
        }
    }
    Ok(())
}

fn directory(overrides: &[Override], n: u32, keys: u64) -> Result<(), String> {
    for (i, o) in overrides.iter().enumerate() {
        if o.shard.0 >= n {
            return Err(format!(
                "`overrides[{i}]` sends key {} to shard {}: shards are 0..{n}",
                o.key, o.shard.0
            ));
        }
        if o.key >= keys {
            return Err(format!(
                "`overrides[{i}]` names key {}: the space's keys are 0..{keys}",
                o.key
            ));
        }
    }
    // Sorted copy of (key, position) so a duplicate names both places.
    let mut seen: Vec<(u64, usize)> = overrides
        .iter()
        .enumerate()
        .map(|(i, o)| (o.key, i))
        .collect();
    seen.sort_unstable();
    for w in seen.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(format!(
                "`overrides[{}]` and `overrides[{}]` both place key {}: each key at most once",
                w[0].1, w[1].1, w[0].0
            ));
        }
    }
    Ok(())
}
