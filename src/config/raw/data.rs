//! The data tier as the file gives it: key spaces (which object a request is about) and
//! caches (where an endpoint looks before doing the work).

use crate::config::quantity::Duration;
use schemars::JsonSchema;
use serde::Deserialize;

/// A key space: {"kind": "zipf", "keys": 1000000, "s": 0.99}.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawKeySpace {
    /// Every key equally likely.
    Uniform {
        /// How many keys (1 to 2^48).
        keys: i64,
    },
    /// The r-th most popular key has probability proportional to 1/r^s (web objects, product
    /// pages, user profiles: s between 0.6 and 1.2 is typical).
    Zipf {
        /// How many keys (1 to 2^48).
        keys: i64,
        /// The exponent (0 to 10; 0 is uniform).
        s: f64,
    },
    /// A share of the requests on a fraction of the keys: {"hot_keys": 0.2, "hot_requests":
    /// 0.8} is the 80/20 rule.
    HotSet {
        /// How many keys (2 to 2^48).
        keys: i64,
        /// The fraction of the keys that are hot (above 0, below 1; at least one key).
        hot_keys: f64,
        /// The share of requests that go to a hot key (0 to 1).
        hot_requests: f64,
    },
    /// Each request takes the next key, wrapping at the end (new users, order ids).
    Sequential {
        /// How many keys (1 to 2^48).
        keys: i64,
    },
}

/// A cache: {"scope": "instance", "capacity": 10000, "eviction": "lru", "ttl": "60s"}.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCache {
    /// What the cache is.
    pub description: Option<String>,
    /// "instance" (default: an in-process L1 in each instance of the service that uses it,
    /// cold when the instance starts and lost with it) or "shared" (one store for every
    /// instance and service that uses it: an edge or CDN tier, or a shared cache whose own
    /// capacity is not modelled).
    pub scope: Option<RawCacheScope>,
    /// Most entries it holds (1 to 2^31).
    pub capacity: i64,
    /// Which entry a full cache drops: "lru" (default), "lfu", "fifo" or "random".
    pub eviction: Option<RawEviction>,
    /// How long an entry lives (default: until evicted).
    pub ttl: Option<Duration>,
    /// With `ttl`: "on_set" (default: the entry expires `ttl` after it was stored) or
    /// "on_hit" (each hit starts the timer again).
    pub ttl_refresh: Option<RawTtlRefresh>,
    /// Whether concurrent misses for one key wait for the first to fill it (single-flight)
    /// instead of each doing the work (default false: a hot key's expiry is a stampede).
    pub coalesce: Option<bool>,
    /// Keys loaded into each store when it is made (at the start for a shared cache, when
    /// its instance starts for an instance cache), so it does not start cold.
    pub warm: Option<RawWarm>,
    /// The cache is a cluster of its own (Redis, memcached): its stores are the instances
    /// of this service, each holding `capacity` entries, a key on the node its consistent
    /// hash picks; a lookup, a fill and an invalidation are calls to it that cost the node
    /// CPU. Without it, a cache costs nothing to consult.
    pub nodes: Option<RawCacheNodes>,
    /// Write-behind: a `cache_set` stores the key and returns, and the store writes it to
    /// the database `delay` later (writes of a key already waiting merge into that one). A
    /// store whose process stops or restarts first loses what it had not written, counted.
    pub write_behind: Option<RawWriteBehind>,
    /// Refresh-ahead, with `ttl` (set on store): a hit on an entry older than this fraction of
    /// its TTL (above 0, below 1; 0.8 refreshes in the last fifth) runs the lookup's `miss`
    /// steps in the background, once per key at a time, while the hit goes on: a hot key is
    /// refreshed before it expires instead of missing.
    pub refresh_ahead: Option<f64>,
    /// Whether to count stale hits (default false): a write a database commits marks its
    /// key's entry in every store of this cache, and a hit on a marked entry (an old value)
    /// is counted until the entry is stored again, invalidated, expired or evicted. Costs a
    /// lookup in each store per write. A fill whose read began before a write and ended
    /// after it is not marked.
    pub count_stale: Option<bool>,
}

/// {"delay": "1s", "service": "db", "endpoint": "write"}.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWriteBehind {
    /// How long after a key's first unwritten write it is written.
    pub delay: Duration,
    /// The service the writes go to (not a sharded one).
    pub service: String,
    /// Its endpoint that takes a write.
    pub endpoint: String,
}

/// A cache's nodes: {"service": "redis", "latency": "200us", "timeout": "50ms"}.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCacheNodes {
    /// The service whose instances are the nodes. Its endpoints `get`, `set` and `delete`
    /// (each optional, of `cpu`, `block` and `io` steps only) are what one operation costs
    /// a node; Surge adds the store's part. Its balancer is `consistent_hash` (set it only
    /// to change `vnodes`).
    pub service: String,
    /// Network latency to a node, each way (default none).
    pub latency: Option<super::RawDist<Duration>>,
    /// How long a caller waits for a node before treating the lookup as a miss (default:
    /// as long as it takes).
    pub timeout: Option<Duration>,
}

