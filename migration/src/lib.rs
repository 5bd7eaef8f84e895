//! Database migrations, run by the server at start-up and usable as a CLI (`cargo run -p migration -- --help`).
//!
//! Every migration must run on both SQLite and PostgreSQL: one ALTER per statement, and foreign
//! keys only inside CREATE TABLE (SQLite cannot add them later).

pub use sea_orm_migration::prelude::*;

mod helpers;
mod m20261121_000001_identity;
mod m20261121_000002_one_on_ones;
mod m20261122_000003_meeting_events;
mod m20261122_000004_trust;
mod m20261122_000005_webhooks;
mod m20261122_000006_webhooks_by_organization;
mod m20261201_000007_event_numbering;
mod m20261201_000008_emails_per_organization;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_identity::Migration),
            Box::new(m20261121_000002_one_on_ones::Migration),
            Box::new(m20261122_000003_meeting_events::Migration),
            Box::new(m20261122_000004_trust::Migration),
            Box::new(m20261122_000005_webhooks::Migration),
            Box::new(m20261122_000006_webhooks_by_organization::Migration),
            Box::new(m20261201_000007_event_numbering::Migration),
            Box::new(m20261201_000008_emails_per_organization::Migration),
        ]
    }
}
