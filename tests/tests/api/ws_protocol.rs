//! The WebSocket as a protocol peer sees it: `graphql-transport-ws`'s close codes for messages
//! out of order, bounds on what one connection and one user may hold, and a flood on one socket
//! that leaves everyone else served.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{Value, json};
use tete_tests::{TestApp, error_code, spawn_app, spawn_app_with};

use crate::{
    api_tokens::{ALL_SCOPES, create_token, seed},
    support::{day, deactivate, pair, schedule},
    ws::{MEETING_EVENTS, TRANSPORT_WS, WAIT, Ws},
};

/// The id of a meeting nobody has.
fn no_meeting() -> String {
    tete_api::ids::encode(tete_api::ids::NodeKind::Meeting, uuid::Uuid::now_v7()).0
}

fn subscribe(id: &str, meeting_id: &str) -> Value {
    json!({
        "id": id,
        "type": "subscribe",
        "payload": { "query": MEETING_EVENTS, "variables": { "m": meeting_id } },
    })
}

#[tokio::test]
async fn an_operation_before_the_acknowledgement_closes_with_4401() {
    let app = spawn_app().await;
    let mut ws = Ws::connect(&app, TRANSPORT_WS).await;
    ws.send(subscribe("1", &no_meeting())).await;
    let (messages, code) = ws.close_code(WAIT).await;
    assert_eq!(code, Some(4401), "{messages:?}");
    assert!(messages.is_empty(), "{messages:?}");
}

#[tokio::test]
async fn a_second_subscribe_with_an_id_in_use_closes_with_4409() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let meeting_id = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    let mut ws = Ws::open(&app, &pair.manager.access_token).await;
    ws.subscribe("1", &meeting_id, None).await;
    ws.event("1").await;
    ws.subscribe("1", &meeting_id, None).await;
    let (_, code) = ws.close_code(WAIT).await;
    assert_eq!(code, Some(4409));
}

#[tokio::test]
async fn an_id_may_be_used_again_once_its_operation_is_complete() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let mut ws = Ws::open(&app, &admin.access_token).await;
    for _ in 0..3 {
        let body = ws.operation("same", "{ viewer { id } }", json!({})).await;
        assert!(body["data"]["viewer"]["id"].is_string(), "{body}");
    }
}

#[tokio::test]
async fn a_second_connection_init_closes_with_4429() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let mut ws = Ws::open(&app, &admin.access_token).await;
    ws.init(Some(&admin.access_token)).await;
    let (_, code) = ws.close_code(WAIT).await;
    assert_eq!(code, Some(4429));
}

#[tokio::test]
async fn a_message_that_is_not_the_protocols_closes_with_4400() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    for bad in [
        json!({ "type": "launch", "id": "1" }),
        json!({ "type": "subscribe", "payload": { "query": "{ __typename }" } }),
        json!(["not", "an", "object"]),
    ] {
        let mut ws = Ws::open(&app, &admin.access_token).await;
        ws.send(bad.clone()).await;
        let (_, code) = ws.close_code(WAIT).await;
        assert_eq!(code, Some(4400), "{bad}");
    }
}

#[tokio::test]
async fn an_oversized_message_closes_with_1009_and_a_reason() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let mut ws = Ws::open(&app, &admin.access_token).await;
    let padding = "x".repeat(70 * 1024);
    ws.send(json!({ "id": "1", "type": "subscribe", "payload": { "query": format!("{{ __typename }} # {padding}") } }))
        .await;
    let (_, code) = ws.close_code(WAIT).await;
    assert_eq!(code, Some(1009));
    // The server itself is unharmed.
    assert_eq!(
        app.ok("{ __typename }", json!({}), None).await["__typename"],
        "Query"
    );
}

#[tokio::test]
async fn a_ping_message_is_answered_with_pong() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let mut ws = Ws::open(&app, &admin.access_token).await;
    ws.send(json!({ "type": "ping", "payload": { "at": 1 } }))
        .await;
    let pong = ws.message().await;
    assert_eq!(pong, json!({ "type": "pong", "payload": { "at": 1 } }));
}

