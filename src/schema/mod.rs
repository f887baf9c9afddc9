//! The schema, assembled above the features: their query, mutation and
//! subscription roots merged, `node(id)`, the services and settings resolvers
//! read, and the loaders each request gets. Features never import this module.

pub mod node;

use std::sync::Arc;

use async_graphql::{Data, MergedObject, MergedSubscription, Schema, SchemaBuilder};

use crate::{
    accounts::{self, AccountService, SessionService, loaders::UserLoader},
    auth::{ClientAddress, Viewer},
    calls::{
        self, CallService,
        loaders::{CallCountLoader, CallLoader, CallPageLoader},
    },
    graphql::{Identity, guard::RequestGuard, loaders::loader},
    numbers::{
        self, DefaultRegion, NumberService,
        loaders::{HistoryNumberLoader, NumberLoader},
    },
};

#[derive(MergedObject, Default)]
pub struct Query(
    accounts::graphql::AccountQuery,
    numbers::graphql::NumberQuery,
    calls::graphql::CallQuery,
    calls::graphql::StatsQuery,
    node::NodeQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    accounts::graphql::AccountMutation,
    numbers::graphql::NumberMutation,
    calls::graphql::CallMutation,
);

#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct Subscription(calls::graphql::CallSubscription);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// Everything resolvers call, shared by all requests (each part is cheap to clone).
#[derive(Clone)]
pub struct Services {
    pub accounts: AccountService,
    pub sessions: SessionService,
    pub numbers: NumberService,
    pub calls: CallService,
    /// Region for phone numbers written without a country code, from `DEFAULT_REGION`.
    pub default_region: DefaultRegion,
}

impl Services {
    /// What one request carries: who it acts for, and fresh loaders that answer
    /// only what that viewer may see (never shared: each captures its request's identity).
    pub fn request_data(&self, viewer: Option<Viewer>, address: ClientAddress) -> Data {
        let identity = Identity::new(viewer);
        let mut data = Data::default();
        data.insert(address);
        data.insert(loader(UserLoader {
            accounts: self.accounts.clone(),
            identity: identity.clone(),
        }));
        data.insert(loader(NumberLoader {
            numbers: self.numbers.clone(),
            identity: identity.clone(),
        }));
        data.insert(loader(HistoryNumberLoader {
            numbers: self.numbers.clone(),
            identity: identity.clone(),
        }));
        data.insert(loader(CallLoader {
            calls: self.calls.clone(),
            identity: identity.clone(),
        }));
        data.insert(loader(CallPageLoader {
            calls: self.calls.clone(),
            identity: identity.clone(),
        }));
        data.insert(loader(CallCountLoader {
            calls: self.calls.clone(),
            identity: identity.clone(),
        }));
        data.insert::<Arc<Identity>>(identity);
        data
    }
}

/// Root fields that each verify a password (argon2): one per request.
pub const PASSWORD_FIELDS: &[&str] = &["login", "register", "refresh"];

/// The schema with its limits, but no data: enough to print the SDL.
pub fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query::default(), Mutation::default(), Subscription::default()).extension(RequestGuard {
        one_per_request: PASSWORD_FIELDS,
        ..RequestGuard::default()
    })
}

/// How the served schema differs from the one printed.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Whether `__schema` and `__type` answer (the playground and code generators
    /// need them). When off, error messages stop suggesting field names too.
    pub introspection: bool,
}

/// The schema that serves requests, with the services resolvers call.
pub fn build(services: Services, options: Options) -> AppSchema {
    let mut builder = builder();
    if !options.introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder
        .data(services.accounts)
        .data(services.sessions)
        .data(services.numbers)
        .data(services.calls)
        .data(services.default_region)
        .finish()
}

/// The SDL that `schema.graphql` must equal.
pub fn sdl() -> String {
    builder().finish().sdl()
}
