//! Shard maps: which shard of a partitioned store (a sharded database, a cache cluster) holds
//! a key. A pure data structure, built once from a [`ShardMapSpec`] and consulted per request;
//! nothing here knows of time, requests or the simulation.
//!
//! A map is a function of the key's index within its space (the low 48 bits, see
//! `workload::keys`), not of the space id: range bounds and directory overrides name key
//! indices, and one map gives the same placement to every space it serves. Hashing is our
//! own SplitMix64 finaliser, so placements are identical on every platform and Rust version.
//!
//! Memory and lookup cost, N shards, v virtual nodes per shard, d overrides:
//!
//! | placement  | heap bytes                       | `shard_of`                        |
//! |------------|----------------------------------|-----------------------------------|
//! | hash       | 0                                | one mix and one `%`: O(1)         |
//! | range      | 8 per bound (N - 1 bounds)       | binary search: O(log N)           |
//! | consistent | 12 per token (u64 position + u32 owner, N v tokens) | binary search: O(log(N v)) |
//! | directory  | 12 per override + the fallback's | binary search: O(log d) + fallback |
//!
//! No lookup allocates. Resharding ([`ShardMap::moved_fraction`]) is exact from the bounds
//! for two range maps, exact by enumeration for spaces of at most 2^20 keys, and otherwise
//! estimated over 2^16 evenly spread keys.

mod directory;
mod group;
mod range;
mod reshard;
mod ring;
mod validate;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod theory;

pub use group::{Migration, ReshardSpec, ShardGroup, ShardingSpec, placement_name};
pub use reshard::{Basis, Moved};
pub use validate::validate;

use crate::workload::keys::decode;
use directory::Directory;
use range::RangeMap;
pub use ring::Ring;

/// Most shards one map may have.
pub const MAX_SHARDS: u32 = 1 << 16;
/// Most virtual nodes (ring tokens) per shard of a consistent-hash map.
pub const MAX_VNODES: u32 = 4096;
/// Most tokens one ring may hold (shards x vnodes): 4M tokens are 48 MiB, and beyond that
/// the balance no longer improves measurably.
pub const MAX_TOKENS: u64 = 1 << 22;

/// A shard of a map: 0 to `shards() - 1`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShardIdx(pub u32);

impl ShardIdx {
    /// Its index in the map's shard table.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A shard map as the model describes it; [`validate`] it before building a [`ShardMap`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardMapSpec {
    /// How many shards (1 to [`MAX_SHARDS`]).
    pub shards: u32,
    /// How keys are placed on them.
    pub placement: Placement,
}

/// How a map places keys on its shards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// hash(key) mod N: even, stateless, but changing N moves almost every key.
    Hash,
    /// Contiguous ranges of key indices: shard i holds [bounds[i-1], bounds[i]).
    Range {
        /// The N - 1 split points, strictly ascending, each in 1..keys; `None` splits the
        /// key space into N even ranges.
        bounds: Option<Vec<u64>>,
    },
    /// A hash ring: each shard places `vnodes` tokens at hash(seed, shard, vnode); a key goes
    /// to the owner of the first token clockwise of hash(key). Adding a shard moves only the
    /// keys the new shard takes over.
    Consistent {
        /// Tokens per shard (1 to [`MAX_VNODES`]).
        vnodes: u32,
        /// Places the ring's tokens (different seeds, different rings).
        seed: u64,
    },
    /// Explicit key -> shard assignments (a hot key moved to its own shard), the rest placed
    /// by `default`.
    Directory {
        /// The placement of keys without an override (not itself a directory).
        default: Box<Placement>,
        /// The assignments, in any order, each key at most once.
        overrides: Vec<Override>,
    },
}

/// One key a directory places explicitly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Override {
    /// The key's index within its space.
    pub key: u64,
    /// Where it lives.
    pub shard: ShardIdx,
}

/// A built shard map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardMap {
    shards: u32,
    /// The key-space size it was built for (what range maps split, what resharding counts).
    keys: u64,
    place: Place,
}

/// A placement, built.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    Hash,
    Range(RangeMap),
    Ring(Ring),
    Directory(Directory, Box<Place>),
}

impl ShardMap {
    /// The map `spec` describes, over a key space of `keys_in_space` keys.
    ///
    /// # Panics
    /// If `validate(spec, keys_in_space)` fails: the caller validates the model first, so a
    /// bad file is reported with its JSON path instead.
    pub fn new(spec: &ShardMapSpec, keys_in_space: u64) -> ShardMap {
        if let Err(e) = validate(spec, keys_in_space) {
            panic!("invalid shard map (validate it first): {e}");
        }
        ShardMap {
            shards: spec.shards,
            keys: keys_in_space,
            place: Place::build(&spec.placement, spec.shards, keys_in_space),
        }
    }

    /// The shard that holds `key` (an encoded key; its space id is ignored). Keys beyond
    /// the space go where their index falls: the last range, or by hash.
    #[inline]
    pub fn shard_of(&self, key: u64) -> ShardIdx {
        ShardIdx(self.place.shard_of(decode(key).1, self.shards))
    }

    /// How many shards it has.
    #[inline]
    pub fn shards(&self) -> u32 {
        self.shards
    }

    /// The key-space size it was built for.
    #[inline]
    pub fn keys(&self) -> u64 {
        self.keys
    }

    /// Heap bytes held (bounds, tokens, overrides), by the table in the module doc.
    pub fn memory_bytes(&self) -> usize {
        self.place.memory_bytes()
    }
}

impl Place {
    fn build(p: &Placement, shards: u32, keys: u64) -> Place {
        match p {
            Placement::Hash => Place::Hash,
            Placement::Range { bounds } => {
                Place::Range(RangeMap::new(bounds.as_deref(), shards, keys))
            }
            Placement::Consistent { vnodes, seed } => {
                Place::Ring(Ring::new(shards, *vnodes, *seed))
            }
            Placement::Directory { default, overrides } => Place::Directory(
                Directory::new(overrides),
                Box::new(Place::build(default, shards, keys)),
            ),
        }
    }

    #[inline]
    fn shard_of(&self, index: u64, shards: u32) -> u32 {
        match self {
            Place::Hash => (key_hash(index) % u64::from(shards)) as u32,
            Place::Range(r) => r.shard_of(index),
            Place::Ring(r) => r.shard_of(key_hash(index)),
            Place::Directory(d, fallback) => match d.get(index) {
                Some(s) => s,
                None => fallback.shard_of(index, shards),
            },
        }
    }

    fn memory_bytes(&self) -> usize {
        match self {
            Place::Hash => 0,
            Place::Range(r) => r.memory_bytes(),
            Place::Ring(r) => r.memory_bytes(),
            Place::Directory(d, fallback) => d.memory_bytes() + fallback.memory_bytes(),
        }
    }
}

/// Where a key index lands on the hash circle: SplitMix64 (the golden-ratio increment, then
/// the finaliser), so consecutive indices spread over the whole circle. A bijection of u64.
#[inline]
pub fn key_hash(index: u64) -> u64 {
    mix(index.wrapping_add(0x9e37_79b9_7f4a_7c15))
}

/// The SplitMix64 finaliser (Steele, Lea and Flood 2014): every input bit moves every output
/// bit; a bijection of u64.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
