//! What resolvers may ask of the context: the signed-in `Viewer` and the services.

use async_graphql::Context;

use crate::{
    accounts::{AccountService, SessionService},
    auth::Viewer,
    error::AppError,
    numbers::{NumberService, Region},
};

/// Everything resolvers call, shared by all requests (each part is cheap to clone).
#[derive(Clone)]
pub struct Services {
    pub accounts: AccountService,
    pub sessions: SessionService,
    pub numbers: NumberService,
    pub allow_signup: bool,
    /// Region for phone numbers written without a country code, from `DEFAULT_REGION`.
    pub default_region: Option<Region>,
}

pub trait ContextExt {
    /// The signed-in viewer, or `UNAUTHENTICATED`.
    fn viewer(&self) -> Result<&Viewer, AppError>;
    fn services(&self) -> Result<&Services, AppError>;
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
}
