//! A realistic organisation, written straight into the database the server has migrated:
//! through the API, 50,000+ rows would take longer than the benchmark itself. Rows are built the
//! way `api/src/domain` builds them (UUID v7 ids, active series, gap-free event sequences with
//! `last_event_sequence` matching, private note bodies sealed with the server's data key), and
//! inserted in a few transactions of multi-row INSERTs.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use chrono::{DateTime, Duration as Span, DurationRound, Utc};
use entity::{
    action_item, agenda_item, check_in,
    enums::{MeetingStatus, NoteVisibility, TopicCategory},
    meeting,
    meeting_event::{self, MeetingEventKind},
    note, one_on_one, organization,
    user::{self, Role},
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectOptions, Database, DatabaseConnection, EntityTrait,
    TransactionTrait,
};
use secrecy::SecretBox;
use tete_api::{
    auth::password,
    domain::{crypto, ordering, series as series_defaults},
    ids::{self, NodeKind},
};
use uuid::Uuid;

/// Every seeded user's password.
pub const PASSWORD: &str = "benchmark password 0123";
/// Rows per INSERT: 500 rows of the widest table stay far below PostgreSQL's 65,535 bind
/// parameters.
const CHUNK: usize = 500;

const FIRST_NAMES: [&str; 20] = [
    "Ada", "Ben", "Chloé", "Dmitri", "Elif", "Farah", "Gus", "Hana", "Ines", "Jonas", "Kai",
    "Lena", "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Yuki",
];
const LAST_NAMES: [&str; 10] = [
    "Okafor", "Müller", "Nguyen", "García", "Kowalski", "Tanaka", "Dubois", "Silva", "Larsen",
    "Haddad",
];
const TOPICS: [&str; 10] = [
    "Quarterly priorities",
    "Progress on the migration project",
    "Conference talk proposal",
    "Workload and focus time",
    "Feedback on the design review",
    "On-call rotation",
    "Career path: staff engineer",
    "Hiring loop for the new role",
    "Blockers from the platform team",
    "Holiday plans",
];
const CATEGORIES: [TopicCategory; 6] = [
    TopicCategory::Priorities,
    TopicCategory::Progress,
    TopicCategory::Development,
    TopicCategory::Wellbeing,
    TopicCategory::Feedback,
    TopicCategory::Other,
];

/// How big the organisation is.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub users: usize,
    pub managers: usize,
    pub reports_per_manager: usize,
    pub meetings_per_series: usize,
    pub agenda_per_meeting: usize,
}

#[derive(Debug, Clone)]
pub struct Person {
    pub id: Uuid,
    pub email: String,
}

/// A meeting's global id and what a writer needs to change it.
#[derive(Debug, Clone)]
pub struct MeetingRef {
    pub id: Uuid,
    pub global_id: String,
    pub shared_notes: Vec<String>,
    pub action_items: Vec<String>,
}

/// One reporting line: its two people and its meetings, oldest first (the last is upcoming).
#[derive(Debug, Clone)]
pub struct Series {
    pub id: Uuid,
    pub manager: Person,
    pub report: Person,
    pub meetings: Vec<MeetingRef>,
}

impl Series {
    /// The upcoming (SCHEDULED) meeting.
    pub fn upcoming(&self) -> &MeetingRef {
        self.meetings.last().expect("every series has meetings")
    }
}

pub struct Seeded {
    pub series: Vec<Series>,
    /// Meetings of the first series with 5 and with 50 agenda items.
    pub small: MeetingRef,
    pub large: MeetingRef,
    pub rows: Vec<(&'static str, usize)>,
    pub elapsed: Duration,
}

/// Opens a connection of the bench's own to the server's database.
pub async fn connect(url: &str) -> Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options.max_connections(2).sqlx_logging(false);
    Ok(Database::connect(options).await?)
}

