//! A cache as the model names it: its store's shape (capacity, eviction, TTL) and where the
//! store lives (one per instance, or one shared), and whether misses for one key coalesce.

use super::CacheSpec;

/// Where a cache's store lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheScope {
    /// One store in each instance of each service that uses it (an in-process L1): empty
    /// when the instance starts, gone when it stops.
    Instance,
    /// One store for the whole model (an edge or CDN tier, or a shared cache whose own
    /// capacity is not modelled).
    Shared,
}

/// A cache of the model.
#[derive(Debug, Clone)]
pub struct CacheTierSpec {
    /// Its name in the model (and in reports).
    pub name: String,
    /// Where its store lives.
    pub scope: CacheScope,
    /// Each store's capacity, eviction and TTL.
    pub store: CacheSpec,
    /// Whether concurrent misses for one key wait for the first one's fill (single-flight).
    pub coalesce: bool,
    /// Keys loaded into each store when it is made: a key space and how many of its most
    /// popular keys.
    pub warm: Option<(crate::ids::KeySpaceId, u64)>,
    /// Scheduled reloads of the warm keys, if any.
    pub reload: Option<Reload>,
    /// The service whose instances are its nodes (then `scope` is `Instance`: a node's
    /// store is its instance's), if it is a cluster of its own.
    pub nodes: Option<CacheNodes>,
    /// Where and when its writes go, if it writes behind.
    pub write_behind: Option<WriteBehind>,
    /// Refresh-ahead: a hit on an entry older than this fraction of its TTL refreshes it.
    pub refresh_ahead: Option<f64>,
    /// Whether a database's writes mark the key's entries stale, and stale hits are counted.
    pub count_stale: bool,
}

/// A write-behind cache's flushes: each dirty key is written once, `delay` after its first
/// unwritten write, by a message to `target` (a call nobody waits for).
#[derive(Debug, Clone)]
pub struct WriteBehind {
    /// From a key's first unwritten write to its flush.
    pub delay: crate::kernel::SimDuration,
    /// The service and endpoint the flush goes to, as named in the file.
    pub service: String,
    pub endpoint: String,
    /// Resolved once the services are final (after sharding has copied its shards in).
    pub target: crate::ids::EndpointRef,
}
/// A warming job: every `every`, each store of the cache fetches its warm keys (least popular
/// first, at `keys_per_second` or all at once) by a request to `target`, and stores each one
/// whose request succeeds.
#[derive(Debug, Clone)]
pub struct Reload {
    pub every: crate::kernel::SimDuration,
    pub keys_per_second: Option<f64>,
    /// The service and endpoint the fetches go to, as named in the file.
    pub service: String,
    pub endpoint: String,
    /// Resolved once the services are final.
    pub target: crate::ids::EndpointRef,
}

/// A cache that is a cluster of its own: what its clients' calls to it are like.
#[derive(Debug, Clone)]
pub struct CacheNodes {
    /// The nodes' service, by name.
    pub service: String,
    /// Network latency each way.
    pub latency: Option<crate::distribution::Dist>,
    /// How long a client waits for a node.
    pub timeout: Option<crate::kernel::SimDuration>,
}
