//! The request guard: an async-graphql extension that bounds what a request may
//! cost before anything expands it. Right after parsing, and before async-graphql
//! validates (which expands fragments without memoising), it measures the
//! document in one linear pass and refuses it over a limit; refuses strings
//! carrying NUL characters (no field accepts them; PostgreSQL cannot store
//! them), more than one password-checking field and enum values the schema
//! lacks (naming their field, see `enum_arguments`); calculates the request's
//! cost and takes it from the caller's throttle bucket. Every response then
//! carries `extensions.cost`. A request made with an API key is held to the
//! key's scopes (see `key_scopes`): every field of the document, before it
//! runs. While the request runs, at most a few of its root fields run at once,
//! so aliases cannot take every database connection.

use std::{
    any::TypeId,
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use async_graphql::{
    Name, Pos, Positioned, Request, Response, ServerError, ServerResult, ValidationResult, Value,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest, NextRequest, NextResolve, NextValidation,
        ResolveInfo,
    },
    parser::types::{Directive, ExecutableDocument, Selection, SelectionSet},
    registry::Registry,
};
use tokio::sync::Semaphore;

use super::{
    Identity,
    cost::{CostModel, document_cost},
    document::{self, DocumentLimits},
    enum_arguments,
    key_scopes::{self, KeyRules},
    seen::{self, Seen, lock},
    throttle::{Throttle, ThrottleStatus},
};
use crate::{
    auth::{ApiKeyGrant, ClientAddress},
    error::AppError,
};

/// Root fields of one request that may run at once: aliases of an expensive
/// field queue behind each other instead of taking the whole database pool.
pub const ROOT_FIELDS_AT_ONCE: usize = 2;
/// Default for the most one request may cost (`MAX_QUERY_COST`).
pub const MAX_COST: u64 = 10_000;

/// The limits one schema enforces, shared by all its requests.
#[derive(Clone)]
pub struct RequestGuard {
    pub document: DocumentLimits,
    /// The most one request may cost.
    pub max_cost: u64,
    /// What each field costs (the schema assembly knows its fields).
    pub cost_model: CostModel,
    /// Root fields of which one request may carry at most one (each costs a
    /// password hash: `login`, `register`, `refresh`), named by the assembly.
    pub one_per_request: &'static [&'static str],
    /// Callers' buckets of points.
    pub throttle: Arc<Throttle>,
    /// What an API key needs for each field (the schema assembly knows its fields).
    pub key_rules: KeyRules,
    /// Documents parsed and requests validated before, shared by all requests.
    pub seen: Arc<Seen>,
}

impl ExtensionFactory for RequestGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Guard {
            limits: self.clone(),
            root_fields: Semaphore::new(ROOT_FIELDS_AT_ONCE),
            report: Mutex::new(None),
            validation_key: Mutex::new(None),
        })
    }
}

/// The guard of one request.
struct Guard {
    limits: RequestGuard,
    root_fields: Semaphore,
    report: Mutex<Option<CostReport>>,
    /// Under what this request's validation is remembered, once admitted.
    validation_key: Mutex<Option<seen::Digest256>>,
}

/// What `extensions.cost` says of one request.
#[derive(Debug, Clone, Copy)]
struct CostReport {
    requested: u64,
    /// What was charged: the requested cost when the request ran, 0 when it was refused.
    actual: u64,
    status: ThrottleStatus,
}

impl CostReport {
    fn to_value(self) -> Value {
        let number = |value: u64| Value::Number(value.into());
        let mut status = BTreeMap::new();
        status.insert("maximumAvailable", number(self.status.maximum_available));
        status.insert("currentlyAvailable", number(self.status.currently_available));
        status.insert("restoreRate", number(self.status.restore_rate));
        let mut cost = BTreeMap::new();
        cost.insert("requestedQueryCost", number(self.requested));
        cost.insert("actualQueryCost", number(self.actual));
        cost.insert(
            "throttleStatus",
            Value::Object(status.into_iter().map(|(key, value)| (Name::new(key), value)).collect()),
        );
        Value::Object(cost.into_iter().map(|(key, value)| (Name::new(key), value)).collect())
    }
}

