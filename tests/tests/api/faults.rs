//! Staying up while PostgreSQL goes away: requests fail fast with a bare `INTERNAL`, `/readyz`
//! turns 503 (and `/healthz` stays 200), and once the database is back the server recovers by
//! itself within seconds, subscribers resume from `afterSequence` without missing an event, and
//! the event bus of every instance listens again.
//!
//! The database sits behind a [`Proxy`] the test cuts and restores. PostgreSQL only: on SQLite
//! there is no database server to lose, and each test says it skipped.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tete_tests::{Proxy, Session, TestApp, error_code, spawn_app_behind_proxy};
use tokio::time::Instant;

use crate::{
    support::{add_item, agenda, day, pair, schedule},
    ws::{Frame, Ws, sequences},
};

/// How fast a request must fail while the database is down.
const FAIL_FAST: Duration = Duration::from_secs(3);
/// How soon after the database is back the server must be whole again.
const RECOVER_WITHIN: Duration = Duration::from_secs(10);
/// How often recovery is polled.
const POLL: Duration = Duration::from_millis(200);
/// Longer than any request should take: past it, the request is reported as hanging.
const HANG: Duration = Duration::from_secs(20);

const AGENDA: &str = "query($id: ID!) { node(id: $id) { ... on Meeting { agenda { id title } } } }";
const ADD_ITEM: &str = "mutation($input: AddAgendaItemInput!) { addAgendaItem(input: $input) { agendaItem { id title } } }";

fn skipped(test: &str) {
    eprintln!("{test}: skipped, it needs PostgreSQL (set TEST_DATABASE_URL)");
}

/// A GraphQL POST timed from send to the whole body; the body must be JSON.
async fn timed_graphql(
    app: &TestApp,
    query: &str,
    variables: Value,
    token: &str,
) -> (StatusCode, Value, Duration) {
    let sent = Instant::now();
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .timeout(HANG)
        .send()
        .await
        .unwrap_or_else(|error| panic!("no answer after {:?}: {error}", sent.elapsed()));
    let status = response.status();
    let text = response
        .text()
        .await
        .unwrap_or_else(|error| panic!("no whole body after {:?}: {error}", sent.elapsed()));
    let elapsed = sent.elapsed();
    let body = serde_json::from_str(&text).unwrap_or_else(|error| {
        panic!("{status} after {elapsed:?} with a body that is not JSON ({error}): {text}")
    });
    (status, body, elapsed)
}

/// GETs `path`; its status and how long it took, or `None` when it did not answer in `within`.
async fn timed_get(app: &TestApp, path: &str, within: Duration) -> (Option<StatusCode>, Duration) {
    let sent = Instant::now();
    let status = app
        .client
        .get(app.url(path))
        .timeout(within)
        .send()
        .await
        .ok()
        .map(|response| response.status());
    (status, sent.elapsed())
}

/// Asserts a request that needed the database failed with a bare `INTERNAL` within
/// [`FAIL_FAST`], and that nothing in the body tells how the database is reached.
fn assert_fails_fast(what: &str, proxy: &Proxy, answer: &(StatusCode, Value, Duration)) {
    let (status, body, elapsed) = answer;
    assert_eq!(
        error_code(body),
        Some("INTERNAL"),
        "{what} while the database is down: {status} after {elapsed:?}: {body}"
    );
    assert!(
        *elapsed <= FAIL_FAST,
        "{what} took {elapsed:?} to fail (at most {FAIL_FAST:?}): {status} {body}"
    );
    let text = body["errors"].to_string().to_lowercase();
    let address = proxy.address().to_string();
    let target = proxy.target().to_lowercase();
    let telling = [
        "postgres",
        "sqlx",
        "sea_orm",
        "sea-orm",
        "dberr",
        "pool",
        "connection",
        "connect",
        "refused",
        "reset",
        "broken pipe",
        "i/o",
        "io error",
        "tcp",
        "socket",
        "timed out",
        "tete_test_",
        address.as_str(),
        target.as_str(),
    ];
    for word in telling {
        assert!(
            !text.contains(word),
            "{what}: the error tells the client about {word:?}: {body}"
        );
    }
}

