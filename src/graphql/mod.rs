//! The GraphQL schema: feature pieces merged into one Query and Mutation, plus
//! the shared parts every feature uses (context access, global ids, connections).

pub mod connection;
pub mod context;
pub mod document;
pub mod ids;
pub mod node;

use async_graphql::{MergedObject, Schema, SchemaBuilder};

use crate::calls::subscription::CallSubscription;

use crate::{accounts, calls, numbers};

/// Relay paging arguments as they arrive: `first`, `after`, `last`, `before`.
pub type RelayArgs = (Option<i32>, Option<String>, Option<i32>, Option<String>);
pub use context::{ContextExt, Services};

#[derive(MergedObject, Default)]
pub struct Query(
    accounts::graphql::AccountQuery,
    numbers::graphql::NumberQuery,
    calls::graphql::CallQuery,
    calls::stats_graphql::StatsQuery,
    node::NodeQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    accounts::graphql::AccountMutation,
    numbers::graphql::NumberMutation,
    calls::graphql::CallMutation,
);

pub type AppSchema = Schema<Query, Mutation, CallSubscription>;

/// Deepest query accepted: deep enough for the introspection query of GraphiQL and
/// code generators (about 15: `__schema` to `args`, then nine `ofType`), shallow
/// enough to stop abuse.
pub const MAX_DEPTH: usize = 20;
/// Most fields (weighted by page sizes) one query may ask for.
pub const MAX_COMPLEXITY: usize = 5_000;

/// The schema with its limits, but no data: enough to print the SDL.
pub fn builder() -> SchemaBuilder<Query, Mutation, CallSubscription> {
    Schema::build(Query::default(), Mutation::default(), CallSubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
}

/// The schema that serves requests, with the services resolvers call.
pub fn build(services: Services) -> AppSchema {
    builder().data(services).finish()
}

/// The SDL that `schema.graphql` must equal.
pub fn sdl() -> String {
    builder().finish().sdl()
}