/// Warming: {"keyspace": "accounts", "top": 1000} loads the 1,000 most popular keys.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWarm {
    /// The key space whose keys are loaded (a name in the model's `keyspaces`).
    pub keyspace: String,
    /// How many of its most popular keys (1 to the cache's capacity; for uniform and
    /// sequential spaces, the first keys).
    pub top: i64,
    /// Reload the same keys on a schedule too ("30m": at 30 min, 1 h, ...), each key fetched
    /// by a request to `load` and stored (fresh, its TTL restarted) when that succeeds: a
    /// warming job's bursts. Needs `load`.
    pub every: Option<Duration>,
    /// The endpoint each reloaded key is fetched from (a database read), with `every`.
    pub load: Option<RawEndpointRef>,
    /// With `every`: keys fetched per second, per store (default: all at once, a burst). A
    /// reload must end before the next one starts.
    pub keys_per_second: Option<f64>,
}

/// {"service": "database", "endpoint": "read"}.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEndpointRef {
    pub service: String,
    pub endpoint: String,
}

/// Where a cache's store lives.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawCacheScope {
    /// One per instance.
    Instance,
    /// One for the whole model.
    Shared,
}

/// Which entry a full cache drops.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawEviction {
    /// The least recently used.
    Lru,
    /// The least frequently used (counts kept for every key seen: perfect LFU).
    Lfu,
    /// The oldest stored.
    Fifo,
    /// One at random.
    Random,
}

/// When a cache entry's time to live starts.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawTtlRefresh {
    /// When it is stored.
    OnSet,
    /// When it is stored and at each hit.
    OnHit,
}

/// A cache lookup: {"cache": "l1", "miss": [steps run when the key is not there]}.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCacheGet {
    /// The cache, by its name in `caches`.
    pub cache: String,
    /// Steps run on a miss (a call to the database, a computation); on success the key is
    /// stored (cache-aside). Empty: the lookup only.
    #[serde(default)]
    pub miss: Vec<super::RawStep>,
    /// Whether a successful miss stores the key (default true).
    pub fill: Option<bool>,
}

/// A cache write or invalidation: {"cache": "l1"}.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCacheRef {
    /// The cache, by its name in `caches`.
    pub cache: String,
}

/// A database: {"replication": {"apply_rate": 5000, "network": "1ms"}, "failures": [...]}.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    /// How the replicas (every instance but the primary) follow the primary. Absent: the
    /// database is a primary alone (extra instances would sit idle), and reads are
    /// `read_primary`.
    pub replication: Option<RawReplication>,
    /// Failures at set times, in time order.
    pub failures: Option<Vec<RawDatabaseFailure>>,
}

/// How replicas follow the primary.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawReplication {
    /// Writes per second each replica applies, one at a time in commit order (above 0, at
    /// most 1e9). Writes faster than this make the replica's lag grow without bound.
    pub apply_rate: f64,
    /// Delay from a commit on the primary to its arrival at a replica (default none).
    pub network: Option<super::RawDist<Duration>>,
    /// Where reads go: "round_robin" (default), "least_loaded" or "read_your_writes".
    pub read_routing: Option<RawReadRouting>,
    /// With "read_your_writes": how long after a write of a key its reads go to the primary.
    pub read_your_writes_window: Option<Duration>,
}

/// How reads choose a replica.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawReadRouting {
    /// Each replica in turn.
    RoundRobin,
    /// The replica with the fewest open queries.
    LeastLoaded,
    /// To the primary within a window after a write of the key; otherwise round robin.
    ReadYourWrites,
}

/// A failure at a set time: {"at": "10m", "fails": "primary", "promote_after": "30s"}.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDatabaseFailure {
    /// When, from the start of the run.
    pub at: Duration,
    /// "primary" (a replica is promoted `promote_after` later; writes fail meanwhile) or
    /// "replica" (the oldest replica restarts).
    pub fails: RawFailureTarget,
    /// With "primary": how long until the oldest ready replica is promoted.
    pub promote_after: Option<Duration>,
}

/// What a database failure kills.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawFailureTarget {
    Primary,
    Replica,
}

/// A connection pool: {"scope": "instance", "size": 20, "acquire_timeout": "2s"}.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPool {
    /// What the pool is.
    pub description: Option<String>,
    /// "instance" (default: each instance of a calling service has its own, as node-postgres
    /// or HikariCP) or "shared" (one for every caller: a pgbouncer in front of the database).
    pub scope: Option<RawCacheScope>,
    /// Connections (1 to 100,000): calls beyond them wait for one to be given back.
    pub size: i64,
    /// Most calls holding or waiting for a connection at once (pgbouncer's
    /// max_client_conn; default: no limit); a call beyond it fails at once.
    pub max_clients: Option<i64>,
    /// How long a call waits for a connection before it fails (default: for ever).
    pub acquire_timeout: Option<Duration>,
}