/// A request-level error: it points at no place in the document.
fn refuse(error: AppError) -> ServerError {
    let mut error = async_graphql::Error::from(error).into_server_error(Pos::default());
    error.locations.clear();
    error
}

/// A value this request's data holds.
fn request_data<T: 'static>(request: &Request) -> Option<&T> {
    request
        .data
        .get(&TypeId::of::<T>())
        .and_then(|data| data.downcast_ref::<T>())
}

impl Guard {
    /// Everything checked before async-graphql's own checks run. A document
    /// seen before is taken parsed and checked from `seen`; what depends on
    /// the request is checked every time.
    fn admit(&self, request: &mut Request, registry: &Registry) -> Result<(), AppError> {
        let limits = &self.limits;
        let key = seen::document_key(&request.query);
        let document = match limits.seen.document(&key) {
            Some(document) => document,
            None => {
                let tokens = document::count_tokens(&request.query);
                if tokens > limits.document.max_tokens {
                    return Err(AppError::TooComplex {
                        limit: "tokens",
                        maximum: limits.document.max_tokens,
                        found: tokens,
                    });
                }
                // A syntax error is left for async-graphql to report in its usual words.
                let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
                    return Ok(());
                };
                let carries_passwords = self.check_text(&document, &request.query)?;
                let document = Arc::new(document);
                if !carries_passwords {
                    let weight = seen::weight(&request.query, tokens);
                    limits.seen.keep_document(key, document.clone(), weight);
                }
                document
            }
        };
        let outcome = self.check_request(&document, request, registry);
        if outcome.is_ok() {
            *lock(&self.validation_key) =
                seen::validation_key(&key, request.operation_name.as_deref(), &request.variables);
        }
        // Handed on with the request, which execution then uses instead of parsing again.
        request.set_parsed_query(Arc::unwrap_or_clone(document));
        outcome
    }

    /// The checks of the document's text alone: its measure against the
    /// limits, NUL characters and password fields. Says whether it carries a
    /// password field (such documents are not kept).
    fn check_text(&self, document: &ExecutableDocument, query: &str) -> Result<bool, AppError> {
        let limits = &self.limits;
        let measure = document::measure(document, query).map_err(|cycle| {
            AppError::bad_input(
                "query",
                format!(
                    "fragment `{}` spreads itself; fragments may not form a cycle",
                    cycle.fragment
                ),
            )
        })?;
        document::check(&measure, &limits.document).map_err(|over| AppError::TooComplex {
            limit: over.limit,
            maximum: over.maximum,
            found: over.found,
        })?;
        if let Some(field) = nul_in_document(document) {
            return Err(nul_refused(field));
        }
        let exclusive = document
            .operations
            .iter()
            .flat_map(|(_, operation)| operation.node.selection_set.node.items.iter())
            .filter_map(|selection| match &selection.node {
                Selection::Field(field) => Some(field.node.name.node.as_str()),
                _ => None,
            })
            .filter(|name| limits.one_per_request.contains(name))
            .collect::<Vec<_>>();
        if let [_, second, ..] = exclusive.as_slice() {
            let message = format!(
                "one request may carry one of {} (each checks a password); send `{second}` on its own",
                limits.one_per_request.join(", ")
            );
            return Err(AppError::bad_input(second.to_string(), message));
        }
        Ok(names_any_root_field(document, limits.one_per_request))
    }

    /// The checks of this request of the document: NUL characters in its
    /// variables, enum values the schema lacks, an API key's scopes, and its
    /// cost against the caller's bucket.
    fn check_request(
        &self,
        document: &ExecutableDocument,
        request: &Request,
        registry: &Registry,
    ) -> Result<(), AppError> {
        let limits = &self.limits;
        let variables = &request.variables;
        if let Some(field) = variables
            .iter()
            .find_map(|(name, value)| nul_in_value(name.as_str(), value))
        {
            return Err(nul_refused(field));
        }
        enum_arguments::check_document(document, request.operation_name.as_deref(), variables, registry)?;
        if let Some(grant) = key_grant(request_data::<Arc<Identity>>(request)) {
            key_scopes::check_document(
                document,
                request.operation_name.as_deref(),
                registry,
                limits.key_rules,
                grant.scopes,
            )?;
        }
        let cost = document_cost(
            document,
            request.operation_name.as_deref(),
            variables,
            limits.cost_model,
        );
        let caller = match (
            request_data::<Arc<Identity>>(request).and_then(|identity| identity.viewer()),
            request_data::<ClientAddress>(request),
        ) {
            (Some(viewer), _) => format!("user:{}", viewer.user_id),
            (None, Some(address)) => format!("address:{}", address.0),
            (None, None) => "anonymous".to_owned(),
        };
        let rates = limits.throttle.rates();
        let mut report = CostReport {
            requested: cost,
            actual: 0,
            status: ThrottleStatus {
                maximum_available: rates.maximum,
                currently_available: rates.maximum,
                restore_rate: rates.restore_per_second,
            },
        };
        let outcome = if cost > limits.max_cost {
            Err(AppError::TooComplex {
                limit: "cost",
                maximum: limits.max_cost,
                found: cost,
            })
        } else {
            match limits.throttle.take(&caller, cost) {
                Ok(status) => {
                    report.actual = cost;
                    report.status = status;
                    Ok(())
                }
                Err((wait, status)) => {
                    report.status = status;
                    Err(AppError::RateLimited {
                        retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
                    })
                }
            }
        };
        *lock(&self.report) = Some(report);
        outcome
    }
}

