//! Every setting, as one clap struct: each is a flag and an environment
//! variable (a `.env` file is read first). The doc comments are the operator docs.

use std::{fmt, net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Args, ValueEnum};

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

    /// Sign-in attempts allowed per username per minute (on each instance); more get `RATE_LIMITED`.
    #[arg(long, env = "LOGIN_ATTEMPTS_PER_MINUTE", global = true, default_value_t = 10)]
    pub login_attempts_per_minute: u32,

    /// ISO 3166 region (such as `US`) used to read phone numbers written without `+` and a country code.
    #[arg(long, env = "DEFAULT_REGION", global = true)]
    pub default_region: Option<String>,

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
            environment,
            access_token_ttl,
            refresh_token_ttl,
            allow_signup,
            login_attempts_per_minute,
            default_region,
            log_format,
        } = self;
        formatter
            .debug_struct("Config")
            .field("database_url", &crate::db::redact(database_url))
            .field("database_max_connections", database_max_connections)
            .field("listen", listen)
            .field("jwt_secret", &jwt_secret.as_ref().map(|_| "[redacted]"))
            .field("environment", environment)
            .field("access_token_ttl", access_token_ttl)
            .field("refresh_token_ttl", refresh_token_ttl)
            .field("allow_signup", allow_signup)
            .field("login_attempts_per_minute", login_attempts_per_minute)
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
