//! The stored event log of each meeting, which live subscriptions replay and follow.

use sea_orm_migration::{prelude::*, schema::*};

use crate::{helpers::fk, m20261121_000002_one_on_ones::Meetings};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The last sequence handed out for the meeting. Incrementing it in the writing
        // transaction locks the row, so sequences are gap-free and never reused.
        manager
            .alter_table(
                Table::alter()
                    .table(Meetings::Table)
                    .add_column(integer(Meetings::LastEventSequence).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MeetingEvents::Table)
                    .col(pk_uuid(MeetingEvents::Id))
                    .col(uuid(MeetingEvents::MeetingId))
                    .col(integer(MeetingEvents::Sequence))
                    .col(string(MeetingEvents::Kind))
                    .col(uuid_null(MeetingEvents::ActorId))
                    .col(uuid_null(MeetingEvents::AgendaItemId))
                    .col(uuid_null(MeetingEvents::NoteId))
                    .col(uuid_null(MeetingEvents::ActionItemId))
                    .col(uuid_null(MeetingEvents::CheckInId))
                    .col(uuid_null(MeetingEvents::ParticipantId))
                    .col(string_null(MeetingEvents::RemovedId))
                    // Set for events about private notes and check-ins: only this user gets them.
                    .col(uuid_null(MeetingEvents::PrivateTo))
                    .col(timestamp_with_time_zone(MeetingEvents::OccurredAt))
                    .foreign_key(&mut fk(
                        MeetingEvents::Table,
                        MeetingEvents::MeetingId,
                        Meetings::Table,
                        Meetings::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_meeting_events_sequence")
                    .table(MeetingEvents::Table)
                    .col(MeetingEvents::MeetingId)
                    .col(MeetingEvents::Sequence)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MeetingEvents::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Meetings::Table)
                    .drop_column(Meetings::LastEventSequence)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum MeetingEvents {
    Table,
    Id,
    MeetingId,
    Sequence,
    Kind,
    ActorId,
    AgendaItemId,
    NoteId,
    ActionItemId,
    CheckInId,
    ParticipantId,
    RemovedId,
    PrivateTo,
    OccurredAt,
}