/// Builds and inserts the organisation.
pub async fn seed(
    db: &DatabaseConnection,
    sizes: Sizes,
    data_key: &SecretBox<[u8; 32]>,
) -> Result<Seeded> {
    let started = Instant::now();
    let needed = 1 + sizes.managers * (1 + sizes.reports_per_manager);
    if sizes.users < needed || sizes.meetings_per_series < 1 || sizes.managers < 1 {
        bail!("{sizes:?} needs at least {needed} users and one meeting per series");
    }
    let password_hash = password::hash(PASSWORD.to_owned())
        .await
        .map_err(|error| anyhow::anyhow!("hashing the password: {error:?}"))?;
    let mut rows = Rows::new(data_key, password_hash);
    let series = rows.organisation(sizes);
    let first = &series[0];
    let far = rows.now + Span::days(30);
    let small = rows.meeting(first, Plan::extra(5), far, 0);
    let large = rows.meeting(first, Plan::extra(50), far + Span::days(7), 1);
    let counts = rows.counts();
    rows.insert(db).await?;
    Ok(Seeded {
        series,
        small,
        large,
        rows: counts,
        elapsed: started.elapsed(),
    })
}

/// What one meeting holds.
struct Plan {
    upcoming: bool,
    agenda: usize,
    shared_notes: usize,
    private_note: bool,
    action_items: usize,
    /// How many of the action items are still open.
    open_action_items: usize,
    /// (mood, shared with the manager)
    check_in: Option<(i32, bool)>,
}

impl Plan {
    /// A meeting of a series' history (`index` counts from the oldest; the last one is upcoming).
    fn regular(sizes: Sizes, series: usize, index: usize) -> Self {
        let upcoming = index + 1 == sizes.meetings_per_series;
        let action_items = 2 + usize::from(index.is_multiple_of(2));
        // Past items are done, except one from each of the two most recent past meetings.
        let recent = index + 3 >= sizes.meetings_per_series;
        Self {
            upcoming,
            agenda: sizes.agenda_per_meeting,
            shared_notes: 2,
            private_note: index.is_multiple_of(2),
            action_items,
            open_action_items: if upcoming {
                action_items
            } else {
                usize::from(recent)
            },
            check_in: index
                .is_multiple_of(3)
                .then(|| (1 + ((series + index) % 5) as i32, index % 6 != 3)),
        }
    }

    /// An extra upcoming meeting with `agenda` items and content in proportion.
    fn extra(agenda: usize) -> Self {
        Self {
            upcoming: true,
            agenda,
            shared_notes: agenda / 5 + 1,
            private_note: true,
            action_items: agenda / 5 + 1,
            open_action_items: agenda / 5 + 1,
            check_in: Some((4, true)),
        }
    }
}

/// Every row to insert, built in memory first.
struct Rows<'k> {
    data_key: &'k SecretBox<[u8; 32]>,
    password_hash: String,
    now: DateTime<Utc>,
    organization_id: Uuid,
    organizations: Vec<organization::ActiveModel>,
    users: Vec<user::ActiveModel>,
    series: Vec<one_on_one::ActiveModel>,
    meetings: Vec<meeting::ActiveModel>,
    agenda: Vec<agenda_item::ActiveModel>,
    notes: Vec<note::ActiveModel>,
    action_items: Vec<action_item::ActiveModel>,
    check_ins: Vec<check_in::ActiveModel>,
    events: Vec<meeting_event::ActiveModel>,
}

/// The events of one meeting being built, numbered from 1 without gaps.
struct EventLog {
    meeting_id: Uuid,
    sequence: i32,
    events: Vec<meeting_event::ActiveModel>,
}

impl EventLog {
    fn push(
        &mut self,
        kind: MeetingEventKind,
        actor: Uuid,
        at: DateTime<Utc>,
        fill: impl FnOnce(&mut meeting_event::ActiveModel),
    ) {
        self.sequence += 1;
        let mut event = meeting_event::ActiveModel {
            id: Set(Uuid::now_v7()),
            meeting_id: Set(self.meeting_id),
            sequence: Set(self.sequence),
            // Every seeded event is shared: each reader's numbering is the meeting's.
            shared_sequence: Set(self.sequence),
            manager_sequence: Set(self.sequence),
            report_sequence: Set(self.sequence),
            kind: Set(kind),
            actor_id: Set(Some(actor)),
            agenda_item_id: Set(None),
            note_id: Set(None),
            action_item_id: Set(None),
            check_in_id: Set(None),
            participant_id: Set(None),
            removed_id: Set(None),
            private_to: Set(None),
            occurred_at: Set(at),
        };
        fill(&mut event);
        self.events.push(event);
    }
}

