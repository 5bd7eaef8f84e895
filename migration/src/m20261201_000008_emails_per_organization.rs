//! Emails are unique within an organisation, no longer across all of them: with one index over
//! every tenant, an admin creating a user learnt that an email was registered in another
//! organisation ("already exists"). Now each organisation has its own set of emails.
//!
//! SQLite cannot drop the column's UNIQUE constraint, so the table is rebuilt the way SQLite
//! documents for schema changes it has no ALTER for: with foreign keys off on one connection,
//! a copy of the table without the constraint replaces it in one transaction.

use sea_orm_migration::{
    prelude::*,
    sea_orm::{DatabaseExecutor, DbBackend, sqlx},
};

use crate::helpers::unique_index;

const PER_ORGANIZATION: &str = "idx_users_organization_email";
const GLOBAL: &str = "idx_users_email";
const COLUMN: &str = "\"email\" varchar NOT NULL";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Sqlite => rebuild_without_unique_email(manager).await?,
            _ => {
                db.execute_unprepared(
                    "ALTER TABLE users DROP CONSTRAINT IF EXISTS users_email_key",
                )
                .await?;
            }
        }
        // What `down` leaves on SQLite, which cannot restore the column constraint.
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {GLOBAL}"))
            .await?;
        unique_index(
            manager,
            PER_ORGANIZATION,
            Users::Table,
            &[Users::OrganizationId, Users::Email],
        )
        .await
    }

    /// Fails when an email now belongs to users of several organisations.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(PER_ORGANIZATION)
                    .table(Users::Table)
                    .to_owned(),
            )
            .await?;
        match manager.get_database_backend() {
            DbBackend::Sqlite => unique_index(manager, GLOBAL, Users::Table, &[Users::Email]).await,
            _ => {
                manager
                    .get_connection()
                    .execute_unprepared(
                        "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)",
                    )
                    .await?;
                Ok(())
            }
        }
    }
}

/// SQLite: `users` again, without `UNIQUE` on `email`, its rows, indexes and every reference to
/// it kept.
async fn rebuild_without_unique_email(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let DatabaseExecutor::Connection(db) = manager.get_connection() else {
        return Err(DbErr::Migration(
            "this migration changes foreign-key settings and must run outside a transaction".into(),
        ));
    };
    let mut conn = db
        .get_sqlite_connection_pool()
        .acquire()
        .await
        .map_err(sqlx_error)?;
    // Not possible inside a transaction; with foreign keys on, dropping the old table would
    // cascade to every table that references users.
    execute(&mut conn, "PRAGMA foreign_keys = OFF").await?;
    let rebuilt = rebuild(&mut conn).await;
    if rebuilt.is_err() {
        let _ = execute(&mut conn, "ROLLBACK").await;
    }
    execute(&mut conn, "PRAGMA foreign_keys = ON").await?;
    rebuilt
}

async fn rebuild(conn: &mut sqlx::SqliteConnection) -> Result<(), DbErr> {
    execute(conn, "BEGIN IMMEDIATE").await?;
    let table: String =
        sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'")
            .fetch_one(&mut *conn)
            .await
            .map_err(sqlx_error)?;
    let unique = format!("{COLUMN} UNIQUE");
    if !table.contains(&unique) {
        // Rebuilt already (and taken down since, to an index `up` drops).
        return execute(conn, "COMMIT").await;
    }
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'users' AND sql IS NOT NULL",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(sqlx_error)?;
    let copy = table.replacen(&unique, COLUMN, 1).replacen(
        "CREATE TABLE \"users\"",
        "CREATE TABLE \"users_rebuilt\"",
        1,
    );
    execute(conn, &copy).await?;
    execute(conn, "INSERT INTO users_rebuilt SELECT * FROM users").await?;
    execute(conn, "DROP TABLE users").await?;
    execute(conn, "ALTER TABLE users_rebuilt RENAME TO users").await?;
    for index in indexes {
        execute(conn, &index).await?;
    }
    let broken: Vec<String> = sqlx::query_scalar("SELECT \"table\" FROM pragma_foreign_key_check")
        .fetch_all(&mut *conn)
        .await
        .map_err(sqlx_error)?;
    if !broken.is_empty() {
        return Err(DbErr::Migration(format!(
            "foreign keys broken in {broken:?}"
        )));
    }
    execute(conn, "COMMIT").await
}

/// Runs SQL written here or read from SQLite's own schema, never from input.
async fn execute(conn: &mut sqlx::SqliteConnection, sql: &str) -> Result<(), DbErr> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(conn)
        .await
        .map(|_| ())
        .map_err(sqlx_error)
}

fn sqlx_error(error: sqlx::Error) -> DbErr {
    DbErr::Migration(error.to_string())
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    OrganizationId,
    Email,
}
