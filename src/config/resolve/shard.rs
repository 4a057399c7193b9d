//! Sharded services: each `shards` block checked against its key space, then (once calls
//! are bound) the service copied once per shard and every call to it marked sharded.

use super::At;
use crate::components::endpoint::Step;
use crate::components::service::ServiceSpec;
use crate::components::shard::{
    Override, Placement, ReshardSpec, ShardGroup, ShardIdx, ShardMap, ShardMapSpec, ShardingSpec,
    placement_name, validate,
};
use crate::config::ConfigError;
use crate::config::raw::{RawPlacement, RawService, RawShards};
use crate::ids::KeySpaceId;
use crate::workload::keys::KeySpaceSpec;

/// Default tokens per shard of a consistent-hash ring.
const DEFAULT_VNODES: u32 = 64;

/// A service's `shards`, checked.
pub(super) fn sharding(
    s: &RawService,
    raw: &RawShards,
    keyspaces: &[KeySpaceSpec],
    at: At,
    rel: &str,
) -> Result<ShardingSpec, ConfigError> {
    let srel = format!("{rel}.shards");
    let names: Vec<String> = keyspaces.iter().map(|k| k.name.clone()).collect();
    let k = super::steps::lookup(
        &names,
        &raw.key,
        "key space",
        "keyspaces",
        at,
        &format!("{srel}.key"),
    )? as usize;
    let keys = keyspaces[k].n;
    if s.autoscaler.is_some() && raw.reshard.is_some() {
        return Err(at.err(
            &format!("{srel}.reshard"),
            "resharding starts its new shards itself; a service that reshards cannot also have an `autoscaler` (yet)",
        ));
    }
    if matches!(
        s.balancer,
        Some(crate::config::raw::RawBalancer::Queue { .. })
    ) {
        return Err(at.err(
            &format!("{rel}.balancer"),
            "a sharded service is called with a key; it cannot be a worker pool",
        ));
    }
    let map = map_at(raw.count, raw.placement.as_ref(), keys, at, &srel, true)?;
    let reshard = match &raw.reshard {
        None => None,
        Some(r) => {
            let rrel = format!("{srel}.reshard");
            let placement = r.placement.as_ref().or(raw.placement.as_ref());
            Some(ReshardSpec {
                at: r.at.0,
                map: map_at(r.count, placement, keys, at, &rrel, r.placement.is_some())?,
                migration: match &r.migration {
                    None => None,
                    Some(m) => Some(migration(s, m, at, &format!("{rrel}.migration"))?),
                },
            })
        }
    };
    Ok(ShardingSpec {
        key_name: raw.key.clone(),
        key: KeySpaceId(k as u32),
        map,
        reshard,
    })
}

/// Most keys a migration copies per second.
const MAX_MIGRATION_RATE: f64 = 1e7;

/// A resharding's copy, its endpoints found among the service's.
fn migration(
    s: &RawService,
    m: &crate::config::raw::RawMigration,
    at: At,
    rel: &str,
) -> Result<crate::components::shard::Migration, ConfigError> {
    if !(m.keys_per_second > 0.0 && m.keys_per_second <= MAX_MIGRATION_RATE) {
        return Err(at.err(
            &format!("{rel}.keys_per_second"),
            format!(
                "a migration copies above 0 and at most {MAX_MIGRATION_RATE} keys per second, got {}",
                m.keys_per_second
            ),
        ));
    }
    let endpoint = |name: &str, key: &str| -> Result<u32, ConfigError> {
        let names: Vec<String> = s.endpoints.iter().map(|(n, _)| n.clone()).collect();
        super::steps::lookup(
            &names,
            name,
            "endpoint",
            "endpoints",
            at,
            &format!("{rel}.{key}"),
        )
    };
    Ok(crate::components::shard::Migration {
        keys_per_second: m.keys_per_second,
        export: endpoint(&m.export, "export")?,
        import: endpoint(&m.import, "import")?,
    })
}

/// The map of `count` shards placed by `placement`; `own` says whether the placement is
/// written at `rel` (a resharding may inherit the one before).
fn map_at(
    count: i64,
    placement: Option<&RawPlacement>,
    keys: u64,
    at: At,
    rel: &str,
    own: bool,
) -> Result<ShardMapSpec, ConfigError> {
    let max = i64::from(crate::components::shard::MAX_SHARDS);
    if !(1..=max).contains(&count) {
        return Err(at.err(
            &format!("{rel}.count"),
            format!("a sharded service has 1 to {max} shards, got {count}"),
        ));
    }
    let prel = format!("{rel}.placement");
    let spec = ShardMapSpec {
        shards: count as u32,
        placement: match placement {
            None => Placement::Hash,
            Some(p) => convert(p, at, &prel)?,
        },
    };
    if let Err(e) = validate(&spec, keys) {
        // A placement inherited by a resharding is wrong for the new count: say so there.
        let path = if own { prel } else { format!("{rel}.count") };
        return Err(at.err(&path, format!("{e} (the key space has {keys} keys)")));
    }
    Ok(spec)
}

