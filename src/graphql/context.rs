//! What resolvers may ask of the context: who the request acts for, a service,
//! and this request's loaders. Generic over their types, so this module names
//! no feature: the assembly (`crate::schema`) puts them in.

use std::{
    any::{Any, TypeId},
    sync::{Arc, OnceLock},
};

use async_graphql::{Context, dataloader::DataLoader};

use crate::{auth::Viewer, error::AppError};

/// Who one request acts for: the viewer its bearer token named or, once a
/// sign-in in this same request succeeds (`register`, `login`, `refresh`), the
/// user of the new session, so that the payload's `user { … }` resolves as them.
#[derive(Debug, Default)]
pub struct Identity {
    token: Option<Viewer>,
    signed_in: OnceLock<Viewer>,
}

impl Identity {
    pub fn new(token: Option<Viewer>) -> Arc<Self> {
        Arc::new(Identity {
            token,
            signed_in: OnceLock::new(),
        })
    }

    /// The viewer, if anyone is signed in.
    pub fn viewer(&self) -> Option<&Viewer> {
        self.signed_in.get().or(self.token.as_ref())
    }

    /// Records the session a sign-in in this request started (the first one counts).
    pub fn signed_in(&self, viewer: Viewer) {
        let _ = self.signed_in.set(viewer);
    }
}

/// One request's loaders, as the assembly makes them (it knows their types):
/// the loader of the type whose `TypeId` is asked for, as an
/// `Arc<DataLoader<T>>`, or none if it makes no such loader.
pub trait RequestLoaders: Send + Sync {
    fn loader(&self, loader: TypeId) -> Option<&(dyn Any + Send + Sync)>;
}

pub trait ContextExt {
    /// The signed-in viewer, or `UNAUTHENTICATED`.
    fn viewer(&self) -> Result<&Viewer, AppError>;
    /// Who this request acts for.
    fn identity(&self) -> Result<&Arc<Identity>, AppError>;
    /// A service (or setting) the schema was built with.
    fn service<T: Any + Send + Sync>(&self) -> Result<&T, AppError>;
    /// This request's loader of type `T`.
    fn loader<T: Send + Sync + 'static>(&self) -> Result<&Arc<DataLoader<T>>, AppError>;
}

impl ContextExt for Context<'_> {
    fn viewer(&self) -> Result<&Viewer, AppError> {
        self.identity()?.viewer().ok_or(AppError::Unauthenticated(
            "sign in first: send `Authorization: Bearer <accessToken>`",
        ))
    }

    fn identity(&self) -> Result<&Arc<Identity>, AppError> {
        self.data::<Arc<Identity>>()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("the request was run without its identity")))
    }

    fn service<T: Any + Send + Sync>(&self) -> Result<&T, AppError> {
        self.data::<T>().map_err(|_| {
            AppError::Internal(anyhow::anyhow!(
                "the schema was built without {}",
                std::any::type_name::<T>()
            ))
        })
    }

    fn loader<T: Send + Sync + 'static>(&self) -> Result<&Arc<DataLoader<T>>, AppError> {
        self.data::<Arc<dyn RequestLoaders>>()
            .ok()
            .and_then(|loaders| loaders.loader(TypeId::of::<T>()))
            .and_then(|loader| loader.downcast_ref::<Arc<DataLoader<T>>>())
            .ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!(
                    "the request was run without {}",
                    std::any::type_name::<T>()
                ))
            })
    }
}
