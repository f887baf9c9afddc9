//! What every feature's DataLoaders share. Loaders are made fresh for every
//! request because each captures that request's `Identity` and answers only
//! what its viewer may see (they do not cache across requests: nothing to leak).

use std::{hash::Hash, sync::Arc, time::Duration};

use async_graphql::dataloader::{DataLoader, Loader};

use super::Identity;
use crate::{auth::Viewer, error::AppError};

/// Loader failures are shared between every field that waited on the batch.
pub type LoadError = Arc<AppError>;

/// How long a loader waits for more keys before it queries: long enough for a
/// page of 100 fields to register their keys, short enough not to be felt.
const BATCH_DELAY: Duration = Duration::from_millis(3);

/// A loader with this project's batching delay, spawning on tokio.
pub fn loader<T: Loader<K>, K: Send + Sync + Hash + Eq + Clone + 'static>(inner: T) -> Arc<DataLoader<T>> {
    Arc::new(DataLoader::new(inner, tokio::spawn).delay(BATCH_DELAY))
}

/// The viewer a batch loads for; anonymous requests load nothing.
pub fn viewer_of(identity: &Identity) -> Result<Viewer, LoadError> {
    identity
        .viewer()
        .copied()
        .ok_or_else(|| Arc::new(AppError::Unauthenticated("sign in first")))
}

/// A loader error shared by many fields, as this field's own error.
pub fn unshare(error: LoadError) -> AppError {
    match Arc::try_unwrap(error) {
        Ok(error) => error,
        Err(shared) => match &*shared {
            AppError::Unauthenticated(message) => AppError::Unauthenticated(message),
            AppError::NotFound(message) => AppError::NotFound(message),
            _ => AppError::Internal(anyhow::anyhow!("a batched query failed: {shared:?}")),
        },
    }
}
