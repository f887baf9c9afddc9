//! Every setting, as one clap struct: each is a flag and an environment
//! variable (a `.env` file is read first). The doc comments are the operator docs.

use std::{fmt, net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Args, ValueEnum};
use ipnet::IpNet;

/// Settings shared by every command.
#[derive(Clone, Args)]
pub struct Config {
    /// Database to use: `sqlite://path?mode=rwc` (embedded) or `postgres://user@host/db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        global = true,
        hide_env_values = true,
        default_value = "sqlite://switchboard.db?mode=rwc"
    )]
    pub database_url: String,

    /// Most connections the pool opens to the database.
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", global = true, default_value_t = 10)]
    pub database_max_connections: u32,

    /// Address and port the HTTP server listens on.
    #[arg(
        long = "listen",
        env = "SWITCHBOARD_LISTEN",
        global = true,
        default_value = "127.0.0.1:8000"
    )]
    pub listen: SocketAddr,

    /// Secret (at least 32 bytes) that signs access tokens. Without it a random one is
    /// generated and kept in a 0600 file beside the SQLite database.
    #[arg(long, env = "JWT_SECRET", global = true, hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// The secret being rotated out: tokens it signed are still accepted (never
    /// issued) until they expire. See the README on rotating the signing secret.
    #[arg(long, env = "JWT_SECRET_PREVIOUS", global = true, hide_env_values = true)]
    pub jwt_secret_previous: Option<String>,

    /// `development` or `production`; production refuses to start without a proper `JWT_SECRET`.
    #[arg(long = "env", env = "SWITCHBOARD_ENV", global = true, value_enum, default_value_t = Environment::Development)]
    pub environment: Environment,

    /// How long an access token lives (`15m`, `1h`, ...).
    #[arg(long, env = "ACCESS_TOKEN_TTL", global = true, default_value = "15m", value_parser = humantime::parse_duration)]
    pub access_token_ttl: Duration,

    /// How long a refresh token lives (`14d`, ...); each `refresh` issues a new one.
    #[arg(long, env = "REFRESH_TOKEN_TTL", global = true, default_value = "14d", value_parser = humantime::parse_duration)]
    pub refresh_token_ttl: Duration,

    /// Whether anyone may `register`; when false, staff create users with `create-user`.
    #[arg(long, env = "ALLOW_SIGNUP", global = true, default_value_t = true, action = clap::ArgAction::Set)]
    pub allow_signup: bool,

    /// Sign-in attempts allowed per minute for one username from one client address;
    /// more get `RATE_LIMITED`. Counted in the database, so shared by every instance.
    #[arg(long, env = "LOGIN_ATTEMPTS_PER_MINUTE", global = true, default_value_t = 10)]
    pub login_attempts_per_minute: u32,

    /// Sign-in attempts allowed per minute from one client address, whatever the usernames.
    #[arg(
        long,
        env = "LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE",
        global = true,
        default_value_t = 30
    )]
    pub login_attempts_per_address_per_minute: u32,

    /// Sign-in attempts allowed per minute for one username from all addresses together:
    /// high enough that one attacker cannot lock its owner out, low enough to slow a
    /// distributed guess.
    #[arg(
        long,
        env = "LOGIN_ATTEMPTS_PER_USERNAME_PER_MINUTE",
        global = true,
        default_value_t = 100
    )]
    pub login_attempts_per_username_per_minute: u32,

    /// Accounts one client address may open per hour with `register`.
    #[arg(long, env = "SIGNUPS_PER_ADDRESS_PER_HOUR", global = true, default_value_t = 20)]
    pub signups_per_address_per_hour: u32,

    /// Proxies (addresses or networks, comma-separated: `10.0.0.0/8,192.168.1.7`) whose
    /// `X-Forwarded-For` is believed for the client address. Empty: the socket's peer is
    /// the client, and `X-Forwarded-For` is ignored.
    #[arg(long, env = "TRUSTED_PROXIES", global = true, value_delimiter = ',', value_parser = parse_proxy)]
    pub trusted_proxies: Vec<IpNet>,

    /// Countries (ISO 3166-1 alpha-2, comma-separated) whose numbers may be
    /// ported in; `checkPortability` answers `UNSUPPORTED_COUNTRY` for others.
    #[arg(
        long,
        env = "PORTING_COUNTRIES",
        global = true,
        value_delimiter = ',',
        default_value = "US,CA,GB"
    )]
    pub porting_countries: Vec<String>,

    /// Business days (Monday to Friday) of notice a requested porting FOC date
    /// must give at least.
    #[arg(long, env = "PORTING_MIN_BUSINESS_DAYS", global = true, default_value_t = 5)]
    pub porting_min_business_days: u32,

    /// How often the server completes port-in orders whose confirmed FOC date
    /// has come (UTC); `0s` turns the task off (then run `switchboard porting
    /// activate-due` from cron instead).
    #[arg(long, env = "PORTING_ACTIVATION_INTERVAL", global = true, default_value = "1m", value_parser = humantime::parse_duration)]
    pub porting_activation_interval: Duration,

    /// Whether `callStats` reads the per-quarter-hour rollups (`true`) or every
    /// call (`false`: slower, the same answer; for checking the rollups).
    #[arg(long, env = "STATS_FROM_ROLLUPS", global = true, default_value_t = true, action = clap::ArgAction::Set)]
    pub stats_from_rollups: bool,

    /// ISO 3166 region (such as `US`) used to read phone numbers written without `+` and a country code.
    #[arg(long, env = "DEFAULT_REGION", global = true)]
    pub default_region: Option<String>,

    /// Whether the schema answers introspection (`__schema`, `__type`), which the
    /// playground and code generators need. `false` also stops error messages
    /// from suggesting field names.
    #[arg(long, env = "INTROSPECTION", global = true, default_value_t = true, action = clap::ArgAction::Set)]
    pub introspection: bool,

    /// Deepest field nesting a query may have (GraphiQL's introspection query is 15).
    #[arg(long, env = "MAX_QUERY_DEPTH", global = true, default_value_t = 20)]
    pub max_query_depth: u64,

    /// Most field selections a query may make once its fragments are expanded.
    #[arg(long, env = "MAX_QUERY_SELECTIONS", global = true, default_value_t = 10_000)]
    pub max_query_selections: u64,

    /// Most aliased fields a query may have.
    #[arg(long, env = "MAX_QUERY_ALIASES", global = true, default_value_t = 200)]
    pub max_query_aliases: u64,

    /// Most root fields one operation may have.
    #[arg(long, env = "MAX_QUERY_ROOT_FIELDS", global = true, default_value_t = 50)]
    pub max_query_root_fields: u64,

    /// Most directives a query may use.
    #[arg(long, env = "MAX_QUERY_DIRECTIVES", global = true, default_value_t = 100)]
    pub max_query_directives: u64,

    /// Most lexical tokens a query's text may hold.
    #[arg(long, env = "MAX_QUERY_TOKENS", global = true, default_value_t = 20_000)]
    pub max_query_tokens: u64,

    /// The most one request may cost, in points (see the README's Security section).
    #[arg(long, env = "MAX_QUERY_COST", global = true, default_value_t = 10_000)]
    pub max_query_cost: u64,

    /// Points in each caller's bucket (a signed-in user, or a client address).
    #[arg(long, env = "COST_BUCKET_SIZE", global = true, default_value_t = 20_000)]
    pub cost_bucket_size: u64,

    /// Points restored to each bucket per second.
    #[arg(long, env = "COST_RESTORE_PER_SECOND", global = true, default_value_t = 1_000)]
    pub cost_restore_per_second: u64,

    /// Most WebSocket connections one instance holds; more are refused with 503.
    #[arg(long, env = "WS_MAX_CONNECTIONS", global = true, default_value_t = 10_000)]
    pub ws_max_connections: usize,

    /// Most WebSocket connections one user may hold on one instance; more are closed (1008).
    #[arg(long, env = "WS_MAX_CONNECTIONS_PER_USER", global = true, default_value_t = 20)]
    pub ws_max_connections_per_user: usize,

    /// Operations (subscriptions) one WebSocket connection may run at once.
    #[arg(long, env = "WS_MAX_OPERATIONS", global = true, default_value_t = 100)]
    pub ws_max_operations: usize,

    /// How long a WebSocket client has to send `connection_init` (`3s`).
    #[arg(long, env = "WS_INIT_TIMEOUT", global = true, default_value = "3s", value_parser = humantime::parse_duration)]
    pub ws_init_timeout: Duration,

    /// Documents kept for Apollo's automatic persisted queries, per instance (0: off).
    #[arg(long, env = "PERSISTED_QUERIES_CACHE", global = true, default_value_t = 1_000)]
    pub persisted_queries_cache: usize,

    /// A manifest of trusted documents (graphql-codegen's or Relay's `{ "hash": "document" }`,
    /// or Apollo's persisted query manifest); clients may send them by hash.
    #[arg(long, env = "TRUSTED_DOCUMENTS", global = true)]
    pub trusted_documents: Option<PathBuf>,

    /// Run only the documents in `TRUSTED_DOCUMENTS`; refuse every other.
    #[arg(long, env = "TRUSTED_DOCUMENTS_ONLY", global = true, default_value_t = false, action = clap::ArgAction::Set)]
    pub trusted_documents_only: bool,

    /// After a shutdown signal: how long in-flight requests may take to finish
    /// (WebSocket clients are told to reconnect elsewhere at once) before the process exits.
    #[arg(long, env = "SHUTDOWN_GRACE", global = true, default_value = "30s", value_parser = humantime::parse_duration)]
    pub shutdown_grace: Duration,

    /// Threads that hash passwords (0: half the cores, at least one). Sign-ins
    /// beyond them queue, so the rest of the API keeps the other cores.
    #[arg(long, env = "HASHING_THREADS", global = true, default_value_t = 0)]
    pub hashing_threads: usize,

    /// Serve `/metrics` on this address instead of beside the API (e.g. `127.0.0.1:9100`).
    #[arg(long, env = "METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<SocketAddr>,

    /// Log format: `pretty` for people, `json` for machines. Levels come from `RUST_LOG`.
    #[arg(long, env = "LOG_FORMAT", global = true, value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
}

