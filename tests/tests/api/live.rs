//! Live meetings: `meetingEvents` over WebSocket delivers every change to both participants,
//! private changes to their author alone, resumes from a sequence without gap or duplicate,
//! announces who joins and leaves, refuses strangers, and works across server instances.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tete_tests::{Session, TestApp, error_code, spawn_app, spawn_app_with};

use crate::{
    support::{
        Pair, add_item, create_action_item, create_note, day, deactivate, end, mutate, pair,
        schedule, start, submit_check_in, wire,
    },
    ws::{Ended, Frame, LEGACY_WS, TRANSPORT_WS, WAIT, Ws, kinds, sequences},
};

/// Streams of a deactivated subscriber or an archived series end within this.
const END_WITHIN: Duration = Duration::from_secs(8);
/// Long enough for an event that should not come to have come.
const QUIET: Duration = Duration::from_millis(500);

async fn meeting_of(app: &TestApp) -> (Pair, String) {
    let pair = pair(app).await;
    let id = schedule(app, &pair.manager, &pair.series, day(1)).await;
    (pair, id)
}

/// Opens a socket for `who`, subscribes to the meeting as `"1"` and reads `who`'s own
/// `PARTICIPANT_JOINED`; returns the socket and that event's sequence.
async fn follow(app: &TestApp, who: &Session, meeting_id: &str) -> (Ws, i64) {
    let mut ws = Ws::open(app, &who.access_token).await;
    ws.subscribe("1", meeting_id, None).await;
    let joined = ws.event("1").await;
    assert_joined(&joined, who);
    (ws, joined["sequence"].as_i64().expect("a sequence"))
}

fn assert_joined(event: &Value, who: &Session) {
    assert_eq!(event["kind"], "PARTICIPANT_JOINED", "{event}");
    assert_eq!(event["participant"]["id"], who.user_id.as_str(), "{event}");
}

/// Asserts the events' kinds and that their sequences run on from `after` without a hole.
fn assert_run(events: &[Value], after: i64, expected: &[&str]) {
    assert_eq!(kinds(events), expected, "{events:#?}");
    let run: Vec<i64> = (after + 1..=after + events.len() as i64).collect();
    assert_eq!(sequences(events), run, "{events:#?}");
}

fn title_is(title: &'static str) -> impl Fn(&Value) -> bool {
    move |event| event["kind"] == "AGENDA_ITEM_ADDED" && event["agendaItem"]["title"] == title
}

/// Asserts `received` is exactly `first..=last`: in order, with no gap and no duplicate.
fn assert_contiguous(received: &[i64], first: i64, last: i64) {
    let expected: Vec<i64> = (first..=last).collect();
    if received != expected {
        let mut seen = std::collections::BTreeMap::<i64, usize>::new();
        for sequence in received {
            *seen.entry(*sequence).or_default() += 1;
        }
        let duplicates: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
        let missing: Vec<_> = expected.iter().filter(|s| !seen.contains_key(s)).collect();
        panic!(
            "expected {first}..={last} once each, in order; duplicates {duplicates:?}, \
             missing {missing:?}, received {received:?}"
        );
    }
}

/// The titles of the `AGENDA_ITEM_ADDED` events, in order.
fn added_titles(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|event| event["kind"] == "AGENDA_ITEM_ADDED")
        .map(|event| {
            event["agendaItem"]["title"]
                .as_str()
                .unwrap_or("?")
                .to_owned()
        })
        .collect()
}

async fn set_manager(app: &TestApp, admin: &Session, user_id: &str, manager_id: &str) {
    mutate(
        app,
        admin,
        "setManager",
        "SetManagerInput",
        json!({ "userId": user_id, "managerId": manager_id }),
        "user { id }",
    )
    .await;
}

#[tokio::test]
async fn a_change_reaches_the_other_participant_within_a_second() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let (mut max, _) = follow(&app, &pair.manager, &meeting_id).await;
    let (_bob, _) = follow(&app, &pair.report, &meeting_id).await;
    assert_joined(&max.event("1").await, &pair.report);

    let sent = Instant::now();
    let item = add_item(&app, &pair.report, &meeting_id, "Roadmap").await;
    let event = max.event("1").await;
    let elapsed = sent.elapsed();
    assert_eq!(event["kind"], "AGENDA_ITEM_ADDED", "{event}");
    assert_eq!(event["agendaItem"]["id"], item.as_str());
    assert_eq!(event["agendaItem"]["title"], "Roadmap");
    assert_eq!(event["actor"]["id"], pair.report.user_id.as_str());
    assert_eq!(event["meeting"]["id"], meeting_id.as_str());
    assert!(
        elapsed < Duration::from_secs(1),
        "the change took {elapsed:?} to arrive"
    );
}

