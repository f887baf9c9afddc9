//! DataLoaders, made fresh for every request (a loader shared across requests
//! would serve one user's rows from another's cache). They batch `owner`,
//! `virtualNumber` and `node` lookups into one query per type, and nested
//! `callLogs` connections into one windowed query per distinct set of arguments.

use std::{collections::HashMap, hash::Hash, sync::Arc, time::Duration};

use async_graphql::dataloader::{DataLoader, Loader};
use uuid::Uuid;

use super::{CallFilter, CallKey, CallService};
use crate::{
    accounts::AccountService,
    auth::Viewer,
    entity::{call_logs, users, virtual_numbers},
    error::AppError,
    numbers::NumberService,
    paging::{Page, PageRequest},
};

/// Loader failures are shared between every field that waited on the batch.
pub type LoadError = Arc<AppError>;

/// Every loader one request uses.
pub struct Loaders {
    pub users: DataLoader<UserLoader>,
    pub numbers: DataLoader<NumberLoader>,
    pub calls: DataLoader<CallLoader>,
    pub call_pages: DataLoader<CallPageLoader>,
    pub call_counts: DataLoader<CallCountLoader>,
}

/// How long a loader waits for more keys before it queries: long enough for a
/// page of 100 fields to register their keys, short enough not to be felt.
const BATCH_DELAY: Duration = Duration::from_millis(3);

fn loader<T: Loader<K>, K: Send + Sync + Hash + Eq + Clone + 'static>(inner: T) -> DataLoader<T> {
    DataLoader::new(inner, tokio::spawn).delay(BATCH_DELAY)
}

impl Loaders {
    pub fn new(
        accounts: AccountService,
        numbers: NumberService,
        calls: CallService,
        viewer: Option<Viewer>,
    ) -> Arc<Self> {
        Arc::new(Loaders {
            users: loader(UserLoader(accounts)),
            numbers: loader(NumberLoader(numbers)),
            calls: loader(CallLoader(calls.clone())),
            call_pages: loader(CallPageLoader {
                calls: calls.clone(),
                viewer,
            }),
            call_counts: loader(CallCountLoader { calls, viewer }),
        })
    }
}

/// Users by id.
pub struct UserLoader(AccountService);

impl Loader<Uuid> for UserLoader {
    type Value = users::Model;
    type Error = LoadError;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, users::Model>, LoadError> {
        let rows = self.0.find_many(ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|user| (user.id, user)).collect())
    }
}

/// Virtual numbers by id, released ones included (a log keeps its number).
pub struct NumberLoader(NumberService);

impl Loader<Uuid> for NumberLoader {
    type Value = virtual_numbers::Model;
    type Error = LoadError;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, virtual_numbers::Model>, LoadError> {
        let rows = self.0.find_many(ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|number| (number.id, number)).collect())
    }
}

/// Call logs by id (for `node`).
pub struct CallLoader(CallService);

impl Loader<Uuid> for CallLoader {
    type Value = call_logs::Model;
    type Error = LoadError;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, call_logs::Model>, LoadError> {
        let rows = self.0.find_many(ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|log| (log.id, log)).collect())
    }
}

/// The arguments of one nested `callLogs` connection, less the number itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallPageArgs {
    pub request: PageRequest<CallKey>,
    pub filter: CallFilter,
}

/// One page of call logs per (number, arguments), one windowed query per distinct arguments.
pub struct CallPageLoader {
    calls: CallService,
    viewer: Option<Viewer>,
}

impl Loader<(Uuid, Arc<CallPageArgs>)> for CallPageLoader {
    type Value = Arc<Page<call_logs::Model>>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[(Uuid, Arc<CallPageArgs>)],
    ) -> Result<HashMap<(Uuid, Arc<CallPageArgs>), Self::Value>, LoadError> {
        let viewer = self
            .viewer
            .ok_or_else(|| Arc::new(AppError::Unauthenticated("sign in first")))?;
        let mut by_args: HashMap<Arc<CallPageArgs>, Vec<Uuid>> = HashMap::new();
        for (number_id, args) in keys {
            by_args.entry(args.clone()).or_default().push(*number_id);
        }
        let mut pages = HashMap::with_capacity(keys.len());
        for (args, number_ids) in by_args {
            let mut found = self
                .calls
                .first_pages(&viewer, &number_ids, &args.filter, &args.request)
                .await
                .map_err(Arc::new)?;
            for number_id in number_ids {
                let page = found.remove(&number_id).unwrap_or_else(Page::empty);
                pages.insert((number_id, args.clone()), Arc::new(page));
            }
        }
        Ok(pages)
    }
}

/// `totalCount` of nested `callLogs` per (number, filter): one GROUP BY query per distinct filter.
pub struct CallCountLoader {
    calls: CallService,
    viewer: Option<Viewer>,
}

impl Loader<(Uuid, Arc<CallFilter>)> for CallCountLoader {
    type Value = u64;
    type Error = LoadError;

    async fn load(&self, keys: &[(Uuid, Arc<CallFilter>)]) -> Result<HashMap<(Uuid, Arc<CallFilter>), u64>, LoadError> {
        let viewer = self
            .viewer
            .ok_or_else(|| Arc::new(AppError::Unauthenticated("sign in first")))?;
        let mut by_filter: HashMap<Arc<CallFilter>, Vec<Uuid>> = HashMap::new();
        for (number_id, filter) in keys {
            by_filter.entry(filter.clone()).or_default().push(*number_id);
        }
        let mut counts = HashMap::with_capacity(keys.len());
        for (filter, number_ids) in by_filter {
            let found = self
                .calls
                .count_per_number(&viewer, &number_ids, &filter)
                .await
                .map_err(Arc::new)?;
            for number_id in number_ids {
                counts.insert((number_id, filter.clone()), found.get(&number_id).copied().unwrap_or(0));
            }
        }
        Ok(counts)
    }
}
