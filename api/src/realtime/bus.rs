//! The event bus: after a transaction that recorded meeting events commits, every server
//! instance learns which meetings have new events, and wakes their subscribers.
//!
//! One interface, [`EventTransport`], two implementations chosen by the store:
//! - [`LocalTransport`] (SQLite, one process): announces to this process after commit.
//! - [`PostgresTransport`]: `pg_notify` inside the writing transaction, so PostgreSQL delivers it
//!   on commit (never for a rolled-back change) to every instance's `LISTEN`, this one included.
//!
//! Announcements carry ids only; subscribers read the stored events.

use std::{sync::Arc, time::Duration};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement,
    sqlx::postgres::PgListener,
};
use uuid::Uuid;

use crate::graphql::loaders::UsersRead;

use super::{fanout::Fanout, presence::Presence, rechecks::SharedRechecks};

const CHANNEL: &str = "tete_meeting_events";
/// How long a user row read for live events serves every subscriber: a name changed meanwhile
/// shows a second late.
const LIVE_USERS_FRESH_FOR: Duration = Duration::from_secs(1);

/// "Meeting `meeting_id` has events up to `sequence`."
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announcement {
    pub meeting_id: Uuid,
    pub sequence: i32,
}

impl Announcement {
    fn encode(self) -> String {
        format!("{}:{}", self.meeting_id.simple(), self.sequence)
    }

    fn decode(payload: &str) -> Option<Self> {
        let (meeting, sequence) = payload.split_once(':')?;
        Some(Self {
            meeting_id: Uuid::try_parse(meeting).ok()?,
            sequence: sequence.parse().ok()?,
        })
    }
}

/// How announcements travel between the writing transaction and the subscribers.
#[async_trait::async_trait]
pub trait EventTransport: Send + Sync {
    /// Inside the transaction that recorded the event.
    async fn announce_in(
        &self,
        tx: &DatabaseTransaction,
        announcement: Announcement,
    ) -> Result<(), DbErr>;
    /// After that transaction committed.
    fn committed(&self, announcements: &[Announcement]);
}

/// One process: hand announcements straight to the local fan-out, after commit.
pub struct LocalTransport {
    fanout: Fanout,
}

#[async_trait::async_trait]
impl EventTransport for LocalTransport {
    async fn announce_in(&self, _: &DatabaseTransaction, _: Announcement) -> Result<(), DbErr> {
        Ok(())
    }

    fn committed(&self, announcements: &[Announcement]) {
        for announcement in announcements {
            self.fanout.announce(*announcement);
        }
    }
}

/// Several processes on one PostgreSQL database: `NOTIFY` on commit, `LISTEN` everywhere.
pub struct PostgresTransport;

#[async_trait::async_trait]
impl EventTransport for PostgresTransport {
    async fn announce_in(
        &self,
        tx: &DatabaseTransaction,
        announcement: Announcement,
    ) -> Result<(), DbErr> {
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), announcement.encode().into()],
        ))
        .await?;
        Ok(())
    }

    fn committed(&self, _: &[Announcement]) {
        // PostgreSQL delivers the notification to our own listener too.
    }
}

/// The bus of one server instance.
#[derive(Clone)]
pub struct EventBus {
    transport: Arc<dyn EventTransport>,
    pub fanout: Fanout,
    pub presence: Presence,
    /// Live subscriptions' periodic access checks, shared per person and meeting.
    pub rechecks: Arc<SharedRechecks>,
    /// Users as live events show them (authors, actors), read once for every subscriber.
    pub live_users: Arc<UsersRead>,
}

impl EventBus {
    /// Picks the transport for the store; on PostgreSQL starts this instance's listener.
    pub async fn start(db: &DatabaseConnection, database_url: &str) -> Result<Self, DbErr> {
        let fanout = Fanout::new(db.clone());
        let transport: Arc<dyn EventTransport> = match db.get_database_backend() {
            DbBackend::Postgres => {
                let listener = PgListener::connect(database_url)
                    .await
                    .map_err(|error| DbErr::Custom(format!("cannot LISTEN: {error}")))?;
                tokio::spawn(listen(database_url.to_owned(), listener, fanout.clone()));
                Arc::new(PostgresTransport)
            }
            _ => Arc::new(LocalTransport {
                fanout: fanout.clone(),
            }),
        };
        Ok(Self {
            transport,
            fanout,
            presence: Presence::default(),
            rechecks: Arc::default(),
            live_users: Arc::new(UsersRead::new(LIVE_USERS_FRESH_FOR)),
        })
    }

    pub async fn announce_in(
        &self,
        tx: &DatabaseTransaction,
        announcement: Announcement,
    ) -> Result<(), DbErr> {
        self.transport.announce_in(tx, announcement).await
    }

    pub fn committed(&self, announcements: &[Announcement]) {
        self.transport.committed(announcements);
    }
}

/// Forwards notifications to the fan-out for as long as the process lives. Notifications sent
/// while the listener is disconnected are lost, so after every reconnect each local subscriber
/// re-reads the stored events.
async fn listen(database_url: String, first: PgListener, fanout: Fanout) {
    let mut listener = Some(first);
    loop {
        let mut current = match listener.take() {
            Some(current) => current,
            // sqlx reconnects a listener by itself only for some failures (a closed socket, not a
            // reset one), so after any error it gets a new connection.
            None => match PgListener::connect(&database_url).await {
                Ok(fresh) => fresh,
                Err(error) => {
                    tracing::warn!(%error, "event listener cannot connect; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
        };
        if let Err(error) = current.listen(CHANNEL).await {
            tracing::warn!(%error, "LISTEN failed; reconnecting");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        fanout.resync_all();
        loop {
            match current.try_recv().await {
                Ok(Some(notification)) => {
                    if let Some(announcement) = Announcement::decode(notification.payload()) {
                        fanout.announce(announcement);
                    }
                }
                // The connection closed; the next call reconnects and listens again.
                Ok(None) => {
                    tracing::warn!("event listener lost its connection; reconnecting");
                    fanout.resync_all();
                }
                Err(error) => {
                    tracing::warn!(%error, "event listener failed; reconnecting");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcements_round_trip_and_stay_small() {
        let announcement = Announcement {
            meeting_id: Uuid::now_v7(),
            sequence: 42,
        };
        let payload = announcement.encode();
        assert!(payload.len() < 64);
        assert_eq!(Announcement::decode(&payload), Some(announcement));
        assert_eq!(Announcement::decode("garbage"), None);
    }
}
