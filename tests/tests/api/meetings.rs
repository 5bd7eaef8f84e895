//! Meetings: scheduling, the state machine, the next meeting from the cadence, and carry-over of
//! open agenda items across ends, cancellations, reschedules and skipped meetings.

use chrono::{Datelike, Duration, Months, Utc};
use serde_json::{Value, json};
use tete_tests::{Session, TestApp, error_code, spawn_app};

use crate::support::{
    add_item, add_item_in, agenda, cancel, day, end, ids, meeting, mutate, pair, schedule,
    set_discussed, start, time, wire,
};

const SCHEDULE: &str = "mutation($input: ScheduleMeetingInput!) { scheduleMeeting(input: $input) { clientMutationId meeting { id oneOnOne { id } scheduledAt durationMinutes format location status startedAt endedAt } } }";

async fn status(app: &TestApp, who: &Session, meeting_id: &str) -> String {
    meeting(app, who, meeting_id, "status").await["status"]
        .as_str()
        .expect("a status")
        .to_owned()
}

async fn reschedule(app: &TestApp, who: &Session, meeting_id: &str, days: i64) -> Value {
    app.graphql(
        "mutation($input: RescheduleMeetingInput!) { rescheduleMeeting(input: $input) { meeting { id scheduledAt status } } }",
        json!({ "input": { "meetingId": meeting_id, "scheduledAt": wire(day(days)) } }),
        Some(&who.access_token),
    )
    .await
}

async fn set_cadence(app: &TestApp, who: &Session, series: &str, cadence: &str) {
    mutate(
        app,
        who,
        "updateOneOnOne",
        "UpdateOneOnOneInput",
        json!({ "oneOnOneId": series, "cadence": cadence }),
        "oneOnOne { id }",
    )
    .await;
}

async fn meeting_count(app: &TestApp, who: &Session, series: &str) -> u64 {
    app.ok(
        "query($id: ID!) { node(id: $id) { ... on OneOnOne { meetings(first: 50) { totalCount } } } }",
        json!({ "id": series }),
        Some(&who.access_token),
    )
    .await["node"]["meetings"]["totalCount"]
        .as_u64()
        .expect("a count")
}

/// Asserts `copy` is a carried-over copy of `original`: a new item linked to it, same title,
/// author and category, not discussed.
fn assert_carried_over(copy: &Value, original: &Value) {
    assert_ne!(copy["id"], original["id"], "a copy is a new item: {copy}");
    assert_eq!(copy["carriedOverFrom"]["id"], original["id"], "{copy}");
    assert_eq!(copy["title"], original["title"]);
    assert_eq!(copy["author"]["id"], original["author"]["id"]);
    assert_eq!(copy["category"], original["category"]);
    assert_eq!(copy["discussedAt"], Value::Null);
}

#[tokio::test]
async fn scheduling_uses_the_series_defaults_unless_told_otherwise() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let data = app
        .ok(
            SCHEDULE,
            json!({ "input": { "oneOnOneId": pair.series, "scheduledAt": wire(day(2)), "clientMutationId": "m-1" } }),
            Some(&pair.report.access_token),
        )
        .await;
    let payload = &data["scheduleMeeting"];
    assert_eq!(payload["clientMutationId"], "m-1");
    let scheduled = &payload["meeting"];
    assert_eq!(scheduled["oneOnOne"]["id"], pair.series.as_str());
    assert_eq!(time(&scheduled["scheduledAt"]), day(2));
    assert_eq!(scheduled["durationMinutes"], 30);
    assert_eq!(scheduled["format"], "VIDEO");
    assert_eq!(scheduled["status"], "SCHEDULED");
    assert_eq!(scheduled["startedAt"], Value::Null);
    assert_eq!(scheduled["endedAt"], Value::Null);

    let data = app
        .ok(
            SCHEDULE,
            json!({ "input": { "oneOnOneId": pair.series, "scheduledAt": wire(day(9)), "durationMinutes": 45, "format": "IN_PERSON", "location": "Room 4" } }),
            Some(&pair.manager.access_token),
        )
        .await;
    let scheduled = &data["scheduleMeeting"]["meeting"];
    assert_eq!(scheduled["durationMinutes"], 45);
    assert_eq!(scheduled["format"], "IN_PERSON");
    assert_eq!(scheduled["location"], "Room 4");

    // New defaults apply to meetings scheduled afterwards.
    mutate(
        &app,
        &pair.manager,
        "updateOneOnOne",
        "UpdateOneOnOneInput",
        json!({ "oneOnOneId": pair.series, "defaultFormat": "PHONE", "defaultDurationMinutes": 50 }),
        "oneOnOne { id }",
    )
    .await;
    let data = app
        .ok(
            SCHEDULE,
            json!({ "input": { "oneOnOneId": pair.series, "scheduledAt": wire(day(16)) } }),
            Some(&pair.manager.access_token),
        )
        .await;
    let scheduled = &data["scheduleMeeting"]["meeting"];
    assert_eq!(scheduled["durationMinutes"], 50);
    assert_eq!(scheduled["format"], "PHONE");
}

