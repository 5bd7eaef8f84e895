//! Each reader of a meeting's events gets numbers that count only the events they may receive,
//! so an event about someone's private note leaves no gap in anyone else's numbering:
//!
//! - `shared_sequence` counts the shared events (what API tokens and webhooks see);
//! - `manager_sequence` and `report_sequence` count the shared events and that participant's
//!   own private ones (what their sessions see).
//!
//! An event carries all three: for an event one reader does not receive, that reader's number
//! is the one of the last event they did. `sequence` stays the meeting's total order.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The counter on `meetings` and the number on `meeting_events` of each reader.
const NUMBERINGS: [(Meetings, MeetingEvents, Reader); 3] = [
    (
        Meetings::LastSharedSequence,
        MeetingEvents::SharedSequence,
        Reader::Nobody,
    ),
    (
        Meetings::LastManagerSequence,
        MeetingEvents::ManagerSequence,
        Reader::Column("manager_id"),
    ),
    (
        Meetings::LastReportSequence,
        MeetingEvents::ReportSequence,
        Reader::Column("report_id"),
    ),
];

/// Whose private events a numbering counts besides the shared ones.
#[derive(Clone, Copy)]
enum Reader {
    Nobody,
    /// The participant in this column of the meeting's series.
    Column(&'static str),
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (counter, number, _) in NUMBERINGS {
            manager
                .alter_table(
                    Table::alter()
                        .table(Meetings::Table)
                        .add_column(integer(counter).default(0))
                        .to_owned(),
                )
                .await?;
            manager
                .alter_table(
                    Table::alter()
                        .table(MeetingEvents::Table)
                        .add_column(integer(number).default(0))
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        for (counter, number, reader) in NUMBERINGS {
            let number = number.to_string();
            let counter = counter.to_string();
            let received = match reader {
                Reader::Nobody => "earlier.private_to IS NULL".to_owned(),
                Reader::Column(participant) => format!(
                    "(earlier.private_to IS NULL OR earlier.private_to = \
                     (SELECT s.{participant} FROM meetings m JOIN one_on_ones s ON s.id = m.one_on_one_id \
                      WHERE m.id = meeting_events.meeting_id))"
                ),
            };
            db.execute_unprepared(&format!(
                "UPDATE meeting_events SET {number} = \
                 (SELECT COUNT(*) FROM meeting_events earlier \
                  WHERE earlier.meeting_id = meeting_events.meeting_id \
                  AND earlier.sequence <= meeting_events.sequence AND {received})"
            ))
            .await?;
            db.execute_unprepared(&format!(
                "UPDATE meetings SET {counter} = COALESCE((SELECT MAX(e.{number}) \
                 FROM meeting_events e WHERE e.meeting_id = meetings.id), 0)"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (counter, number, _) in NUMBERINGS {
            manager
                .alter_table(
                    Table::alter()
                        .table(MeetingEvents::Table)
                        .drop_column(number)
                        .to_owned(),
                )
                .await?;
            manager
                .alter_table(
                    Table::alter()
                        .table(Meetings::Table)
                        .drop_column(counter)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Meetings {
    Table,
    LastSharedSequence,
    LastManagerSequence,
    LastReportSequence,
}

#[derive(DeriveIden, Clone, Copy)]
enum MeetingEvents {
    Table,
    SharedSequence,
    ManagerSequence,
    ReportSequence,
}
