//! End-to-end test harness: every test starts the real server on port 0 with a database of its
//! own (an SQLite file, or a fresh PostgreSQL database when `TEST_DATABASE_URL` is set) and talks
//! to it over HTTP as a client would.

pub mod proxy;

use std::{future::Future, path::PathBuf, sync::Arc};

use base64::{Engine, engine::general_purpose::STANDARD};
use clap::Parser;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tete_api::Application;
use tokio::{sync::oneshot, task::JoinHandle};

pub use proxy::Proxy;
pub use tete_api::Config;

/// The signing key every test server uses, so tests can forge and tamper with tokens.
pub const JWT_SECRET: &str = "test-jwt-secret-that-is-long-enough-0123456789";
pub const PASSWORD: &str = "correct horse battery staple";

/// A configuration from flags only, so the developer's environment cannot change a test.
fn config_for(database_url: &str) -> Config {
    Config::parse_from([
        "tete",
        "--addr",
        "127.0.0.1:0",
        "--database-url",
        database_url,
        "--jwt-secret",
        JWT_SECRET,
        "--data-key",
        &STANDARD.encode([7u8; 32]),
        "--db-max-connections",
        "5",
    ])
}

/// A database that exists for one test and is removed after it.
enum TestDatabase {
    Sqlite { dir: PathBuf },
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    async fn create() -> (Self, String) {
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("tete_test_{}", uuid::Uuid::now_v7().simple());
                let admin = Database::connect(&admin_url)
                    .await
                    .expect("TEST_DATABASE_URL is reachable");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("can create a test database");
                admin.close().await.ok();
                let url = with_database(&admin_url, &name);
                (Self::Postgres { admin_url, name }, url)
            }
            _ => {
                let dir = std::env::temp_dir().join(format!("tete-test-{}", uuid::Uuid::now_v7()));
                std::fs::create_dir_all(&dir).expect("can create a temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.join("tete.db").display());
                (Self::Sqlite { dir }, url)
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self {
            Self::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Self::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs inside the test's runtime; use a runtime of our own on a thread.
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a runtime");
                    runtime.block_on(async {
                        if let Ok(admin) = Database::connect(&admin_url).await {
                            let _ = admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                                ))
                                .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// `postgres://u@h:p/db?x` with another database name.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let prefix = base.rsplit_once('/').map_or(base, |(prefix, _)| prefix);
    match query {
        Some(query) => format!("{prefix}/{name}?{query}"),
        None => format!("{prefix}/{name}"),
    }
}

/// A running server and a client for it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: tete_api::state::AppState,
    shutdown: Option<oneshot::Sender<()>>,
    /// The task serving until `shutdown`; `stop` awaits it.
    server: Option<JoinHandle<std::io::Result<()>>>,
    // Dropped last: the database outlives the servers that use it.
    database: Arc<TestDatabase>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// Starts a server with the default test configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts a server after `configure` has adjusted its configuration.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let (database, url) = TestDatabase::create().await;
    let mut config = config_for(&url);
    configure(&mut config);
    start(config, Arc::new(database)).await
}

/// Starts a server on a database that `prepare` filled while only the first `migrations`
/// migrations were applied: the server applies the rest at start, over that data, as it does
/// for an existing installation.
pub async fn spawn_app_after_migrations<F>(
    migrations: u32,
    prepare: impl FnOnce(sea_orm::DatabaseConnection) -> F,
) -> TestApp
where
    F: Future<Output = ()>,
{
    use migration::MigratorTrait;
    let (database, url) = TestDatabase::create().await;
    let db = Database::connect(&url).await.expect("the test database");
    migration::Migrator::up(&db, Some(migrations))
        .await
        .expect("the first migrations apply");
    prepare(db.clone()).await;
    db.close().await.ok();
    start(config_for(&url), Arc::new(database)).await
}

async fn start(config: Config, database: Arc<TestDatabase>) -> TestApp {
    let app = Application::build(config).await.expect("the server starts");
    let address = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    let (shutdown, stop) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stop.await;
    }));
    TestApp {
        address,
        client: reqwest::Client::new(),
        state,
        shutdown: Some(shutdown),
        server: Some(server),
        database,
    }
}

/// On PostgreSQL (`TEST_DATABASE_URL` set): a server whose database connections all go
/// through a [`Proxy`] the test can cut, as when PostgreSQL stops. `None` on SQLite, where there
/// is no database server to lose.
pub async fn spawn_app_behind_proxy() -> Option<(TestApp, Proxy)> {
    spawn_app_behind_proxy_with(|_| {}).await
}

/// [`spawn_app_behind_proxy`] after `configure` has adjusted the configuration.
pub async fn spawn_app_behind_proxy_with(
    configure: impl FnOnce(&mut Config),
) -> Option<(TestApp, Proxy)> {
    let (database, url) = TestDatabase::create().await;
    if matches!(database, TestDatabase::Sqlite { .. }) {
        return None;
    }
    let (target, _) = split_authority(&url);
    let proxy = Proxy::start(target).await;
    let proxied = with_host_port(&url, &proxy.address().to_string());
    let mut config = config_for(&proxied);
    configure(&mut config);
    let app = start(config, Arc::new(database)).await;
    Some((app, proxy))
}

