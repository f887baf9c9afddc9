//! The request guard: it bounds what a request may cost before anything
//! expands it. Every request reaches the schema through `Guarded`, which
//! admits it first. Right after parsing, and before async-graphql
//! validates (which expands fragments without memoising), it measures the
//! document in one linear pass and refuses it over a limit; refuses strings
//! carrying NUL characters (no field accepts them; PostgreSQL cannot store
//! them), more than one password-checking field and enum values the schema
//! lacks (naming their field, see `enum_arguments`); calculates the request's
//! cost and takes it from the caller's throttle bucket. Every response then
//! carries `extensions.cost`. A request made with an API key is held to the
//! key's scopes (see `key_scopes`): every field of the document, before it
//! runs. While the request runs, at most a few of its root fields run at once
//! (`Bounded`), so aliases cannot take every database connection.

use std::{any::TypeId, borrow::Cow, collections::BTreeMap, sync::Arc};

use async_graphql::{
    ContainerType, Context, ContextSelectionSet, Name, ObjectType, OutputType, Pos, Positioned, Request, Response,
    Schema, SchemaBuilder, ServerError, ServerResult, SubscriptionType, ValidationMode, Value,
    parser::types::{Directive, ExecutableDocument, Field, OperationType, Selection, SelectionSet},
    registry::Registry,
    resolver_utils::resolve_container,
};
use futures_util::{
    StreamExt, future,
    stream::{self, BoxStream},
};
use tokio::sync::Semaphore;

