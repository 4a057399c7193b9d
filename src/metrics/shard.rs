//! What a sharded service measured: queries per shard, the hottest shard's share, and its
//! resharding.

use serde::{Deserialize, Serialize};

/// One sharded service in `report.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShardingSummary {
    /// The key space its map splits.
    pub key: String,
    /// How the starting map places keys.
    pub placement: String,
    /// Shards at the start.
    pub shards: u32,
    /// Queries each shard service took after warm-up (`<service>-<k>`, in order; shards a
    /// resharding adds included).
    pub queries: Vec<u64>,
    /// The busiest shard's queries over all (1/shards when even).
    pub hottest_share: f64,
    /// The resharding, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reshard: Option<ReshardSummary>,
}

/// A resharding.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReshardSummary {
    /// When the new shards were started, seconds.
    pub at_s: f64,
    /// When keys moved to the new map (absent: the run ended first).
    pub switched_at_s: Option<f64>,
    /// Shards from then on.
    pub shards: u32,
    /// How the new map places keys.
    pub placement: String,
    /// The share of the key space whose shard changed.
    pub moved_fraction: f64,
    /// The copy of the moving keys before the switch, if the resharding copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration: Option<MigrationSummary>,
}

/// A resharding's copy (over the whole run, warm-up included): every moving key is sent, in
/// key order, as an export to its old shard and an import to its new one.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MigrationSummary {
    /// The rate keys were sent at.
    pub keys_per_second: f64,
    /// Imports that ended well.
    pub copied: u64,
    /// Imports that failed (the key is still switched with the rest).
    pub failed: u64,
    /// Imports still on their way at the end.
    pub in_flight_at_end: u64,
    /// When the copy began (the new shards ready), seconds; absent: not by the end.
    pub started_at_s: Option<f64>,
}
