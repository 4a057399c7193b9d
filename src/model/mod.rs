//! A model: a system's topology and capacities, with no traffic and no duration.

pub mod graph;

use crate::components::cache::CacheTierSpec;
use crate::components::program::{Code, Edge};
use crate::components::service::ServiceSpec;
use crate::workload::keys::KeySpaceSpec;

/// The model's key spaces and caches.
#[derive(Debug, Clone, Default)]
pub struct DataTier {
    /// Key spaces, in file order (`KeySpaceId` indexes them).
    pub keyspaces: Vec<KeySpaceSpec>,
    /// Caches, in file order (`CacheId` indexes them).
    pub caches: Vec<CacheTierSpec>,
    /// Sharded services: each one's shard services and maps.
    pub shards: Vec<crate::components::shard::ShardGroup>,
    /// Connection pools, in file order (`PoolId` indexes them).
    pub pools: Vec<crate::components::pool::PoolSpec>,
}

/// A validated model.
#[derive(Debug, Clone)]
pub struct Model {
    /// Display name.
    pub name: String,
    /// What is modelled.
    pub description: Option<String>,
    /// Services, in file order.
    pub services: Vec<ServiceSpec>,
    /// Every endpoint's compiled program.
    pub code: Code,
    /// The call graph's edges, in the order the programs first name them.
    pub edges: Vec<Edge>,
    /// Key spaces and caches.
    pub data: DataTier,
}

impl Model {
    /// A model of `services`, their endpoints compiled.
    pub fn new(
        name: String,
        description: Option<String>,
        services: Vec<ServiceSpec>,
        data: DataTier,
    ) -> Model {
        let (code, edges) = crate::components::program::compile_all(&services, &data.caches);
        Model {
            name,
            description,
            services,
            code,
            edges,
            data,
        }
    }

    /// Index of the service called `name`.
    pub fn service_index(&self, name: &str) -> Option<usize> {
        self.services.iter().position(|s| s.name == name)
    }
}
