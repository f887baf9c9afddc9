//! The schema, assembled above the features: their query, mutation and
//! subscription roots merged, `node(id)`, the services and settings resolvers
//! read, and the loaders each request gets. Features never import this module.

pub mod cost;
pub mod node;
pub mod scopes;

use std::sync::Arc;

use async_graphql::{Data, MergedObject, MergedSubscription, Schema, SchemaBuilder};

use crate::{
    accounts::{
        self, AccountService, AdminService, ApiKeyService, AuditLog, Authority, SessionService,
        loaders::{AuditEventLoader, UserLoader},
    },
    auth::{ClientAddress, UserAgent, Viewer},
    calls::{
        self, CallService,
        loaders::{CallCountLoader, CallLoader, CallPageLoader},
    },
    graphql::{
        Identity,
        document::DocumentLimits,
        guard::{MAX_COST, RequestGuard},
        loaders::loader,
        seen::Seen,
        throttle::{Throttle, ThrottleRates},
    },
    numbers::{
        self, DefaultRegion, NumberService,
        loaders::{HistoryNumberLoader, NumberLoader},
    },
    porting::{
        self, PortingService,
        loaders::{PortingNumbersLoader, PortingOrderLoader},
    },
};

#[derive(MergedObject, Default)]
pub struct Query(
    accounts::graphql::AccountQuery,
    accounts::manage::ManageQuery,
    accounts::api_keys_graphql::ApiKeyQuery,
    accounts::admin_graphql::AdminQuery,
    accounts::audit_graphql::AuditQuery,
    numbers::graphql::NumberQuery,
    calls::graphql::CallQuery,
    calls::graphql::StatsQuery,
    porting::graphql::PortingQuery,
    calls::graphql::ReportQuery,
    node::NodeQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    accounts::graphql::AccountMutation,
    accounts::manage::ManageMutation,
    accounts::api_keys_graphql::ApiKeyMutation,
    accounts::admin_graphql::AdminMutation,
    numbers::graphql::NumberMutation,
    calls::graphql::CallMutation,
    porting::graphql::PortingMutation,
    calls::graphql::ExportMutation,
);

#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct Subscription(calls::graphql::CallSubscription, porting::graphql::PortingSubscription);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// Everything resolvers call, shared by all requests (each part is cheap to clone).
#[derive(Clone)]
pub struct Services {
    /// Who a token stands for now (read from the database).
    pub authority: Authority,
    pub accounts: AccountService,
    pub sessions: SessionService,
    pub api_keys: ApiKeyService,
    /// Staff administration of users, and the audit log it writes.
    pub admin: AdminService,
    pub audit: AuditLog,
    pub numbers: NumberService,
    pub calls: CallService,
    pub porting: PortingService,
    /// Region for phone numbers written without a country code, from `DEFAULT_REGION`.
    pub default_region: DefaultRegion,
}

impl Services {
    /// What one request carries: who it acts for, and fresh loaders that answer
    /// only what that viewer may see (never shared: each captures its request's identity).
    pub fn request_data(&self, viewer: Option<Viewer>, address: ClientAddress, agent: UserAgent) -> Data {
        let identity = Identity::new(viewer);
        let mut data = Data::default();
        data.insert(address);
        data.insert(agent);
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
        data.insert(loader(PortingOrderLoader {
            porting: self.porting.clone(),
            identity: identity.clone(),
        }));
        data.insert(loader(PortingNumbersLoader {
            porting: self.porting.clone(),
        }));
        data.insert(loader(AuditEventLoader {
            audit: self.audit.clone(),
            identity: identity.clone(),
        }));
        data.insert::<Arc<Identity>>(identity);
        data
    }
}

/// Root fields that each verify a password (argon2): one per request.
pub const PASSWORD_FIELDS: &[&str] = &["login", "register", "refresh"];

/// How the served schema is limited and what it shows.
#[derive(Debug, Clone)]
pub struct Options {
    /// Whether `__schema` and `__type` answer (the playground and code generators
    /// need them). When off, error messages stop suggesting field names too.
    pub introspection: bool,
    /// Limits on the document, checked before anything expands it.
    pub document: DocumentLimits,
    /// The most one request may cost.
    pub max_cost: u64,
    /// Each caller's bucket of points.
    pub throttle: ThrottleRates,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            introspection: true,
            document: DocumentLimits::default(),
            max_cost: MAX_COST,
            throttle: ThrottleRates {
                maximum: 20_000,
                restore_per_second: 1_000,
            },
        }
    }
}

/// The schema with its limits, but no data: enough to print the SDL.
pub fn builder(options: &Options) -> SchemaBuilder<Query, Mutation, Subscription> {
    builder_with(options, Arc::new(Throttle::new(options.throttle)))
}

/// The same, taking cost from `throttle`'s buckets (which the CSV export shares).
fn builder_with(options: &Options, throttle: Arc<Throttle>) -> SchemaBuilder<Query, Mutation, Subscription> {
    let guard = RequestGuard {
        document: options.document,
        max_cost: options.max_cost,
        cost_model: cost::field_cost,
        one_per_request: PASSWORD_FIELDS,
        throttle,
        key_rules: scopes::key_access,
        seen: Arc::new(Seen::default()),
    };
    let builder = Schema::build(Query::default(), Mutation::default(), Subscription::default()).extension(guard);
    if options.introspection {
        builder
    } else {
        builder.disable_introspection().disable_suggestions()
    }
}

/// The schema that serves requests, with the services resolvers call; its
/// requests take their cost from `throttle` (made from `options.throttle`).
pub fn build(services: Services, options: &Options, throttle: Arc<Throttle>) -> AppSchema {
    builder_with(options, throttle)
        .data(services.accounts)
        .data(services.sessions)
        .data(services.api_keys)
        .data(services.admin)
        .data(services.audit)
        .data(services.numbers)
        .data(services.calls)
        .data(services.porting)
        .data(services.default_region)
        .finish()
}

/// The SDL that `schema.graphql` must equal.
pub fn sdl() -> String {
    builder(&Options::default()).finish().sdl()
}
