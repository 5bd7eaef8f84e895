//! 1:1 series: started with a reporting line, archived when it ends, settings kept by the two
//! participants, and the next meeting to come.

use serde_json::{Value, json};
use tete_tests::{TestApp, error_code, spawn_app};

use crate::support::{
    SERIES, cancel, day, end, ids, one_on_ones, pair, schedule, start, time, wire,
};

const SET_MANAGER: &str = "mutation($input: SetManagerInput!) { setManager(input: $input) { user { id manager { id } } oneOnOne { id archivedAt manager { id } report { id } } } }";
const UPDATE: &str = "mutation($input: UpdateOneOnOneInput!) { updateOneOnOne(input: $input) { oneOnOne { id cadence defaultFormat defaultDurationMinutes lead } } }";

async fn set_manager(app: &TestApp, admin: &str, user: &str, manager: Option<&str>) -> Value {
    app.ok(
        SET_MANAGER,
        json!({ "input": { "userId": user, "managerId": manager } }),
        Some(admin),
    )
    .await["setManager"]
        .clone()
}

async fn series_node(app: &TestApp, token: &str, id: &str) -> Value {
    app.ok(
        &format!("query($id: ID!) {{ node(id: $id) {{ ... on OneOnOne {{ {SERIES} }} }} }}"),
        json!({ "id": id }),
        Some(token),
    )
    .await["node"]
        .clone()
}

async fn next_meeting(app: &TestApp, token: &str, series: &str) -> Value {
    let query = "query($id: ID!) { node(id: $id) { ... on OneOnOne { nextMeeting { id status scheduledAt } } } }";
    app.ok(query, json!({ "id": series }), Some(token)).await["node"]["nextMeeting"].clone()
}

#[tokio::test]
async fn creating_a_user_with_a_manager_starts_a_series_with_the_defaults() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let series = one_on_ones(&app, &pair.report, false).await;
    assert_eq!(series.len(), 1, "{series:?}");
    let series = &series[0];
    assert_eq!(series["id"], pair.series.as_str());
    assert_eq!(series["manager"]["id"], pair.manager.user_id.as_str());
    assert_eq!(series["report"]["id"], pair.report.user_id.as_str());
    assert_eq!(series["cadence"], "WEEKLY");
    assert_eq!(series["defaultFormat"], "VIDEO");
    assert_eq!(series["defaultDurationMinutes"], 30);
    assert_eq!(series["lead"], "REPORT");
    assert_eq!(series["archivedAt"], Value::Null);
}

#[tokio::test]
async fn set_manager_starts_a_series_and_returns_it() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let dee = app.create_user(&pair.admin, "dee@example.com", None).await;
    let dee_session = app.session("dee@example.com").await;
    assert!(one_on_ones(&app, &dee_session, true).await.is_empty());

    let payload = set_manager(
        &app,
        &pair.admin.access_token,
        &dee,
        Some(&pair.manager.user_id),
    )
    .await;
    let series = &payload["oneOnOne"];
    assert_eq!(series["manager"]["id"], pair.manager.user_id.as_str());
    assert_eq!(series["report"]["id"], dee.as_str());
    assert_eq!(series["archivedAt"], Value::Null);
    let listed = one_on_ones(&app, &dee_session, false).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], series["id"]);
    assert_eq!(listed[0]["cadence"], "WEEKLY");
    assert_eq!(listed[0]["defaultFormat"], "VIDEO");
    assert_eq!(listed[0]["defaultDurationMinutes"], 30);
    assert_eq!(listed[0]["lead"], "REPORT");
}

#[tokio::test]
async fn changing_the_manager_archives_the_old_series_and_starts_a_new_one() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let mia = app.create_user(&pair.admin, "mia@example.com", None).await;
    let payload = set_manager(
        &app,
        &pair.admin.access_token,
        &pair.report.user_id,
        Some(&mia),
    )
    .await;
    let new_series = payload["oneOnOne"]["id"].as_str().unwrap().to_owned();
    assert_ne!(new_series, pair.series);
    assert_eq!(payload["oneOnOne"]["manager"]["id"], mia.as_str());
    assert_eq!(payload["oneOnOne"]["archivedAt"], Value::Null);

    let old = series_node(&app, &pair.manager.access_token, &pair.series).await;
    assert!(old["archivedAt"].is_string(), "{old}");
    // Bob now has one active series, and both with includeArchived.
    let active = one_on_ones(&app, &pair.report, false).await;
    assert_eq!(ids(&json!(active)), vec![new_series.clone()]);
    let all = one_on_ones(&app, &pair.report, true).await;
    let mut all = ids(&json!(all));
    all.sort();
    let mut expected = vec![new_series, pair.series.clone()];
    expected.sort();
    assert_eq!(all, expected);
}

