//! Sharding as the file gives it: a service whose keys are split over shards, each a copy of
//! the service (its own instances, primary and replicas), and an optional resharding.

use crate::config::quantity::Duration;
use schemars::JsonSchema;
use serde::Deserialize;

/// {"key": "users", "count": 4, "placement": {"kind": "hash"}}.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawShards {
    /// The key space the shards split (a name in the model's `keyspaces`): requests reach
    /// the shard that holds their key's index.
    pub key: String,
    /// How many shards (1 to 65,536), each a copy of the service named `<service>-<k>`.
    pub count: i64,
    /// How keys are placed on shards (default {"kind": "hash"}).
    pub placement: Option<RawPlacement>,
    /// A change of the shard count (or placement) at a set time.
    pub reshard: Option<RawReshard>,
}

/// Resharding: {"at": "12h", "count": 8}.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawReshard {
    /// When the new shards are started; keys move to them once they are ready.
    pub at: Duration,
    /// The shard count from then on (1 to 65,536).
    pub count: i64,
    /// The placement from then on (default: the one before).
    pub placement: Option<RawPlacement>,
    /// Copy the keys that move before switching (default: switch once the new shards are
    /// ready, copying nothing).
    pub migration: Option<RawMigration>,
}

/// A resharding's copy: {"keys_per_second": 5000, "export": "export", "import": "import"}.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMigration {
    /// Keys copied per second (above 0, at most 10,000,000), in key order, once the new
    /// shards are ready; the map switches when the last one is copied.
    pub keys_per_second: f64,
    /// The endpoint (of this service) that reads a moving key on the shard it leaves.
    pub export: String,
    /// The endpoint that writes it on the shard it goes to.
    pub import: String,
}

/// How keys are placed on shards.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawPlacement {
    /// hash(key) mod N: even, but changing N moves most keys.
    Hash {},
    /// Contiguous ranges of key indices: even ranges, or split at `bounds`.
    Range {
        /// The N - 1 split points, strictly ascending, each from 1 to keys - 1.
        bounds: Option<Vec<i64>>,
    },
    /// A hash ring with `vnodes` tokens per shard: adding a shard moves only what it takes.
    Consistent {
        /// Tokens per shard (1 to 4,096; default 64).
        vnodes: Option<i64>,
        /// Places the tokens (default 0).
        seed: Option<u64>,
    },
    /// Keys placed explicitly (a hot key on a shard of its own), the rest by `fallback`.
    Directory {
        /// Each {"key": index, "shard": k}.
        overrides: Vec<RawOverride>,
        /// Where other keys go (default {"kind": "hash"}; not itself a directory).
        fallback: Option<Box<RawPlacement>>,
    },
}

/// One key a directory places.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawOverride {
    /// The key's index in its space (0 to keys - 1).
    pub key: i64,
    /// Its shard (0 to count - 1).
    pub shard: i64,
}