fn convert(p: &RawPlacement, at: At, rel: &str) -> Result<Placement, ConfigError> {
    let whole = |v: i64, field: &str| -> Result<u64, ConfigError> {
        u64::try_from(v).map_err(|_| {
            at.err(
                &format!("{rel}.{field}"),
                format!("expected a key index or shard, 0 or more, got {v}"),
            )
        })
    };
    Ok(match p {
        RawPlacement::Hash {} => Placement::Hash,
        RawPlacement::Range { bounds } => Placement::Range {
            bounds: match bounds {
                None => None,
                Some(b) => Some(
                    b.iter()
                        .enumerate()
                        .map(|(i, &x)| whole(x, &format!("bounds[{i}]")))
                        .collect::<Result<_, _>>()?,
                ),
            },
        },
        RawPlacement::Consistent { vnodes, seed } => Placement::Consistent {
            vnodes: match vnodes {
                None => DEFAULT_VNODES,
                Some(v) => u32::try_from(*v).unwrap_or(0),
            },
            seed: seed.unwrap_or(0),
        },
        RawPlacement::Directory {
            overrides,
            fallback,
        } => Placement::Directory {
            default: Box::new(match fallback {
                None => Placement::Hash,
                Some(f) => convert(f, at, &format!("{rel}.fallback"))?,
            }),
            overrides: overrides
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    let key = whole(o.key, &format!("overrides[{i}].key"))?;
                    let shard = whole(o.shard, &format!("overrides[{i}].shard"))?;
                    Ok(Override {
                        key,
                        shard: ShardIdx(u32::try_from(shard).unwrap_or(u32::MAX)),
                    })
                })
                .collect::<Result<_, ConfigError>>()?,
        },
    })
}

/// Copies every sharded service once per shard (`<name>-<k>`, shards a resharding adds
/// starting with no instance) and points calls to it at its first shard, marked with its
/// group. Service indices after a sharded one shift; every call and enqueue follows.
pub(super) fn expand(
    services: Vec<ServiceSpec>,
    keyspaces: &[KeySpaceSpec],
    at: At,
) -> Result<(Vec<ServiceSpec>, Vec<ShardGroup>), ConfigError> {
    if services.iter().all(|s| s.sharding.is_none()) {
        return Ok((services, Vec::new()));
    }
    // Where each old service lands, and the group of each sharded one.
    let mut first = Vec::with_capacity(services.len());
    let mut group_of = vec![None; services.len()];
    let mut next = 0u32;
    let mut groups = 0u32;
    for (i, s) in services.iter().enumerate() {
        first.push(next);
        next += match &s.sharding {
            Some(sh) => {
                group_of[i] = Some(groups);
                groups += 1;
                slots(sh)
            }
            None => 1,
        };
    }
    let mut out = Vec::with_capacity(next as usize);
    let mut made = Vec::new();
    for mut s in services {
        for ep in &mut s.endpoints {
            remap(&mut ep.steps, &first, &group_of);
        }
        let Some(sh) = s.sharding.clone() else {
            out.push(s);
            continue;
        };
        let keys = keyspaces[sh.key.index()].n;
        let map = ShardMap::new(&sh.map, keys);
        let reshard = sh.reshard.as_ref().map(|r| {
            let to = ShardMap::new(&r.map, keys);
            let moved = map.moved_fraction(&to);
            (r.at, to, moved)
        });
        made.push(ShardGroup {
            name: s.name.clone(),
            key: sh.key_name.clone(),
            first: out.len() as u32,
            slots: slots(&sh),
            replicas: s.replicas,
            placement: (
                placement_name(&sh.map.placement).to_string(),
                sh.reshard
                    .as_ref()
                    .map(|r| placement_name(&r.map.placement).to_string()),
            ),
            map,
            reshard,
            migration: sh.reshard.as_ref().and_then(|r| r.migration),
            space: sh.key,
        });
        for k in 0..slots(&sh) {
            let mut copy = s.clone();
            copy.name = format!("{}-{k}", s.name);
            if k >= sh.map.shards {
                copy.replicas = 0; // started by the resharding
            }
            out.push(copy);
        }
    }
    for (i, s) in out.iter().enumerate() {
        if let Some(j) = out[..i].iter().position(|o| o.name == s.name) {
            let group = made.iter().find(|g| s.name.starts_with(&g.name));
            return Err(at.err(
                &format!(
                    "services.{}.shards",
                    group.map_or(out[j].name.as_str(), |g| g.name.as_str())
                ),
                format!(
                    "its shards are services named `{}`, which another service is already called",
                    s.name
                ),
            ));
        }
    }
    Ok((out, made))
}

/// Shard services a sharding needs: the most shards any of its maps uses.
fn slots(sh: &ShardingSpec) -> u32 {
    sh.reshard
        .as_ref()
        .map_or(sh.map.shards, |r| r.map.shards.max(sh.map.shards))
}

fn remap(steps: &mut [Step], first: &[u32], group_of: &[Option<u32>]) {
    for step in steps {
        match step {
            Step::Call(c) => {
                let old = c.target.service as usize;
                c.shards = group_of[old];
                c.target.service = first[old];
            }
            Step::Enqueue(q) => q.target.service = first[q.target.service as usize],
            Step::Parallel(p) => {
                for b in &mut p.branches {
                    remap(b, first, group_of);
                }
            }
            Step::Branch(arms) => {
                for a in arms {
                    remap(&mut a.steps, first, group_of);
                }
            }
            Step::CacheGet(g) => remap(&mut g.miss, first, group_of),
            Step::Cpu(_)
            | Step::Block(_)
            | Step::Io(_)
            | Step::CacheSet(_)
            | Step::Invalidate(_)
            | Step::CacheProbe(_)
            | Step::Fail(_) => {}
        }
    }
}
