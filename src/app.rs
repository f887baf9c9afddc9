//! Start-up and shut-down: `App::build` connects, migrates, assembles the
//! services and binds the listener; `App::run_until` serves until a signal.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use sea_orm::DatabaseConnection;
use tokio::{
    net::TcpListener,
    sync::{Notify, watch},
    task::JoinHandle,
};

use crate::{
    accounts::{AccountService, AdminService, ApiKeyService, AttemptLimits, AuditLog, Authority, SessionService},
    auth::{secret, tokens::TokenKeys},
    calls::{CallService, events::CallEvents},
    config::Config,
    db,
    feed::FeedTasks,
    http::{self, HttpState},
    numbers::{DefaultRegion, NumberService, Region},
    porting::{PortingEvents, PortingService, PortingSettings},
    schema::Services,
};

pub struct App {
    listener: TcpListener,
    router: axum::Router,
    db: DatabaseConnection,
    /// The tasks behind subscriptions, stopped at shutdown.
    event_tasks: FeedTasks,
    /// The hourly sweep of expired and ended sessions, stopped at shutdown.
    sweeper: JoinHandle<()>,
    /// Completes port-in orders on their FOC date (`PORTING_ACTIVATION_INTERVAL`).
    activation: Option<JoinHandle<()>>,
    /// `/metrics` on its own address (`METRICS_LISTEN`), if set.
    metrics: Option<(TcpListener, axum::Router)>,
    /// Tells WebSocket connections the server is going away.
    shutting_down: Arc<watch::Sender<bool>>,
    /// How long in-flight requests have once shutdown starts.
    grace: Duration,
}

/// How often old sessions and refresh tokens are swept.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

impl App {
    /// Connects, migrates and binds; the server is not yet answering.
    pub async fn build(config: &Config) -> anyhow::Result<App> {
        let db = db::connect(
            &config.database_url,
            config.database_max_connections,
            db::Planning::Cached,
        )
        .await?;
        Self::build_on(config, db).await
    }

    /// Like `build`, over a connection the caller opened (and perhaps instrumented).
    pub async fn build_on(config: &Config, db: DatabaseConnection) -> anyhow::Result<App> {
        crate::auth::passwords::configure(config.hashing_threads);
        db::migrate(&db).await?;
        let (events, call_tasks) = CallEvents::start(db.clone())
            .await
            .context("listening for call events")?;
        let (porting_events, porting_tasks) = PortingEvents::start(db.clone())
            .await
            .context("listening for porting events")?;
        let listener = crate::feed::listen(&db, vec![Box::new(events.clone()), Box::new(porting_events.clone())])
            .await
            .context("listening for events from other instances")?;
        let event_tasks = call_tasks.join(porting_tasks).join(listener);
        let analytics = db::analytics(&config.database_url, config.database_max_connections, &db).await?;
        let services = services(config, db.clone(), analytics, events, porting_events)?;
        let activation = (!config.porting_activation_interval.is_zero()).then(|| {
            let porting = services.porting.clone();
            let interval = config.porting_activation_interval;
            tokio::spawn(async move {
                let mut every = tokio::time::interval(interval);
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    every.tick().await;
                    match porting.activate_due().await {
                        Ok(done) if done.ported + done.failed > 0 => {
                            tracing::info!(
                                ported = done.ported,
                                failed = done.failed,
                                "activated port-in orders due today"
                            );
                        }
                        Ok(_) => {}
                        Err(error) => tracing::warn!(?error, "could not activate port-in orders due today"),
                    }
                }
            })
        });
        let sessions = services.sessions.clone();
        let sweeper = tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            loop {
                every.tick().await;
                if let Err(error) = sessions.sweep().await {
                    tracing::warn!(?error, "could not sweep old sessions");
                }
            }
        });
        let state = HttpState::new(services, db.clone(), config)?;
        let shutting_down = state.shutting_down.clone();
        let metrics_router = config.metrics_listen.map(|_| http::metrics_router(state.clone()));
        let router = http::router(state, config.metrics_listen.is_none());
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let metrics_listener = match config.metrics_listen {
            Some(address) => Some(
                TcpListener::bind(address)
                    .await
                    .with_context(|| format!("binding METRICS_LISTEN {address}"))?,
            ),
            None => None,
        };
        Ok(App {
            listener,
            router,
            metrics: metrics_listener.zip(metrics_router),
            shutting_down,
            grace: config.shutdown_grace,
            db,
            event_tasks,
            sweeper,
            activation,
        })
    }

    pub fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        self.listener.local_addr().context("reading the bound address")
    }

    /// The `METRICS_LISTEN` address, when metrics are served apart.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics
            .as_ref()
            .and_then(|(listener, _)| listener.local_addr().ok())
    }

    /// Serves until `shutdown` completes; then WebSocket clients are told to
    /// reconnect elsewhere (1001), in-flight requests get up to the grace period
    /// to finish, and the pool is closed.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        tracing::info!(address = %self.local_addr()?, "switchboard is listening");
        let started = Arc::new(Notify::new());
        let signalled = started.clone();
        let shutting_down = self.shutting_down.clone();
        let (metrics_stop, metrics_stopped) = watch::channel(false);
        let metrics = self.metrics.map(|(listener, router)| {
            if let Ok(address) = listener.local_addr() {
                tracing::info!(%address, "metrics are served apart");
            }
            let mut stopped = metrics_stopped;
            tokio::spawn(async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.wait_for(|stop| *stop).await;
                    })
                    .await
            })
        });
        let router = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let serving = axum::serve(self.listener, router).with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight requests, closing subscriptions");
            shutting_down.send_replace(true);
            signalled.notify_one();
        });
        let grace = self.grace;
        tokio::select! {
            served = serving => served.context("serving HTTP")?,
            () = async { started.notified().await; tokio::time::sleep(grace).await } => {
                tracing::warn!(?grace, "the grace period ran out with requests in flight; stopping anyway");
            }
        }
        let _ = metrics_stop.send(true);
        if let Some(metrics) = metrics {
            let _ = tokio::time::timeout(Duration::from_secs(1), metrics).await;
        }
        drop(self.event_tasks);
        self.sweeper.abort();
        if let Some(activation) = &self.activation {
            activation.abort();
        }
        self.db.close().await.context("closing the database pool")?;
        tracing::info!("switchboard stopped");
        Ok(())
    }
}

