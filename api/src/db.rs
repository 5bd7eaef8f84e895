//! Connecting to the store, configured for each backend, with every statement counted.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, ExecResult, Iterable, ModelTrait,
    PrimaryKeyToColumn, QueryFilter, QueryResult, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait,
    sea_query::ValueType,
    sqlx::{postgres::PgConnectOptions, sqlite::SqliteConnectOptions},
};

use uuid::Uuid;

use crate::{
    config::Config,
    metrics::Metrics,
    realtime::{AccessChange, Announcement, EventBus, Notice},
};

/// How long a request waits for a connection: when the database is gone, requests fail within
/// this instead of piling up.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// A pooled connection idle this long is pinged before use (it may have been dropped by the
/// server or the network); a busy one is not, since a ping per statement doubled the round
/// trips of every request.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const PG_STATEMENT_TIMEOUT: &str = "5s";

/// Opens the pool and hooks the statement counter in. Does not migrate.
pub async fn connect(config: &Config, metrics: &Metrics) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(config.database_url.clone());
    options
        .max_connections(config.db_max_connections)
        .min_connections(1)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .test_before_acquire_if_idle_for(PING_IF_IDLE_FOR)
        // sqlx's statement log would print bound values, private note bodies among them.
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(sqlite_options)
        .map_sqlx_postgres_opts(postgres_options);
    let mut db = Database::connect(options).await?;
    let metrics = metrics.clone();
    db.set_metric_callback(move |_| metrics.count_statement());
    Ok(db)
}

fn sqlite_options(options: SqliteConnectOptions) -> SqliteConnectOptions {
    use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
    options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true)
}

fn postgres_options(options: PgConnectOptions) -> PgConnectOptions {
    options.options([("statement_timeout", PG_STATEMENT_TIMEOUT)])
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Starts a transaction that will write. On SQLite it takes the write lock at `BEGIN`
/// (`IMMEDIATE`), so two writers queue on the busy timeout instead of deadlocking on upgrade.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Rows of an entity with a UUID primary key, by key, in one `IN` query.
pub async fn find_by_ids<E>(
    conn: &impl ConnectionTrait,
    keys: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, E::Model>, DbErr>
where
    E: EntityTrait,
{
    let Some(key) = E::PrimaryKey::iter().next() else {
        return Ok(HashMap::new());
    };
    let column = key.into_column();
    let rows = E::find().filter(column.is_in(keys)).all(conn).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| Some((<Uuid as ValueType>::try_from(row.get(column)).ok()?, row)))
        .collect())
}

/// True when the database answers a trivial query.
pub async fn is_ready(db: &DatabaseConnection) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}

/// The database and the event bus: what a write that changes a meeting needs.
#[derive(Clone)]
pub struct Store {
    pub db: DatabaseConnection,
    pub events: EventBus,
}

impl Store {
    /// Starts a write transaction (`IMMEDIATE` on SQLite) that can record meeting events;
    /// they are announced when it commits, and never if it does not.
    pub async fn begin(&self) -> Result<WriteTx, DbErr> {
        Ok(WriteTx {
            tx: begin_write(&self.db).await?,
            events: self.events.clone(),
            announced: Mutex::new(Vec::new()),
        })
    }
}

/// A write transaction that announces the meeting events it recorded (and the credentials it
/// revoked) after it commits.
pub struct WriteTx {
    tx: DatabaseTransaction,
    events: EventBus,
    announced: Mutex<Vec<Notice>>,
}

impl WriteTx {
    /// Announces new events of a meeting, on commit.
    pub async fn announce(&self, announcement: Announcement) -> Result<(), DbErr> {
        self.notify(Notice::Meeting(announcement)).await
    }

    /// Announces that credentials stopped working, on commit.
    pub async fn revoke(&self, change: AccessChange) -> Result<(), DbErr> {
        self.notify(Notice::Access(change)).await
    }

    async fn notify(&self, notice: Notice) -> Result<(), DbErr> {
        self.events.announce_in(&self.tx, notice).await?;
        self.announced
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(notice);
        Ok(())
    }

    pub async fn commit(self) -> Result<(), DbErr> {
        self.tx.commit().await?;
        let announced = self
            .announced
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.events.committed(&announced);
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.tx.rollback().await
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for WriteTx {
    fn get_database_backend(&self) -> DbBackend {
        self.tx.get_database_backend()
    }

    async fn execute_raw(&self, statement: Statement) -> Result<ExecResult, DbErr> {
        self.tx.execute_raw(statement).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.tx.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.tx.query_one_raw(statement).await
    }

    async fn query_all_raw(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.tx.query_all_raw(statement).await
    }

    fn support_returning(&self) -> bool {
        self.tx.support_returning()
    }
}