#[tokio::test]
async fn one_connection_holds_a_bounded_number_of_operations() {
    let app = spawn_app_with(|config| config.ws_max_operations = 3).await;
    let pair = pair(&app).await;
    let meeting_id = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    let mut ws = Ws::open(&app, &pair.manager.access_token).await;
    // The first subscription announces Max; the others do not.
    ws.subscribe("1", &meeting_id, None).await;
    ws.event("1").await;
    ws.subscribe("2", &meeting_id, None).await;
    ws.subscribe("3", &meeting_id, None).await;
    ws.subscribe("4", &meeting_id, None).await;
    let refused = ws.message().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "4");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "RATE_LIMITED");
    // The others go on, and a place freed is a place taken.
    ws.stop("2").await;
    assert_eq!(ws.message().await["type"], "complete");
    ws.subscribe("4", &meeting_id, None).await;
    ws.no_message_within(Duration::from_millis(300)).await;
    let body = ws.operation("5", "{ viewer { id } }", json!({})).await;
    assert_eq!(
        error_code(&body),
        Some("RATE_LIMITED"),
        "queries count too: {body}"
    );
}

#[tokio::test]
async fn one_user_holds_a_bounded_number_of_subscriptions_across_connections() {
    let app = spawn_app_with(|config| config.max_subscriptions_per_user = 3).await;
    let pair = pair(&app).await;
    let meeting_id = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    let mut phone = Ws::open(&app, &pair.manager.access_token).await;
    let mut laptop = Ws::open(&app, &pair.manager.access_token).await;
    phone.subscribe("1", &meeting_id, None).await;
    phone.event("1").await;
    phone.subscribe("2", &meeting_id, None).await;
    laptop.subscribe("1", &meeting_id, None).await;
    laptop.no_message_within(Duration::from_millis(300)).await;
    laptop.subscribe("2", &meeting_id, None).await;
    assert_eq!(laptop.refusal("2").await, "RATE_LIMITED");
    // Bob has places of his own (and Max sees him join).
    let mut bob = Ws::open(&app, &pair.report.access_token).await;
    bob.subscribe("1", &meeting_id, None).await;
    assert_eq!(bob.event("1").await["kind"], "PARTICIPANT_JOINED");
    assert_eq!(laptop.event("1").await["kind"], "PARTICIPANT_JOINED");
    // A closed connection gives its places back.
    phone.close().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    laptop.subscribe("3", &meeting_id, None).await;
    laptop.subscribe("4", &meeting_id, None).await;
    laptop.no_message_within(Duration::from_millis(300)).await;
}

/// How long one plain request takes, answered.
async fn timed_request(app: &TestApp, token: &str) -> Duration {
    let sent = Instant::now();
    let body = app
        .graphql(
            "{ viewer { id oneOnOnes(first: 5) { totalCount } } }",
            json!({}),
            Some(token),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    sent.elapsed()
}

#[tokio::test]
async fn a_subscribe_flood_on_one_socket_leaves_everyone_else_served() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let meeting_id = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    let attacker = app.sign_up("Mallory Inc", "mallory@example.com").await;

    let mut baseline = Vec::new();
    for _ in 0..10 {
        baseline.push(timed_request(&app, &pair.manager.access_token).await);
    }
    baseline.sort();

    let mut flood = Ws::open(&app, &attacker.access_token).await;
    let flooding = async {
        let nowhere = no_meeting();
        for i in 0..1_000 {
            flood.send(subscribe(&i.to_string(), &nowhere)).await;
        }
        // Every one of them is answered: NOT_FOUND, or refused past the connection's bound.
        let mut answered = 0;
        while answered < 1_000 {
            let message = flood.message().await;
            match message["type"].as_str() {
                Some("error") => answered += 1,
                Some("next") => {
                    assert_eq!(
                        message["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
                        "{message}"
                    );
                    answered += 1;
                }
                Some("complete") => {}
                _ => panic!("{message}"),
            }
        }
        flood
    };
    let others = async {
        let mut during = Vec::new();
        for _ in 0..20 {
            during.push(timed_request(&app, &pair.report.access_token).await);
        }
        during
    };
    let (flood, during) = tokio::join!(flooding, others);
    let slowest = during.iter().max().copied().unwrap_or_default();
    assert!(
        slowest < Duration::from_millis(500).max(baseline[9] * 10),
        "others' requests took up to {slowest:?} during the flood (baseline up to {:?})",
        baseline[9]
    );
    flood.close().await;

    // Fully healthy right after: ready, and live subscriptions work.
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let mut ws = Ws::open(&app, &pair.manager.access_token).await;
    ws.subscribe("1", &meeting_id, None).await;
    assert_eq!(ws.event("1").await["kind"], "PARTICIPANT_JOINED");
    assert!(timed_request(&app, &pair.report.access_token).await < Duration::from_secs(1));
}

#[tokio::test]
async fn many_flooding_sockets_of_one_user_leave_everyone_else_served() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let attacker = app.sign_up("Mallory Inc", "mallory@example.com").await;
    let mut sockets = join_all((0..10).map(|_| Ws::open(&app, &attacker.access_token))).await;
    let nowhere = no_meeting();
    for ws in &mut sockets {
        for i in 0..20 {
            ws.send(subscribe(&i.to_string(), &nowhere)).await;
        }
    }
    let mut during = Vec::new();
    for _ in 0..10 {
        during.push(timed_request(&app, &pair.report.access_token).await);
    }
    let slowest = during.iter().max().copied().unwrap_or_default();
    assert!(slowest < Duration::from_secs(1), "up to {slowest:?}");
    for ws in sockets {
        ws.close().await;
    }
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

/// A second instance on the same database where there can be one (PostgreSQL).
async fn sibling(app: &TestApp) -> Option<TestApp> {
    let on_postgres = std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty());
    match on_postgres {
        true => Some(app.spawn_sibling().await),
        false => None,
    }
}

