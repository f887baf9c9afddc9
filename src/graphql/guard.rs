//! The request guard: an async-graphql extension that refuses, with a coded
//! error, what no resolver should ever see: a query deeper or more complex
//! than the limits (read from the figures async-graphql computes, never from
//! its English messages), strings carrying NUL characters (which no field
//! accepts and PostgreSQL cannot store), and more than one password-checking
//! field in a request. It also bounds how many root fields of one request run
//! at once, so aliases cannot take every database connection.

use std::sync::Arc;

use async_graphql::{
    Name, Pos, Positioned, ServerError, ServerResult, ValidationResult, Value, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextResolve, NextValidation, ResolveInfo,
    },
    parser::types::{Directive, ExecutableDocument, Selection, SelectionSet},
};

use tokio::sync::Semaphore;

use crate::error::AppError;

/// Deepest query accepted: deep enough for the introspection query of GraphiQL and
/// code generators (about 15: `__schema` to `args`, then nine `ofType`), shallow
/// enough to stop abuse.
pub const MAX_DEPTH: usize = 20;
/// Most fields (weighted by page sizes) one query may ask for.
pub const MAX_COMPLEXITY: usize = 5_000;

/// Root fields of one request that may run at once: aliases of an expensive
/// field queue behind each other instead of taking the whole database pool.
pub const ROOT_FIELDS_AT_ONCE: usize = 2;

/// The limits one schema enforces.
#[derive(Debug, Clone, Copy)]
pub struct RequestGuard {
    pub max_depth: usize,
    pub max_complexity: usize,
    /// Root fields of which one request may carry at most one (each costs a
    /// password hash: `login`, `register`, `refresh`), named by the assembly.
    pub one_per_request: &'static [&'static str],
}

impl Default for RequestGuard {
    fn default() -> Self {
        RequestGuard {
            max_depth: MAX_DEPTH,
            max_complexity: MAX_COMPLEXITY,
            one_per_request: &[],
        }
    }
}

impl ExtensionFactory for RequestGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Guard {
            limits: *self,
            root_fields: Semaphore::new(ROOT_FIELDS_AT_ONCE),
        })
    }
}

/// The guard of one request.
struct Guard {
    limits: RequestGuard,
    root_fields: Semaphore,
}

fn refuse(error: AppError) -> ServerError {
    async_graphql::Error::from(error).into_server_error(Pos::default())
}

#[async_trait::async_trait]
impl Extension for Guard {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let field = variables
            .iter()
            .find_map(|(name, value)| nul_in_value(name.as_str(), value))
            .or_else(|| nul_in_document(&document));
        if let Some(field) = field {
            let message = format!("`{field}` contains a NUL character, which no field accepts");
            return Err(refuse(AppError::bad_input(field, message)));
        }
        let exclusive = document
            .operations
            .iter()
            .flat_map(|(_, operation)| operation.node.selection_set.node.items.iter())
            .filter_map(|selection| match &selection.node {
                Selection::Field(field) => Some(field.node.name.node.as_str()),
                _ => None,
            })
            .filter(|name| self.limits.one_per_request.contains(name))
            .collect::<Vec<_>>();
        if let [_, second, ..] = exclusive.as_slice() {
            let message = format!(
                "one request may carry one of {} (each checks a password); send `{second}` on its own",
                self.limits.one_per_request.join(", ")
            );
            return Err(refuse(AppError::bad_input(second.to_string(), message)));
        }
        Ok(document)
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.path_node.parent.is_some() {
            return next.run(ctx, info).await;
        }
        // A closed semaphore is impossible here (nothing closes it); run unbounded if it were.
        let _permit = self.root_fields.acquire().await.ok();
        next.run(ctx, info).await
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if result.depth > self.limits.max_depth {
            return Err(vec![refuse(AppError::TooComplex {
                limit: "depth",
                maximum: self.limits.max_depth as u64,
                found: result.depth as u64,
            })]);
        }
        if result.complexity > self.limits.max_complexity {
            return Err(vec![refuse(AppError::TooComplex {
                limit: "complexity",
                maximum: self.limits.max_complexity as u64,
                found: result.complexity as u64,
            })]);
        }
        Ok(result)
    }
}

/// The name of the innermost field or argument holding a string with a NUL in it.
fn nul_in_value(name: &str, value: &Value) -> Option<String> {
    match value {
        Value::String(text) if text.contains('\0') => Some(name.to_owned()),
        Value::List(items) => items.iter().find_map(|item| nul_in_value(name, item)),
        Value::Object(fields) => fields.iter().find_map(|(key, value)| nul_in_value(key.as_str(), value)),
        _ => None,
    }
}

fn nul_in_document(document: &ExecutableDocument) -> Option<String> {
    let operations = document
        .operations
        .iter()
        .find_map(|(_, operation)| nul_in_selections(&operation.node.selection_set));
    operations.or_else(|| {
        document
            .fragments
            .values()
            .find_map(|fragment| nul_in_selections(&fragment.node.selection_set))
    })
}

fn nul_in_selections(set: &Positioned<SelectionSet>) -> Option<String> {
    set.node.items.iter().find_map(|selection| match &selection.node {
        Selection::Field(field) => field
            .node
            .arguments
            .iter()
            .find_map(|(name, value)| nul_in_argument(name, value))
            .or_else(|| nul_in_directives(&field.node.directives))
            .or_else(|| nul_in_selections(&field.node.selection_set)),
        Selection::FragmentSpread(spread) => nul_in_directives(&spread.node.directives),
        Selection::InlineFragment(fragment) => {
            nul_in_directives(&fragment.node.directives).or_else(|| nul_in_selections(&fragment.node.selection_set))
        }
    })
}

fn nul_in_directives(directives: &[Positioned<Directive>]) -> Option<String> {
    directives.iter().find_map(|directive| {
        directive
            .node
            .arguments
            .iter()
            .find_map(|(name, value)| nul_in_argument(name, value))
    })
}

fn nul_in_argument(name: &Positioned<Name>, value: &Positioned<async_graphql_value::Value>) -> Option<String> {
    // Literal arguments only; variables were checked with the variables.
    value
        .node
        .clone()
        .into_const_with(|_| Err::<Value, ()>(()))
        .ok()
        .and_then(|value| nul_in_value(name.node.as_str(), &value))
}
