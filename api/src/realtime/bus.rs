//! The event bus: after a transaction that recorded meeting events commits, every server
//! instance learns which meetings have new events, and wakes their subscribers; after one that
//! revoked credentials (an API token, a deactivated user), every instance closes the
//! connections that use them.
//!
//! One interface, [`EventTransport`], two implementations chosen by the store:
//! - [`LocalTransport`] (SQLite, one process): announces to this process after commit.
//! - [`PostgresTransport`]: `pg_notify` inside the writing transaction, so PostgreSQL delivers it
//!   on commit (never for a rolled-back change) to every instance's `LISTEN`, this one included.
//!
//! Notices carry ids only; subscribers read the stored events.

use std::{sync::Arc, time::Duration};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement,
    sqlx::postgres::PgListener,
};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::graphql::loaders::UsersRead;

use super::{fanout::Fanout, presence::Presence, rechecks::SharedRechecks};

const CHANNEL: &str = "tete_meeting_events";
const ACCESS_CHANNEL: &str = "tete_access_changes";
/// Access changes a connection may fall behind by; past that it checks its credentials again.
const ACCESS_CHANGES_BUFFERED: usize = 256;
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

/// "These credentials no longer work": connections opened with them close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessChange {
    /// The user was deactivated: every credential of theirs.
    User(Uuid),
    ApiToken(Uuid),
    /// Changes may have been missed (the listener reconnected): check credentials again.
    Unknown,
}

impl AccessChange {
    fn encode(self) -> String {
        match self {
            Self::User(id) => format!("user:{}", id.simple()),
            Self::ApiToken(id) => format!("token:{}", id.simple()),
            Self::Unknown => "unknown".into(),
        }
    }

    fn decode(payload: &str) -> Self {
        let id = |id: &str| Uuid::try_parse(id).ok();
        match payload.split_once(':') {
            Some(("user", user)) => id(user).map_or(Self::Unknown, Self::User),
            Some(("token", token)) => id(token).map_or(Self::Unknown, Self::ApiToken),
            _ => Self::Unknown,
        }
    }
}

/// What a committed transaction tells every instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Meeting(Announcement),
    Access(AccessChange),
}

impl Notice {
    fn channel_and_payload(self) -> (&'static str, String) {
        match self {
            Self::Meeting(announcement) => (CHANNEL, announcement.encode()),
            Self::Access(change) => (ACCESS_CHANNEL, change.encode()),
        }
    }
}

/// Where notices go once they arrive: the fan-out, or the connections' access watch.
#[derive(Clone)]
struct Receivers {
    fanout: Fanout,
    access: broadcast::Sender<AccessChange>,
}

impl Receivers {
    fn deliver(&self, notice: Notice) {
        match notice {
            Notice::Meeting(announcement) => self.fanout.announce(announcement),
            Notice::Access(change) => {
                // Nobody listening is fine: no connection uses those credentials here.
                let _ = self.access.send(change);
            }
        }
    }

    /// After notices may have been lost.
    fn resync(&self) {
        self.fanout.resync_all();
        let _ = self.access.send(AccessChange::Unknown);
    }
}

/// How notices travel between the writing transaction and the instances.
#[async_trait::async_trait]
pub trait EventTransport: Send + Sync {
    /// Inside the transaction that made the change.
    async fn announce_in(&self, tx: &DatabaseTransaction, notice: Notice) -> Result<(), DbErr>;
    /// After that transaction committed.
    fn committed(&self, notices: &[Notice]);
}

/// One process: hand notices straight to this process, after commit.
struct LocalTransport {
    receivers: Receivers,
}

#[async_trait::async_trait]
impl EventTransport for LocalTransport {
    async fn announce_in(&self, _: &DatabaseTransaction, _: Notice) -> Result<(), DbErr> {
        Ok(())
    }

    fn committed(&self, notices: &[Notice]) {
        for notice in notices {
            self.receivers.deliver(*notice);
        }
    }
}

/// Several processes on one PostgreSQL database: `NOTIFY` on commit, `LISTEN` everywhere.
struct PostgresTransport;

#[async_trait::async_trait]
impl EventTransport for PostgresTransport {
    async fn announce_in(&self, tx: &DatabaseTransaction, notice: Notice) -> Result<(), DbErr> {
        let (channel, payload) = notice.channel_and_payload();
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [channel.into(), payload.into()],
        ))
        .await?;
        Ok(())
    }

    fn committed(&self, _: &[Notice]) {
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
    access: broadcast::Sender<AccessChange>,
}

impl EventBus {
    /// Picks the transport for the store; on PostgreSQL starts this instance's listener.
    pub async fn start(db: &DatabaseConnection, database_url: &str) -> Result<Self, DbErr> {
        let fanout = Fanout::new(db.clone());
        let (access, _) = broadcast::channel(ACCESS_CHANGES_BUFFERED);
        let receivers = Receivers {
            fanout: fanout.clone(),
            access: access.clone(),
        };
        let transport: Arc<dyn EventTransport> = match db.get_database_backend() {
            DbBackend::Postgres => {
                let listener = PgListener::connect(database_url)
                    .await
                    .map_err(|error| DbErr::Custom(format!("cannot LISTEN: {error}")))?;
                tokio::spawn(listen(database_url.to_owned(), listener, receivers));
                Arc::new(PostgresTransport)
            }
            _ => Arc::new(LocalTransport { receivers }),
        };
        Ok(Self {
            transport,
            fanout,
            presence: Presence::default(),
            rechecks: Arc::default(),
            live_users: Arc::new(UsersRead::new(LIVE_USERS_FRESH_FOR)),
            access,
        })
    }

    pub async fn announce_in(&self, tx: &DatabaseTransaction, notice: Notice) -> Result<(), DbErr> {
        self.transport.announce_in(tx, notice).await
    }

    pub fn committed(&self, notices: &[Notice]) {
        self.transport.committed(notices);
    }

    /// Credentials revoked from now on, on any instance.
    pub fn access_changes(&self) -> broadcast::Receiver<AccessChange> {
        self.access.subscribe()
    }
}

/// Forwards notifications for as long as the process lives. Notifications sent while the
/// listener is disconnected are lost, so after every reconnect each local subscriber re-reads
/// the stored events and each connection checks its credentials again.
async fn listen(database_url: String, first: PgListener, receivers: Receivers) {
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
        if let Err(error) = current.listen_all([CHANNEL, ACCESS_CHANNEL]).await {
            tracing::warn!(%error, "LISTEN failed; reconnecting");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        receivers.resync();
        loop {
            match current.try_recv().await {
                Ok(Some(notification)) => {
                    let payload = notification.payload();
                    let notice = if notification.channel() == ACCESS_CHANNEL {
                        Some(Notice::Access(AccessChange::decode(payload)))
                    } else {
                        Announcement::decode(payload).map(Notice::Meeting)
                    };
                    if let Some(notice) = notice {
                        receivers.deliver(notice);
                    }
                }
                // The connection closed; the next call reconnects and listens again.
                Ok(None) => {
                    tracing::warn!("event listener lost its connection; reconnecting");
                    receivers.resync();
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

    #[test]
    fn access_changes_round_trip() {
        let id = Uuid::now_v7();
        for change in [
            AccessChange::User(id),
            AccessChange::ApiToken(id),
            AccessChange::Unknown,
        ] {
            assert_eq!(AccessChange::decode(&change.encode()), change);
        }
        assert_eq!(AccessChange::decode("user:nope"), AccessChange::Unknown);
    }
}
