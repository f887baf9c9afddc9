//! Batched porting lookups for one request, answering only what its viewer may see.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use super::PortingService;
use crate::{
    entity::{porting_order_numbers, porting_orders},
    graphql::{
        Identity,
        loaders::{LoadError, viewer_of},
    },
};

/// Orders the viewer may see, by id: for `node` and an event's `order`.
pub struct PortingOrderLoader {
    pub porting: PortingService,
    pub identity: Arc<Identity>,
}

impl Loader<Uuid> for PortingOrderLoader {
    type Value = porting_orders::Model;
    type Error = LoadError;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, porting_orders::Model>, LoadError> {
        let viewer = viewer_of(&self.identity)?;
        let rows = self.porting.visible_many(&viewer, ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|order| (order.id, order)).collect())
    }
}

/// The numbers of orders, by order id (the caller has already shown the order).
pub struct PortingNumbersLoader {
    pub porting: PortingService,
}

impl Loader<Uuid> for PortingNumbersLoader {
    type Value = Vec<porting_order_numbers::Model>;
    type Error = LoadError;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<porting_order_numbers::Model>>, LoadError> {
        self.porting.numbers_of_many(ids).await.map_err(Arc::new)
    }
}
