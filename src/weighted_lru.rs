//! An LRU bounded in entries and in the total weight (bytes, as the caller
//! counts them) of what it holds: the shape of every per-instance document
//! cache here (automatic persisted queries, parsed documents).

use std::{hash::Hash, num::NonZeroUsize};

use lru::LruCache;

pub struct WeightedLru<K: Hash + Eq, V> {
    entries: LruCache<K, (V, u64)>,
    weight: u64,
    budget: u64,
    /// Heavier values are never kept.
    max_entry: u64,
}

impl<K: Hash + Eq, V> WeightedLru<K, V> {
    /// At most `entries` values (`None`: no count limit) weighing `budget` in
    /// all, none heavier than `max_entry`.
    pub fn new(entries: Option<NonZeroUsize>, budget: u64, max_entry: u64) -> Self {
        WeightedLru {
            entries: entries.map_or_else(LruCache::unbounded, LruCache::new),
            weight: 0,
            budget,
            max_entry,
        }
    }

    /// The value under `key`, now the most recently used.
    pub fn get(&mut self, key: &K) -> Option<&V> {
        self.entries.get(key).map(|(value, _)| value)
    }

    /// Keeps `value` (unless heavier than allowed), dropping the least
    /// recently used values until the rest fit.
    pub fn put(&mut self, key: K, value: V, weight: u64) {
        if weight > self.max_entry {
            return;
        }
        if let Some((_, replaced)) = self.entries.pop(&key) {
            self.weight -= replaced;
        }
        while self.weight + weight > self.budget {
            match self.entries.pop_lru() {
                Some((_, (_, dropped))) => self.weight -= dropped,
                None => break,
            }
        }
        self.weight += weight;
        if let Some((_, (_, evicted))) = self.entries.push(key, (value, weight)) {
            // Over the count limit: the least recently used made room.
            self.weight -= evicted;
        }
    }

    pub fn contains(&self, key: &K) -> bool {
        self.entries.contains(key)
    }

    /// How many values are kept, and their weight.
    pub fn usage(&self) -> (usize, u64) {
        (self.entries.len(), self.weight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_within_count_and_weight_least_recently_used_first() {
        let mut by_count = WeightedLru::new(NonZeroUsize::new(2), 100, 10);
        by_count.put("a", 1, 5);
        by_count.put("b", 2, 5);
        by_count.get(&"a");
        by_count.put("c", 3, 5);
        assert_eq!(by_count.usage(), (2, 10));
        assert!(by_count.contains(&"a") && !by_count.contains(&"b"));

        let mut by_weight = WeightedLru::new(None, 10, 10);
        by_weight.put("a", 1, 4);
        by_weight.put("b", 2, 4);
        by_weight.put("c", 3, 4);
        by_weight.put("c", 3, 4);
        assert_eq!(by_weight.usage(), (2, 8));
        assert!(!by_weight.contains(&"a"));

        by_weight.put("heavy", 4, 11);
        assert!(!by_weight.contains(&"heavy"));
        assert_eq!(by_weight.usage(), (2, 8));
    }
}
