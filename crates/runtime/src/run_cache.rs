//! The scheduler's cache of run states between steps, each with the `seq` it is at (the
//! caller checks it: a state at another `seq` is stale and is read again from the rows).
//!
//! Two kinds of entries:
//! - *moving* runs (an outbound call in flight, or a step cut at its budget): kept until
//!   their next step takes them, since that step is coming;
//! - *parked* runs, which merely wait (for a callback, a subscribe's answer, a timer): kept
//!   only a short while and only so many, oldest out first. Many webhook services call back
//!   within milliseconds of the subscribe; the run's next step then starts from memory
//!   instead of reading its rows. A run that waits longer is a row again, nothing else: the
//!   cost of a waiting run stays bounded whatever the number of waiting runs.

use std::collections::{HashMap, VecDeque};

/// Parked runs kept at most.
const PARKED_CAPACITY: usize = 1024;
/// How long a parked run is kept (ms).
const PARKED_TTL_MS: i64 = 2_000;

pub(crate) struct RunCache<T> {
    entries: HashMap<String, Entry<T>>,
    /// Parked entries, oldest first, by the ticket they were parked with: an entry taken or
    /// replaced since leaves its ticket behind, which is then skipped.
    parked: VecDeque<Parked>,
    next_ticket: u64,
    capacity: usize,
    ttl_ms: i64,
}

struct Entry<T> {
    value: T,
    /// `Some(ticket)` when parked.
    ticket: Option<u64>,
}

struct Parked {
    run_id: String,
    ticket: u64,
    at: i64,
}

impl<T> Default for RunCache<T> {
    fn default() -> Self {
        RunCache::new(PARKED_CAPACITY, PARKED_TTL_MS)
    }
}

impl<T> RunCache<T> {
    pub(crate) fn new(capacity: usize, ttl_ms: i64) -> Self {
        RunCache {
            entries: HashMap::new(),
            parked: VecDeque::new(),
            next_ticket: 0,
            capacity,
            ttl_ms,
        }
    }

    pub(crate) fn get(&self, run_id: &str) -> Option<&T> {
        self.entries.get(run_id).map(|entry| &entry.value)
    }

    pub(crate) fn take(&mut self, run_id: &str) -> Option<T> {
        self.entries.remove(run_id).map(|entry| entry.value)
    }

    /// Keeps a moving run until it is taken.
    pub(crate) fn keep(&mut self, run_id: String, value: T) {
        self.entries.insert(
            run_id,
            Entry {
                value,
                ticket: None,
            },
        );
    }

    /// Keeps a waiting run for a short while, evicting the oldest parked run when full.
    pub(crate) fn park(&mut self, run_id: String, value: T, now: i64) {
        if self.capacity == 0 {
            return;
        }
        self.expire(now);
        while self.parked.len() >= self.capacity {
            self.evict_oldest();
        }
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.parked.push_back(Parked {
            run_id: run_id.clone(),
            ticket,
            at: now,
        });
        self.entries.insert(
            run_id,
            Entry {
                value,
                ticket: Some(ticket),
            },
        );
    }

    /// Drops the parked runs kept longer than the TTL.
    pub(crate) fn expire(&mut self, now: i64) {
        while self
            .parked
            .front()
            .is_some_and(|oldest| now - oldest.at >= self.ttl_ms)
        {
            self.evict_oldest();
        }
    }

    fn evict_oldest(&mut self) {
        let Some(oldest) = self.parked.pop_front() else {
            return;
        };
        let still_parked = self
            .entries
            .get(&oldest.run_id)
            .is_some_and(|entry| entry.ticket == Some(oldest.ticket));
        if still_parked {
            self.entries.remove(&oldest.run_id);
        }
    }

    /// Entries held (moving and parked), for tests.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::RunCache;

    #[test]
    fn a_parked_run_leaves_after_its_ttl() {
        let mut cache = RunCache::new(10, 100);
        cache.park("a".into(), 1, 0);
        cache.expire(99);
        assert_eq!(cache.get("a"), Some(&1));
        cache.expire(100);
        assert_eq!(cache.get("a"), None);
    }

    #[test]
    fn the_oldest_parked_run_leaves_when_full_and_moving_runs_stay() {
        let mut cache = RunCache::new(2, 1_000);
        cache.keep("moving".into(), 0);
        cache.park("a".into(), 1, 0);
        cache.park("b".into(), 2, 1);
        cache.park("c".into(), 3, 2);
        assert_eq!(cache.get("a"), None);
        assert_eq!(cache.get("b"), Some(&2));
        assert_eq!(cache.get("c"), Some(&3));
        cache.expire(10_000);
        assert_eq!(cache.get("moving"), Some(&0));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_run_taken_and_kept_again_is_not_evicted_by_its_old_ticket() {
        let mut cache = RunCache::new(10, 100);
        cache.park("a".into(), 1, 0);
        assert_eq!(cache.take("a"), Some(1));
        cache.keep("a".into(), 2);
        cache.expire(1_000);
        assert_eq!(cache.get("a"), Some(&2));
        // Parked again later: only the newer ticket's age counts.
        cache.take("a");
        cache.park("a".into(), 3, 950);
        cache.expire(1_000);
        assert_eq!(cache.get("a"), Some(&3));
    }

    #[test]
    fn zero_capacity_parks_nothing() {
        let mut cache = RunCache::new(0, 100);
        cache.park("a".into(), 1, 0);
        assert_eq!(cache.get("a"), None);
    }
}