#[tokio::test]
async fn agenda_changes_produce_their_event_kinds() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let bob = &pair.report;
    // From the start: scheduling the meeting was its first event.
    let mut max = Ws::open(&app, &pair.manager.access_token).await;
    max.subscribe("1", &meeting_id, Some(0)).await;
    let opening = max.events("1", 2).await;
    assert_run(&opening, 0, &["MEETING_UPDATED", "PARTICIPANT_JOINED"]);
    assert_eq!(opening[0]["actor"]["id"], pair.manager.user_id.as_str());
    assert_eq!(opening[0]["meeting"]["id"], meeting_id.as_str());
    assert_joined(&opening[1], &pair.manager);

    mutate(
        &app,
        bob,
        "rescheduleMeeting",
        "RescheduleMeetingInput",
        json!({ "meetingId": meeting_id, "scheduledAt": wire(day(2)) }),
        "meeting { id }",
    )
    .await;
    let rescheduled = max.event("1").await;
    let first = add_item(&app, bob, &meeting_id, "First").await;
    let added_first = max.event("1").await;
    let second = add_item(&app, bob, &meeting_id, "Second").await;
    let added_second = max.event("1").await;
    mutate(
        &app,
        bob,
        "updateAgendaItem",
        "UpdateAgendaItemInput",
        json!({ "agendaItemId": first, "title": "First, edited" }),
        "agendaItem { id }",
    )
    .await;
    let updated = max.event("1").await;
    mutate(
        &app,
        bob,
        "setAgendaItemDiscussed",
        "SetAgendaItemDiscussedInput",
        json!({ "agendaItemId": first, "discussed": true }),
        "agendaItem { id }",
    )
    .await;
    let discussed = max.event("1").await;
    mutate(
        &app,
        bob,
        "moveAgendaItem",
        "MoveAgendaItemInput",
        json!({ "agendaItemId": second, "afterAgendaItemId": null }),
        "meeting { id }",
    )
    .await;
    let moved = max.event("1").await;
    mutate(
        &app,
        bob,
        "setCurrentTopic",
        "SetCurrentTopicInput",
        json!({ "meetingId": meeting_id, "agendaItemId": second }),
        "meeting { id }",
    )
    .await;
    let topic = max.event("1").await;
    mutate(
        &app,
        bob,
        "removeAgendaItem",
        "RemoveAgendaItemInput",
        json!({ "agendaItemId": first }),
        "removedAgendaItemId",
    )
    .await;
    let removed = max.event("1").await;

    let events = [
        rescheduled,
        added_first,
        added_second,
        updated,
        discussed,
        moved,
        topic,
        removed,
    ];
    assert_run(
        &events,
        2,
        &[
            "MEETING_UPDATED",
            "AGENDA_ITEM_ADDED",
            "AGENDA_ITEM_ADDED",
            "AGENDA_ITEM_UPDATED",
            "AGENDA_ITEM_UPDATED",
            "AGENDA_ITEM_MOVED",
            "CURRENT_TOPIC_CHANGED",
            "AGENDA_ITEM_REMOVED",
        ],
    );
    for event in &events {
        assert_eq!(event["actor"]["id"], bob.user_id.as_str(), "{event}");
        assert_eq!(event["meeting"]["id"], meeting_id.as_str(), "{event}");
    }
    let [
        _,
        added_first,
        added_second,
        updated,
        discussed,
        moved,
        _,
        removed,
    ] = &events;
    assert_eq!(added_first["agendaItem"]["id"], first.as_str());
    assert_eq!(added_first["agendaItem"]["title"], "First");
    assert_eq!(updated["agendaItem"]["title"], "First, edited");
    assert_eq!(added_second["agendaItem"]["id"], second.as_str());
    assert_eq!(updated["agendaItem"]["id"], first.as_str());
    assert_eq!(discussed["agendaItem"]["id"], first.as_str());
    assert_eq!(moved["agendaItem"]["id"], second.as_str());
    // Read at delivery time: the removed item is gone, its id stays.
    assert_eq!(removed["removedId"], first.as_str());
    assert_eq!(removed["agendaItem"], Value::Null);
}