/// Polls `/readyz` every [`POLL`] until it is 200; how long that took.
async fn until_ready(app: &TestApp, within: Duration) -> Duration {
    let since = Instant::now();
    let mut last = None;
    while since.elapsed() < within {
        let (status, _) = timed_get(app, "/readyz", Duration::from_secs(2)).await;
        if status == Some(StatusCode::OK) {
            return since.elapsed();
        }
        last = status;
        tokio::time::sleep(POLL).await;
    }
    panic!("/readyz was not 200 within {within:?} of the database coming back (last: {last:?})");
}

fn agenda_titles(body: &Value) -> Vec<String> {
    body["data"]["node"]["agenda"]
        .as_array()
        .unwrap_or_else(|| panic!("an agenda: {body}"))
        .iter()
        .map(|item| item["title"].as_str().unwrap_or("?").to_owned())
        .collect()
}

#[tokio::test]
async fn requests_fail_fast_and_readiness_drops_while_the_database_is_down() {
    let Some((app, proxy)) = spawn_app_behind_proxy().await else {
        return skipped("requests_fail_fast_and_readiness_drops_while_the_database_is_down");
    };
    let pair = pair(&app).await;
    let meeting_id = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    add_item(&app, &pair.manager, &meeting_id, "Before the outage").await;
    let max = &pair.manager.access_token;
    let read = || timed_graphql(&app, AGENDA, json!({ "id": meeting_id }), max);
    let (_, before, _) = read().await;
    assert_eq!(agenda_titles(&before), ["Before the outage"], "{before}");

    proxy.cut();
    let query = read().await;
    assert_fails_fast("a query", &proxy, &query);
    let lost = "Added during the outage";
    let add = json!({ "input": { "meetingId": meeting_id, "title": lost, "category": "OTHER" } });
    let mutation = timed_graphql(&app, ADD_ITEM, add, max).await;
    assert_fails_fast("a mutation", &proxy, &mutation);
    let (ready, waited) = timed_get(&app, "/readyz", HANG).await;
    assert_eq!(
        ready,
        Some(StatusCode::SERVICE_UNAVAILABLE),
        "/readyz while the database is down, after {waited:?}"
    );
    assert!(waited <= FAIL_FAST, "/readyz took {waited:?} to say 503");
    eprintln!(
        "while down: the query failed after {:?} ({} {}), the mutation after {:?} ({}), \
         /readyz 503 after {waited:?}",
        query.2, query.0, query.1, mutation.2, mutation.0
    );
    let (health, waited) = timed_get(&app, "/healthz", FAIL_FAST).await;
    assert_eq!(
        health,
        Some(StatusCode::OK),
        "/healthz while the database is down, after {waited:?}"
    );

    proxy.restore();
    let since = Instant::now();
    let mut last = None;
    loop {
        let (ready, _) = timed_get(&app, "/readyz", Duration::from_secs(2)).await;
        let (status, body, _) = read().await;
        if ready == Some(StatusCode::OK) && body.get("errors").is_none() {
            eprintln!("recovered {:?} after the restore", since.elapsed());
            assert_eq!(
                agenda_titles(&body),
                ["Before the outage"],
                "the mutation that failed during the outage left something behind: {body}"
            );
            break;
        }
        assert!(
            since.elapsed() < RECOVER_WITHIN,
            "not recovered {RECOVER_WITHIN:?} after the database came back: /readyz \
             {ready:?}, the query {status} {body} (before that: {last:?})"
        );
        last = Some((ready, status, body));
        tokio::time::sleep(POLL).await;
    }
    // Writes work again too.
    add_item(&app, &pair.manager, &meeting_id, "After the outage").await;
    let titles: Vec<Value> = agenda(&app, &pair.manager, &meeting_id)
        .await
        .iter()
        .map(|item| item["title"].clone())
        .collect();
    assert_eq!(titles, ["Before the outage", "After the outage"]);
}