#[tokio::test]
async fn rescheduling_moves_a_scheduled_meeting() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let id = schedule(&app, &pair.manager, &pair.series, day(2)).await;
    let body = reschedule(&app, &pair.report, &id, 4).await;
    let moved = &body["data"]["rescheduleMeeting"]["meeting"];
    assert_eq!(moved["id"], id.as_str(), "{body}");
    assert_eq!(time(&moved["scheduledAt"]), day(4));
    assert_eq!(moved["status"], "SCHEDULED");
    let stored = meeting(&app, &pair.manager, &id, "scheduledAt").await;
    assert_eq!(time(&stored["scheduledAt"]), day(4));
}

#[tokio::test]
async fn starting_and_ending_a_meeting_records_when() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let id = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    let before = Utc::now() - Duration::seconds(5);
    let started = start(&app, &pair.report, &id).await;
    assert_eq!(started["status"], "IN_PROGRESS");
    let started_at = time(&started["startedAt"]);
    assert!(started_at >= before, "{started}");
    let payload = end(&app, &pair.manager, &id).await;
    let ended = &payload["meeting"];
    assert_eq!(ended["status"], "COMPLETED");
    assert_eq!(time(&ended["startedAt"]), started_at);
    let ended_at = time(&ended["endedAt"]);
    assert!(ended_at >= started_at, "{ended}");
    assert!(ended_at <= Utc::now() + Duration::seconds(5), "{ended}");
    assert_eq!(status(&app, &pair.report, &id).await, "COMPLETED");
}

#[tokio::test]
async fn impossible_transitions_are_bad_user_input_and_change_nothing() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let who = &pair.manager;
    let done = schedule(&app, who, &pair.series, day(1)).await;
    start(&app, who, &done).await;
    let scheduled = end(&app, who, &done).await["nextMeeting"]["id"]
        .as_str()
        .expect("a next meeting")
        .to_owned();
    let in_progress = schedule(&app, who, &pair.series, day(3)).await;
    start(&app, who, &in_progress).await;
    let cancelled = schedule(&app, who, &pair.series, day(30)).await;
    cancel(&app, who, &cancelled).await;

    let simple = |name: &str| {
        format!(
            "mutation($input: {}Input!) {{ {name}(input: $input) {{ meeting {{ id status }} }} }}",
            name[..1].to_uppercase() + &name[1..]
        )
    };
    let cases = [
        ("endMeeting", &scheduled),
        ("endMeeting", &done),
        ("endMeeting", &cancelled),
        ("startMeeting", &in_progress),
        ("startMeeting", &done),
        ("startMeeting", &cancelled),
        ("cancelMeeting", &in_progress),
        ("cancelMeeting", &done),
        ("cancelMeeting", &cancelled),
    ];
    for (mutation, id) in cases {
        let body = app
            .graphql(
                &simple(mutation),
                json!({ "input": { "meetingId": id } }),
                Some(&who.access_token),
            )
            .await;
        assert_eq!(
            error_code(&body),
            Some("BAD_USER_INPUT"),
            "{mutation} on {id}: {body}"
        );
    }
    for id in [&in_progress, &done, &cancelled] {
        let body = reschedule(&app, who, id, 40).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    }
    assert_eq!(status(&app, who, &scheduled).await, "SCHEDULED");
    assert_eq!(status(&app, who, &in_progress).await, "IN_PROGRESS");
    assert_eq!(status(&app, who, &done).await, "COMPLETED");
    assert_eq!(status(&app, who, &cancelled).await, "CANCELLED");
    let stored = meeting(&app, who, &in_progress, "scheduledAt").await;
    assert_eq!(time(&stored["scheduledAt"]), day(3));
}