#[tokio::test]
async fn note_action_item_and_check_in_changes_produce_their_event_kinds() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let (bob, max) = (&pair.report, &pair.manager);
    let (mut ws, joined) = follow(&app, max, &meeting_id).await;

    let note = create_note(&app, bob, &meeting_id, "SHARED", "We agreed").await;
    let created = ws.event("1").await;
    mutate(
        &app,
        bob,
        "updateNote",
        "UpdateNoteInput",
        json!({ "noteId": note, "body": "We agreed, twice", "expectedVersion": 1 }),
        "note { id }",
    )
    .await;
    let updated = ws.event("1").await;
    mutate(
        &app,
        bob,
        "deleteNote",
        "DeleteNoteInput",
        json!({ "noteId": note }),
        "deletedNoteId",
    )
    .await;
    let deleted = ws.event("1").await;
    let action = create_action_item(&app, bob, &meeting_id, "Write the RFC", &bob.user_id).await;
    let action_created = ws.event("1").await;
    mutate(
        &app,
        bob,
        "updateActionItem",
        "UpdateActionItemInput",
        json!({ "actionItemId": action, "title": "Write the RFC, short" }),
        "actionItem { id }",
    )
    .await;
    let action_updated = ws.event("1").await;
    mutate(
        &app,
        bob,
        "setActionItemDone",
        "SetActionItemDoneInput",
        json!({ "actionItemId": action, "done": true }),
        "actionItem { id }",
    )
    .await;
    let action_done = ws.event("1").await;
    let check_in = submit_check_in(&app, bob, &meeting_id, 4, true).await;
    let checked_in = ws.event("1").await;

    let events = [
        created,
        updated,
        deleted,
        action_created,
        action_updated,
        action_done,
        checked_in,
    ];
    assert_run(
        &events,
        joined,
        &[
            "NOTE_CREATED",
            "NOTE_UPDATED",
            "NOTE_DELETED",
            "ACTION_ITEM_CREATED",
            "ACTION_ITEM_UPDATED",
            "ACTION_ITEM_UPDATED",
            "CHECK_IN_SUBMITTED",
        ],
    );
    for event in &events {
        assert_eq!(event["actor"]["id"], bob.user_id.as_str(), "{event}");
    }
    let [
        created,
        updated,
        deleted,
        action_created,
        action_updated,
        action_done,
        checked_in,
    ] = &events;
    // Nested objects are read at delivery time: the note was still there for the first two.
    for event in [created, updated] {
        assert_eq!(event["note"]["id"], note.as_str(), "{event}");
        assert_eq!(event["note"]["visibility"], "SHARED", "{event}");
    }
    assert_eq!(deleted["removedId"], note.as_str());
    assert_eq!(deleted["note"], Value::Null);
    for event in [action_created, action_updated, action_done] {
        assert_eq!(event["actionItem"]["id"], action.as_str(), "{event}");
    }
    assert_eq!(
        action_updated["actionItem"]["title"],
        "Write the RFC, short"
    );
    assert_eq!(checked_in["checkIn"]["id"], check_in.as_str());
    assert_eq!(checked_in["checkIn"]["mood"], 4);
}

#[tokio::test]
async fn meeting_lifecycle_changes_produce_their_event_kinds() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let max = &pair.manager;
    add_item(&app, &pair.report, &meeting_id, "Carried").await;
    let (mut bob, joined) = follow(&app, &pair.report, &meeting_id).await;

    start(&app, max, &meeting_id).await;
    let started = bob.event("1").await;
    let next_id = end(&app, max, &meeting_id).await["nextMeeting"]["id"]
        .as_str()
        .expect("a next meeting")
        .to_owned();
    let ended = bob.event("1").await;
    assert_run(
        &[started.clone(), ended.clone()],
        joined,
        &["MEETING_STARTED", "MEETING_ENDED"],
    );
    assert_eq!(started["meeting"]["status"], "IN_PROGRESS", "{started}");
    assert_eq!(ended["meeting"]["status"], "COMPLETED", "{ended}");
    assert_eq!(started["actor"]["id"], max.user_id.as_str());

    // Ending created the next meeting and carried the open item onto it.
    bob.subscribe("2", &next_id, Some(0)).await;
    let opening = bob.events("2", 3).await;
    assert_eq!(sequences(&opening), [1, 2, 3], "{opening:#?}");
    let mut first_two = kinds(&opening[..2]);
    first_two.sort_unstable();
    assert_eq!(
        first_two,
        ["AGENDA_ITEM_ADDED", "MEETING_UPDATED"],
        "{opening:#?}"
    );
    let carried = opening
        .iter()
        .find(|event| event["kind"] == "AGENDA_ITEM_ADDED")
        .expect("the carried item");
    assert_eq!(carried["agendaItem"]["title"], "Carried");
    assert_eq!(carried["meeting"]["id"], next_id.as_str());
    assert_joined(&opening[2], &pair.report);

    mutate(
        &app,
        max,
        "rescheduleMeeting",
        "RescheduleMeetingInput",
        json!({ "meetingId": next_id, "scheduledAt": wire(day(9)) }),
        "meeting { id }",
    )
    .await;
    let rescheduled = bob.event("2").await;
    mutate(
        &app,
        max,
        "cancelMeeting",
        "CancelMeetingInput",
        json!({ "meetingId": next_id }),
        "meeting { id }",
    )
    .await;
    let cancelled = bob.event("2").await;
    assert_run(
        &[rescheduled, cancelled.clone()],
        3,
        &["MEETING_UPDATED", "MEETING_UPDATED"],
    );
    assert_eq!(cancelled["meeting"]["status"], "CANCELLED", "{cancelled}");
    assert_eq!(cancelled["actor"]["id"], max.user_id.as_str());
}