use super::{
    Identity,
    cost::{CostModel, document_cost},
    document::{self, DocumentLimits},
    enum_arguments,
    key_scopes::{self, KeyRules},
    seen::{self, Seen},
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

/// What admission made of one request.
struct Admission {
    /// Whether it may run.
    outcome: Result<(), AppError>,
    /// What `extensions.cost` reports (none when the document could not be parsed).
    report: Option<CostReport>,
    /// Under what its validation is remembered, once admitted.
    validation_key: Option<seen::Digest256>,
}

impl Admission {
    /// Decided before the request was charged: nothing to report, nothing to remember.
    fn unchecked(outcome: Result<(), AppError>) -> Self {
        Admission {
            outcome,
            report: None,
            validation_key: None,
        }
    }
}

impl RequestGuard {
    /// Everything checked before async-graphql's own checks run. A document
    /// seen before is taken parsed and checked from `seen`; what depends on
    /// the request is checked every time.
    fn admit(&self, request: &mut Request, registry: &Registry) -> Admission {
        let key = seen::document_key(&request.query);
        let document = match self.document(&key, &request.query) {
            Ok(Some(document)) => document,
            // A syntax error is left for async-graphql to report in its usual words.
            Ok(None) => return Admission::unchecked(Ok(())),
            Err(error) => return Admission::unchecked(Err(error)),
        };
        if let Err(error) = self.check_request(&document, request, registry) {
            return Admission::unchecked(Err(error));
        }
        let (outcome, report) = self.charge(&document, request);
        let validation_key = outcome
            .is_ok()
            .then(|| seen::validation_key(&key, request.operation_name.as_deref(), &request.variables))
            .flatten();
        // Handed on with the request, which execution then uses instead of parsing again.
        request.set_parsed_query(Arc::unwrap_or_clone(document));
        Admission {
            outcome,
            report: Some(report),
            validation_key,
        }
    }

    /// The document `query` parses to, checked (see `check_text`): kept in
    /// `seen` under `key` or parsed now. `None` when it does not parse.
    fn document(&self, key: &seen::Digest256, query: &str) -> Result<Option<Arc<ExecutableDocument>>, AppError> {
        if let Some(document) = self.seen.document(key) {
            return Ok(Some(document));
        }
        let tokens = document::count_tokens(query);
        if tokens > self.document.max_tokens {
            return Err(AppError::TooComplex {
                limit: "tokens",
                maximum: self.document.max_tokens,
                found: tokens,
            });
        }
        let Ok(document) = async_graphql::parser::parse_query(query) else {
            return Ok(None);
        };
        let carries_passwords = self.check_text(&document, query)?;
        let document = Arc::new(document);
        if !carries_passwords {
            self.seen
                .keep_document(*key, document.clone(), seen::weight(query, tokens));
        }
        Ok(Some(document))
    }

    /// The checks of the document's text alone: its measure against the
    /// limits, NUL characters and password fields. Says whether it carries a
    /// password field (such documents are not kept).
    fn check_text(&self, document: &ExecutableDocument, query: &str) -> Result<bool, AppError> {
        let measure = document::measure(document, query).map_err(|cycle| {
            AppError::bad_input(
                "query",
                format!(
                    "fragment `{}` spreads itself; fragments may not form a cycle",
                    cycle.fragment
                ),
            )
        })?;
        document::check(&measure, &self.document).map_err(|over| AppError::TooComplex {
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
            .filter(|name| self.one_per_request.contains(name))
            .collect::<Vec<_>>();
        if let [_, second, ..] = exclusive.as_slice() {
            let message = format!(
                "one request may carry one of {} (each checks a password); send `{second}` on its own",
                self.one_per_request.join(", ")
            );
            return Err(AppError::bad_input(second.to_string(), message));
        }
        Ok(names_any_root_field(document, self.one_per_request))
    }

    /// The checks of this request of the document: NUL characters in its
    /// variables, one root field for a subscription, enum values the schema
    /// lacks and an API key's scopes.
    fn check_request(
        &self,
        document: &ExecutableDocument,
        request: &Request,
        registry: &Registry,
    ) -> Result<(), AppError> {
        let variables = &request.variables;
        if let Some(field) = variables
            .iter()
            .find_map(|(name, value)| nul_in_value(name.as_str(), value))
        {
            return Err(nul_refused(field));
        }
        if let Some(operation) = subscription_with_many_roots(document, request.operation_name.as_deref()) {
            let message = format!(
                "a subscription selects exactly one root field; `{operation}` selects more: \
                 send one subscription for each"
            );
            return Err(AppError::bad_input("query", message));
        }
        enum_arguments::check_document(document, request.operation_name.as_deref(), variables, registry)?;
        if let Some(grant) = key_grant(request_data::<Arc<Identity>>(request)) {
            key_scopes::check_document(
                document,
                request.operation_name.as_deref(),
                registry,
                self.key_rules,
                grant.scopes,
            )?;
        }
        Ok(())
    }

    /// The request's cost, taken from the caller's bucket unless it is over
    /// the most one request may cost; what `extensions.cost` reports of it.
    fn charge(&self, document: &ExecutableDocument, request: &Request) -> (Result<(), AppError>, CostReport) {
        let variables = &request.variables;
        let cost = document_cost(document, request.operation_name.as_deref(), variables, self.cost_model);
        let caller = match (
            request_data::<Arc<Identity>>(request).and_then(|identity| identity.viewer()),
            request_data::<ClientAddress>(request),
        ) {
            (Some(viewer), _) => format!("user:{}", viewer.user_id),
            (None, Some(address)) => format!("address:{}", address.0),
            (None, None) => "anonymous".to_owned(),
        };
        let rates = self.throttle.rates();
        let mut report = CostReport {
            requested: cost,
            actual: 0,
            status: ThrottleStatus {
                maximum_available: rates.maximum,
                currently_available: rates.maximum,
                restore_rate: rates.restore_per_second,
            },
        };
        let outcome = if cost > self.max_cost {
            Err(AppError::TooComplex {
                limit: "cost",
                maximum: self.max_cost,
                found: cost,
            })
        } else {
            match self.throttle.take(&caller, cost) {
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
        (outcome, report)
    }
}

/// The root fields of one request that may still start (see `Bounded`).
struct RootFields(Semaphore);

/// A query root whose fields, within one request, run at most
/// `ROOT_FIELDS_AT_ONCE` at a time: aliases of an expensive field queue behind
/// each other instead of taking the whole database pool. It is the query type
/// itself to GraphQL (its name, fields and SDL are `Q`'s).
#[derive(Default)]
pub struct Bounded<Q>(pub Q);

impl<Q: ContainerType> OutputType for Bounded<Q> {
    fn type_name() -> Cow<'static, str> {
        Q::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Q::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, _field: &Positioned<Field>) -> ServerResult<Value> {
        resolve_container(ctx, self).await
    }
}

impl<Q: ContainerType> ContainerType for Bounded<Q> {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        // Nothing closes the semaphore; were it closed, the field would run unbounded.
        let _permit = match ctx.data_opt::<RootFields>() {
            Some(RootFields(semaphore)) => semaphore.acquire().await.ok(),
            None => None,
        };
        self.0.resolve_field(ctx).await
    }
}

impl<Q: ObjectType> ObjectType for Bounded<Q> {}

/// The schema behind its guard: every request is admitted (see the module's
/// documentation) before async-graphql sees it, and its response carries
/// `extensions.cost`.
///
/// The guard is not an async-graphql extension on purpose: while a schema has
/// any extension, async-graphql sends every field of every response through
/// the extension chain (two registry lookups and a boxed future a field), not
/// only the root fields the guard bounds. The schema is built twice, the same
/// but for its validation: a request whose document, operation and variables
/// passed every rule before (`Seen`'s validations) runs on the schema that
/// validates in async-graphql's `Fast` mode (cache control, complexity, depth,
/// fragment cycles); any other runs on the one that checks every rule.
pub struct Guarded<Q, M, S> {
    guard: RequestGuard,
    /// The types the guard's checks read (enum values, the fields an API key may reach).
    registry: Arc<Registry>,
    checked: Schema<Bounded<Q>, M, S>,
    trusted: Schema<Bounded<Q>, M, S>,
}

impl<Q, M, S> Clone for Guarded<Q, M, S> {
    fn clone(&self) -> Self {
        Guarded {
            guard: self.guard.clone(),
            registry: self.registry.clone(),
            checked: self.checked.clone(),
            trusted: self.trusted.clone(),
        }
    }
}

impl<Q, M, S> Guarded<Q, M, S>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    /// The schema `build` makes (twice), behind `guard`.
    pub fn new(guard: RequestGuard, build: impl Fn() -> SchemaBuilder<Bounded<Q>, M, S>) -> Self {
        Guarded {
            guard,
            registry: Arc::new(registry::<Bounded<Q>, M, S>()),
            checked: build().validation_mode(ValidationMode::Strict).finish(),
            trusted: build().validation_mode(ValidationMode::Fast).finish(),
        }
    }

    /// Admits and runs a query or mutation.
    pub async fn execute(&self, mut request: Request) -> Response {
        let admission = self.guard.admit(&mut request, &self.registry);
        let mut response = match admission.outcome {
            Err(error) => Response::from_errors(vec![refuse(error)]),
            Ok(()) => {
                request.data.insert(RootFields(Semaphore::new(ROOT_FIELDS_AT_ONCE)));
                let key = admission.validation_key;
                let validated = key.as_ref().is_some_and(|key| self.guard.seen.validated(key));
                if validated {
                    self.trusted.execute(request).await
                } else {
                    let response = self.checked.execute(request).await;
                    // Validation errors point at no place in the response; field errors do.
                    if let Some(key) = key
                        && response.errors.iter().all(|error| !error.path.is_empty())
                    {
                        self.guard.seen.keep_validated(key);
                    }
                    response
                }
            }
        };
        if let Some(report) = admission.report {
            response.extensions.insert("cost".to_owned(), report.to_value());
        }
        response
    }

    /// Admits and runs a subscription (or any operation sent over a socket).
    pub fn execute_stream(&self, mut request: Request) -> BoxStream<'static, Response> {
        let admission = self.guard.admit(&mut request, &self.registry);
        match admission.outcome {
            Err(error) => stream::once(future::ready(Response::from_errors(vec![refuse(error)]))).boxed(),
            Ok(()) => {
                request.data.insert(RootFields(Semaphore::new(ROOT_FIELDS_AT_ONCE)));
                self.checked.execute_stream(request)
            }
        }
    }

    /// The schema in SDL.
    pub fn sdl(&self) -> String {
        self.checked.sdl()
    }
}

/// The registry of a schema of these types, as the guard's checks read it:
/// its own types, without async-graphql's introspection types (the checks pass
/// over `__` fields). async-graphql keeps its schema's registry to itself.
pub(crate) fn registry<Q: ObjectType, M: ObjectType, S: SubscriptionType>() -> Registry {
    let mut registry = Registry {
        query_type: Q::type_name().into_owned(),
        mutation_type: (!M::is_empty()).then(|| M::type_name().into_owned()),
        subscription_type: (!S::is_empty()).then(|| S::type_name().into_owned()),
        ..Registry::default()
    };
    Q::create_type_info(&mut registry);
    if !M::is_empty() {
        M::create_type_info(&mut registry);
    }
    if !S::is_empty() {
        S::create_type_info(&mut registry);
    }
    registry.remove_unused_types();
    registry
}

/// The API key a request came with, if it came with one.
fn key_grant(identity: Option<&Arc<Identity>>) -> Option<ApiKeyGrant> {
    identity
        .and_then(|identity| identity.viewer())
        .and_then(|viewer| viewer.api_key)
}

/// Whether any operation or fragment selects one of `names` at its top
/// (through inline fragments).
fn names_any_root_field(document: &ExecutableDocument, names: &[&str]) -> bool {
    let mut found = false;
    each_top_field(document, |field| found |= names.contains(&field.name.node.as_str()));
    found
}

/// Calls `visit` with the fields at the top of every operation and every
/// fragment (through inline fragments): every fragment is read on its own,
/// so no spread needs following, and each selection is read once.
fn each_top_field<'a>(document: &'a ExecutableDocument, mut visit: impl FnMut(&'a Field)) {
    let operations = document
        .operations
        .iter()
        .map(|(_, operation)| &operation.node.selection_set.node);
    let fragments = document
        .fragments
        .values()
        .map(|fragment| &fragment.node.selection_set.node);
    for set in operations.chain(fragments) {
        top_fields(document, set, Spreads::Skipped, &mut visit);
    }
}

/// Whether `top_fields` follows fragment spreads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Spreads {
    Followed,
    Skipped,
}

