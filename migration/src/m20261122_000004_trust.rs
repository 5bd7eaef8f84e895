//! Admins, integrations and the trail an employee can check: API tokens, the audit log, the
//! access log, webhooks with their delivery queue, and calendar-feed tokens.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{
    helpers::{fk, index},
    m20261121_000001_identity::{Organizations, Users},
    m20261121_000002_one_on_ones::OneOnOnes,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(pk_uuid(ApiTokens::Id))
                    .col(uuid(ApiTokens::UserId))
                    .col(string(ApiTokens::Name))
                    // Comma-separated `ApiScope` names.
                    .col(string(ApiTokens::Scopes))
                    .col(string_uniq(ApiTokens::TokenHash))
                    .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
                    .foreign_key(&mut fk(
                        ApiTokens::Table,
                        ApiTokens::UserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_api_tokens_user",
            ApiTokens::Table,
            &[ApiTokens::UserId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEntries::Table)
                    .col(pk_uuid(AuditEntries::Id))
                    .col(uuid(AuditEntries::OrganizationId))
                    // Null for a failed sign-in with an unknown email.
                    .col(uuid_null(AuditEntries::ActorId))
                    .col(string(AuditEntries::Action))
                    .col(uuid_null(AuditEntries::SubjectUserId))
                    // Short, content-free detail (an email for sign-ins, a token name).
                    .col(string_null(AuditEntries::Detail))
                    .col(string_null(AuditEntries::Address))
                    .col(timestamp_with_time_zone(AuditEntries::OccurredAt))
                    .foreign_key(&mut fk(
                        AuditEntries::Table,
                        AuditEntries::OrganizationId,
                        Organizations::Table,
                        Organizations::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_audit_entries_organization",
            AuditEntries::Table,
            &[AuditEntries::OrganizationId, AuditEntries::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(AccessEntries::Table)
                    .col(pk_uuid(AccessEntries::Id))
                    .col(uuid(AccessEntries::OneOnOneId))
                    .col(uuid(AccessEntries::ReaderId))
                    // API_TOKEN, EXPORT or ADMIN_VIEW.
                    .col(string(AccessEntries::Via))
                    .col(uuid_null(AccessEntries::ApiTokenId))
                    .col(timestamp_with_time_zone(AccessEntries::OccurredAt))
                    .foreign_key(&mut fk(
                        AccessEntries::Table,
                        AccessEntries::OneOnOneId,
                        OneOnOnes::Table,
                        OneOnOnes::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_access_entries_series",
            AccessEntries::Table,
            &[AccessEntries::OneOnOneId, AccessEntries::Id],
        )
        .await?;

        // Mixed into the MAC in a user's calendar-feed URL; a new salt invalidates the old URL.
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(string_null(Users::CalendarFeedSalt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::CalendarFeedSalt)
                    .to_owned(),
            )
            .await?;
        for table in [
            AccessEntries::Table.into_iden(),
            AuditEntries::Table.into_iden(),
            ApiTokens::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum ApiTokens {
    Table,
    Id,
    UserId,
    Name,
    Scopes,
    TokenHash,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditEntries {
    Table,
    Id,
    OrganizationId,
    ActorId,
    Action,
    SubjectUserId,
    Detail,
    Address,
    OccurredAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AccessEntries {
    Table,
    Id,
    OneOnOneId,
    ReaderId,
    Via,
    ApiTokenId,
    OccurredAt,
}
