//! Batched user and audit-event lookups for one request, answering only what the viewer may see.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use super::{AccountService, AuditLog};
use crate::{
    entity::{audit_events, users},
    graphql::{
        Identity,
        loaders::{LoadError, viewer_of},
    },
};

/// Users the viewer may see (themselves; staff: anyone), by id.
pub struct UserLoader {
    pub accounts: AccountService,
    pub identity: Arc<Identity>,
}

impl Loader<Uuid> for UserLoader {
    type Value = users::Model;
    type Error = LoadError;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, users::Model>, LoadError> {
        let viewer = viewer_of(&self.identity)?;
        let rows = self.accounts.visible_many(&viewer, ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|user| (user.id, user)).collect())
    }
}

/// Audit events, by id: staff see any, everyone else none (for `node`).
pub struct AuditEventLoader {
    pub audit: AuditLog,
    pub identity: Arc<Identity>,
}

impl Loader<Uuid> for AuditEventLoader {
    type Value = audit_events::Model;
    type Error = LoadError;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, audit_events::Model>, LoadError> {
        let viewer = viewer_of(&self.identity)?;
        let rows = self.audit.visible_many(&viewer, ids).await.map_err(Arc::new)?;
        Ok(rows.into_iter().map(|event| (event.id, event)).collect())
    }
}