impl<'k> Rows<'k> {
    fn new(data_key: &'k SecretBox<[u8; 32]>, password_hash: String) -> Self {
        let now = Utc::now()
            .duration_trunc(Span::seconds(1))
            .unwrap_or_else(|_| Utc::now());
        Self {
            data_key,
            password_hash,
            now,
            organization_id: Uuid::now_v7(),
            organizations: Vec::new(),
            users: Vec::new(),
            series: Vec::new(),
            meetings: Vec::new(),
            agenda: Vec::new(),
            notes: Vec::new(),
            action_items: Vec::new(),
            check_ins: Vec::new(),
            events: Vec::new(),
        }
    }

    /// The organisation, its people, and every series with its history.
    fn organisation(&mut self, sizes: Sizes) -> Vec<Series> {
        self.organizations.push(organization::ActiveModel {
            id: Set(self.organization_id),
            name: Set("Bench Corp".into()),
            created_at: Set(self.now - Span::days(400)),
        });
        self.user("admin@bench.example".into(), Role::Admin, None);
        let managers: Vec<Person> = (0..sizes.managers)
            .map(|m| self.user(format!("manager{m}@bench.example"), Role::Member, None))
            .collect();
        let others = sizes.users - 1 - sizes.managers * (1 + sizes.reports_per_manager);
        for k in 0..others {
            self.user(format!("member{k}@bench.example"), Role::Member, None);
        }
        // Report r of every manager before report r + 1 of any, so the first series have
        // different managers.
        let mut all = Vec::new();
        for r in 0..sizes.reports_per_manager {
            for (m, manager) in managers.iter().enumerate() {
                let report = self.user(
                    format!("report{m}-{r}@bench.example"),
                    Role::Member,
                    Some(manager.id),
                );
                all.push(self.one_on_one(sizes, manager.clone(), report));
            }
        }
        all
    }

    fn user(&mut self, email: String, role: Role, manager_id: Option<Uuid>) -> Person {
        let n = self.users.len();
        let id = Uuid::now_v7();
        self.users.push(user::ActiveModel {
            id: Set(id),
            organization_id: Set(self.organization_id),
            email: Set(email.clone()),
            display_name: Set(format!(
                "{} {}",
                FIRST_NAMES[n % FIRST_NAMES.len()],
                LAST_NAMES[(n / FIRST_NAMES.len()) % LAST_NAMES.len()]
            )),
            password_hash: Set(self.password_hash.clone()),
            role: Set(role),
            time_zone: Set("UTC".into()),
            manager_id: Set(manager_id),
            token_version: Set(0),
            deactivated_at: Set(None),
            created_at: Set(self.now - Span::days(365)),
            calendar_feed_salt: Set(None),
        });
        Person { id, email }
    }

    /// A series as `series::start` makes it, with a weekly history ending in an upcoming meeting.
    fn one_on_one(&mut self, sizes: Sizes, manager: Person, report: Person) -> Series {
        let index = self.series.len();
        let id = Uuid::now_v7();
        self.series.push(one_on_one::ActiveModel {
            id: Set(id),
            organization_id: Set(self.organization_id),
            manager_id: Set(manager.id),
            report_id: Set(report.id),
            cadence: Set(series_defaults::DEFAULT_CADENCE),
            default_format: Set(series_defaults::DEFAULT_FORMAT),
            default_duration_minutes: Set(series_defaults::DEFAULT_DURATION_MINUTES),
            lead: Set(series_defaults::DEFAULT_LEAD),
            archived_at: Set(None),
            created_at: Set(self.now - Span::days(300)),
        });
        let mut series = Series {
            id,
            manager,
            report,
            meetings: Vec::new(),
        };
        // The upcoming meeting is in 1 to 5 days; the others a week apart before it.
        let upcoming = self.now + Span::days(1 + (index % 5) as i64) + Span::hours(1);
        let last = sizes.meetings_per_series - 1;
        for i in 0..sizes.meetings_per_series {
            let at = upcoming - Span::weeks((last - i) as i64);
            let meeting = self.meeting(&series, Plan::regular(sizes, index, i), at, index + i);
            series.meetings.push(meeting);
        }
        series
    }