#[async_trait::async_trait]
impl Extension for Guard {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        let report = lock(&self.report).take();
        if let Some(report) = report {
            response.extensions.insert("cost".to_owned(), report.to_value());
        }
        response
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        self.admit(&mut request, &ctx.schema_env.registry).map_err(refuse)?;
        next.run(ctx, request).await
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let key = lock(&self.validation_key).take();
        if let Some(result) = key.as_ref().and_then(|key| self.limits.seen.validation(key)) {
            return Ok(result);
        }
        let result = next.run(ctx).await;
        if let (Some(key), Ok(passed)) = (key, &result) {
            self.limits.seen.keep_validation(key, *passed);
        }
        result
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
}

/// The API key a request came with, if it came with one.
fn key_grant(identity: Option<&Arc<Identity>>) -> Option<ApiKeyGrant> {
    identity
        .and_then(|identity| identity.viewer())
        .and_then(|viewer| viewer.api_key)
}

/// Whether any operation or fragment selects one of `names` at its top
/// (inline fragments included), however the operation reaches it.
fn names_any_root_field(document: &ExecutableDocument, names: &[&str]) -> bool {
    fn selects(set: &SelectionSet, names: &[&str]) -> bool {
        set.items.iter().any(|selection| match &selection.node {
            Selection::Field(field) => names.contains(&field.node.name.node.as_str()),
            Selection::InlineFragment(fragment) => selects(&fragment.node.selection_set.node, names),
            Selection::FragmentSpread(_) => false,
        })
    }
    document
        .operations
        .iter()
        .any(|(_, operation)| selects(&operation.node.selection_set.node, names))
        || document
            .fragments
            .values()
            .any(|fragment| selects(&fragment.node.selection_set.node, names))
}

/// The refusal of a string with a NUL in it, naming where it was.
fn nul_refused(field: String) -> AppError {
    let message = format!("`{field}` contains a NUL character, which no field accepts");
    AppError::bad_input(field, message)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn names(query: &str) -> bool {
        let document = async_graphql::parser::parse_query(query).unwrap();
        names_any_root_field(&document, &["login", "register", "refresh"])
    }

    #[test]
    fn password_fields_are_found_however_the_operation_reaches_them() {
        assert!(names(
            r#"mutation { login(username: "a", password: "secret") { accessToken } }"#
        ));
        assert!(names(
            r#"mutation { ... on Mutation { refresh(refreshToken: "t") { accessToken } } }"#
        ));
        assert!(names(
            r#"mutation { ...SignIn } fragment SignIn on Mutation { login(username: "a", password: "p") { accessToken } }"#
        ));
        assert!(!names("{ me { username } }"));
        assert!(!names(
            "{ myVirtualNumbers(first: 1) { nodes { login: phoneNumber } } }"
        ));
    }
}
