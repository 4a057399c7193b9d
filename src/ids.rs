//! Typed ids for the components a run keeps in arenas, so a span index can never be passed
//! where an instance or an edge index is meant, and "none" is an `Option`, not a sentinel
//! value. Arenas whose slots are reused (spans, instances) pair the id with the slot's
//! generation when a reference must outlive the moment (`SpanRef`, `InstanceRef`).

use std::num::NonZeroU32;

/// A span in the run's span arena (a request at a service, or a branch of a fan-out).
/// Stored as index + 1, so `Option<SpanId>` is as small as the id itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpanId(NonZeroU32);

impl SpanId {
    /// The id of arena slot `index`.
    #[inline]
    pub fn from_index(index: usize) -> SpanId {
        let n = u32::try_from(index + 1).expect("fewer than 2^32 - 1 spans in memory");
        SpanId(NonZeroU32::new(n).expect("index + 1 is never zero"))
    }

    /// Its arena slot.
    #[inline]
    pub fn index(self) -> usize {
        (self.0.get() - 1) as usize
    }
}

/// An edge of the call graph: one (caller endpoint, callee endpoint) pair, in the order the
/// model's programs first name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EdgeId(pub u32);

impl EdgeId {
    /// Its index in the model's edge table.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A key space of the model (`keyspaces`), in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeySpaceId(pub u32);

impl KeySpaceId {
    /// Its index in the model's key-space table.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A cache of the model (`caches`), in file order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CacheId(pub u32);

impl CacheId {
    /// Its index in the model's cache table.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A connection pool of the model (`pools`), in file order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PoolId(pub u32);

impl PoolId {
    /// Its index in the model's pool table.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A miss being filled that other requests for the same key wait on (single-flight), in the
/// run's arena of them. Stored as index + 1, so `Option<FlightId>` is as small as the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlightId(NonZeroU32);

impl FlightId {
    /// The id of arena slot `index`.
    #[inline]
    pub fn from_index(index: usize) -> FlightId {
        let n = u32::try_from(index + 1).expect("fewer than 2^32 - 1 flights at once");
        FlightId(NonZeroU32::new(n).expect("index + 1 is never zero"))
    }

    /// Its arena slot.
    #[inline]
    pub fn index(self) -> usize {
        (self.0.get() - 1) as usize
    }
}

/// An endpoint of a model: (service index, endpoint index within the service).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EndpointRef {
    /// The service, in model order.
    pub service: u32,
    /// The endpoint, in the service's file order.
    pub endpoint: u32,
}

/// A service of the run, in model order: its index in the model's service table and in the
/// simulation's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceId(pub u32);

impl ServiceId {
    /// Its index in the model's service table.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A slot of the run's instance arena. Slots are reused once an instance has stopped, so an id
/// alone names a slot, not an instance: what outlives a moment names an [`InstanceRef`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceId(u32);

impl InstanceId {
    /// The id of arena slot `index`.
    #[inline]
    pub fn from_index(index: usize) -> InstanceId {
        InstanceId(u32::try_from(index).expect("fewer than 2^32 instances at once"))
    }

    /// Its arena slot.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// An instance and the generation its slot had when something referred to it: an event about
/// an instance that has stopped and whose slot went to another finds a newer generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceRef {
    /// The slot.
    pub id: InstanceId,
    /// Its generation then.
    pub generation: u32,
}

/// A span and the generation it had when something referred to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanRef {
    /// The span.
    pub id: SpanId,
    /// Its generation then.
    pub generation: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_optional_span_id_costs_nothing_extra() {
        assert_eq!(std::mem::size_of::<Option<SpanId>>(), 4);
        assert_eq!(SpanId::from_index(0).index(), 0);
        assert_eq!(SpanId::from_index(41).index(), 41);
    }
}