/// Reads `meetingEvents` until an `AGENDA_ITEM_ADDED` titled `last_title` arrives, within
/// `within`; whenever the subscription ends (an error, `complete`, or the socket closes), it
/// subscribes again with `afterSequence` = the last sequence received, as a client would.
/// Returns every event received, and what happened to the subscription on the way.
async fn read_resuming(
    app: &TestApp,
    who: &Session,
    ws: &mut Ws,
    meeting_id: &str,
    mut last_seen: i64,
    last_title: &str,
    within: Duration,
) -> (Vec<Value>, Vec<String>) {
    let deadline = Instant::now() + within;
    let (mut received, mut happened) = (Vec::new(), Vec::new());
    let mut id = 1;
    loop {
        let subscription = id.to_string();
        let frame = ws.frame_before(deadline).await;
        let ended = match frame {
            None => panic!(
                "no {last_title:?} within {within:?}: received {:?}, happened {happened:?}",
                sequences(&received)
            ),
            Some(Frame::Ping) => false,
            Some(Frame::Json(message)) => match message["type"].as_str() {
                Some("ka") => false,
                Some("next") if message["payload"].get("errors").is_some() => {
                    assert_eq!(message["id"], subscription.as_str(), "{message}");
                    happened.push(format!("error event {}", message["payload"]));
                    // `complete` follows, or the socket closes.
                    false
                }
                Some("next") => {
                    assert_eq!(message["id"], subscription.as_str(), "{message}");
                    let event = message["payload"]["data"]["meetingEvents"].clone();
                    let sequence = event["sequence"]
                        .as_i64()
                        .unwrap_or_else(|| panic!("an event with a sequence: {message}"));
                    let done = event["kind"] == "AGENDA_ITEM_ADDED"
                        && event["agendaItem"]["title"] == last_title;
                    last_seen = sequence;
                    received.push(event);
                    if done {
                        return (received, happened);
                    }
                    false
                }
                Some("error") => {
                    assert_eq!(message["id"], subscription.as_str(), "{message}");
                    happened.push(format!("error {}", message["payload"]));
                    true
                }
                Some("complete") => {
                    assert_eq!(message["id"], subscription.as_str(), "{message}");
                    happened.push("complete".into());
                    true
                }
                _ => panic!("unexpected message {message}"),
            },
            Some(Frame::Closed(code)) => {
                happened.push(format!("socket closed ({code:?}), reconnected"));
                *ws = Ws::open(app, &who.access_token).await;
                true
            }
        };
        if ended {
            assert!(
                id < 10,
                "the subscription keeps ending: happened {happened:?}"
            );
            id += 1;
            ws.subscribe(&id.to_string(), meeting_id, Some(last_seen))
                .await;
            happened.push(format!("resubscribed with afterSequence {last_seen}"));
        }
    }
}

/// Asserts `received` is exactly `first..=last`: in order, no gap, no duplicate.
fn assert_contiguous(received: &[Value], first: i64, last: i64) {
    let got = sequences(received);
    let expected: Vec<i64> = (first..=last).collect();
    assert_eq!(
        got, expected,
        "events {first}..={last} once each, in order: {received:#?}"
    );
}

fn added_titles(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .filter(|event| event["kind"] == "AGENDA_ITEM_ADDED")
        .map(|event| event["agendaItem"]["title"].as_str().unwrap_or("?"))
        .collect()
}

#[tokio::test]
async fn subscribers_resume_after_an_outage_without_missing_an_event() {
    let Some((app, proxy)) = spawn_app_behind_proxy().await else {
        return skipped("subscribers_resume_after_an_outage_without_missing_an_event");
    };
    let pair = pair(&app).await;
    let meeting_id = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    let mut bob = Ws::open(&app, &pair.report.access_token).await;
    bob.subscribe("1", &meeting_id, None).await;
    let joined = bob.event("1").await;
    assert_eq!(joined["kind"], "PARTICIPANT_JOINED", "{joined}");
    for title in ["A1", "A2", "A3"] {
        add_item(&app, &pair.manager, &meeting_id, title).await;
    }
    let before = bob.events("1", 3).await;
    assert_eq!(added_titles(&before), ["A1", "A2", "A3"], "{before:#?}");
    let joined_at = joined["sequence"].as_i64().expect("a sequence");
    assert_contiguous(&before, joined_at + 1, joined_at + 3);
    let last_seen = joined_at + 3;

    proxy.cut();
    tokio::time::sleep(Duration::from_secs(1)).await;
    proxy.restore();
    let ready_after = until_ready(&app, RECOVER_WITHIN).await;

    for title in ["B1", "B2", "B3"] {
        add_item(&app, &pair.manager, &meeting_id, title).await;
    }
    let (after, happened) = read_resuming(
        &app,
        &pair.report,
        &mut bob,
        &meeting_id,
        last_seen,
        "B3",
        RECOVER_WITHIN,
    )
    .await;
    let kept = if happened.is_empty() {
        "stayed open".to_owned()
    } else {
        happened.join("; ")
    };
    eprintln!("ready {ready_after:?} after the restore; the subscription {kept}");
    let head = *sequences(&after).last().expect("B3");
    assert_contiguous(&after, last_seen + 1, head);
    assert_eq!(added_titles(&after), ["B1", "B2", "B3"], "{after:#?}");
}

