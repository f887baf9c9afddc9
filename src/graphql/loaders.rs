//! What every feature's DataLoaders share. Loaders are made fresh for every
//! request because each captures that request's `Identity` and answers only
//! what its viewer may see (they do not cache across requests: nothing to leak).

use std::{hash::Hash, sync::Arc, time::Duration};

use async_graphql::dataloader::{DataLoader, Loader};
use futures_util::future::BoxFuture;

use super::Identity;
use crate::{auth::Viewer, error::AppError};

/// Loader failures are shared between every field that waited on the batch.
pub type LoadError = Arc<AppError>;

/// How many times a batch yields to the scheduler before it queries. No timer:
/// the fields of one level register their keys in one poll of the request's
/// task (async-graphql resolves a list's items with a join), and the batch's
/// task, spawned during that poll, runs after it. The yields give a request
/// that another worker thread is running the time to finish its pass. A fixed
/// 3 ms wait per loader level made a nested page cost 6.7 ms against 0.3 ms of
/// SQL; this costs microseconds (BENCHMARKS.md has the figures).
const BATCH_YIELDS: usize = 4;

/// A loader that batches the keys of one pass without a fixed wait, spawning on tokio.
pub fn loader<T: Loader<K>, K: Send + Sync + Hash + Eq + Clone + 'static>(inner: T) -> Arc<DataLoader<T>> {
    // A zero delay is ready at once (async-graphql's timer checks the deadline
    // before it registers anything); the yields below do the waiting.
    Arc::new(DataLoader::new(inner, spawn_after_yields).delay(Duration::ZERO))
}

/// Runs a loader's batch on tokio once the tasks ready now have had their turn.
fn spawn_after_yields(batch: BoxFuture<'static, ()>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        for _ in 0..BATCH_YIELDS {
            tokio::task::yield_now().await;
        }
        batch.await
    })
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