/// The `host:port` of `scheme://[user@]host[:port]/…` (port 5432 when absent), and the byte
/// range it spans in the URL.
fn split_authority(url: &str) -> (String, std::ops::Range<usize>) {
    let start = url.find("://").map_or(0, |at| at + 3);
    let end = url[start..]
        .find(['/', '?'])
        .map_or(url.len(), |at| start + at);
    let host_start = url[start..end]
        .rfind('@')
        .map_or(start, |at| start + at + 1);
    let host_port = &url[host_start..end];
    let has_port = host_port
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
    let target = if has_port {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    (target, host_start..end)
}

/// `scheme://user@h:p/db?x` with another `host:port`.
fn with_host_port(url: &str, host_port: &str) -> String {
    let (_, range) = split_authority(url);
    format!("{}{host_port}{}", &url[..range.start], &url[range.end..])
}

/// A signed-in user as a test sees them.
#[derive(Debug, Clone)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub user_id: String,
}

impl Session {
    fn from_payload(payload: &Value) -> Self {
        Self {
            access_token: payload["accessToken"].as_str().expect("accessToken").into(),
            refresh_token: payload["refreshToken"]
                .as_str()
                .expect("refreshToken")
                .into(),
            user_id: payload["user"]["id"].as_str().expect("user id").into(),
        }
    }
}

impl TestApp {
    /// Starts a graceful shutdown, as SIGTERM does. The returned future (which borrows nothing,
    /// so the test may keep using `self` or spawn it) completes with `run_until_stopped`'s
    /// result once the server has stopped; at once if it was already stopped.
    pub fn stop(&mut self) -> impl Future<Output = std::io::Result<()>> + Send + use<> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let server = self.server.take();
        async move {
            match server {
                Some(server) => server.await.expect("the server task did not panic"),
                None => Ok(()),
            }
        }
    }

    /// A second server on the same database, as another instance behind a load balancer.
    pub async fn spawn_sibling(&self) -> TestApp {
        self.spawn_sibling_with(|_| {}).await
    }

    /// [`spawn_sibling`](Self::spawn_sibling) after `configure` has adjusted its configuration
    /// (a copy of this server's), as an instance restarted with other settings.
    pub async fn spawn_sibling_with(&self, configure: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = (*self.state.config).clone();
        config.addr = "127.0.0.1:0".parse().expect("an address");
        configure(&mut config);
        start(config, self.database.clone()).await
    }

    /// `ws://…/graphql`.
    pub fn ws_url(&self) -> String {
        format!("{}/graphql", self.address.replacen("http://", "ws://", 1))
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// POSTs a GraphQL request and returns the status and JSON body.
    pub async fn post_graphql(
        &self,
        query: &str,
        variables: Value,
        token: Option<&str>,
    ) -> (reqwest::StatusCode, Value) {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let body = response.json().await.expect("a JSON body");
        (status, body)
    }

    /// POSTs a GraphQL request and returns its JSON body.
    pub async fn graphql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        self.post_graphql(query, variables, token).await.1
    }

    /// Runs an operation that must succeed and returns its `data`.
    pub async fn ok(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let body = self.graphql(query, variables, token).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Signs up a new organisation; returns its admin's session.
    pub async fn sign_up(&self, organization: &str, email: &str) -> Session {
        let data = self
            .ok(
                "mutation($input: SignUpInput!) { signUp(input: $input) { accessToken refreshToken user { id } } }",
                json!({ "input": {
                    "organizationName": organization,
                    "email": email,
                    "password": PASSWORD,
                    "displayName": format!("Admin of {organization}"),
                }}),
                None,
            )
            .await;
        Session::from_payload(&data["signUp"])
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Value {
        self.graphql(
            "mutation($input: SignInInput!) { signIn(input: $input) { accessToken refreshToken user { id email } } }",
            json!({ "input": { "email": email, "password": password } }),
            None,
        )
        .await
    }

    /// Signs in a user that must exist.
    pub async fn session(&self, email: &str) -> Session {
        let body = self.sign_in(email, PASSWORD).await;
        assert!(body.get("errors").is_none(), "sign-in failed: {body}");
        Session::from_payload(&body["data"]["signIn"])
    }

    /// As `admin`, creates a member (optionally reporting to `manager_id`); returns their id.
    pub async fn create_user(
        &self,
        admin: &Session,
        email: &str,
        manager_id: Option<&str>,
    ) -> String {
        let data = self
            .ok(
                "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }",
                json!({ "input": {
                    "email": email,
                    "displayName": email.split('@').next().unwrap_or(email),
                    "password": PASSWORD,
                    "managerId": manager_id,
                }}),
                Some(&admin.access_token),
            )
            .await;
        data["createUser"]["user"]["id"]
            .as_str()
            .expect("user id")
            .into()
    }

    /// The value of a Prometheus counter or gauge line, 0 when absent.
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self
            .client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics answer")
            .text()
            .await
            .expect("metrics text");
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0)
    }
}

/// The `extensions.code` of the first error, if any.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

#[cfg(test)]
mod tests {
    use super::{split_authority, with_database, with_host_port};

    #[test]
    fn swaps_the_host_and_port() {
        assert_eq!(
            split_authority("postgres://postgres@127.0.0.1:5432/t1").0,
            "127.0.0.1:5432"
        );
        assert_eq!(split_authority("postgres://u:pw@db/t1?x=1").0, "db:5432");
        assert_eq!(
            with_host_port("postgres://postgres@127.0.0.1:5432/t1", "127.0.0.1:4000"),
            "postgres://postgres@127.0.0.1:4000/t1"
        );
        assert_eq!(
            with_host_port("postgres://u:pw@db/t2?sslmode=disable", "127.0.0.1:4000"),
            "postgres://u:pw@127.0.0.1:4000/t2?sslmode=disable"
        );
    }

    #[test]
    fn swaps_the_database_name() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "t2"),
            "postgres://u@h/t2?sslmode=disable"
        );
    }
}