#[tokio::test]
async fn ending_a_meeting_schedules_the_next_one_from_each_cadence() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let who = &pair.manager;
    // A first day whose date three weeks on is at most the 28th, so "one month later" is plain.
    let first = (1..40)
        .find(|&days| (day(days) + Duration::days(21)).day() <= 28)
        .expect("such a day");
    let mut current = schedule(&app, who, &pair.series, day(first)).await;
    let mut at = day(first);
    for (cadence, next_at) in [
        ("WEEKLY", at + Duration::days(7)),
        ("BIWEEKLY", at + Duration::days(21)),
        ("MONTHLY", (at + Duration::days(21)) + Months::new(1)),
    ] {
        set_cadence(&app, who, &pair.series, cadence).await;
        start(&app, who, &current).await;
        let payload = end(&app, who, &current).await;
        let next = &payload["nextMeeting"];
        assert_eq!(next["status"], "SCHEDULED", "{cadence}: {payload}");
        assert_eq!(
            time(&next["scheduledAt"]),
            next_at,
            "{cadence} after {at}: {payload}"
        );
        assert_ne!(next["id"], current.as_str());
        current = next["id"].as_str().unwrap().to_owned();
        at = next_at;
    }
    assert_eq!(meeting_count(&app, who, &pair.series).await, 4);
}

#[tokio::test]
async fn the_next_meeting_from_the_cadence_is_in_the_future() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    // Held three weeks late: the next one is the first weekly slot still ahead.
    let late = schedule(&app, &pair.manager, &pair.series, day(-20)).await;
    start(&app, &pair.manager, &late).await;
    let payload = end(&app, &pair.manager, &late).await;
    assert_eq!(time(&payload["nextMeeting"]["scheduledAt"]), day(1));
}

#[tokio::test]
async fn ending_prefers_a_meeting_already_scheduled() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let who = &pair.manager;
    let current = schedule(&app, who, &pair.series, day(1)).await;
    let far = schedule(&app, who, &pair.series, day(20)).await;
    let soon = schedule(&app, who, &pair.series, day(4)).await;
    start(&app, who, &current).await;
    let payload = end(&app, who, &current).await;
    assert_eq!(payload["nextMeeting"]["id"], soon.as_str(), "{payload}");
    assert_eq!(meeting_count(&app, who, &pair.series).await, 3);
    assert_eq!(status(&app, who, &far).await, "SCHEDULED");
}

#[tokio::test]
async fn ending_carries_undiscussed_items_to_the_end_of_the_next_agenda() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let (max, bob) = (&pair.manager, &pair.report);
    let current = schedule(&app, max, &pair.series, day(1)).await;
    let next = schedule(&app, max, &pair.series, day(5)).await;
    let already = add_item(&app, max, &next, "Already planned").await;
    add_item_in(&app, bob, &current, "Career goals", "DEVELOPMENT").await;
    let discussed = add_item_in(&app, max, &current, "Launch retro", "FEEDBACK").await;
    add_item_in(&app, bob, &current, "Workload", "WELLBEING").await;
    set_discussed(&app, bob, &discussed, true).await;
    let originals = agenda(&app, max, &current).await;

    start(&app, max, &current).await;
    let payload = end(&app, bob, &current).await;
    assert_eq!(payload["nextMeeting"]["id"], next.as_str());

    let carried = agenda(&app, bob, &next).await;
    assert_eq!(carried.len(), 3, "{carried:?}");
    assert_eq!(carried[0]["id"], already.as_str());
    assert_eq!(carried[0]["carriedOverFrom"], Value::Null);
    assert_carried_over(&carried[1], &originals[0]);
    assert_carried_over(&carried[2], &originals[2]);
    // The ended meeting keeps its agenda as it was.
    assert_eq!(agenda(&app, max, &current).await, originals);
}

#[tokio::test]
async fn ending_the_last_meeting_carries_items_to_the_one_made_from_the_cadence() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let current = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    add_item(&app, &pair.report, &current, "Promotion").await;
    let originals = agenda(&app, &pair.report, &current).await;
    start(&app, &pair.manager, &current).await;
    let payload = end(&app, &pair.manager, &current).await;
    let next = payload["nextMeeting"]["id"].as_str().unwrap();
    assert_eq!(time(&payload["nextMeeting"]["scheduledAt"]), day(8));
    let carried = agenda(&app, &pair.report, next).await;
    assert_eq!(carried.len(), 1);
    assert_carried_over(&carried[0], &originals[0]);
}