#[tokio::test]
async fn ending_the_reporting_line_archives_the_series() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let payload = set_manager(&app, &pair.admin.access_token, &pair.report.user_id, None).await;
    assert_eq!(payload["oneOnOne"], Value::Null);
    assert_eq!(payload["user"]["manager"], Value::Null);
    let old = series_node(&app, &pair.report.access_token, &pair.series).await;
    assert!(old["archivedAt"].is_string(), "{old}");
    assert!(one_on_ones(&app, &pair.manager, false).await.is_empty());
    assert_eq!(one_on_ones(&app, &pair.manager, true).await.len(), 1);
}

#[tokio::test]
async fn deactivating_a_user_archives_every_series_they_are_in() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    // Max is the report in one series (to Mia) and the manager in another (of Bob).
    let mia = app.create_user(&pair.admin, "mia@example.com", None).await;
    set_manager(
        &app,
        &pair.admin.access_token,
        &pair.manager.user_id,
        Some(&mia),
    )
    .await;
    let mia_session = app.session("mia@example.com").await;
    assert_eq!(one_on_ones(&app, &pair.manager, false).await.len(), 2);

    app.ok(
        "mutation($id: ID!) { deactivateUser(input: { userId: $id }) { user { id } } }",
        json!({ "id": pair.manager.user_id }),
        Some(&pair.admin.access_token),
    )
    .await;
    for who in [&pair.report, &mia_session] {
        assert!(one_on_ones(&app, who, false).await.is_empty());
        let archived = one_on_ones(&app, who, true).await;
        assert_eq!(archived.len(), 1, "{archived:?}");
        assert!(archived[0]["archivedAt"].is_string(), "{archived:?}");
    }
}

#[tokio::test]
async fn archived_series_are_listed_only_when_asked_for() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let cy = app
        .create_user(&pair.admin, "cy@example.com", Some(&pair.manager.user_id))
        .await;
    set_manager(&app, &pair.admin.access_token, &cy, None).await;
    let query = "query($archived: Boolean) { viewer { oneOnOnes(includeArchived: $archived) { totalCount edges { node { id archivedAt } } } } }";
    let token = Some(pair.manager.access_token.as_str());
    for (archived, count) in [(Value::Null, 1), (json!(false), 1), (json!(true), 2)] {
        let data = app.ok(query, json!({ "archived": archived }), token).await;
        let connection = &data["viewer"]["oneOnOnes"];
        assert_eq!(connection["totalCount"], count, "{archived}: {connection}");
        assert_eq!(
            connection["edges"].as_array().unwrap().len(),
            count,
            "{connection}"
        );
    }
}

#[tokio::test]
async fn one_on_ones_page_with_cursors() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    for email in ["cy@example.com", "dee@example.com"] {
        app.create_user(&pair.admin, email, Some(&pair.manager.user_id))
            .await;
    }
    let query = "query($after: String) { viewer { oneOnOnes(first: 2, after: $after) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } } }";
    let token = Some(pair.manager.access_token.as_str());
    let first = app.ok(query, json!({ "after": null }), token).await;
    let page = &first["viewer"]["oneOnOnes"];
    assert_eq!(page["totalCount"], 3);
    assert_eq!(page["edges"].as_array().unwrap().len(), 2);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let second = app
        .ok(
            query,
            json!({ "after": page["pageInfo"]["endCursor"] }),
            token,
        )
        .await;
    let rest = &second["viewer"]["oneOnOnes"];
    assert_eq!(rest["edges"].as_array().unwrap().len(), 1);
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);
    let mut seen: Vec<&Value> = page["edges"].as_array().unwrap().iter().collect();
    seen.extend(rest["edges"].as_array().unwrap());
    let mut seen: Vec<&str> = seen
        .iter()
        .map(|edge| edge["node"]["id"].as_str().unwrap())
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 3);
}

#[tokio::test]
async fn either_participant_updates_the_series_settings() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let data = app
        .ok(
            UPDATE,
            json!({ "input": { "oneOnOneId": pair.series, "cadence": "BIWEEKLY", "defaultFormat": "WALK_AND_TALK", "defaultDurationMinutes": 45, "lead": "SHARED" } }),
            Some(&pair.manager.access_token),
        )
        .await;
    let updated = &data["updateOneOnOne"]["oneOnOne"];
    assert_eq!(updated["cadence"], "BIWEEKLY");
    assert_eq!(updated["defaultFormat"], "WALK_AND_TALK");
    assert_eq!(updated["defaultDurationMinutes"], 45);
    assert_eq!(updated["lead"], "SHARED");

    // Only the fields given change.
    let data = app
        .ok(
            UPDATE,
            json!({ "input": { "oneOnOneId": pair.series, "cadence": "MONTHLY" } }),
            Some(&pair.report.access_token),
        )
        .await;
    let updated = &data["updateOneOnOne"]["oneOnOne"];
    assert_eq!(updated["cadence"], "MONTHLY");
    assert_eq!(updated["defaultFormat"], "WALK_AND_TALK");
    assert_eq!(updated["defaultDurationMinutes"], 45);
    assert_eq!(updated["lead"], "SHARED");
    let stored = series_node(&app, &pair.report.access_token, &pair.series).await;
    assert_eq!(stored["cadence"], "MONTHLY");
}

