//! Action items: assigned to one of the two participants, edited and ticked off by either, and
//! listed as open on every later meeting of the series until done.

use serde_json::{Value, json};
use tete_tests::{TestApp, error_code, spawn_app};

use crate::support::{Pair, create_action_item, day, end, ids, meeting, pair, schedule, start};

const CREATE: &str = "mutation($input: CreateActionItemInput!) { createActionItem(input: $input) { clientMutationId actionItem { id oneOnOne { id } meeting { id } assignee { id } createdBy { id } title dueOn completedAt } } }";
const UPDATE: &str = "mutation($input: UpdateActionItemInput!) { updateActionItem(input: $input) { actionItem { id title assignee { id } dueOn } } }";
const DONE: &str = "mutation($input: SetActionItemDoneInput!) { setActionItemDone(input: $input) { actionItem { id completedAt } } }";

async fn meeting_of(app: &TestApp) -> (Pair, String) {
    let pair = pair(app).await;
    let id = schedule(app, &pair.manager, &pair.series, day(1)).await;
    (pair, id)
}

async fn open_items(app: &TestApp, pair: &Pair, meeting_id: &str) -> Vec<String> {
    ids(&meeting(
        app,
        &pair.report,
        meeting_id,
        "oneOnOne { openActionItems { id } }",
    )
    .await["oneOnOne"]["openActionItems"])
}

#[tokio::test]
async fn either_participant_creates_an_action_item_for_either_participant() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let data = app
        .ok(
            CREATE,
            json!({ "input": { "meetingId": meeting_id, "title": "Write the RFC", "assigneeId": pair.report.user_id, "dueOn": "2031-03-15", "clientMutationId": "ai-1" } }),
            Some(&pair.manager.access_token),
        )
        .await;
    let payload = &data["createActionItem"];
    assert_eq!(payload["clientMutationId"], "ai-1");
    let item = &payload["actionItem"];
    assert_eq!(item["oneOnOne"]["id"], pair.series.as_str());
    assert_eq!(item["meeting"]["id"], meeting_id.as_str());
    assert_eq!(item["assignee"]["id"], pair.report.user_id.as_str());
    assert_eq!(item["createdBy"]["id"], pair.manager.user_id.as_str());
    assert_eq!(item["title"], "Write the RFC");
    assert_eq!(item["dueOn"], "2031-03-15");
    assert_eq!(item["completedAt"], Value::Null);

    let data = app
        .ok(
            CREATE,
            json!({ "input": { "meetingId": meeting_id, "title": "Book the budget", "assigneeId": pair.manager.user_id } }),
            Some(&pair.report.access_token),
        )
        .await;
    let second = &data["createActionItem"]["actionItem"];
    assert_eq!(second["assignee"]["id"], pair.manager.user_id.as_str());
    assert_eq!(second["createdBy"]["id"], pair.report.user_id.as_str());
    assert_eq!(second["dueOn"], Value::Null);
    let listed =
        ids(&meeting(&app, &pair.manager, &meeting_id, "actionItems { id }").await["actionItems"]);
    assert_eq!(
        listed,
        vec![
            item["id"].as_str().unwrap().to_owned(),
            second["id"].as_str().unwrap().to_owned()
        ]
    );
}

#[tokio::test]
async fn the_assignee_must_be_a_participant() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let outsider = app.create_user(&pair.admin, "oli@example.com", None).await;
    for assignee in [&outsider, &pair.admin.user_id] {
        let body = app
            .graphql(
                CREATE,
                json!({ "input": { "meetingId": meeting_id, "title": "Not yours", "assigneeId": assignee } }),
                Some(&pair.manager.access_token),
            )
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    }
    let item = create_action_item(
        &app,
        &pair.manager,
        &meeting_id,
        "Ours",
        &pair.report.user_id,
    )
    .await;
    let body = app
        .graphql(
            UPDATE,
            json!({ "input": { "actionItemId": item, "assigneeId": outsider } }),
            Some(&pair.manager.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    let listed = meeting(
        &app,
        &pair.report,
        &meeting_id,
        "actionItems { id assignee { id } }",
    )
    .await;
    assert_eq!(listed["actionItems"].as_array().unwrap().len(), 1);
    assert_eq!(
        listed["actionItems"][0]["assignee"]["id"],
        pair.report.user_id.as_str()
    );
}

#[tokio::test]
async fn either_participant_updates_an_action_item() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let item = create_action_item(
        &app,
        &pair.manager,
        &meeting_id,
        "Draft",
        &pair.report.user_id,
    )
    .await;
    let data = app
        .ok(
            UPDATE,
            json!({ "input": { "actionItemId": item, "title": "Final", "assigneeId": pair.manager.user_id, "dueOn": "2031-01-31" } }),
            Some(&pair.report.access_token),
        )
        .await;
    let updated = &data["updateActionItem"]["actionItem"];
    assert_eq!(updated["title"], "Final");
    assert_eq!(updated["assignee"]["id"], pair.manager.user_id.as_str());
    assert_eq!(updated["dueOn"], "2031-01-31");
    let data = app
        .ok(
            UPDATE,
            json!({ "input": { "actionItemId": item, "title": "Final, really" } }),
            Some(&pair.manager.access_token),
        )
        .await;
    let updated = &data["updateActionItem"]["actionItem"];
    assert_eq!(updated["title"], "Final, really");
    assert_eq!(updated["dueOn"], "2031-01-31");
}

#[tokio::test]
async fn an_item_is_done_and_undone_by_either_participant() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let item = create_action_item(
        &app,
        &pair.manager,
        &meeting_id,
        "Ship",
        &pair.report.user_id,
    )
    .await;
    let data = app
        .ok(
            DONE,
            json!({ "input": { "actionItemId": item, "done": true } }),
            Some(&pair.report.access_token),
        )
        .await;
    assert!(data["setActionItemDone"]["actionItem"]["completedAt"].is_string());
    let data = app
        .ok(
            DONE,
            json!({ "input": { "actionItemId": item, "done": false } }),
            Some(&pair.manager.access_token),
        )
        .await;
    assert_eq!(
        data["setActionItemDone"]["actionItem"]["completedAt"],
        Value::Null
    );
}

#[tokio::test]
async fn open_items_show_on_later_meetings_until_done() {
    let app = spawn_app().await;
    let (pair, first) = meeting_of(&app).await;
    let open = create_action_item(&app, &pair.manager, &first, "Open", &pair.report.user_id).await;
    let finished =
        create_action_item(&app, &pair.report, &first, "Quick", &pair.manager.user_id).await;
    app.ok(
        DONE,
        json!({ "input": { "actionItemId": finished, "done": true } }),
        Some(&pair.manager.access_token),
    )
    .await;
    assert_eq!(open_items(&app, &pair, &first).await, vec![open.clone()]);
    start(&app, &pair.manager, &first).await;
    let second = end(&app, &pair.manager, &first).await["nextMeeting"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // On the next meeting: still open, though created in the first.
    assert_eq!(open_items(&app, &pair, &second).await, vec![open.clone()]);
    let created_there = meeting(&app, &pair.report, &second, "actionItems { id }").await;
    assert!(created_there["actionItems"].as_array().unwrap().is_empty());
    let created_first = meeting(&app, &pair.report, &first, "actionItems { id }").await;
    assert_eq!(
        ids(&created_first["actionItems"]),
        vec![open.clone(), finished]
    );

    app.ok(
        DONE,
        json!({ "input": { "actionItemId": open, "done": true } }),
        Some(&pair.report.access_token),
    )
    .await;
    assert!(open_items(&app, &pair, &second).await.is_empty());
}
