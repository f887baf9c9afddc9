//! Batched call-log lookups for one request, answering only what the
//! request's viewer may read: logs by id (for `node`), nested `callLogs` pages
//! (one windowed query per distinct set of arguments) and their `totalCount`s
//! (one GROUP BY query per distinct filter).

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use super::{CallFilter, CallKey, CallService};
use crate::{
    entity::call_logs,
    graphql::{
        Identity,
        loaders::{LoadError, viewer_of},
    },
    paging::{Page, PageRequest},
};

/// Call logs the viewer may read, by id (for `node`).
pub struct CallLoader {
    pub calls: CallService,
    pub identity: Arc<Identity>,
}

impl Loader<Uuid> for CallLoader {
    type Value = call_logs::Model;
    type Error = LoadError;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, call_logs::Model>, LoadError> {
        let viewer = viewer_of(&self.identity)?;
        let rows = self.calls.visible_many(&viewer, ids).await.map_err(Arc::new)?;
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
    pub calls: CallService,
    pub identity: Arc<Identity>,
}

impl Loader<(Uuid, Arc<CallPageArgs>)> for CallPageLoader {
    type Value = Arc<Page<call_logs::Model>>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[(Uuid, Arc<CallPageArgs>)],
    ) -> Result<HashMap<(Uuid, Arc<CallPageArgs>), Self::Value>, LoadError> {
        let viewer = viewer_of(&self.identity)?;
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
    pub calls: CallService,
    pub identity: Arc<Identity>,
}

impl Loader<(Uuid, Arc<CallFilter>)> for CallCountLoader {
    type Value = u64;
    type Error = LoadError;

    async fn load(&self, keys: &[(Uuid, Arc<CallFilter>)]) -> Result<HashMap<(Uuid, Arc<CallFilter>), u64>, LoadError> {
        let viewer = viewer_of(&self.identity)?;
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
