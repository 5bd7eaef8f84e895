//! Building and running the server: connect, migrate, bind, serve until told to stop. Tests and
//! the benchmark use the same [`Application`] as the `tete` binary.

use std::{future::Future, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use axum::Router;
use sea_orm::DbErr;
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

use crate::{
    admission::{Admission, SubscriptionSlots},
    auth::{jwt::TokenKeys, password},
    config::Config,
    db::{self, Store},
    domain::webhooks,
    graphql::{self, AppSchema},
    http::{self, OpenSockets, SHUTDOWN_GRACE},
    metrics::Metrics,
    rate_limit::RateLimits,
    realtime::EventBus,
    secrets,
    state::AppState,
};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("TETE_JWT_SECRET and TETE_DATA_KEY must be set when the database is not SQLite")]
    MissingSecrets,
    #[error("{name} {reason}")]
    InvalidSecret {
        name: &'static str,
        reason: &'static str,
    },
    #[error("cannot use the secrets file {path}: {source}")]
    SecretsFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("start-up failed: {0}")]
    Other(String),
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    sockets: Arc<OpenSockets>,
    /// Sends queued webhook deliveries until the server stops.
    webhook_worker: tokio::task::JoinHandle<()>,
}

impl Application {
    /// Connects to the store, applies migrations and binds the listener.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let keys = secrets::resolve(&config)?;
        let metrics = Metrics::new();
        let db = db::connect(&config, &metrics).await?;
        db::migrate(&db).await?;
        password::warm_up()
            .await
            .map_err(|error| StartupError::Other(format!("{error:?}")))?;
        let listener =
            TcpListener::bind(config.addr)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: config.addr,
                    source,
                })?;
        let events = EventBus::start(&db, &config.database_url).await?;
        let bound = listener.local_addr().unwrap_or(config.addr);
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"));
        let rate_limits = Arc::new(RateLimits::new(
            config.rate_limit_per_minute,
            config.sign_ins_per_address_per_minute,
        ));
        let data_key = Arc::new(keys.data_key);
        let webhook_worker = tokio::spawn(webhooks::run_worker(
            db.clone(),
            data_key.clone(),
            config.webhook_allow_private,
        ));
        let admission = Arc::new(Admission::new(
            config.max_in_flight,
            config.max_in_flight_per_caller,
        ));
        let subscription_slots =
            Arc::new(SubscriptionSlots::new(config.max_subscriptions_per_user));
        let state = AppState {
            store: Store { db, events },
            config: Arc::new(config),
            metrics,
            token_keys: Arc::new(TokenKeys::new(&keys.jwt_secret)),
            data_key,
            public_url,
            rate_limits,
            admission,
            subscription_slots,
            after_response: TaskTracker::new(),
        };
        let sockets = Arc::new(OpenSockets::default());
        let schema: AppSchema = graphql::build_schema(state.clone());
        let router = http::router(state.clone(), schema, sockets.clone());
        Ok(Self {
            listener,
            router,
            state,
            sockets,
            webhook_worker,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| self.state.config.addr)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish (for at most
    /// [`SHUTDOWN_GRACE`]), then closes WebSockets with a "reconnect" code.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let server = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight requests");
            let _ = stopping_tx.send(());
        });
        let grace_over = async move {
            if stopping_rx.await.is_ok() {
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        let result = tokio::select! {
            served = server => served,
            () = grace_over => {
                tracing::warn!("shutdown grace period over: closing remaining connections");
                Ok(())
            }
        };
        self.sockets.close_all(SOCKETS_CLOSE_WITHIN).await;
        let after_response = &self.state.after_response;
        after_response.close();
        let _ = tokio::time::timeout(SOCKETS_CLOSE_WITHIN, after_response.wait()).await;
        // Pending deliveries stay queued in the database for the next start.
        self.webhook_worker.abort();
        result
    }
}

/// What the `tete` binary does with its configuration: log, build, call `on_ready` with the bound
/// address, serve until SIGINT or SIGTERM. The benchmark's server runs the same.
pub async fn serve(config: Config, on_ready: impl FnOnce(SocketAddr)) -> std::process::ExitCode {
    crate::telemetry::init(config.log_format);
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(%error, "could not start");
            return std::process::ExitCode::FAILURE;
        }
    };
    on_ready(app.local_addr());
    if let Err(error) = app.run_until_stopped(shutdown_signal()).await {
        tracing::error!(%error, "server stopped with an error");
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}

/// How long shutdown waits for WebSockets to send their last events and close, and then for
/// work left after responses.
const SOCKETS_CLOSE_WITHIN: Duration = Duration::from_secs(3);

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
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
        () = interrupt => {}
        () = terminate => {}
    }
}