#[tokio::test]
async fn a_private_note_reaches_only_its_author() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let (mut max, _) = follow(&app, &pair.manager, &meeting_id).await;
    let (mut bob, bob_joined) = follow(&app, &pair.report, &meeting_id).await;
    assert_joined(&max.event("1").await, &pair.report);

    // Bob reads each event before the next change: nested fields are read at delivery.
    let secret = "I am thinking about leaving";
    let note = create_note(&app, &pair.report, &meeting_id, "PRIVATE", secret).await;
    let created = bob.event("1").await;
    assert_eq!(created["note"]["id"], note.as_str(), "{created}");
    assert_eq!(created["note"]["body"], secret);
    assert_eq!(created["note"]["visibility"], "PRIVATE");
    mutate(
        &app,
        &pair.report,
        "updateNote",
        "UpdateNoteInput",
        json!({ "noteId": note, "body": format!("{secret}, still"), "expectedVersion": 1 }),
        "note { id }",
    )
    .await;
    let updated = bob.event("1").await;
    assert_eq!(
        updated["note"]["body"],
        format!("{secret}, still"),
        "{updated}"
    );
    mutate(
        &app,
        &pair.report,
        "deleteNote",
        "DeleteNoteInput",
        json!({ "noteId": note }),
        "deletedNoteId",
    )
    .await;
    let deleted = bob.event("1").await;
    assert_eq!(deleted["removedId"], note.as_str(), "{deleted}");
    add_item(&app, &pair.report, &meeting_id, "Shared topic").await;
    let shared = bob.event("1").await;
    let own = [created, updated, deleted, shared];
    assert_run(
        &own,
        bob_joined,
        &[
            "NOTE_CREATED",
            "NOTE_UPDATED",
            "NOTE_DELETED",
            "AGENDA_ITEM_ADDED",
        ],
    );

    // Max's next event is the shared one, numbered right after Bob's joining: the three
    // private ones leave no hole in his numbering to tell him Bob wrote privately.
    let next = max.event("1").await;
    assert_eq!(next["kind"], "AGENDA_ITEM_ADDED", "{next}");
    assert_eq!(next["sequence"], bob_joined + 1, "{next}");
    max.no_message_within(QUIET).await;
    assert!(!max.saw(secret), "the private body reached the manager");
    assert!(!max.saw(&note), "the private note's id reached the manager");
}

#[tokio::test]
async fn a_private_check_in_reaches_only_its_author() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let (mut max, _) = follow(&app, &pair.manager, &meeting_id).await;
    let (mut bob, bob_joined) = follow(&app, &pair.report, &meeting_id).await;
    assert_joined(&max.event("1").await, &pair.report);

    let check_in = submit_check_in(&app, &pair.report, &meeting_id, 2, false).await;
    add_item(&app, &pair.report, &meeting_id, "Shared topic").await;

    let own = bob.events("1", 2).await;
    assert_run(
        &own,
        bob_joined,
        &["CHECK_IN_SUBMITTED", "AGENDA_ITEM_ADDED"],
    );
    assert_eq!(own[0]["checkIn"]["id"], check_in.as_str());
    assert_eq!(own[0]["checkIn"]["mood"], 2);

    let next = max.event("1").await;
    assert_eq!(next["kind"], "AGENDA_ITEM_ADDED", "{next}");
    assert_eq!(
        next["sequence"],
        bob_joined + 1,
        "no hole where the check-in was: {next}"
    );
    max.no_message_within(QUIET).await;
    assert!(
        !max.saw(&check_in),
        "the private check-in reached the manager"
    );
}

