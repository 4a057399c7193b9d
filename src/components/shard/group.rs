//! A sharded service as the model runs it: one copy of the service per shard (its own
//! instances, and for a database its own primary and replicas), the map that sends each
//! request to one of them by its key, and an optional resharding.

use super::{Moved, ShardMap, ShardMapSpec};
use crate::ids::KeySpaceId;
use crate::kernel::SimDuration;

/// A service's `shards` as configured (before the service is copied per shard).
#[derive(Debug, Clone)]
pub struct ShardingSpec {
    /// The key space the shards split, as named in the file, and resolved.
    pub key_name: String,
    pub key: KeySpaceId,
    /// The map at the start.
    pub map: ShardMapSpec,
    /// A change of map at a set time.
    pub reshard: Option<ReshardSpec>,
}

/// A resharding.
#[derive(Debug, Clone)]
pub struct ReshardSpec {
    /// When the new shards are started (keys move once they are ready).
    pub at: SimDuration,
    /// The map from then on.
    pub map: ShardMapSpec,
    /// The copy of the moving keys before the switch, if any.
    pub migration: Option<Migration>,
}

/// A resharding's copy of the keys that move: each costs a request to `export` on the shard
/// it leaves and one to `import` on the shard it goes to, `keys_per_second` of them, in key
/// order; the map switches when the last import has ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Migration {
    pub keys_per_second: f64,
    /// Endpoint indices in the service (and so in every shard's copy of it).
    pub export: u32,
    pub import: u32,
}

/// A sharded service in the model: its shards are services `first .. first + slots`,
/// named `<name>-<k>`.
#[derive(Debug, Clone)]
pub struct ShardGroup {
    /// The service's name as the file gives it (what calls name).
    pub name: String,
    /// The key space its map splits.
    pub key: String,
    /// The first shard's service index.
    pub first: u32,
    /// Shard services: the most shards any of its maps uses.
    pub slots: u32,
    /// Instances each shard starts with (or is given when resharding adds it).
    pub replicas: u32,
    /// The map at the start.
    pub map: ShardMap,
    /// The resharding, if any: when, the new map, and the keys it moves.
    pub reshard: Option<(SimDuration, ShardMap, Moved)>,
    /// How the resharding copies the moving keys, if it does.
    pub migration: Option<Migration>,
    /// The key space, resolved.
    pub space: KeySpaceId,
    /// How the maps place keys, for the report ("hash", "range", ...).
    pub placement: (String, Option<String>),
}

impl ShardGroup {
    /// The service of shard `k`.
    #[inline]
    pub fn service(&self, k: u32) -> u32 {
        self.first + k
    }
}

/// A placement's name in reports.
pub fn placement_name(p: &super::Placement) -> &'static str {
    match p {
        super::Placement::Hash => "hash",
        super::Placement::Range { .. } => "range",
        super::Placement::Consistent { .. } => "consistent",
        super::Placement::Directory { .. } => "directory",
    }
}
