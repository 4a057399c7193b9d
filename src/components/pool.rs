//! Connection pools: a call that names a pool holds one of its connections from the moment
//! it is sent until its answer (or its caller's giving up) comes back. While every
//! connection is in use a call waits, first come first served, for at most its pool's
//! acquire timeout; past `max_clients` calls holding or waiting (pgbouncer's
//! max_client_conn) a call is refused at once. An `instance` pool is one per instance of the
//! calling service (node-postgres, HikariCP: cold and empty when the instance starts); a
//! `shared` pool is one for every caller (a pgbouncer in front of a database).

use crate::components::cache::CacheScope;
use crate::kernel::SimDuration;

/// Most connections one pool may have.
pub const MAX_POOL_SIZE: u32 = 100_000;

/// A pool as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolSpec {
    /// Its name in the model.
    pub name: String,
    /// One per calling instance, or one for all.
    pub scope: CacheScope,
    /// Connections.
    pub size: u32,
    /// Most calls holding or waiting at once (`u32::MAX`: no limit).
    pub max_clients: u32,
    /// Longest wait for a connection (`None`: for ever).
    pub acquire_timeout: Option<SimDuration>,
}
