//! Every meeting change looks up its organisation's webhooks to queue deliveries; without an
//! index that lookup scans the table (seen with `EXPLAIN` on the benchmark's organisation).

use sea_orm_migration::prelude::*;

use crate::helpers::index;

const NAME: &str = "idx_webhooks_organization";

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        index(manager, NAME, Webhooks::Table, &[Webhooks::OrganizationId]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(NAME).table(Webhooks::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Webhooks {
    Table,
    OrganizationId,
}
