//! Rate limits: per user, per API token, per address, and on sign-in attempts.

use std::time::Duration;

use serde_json::json;
use tete_tests::{error_code, spawn_app, spawn_app_with};

use crate::support::{add_item, day, hold_meeting, pair, schedule};

#[tokio::test]
async fn each_user_has_a_request_budget_and_going_over_it_is_429() {
    let app = spawn_app_with(|config| config.rate_limit_per_minute = 5).await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    app.create_user(&admin, "bob@example.com", None).await;
    let bob = app.session("bob@example.com").await;
    let token = Some(admin.access_token.as_str());
    // The sign-up's and create_user's requests were anonymous or Ada's: spend the rest.
    let mut refused = None;
    for _ in 0..10 {
        let response = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&admin.access_token)
            .json(&json!({ "query": "{ viewer { id } }" }))
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            refused = Some(response);
            break;
        }
    }
    let refused = refused.expect("Ada is refused within ten requests");
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(error_code(&body), Some("RATE_LIMITED"));
    assert!(
        body["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .unwrap()
            >= 1
    );
    // Still refused, while Bob has a budget of his own.
    let (status, _) = app
        .post_graphql("{ viewer { id } }", json!({}), token)
        .await;
    assert_eq!(status, 429);
    let (status, _) = app
        .post_graphql("{ viewer { id } }", json!({}), Some(&bob.access_token))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_email() {
    let app = spawn_app().await;
    app.sign_up("Acme", "ada@example.com").await;
    let mut codes = Vec::new();
    for _ in 0..12 {
        let (status, body) = app
            .post_graphql(
                "mutation { signIn(input: { email: \"ada@example.com\", password: \"wrong password!\" }) { accessToken } }",
                json!({}),
                None,
            )
            .await;
        codes.push((status.as_u16(), error_code(&body).map(str::to_owned)));
    }
    assert!(
        codes[..10]
            .iter()
            .all(|(_, code)| code.as_deref() == Some("UNAUTHENTICATED")),
        "{codes:?}"
    );
    assert_eq!(
        codes[10],
        (429, Some("RATE_LIMITED".to_owned())),
        "{codes:?}"
    );
    // Even the right password waits now: guessing gains nothing.
    let body = app.sign_in("ada@example.com", tete_tests::PASSWORD).await;
    assert_eq!(error_code(&body), Some("RATE_LIMITED"));
}

#[tokio::test]
async fn past_capacity_requests_are_shed_with_a_time_to_retry() {
    // One request at a time; the test holds the meeting's row lock, so a write to the meeting
    // takes the only turn and keeps it until the test lets go.
    let app = spawn_app_with(|config| config.max_in_flight = 1).await;
    let pair = pair(&app).await;
    let meeting_id = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    let lock = hold_meeting(&app, &meeting_id).await;

    let writing = add_item(&app, &pair.manager, &meeting_id, "Waits for the lock");
    let shed = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let response = app
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let retry_after = response.headers().get("retry-after").cloned();
        let body: serde_json::Value = response.json().await.unwrap();
        lock.commit().await.unwrap();
        (status, retry_after, body)
    };
    let (item, (status, retry_after, body)) = tokio::join!(writing, shed);
    assert_eq!(status, 503, "{body}");
    assert_eq!(error_code(&body), Some("RATE_LIMITED"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"], 1);
    assert_eq!(retry_after.unwrap(), "1");
    // The request that had its turn finished normally, and nothing is left waiting.
    assert!(!item.is_empty());
    assert_eq!(
        app.ok("{ __typename }", json!({}), None).await["__typename"],
        "Query"
    );
}