    /// One meeting with its agenda, notes, action items, check-in and event log.
    fn meeting(
        &mut self,
        series: &Series,
        plan: Plan,
        at: DateTime<Utc>,
        salt: usize,
    ) -> MeetingRef {
        let (manager, report) = (series.manager.id, series.report.id);
        let id = Uuid::now_v7();
        let series_id = series.id;
        let mut log = EventLog {
            meeting_id: id,
            sequence: 0,
            events: Vec::new(),
        };
        let created = at - Span::days(7);
        log.push(MeetingEventKind::MeetingUpdated, manager, created, |_| {});
        let author = |k: usize| if k.is_multiple_of(2) { report } else { manager };

        for (k, position) in ordering::spread(plan.agenda).into_iter().enumerate() {
            let item = Uuid::now_v7();
            let added = created + Span::minutes(k as i64);
            self.agenda.push(agenda_item::ActiveModel {
                id: Set(item),
                meeting_id: Set(id),
                author_id: Set(author(k)),
                title: Set(TOPICS[(k + salt) % TOPICS.len()].into()),
                description: Set((k % 3 == 0).then(|| {
                    "Context and links for this topic, so we can go straight to it.".into()
                })),
                category: Set(CATEGORIES[(k + salt) % CATEGORIES.len()]),
                position: Set(position),
                discussed_at: Set((!plan.upcoming).then(|| at + Span::minutes(2 * k as i64))),
                carried_over_from_id: Set(None),
                created_at: Set(added),
            });
            log.push(MeetingEventKind::AgendaItemAdded, author(k), added, |e| {
                e.agenda_item_id = Set(Some(item));
            });
        }
        if let Some((mood, shared)) = plan.check_in {
            let check_in = Uuid::now_v7();
            let submitted = at - Span::hours(2);
            self.check_ins.push(check_in::ActiveModel {
                id: Set(check_in),
                meeting_id: Set(id),
                author_id: Set(report),
                mood: Set(mood),
                comment: Set((mood <= 2).then(|| "A heavy week, happy to talk about it.".into())),
                shared_with_manager: Set(shared),
                created_at: Set(submitted),
            });
            log.push(MeetingEventKind::CheckInSubmitted, report, submitted, |e| {
                e.check_in_id = Set(Some(check_in));
                e.private_to = Set((!shared).then_some(report));
            });
        }
        if !plan.upcoming {
            log.push(MeetingEventKind::MeetingStarted, manager, at, |_| {});
        }
        let written = if plan.upcoming {
            created + Span::hours(1)
        } else {
            at
        };
        let mut shared_notes = Vec::new();
        for k in 0..plan.shared_notes {
            let note_id = self.note(id, author(k + 1), NoteVisibility::Shared, written);
            log.push(MeetingEventKind::NoteCreated, author(k + 1), written, |e| {
                e.note_id = Set(Some(note_id));
            });
            shared_notes.push(ids::encode(NodeKind::Note, note_id).0);
        }
        if plan.private_note {
            let note_id = self.note(id, manager, NoteVisibility::Private, written);
            log.push(MeetingEventKind::NoteCreated, manager, written, |e| {
                e.note_id = Set(Some(note_id));
                e.private_to = Set(Some(manager));
            });
        }
        let mut action_items = Vec::new();
        for k in 0..plan.action_items {
            let item = Uuid::now_v7();
            let done = k >= plan.open_action_items;
            self.action_items.push(action_item::ActiveModel {
                id: Set(item),
                one_on_one_id: Set(series_id),
                meeting_id: Set(Some(id)),
                assignee_id: Set(author(k)),
                created_by_id: Set(author(k + 1)),
                title: Set(format!("Follow up: {}", TOPICS[(k + salt) % TOPICS.len()])),
                due_on: Set(Some((at + Span::days(7)).date_naive())),
                completed_at: Set(done.then(|| at + Span::days(3))),
                created_at: Set(written),
            });
            log.push(
                MeetingEventKind::ActionItemCreated,
                author(k + 1),
                written,
                |e| {
                    e.action_item_id = Set(Some(item));
                },
            );
            action_items.push(ids::encode(NodeKind::ActionItem, item).0);
        }
        let ended = at + Span::minutes(30);
        if !plan.upcoming {
            log.push(MeetingEventKind::MeetingEnded, manager, ended, |_| {});
        }
        self.meetings.push(meeting::ActiveModel {
            id: Set(id),
            one_on_one_id: Set(series_id),
            scheduled_at: Set(at),
            duration_minutes: Set(series_defaults::DEFAULT_DURATION_MINUTES),
            format: Set(series_defaults::DEFAULT_FORMAT),
            location: Set(None),
            status: Set(if plan.upcoming {
                MeetingStatus::Scheduled
            } else {
                MeetingStatus::Completed
            }),
            started_at: Set((!plan.upcoming).then_some(at)),
            ended_at: Set((!plan.upcoming).then_some(ended)),
            current_topic_id: Set(None),
            created_at: Set(created),
            last_event_sequence: Set(log.sequence),
            last_shared_sequence: Set(log.sequence),
            last_manager_sequence: Set(log.sequence),
            last_report_sequence: Set(log.sequence),
        });
        self.events.append(&mut log.events);
        MeetingRef {
            id,
            global_id: ids::encode(NodeKind::Meeting, id).0,
            shared_notes,
            action_items,
        }
    }