#[tokio::test]
async fn the_default_duration_is_between_5_and_480_minutes() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let token = Some(pair.manager.access_token.as_str());
    for minutes in [4, 481, 0, -30] {
        let body = app
            .graphql(
                UPDATE,
                json!({ "input": { "oneOnOneId": pair.series, "defaultDurationMinutes": minutes, "cadence": "MONTHLY" } }),
                token,
            )
            .await;
        assert_eq!(
            error_code(&body),
            Some("BAD_USER_INPUT"),
            "{minutes}: {body}"
        );
    }
    // The refused updates changed nothing, not even the valid field beside the bad one.
    let stored = series_node(&app, &pair.manager.access_token, &pair.series).await;
    assert_eq!(stored["defaultDurationMinutes"], 30);
    assert_eq!(stored["cadence"], "WEEKLY");
    for minutes in [5, 480] {
        let data = app
            .ok(
                UPDATE,
                json!({ "input": { "oneOnOneId": pair.series, "defaultDurationMinutes": minutes } }),
                token,
            )
            .await;
        assert_eq!(
            data["updateOneOnOne"]["oneOnOne"]["defaultDurationMinutes"],
            minutes
        );
    }
}

#[tokio::test]
async fn only_participants_update_a_series() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    app.create_user(&pair.admin, "oli@example.com", None).await;
    let oli = app.session("oli@example.com").await;
    let input = json!({ "input": { "oneOnOneId": pair.series, "cadence": "MONTHLY" } });
    let body = app
        .graphql(UPDATE, input.clone(), Some(&pair.admin.access_token))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "admin: {body}");
    let body = app
        .graphql(UPDATE, input.clone(), Some(&oli.access_token))
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "other member: {body}");
    let body = app.graphql(UPDATE, input, None).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    let stored = series_node(&app, &pair.manager.access_token, &pair.series).await;
    assert_eq!(stored["cadence"], "WEEKLY");
}

#[tokio::test]
async fn an_archived_series_is_read_only_for_its_former_participants() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let meeting = schedule(&app, &pair.manager, &pair.series, day(3)).await;
    set_manager(&app, &pair.admin.access_token, &pair.report.user_id, None).await;
    for who in [&pair.manager, &pair.report] {
        let body = app
            .graphql(
                UPDATE,
                json!({ "input": { "oneOnOneId": pair.series, "cadence": "MONTHLY" } }),
                Some(&who.access_token),
            )
            .await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
        let body = app
            .graphql(
                "mutation($input: ScheduleMeetingInput!) { scheduleMeeting(input: $input) { meeting { id } } }",
                json!({ "input": { "oneOnOneId": pair.series, "scheduledAt": wire(day(10)) } }),
                Some(&who.access_token),
            )
            .await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
        // Reading still works.
        let stored = series_node(&app, &who.access_token, &pair.series).await;
        assert_eq!(stored["cadence"], "WEEKLY");
        assert_eq!(stored["id"], pair.series.as_str());
    }
    let data = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on OneOnOne { meetings { totalCount edges { node { id } } } } } }",
            json!({ "id": pair.series }),
            Some(&pair.report.access_token),
        )
        .await;
    assert_eq!(data["node"]["meetings"]["totalCount"], 1);
    assert_eq!(
        data["node"]["meetings"]["edges"][0]["node"]["id"],
        meeting.as_str()
    );
}

#[tokio::test]
async fn next_meeting_is_the_earliest_scheduled_or_in_progress_one() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let next = || next_meeting(&app, &pair.report.access_token, &pair.series);
    assert_eq!(next().await, Value::Null);

    // Scheduled out of order: the earliest by time wins, not the first created.
    let later = schedule(&app, &pair.manager, &pair.series, day(14)).await;
    let sooner = schedule(&app, &pair.manager, &pair.series, day(7)).await;
    let found = next().await;
    assert_eq!(found["id"], sooner.as_str());
    assert_eq!(time(&found["scheduledAt"]), day(7));

    start(&app, &pair.manager, &sooner).await;
    let found = next().await;
    assert_eq!(found["id"], sooner.as_str());
    assert_eq!(found["status"], "IN_PROGRESS");

    end(&app, &pair.manager, &sooner).await;
    assert_eq!(next().await["id"], later.as_str());

    // A cancelled meeting is not the next one.
    let earliest = schedule(&app, &pair.manager, &pair.series, day(10)).await;
    assert_eq!(next().await["id"], earliest.as_str());
    cancel(&app, &pair.manager, &earliest).await;
    assert_eq!(next().await["id"], later.as_str());
}