#[tokio::test]
async fn cancelling_carries_undiscussed_items_to_the_next_meeting() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let (max, bob) = (&pair.manager, &pair.report);
    let cancelled = schedule(&app, max, &pair.series, day(1)).await;
    let next = schedule(&app, max, &pair.series, day(8)).await;
    add_item(&app, bob, &cancelled, "Open question").await;
    let done = add_item(&app, max, &cancelled, "Settled already").await;
    set_discussed(&app, max, &done, true).await;
    let originals = agenda(&app, bob, &cancelled).await;
    let result = cancel(&app, bob, &cancelled).await;
    assert_eq!(result["status"], "CANCELLED");
    let carried = agenda(&app, bob, &next).await;
    assert_eq!(carried.len(), 1, "{carried:?}");
    assert_carried_over(&carried[0], &originals[0]);
}

#[tokio::test]
async fn cancelling_the_last_meeting_carries_items_to_one_made_from_the_cadence() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let cancelled = schedule(&app, &pair.manager, &pair.series, day(2)).await;
    add_item(&app, &pair.report, &cancelled, "Open question").await;
    let originals = agenda(&app, &pair.report, &cancelled).await;
    cancel(&app, &pair.manager, &cancelled).await;
    let next = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on OneOnOne { nextMeeting { id scheduledAt status } } } }",
            json!({ "id": pair.series }),
            Some(&pair.report.access_token),
        )
        .await["node"]["nextMeeting"]
        .clone();
    assert_eq!(next["status"], "SCHEDULED", "{next}");
    assert_eq!(time(&next["scheduledAt"]), day(9));
    let carried = agenda(&app, &pair.report, next["id"].as_str().unwrap()).await;
    assert_eq!(carried.len(), 1, "{carried:?}");
    assert_carried_over(&carried[0], &originals[0]);
}

#[tokio::test]
async fn carry_over_follows_reschedules_and_repeated_cancellations() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let (max, bob) = (&pair.manager, &pair.report);
    let first = schedule(&app, max, &pair.series, day(1)).await;
    let second = schedule(&app, max, &pair.series, day(7)).await;
    let third = schedule(&app, max, &pair.series, day(14)).await;
    add_item(&app, bob, &first, "Conference budget").await;
    let original = agenda(&app, bob, &first).await;
    // The second meeting moves after the third: the third is now the next one.
    let body = reschedule(&app, max, &second, 21).await;
    assert!(body.get("errors").is_none(), "{body}");
    start(&app, max, &first).await;
    let payload = end(&app, max, &first).await;
    assert_eq!(payload["nextMeeting"]["id"], third.as_str());
    assert!(agenda(&app, bob, &second).await.is_empty());
    let on_third = agenda(&app, bob, &third).await;
    assert_eq!(on_third.len(), 1);
    assert_carried_over(&on_third[0], &original[0]);

    // The third is cancelled in turn: the item moves on again, linked to the copy it came from.
    cancel(&app, bob, &third).await;
    let on_second = agenda(&app, bob, &second).await;
    assert_eq!(on_second.len(), 1, "{on_second:?}");
    assert_carried_over(&on_second[0], &on_third[0]);
}

#[tokio::test]
async fn starting_a_meeting_skips_earlier_scheduled_ones_and_brings_their_items() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let (max, bob) = (&pair.manager, &pair.report);
    let skipped_one = schedule(&app, max, &pair.series, day(1)).await;
    let skipped_two = schedule(&app, max, &pair.series, day(2)).await;
    let held = schedule(&app, max, &pair.series, day(8)).await;
    let later = schedule(&app, max, &pair.series, day(15)).await;
    let a = add_item(&app, bob, &skipped_one, "Holiday plans").await;
    let b = add_item(&app, max, &skipped_two, "Team changes").await;
    let own = add_item(&app, bob, &held, "Today's topic").await;
    let originals: Vec<Value> = [
        agenda(&app, bob, &skipped_one).await,
        agenda(&app, bob, &skipped_two).await,
    ]
    .concat();

    start(&app, bob, &held).await;
    assert_eq!(status(&app, bob, &skipped_one).await, "CANCELLED");
    assert_eq!(status(&app, bob, &skipped_two).await, "CANCELLED");
    assert_eq!(status(&app, bob, &later).await, "SCHEDULED");
    assert!(agenda(&app, bob, &later).await.is_empty());

    let items = agenda(&app, max, &held).await;
    assert_eq!(items.len(), 3, "{items:?}");
    assert_eq!(items[0]["id"], own.as_str());
    let mut sources: Vec<&str> = items[1..]
        .iter()
        .map(|item| {
            item["carriedOverFrom"]["id"]
                .as_str()
                .expect("carried over")
        })
        .collect();
    sources.sort();
    let mut expected = vec![a.as_str(), b.as_str()];
    expected.sort();
    assert_eq!(sources, expected);
    for copy in &items[1..] {
        let original = originals
            .iter()
            .find(|item| item["id"] == copy["carriedOverFrom"]["id"])
            .unwrap();
        assert_carried_over(copy, original);
    }
}