/// Sends `connection_init` (with `payload`, or none) and a subscribe right after it; the server
/// must close with 4403 and never acknowledge or run the subscription.
async fn assert_refused(app: &TestApp, meeting_id: &str, payload: Option<Value>) {
    let mut ws = Ws::connect(app, TRANSPORT_WS).await;
    match &payload {
        Some(payload) => ws.init_with(payload.clone()).await,
        None => ws.init(None).await,
    }
    ws.subscribe("1", meeting_id, None).await;
    let (messages, code) = ws.close_code(WAIT).await;
    assert_eq!(code, Some(4403), "init payload {payload:?}: {messages:?}");
    assert!(
        messages.is_empty(),
        "init payload {payload:?}: nothing may come before the close: {messages:?}"
    );
}

#[tokio::test]
async fn connection_init_without_a_token_is_closed_with_4403() {
    let app = spawn_app().await;
    let (_, meeting_id) = meeting_of(&app).await;
    assert_refused(&app, &meeting_id, None).await;
    assert_refused(&app, &meeting_id, Some(json!({}))).await;
    assert_refused(&app, &meeting_id, Some(json!({ "authorization": "" }))).await;
}

#[tokio::test]
async fn connection_init_with_a_bad_token_is_closed_with_4403() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let mut tampered = pair.manager.access_token.clone();
    let last = tampered.pop().expect("a token");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    for token in ["not-a-token", tampered.as_str()] {
        assert_refused(
            &app,
            &meeting_id,
            Some(json!({ "authorization": format!("Bearer {token}") })),
        )
        .await;
    }
    // A refresh token is not an access token.
    assert_refused(
        &app,
        &meeting_id,
        Some(json!({ "authorization": format!("Bearer {}", pair.manager.refresh_token) })),
    )
    .await;
}

#[tokio::test]
async fn a_deactivated_users_token_is_closed_with_4403() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    deactivate(&app, &pair.admin, &pair.report.user_id).await;
    assert_refused(
        &app,
        &meeting_id,
        Some(json!({ "authorization": format!("Bearer {}", pair.report.access_token) })),
    )
    .await;
}

#[tokio::test]
async fn outsiders_and_admins_get_not_found_on_subscribe() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    app.create_user(&pair.admin, "dee@example.com", None).await;
    let outsider = app.session("dee@example.com").await;
    let other_admin = app.sign_up("Other", "zed@example.com").await;
    for (who, session) in [
        ("an outsider", &outsider),
        ("the admin", &pair.admin),
        ("another organisation's admin", &other_admin),
    ] {
        let mut ws = Ws::open(&app, &session.access_token).await;
        ws.subscribe("1", &meeting_id, Some(0)).await;
        assert_eq!(ws.refusal("1").await, "NOT_FOUND", "{who}");
        ws.close().await;
    }
    // None of them ran: the meeting's only events are its scheduling and Max joining now.
    let mut max = Ws::open(&app, &pair.manager.access_token).await;
    max.subscribe("1", &meeting_id, Some(0)).await;
    let events = max.events("1", 2).await;
    assert_run(&events, 0, &["MEETING_UPDATED", "PARTICIPANT_JOINED"]);
    assert_joined(&events[1], &pair.manager);
}

#[tokio::test]
async fn participants_of_an_archived_series_are_forbidden_to_subscribe() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let dee = app.create_user(&pair.admin, "dee@example.com", None).await;
    set_manager(&app, &pair.admin, &pair.report.user_id, &dee).await;
    for who in [&pair.manager, &pair.report] {
        let mut ws = Ws::open(&app, &who.access_token).await;
        ws.subscribe("1", &meeting_id, None).await;
        assert_eq!(ws.refusal("1").await, "FORBIDDEN");
    }
}

/// Subscribes Max, lets Bob make `before` changes that Max reads; returns Max's socket and the
/// last sequence he saw.
async fn following_some_changes(
    app: &TestApp,
    pair: &Pair,
    meeting_id: &str,
    before: usize,
) -> (Ws, i64) {
    let (mut max, _) = follow(app, &pair.manager, meeting_id).await;
    for n in 1..=before {
        add_item(app, &pair.report, meeting_id, &format!("early {n}")).await;
    }
    let seen = max.events("1", before).await;
    (max, *sequences(&seen).last().expect("some events"))
}