/// A socket on `app` opened with `token`, following the meeting from its first event.
async fn following(app: &TestApp, token: &str, meeting_id: &str) -> Ws {
    let mut ws = Ws::open(app, token).await;
    ws.subscribe("1", meeting_id, Some(0)).await;
    ws.event("1").await;
    ws
}

/// Every socket is closed with 4403 within a second of `since`.
async fn all_closed_within_a_second(sockets: Vec<Ws>, since: Instant) {
    for mut ws in sockets {
        let (_, code) = ws.close_code(Duration::from_secs(2)).await;
        assert_eq!(code, Some(4403));
        let after = since.elapsed();
        assert!(after < Duration::from_secs(1), "closed after {after:?}");
    }
}

#[tokio::test]
async fn revoking_a_token_closes_its_sockets_within_a_second_on_every_instance() {
    let app = spawn_app().await;
    let sibling = sibling(&app).await;
    let fx = seed(&app).await;
    let token = create_token(&app, &fx.bob, "Live tool", &ALL_SCOPES).await;
    let mut sockets = vec![following(&app, &token.secret, fx.id("M")).await];
    if let Some(sibling) = &sibling {
        sockets.push(following(sibling, &token.secret, fx.id("M")).await);
    }
    // Bob's own session is not the token: it stays.
    let mut bobs = Ws::open(&app, &fx.bob.access_token).await;
    let revoked = Instant::now();
    app.ok(
        "mutation($input: RevokeApiTokenInput!) { revokeApiToken(input: $input) { apiToken { id } } }",
        json!({ "input": { "apiTokenId": token.id } }),
        Some(&fx.bob.access_token),
    )
    .await;
    all_closed_within_a_second(sockets, revoked).await;
    let body = bobs.operation("1", "{ viewer { id } }", json!({})).await;
    assert!(body["data"]["viewer"]["id"].is_string(), "{body}");
}

#[tokio::test]
async fn deactivating_a_user_closes_their_sockets_within_a_second_on_every_instance() {
    let app = spawn_app().await;
    let sibling = sibling(&app).await;
    let fx = seed(&app).await;
    let token = create_token(&app, &fx.bob, "Live tool", &ALL_SCOPES).await;
    let mut sockets = vec![
        following(&app, &token.secret, fx.id("M")).await,
        following(&app, &fx.bob.access_token, fx.id("M")).await,
    ];
    if let Some(sibling) = &sibling {
        sockets.push(following(sibling, &fx.bob.access_token, fx.id("M")).await);
    }
    let deactivated = Instant::now();
    deactivate(&app, &fx.ada, &fx.bob.user_id).await;
    all_closed_within_a_second(sockets, deactivated).await;
}
