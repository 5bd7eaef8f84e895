//! The 1:1 core: series, meetings, agenda items, notes, action items, check-ins, the question
//! bank, and the record of client mutation ids that makes create mutations safe to retry.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{
    helpers::{fk, index},
    m20261121_000001_identity::{Organizations, Users},
};

mod builtin_questions;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OneOnOnes::Table)
                    .col(pk_uuid(OneOnOnes::Id))
                    .col(uuid(OneOnOnes::OrganizationId))
                    .col(uuid(OneOnOnes::ManagerId))
                    .col(uuid(OneOnOnes::ReportId))
                    .col(string(OneOnOnes::Cadence))
                    .col(string(OneOnOnes::DefaultFormat))
                    .col(integer(OneOnOnes::DefaultDurationMinutes))
                    .col(string(OneOnOnes::Lead))
                    .col(timestamp_with_time_zone_null(OneOnOnes::ArchivedAt))
                    .col(timestamp_with_time_zone(OneOnOnes::CreatedAt))
                    .foreign_key(&mut fk(
                        OneOnOnes::Table,
                        OneOnOnes::OrganizationId,
                        Organizations::Table,
                        Organizations::Id,
                    ))
                    .foreign_key(&mut fk(
                        OneOnOnes::Table,
                        OneOnOnes::ManagerId,
                        Users::Table,
                        Users::Id,
                    ))
                    .foreign_key(&mut fk(
                        OneOnOnes::Table,
                        OneOnOnes::ReportId,
                        Users::Table,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_one_on_ones_manager",
            OneOnOnes::Table,
            &[OneOnOnes::ManagerId],
        )
        .await?;
        index(
            manager,
            "idx_one_on_ones_report",
            OneOnOnes::Table,
            &[OneOnOnes::ReportId],
        )
        .await?;
        // A report has at most one manager, so at most one active series.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX idx_one_on_ones_active_report ON one_on_ones (report_id) WHERE archived_at IS NULL",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Meetings::Table)
                    .col(pk_uuid(Meetings::Id))
                    .col(uuid(Meetings::OneOnOneId))
                    .col(timestamp_with_time_zone(Meetings::ScheduledAt))
                    .col(integer(Meetings::DurationMinutes))
                    .col(string(Meetings::Format))
                    .col(string_null(Meetings::Location))
                    .col(string(Meetings::Status))
                    .col(timestamp_with_time_zone_null(Meetings::StartedAt))
                    .col(timestamp_with_time_zone_null(Meetings::EndedAt))
                    // No foreign key: agenda items point back at meetings.
                    .col(uuid_null(Meetings::CurrentTopicId))
                    .col(timestamp_with_time_zone(Meetings::CreatedAt))
                    .foreign_key(&mut fk(
                        Meetings::Table,
                        Meetings::OneOnOneId,
                        OneOnOnes::Table,
                        OneOnOnes::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_meetings_series",
            Meetings::Table,
            &[Meetings::OneOnOneId, Meetings::ScheduledAt],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(AgendaItems::Table)
                    .col(pk_uuid(AgendaItems::Id))
                    .col(uuid(AgendaItems::MeetingId))
                    .col(uuid(AgendaItems::AuthorId))
                    .col(string(AgendaItems::Title))
                    .col(text_null(AgendaItems::Description))
                    .col(string(AgendaItems::Category))
                    // A fractional-index key: moving an item rewrites only that item.
                    .col(string(AgendaItems::Position))
                    .col(timestamp_with_time_zone_null(AgendaItems::DiscussedAt))
                    .col(uuid_null(AgendaItems::CarriedOverFromId))
                    .col(timestamp_with_time_zone(AgendaItems::CreatedAt))
                    .foreign_key(&mut fk(
                        AgendaItems::Table,
                        AgendaItems::MeetingId,
                        Meetings::Table,
                        Meetings::Id,
                    ))
                    .foreign_key(&mut fk(
                        AgendaItems::Table,
                        AgendaItems::AuthorId,
                        Users::Table,
                        Users::Id,
                    ))
                    .foreign_key(&mut fk(
                        AgendaItems::Table,
                        AgendaItems::CarriedOverFromId,
                        AgendaItems::Table,
                        AgendaItems::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_agenda_items_meeting",
            AgendaItems::Table,
            &[AgendaItems::MeetingId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Notes::Table)
                    .col(pk_uuid(Notes::Id))
                    .col(uuid(Notes::MeetingId))
                    .col(uuid(Notes::AuthorId))
                    .col(string(Notes::Visibility))
                    // Shared notes keep their body here; private ones only in `sealed_body`.
                    .col(text_null(Notes::Body))
                    .col(blob_null(Notes::SealedBody))
                    .col(integer(Notes::Version))
                    .col(timestamp_with_time_zone(Notes::CreatedAt))
                    .col(timestamp_with_time_zone(Notes::UpdatedAt))
                    .foreign_key(&mut fk(
                        Notes::Table,
                        Notes::MeetingId,
                        Meetings::Table,
                        Meetings::Id,
                    ))
                    .foreign_key(&mut fk(
                        Notes::Table,
                        Notes::AuthorId,
                        Users::Table,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_notes_meeting",
            Notes::Table,
            &[Notes::MeetingId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ActionItems::Table)
                    .col(pk_uuid(ActionItems::Id))
                    .col(uuid(ActionItems::OneOnOneId))
                    .col(uuid_null(ActionItems::MeetingId))
                    .col(uuid(ActionItems::AssigneeId))
                    .col(uuid(ActionItems::CreatedById))
                    .col(string(ActionItems::Title))
                    .col(date_null(ActionItems::DueOn))
                    .col(timestamp_with_time_zone_null(ActionItems::CompletedAt))
                    .col(timestamp_with_time_zone(ActionItems::CreatedAt))
                    .foreign_key(&mut fk(
                        ActionItems::Table,
                        ActionItems::OneOnOneId,
                        OneOnOnes::Table,
                        OneOnOnes::Id,
                    ))
                    .foreign_key(&mut fk(
                        ActionItems::Table,
                        ActionItems::MeetingId,
                        Meetings::Table,
                        Meetings::Id,
                    ))
                    .foreign_key(&mut fk(
                        ActionItems::Table,
                        ActionItems::AssigneeId,
                        Users::Table,
                        Users::Id,
                    ))
                    .foreign_key(&mut fk(
                        ActionItems::Table,
                        ActionItems::CreatedById,
                        Users::Table,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_action_items_series",
            ActionItems::Table,
            &[ActionItems::OneOnOneId, ActionItems::CompletedAt],
        )
        .await?;
        index(
            manager,
            "idx_action_items_meeting",
            ActionItems::Table,
            &[ActionItems::MeetingId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CheckIns::Table)
                    .col(pk_uuid(CheckIns::Id))
                    .col(uuid(CheckIns::MeetingId))
                    .col(uuid(CheckIns::AuthorId))
                    .col(integer(CheckIns::Mood))
                    .col(text_null(CheckIns::Comment))
                    .col(boolean(CheckIns::SharedWithManager))
                    .col(timestamp_with_time_zone(CheckIns::CreatedAt))
                    .foreign_key(&mut fk(
                        CheckIns::Table,
                        CheckIns::MeetingId,
                        Meetings::Table,
                        Meetings::Id,
                    ))
                    .foreign_key(&mut fk(
                        CheckIns::Table,
                        CheckIns::AuthorId,
                        Users::Table,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_check_ins_meeting_author")
                    .table(CheckIns::Table)
                    .col(CheckIns::MeetingId)
                    .col(CheckIns::AuthorId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Questions::Table)
                    .col(pk_uuid(Questions::Id))
                    // Null for the built-in questions every organisation sees.
                    .col(uuid_null(Questions::OrganizationId))
                    .col(string(Questions::Category))
                    .col(string(Questions::Text))
                    .col(timestamp_with_time_zone(Questions::CreatedAt))
                    .foreign_key(&mut fk(
                        Questions::Table,
                        Questions::OrganizationId,
                        Organizations::Table,
                        Organizations::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_questions_organization",
            Questions::Table,
            &[Questions::OrganizationId, Questions::Category],
        )
        .await?;
        builtin_questions::insert(manager).await?;

        manager
            .create_table(
                Table::create()
                    .table(ClientMutations::Table)
                    .col(uuid(ClientMutations::UserId))
                    .col(string(ClientMutations::ClientMutationId))
                    .col(string(ClientMutations::Mutation))
                    .col(uuid(ClientMutations::ResultId))
                    .col(timestamp_with_time_zone(ClientMutations::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(ClientMutations::UserId)
                            .col(ClientMutations::ClientMutationId),
                    )
                    .foreign_key(&mut fk(
                        ClientMutations::Table,
                        ClientMutations::UserId,
                        Users::Table,
                        Users::Id,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ClientMutations::Table.into_iden(),
            Questions::Table.into_iden(),
            CheckIns::Table.into_iden(),
            ActionItems::Table.into_iden(),
            Notes::Table.into_iden(),
            AgendaItems::Table.into_iden(),
            Meetings::Table.into_iden(),
            OneOnOnes::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
pub enum OneOnOnes {
    Table,
    Id,
    OrganizationId,
    ManagerId,
    ReportId,
    Cadence,
    DefaultFormat,
    DefaultDurationMinutes,
    Lead,
    ArchivedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Meetings {
    Table,
    Id,
    OneOnOneId,
    ScheduledAt,
    DurationMinutes,
    Format,
    Location,
    Status,
    StartedAt,
    EndedAt,
    CurrentTopicId,
    CreatedAt,
    /// Added by the meeting-events migration.
    LastEventSequence,
}

#[derive(DeriveIden, Clone, Copy)]
enum AgendaItems {
    Table,
    Id,
    MeetingId,
    AuthorId,
    Title,
    Description,
    Category,
    Position,
    DiscussedAt,
    CarriedOverFromId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Notes {
    Table,
    Id,
    MeetingId,
    AuthorId,
    Visibility,
    Body,
    SealedBody,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ActionItems {
    Table,
    Id,
    OneOnOneId,
    MeetingId,
    AssigneeId,
    CreatedById,
    Title,
    DueOn,
    CompletedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CheckIns {
    Table,
    Id,
    MeetingId,
    AuthorId,
    Mood,
    Comment,
    SharedWithManager,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Questions {
    Table,
    Id,
    OrganizationId,
    Category,
    Text,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ClientMutations {
    Table,
    UserId,
    ClientMutationId,
    Mutation,
    ResultId,
    CreatedAt,
}