#[tokio::test]
async fn resuming_after_a_disconnect_misses_none_of_100_changes() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let (max, last_seen) = following_some_changes(&app, &pair, &meeting_id, 3).await;
    max.close().await;

    for n in 1..=100 {
        add_item(&app, &pair.report, &meeting_id, &format!("change {n}")).await;
    }
    let mut max = Ws::open(&app, &pair.manager.access_token).await;
    max.subscribe("1", &meeting_id, Some(last_seen)).await;
    add_item(&app, &pair.report, &meeting_id, "marker").await;
    let events = max.events_until("1", title_is("marker")).await;

    let head = *sequences(&events).last().expect("the marker");
    assert_contiguous(&sequences(&events), last_seen + 1, head);
    let mut expected: Vec<String> = (1..=100).map(|n| format!("change {n}")).collect();
    expected.push("marker".into());
    assert_eq!(added_titles(&events), expected);
    // The new subscription's own PARTICIPANT_JOINED may land after the marker.
    max.no_change_within(QUIET).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_while_changes_keep_arriving_leaves_no_gap_and_no_duplicate() {
    const CHANGES: usize = 120;
    let app = Arc::new(spawn_app().await);
    let (pair, meeting_id) = meeting_of(&app).await;
    let (mut max, mut last_seen) = following_some_changes(&app, &pair, &meeting_id, 3).await;
    let first = last_seen + 1;

    let (made, mut made_rx) = tokio::sync::watch::channel(0usize);
    let writer = tokio::spawn({
        let (app, bob, meeting_id) = (app.clone(), pair.report.clone(), meeting_id.clone());
        async move {
            for n in 1..=CHANGES {
                add_item(&app, &bob, &meeting_id, &format!("change {n}")).await;
                made.send_replace(n);
            }
            add_item(&app, &bob, &meeting_id, "marker").await;
        }
    });

    // Drop the connection and come back, again and again, while Bob keeps changing things;
    // each time, read a few events and then resume from the last one seen.
    let mut received = Vec::new();
    let (mut reconnects, mut while_writing) = (0, 0);
    'reading: loop {
        for _ in 0..7 {
            let event = max.event("1").await;
            let sequence = event["sequence"].as_i64().expect("a sequence");
            received.push(event);
            last_seen = sequence;
            if title_is("marker")(received.last().expect("an event")) {
                break 'reading;
            }
        }
        max.close().await;
        reconnects += 1;
        // Come back while the writer is in the middle of its changes.
        let target = (reconnects * 10).min(CHANGES);
        let _ = made_rx.wait_for(|made| *made >= target).await;
        max = Ws::open(&app, &pair.manager.access_token).await;
        max.subscribe("1", &meeting_id, Some(last_seen)).await;
        if *made_rx.borrow() < CHANGES {
            while_writing += 1;
        }
    }
    writer.await.expect("the writer finished");

    assert!(
        while_writing >= 2,
        "only {while_writing} of {reconnects} resubscriptions happened while changes were made"
    );
    let head = *sequences(&received).last().expect("the marker");
    assert_contiguous(&sequences(&received), first, head);
    let mut expected: Vec<String> = (1..=CHANGES).map(|n| format!("change {n}")).collect();
    expected.push("marker".into());
    assert_eq!(added_titles(&received), expected);
}

#[tokio::test]
async fn subscribing_announces_the_participant_to_the_other() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let (mut max, max_joined) = follow(&app, &pair.manager, &meeting_id).await;
    let (_bob, bob_joined) = follow(&app, &pair.report, &meeting_id).await;
    let seen = max.event("1").await;
    assert_joined(&seen, &pair.report);
    assert_eq!(seen["sequence"], bob_joined);
    assert_eq!(bob_joined, max_joined + 1);
    assert_eq!(seen["actor"]["id"], pair.report.user_id.as_str());
}

