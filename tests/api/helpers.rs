//! `TestApp`: the real server on a fresh database, plus helpers that read as sentences.

mod database;
mod pages;
mod ws;

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use switchboard::{
    accounts::{
        NewAccount,
        credentials::{Password, Username},
    },
    app::App,
    config::Config,
};
use tokio::sync::oneshot;

use database::{FreshDatabase, fresh_database};
pub use pages::{Walk, edge_ids, ids_of_pages};
pub use ws::{Arrival, WsClient};

/// Signs tokens in tests; long enough for the production rule.
pub const TEST_SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";

pub struct TestApp {
    pub address: String,
    /// Where `/metrics` is served when `METRICS_LISTEN` is set.
    pub metrics_address: Option<String>,
    pub database_url: String,
    client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    /// The database this app made (and drops); `None` for a second instance beside another.
    _database: Option<FreshDatabase>,
}

/// An HTTP client that asks for GraphQL responses as current clients do (Apollo
/// Client 4, graphql-ws, urql): `application/graphql-response+json` first, whose
/// status codes say whether a request ran. `http_spec.rs` tests the legacy type.
fn graphql_client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT,
        reqwest::header::HeaderValue::from_static("application/graphql-response+json, application/json;q=0.9"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("an HTTP client")
}

/// The configuration tests run with: a fresh database, any free port, a known secret.
pub fn test_config(database_url: &str) -> Config {
    let mut config = Config::for_database(database_url).expect("default configuration");
    config.listen = "127.0.0.1:0".parse().expect("an address");
    config.jwt_secret = Some(TEST_SECRET.to_owned());
    config.default_region = None;
    config.allow_signup = true;
    // Hundreds of tests sign up in parallel in this one process; the default
    // (half the cores) would make them queue behind each other's hashes.
    config.hashing_threads = 4;
    config
}

