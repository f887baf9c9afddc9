//! Batched number lookups for one request: each answers only what the
//! request's viewer may see, through the service's rules.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use super::NumberService;
use crate::{
    entity::virtual_numbers,
    graphql::{
        Identity,
        loaders::{LoadError, viewer_of},
    },
};

/// Numbers the viewer may look up (not released), by id: for `node`.
pub struct NumberLoader {
    pub numbers: NumberService,
    pub identity: Arc<Identity>,
}

impl Loader<Uuid> for NumberLoader {
    type Value = virtual_numbers::Model;
    type Error = LoadError;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, virtual_numbers::Model>, LoadError> {
        let viewer = viewer_of(&self.identity)?;
        let rows = self.numbers.visible_many(&viewer, ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|number| (number.id, number)).collect())
    }
}

/// Numbers in the viewer's call history (released ones too), by id: a log's number.
pub struct HistoryNumberLoader {
    pub numbers: NumberService,
    pub identity: Arc<Identity>,
}

impl Loader<Uuid> for HistoryNumberLoader {
    type Value = virtual_numbers::Model;
    type Error = LoadError;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, virtual_numbers::Model>, LoadError> {
        let viewer = viewer_of(&self.identity)?;
        let rows = self.numbers.in_history_many(&viewer, ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|number| (number.id, number)).collect())
    }
}