#[tokio::test]
async fn closing_the_last_subscription_announces_that_the_participant_left() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let (mut max, _) = follow(&app, &pair.manager, &meeting_id).await;
    let (mut bob_phone, _) = follow(&app, &pair.report, &meeting_id).await;
    assert_joined(&max.event("1").await, &pair.report);

    // A second subscription of Bob's is no second JOINED...
    let mut bob_laptop = Ws::open(&app, &pair.report.access_token).await;
    bob_laptop.subscribe("1", &meeting_id, None).await;
    bob_laptop.no_message_within(QUIET).await;
    let probe = add_item(&app, &pair.manager, &meeting_id, "probe 1").await;
    let next = max.event("1").await;
    assert_eq!(next["agendaItem"]["id"], probe.as_str(), "{next}");
    let on_laptop = bob_laptop.event("1").await;
    assert_eq!(on_laptop["sequence"], next["sequence"]);
    bob_phone.event("1").await;

    // ...and closing one of the two is no LEFT.
    bob_phone.stop("1").await;
    let complete = bob_phone.message().await;
    assert_eq!(complete["type"], "complete", "{complete}");
    max.no_message_within(QUIET).await;
    let probe = add_item(&app, &pair.manager, &meeting_id, "probe 2").await;
    let next = max.event("1").await;
    assert_eq!(next["agendaItem"]["id"], probe.as_str(), "{next}");
    bob_laptop.event("1").await;

    // Closing the last one is.
    bob_laptop.close().await;
    let left = max.event("1").await;
    assert_eq!(left["kind"], "PARTICIPANT_LEFT", "{left}");
    assert_eq!(left["participant"]["id"], pair.report.user_id.as_str());
    assert_eq!(
        left["sequence"].as_i64(),
        next["sequence"].as_i64().map(|s| s + 1)
    );
}

#[tokio::test]
async fn the_legacy_graphql_ws_protocol_is_served() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let mut ws = Ws::open_with(&app, LEGACY_WS, &pair.manager.access_token).await;
    ws.subscribe("1", &meeting_id, None).await;
    let joined = ws.event("1").await;
    assert_joined(&joined, &pair.manager);
    let item = add_item(&app, &pair.report, &meeting_id, "Old phone").await;
    let added = ws.event("1").await;
    assert_eq!(added["kind"], "AGENDA_ITEM_ADDED", "{added}");
    assert_eq!(added["agendaItem"]["id"], item.as_str());
    assert_eq!(
        added["sequence"].as_i64(),
        joined["sequence"].as_i64().map(|s| s + 1)
    );
}

#[tokio::test]
async fn the_legacy_protocol_answers_a_bad_token_with_connection_error() {
    let app = spawn_app().await;
    let mut ws = Ws::connect(&app, LEGACY_WS).await;
    ws.init(Some("not-a-token")).await;
    let (messages, _) = ws.close_code(WAIT).await;
    let types: Vec<&Value> = messages.iter().map(|message| &message["type"]).collect();
    assert_eq!(types, [&json!("connection_error")], "{messages:?}");
}

#[tokio::test]
async fn the_stream_ends_when_the_subscriber_is_deactivated() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let (mut bob, _) = follow(&app, &pair.report, &meeting_id).await;
    deactivate(&app, &pair.admin, &pair.report.user_id).await;
    let ended = bob.ended("1", END_WITHIN).await;
    assert!(
        matches!(ended, Ended::Complete | Ended::Closed(_)),
        "{ended:?}"
    );
}

#[tokio::test]
async fn the_stream_ends_when_the_series_is_archived() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let dee = app.create_user(&pair.admin, "dee@example.com", None).await;
    let (mut max, _) = follow(&app, &pair.manager, &meeting_id).await;
    set_manager(&app, &pair.admin, &pair.report.user_id, &dee).await;
    let ended = max.ended("1", END_WITHIN).await;
    assert!(
        matches!(ended, Ended::Complete | Ended::Closed(_)),
        "{ended:?}"
    );
}

#[tokio::test]
async fn the_server_pings_every_interval_and_keeps_an_answering_client() {
    let app = spawn_app_with(|config| config.ws_ping_seconds = 1).await;
    let pair = pair(&app).await;
    let mut ws = Ws::open(&app, &pair.manager.access_token).await;
    // Reading answers each ping with a pong; past three silent intervals the client stays.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(4500);
    let mut pings = 0;
    while let Some(frame) = ws.frame_before(deadline).await {
        match frame {
            Frame::Ping => pings += 1,
            Frame::Json(message) => panic!("unexpected message {message}"),
            Frame::Closed(code) => panic!("an answering client was closed ({code:?})"),
        }
    }
    assert!(pings >= 3, "{pings} pings in 4.5 s at one a second");
}

#[tokio::test]
async fn a_client_that_never_answers_pings_is_closed_with_1001() {
    let app = spawn_app_with(|config| config.ws_ping_seconds = 1).await;
    let pair = pair(&app).await;
    let mut ws = Ws::open(&app, &pair.manager.access_token).await;
    ws.go_silent();
    let silent_since = Instant::now();
    let (messages, code) = ws.close_code(Duration::from_secs(8)).await;
    assert_eq!(code, Some(1001), "{messages:?}");
    let waited = silent_since.elapsed();
    // Three silent intervals of one second, and at most one more before the check notices.
    assert!(
        waited >= Duration::from_millis(2500) && waited <= Duration::from_millis(5500),
        "closed after {waited:?}"
    );
}

