//! What the console knows about its caches beyond their stored status: the views `caches`
//! answers (in the lake's order) and, per cache name, one [`CacheEntry`] — the watcher's
//! signature, whether a refresh is running, since when it is stale, this console's last
//! refresh of it and the scheduler's plans for it. Guarded by the console's mutex.

use std::collections::HashMap;

use crate::rpc::CacheView;

/// What the console knows about one cache beyond its stored status.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct CacheEntry {
    /// The lake snapshot and write counters its state was last computed at.
    pub(crate) signature: Option<String>,
    /// A refresh of it is running (by hand, by the scheduler or together with others).
    pub(crate) refreshing: bool,
    /// When the console first saw it in its current stale, edited or expired state (ms since
    /// the Unix epoch).
    pub(crate) stale_since: Option<u64>,
    /// The last refresh this console ran of it.
    pub(crate) last_outcome: Option<skein_lake::RefreshOutcome>,
    /// When the scheduler looks at it next (ms since the Unix epoch), once it has.
    pub(crate) next_run: Option<u64>,
    /// The scheduler is refreshing it now.
    pub(crate) scheduled: bool,
}

/// What the console knows about the caches: their views, in the lake's order (what
/// `caches` answers), and one [`CacheEntry`] per cache name it knows more about.
#[derive(Default)]
pub(crate) struct CacheBoard {
    /// Every cache as `caches` answers it, in the lake's order.
    pub(crate) views: Vec<CacheView>,
    entries: HashMap<String, CacheEntry>,
}

impl CacheBoard {
    /// What is known about cache `name`, if anything.
    pub(crate) fn get(&self, name: &str) -> Option<&CacheEntry> {
        self.entries.get(name)
    }

    /// The entry of cache `name`, created empty when there is none.
    pub(crate) fn entry(&mut self, name: &str) -> &mut CacheEntry {
        self.entries.entry(name.to_owned()).or_default()
    }

    /// The entry of cache `name` if there is one (for clearing a field).
    pub(crate) fn get_mut(&mut self, name: &str) -> Option<&mut CacheEntry> {
        self.entries.get_mut(name)
    }

    /// Whether a refresh of `name` is running.
    pub(crate) fn refreshing(&self, name: &str) -> bool {
        self.get(name).is_some_and(|e| e.refreshing)
    }

    /// Caches the scheduler is refreshing now.
    pub(crate) fn scheduled_count(&self) -> usize {
        self.entries.values().filter(|e| e.scheduled).count()
    }

    /// Every cache's signature from one pass of the watcher: caches not in `signatures` have
    /// none.
    pub(crate) fn set_signatures(&mut self, signatures: HashMap<String, String>) {
        for e in self.entries.values_mut() {
            e.signature = None;
        }
        for (name, sig) in signatures {
            self.entry(&name).signature = Some(sig);
        }
        self.tidy();
    }

    /// Forgets what this console knew about a deleted cache (a refresh still running stays
    /// marked until it ends).
    pub(crate) fn forget(&mut self, name: &str) {
        if let Some(e) = self.get_mut(name) {
            e.next_run = None;
            e.last_outcome = None;
            e.stale_since = None;
        }
        self.tidy();
    }

    /// Brings the views' `refreshing` flags in line with the entries.
    pub(crate) fn sync_refreshing(&mut self) {
        for v in &mut self.views {
            v.refreshing = self
                .entries
                .get(&v.status.definition.name)
                .is_some_and(|e| e.refreshing);
        }
        self.tidy();
    }

    /// Drops the entries that hold nothing.
    fn tidy(&mut self) {
        self.entries.retain(|_, e| *e != CacheEntry::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_entry_per_cache_dropped_when_empty() {
        let mut b = CacheBoard::default();
        b.entry("a").refreshing = true;
        b.entry("b").scheduled = true;
        b.entry("b").next_run = Some(5);
        assert!(b.refreshing("a") && !b.refreshing("b"));
        assert_eq!(b.scheduled_count(), 1);
        b.set_signatures(HashMap::from([("c".to_owned(), "s1".to_owned())]));
        assert_eq!(b.get("c").and_then(|e| e.signature.as_deref()), Some("s1"));
        b.set_signatures(HashMap::new());
        assert!(
            b.get("c").is_none(),
            "an entry with nothing left in it goes"
        );
        b.entry("a").refreshing = false;
        b.sync_refreshing();
        assert!(b.get("a").is_none());
        b.entry("b").last_outcome = None;
        b.entry("b").stale_since = Some(1);
        b.forget("b");
        let e = b.get("b").expect("still scheduled");
        assert_eq!((e.next_run, e.stale_since, e.scheduled), (None, None, true));
    }
}
