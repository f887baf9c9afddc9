//! The schema, assembled above the features: their query, mutation and
//! subscription roots merged, `node(id)`, the services and settings resolvers
//! read, and the loaders each request gets. Features never import this module.

pub mod cost;
pub mod node;
pub mod scopes;

use std::{
    any::{Any, TypeId},
    sync::{Arc, OnceLock},
};

use async_graphql::{Data, MergedObject, MergedSubscription, Schema, SchemaBuilder, dataloader::DataLoader};

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
        context::RequestLoaders,
        document::DocumentLimits,
        guard::{Bounded, Guarded, MAX_COST, RequestGuard},
        loaders::loader as loader_of,
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

/// The schema that serves requests, behind its guard.
pub type AppSchema = Guarded<Query, Mutation, Subscription>;

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
    /// What one request carries: who it acts for, and its loaders, which
    /// answer only what that viewer may see (never shared: each captures its
    /// request's identity). Each loader is made when a field first asks for
    /// it: most requests use one or none of them.
    pub fn request_data(self: &Arc<Self>, viewer: Option<Viewer>, address: ClientAddress, agent: UserAgent) -> Data {
        let identity = Identity::new(viewer);
        let mut data = Data::default();
        data.insert(address);
        data.insert(agent);
        data.insert::<Arc<dyn RequestLoaders>>(Arc::new(Loaders::new(self.clone(), identity.clone())));
        data.insert::<Arc<Identity>>(identity);
        data
    }
}

/// Declares `Loaders`, one request's loaders, each made on first use: a
/// field a loader, and what that loader is made of (`services` and
/// `identity` name the shared services and the request's identity).
macro_rules! request_loaders {
    (|$services:ident, $identity:ident| $($field:ident: $loader:ident { $($part:ident: $made:expr),* $(,)? }),* $(,)?) => {
        struct Loaders {
            services: Arc<Services>,
            identity: Arc<Identity>,
            $($field: OnceLock<Arc<DataLoader<$loader>>>,)*
        }

        impl Loaders {
            fn new(services: Arc<Services>, identity: Arc<Identity>) -> Self {
                Loaders { services, identity, $($field: OnceLock::new(),)* }
            }
        }

        impl RequestLoaders for Loaders {
            fn loader(&self, asked: TypeId) -> Option<&(dyn Any + Send + Sync)> {
                let ($services, $identity) = (&self.services, &self.identity);
                $(
                    if asked == TypeId::of::<$loader>() {
                        let loader = self.$field.get_or_init(|| loader_of($loader { $($part: $made),* }));
                        return Some(loader as &(dyn Any + Send + Sync));
                    }
                )*
                None
            }
        }
    };
}

request_loaders! { |services, identity|
    users: UserLoader { accounts: services.accounts.clone(), identity: identity.clone() },
    numbers: NumberLoader { numbers: services.numbers.clone(), identity: identity.clone() },
    history_numbers: HistoryNumberLoader { numbers: services.numbers.clone(), identity: identity.clone() },
    calls: CallLoader { calls: services.calls.clone(), identity: identity.clone() },
    call_pages: CallPageLoader { calls: services.calls.clone(), identity: identity.clone() },
    call_counts: CallCountLoader { calls: services.calls.clone(), identity: identity.clone() },
    porting_orders: PortingOrderLoader { porting: services.porting.clone(), identity: identity.clone() },
    porting_numbers: PortingNumbersLoader { porting: services.porting.clone() },
    audit_events: AuditEventLoader { audit: services.audit.clone(), identity: identity.clone() },
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

/// The schema without its guard or data: enough to print the SDL.
fn builder(options: &Options) -> SchemaBuilder<Bounded<Query>, Mutation, Subscription> {
    let builder = Schema::build(Bounded(Query::default()), Mutation::default(), Subscription::default());
    if options.introspection {
        builder
    } else {
        builder.disable_introspection().disable_suggestions()
    }
}

/// The schema that serves requests, with the services resolvers call; its
/// requests take their cost from `throttle` (made from `options.throttle`,
/// and shared with the CSV export).
pub fn build(services: Services, options: &Options, throttle: Arc<Throttle>) -> AppSchema {
    let guard = RequestGuard {
        document: options.document,
        max_cost: options.max_cost,
        cost_model: cost::field_cost,
        one_per_request: PASSWORD_FIELDS,
        throttle,
        key_rules: scopes::key_access,
        seen: Arc::new(Seen::default()),
    };
    Guarded::new(guard, || {
        builder(options)
            .data(services.accounts.clone())
            .data(services.sessions.clone())
            .data(services.api_keys.clone())
            .data(services.admin.clone())
            .data(services.audit.clone())
            .data(services.numbers.clone())
            .data(services.calls.clone())
            .data(services.porting.clone())
            .data(services.default_region)
    })
}

/// The SDL that `schema.graphql` must equal.
pub fn sdl() -> String {
    builder(&Options::default()).finish().sdl()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::graphql::guard;

    /// The guard reads its own registry (async-graphql keeps the schema's to
    /// itself): it must know every type, field, argument and enum value the
    /// schema serves, and nothing the schema does not, but for what any
    /// async-graphql schema has (introspection, `@skip`, `@include`…).
    #[test]
    fn the_guard_knows_every_name_the_schema_serves() {
        struct Least;
        #[async_graphql::Object]
        impl Least {
            async fn least(&self) -> bool {
                true
            }
        }
        let names = |names: Vec<String>| names.into_iter().collect::<BTreeSet<String>>();
        let served = names(builder(&Options::default()).finish().names());
        let known = names(guard::registry::<Bounded<Query>, Mutation, Subscription>().names());
        let any_schema =
            names(Schema::new(Least, async_graphql::EmptyMutation, async_graphql::EmptySubscription).names());
        assert_eq!(known.difference(&served).collect::<Vec<_>>(), Vec::<&String>::new());
        let only_served: Vec<_> = served
            .difference(&known)
            .filter(|name| !any_schema.contains(*name))
            .collect();
        assert_eq!(only_served, Vec::<&String>::new(), "what only the schema knows");
        assert!(known.contains("callLogs") && known.contains("CallDirection") && known.contains("recordCall"));
    }
}
