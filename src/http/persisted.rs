//! Persisted documents, two ways.
//!
//! - **Automatic persisted queries**, the protocol Apollo's clients speak: a
//!   request names its document by `extensions.persistedQuery.sha256Hash`. Sent
//!   alone, the hash is looked up (a miss answers `PERSISTED_QUERY_NOT_FOUND`
//!   and the client sends hash and text); sent with the text, the hash must be
//!   the text's SHA-256 and the document is kept for next time. The cache is a
//!   per-instance LRU bounded in entries and in bytes. Over GET this makes
//!   short, CDN-cacheable URLs.
//! - **Trusted documents**: a manifest of the operations a deployment's own
//!   frontend sends (graphql-codegen's or Relay's `{ "hash": "document" }`, or
//!   Apollo's persisted query manifest). Its documents can always be sent by
//!   hash; with `TRUSTED_DOCUMENTS_ONLY`, every other document is refused.

use std::{
    collections::{HashMap, HashSet},
    num::NonZeroUsize,
    path::Path,
    sync::{Arc, Mutex},
};

use anyhow::Context as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{error::AppError, weighted_lru::WeightedLru};

/// The most bytes of documents the automatic cache holds.
const CACHE_BYTES: u64 = 16 * 1024 * 1024;
/// Larger documents run but are not kept.
const MAX_CACHED_DOCUMENT: u64 = 64 * 1024;

pub struct PersistedDocuments {
    /// Automatic persisted queries: SHA-256 (hex) → document. `None`: off.
    cache: Option<Mutex<WeightedLru<String, Arc<str>>>>,
    /// The manifest's documents by their id (as the manifest spells it).
    trusted: HashMap<String, Arc<str>>,
    /// The SHA-256 of every trusted document's text.
    trusted_hashes: HashSet<String>,
    trusted_only: bool,
}

#[derive(Deserialize)]
struct PersistedQuery {
    version: i64,
    #[serde(rename = "sha256Hash")]
    sha256_hash: String,
}

/// Apollo's `generate-persisted-query-manifest` output.
#[derive(Deserialize)]
struct ApolloManifest {
    format: String,
    operations: Vec<ApolloOperation>,
}

#[derive(Deserialize)]
struct ApolloOperation {
    id: String,
    body: String,
}

const MANIFEST_FIELD: &str = "extensions.persistedQuery";

impl PersistedDocuments {
    /// `cache_entries` 0 turns automatic persisted queries off; `trusted_only`
    /// needs a manifest.
    pub fn new(cache_entries: usize, manifest: Option<&Path>, trusted_only: bool) -> anyhow::Result<Self> {
        let trusted = match manifest {
            Some(path) => load_manifest(path)?,
            None if trusted_only => anyhow::bail!("TRUSTED_DOCUMENTS_ONLY needs a TRUSTED_DOCUMENTS manifest"),
            None => HashMap::new(),
        };
        let trusted_hashes = trusted.values().map(|text| sha256(text)).collect();
        let cache = NonZeroUsize::new(cache_entries)
            .filter(|_| !trusted_only)
            .map(|entries| Mutex::new(WeightedLru::new(Some(entries), CACHE_BYTES, MAX_CACHED_DOCUMENT)));
        Ok(PersistedDocuments {
            cache,
            trusted,
            trusted_hashes,
            trusted_only,
        })
    }

    /// Fills in `request.query` from a persisted document, keeps a new one, or
    /// refuses the request; in trusted-only mode, refuses any other document.
    pub fn resolve(&self, request: &mut async_graphql::Request) -> Result<(), AppError> {
        let persisted = match request.extensions.remove("persistedQuery") {
            Some(value) => {
                let persisted: PersistedQuery = value
                    .into_json()
                    .ok()
                    .and_then(|json| serde_json::from_value(json).ok())
                    .ok_or_else(|| {
                        AppError::bad_input(
                            MANIFEST_FIELD,
                            "`persistedQuery` must be {\"version\": 1, \"sha256Hash\": \"<hex>\"}",
                        )
                    })?;
                if persisted.version != 1 {
                    return Err(AppError::bad_input(
                        MANIFEST_FIELD,
                        "only version 1 of persisted queries is supported",
                    ));
                }
                Some(persisted.sha256_hash)
            }
            None => None,
        };
        let has_text = !request.query.trim().is_empty();
        match persisted {
            None if !has_text => Ok(()), // the endpoint refuses a request without a query
            // The hash is needed only to hold the text to a manifest.
            None if self.trusted_only => self.allowed(&sha256(&request.query)),
            None => Ok(()),
            Some(id) if !has_text => {
                request.query = self.find(&id)?.to_string();
                Ok(())
            }
            Some(id) => {
                let hash = sha256(&request.query);
                if strip(&id).to_ascii_lowercase() != hash {
                    return Err(AppError::bad_input(
                        "extensions.persistedQuery.sha256Hash",
                        "provided sha does not match query: sha256Hash must be the SHA-256 (hex) of `query`",
                    ));
                }
                self.allowed(&hash)?;
                self.keep(hash, &request.query);
                Ok(())
            }
        }
    }

    fn allowed(&self, hash: &str) -> Result<(), AppError> {
        if self.trusted_only && !self.trusted_hashes.contains(hash) {
            return Err(AppError::Forbidden(
                "this server runs only its trusted documents, and this is not one of them",
            ));
        }
        Ok(())
    }

