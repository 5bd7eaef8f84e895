//! Concurrent clients: versioned note edits lose no update, a create retried under one
//! `clientMutationId` creates one thing however the retries race, and racing check-ins leave
//! one.

use serde_json::{Value, json};
use tete_tests::{TestApp, error_code, spawn_app};
use tokio::task::JoinSet;

use crate::support::{agenda_ids, create_note, day, ids, meeting, node, pair, schedule};

const UPDATE_NOTE: &str =
    "mutation($input: UpdateNoteInput!) { updateNote(input: $input) { note { id body version } } }";
const ADD_ITEM: &str = "mutation($input: AddAgendaItemInput!) { addAgendaItem(input: $input) { clientMutationId agendaItem { id title } } }";
const SUBMIT_CHECK_IN: &str = "mutation($input: SubmitCheckInInput!) { submitCheckIn(input: $input) { checkIn { id mood } } }";
const CREATE_NOTE: &str = "mutation($input: CreateNoteInput!) { createNote(input: $input) { clientMutationId note { id body version } } }";

/// A POST made from a spawned task, which cannot borrow the `TestApp`.
async fn post(
    client: reqwest::Client,
    url: String,
    token: String,
    query: &str,
    variables: Value,
) -> Value {
    client
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .expect("a JSON body")
}

#[tokio::test]
async fn two_edits_of_the_same_version_one_wins_the_other_conflicts() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let meeting_id = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    let note = create_note(&app, &pair.manager, &meeting_id, "SHARED", "v1").await;
    // Several rounds, so the two requests really do overlap in some of them.
    for round in 1..=10 {
        let edit = |body: String| json!({ "input": { "noteId": note, "body": body, "expectedVersion": round } });
        let (max, bob) = tokio::join!(
            app.graphql(
                UPDATE_NOTE,
                edit(format!("Max, round {round}")),
                Some(&pair.manager.access_token)
            ),
            app.graphql(
                UPDATE_NOTE,
                edit(format!("Bob, round {round}")),
                Some(&pair.report.access_token)
            ),
        );
        let (winner, loser) = match (error_code(&max), error_code(&bob)) {
            (None, Some(_)) => (&max, &bob),
            (Some(_), None) => (&bob, &max),
            _ => panic!("round {round}: exactly one edit must win:\n{max}\n{bob}"),
        };
        assert_eq!(
            error_code(loser),
            Some("CONFLICT"),
            "round {round}: {loser}"
        );
        assert_eq!(
            loser["errors"][0]["extensions"]["currentVersion"],
            round + 1,
            "round {round}: {loser}"
        );
        let written = &winner["data"]["updateNote"]["note"];
        assert_eq!(written["version"], round + 1);
        let stored = node(
            &app,
            Some(&pair.report.access_token),
            &note,
            "... on Note { body version }",
        )
        .await;
        assert_eq!(stored["data"]["node"]["body"], written["body"], "{stored}");
        assert_eq!(stored["data"]["node"]["version"], round + 1);
    }
}

#[tokio::test]
async fn fifty_racing_retries_of_one_add_create_one_agenda_item() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let meeting_id = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    let mut requests = JoinSet::new();
    for _ in 0..50 {
        let (client, url, token) = (
            app.client.clone(),
            app.url("/graphql"),
            pair.report.access_token.clone(),
        );
        let variables = json!({ "input": { "meetingId": meeting_id, "title": "Flaky network", "clientMutationId": "retry-me" } });
        requests.spawn(async move { post(client, url, token, ADD_ITEM, variables).await });
    }
    let mut created = Vec::new();
    while let Some(answer) = requests.join_next().await {
        let body = answer.expect("the request task");
        assert!(body.get("errors").is_none(), "{body}");
        let payload = &body["data"]["addAgendaItem"];
        assert_eq!(payload["clientMutationId"], "retry-me");
        created.push(payload["agendaItem"]["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(created.len(), 50);
    created.sort();
    created.dedup();
    assert_eq!(created.len(), 1, "every retry answers with the first item");
    assert_eq!(agenda_ids(&app, &pair.manager, &meeting_id).await, created);
}

async fn create(app: &TestApp, token: &str, meeting_id: &str, body: &str) -> Value {
    app.graphql(
        CREATE_NOTE,
        json!({ "input": { "meetingId": meeting_id, "visibility": "SHARED", "body": body, "clientMutationId": "note-1" } }),
        Some(token),
    )
    .await
}

#[tokio::test]
async fn a_retried_create_note_returns_the_first_note() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let meeting_id = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    let token = &pair.manager.access_token;
    let first = create(&app, token, &meeting_id, "Decisions").await;
    let again = create(&app, token, &meeting_id, "Decisions").await;
    assert!(first.get("errors").is_none(), "{first}");
    assert_eq!(again["data"]["createNote"]["clientMutationId"], "note-1");
    assert_eq!(
        again["data"]["createNote"]["note"],
        first["data"]["createNote"]["note"]
    );
    let notes = meeting(&app, &pair.report, &meeting_id, "notes { id }").await;
    assert_eq!(
        ids(&notes["notes"]),
        vec![
            first["data"]["createNote"]["note"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        ]
    );
}

#[tokio::test]
async fn two_racing_first_check_ins_of_a_meeting_leave_one() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let token = Some(pair.report.access_token.as_str());
    let submit = |meeting_id: &str, mood: i64| {
        app.graphql(
            SUBMIT_CHECK_IN,
            json!({ "input": { "meetingId": meeting_id, "mood": mood, "sharedWithManager": true } }),
            token,
        )
    };
    // Several meetings, so the two submissions really do overlap in some of them.
    for round in 1..=10 {
        let meeting_id = schedule(&app, &pair.manager, &pair.series, day(round)).await;
        let (first, second) = tokio::join!(submit(&meeting_id, 2), submit(&meeting_id, 4));
        for body in [&first, &second] {
            assert!(body.get("errors").is_none(), "round {round}: {body}");
        }
        let check_ins = meeting(&app, &pair.report, &meeting_id, "checkIns { id mood }").await;
        let check_ins = check_ins["checkIns"].as_array().expect("check-ins");
        assert_eq!(check_ins.len(), 1, "round {round}: {check_ins:?}");
        assert!([2, 4].contains(&check_ins[0]["mood"].as_i64().unwrap_or_default()));
    }
}