#[tokio::test]
async fn a_connection_that_never_sends_connection_init_is_closed_with_4408() {
    let app = spawn_app().await;
    let mut ws = Ws::connect(&app, TRANSPORT_WS).await;
    let opened = Instant::now();
    let (messages, code) = ws.close_code(Duration::from_secs(14)).await;
    assert_eq!(code, Some(4408), "{messages:?}");
    assert!(messages.is_empty(), "{messages:?}");
    let waited = opened.elapsed();
    assert!(
        waited >= Duration::from_secs(9),
        "closed after {waited:?}, before the 10 s allowed"
    );
}

fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty())
}

#[tokio::test]
async fn a_change_made_on_one_instance_reaches_a_subscriber_on_another() {
    if !on_postgres() {
        return; // Several instances share one database only on PostgreSQL.
    }
    let app = spawn_app().await;
    let sibling = app.spawn_sibling().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let (mut max, _) = follow(&app, &pair.manager, &meeting_id).await;
    let (mut bob, bob_joined) = follow(&sibling, &pair.report, &meeting_id).await;
    assert_joined(&max.event("1").await, &pair.report);

    let sent = Instant::now();
    let item = add_item(&sibling, &pair.report, &meeting_id, "From the sibling").await;
    let on_first = max.event("1").await;
    let elapsed = sent.elapsed();
    assert_eq!(on_first["kind"], "AGENDA_ITEM_ADDED", "{on_first}");
    assert_eq!(on_first["agendaItem"]["id"], item.as_str());
    assert_eq!(on_first["sequence"], bob_joined + 1);
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    assert_eq!(bob.event("1").await["sequence"], bob_joined + 1);

    let note = create_note(&app, &pair.manager, &meeting_id, "SHARED", "From the first").await;
    let on_sibling = bob.event("1").await;
    assert_eq!(on_sibling["kind"], "NOTE_CREATED", "{on_sibling}");
    assert_eq!(on_sibling["note"]["id"], note.as_str());
    assert_eq!(on_sibling["sequence"], bob_joined + 2);
    assert_eq!(max.event("1").await["sequence"], bob_joined + 2);
}

#[tokio::test]
async fn a_rolled_back_change_reaches_no_one_on_any_instance() {
    if !on_postgres() {
        return; // Several instances share one database only on PostgreSQL.
    }
    let app = spawn_app().await;
    let sibling = app.spawn_sibling().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let (mut max, _) = follow(&app, &pair.manager, &meeting_id).await;
    let (mut bob, mut last) = follow(&sibling, &pair.report, &meeting_id).await;
    assert_joined(&max.event("1").await, &pair.report);

    // Both see the real change next, with the next sequence: nothing for the failed one.
    async fn next_is(subscribers: [&mut Ws; 2], kind: &str, sequence: i64) {
        for ws in subscribers {
            let event = ws.event("1").await;
            assert_eq!(event["kind"], kind, "{event}");
            assert_eq!(event["sequence"], sequence, "{event}");
        }
    }

    // An assignee who is not a participant: refused, nothing written.
    let body = sibling
        .graphql(
            "mutation($input: CreateActionItemInput!) { createActionItem(input: $input) { actionItem { id } } }",
            json!({ "input": { "meetingId": meeting_id, "title": "Not yours", "assigneeId": pair.admin.user_id } }),
            Some(&pair.report.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    create_note(&app, &pair.manager, &meeting_id, "SHARED", "Real").await;
    last += 1;
    next_is([&mut max, &mut bob], "NOTE_CREATED", last).await;

    start(&app, &pair.manager, &meeting_id).await;
    end(&app, &pair.manager, &meeting_id).await;
    last += 1;
    next_is([&mut max, &mut bob], "MEETING_STARTED", last).await;
    last += 1;
    next_is([&mut max, &mut bob], "MEETING_ENDED", last).await;

    // The agenda of a completed meeting is locked: refused, nothing written.
    let body = sibling
        .graphql(
            "mutation($input: AddAgendaItemInput!) { addAgendaItem(input: $input) { agendaItem { id } } }",
            json!({ "input": { "meetingId": meeting_id, "title": "Too late", "category": "OTHER" } }),
            Some(&pair.report.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    create_note(&sibling, &pair.report, &meeting_id, "SHARED", "Real again").await;
    last += 1;
    next_is([&mut max, &mut bob], "NOTE_CREATED", last).await;
}
