//! The Workbench's routing sessions by name, at most
//! [`crate::limits::WORKBENCH_SESSIONS_MAX`]: a new session past the limit drops the least
//! recently used one (an LRU list, the `lru` crate), so the session a person is working in
//! survives however many one-off sessions come and go. Dropping a session drops its pinned
//! connection (closed, never returned to the pool with its state) and its read-your-writes
//! position.

use std::num::NonZeroUsize;

use lru::LruCache;
use skein_router::Session;

/// Routing sessions by name, least recently used dropped first.
pub(crate) struct SessionMap(LruCache<String, Session>);

impl SessionMap {
    /// An empty map holding at most `capacity` sessions (at least one).
    pub(crate) fn new(capacity: usize) -> SessionMap {
        SessionMap(LruCache::new(
            NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
        ))
    }

    /// The session named `name`, created (with `name` as its affinity hint) when there is
    /// none; either way it becomes the most recently used.
    pub(crate) fn get_or_create(&mut self, name: &str) -> Session {
        self.0
            .get_or_insert_ref(name, || Session::new(Some(name)))
            .clone()
    }

    /// The session named `name`, if there is one (it becomes the most recently used); never
    /// creates one.
    pub(crate) fn get(&mut self, name: &str) -> Option<Session> {
        self.0.get(name).cloned()
    }

    /// Sessions held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_session_goes_first() {
        let mut m = SessionMap::new(3);
        m.get_or_create("a");
        m.get_or_create("b");
        m.get_or_create("c");
        // `a` is used again: `b` is now the least recently used.
        m.get_or_create("a");
        m.get_or_create("d");
        assert_eq!(m.len(), 3);
        assert!(m.get("b").is_none(), "b was the least recently used");
        assert!(m.get("a").is_some(), "a was used after b");
        // `get` counts as a use: c goes next, not a.
        m.get_or_create("e");
        assert!(m.get("c").is_none());
        assert_eq!(
            m.get("a").expect("a").hint(),
            Some("a"),
            "named after itself"
        );
    }

    #[test]
    fn looking_a_session_up_never_creates_one() {
        let mut m = SessionMap::new(2);
        m.get_or_create("a");
        m.get_or_create("b");
        assert!(m.get("ghost").is_none());
        assert_eq!(m.len(), 2);
        assert!(
            m.get("a").is_some() && m.get("b").is_some(),
            "nothing evicted"
        );
    }
}
