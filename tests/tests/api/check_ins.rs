//! Check-ins: the report's mood at a meeting, shared with the manager or kept to themselves.

use serde_json::{Value, json};
use tete_tests::{TestApp, error_code, spawn_app};

use crate::support::{Pair, day, ids, meeting, node, pair, schedule, submit_check_in};

const SUBMIT: &str = "mutation($input: SubmitCheckInInput!) { submitCheckIn(input: $input) { clientMutationId checkIn { id meeting { id } author { id } mood comment sharedWithManager } } }";

async fn meeting_of(app: &TestApp) -> (Pair, String) {
    let pair = pair(app).await;
    let id = schedule(app, &pair.manager, &pair.series, day(1)).await;
    (pair, id)
}

#[tokio::test]
async fn the_report_submits_a_check_in() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let data = app
        .ok(
            SUBMIT,
            json!({ "input": { "meetingId": meeting_id, "mood": 4, "comment": "Good week", "sharedWithManager": true, "clientMutationId": "c-1" } }),
            Some(&pair.report.access_token),
        )
        .await;
    let payload = &data["submitCheckIn"];
    assert_eq!(payload["clientMutationId"], "c-1");
    let check_in = &payload["checkIn"];
    assert_eq!(check_in["meeting"]["id"], meeting_id.as_str());
    assert_eq!(check_in["author"]["id"], pair.report.user_id.as_str());
    assert_eq!(check_in["mood"], 4);
    assert_eq!(check_in["comment"], "Good week");
    assert_eq!(check_in["sharedWithManager"], true);
    let seen = meeting(
        &app,
        &pair.manager,
        &meeting_id,
        "checkIns { id mood comment }",
    )
    .await;
    assert_eq!(seen["checkIns"].as_array().unwrap().len(), 1);
    assert_eq!(seen["checkIns"][0]["id"], check_in["id"]);
    assert_eq!(seen["checkIns"][0]["comment"], "Good week");
}

#[tokio::test]
async fn the_manager_cannot_submit_a_check_in() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let body = app
        .graphql(
            SUBMIT,
            json!({ "input": { "meetingId": meeting_id, "mood": 5, "sharedWithManager": true } }),
            Some(&pair.manager.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let seen = meeting(&app, &pair.report, &meeting_id, "checkIns { id }").await;
    assert!(seen["checkIns"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_mood_is_between_1_and_5() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    for mood in [0, 6, -1, 100] {
        let body = app
            .graphql(
                SUBMIT,
                json!({ "input": { "meetingId": meeting_id, "mood": mood, "sharedWithManager": true } }),
                Some(&pair.report.access_token),
            )
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{mood}: {body}");
    }
    let seen = meeting(&app, &pair.report, &meeting_id, "checkIns { id }").await;
    assert!(seen["checkIns"].as_array().unwrap().is_empty());
    for mood in [1, 5] {
        let data = app
            .ok(
                SUBMIT,
                json!({ "input": { "meetingId": meeting_id, "mood": mood, "sharedWithManager": true } }),
                Some(&pair.report.access_token),
            )
            .await;
        assert_eq!(data["submitCheckIn"]["checkIn"]["mood"], mood);
    }
}

#[tokio::test]
async fn submitting_again_replaces_the_check_in() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let first = submit_check_in(&app, &pair.report, &meeting_id, 2, true).await;
    let data = app
        .ok(
            SUBMIT,
            json!({ "input": { "meetingId": meeting_id, "mood": 4, "comment": "Better now", "sharedWithManager": true } }),
            Some(&pair.report.access_token),
        )
        .await;
    let second = &data["submitCheckIn"]["checkIn"];
    assert_eq!(second["id"], first.as_str());
    assert_eq!(second["mood"], 4);
    let seen = meeting(
        &app,
        &pair.manager,
        &meeting_id,
        "checkIns { id mood comment }",
    )
    .await;
    assert_eq!(
        seen["checkIns"],
        json!([{ "id": first, "mood": 4, "comment": "Better now" }])
    );
}

#[tokio::test]
async fn a_private_check_in_is_hidden_from_the_manager() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let private = submit_check_in(&app, &pair.report, &meeting_id, 1, false).await;
    let own = meeting(
        &app,
        &pair.report,
        &meeting_id,
        "checkIns { id sharedWithManager }",
    )
    .await;
    assert_eq!(
        own["checkIns"],
        json!([{ "id": private, "sharedWithManager": false }])
    );
    let seen = meeting(&app, &pair.manager, &meeting_id, "checkIns { id }").await;
    assert_eq!(ids(&seen["checkIns"]), Vec::<String>::new());
    let body = node(
        &app,
        Some(&pair.manager.access_token),
        &private,
        "... on CheckIn { mood }",
    )
    .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    assert_eq!(body["data"]["node"], Value::Null);
    let body = node(
        &app,
        Some(&pair.report.access_token),
        &private,
        "... on CheckIn { mood }",
    )
    .await;
    assert_eq!(body["data"]["node"]["mood"], 1, "{body}");
}