impl TestApp {
    /// A client of a server the test runs itself, at `host:port`.
    pub fn at(address: &str) -> TestApp {
        TestApp {
            address: format!("http://{address}"),
            metrics_address: None,
            database_url: String::new(),
            client: graphql_client(),
            shutdown: None,
            _database: None,
        }
    }

    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns with a tweaked configuration (sign-up closed, a default region, ...).
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_on(tweak, |_| {}).await
    }

    /// Spawns with a counter of every SQL statement the server runs.
    pub async fn spawn_counting_statements() -> (TestApp, Arc<AtomicUsize>) {
        let statements = Arc::new(AtomicUsize::new(0));
        let counter = statements.clone();
        let app = Self::spawn_on(
            |_| {},
            move |db| {
                db.set_metric_callback(move |info| {
                    if std::env::var("TEST_LOG_SQL").is_ok() {
                        eprintln!("SQL: {}", info.statement.sql);
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                })
            },
        )
        .await;
        (app, statements)
    }

    /// Spawns and hands back the server's own pool, so a test can take the
    /// database away from it (`close` it) while the server runs.
    pub async fn spawn_keeping_pool() -> (TestApp, DatabaseConnection) {
        let kept = Arc::new(std::sync::Mutex::new(None));
        let keep = kept.clone();
        let app = Self::spawn_on(|_| {}, move |db| *keep.lock().unwrap() = Some(db.clone())).await;
        let pool = kept.lock().unwrap().take().expect("the server's pool");
        (app, pool)
    }

    /// A second instance on this app's database, as behind a load balancer.
    pub async fn spawn_beside(&self, tweak: impl FnOnce(&mut Config)) -> TestApp {
        Self::start(self.database_url.clone(), None, tweak, |_| {}).await
    }

    async fn spawn_on(tweak: impl FnOnce(&mut Config), instrument: impl FnOnce(&mut DatabaseConnection)) -> TestApp {
        let database = fresh_database().await;
        Self::start(database.url.clone(), Some(database), tweak, instrument).await
    }

    async fn start(
        url: String,
        database: Option<FreshDatabase>,
        tweak: impl FnOnce(&mut Config),
        instrument: impl FnOnce(&mut DatabaseConnection),
    ) -> TestApp {
        if std::env::var("TEST_LOG").is_ok() {
            switchboard::telemetry::init(switchboard::config::LogFormat::Pretty);
        }
        let mut config = test_config(&url);
        tweak(&mut config);
        let mut db = switchboard::db::connect(
            &config.database_url,
            config.database_max_connections,
            switchboard::db::Planning::Cached,
        )
        .await
        .expect("connecting to the test database");
        instrument(&mut db);
        let app = App::build_on(&config, db).await.expect("building the app");
        let address = format!("http://{}", app.local_addr().expect("bound address"));
        let metrics_address = app.metrics_addr().map(|address| format!("http://{address}"));
        let (shutdown, signal) = oneshot::channel::<()>();
        tokio::spawn(app.run_until(async {
            let _ = signal.await;
        }));
        TestApp {
            address,
            metrics_address,
            database_url: url,
            client: graphql_client(),
            shutdown: Some(shutdown),
            _database: database,
        }
    }

    /// Sends one GraphQL request; `token` goes in `Authorization: Bearer`.
    pub async fn gql_as(&self, token: Option<&str>, query: &str, variables: Value) -> GqlResponse {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        GqlResponse::from(request.send().await.expect("sending the request")).await
    }

    pub async fn gql(&self, query: &str, variables: Value) -> GqlResponse {
        self.gql_as(None, query, variables).await
    }

    /// A request with a raw `Authorization` header value.
    pub async fn gql_with_authorization(&self, authorization: &str, query: &str) -> GqlResponse {
        let response = self
            .client
            .post(format!("{}/graphql", self.address))
            .header("Authorization", authorization)
            .json(&json!({ "query": query }))
            .send()
            .await
            .expect("sending the request");
        GqlResponse::from(response).await
    }

    /// The `/metrics` page, as Prometheus scrapes it.
    pub async fn metrics(&self) -> String {
        let url = format!("{}/metrics", self.metrics_address.as_ref().unwrap_or(&self.address));
        let response = self.client.get(url).send().await.expect("scraping /metrics");
        response.text().await.expect("the metrics page")
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Registers `username` (password `<username>-password`) and returns the signed-in user.
    pub async fn signed_up(&self, username: &str) -> TestUser<'_> {
        let response = self
            .gql(
                REGISTER,
                json!({ "input": { "username": username, "password": format!("{username}-password") } }),
            )
            .await;
        TestUser::from_auth(self, response.data("register"))
    }

    /// Creates a staff user through the service the `create-user` command uses, then signs in.
    pub async fn signed_up_staff(&self, username: &str) -> TestUser<'_> {
        let db = switchboard::db::connect(&self.database_url, 1, switchboard::db::Planning::Cached)
            .await
            .expect("connecting");
        let accounts = switchboard::accounts::AccountService::new(db.clone());
        let name = Username::parse(username).expect("a valid username");
        let password = Password::parse(&format!("{username}-password"), &name).expect("a valid password");
        let account = NewAccount {
            username: name,
            password,
            email: None,
            contact_number: None,
            is_staff: true,
        };
        accounts.create(account).await.expect("creating a staff user");
        db.close().await.expect("closing");
        self.logged_in(username).await
    }

    pub async fn logged_in(&self, username: &str) -> TestUser<'_> {
        let response = self
            .gql(
                LOGIN,
                json!({ "username": username, "password": format!("{username}-password") }),
            )
            .await;
        TestUser::from_auth(self, response.data("login"))
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// A signed-in user of a `TestApp`, with real tokens minted by the real code.
pub struct TestUser<'a> {
    pub app: &'a TestApp,
    pub id: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl<'a> TestUser<'a> {
    fn from_auth(app: &'a TestApp, payload: &Value) -> Self {
        let text = |pointer: &str| {
            payload
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("auth payload lacks {pointer}: {payload}"))
                .to_owned()
        };
        TestUser {
            app,
            id: text("/user/id"),
            access_token: text("/accessToken"),
            refresh_token: text("/refreshToken"),
        }
    }

    pub async fn gql(&self, query: &str, variables: Value) -> GqlResponse {
        self.app.gql_as(Some(&self.access_token), query, variables).await
    }

    /// Records a call and returns the log (`id`, `startedAt`, ...).
    pub async fn records_call(&self, input: Value) -> Value {
        let response = self.gql(RECORD_CALL, json!({ "input": input })).await;
        response.data("recordCall").clone()
    }

    /// Creates a number and returns its `id`.
    pub async fn creates_number(&self, phone_number: &str) -> String {
        let response = self
            .gql(CREATE_NUMBER, json!({ "input": { "phoneNumber": phone_number } }))
            .await;
        response.data("createVirtualNumber")["id"]
            .as_str()
            .unwrap_or_else(|| panic!("creating {phone_number} failed: {}", response.body))
            .to_owned()
    }

    /// Makes an API key with these scopes (`READ_NUMBERS`, …) and returns its secret.
    pub async fn creates_api_key(&self, scopes: &[&str]) -> String {
        let response = self
            .gql(
                CREATE_API_KEY,
                json!({ "input": { "name": format!("backend {}", scopes.join("+")), "scopes": scopes } }),
            )
            .await;
        response.data("createApiKey")["secret"]
            .as_str()
            .unwrap_or_else(|| panic!("creating a key failed: {}", response.body))
            .to_owned()
    }

    /// Releases the number `id`; the answer is the caller's to check.
    pub async fn releases_number(&self, id: &str) -> GqlResponse {
        self.gql(RELEASE_NUMBER, json!({ "id": id })).await
    }
}

