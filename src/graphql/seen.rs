//! Documents this instance has already parsed and checked, and requests it has
//! already validated, so that a client sending the same operation again (as
//! every frontend does) pays for neither twice.
//!
//! - **Parsed documents**, by the SHA-256 of their text: kept once they pass the
//!   guard's checks of the text alone (its measure against the limits, NUL
//!   characters, password fields). A hit skips counting tokens, parsing and
//!   those checks; the checks that depend on the request (variables, enum
//!   values, an API key's scopes, the cost) still run every time.
//! - **Validations**, by the SHA-256 of the document, the operation name and
//!   the variables: async-graphql's validation is a function of those and the
//!   schema alone, so an identical request that passed once passes again.
//!
//! Both are per-instance LRUs, bounded: parsed documents by an estimate of
//! their bytes (the text, which names and strings keep, plus a few hundred
//! bytes a token for the tree), validations by entries. Documents that carry
//! a password field (`login`, `register`, `refresh`) are never kept: their
//! literals may be credentials, and the hash they ask for dwarfs the parse.
//! SHA-256 keys cannot be made to collide, so one client cannot plant a
//! document or a validation under another's text.

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex, MutexGuard},
};

use async_graphql::{Variables, parser::types::ExecutableDocument};
use lru::LruCache;
use sha2::{Digest, Sha256};

use crate::weighted_lru::WeightedLru;

/// The most bytes of parsed documents kept, as `weight` estimates them.
pub const DOCUMENT_BYTES: u64 = 8 * 1024 * 1024;
/// Heavier documents are parsed every time.
pub const MAX_KEPT_WEIGHT: u64 = 64 * 1024;
/// What a parsed token costs beyond its text (nodes, positions, vectors).
const BYTES_PER_TOKEN: u64 = 256;
/// The most validations remembered.
pub const VALIDATIONS: usize = 10_000;
/// Requests whose variables are longer than this (as JSON) are validated every time.
pub const MAX_KEPT_VARIABLES: usize = 4_096;

/// A SHA-256 digest.
pub type Digest256 = [u8; 32];

/// What keeping a parsed document costs, in bytes (an estimate that errs high).
pub fn weight(query: &str, tokens: u64) -> u64 {
    (query.len() as u64).saturating_add(tokens.saturating_mul(BYTES_PER_TOKEN))
}

pub struct Seen {
    documents: Mutex<WeightedLru<Digest256, Arc<ExecutableDocument>>>,
    validations: Mutex<LruCache<Digest256, ()>>,
}

impl Default for Seen {
    fn default() -> Self {
        Seen {
            documents: Mutex::new(WeightedLru::new(None, DOCUMENT_BYTES, MAX_KEPT_WEIGHT)),
            validations: Mutex::new(LruCache::new(
                NonZeroUsize::new(VALIDATIONS).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }
}

/// A poisoned lock only means another request panicked while holding it; what
/// it guards here stays consistent, so keep using it.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The key of a document's text.
pub fn document_key(query: &str) -> Digest256 {
    Sha256::digest(query.as_bytes()).into()
}

/// The key of one validation: the document, the operation and the variables;
/// `None` when the variables are too long to be worth remembering.
pub fn validation_key(document: &Digest256, operation_name: Option<&str>, variables: &Variables) -> Option<Digest256> {
    let variables = serde_json::to_string(variables).ok()?;
    if variables.len() > MAX_KEPT_VARIABLES {
        return None;
    }
    let mut hasher = Sha256::new();
    hasher.update(document);
    // Lengths first, so no two (name, variables) pairs hash the same bytes.
    let name = operation_name.map(str::as_bytes);
    hasher.update([u8::from(name.is_some())]);
    hasher.update((name.map_or(0, <[u8]>::len) as u64).to_le_bytes());
    hasher.update(name.unwrap_or_default());
    hasher.update(variables.as_bytes());
    Some(hasher.finalize().into())
}

impl Seen {
    /// The parsed document kept under `key`, if any.
    pub fn document(&self, key: &Digest256) -> Option<Arc<ExecutableDocument>> {
        lock(&self.documents).get(key).cloned()
    }

    /// Keeps a document that passed the checks of its text, `weight` bytes
    /// heavy, dropping the least recently used ones past the budget.
    pub fn keep_document(&self, key: Digest256, document: Arc<ExecutableDocument>, weight: u64) {
        lock(&self.documents).put(key, document, weight);
    }

    /// How many documents are kept, and their weight in bytes.
    pub fn documents_kept(&self) -> (usize, u64) {
        lock(&self.documents).usage()
    }

    /// Whether the request under `key` passed every validation rule before.
    pub fn validated(&self, key: &Digest256) -> bool {
        lock(&self.validations).get(key).is_some()
    }

    /// Remembers a request that passed every validation rule.
    pub fn keep_validated(&self, key: Digest256) {
        lock(&self.validations).put(key, ());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(query: &str) -> Arc<ExecutableDocument> {
        Arc::new(async_graphql::parser::parse_query(query).unwrap())
    }

    #[test]
    fn documents_are_kept_within_their_byte_budget_least_recently_used_first() {
        let seen = Seen::default();
        let per_document = MAX_KEPT_WEIGHT;
        let fit = (DOCUMENT_BYTES / per_document) as usize;
        for index in 0..fit + 3 {
            let text = format!("{{ a{index} }}");
            seen.keep_document(document_key(&text), parsed(&text), per_document);
            // Touch the first so that it is the most recently used.
            assert!(seen.document(&document_key("{ a0 }")).is_some());
        }

        let (count, bytes) = seen.documents_kept();
        assert_eq!(count, fit);
        assert!(bytes <= DOCUMENT_BYTES);
        assert!(seen.document(&document_key("{ a0 }")).is_some());
        assert!(seen.document(&document_key("{ a1 }")).is_none());
        assert!(seen.document(&document_key(&format!("{{ a{} }}", fit + 2))).is_some());
    }

    #[test]
    fn heavy_documents_are_not_kept_however_few_their_tokens() {
        let seen = Seen::default();
        // Three tokens, but a name of a hundred thousand bytes.
        let text = format!("{{ {} }}", "a".repeat(100_000));
        let heavy = weight(&text, 3);
        seen.keep_document(document_key(&text), parsed(&text), heavy);

        assert!(heavy > MAX_KEPT_WEIGHT);
        assert_eq!(seen.documents_kept(), (0, 0));
        assert_eq!(weight("{ a }", 3), 5 + 3 * BYTES_PER_TOKEN);
    }

    #[test]
    fn validations_are_told_apart_by_operation_and_variables() {
        let document = document_key("query A($x: Int) { a } query B { b }");
        let variables = |json: serde_json::Value| Variables::from_json(json);
        let keys = [
            validation_key(&document, Some("A"), &variables(serde_json::json!({ "x": 1 }))),
            validation_key(&document, Some("A"), &variables(serde_json::json!({ "x": 2 }))),
            validation_key(&document, Some("B"), &variables(serde_json::json!({ "x": 1 }))),
            validation_key(&document, None, &variables(serde_json::json!({ "x": 1 }))),
            validation_key(
                &document_key("{ a }"),
                Some("A"),
                &variables(serde_json::json!({ "x": 1 })),
            ),
        ];
        for (index, key) in keys.iter().enumerate() {
            assert!(key.is_some());
            for other in &keys[index + 1..] {
                assert_ne!(key, other);
            }
        }
        let long = "x".repeat(MAX_KEPT_VARIABLES);
        assert!(validation_key(&document, None, &variables(serde_json::json!({ "x": long }))).is_none());
    }
}