    fn find(&self, id: &str) -> Result<Arc<str>, AppError> {
        if let Some(text) = self.trusted.get(id).or_else(|| self.trusted.get(strip(id))) {
            return Ok(text.clone());
        }
        if self.trusted_only {
            return Err(AppError::Forbidden(
                "this server runs only its trusted documents, and this is not one of them",
            ));
        }
        let cached = self.cache.as_ref().and_then(|cache| {
            let mut cache = cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            cache.get(&strip(id).to_ascii_lowercase()).cloned()
        });
        cached.ok_or(AppError::PersistedQueryNotFound)
    }

    fn keep(&self, hash: String, text: &str) {
        let Some(cache) = &self.cache else {
            return;
        };
        let mut cache = cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.put(hash, Arc::from(text), text.len() as u64);
    }
}

/// `sha256:<hex>` (the GraphQL-over-HTTP persisted documents spelling) or `<hex>`.
fn strip(id: &str) -> &str {
    id.strip_prefix("sha256:").unwrap_or(id)
}

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Reads a manifest: `{ "id": "document", ... }` (graphql-codegen's client preset,
/// Relay's `--persist-output`) or Apollo's `{ "format": "apollo-persisted-query-manifest",
/// "operations": [{ "id", "body", ... }] }`.
fn load_manifest(path: &Path) -> anyhow::Result<HashMap<String, Arc<str>>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the trusted documents manifest {}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let documents: HashMap<String, Arc<str>> = if json.get("format").is_some() {
        let manifest: ApolloManifest = serde_json::from_value(json)
            .with_context(|| format!("{} is not an Apollo persisted query manifest", path.display()))?;
        anyhow::ensure!(
            manifest.format == "apollo-persisted-query-manifest",
            "{}: unknown manifest format `{}`",
            path.display(),
            manifest.format
        );
        manifest
            .operations
            .into_iter()
            .map(|operation| (operation.id, Arc::from(operation.body)))
            .collect()
    } else {
        let map: HashMap<String, String> = serde_json::from_value(json).with_context(|| {
            format!(
                "{} must map document ids to documents: {{\"<hash>\": \"query ...\"}}",
                path.display()
            )
        })?;
        map.into_iter().map(|(id, text)| (id, Arc::from(text))).collect()
    };
    for (id, text) in &documents {
        async_graphql::parser::parse_query(text.as_ref())
            .map_err(|error| anyhow::anyhow!("{}: document {id} does not parse: {error}", path.display()))?;
    }
    tracing::info!(documents = documents.len(), manifest = %path.display(), "loaded trusted documents");
    Ok(documents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str, hash: Option<&str>) -> async_graphql::Request {
        let mut request = async_graphql::Request::new(query);
        if let Some(hash) = hash {
            request.extensions.insert(
                "persistedQuery".to_owned(),
                async_graphql::Value::from_json(serde_json::json!({ "version": 1, "sha256Hash": hash })).unwrap(),
            );
        }
        request
    }

    #[test]
    fn the_cache_stays_within_its_entries() {
        let documents = PersistedDocuments::new(2, None, false).unwrap();
        let texts = ["{ a }", "{ b }", "{ c }"];
        for text in texts {
            documents.resolve(&mut request(text, Some(&sha256(text)))).unwrap();
        }
        let cache = documents.cache.as_ref().unwrap().lock().unwrap();
        assert_eq!(cache.usage(), (2, 10));
        assert!(!cache.contains(&sha256("{ a }")), "the least recently used went");
    }

    #[test]
    fn a_hash_of_the_wrong_shape_is_a_miss_not_a_panic() {
        let documents = PersistedDocuments::new(10, None, false).unwrap();
        for hash in ["", "zz", &"é".repeat(100), "sha256:"] {
            let refused = documents.resolve(&mut request("", Some(hash)));
            assert!(matches!(refused, Err(AppError::PersistedQueryNotFound)), "{hash}");
        }
    }

    #[test]
    fn manifests_load_in_either_format_and_a_bad_one_stops_the_server() {
        let directory = tempfile::tempdir().unwrap();
        let write = |name: &str, json: serde_json::Value| {
            let path = directory.path().join(name);
            std::fs::write(&path, json.to_string()).unwrap();
            path
        };
        let apollo = write(
            "apollo.json",
            serde_json::json!({ "format": "apollo-persisted-query-manifest", "version": 1,
                "operations": [{ "id": "abc", "name": "Me", "type": "query", "body": "query Me { me { id } }" }] }),
        );
        let broken = write("broken.json", serde_json::json!({ "abc": "query {" }));
        let not_a_map = write("list.json", serde_json::json!(["query { me { id } }"]));

        let documents = PersistedDocuments::new(0, Some(&apollo), true).unwrap();
        let mut by_id = request("", Some("abc"));
        documents.resolve(&mut by_id).unwrap();
        assert_eq!(by_id.query, "query Me { me { id } }");
        assert!(matches!(
            documents.resolve(&mut request("{ __typename }", None)),
            Err(AppError::Forbidden(_))
        ));
        for bad in [&broken, &not_a_map, &directory.path().join("missing.json")] {
            assert!(
                PersistedDocuments::new(0, Some(bad), true).is_err(),
                "{}",
                bad.display()
            );
        }
        assert!(
            PersistedDocuments::new(10, None, true).is_err(),
            "trusted-only needs a manifest"
        );
    }
}
