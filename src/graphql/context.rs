//! What resolvers may ask of the context: the signed-in `Viewer` and the services.

use std::sync::Arc;

use async_graphql::Context;

use crate::{
    accounts::{AccountService, SessionService},
    auth::Viewer,
    calls::{CallService, loaders::Loaders},
    error::AppError,
    numbers::{NumberService, Region},
};

/// Everything resolvers call, shared by all requests (each part is cheap to clone).
#[derive(Clone)]
pub struct Services {
    pub accounts: AccountService,
    pub sessions: SessionService,
    pub numbers: NumberService,
    pub calls: CallService,
    pub allow_signup: bool,
    /// Region for phone numbers written without a country code, from `DEFAULT_REGION`.
    pub default_region: Option<Region>,
}

impl Services {
    /// Fresh loaders for one request (never shared: their caches hold one viewer's rows).
    pub fn loaders(&self, viewer: Option<Viewer>) -> Arc<Loaders> {
        Loaders::new(self.accounts.clone(), self.numbers.clone(), self.calls.clone(), viewer)
    }
}

pub trait ContextExt {
    /// The signed-in viewer, or `UNAUTHENTICATED`.
    fn viewer(&self) -> Result<&Viewer, AppError>;
    fn services(&self) -> Result<&Services, AppError>;
    /// This request's loaders.
    fn loaders(&self) -> Result<&Arc<Loaders>, AppError>;
}

impl ContextExt for Context<'_> {
    fn viewer(&self) -> Result<&Viewer, AppError> {
        self.data_opt::<Viewer>().ok_or(AppError::Unauthenticated(
            "sign in first: send `Authorization: Bearer <accessToken>`",
        ))
    }

    fn services(&self) -> Result<&Services, AppError> {
        self.data::<Services>()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("the schema was built without services")))
    }

    fn loaders(&self) -> Result<&Arc<Loaders>, AppError> {
        self.data::<Arc<Loaders>>()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("the request was run without its loaders")))
    }
}