/// The services resolvers use, from the configuration.
pub fn services(
    config: &Config,
    db: DatabaseConnection,
    analytics: DatabaseConnection,
    events: CallEvents,
    porting_events: PortingEvents,
) -> anyhow::Result<Services> {
    let secret = secret::resolve(config)?;
    let mut keys = TokenKeys::new(&secret, config.access_token_ttl);
    if let Some(previous) = &config.jwt_secret_previous {
        if previous.len() < secret::MIN_SECRET_BYTES {
            anyhow::bail!(
                "JWT_SECRET_PREVIOUS must be at least {} bytes",
                secret::MIN_SECRET_BYTES
            );
        }
        keys = keys.with_previous(previous.as_bytes());
    }
    let default_region = config
        .default_region
        .as_deref()
        .map(|code| {
            code.parse::<Region>()
                .map_err(|error| anyhow::anyhow!("DEFAULT_REGION: {}", error.0))
        })
        .transpose()?;
    Ok(Services {
        authority: Authority::new(db.clone()),
        accounts: AccountService::with_limits(
            db.clone(),
            AttemptLimits {
                sign_ins_per_address_and_username: config.login_attempts_per_minute,
                sign_ins_per_address: config.login_attempts_per_address_per_minute,
                sign_ins_per_username: config.login_attempts_per_username_per_minute,
                sign_ups_per_address: config.signups_per_address_per_hour,
            },
        )
        .with_signup(config.allow_signup),
        sessions: SessionService::new(db.clone(), keys, config.refresh_token_ttl),
        api_keys: ApiKeyService::new(db.clone()),
        admin: AdminService::new(db.clone()),
        audit: AuditLog::new(db.clone()),
        numbers: NumberService::new(db.clone()),
        calls: CallService::new(db.clone(), events)
            .with_analytics(analytics)
            .with_rollups(config.stats_from_rollups),
        porting: PortingService::new(db, porting_events, porting_settings(config)?),
        default_region: DefaultRegion(default_region),
    })
}

/// Porting settings, checked: every country a region libphonenumber knows.
pub fn porting_settings(config: &Config) -> anyhow::Result<PortingSettings> {
    let countries = config
        .porting_countries
        .iter()
        .map(|code| code.trim().to_ascii_uppercase())
        .filter(|code| !code.is_empty())
        .map(|code| {
            code.parse::<Region>()
                .map(|region| region.to_string())
                .map_err(|error| anyhow::anyhow!("PORTING_COUNTRIES: {}", error.0))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(PortingSettings {
        countries,
        min_business_days: config.porting_min_business_days,
    })
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