#[tokio::test]
async fn a_meeting_lists_in_its_series() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let first = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    let second = schedule(&app, &pair.report, &pair.series, day(8)).await;
    let data = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on OneOnOne { meetings(first: 10) { totalCount edges { node { id oneOnOne { id } } } } } } }",
            json!({ "id": pair.series }),
            Some(&pair.report.access_token),
        )
        .await;
    let connection = &data["node"]["meetings"];
    assert_eq!(connection["totalCount"], 2);
    let listed = crate::support::nodes(connection);
    let mut listed_ids = ids(&json!(listed));
    listed_ids.sort();
    let mut expected = vec![first, second];
    expected.sort();
    assert_eq!(listed_ids, expected);
    assert!(
        listed
            .iter()
            .all(|m| m["oneOnOne"]["id"] == pair.series.as_str())
    );
}

#[tokio::test]
async fn times_outside_years_1_to_9999_are_refused_and_a_leap_second_is_the_next_instant() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let scheduling = "mutation($input: ScheduleMeetingInput!) { scheduleMeeting(input: $input) { meeting { id scheduledAt } } }";
    let at = |text: &str| json!({ "input": { "oneOnOneId": pair.series, "scheduledAt": text } });
    for text in [
        "0000-06-01T10:00:00Z",
        "-0001-06-01T10:00:00Z",
        "+10000-06-01T10:00:00Z",
        "9999-12-31T23:59:60Z",
    ] {
        let body = app
            .graphql(scheduling, at(text), Some(&pair.manager.access_token))
            .await;
        assert!(body["data"].is_null(), "{text}: {body}");
        let code = error_code(&body);
        assert!(
            code.is_none() || code == Some("BAD_USER_INPUT"),
            "{text}: a client error, not {code:?}: {body}"
        );
    }
    let body = app
        .graphql(
            scheduling,
            at("0000-06-01T10:00:00Z"),
            Some(&pair.manager.access_token),
        )
        .await;
    assert_eq!(
        body["errors"][0]["message"],
        "scheduledAt must be in the years 1 to 9999"
    );
    let next_meeting = "query($s: ID!) { node(id: $s) { ... on OneOnOne { nextMeeting { id } } } }";
    let data = app
        .ok(
            next_meeting,
            json!({ "s": pair.series }),
            Some(&pair.manager.access_token),
        )
        .await;
    assert!(
        data["node"]["nextMeeting"].is_null(),
        "nothing was scheduled: {data}"
    );

    let data = app
        .ok(
            scheduling,
            at("2026-12-31T23:59:60.500Z"),
            Some(&pair.manager.access_token),
        )
        .await;
    let stored = time(&data["scheduleMeeting"]["meeting"]["scheduledAt"]);
    assert_eq!(stored, time(&json!("2027-01-01T00:00:00.500Z")));

    let meeting_id = data["scheduleMeeting"]["meeting"]["id"].as_str().unwrap();
    let body = app
        .graphql(
            "mutation($input: CreateActionItemInput!) { createActionItem(input: $input) { actionItem { id } } }",
            json!({ "input": { "meetingId": meeting_id, "title": "Long ago", "assigneeId": pair.report.user_id, "dueOn": "0000-01-01" } }),
            Some(&pair.manager.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    let body = app
        .graphql(
            "{ organization { insights(from: \"0000-01-01T00:00:00Z\") { meetingsHeld } } }",
            json!({}),
            Some(&pair.admin.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
}
