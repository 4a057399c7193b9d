//! Sessions kept in an instance's memory (a login, a cart, a websocket's state): a request
//! finds its session only on the instance that served its key last, and only while that
//! instance's process lives. A balancer that sends a key elsewhere (round robin over n
//! instances: (n - 1)/n of the time) makes the user log in again or fail; hashing the key
//! (`consistent_hash`) keeps it where its session is until the fleet changes; a restart or a
//! scale-in loses what the instance held. Keeping sessions in an external store instead is a
//! `cache_get` on a shared cache, which every instance sees alike.

/// What a request does when its session is not on its instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMiss {
    /// It is served anyway, as after a new login (counted).
    Reauthenticate,
    /// It fails (`failed`), and the session starts there for the next request.
    Fail,
}

/// A service's in-memory sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSpec {
    pub on_miss: OnMiss,
}