// By hand, so that a logged or printed configuration shows no secret. The
// destructuring makes a new field a compile error here until it is placed.
impl fmt::Debug for Config {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Config {
            database_url,
            database_max_connections,
            listen,
            jwt_secret,
            jwt_secret_previous,
            environment,
            access_token_ttl,
            refresh_token_ttl,
            allow_signup,
            login_attempts_per_minute,
            login_attempts_per_address_per_minute,
            login_attempts_per_username_per_minute,
            signups_per_address_per_hour,
            trusted_proxies,
            introspection,
            max_query_depth,
            max_query_selections,
            max_query_aliases,
            max_query_root_fields,
            max_query_directives,
            max_query_tokens,
            max_query_cost,
            cost_bucket_size,
            cost_restore_per_second,
            ws_max_connections,
            ws_max_connections_per_user,
            ws_max_operations,
            ws_init_timeout,
            persisted_queries_cache,
            trusted_documents,
            trusted_documents_only,
            shutdown_grace,
            hashing_threads,
            metrics_listen,
            porting_countries,
            porting_min_business_days,
            porting_activation_interval,
            stats_from_rollups,
            default_region,
            log_format,
        } = self;
        formatter
            .debug_struct("Config")
            .field("database_url", &crate::db::redact(database_url))
            .field("database_max_connections", database_max_connections)
            .field("listen", listen)
            .field("jwt_secret", &jwt_secret.as_ref().map(|_| "[redacted]"))
            .field(
                "jwt_secret_previous",
                &jwt_secret_previous.as_ref().map(|_| "[redacted]"),
            )
            .field("environment", environment)
            .field("access_token_ttl", access_token_ttl)
            .field("refresh_token_ttl", refresh_token_ttl)
            .field("allow_signup", allow_signup)
            .field("login_attempts_per_minute", login_attempts_per_minute)
            .field(
                "login_attempts_per_address_per_minute",
                login_attempts_per_address_per_minute,
            )
            .field(
                "login_attempts_per_username_per_minute",
                login_attempts_per_username_per_minute,
            )
            .field("signups_per_address_per_hour", signups_per_address_per_hour)
            .field("trusted_proxies", trusted_proxies)
            .field("introspection", introspection)
            .field("max_query_depth", max_query_depth)
            .field("max_query_selections", max_query_selections)
            .field("max_query_aliases", max_query_aliases)
            .field("max_query_root_fields", max_query_root_fields)
            .field("max_query_directives", max_query_directives)
            .field("max_query_tokens", max_query_tokens)
            .field("max_query_cost", max_query_cost)
            .field("cost_bucket_size", cost_bucket_size)
            .field("cost_restore_per_second", cost_restore_per_second)
            .field("ws_max_connections", ws_max_connections)
            .field("ws_max_connections_per_user", ws_max_connections_per_user)
            .field("ws_max_operations", ws_max_operations)
            .field("ws_init_timeout", ws_init_timeout)
            .field("persisted_queries_cache", persisted_queries_cache)
            .field("trusted_documents", trusted_documents)
            .field("trusted_documents_only", trusted_documents_only)
            .field("shutdown_grace", shutdown_grace)
            .field("hashing_threads", hashing_threads)
            .field("metrics_listen", metrics_listen)
            .field("porting_countries", porting_countries)
            .field("porting_min_business_days", porting_min_business_days)
            .field("porting_activation_interval", porting_activation_interval)
            .field("stats_from_rollups", stats_from_rollups)
            .field("default_region", default_region)
            .field("log_format", log_format)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

impl Config {
    /// The SQLite database file, when the database is a SQLite file.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let rest = self.database_url.strip_prefix("sqlite:")?;
        let rest = rest.trim_start_matches("//");
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() || path == ":memory:" || self.database_url.contains("mode=memory") {
            return None;
        }
        Some(PathBuf::from(path))
    }

    /// Every default (and whatever the environment sets), with this database.
    pub fn for_database(database_url: impl Into<String>) -> Result<Self, clap::Error> {
        use clap::Parser;
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            config: Config,
        }
        let mut config = Only::try_parse_from(["switchboard"])?.config;
        config.database_url = database_url.into();
        Ok(config)
    }
}

/// Reads a `TRUSTED_PROXIES` entry: an address (`10.0.0.7`) or a network (`10.0.0.0/8`).
pub fn parse_proxy(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{text}` is not an IP address or network such as 10.0.0.0/8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_shows_neither_the_jwt_secret_nor_the_database_password() {
        let mut config = Config::for_database("postgres://switchboard:hunter2secret@db.internal/app").unwrap();
        config.jwt_secret = Some("a-jwt-secret-that-must-stay-private".to_owned());

        let printed = format!("{config:?}");

        assert!(!printed.contains("hunter2secret"), "{printed}");
        assert!(!printed.contains("a-jwt-secret-that-must-stay-private"), "{printed}");
        assert!(
            printed.contains("postgres://switchboard:***@db.internal/app"),
            "{printed}"
        );
        assert!(printed.contains(r#"jwt_secret: Some("[redacted]")"#), "{printed}");
    }
}