/// A GraphQL response with its HTTP status.
#[derive(Debug)]
pub struct GqlResponse {
    pub status: u16,
    pub body: Value,
}

impl GqlResponse {
    async fn from(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let body = response.json().await.expect("a JSON body");
        GqlResponse { status, body }
    }

    /// `data.<field>`, failing the test with the whole body if there were errors.
    pub fn data(&self, field: &str) -> &Value {
        assert!(self.body.get("errors").is_none(), "unexpected errors: {}", self.body);
        &self.body["data"][field]
    }

    /// `data.<field>` whatever the errors.
    pub fn data_even_with_errors(&self, field: &str) -> &Value {
        &self.body["data"][field]
    }

    pub fn error_code(&self) -> Option<&str> {
        self.body.pointer("/errors/0/extensions/code").and_then(Value::as_str)
    }

    pub fn error_field(&self) -> Option<&str> {
        self.body.pointer("/errors/0/extensions/field").and_then(Value::as_str)
    }

    pub fn error_message(&self) -> &str {
        self.body
            .pointer("/errors/0/message")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// Asserts the first error's code (and field, when given).
    pub fn assert_error(&self, code: &str, field: Option<&str>) {
        assert_eq!(self.error_code(), Some(code), "body: {}", self.body);
        if field.is_some() {
            assert_eq!(self.error_field(), field, "body: {}", self.body);
        }
    }
}

pub const REGISTER: &str = "mutation($input: RegisterInput!) { register(input: $input) {
    accessToken refreshToken tokenType expiresIn user { id username email contactNumber isStaff } } }";
pub const LOGIN: &str =
    "mutation($username: String!, $password: String!) { login(username: $username, password: $password) {
    accessToken refreshToken tokenType expiresIn user { id username } } }";
pub const CREATE_NUMBER: &str = "mutation($input: CreateVirtualNumberInput!) { createVirtualNumber(input: $input) {
    id phoneNumber friendlyName countryCode isActive owner { id username } } }";
pub const CREATE_API_KEY: &str = "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) {
    secret apiKey { id name tokenPrefix scopes createdAt expiresAt lastUsedAt revokedAt } } }";
pub const RELEASE_NUMBER: &str = "mutation($id: ID!) { releaseVirtualNumber(id: $id) }";
pub const VIRTUAL_NUMBER: &str = "query($id: ID!) { virtualNumber(id: $id) { id phoneNumber friendlyName isActive } }";
pub const MY_NUMBERS: &str =
    "query($first: Int, $after: String, $last: Int, $before: String, $filter: VirtualNumberFilter) {
    myVirtualNumbers(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
      totalCount edges { cursor node { id phoneNumber } } nodes { id }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
pub const RECORD_CALL: &str = "mutation($input: RecordCallInput!) { recordCall(input: $input) {
    id direction status callerNumber calledNumber counterpartNumber counterpartKind counterpartExtension
    startedAt durationSeconds externalId virtualNumber { id phoneNumber } } }";
pub const CALL_LOGS: &str = "query($first: Int, $after: String, $last: Int, $before: String, $filter: CallLogFilter) {
    callLogs(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
      totalCount edges { cursor node { id startedAt direction status counterpartNumber counterpartKind durationSeconds } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