    fn note(
        &mut self,
        meeting_id: Uuid,
        author: Uuid,
        visibility: NoteVisibility,
        at: DateTime<Utc>,
    ) -> Uuid {
        let id = Uuid::now_v7();
        let text = "- Agreed on the next steps\n- **Owner** picks up the open question\n- Revisit \
                    in two weeks if nothing moved";
        let (body, sealed_body) = match visibility {
            NoteVisibility::Shared => (Some(text.to_owned()), None),
            // Sealing cannot fail with a valid key.
            NoteVisibility::Private => (
                None,
                crypto::seal(self.data_key, id, "Private: ask how the move is going").ok(),
            ),
        };
        self.notes.push(note::ActiveModel {
            id: Set(id),
            meeting_id: Set(meeting_id),
            author_id: Set(author),
            visibility: Set(visibility),
            body: Set(body),
            sealed_body: Set(sealed_body),
            version: Set(1),
            created_at: Set(at),
            updated_at: Set(at),
        });
        id
    }

    fn counts(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("users", self.users.len()),
            ("one_on_ones", self.series.len()),
            ("meetings", self.meetings.len()),
            ("agenda_items", self.agenda.len()),
            ("notes", self.notes.len()),
            ("action_items", self.action_items.len()),
            ("check_ins", self.check_ins.len()),
            ("meeting_events", self.events.len()),
        ]
    }

    /// Three transactions: people and series, meetings with their content, the event logs.
    async fn insert(self, db: &DatabaseConnection) -> Result<()> {
        let tx = db.begin().await?;
        insert_all(&tx, self.organizations).await?;
        insert_all(&tx, self.users).await?;
        insert_all(&tx, self.series).await?;
        tx.commit().await?;
        let tx = db.begin().await?;
        insert_all(&tx, self.meetings).await?;
        insert_all(&tx, self.agenda).await?;
        insert_all(&tx, self.notes).await?;
        insert_all(&tx, self.action_items).await?;
        insert_all(&tx, self.check_ins).await?;
        tx.commit().await?;
        let tx = db.begin().await?;
        insert_all(&tx, self.events).await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn insert_all<A>(conn: &sea_orm::DatabaseTransaction, rows: Vec<A>) -> Result<()>
where
    A: ActiveModelTrait + Send,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<A> = rows.by_ref().take(CHUNK).collect();
        A::Entity::insert_many(chunk)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}
