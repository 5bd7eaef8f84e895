//! Event numbers reveal nobody's private activity: each reader's numbering counts only the
//! events that reader receives, so the other participant, an API token and a webhook each see
//! an unbroken run, while the author's own run includes their private events. Resuming from
//! any number of one's own misses nothing and repeats nothing.

use std::time::Duration;

use serde_json::{Value, json};
use tete_tests::{Session, TestApp, spawn_app, spawn_app_with};

use crate::{
    api_tokens::{ALL_SCOPES, create_token},
    support::{Pair, add_item, create_note, day, mutate, pair, schedule, submit_check_in},
    webhooks::{CREATE, Receiver},
    ws::{Ws, kinds, sequences},
};

/// The kinds each reader receives from [`interleave`], in order.
struct Received {
    max: Vec<&'static str>,
    bob: Vec<&'static str>,
    shared: Vec<&'static str>,
}

/// Shared and private changes by both participants, interleaved.
async fn interleave(app: &TestApp, pair: &Pair, meeting_id: &str) -> Received {
    add_item(app, &pair.manager, meeting_id, "Max's topic").await;
    let bobs = create_note(app, &pair.report, meeting_id, "PRIVATE", "Bob's own").await;
    create_note(app, &pair.manager, meeting_id, "PRIVATE", "Max's own").await;
    add_item(app, &pair.report, meeting_id, "Bob's topic").await;
    submit_check_in(app, &pair.report, meeting_id, 2, false).await;
    create_note(app, &pair.manager, meeting_id, "SHARED", "Shared").await;
    mutate(
        app,
        &pair.report,
        "updateNote",
        "UpdateNoteInput",
        json!({ "noteId": bobs, "body": "Bob's own, again", "expectedVersion": 1 }),
        "note { id }",
    )
    .await;
    add_item(app, &pair.report, meeting_id, "Last topic").await;
    Received {
        // His topic, his own private note, Bob's topic, the shared note, the last topic.
        max: vec![
            "AGENDA_ITEM_ADDED",
            "NOTE_CREATED",
            "AGENDA_ITEM_ADDED",
            "NOTE_CREATED",
            "AGENDA_ITEM_ADDED",
        ],
        // Max's topic, his own private note, his topic, his private check-in, the shared note,
        // his private note again, the last topic.
        bob: vec![
            "AGENDA_ITEM_ADDED",
            "NOTE_CREATED",
            "AGENDA_ITEM_ADDED",
            "CHECK_IN_SUBMITTED",
            "NOTE_CREATED",
            "NOTE_UPDATED",
            "AGENDA_ITEM_ADDED",
        ],
        shared: vec![
            "AGENDA_ITEM_ADDED",
            "AGENDA_ITEM_ADDED",
            "NOTE_CREATED",
            "AGENDA_ITEM_ADDED",
        ],
    }
}

/// Every kind of event, for a webhook that wants them all.
const EVERY_KIND: [&str; 16] = [
    "MEETING_UPDATED",
    "MEETING_STARTED",
    "MEETING_ENDED",
    "AGENDA_ITEM_ADDED",
    "AGENDA_ITEM_UPDATED",
    "AGENDA_ITEM_MOVED",
    "AGENDA_ITEM_REMOVED",
    "CURRENT_TOPIC_CHANGED",
    "NOTE_CREATED",
    "NOTE_UPDATED",
    "NOTE_DELETED",
    "ACTION_ITEM_CREATED",
    "ACTION_ITEM_UPDATED",
    "CHECK_IN_SUBMITTED",
    "PARTICIPANT_JOINED",
    "PARTICIPANT_LEFT",
];

/// Every event the holder of `token` receives after `after`, up to the last topic, from a
/// fresh subscription.
async fn replay(app: &TestApp, token: &str, meeting_id: &str, after: i64) -> Vec<Value> {
    let mut ws = Ws::open(app, token).await;
    ws.subscribe("1", meeting_id, Some(after)).await;
    let events = ws
        .events_until("1", |event| event["agendaItem"]["title"] == "Last topic")
        .await;
    ws.close().await;
    events
}

fn assert_unbroken(events: &[Value], first: i64, who: &str) {
    let expected: Vec<i64> = (first..first + events.len() as i64).collect();
    assert_eq!(sequences(events), expected, "{who}'s numbers: {events:#?}");
}

async fn following(app: &TestApp, who: &Session, meeting_id: &str) -> (Ws, i64) {
    let mut ws = Ws::open(app, &who.access_token).await;
    ws.subscribe("1", meeting_id, None).await;
    let joined = ws.event("1").await;
    (ws, joined["sequence"].as_i64().expect("a sequence"))
}