/// Calls `visit` with each field at the top of `set`, through inline
/// fragments and, when `spreads` says so, fragment spreads (each fragment
/// once, however often it is spread). An explicit stack, not recursion: a
/// document may nest thousands of fragments deep.
fn top_fields<'a>(
    document: &'a ExecutableDocument,
    set: &'a SelectionSet,
    spreads: Spreads,
    visit: &mut impl FnMut(&'a Field),
) {
    let mut followed = std::collections::HashSet::new();
    let mut sets = vec![set];
    while let Some(set) = sets.pop() {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => visit(&field.node),
                Selection::InlineFragment(fragment) => sets.push(&fragment.node.selection_set.node),
                Selection::FragmentSpread(spread) if spreads == Spreads::Followed => {
                    let name = spread.node.fragment_name.node.as_str();
                    if followed.insert(name)
                        && let Some(fragment) = document.fragments.get(name)
                    {
                        sets.push(&fragment.node.selection_set.node);
                    }
                }
                Selection::FragmentSpread(_) => {}
            }
        }
    }
}

/// The name (or `subscription` when it has none) of the operation a request
/// runs (`operation_name`, or the document's first) when it is a
/// subscription selecting more than one root field: GraphQL's "single root
/// field" rule, which async-graphql does not check. Each root field of a
/// subscription is a stream of its own, and nothing else bounds how many run
/// at once. Only the operation that runs is walked, once.
fn subscription_with_many_roots(document: &ExecutableDocument, operation_name: Option<&str>) -> Option<String> {
    let (name, operation) = document.operations.iter().find(|(name, _)| match operation_name {
        Some(wanted) => name.is_some_and(|name| name.as_str() == wanted),
        None => true,
    })?;
    if operation.node.ty != OperationType::Subscription {
        return None;
    }
    let mut keys = std::collections::BTreeSet::new();
    top_fields(
        document,
        &operation.node.selection_set.node,
        Spreads::Followed,
        &mut |field| {
            keys.insert(field.response_key().node.as_str());
        },
    );
    (keys.len() > 1).then(|| name.map_or_else(|| "subscription".to_owned(), |name| name.to_string()))
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
    use std::{
        sync::atomic::{AtomicUsize, Ordering},
        time::Duration,
    };

    use async_graphql::{EmptyMutation, EmptySubscription, Object};

    use super::*;
    use crate::graphql::{
        cost::FieldCost,
        document::DocumentLimits,
        key_scopes::KeyAccess,
        throttle::{Throttle, ThrottleRates},
    };

    /// How many `slow` fields run now, and the most that ever ran at once.
    #[derive(Default)]
    struct Running {
        now: AtomicUsize,
        most: AtomicUsize,
    }

    #[derive(Default)]
    struct Roots;

    #[Object]
    impl Roots {
        async fn slow(&self, ctx: &Context<'_>) -> i32 {
            let running = ctx.data_unchecked::<Arc<Running>>();
            let now = running.now.fetch_add(1, Ordering::SeqCst) + 1;
            running.most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            running.now.fetch_sub(1, Ordering::SeqCst);
            1
        }
    }

    fn guarded(running: &Arc<Running>, seen: &Arc<Seen>) -> Guarded<Roots, EmptyMutation, EmptySubscription> {
        let guard = RequestGuard {
            document: DocumentLimits::default(),
            max_cost: MAX_COST,
            cost_model: |_, _| FieldCost::PLAIN,
            one_per_request: &[],
            throttle: Arc::new(Throttle::new(ThrottleRates {
                maximum: 1_000,
                restore_per_second: 10,
            })),
            key_rules: |_| KeyAccess::Open,
            seen: seen.clone(),
        };
        Guarded::new(guard, || {
            Schema::build(Bounded(Roots), EmptyMutation, EmptySubscription).data(running.clone())
        })
    }

    #[tokio::test]
    async fn a_request_runs_its_root_fields_a_few_at_a_time_and_reports_its_cost() {
        let running = Arc::new(Running::default());
        let seen = Arc::new(Seen::default());
        let schema = guarded(&running, &seen);
        let request = || Request::new("{ a: slow b: slow c: slow d: slow e: slow f: slow }");
        for _ in 0..2 {
            let response = schema.execute(request()).await;
            assert!(response.errors.is_empty(), "{:?}", response.errors);
            assert_eq!(response.data.to_string(), "{a: 1, b: 1, c: 1, d: 1, e: 1, f: 1}");
            let cost = response.extensions.get("cost").expect("extensions.cost").to_string();
            assert!(cost.contains("requestedQueryCost: 6"), "{cost}");
        }
        assert_eq!(running.most.load(Ordering::SeqCst), ROOT_FIELDS_AT_ONCE);
        let key = seen::validation_key(&seen::document_key(&request().query), None, &Default::default());
        assert!(seen.validated(&key.unwrap()), "the request that passed is remembered");
    }

    #[tokio::test]
    async fn a_request_that_fails_validation_is_refused_every_time_and_never_remembered() {
        let running = Arc::new(Running::default());
        let seen = Arc::new(Seen::default());
        let schema = guarded(&running, &seen);
        let query = "query($n: Int) { slow }";
        for _ in 0..3 {
            let response = schema.execute(Request::new(query)).await;
            assert_eq!(response.data, Value::Null);
            assert!(response.errors[0].message.contains("$n"), "{:?}", response.errors);
        }
        let key = seen::validation_key(&seen::document_key(query), None, &Default::default());
        assert!(!seen.validated(&key.unwrap()));
        assert_eq!(running.most.load(Ordering::SeqCst), 0);
    }

    fn names(query: &str) -> bool {
        let document = async_graphql::parser::parse_query(query).unwrap();
        names_any_root_field(&document, &["login", "register", "refresh"])
    }

    #[test]
    fn a_subscription_selects_one_root_field_however_it_is_written() {
        let many =
            |query: &str| subscription_with_many_roots(&async_graphql::parser::parse_query(query).unwrap(), None);
        assert_eq!(
            many("subscription { a: slow b: slow }").as_deref(),
            Some("subscription")
        );
        assert_eq!(
            many("subscription Feed { slow ...More } fragment More on Subscription { other }").as_deref(),
            Some("Feed")
        );
        assert_eq!(
            many("subscription { slow ... on Subscription { __typename } }").as_deref(),
            Some("subscription")
        );
        assert_eq!(many("subscription { slow { a b c } }"), None);
        assert_eq!(many("subscription { slow slow }"), None, "one response key");
        assert_eq!(many("query { a: slow b: slow }"), None, "queries may select many");
        let two = "subscription One { slow } subscription Two { a: slow b: slow }";
        let document = async_graphql::parser::parse_query(two).unwrap();
        assert_eq!(subscription_with_many_roots(&document, Some("One")), None);
        assert_eq!(
            subscription_with_many_roots(&document, Some("Two")).as_deref(),
            Some("Two")
        );
    }

    /// A chain of fragments, each spreading the next: the rules read each
    /// selection once (a walk per fragment, each following the spreads, was
    /// cubic in the chain's length), and the walk keeps its own stack.
    #[test]
    fn a_long_chain_of_fragments_is_walked_once() {
        const LINKS: usize = 5_000;
        let mut query = String::from("subscription { ...f0 }\n");
        for link in 0..LINKS {
            query.push_str(&format!(
                "fragment f{link} on Subscription {{ slow ...f{} }}\n",
                link + 1
            ));
        }
        query.push_str(&format!("fragment f{LINKS} on Subscription {{ slow }}\n"));
        let document = async_graphql::parser::parse_query(&query).unwrap();
        let (_, operation) = document.operations.iter().next().unwrap();
        let mut visited = 0;
        top_fields(
            &document,
            &operation.node.selection_set.node,
            Spreads::Followed,
            &mut |_| visited += 1,
        );
        assert_eq!(visited, LINKS + 1, "each fragment's field once");
        let mut visited = 0;
        each_top_field(&document, |_| visited += 1);
        assert_eq!(
            visited,
            LINKS + 1,
            "each fragment's field once, for the password rule too"
        );
        assert_eq!(subscription_with_many_roots(&document, None), None, "one response key");
        assert!(!names_any_root_field(&document, &["login"]));
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