/// Reads events of subscription `"1"` until an `AGENDA_ITEM_ADDED` titled `title`, skipping
/// others (presence); how long it took, or a failure naming what came instead.
async fn until_added(ws: &mut Ws, title: &str, within: Duration) -> (Value, Duration) {
    let since = Instant::now();
    let deadline = since + within;
    let mut other = Vec::new();
    loop {
        match ws.frame_before(deadline).await {
            None => panic!("{title:?} did not arrive within {within:?}; got {other:?}"),
            Some(Frame::Ping) => {}
            Some(Frame::Json(message)) if message["type"] == "next" => {
                let event = &message["payload"]["data"]["meetingEvents"];
                if event["kind"] == "AGENDA_ITEM_ADDED" && event["agendaItem"]["title"] == title {
                    return (event.clone(), since.elapsed());
                }
                other.push(message);
            }
            Some(Frame::Json(message)) => other.push(message),
            Some(Frame::Closed(code)) => {
                panic!("the socket closed ({code:?}) while waiting for {title:?}; got {other:?}")
            }
        }
    }
}

/// Opens a socket for `who`, subscribes to the meeting as `"1"` and waits for `who`'s own
/// `PARTICIPANT_JOINED`, which the subscription reads after it has started listening.
async fn follow(app: &TestApp, who: &Session, meeting_id: &str) -> Ws {
    let mut ws = Ws::open(app, &who.access_token).await;
    ws.subscribe("1", meeting_id, None).await;
    let joined = ws.event("1").await;
    assert_eq!(joined["kind"], "PARTICIPANT_JOINED", "{joined}");
    assert_eq!(
        joined["participant"]["id"],
        who.user_id.as_str(),
        "{joined}"
    );
    ws
}

#[tokio::test]
async fn every_instance_listens_again_after_a_longer_outage() {
    let Some((app, proxy)) = spawn_app_behind_proxy().await else {
        return skipped("every_instance_listens_again_after_a_longer_outage");
    };
    // Same configuration, so the sibling reaches the database through the proxy too.
    let sibling = app.spawn_sibling().await;
    let pair = pair(&app).await;
    let meeting_id = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    let (max_token, bob_token) = (&pair.manager, &pair.report);

    // Before: each instance hears the other.
    let mut max = follow(&app, max_token, &meeting_id).await;
    let mut bob = follow(&sibling, bob_token, &meeting_id).await;
    add_item(&sibling, bob_token, &meeting_id, "From B, before").await;
    until_added(&mut max, "From B, before", Duration::from_secs(5)).await;
    add_item(&app, max_token, &meeting_id, "From A, before").await;
    until_added(&mut bob, "From A, before", Duration::from_secs(5)).await;
    // Leave, so the subscriptions after the outage announce themselves again.
    max.close().await;
    bob.close().await;

    // Reset, not closed: as when the network or the database host fails. The listener must
    // reconnect on a new connection, not retry on the dead one.
    proxy.cut_with_reset();
    tokio::time::sleep(Duration::from_secs(3)).await;
    proxy.restore();
    let ready_a = until_ready(&app, RECOVER_WITHIN).await;
    let ready_b = until_ready(&sibling, RECOVER_WITHIN).await;
    eprintln!("ready after the restore: A {ready_a:?}, B {ready_b:?}");

    // New subscriptions, live once their own PARTICIPANT_JOINED has come: a change made on the
    // other instance can only reach them through the event bus.
    let mut max = follow(&app, max_token, &meeting_id).await;
    let mut bob = follow(&sibling, bob_token, &meeting_id).await;
    add_item(&sibling, bob_token, &meeting_id, "From B, after").await;
    let (_, on_a) = until_added(&mut max, "From B, after", Duration::from_secs(5)).await;
    add_item(&app, max_token, &meeting_id, "From A, after").await;
    let (_, on_b) = until_added(&mut bob, "From A, after", Duration::from_secs(5)).await;
    eprintln!("after the outage, B→A took {on_a:?}, A→B took {on_b:?}");
}