#[tokio::test]
async fn private_activity_leaves_no_gap_for_the_other_participant_a_token_or_a_webhook() {
    let app = spawn_app_with(|config| config.webhook_allow_private = true).await;
    let pair = pair(&app).await;
    let receiver = Receiver::start(&[]).await;
    app.ok(
        CREATE,
        json!({ "input": { "url": receiver.url, "events": EVERY_KIND } }),
        Some(&pair.admin.access_token),
    )
    .await;
    let meeting_id = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    let (mut max, max_joined) = following(&app, &pair.manager, &meeting_id).await;
    let (mut bob, bob_joined) = following(&app, &pair.report, &meeting_id).await;
    assert_eq!(
        max.event("1").await["sequence"],
        max_joined + 1,
        "Bob's joining"
    );

    let received = interleave(&app, &pair, &meeting_id).await;
    let maxs = max.events("1", received.max.len()).await;
    assert_eq!(kinds(&maxs), received.max);
    assert_unbroken(&maxs, bob_joined + 1, "Max");
    let bobs = bob.events("1", received.bob.len()).await;
    assert_eq!(kinds(&bobs), received.bob);
    assert_unbroken(&bobs, bob_joined + 1, "Bob");

    // Scheduled, Max and Bob joined, then the shared changes: what neither private side shows.
    let mut shared = vec![
        "MEETING_UPDATED",
        "PARTICIPANT_JOINED",
        "PARTICIPANT_JOINED",
    ];
    shared.extend(&received.shared);

    // An integration of Bob's receives shared events only, numbered among themselves.
    let token = create_token(&app, &pair.report, "Sync", &ALL_SCOPES).await;
    let tokens = replay(&app, &token.secret, &meeting_id, 0).await;
    assert_eq!(kinds(&tokens), shared);
    assert_unbroken(&tokens, 1, "the token");

    // The webhook's deliveries: the shared events' numbers, without a gap.
    let requests = receiver
        .wait_for(shared.len(), Duration::from_secs(10))
        .await;
    let mut delivered: Vec<(i64, String)> = requests
        .iter()
        .map(|request| {
            let body: Value = serde_json::from_str(&request.body).expect("a JSON body");
            let sequence = body["sequence"].as_i64().expect("a sequence");
            (
                sequence,
                body["event"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    delivered.sort();
    delivered.truncate(shared.len());
    let expected: Vec<(i64, String)> = (1..)
        .zip(shared.iter().map(|kind| (*kind).to_owned()))
        .collect();
    assert_eq!(delivered, expected);
}

#[tokio::test]
async fn each_participant_resumes_from_their_own_numbers_missing_nothing() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let meeting_id = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    let received = interleave(&app, &pair, &meeting_id).await;
    for (who, own) in [
        (&pair.manager, &received.max),
        (&pair.report, &received.bob),
    ] {
        let mut expected = vec!["MEETING_UPDATED"];
        expected.extend(own);
        let all = replay(&app, &who.access_token, &meeting_id, 0).await;
        assert_eq!(kinds(&all), expected);
        assert_unbroken(&all, 1, &who.user_id);
        // From every point of the run before its end: the rest of it, exactly.
        for cut in 0..all.len() - 1 {
            let after = all[cut]["sequence"].as_i64().expect("a sequence");
            let rest = replay(&app, &who.access_token, &meeting_id, after).await;
            assert_eq!(
                rest,
                all[cut + 1..].to_vec(),
                "{} after {after}",
                who.user_id
            );
        }
    }
}

/// Every event's numbers, in the meeting's order.
async fn stored_numbers(app: &TestApp) -> Vec<(i32, i32, i32, i32)> {
    use sea_orm::{EntityTrait, QueryOrder};
    entity::meeting_event::Entity::find()
        .order_by_asc(entity::meeting_event::Column::Sequence)
        .all(&app.state.store.db)
        .await
        .expect("the events")
        .into_iter()
        .map(|event| {
            (
                event.sequence,
                event.shared_sequence,
                event.manager_sequence,
                event.report_sequence,
            )
        })
        .collect()
}

#[tokio::test]
async fn the_migration_numbers_stored_events_as_recording_does() {
    use migration::MigratorTrait;
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let meeting_id = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    interleave(&app, &pair, &meeting_id).await;
    let recorded = stored_numbers(&app).await;
    assert!(
        recorded
            .iter()
            .any(|(_, shared, manager, report)| shared != manager || manager != report)
    );
    // Undo the numbering migration (its columns go) and apply it again over the stored events.
    let db = &app.state.store.db;
    migration::Migrator::down(db, Some(1))
        .await
        .expect("the migration goes down");
    migration::Migrator::up(db, None)
        .await
        .expect("and up again");
    assert_eq!(stored_numbers(&app).await, recorded);
    // The counters too: the next event continues every numbering.
    add_item(&app, &pair.report, &meeting_id, "After the migration").await;
    let (sequence, shared, manager, report) = *stored_numbers(&app).await.last().expect("an event");
    let (last, last_shared, last_manager, last_report) = *recorded.last().expect("an event");
    assert_eq!(
        (sequence, shared, manager, report),
        (last + 1, last_shared + 1, last_manager + 1, last_report + 1)
    );
}
