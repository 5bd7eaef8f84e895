//! The meeting screen loads in a fixed number of SQL statements, however long its lists are.

use serde_json::{Value, json};
use tete_tests::{Session, TestApp, spawn_app_with};

use crate::support::{
    Pair, add_item, create_action_item, create_note, day, mutate, pair, schedule, submit_check_in,
};

const VIEW: &str = "query($id: ID!) { node(id: $id) { ... on Meeting { agenda { title author { displayName } } notes { body author { displayName } } actionItems { title assignee { displayName } } checkIns { mood } currentTopic { title } oneOnOne { openActionItems { title assignee { displayName } } } } } }";

/// The meeting view as Max, and how many SQL statements it took. The fewest of three runs, so
/// that nothing the server does in the background is counted.
async fn view(app: &TestApp, who: &Session, meeting_id: &str) -> (Value, f64) {
    let mut fewest = f64::INFINITY;
    let mut data = Value::Null;
    for _ in 0..3 {
        let before = app.metric("tete_db_statements_total").await;
        data = app
            .ok(VIEW, json!({ "id": meeting_id }), Some(&who.access_token))
            .await;
        let after = app.metric("tete_db_statements_total").await;
        fewest = fewest.min(after - before);
    }
    (data["node"].clone(), fewest)
}

/// Adds `n` of each kind of content, alternating authors and assignees.
async fn grow(
    app: &TestApp,
    pair: &Pair,
    earlier: &str,
    meeting_id: &str,
    range: std::ops::Range<usize>,
) {
    for n in range {
        let (author, other) = if n % 2 == 0 {
            (&pair.manager, &pair.report)
        } else {
            (&pair.report, &pair.manager)
        };
        add_item(app, author, meeting_id, &format!("Topic {n}")).await;
        if n % 5 < 3 {
            let visibility = if n % 5 == 2 && author.user_id == pair.manager.user_id {
                "PRIVATE"
            } else {
                "SHARED"
            };
            create_note(app, author, meeting_id, visibility, &format!("Note {n}")).await;
            create_action_item(
                app,
                author,
                meeting_id,
                &format!("Action {n}"),
                &other.user_id,
            )
            .await;
            create_action_item(
                app,
                other,
                earlier,
                &format!("Older action {n}"),
                &author.user_id,
            )
            .await;
        }
    }
}

#[tokio::test]
async fn the_meeting_view_takes_the_same_few_statements_at_any_size() {
    // DataLoaders gather keys for a short window; on a busy machine a 1 ms window can split one
    // batch in two at random. A wider window makes the count depend on the query alone.
    let app = spawn_app_with(|config| config.dataloader_delay_ms = 20).await;
    let pair = pair(&app).await;
    let earlier = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    let meeting_id = schedule(&app, &pair.manager, &pair.series, day(8)).await;
    grow(&app, &pair, &earlier, &meeting_id, 0..5).await;
    submit_check_in(&app, &pair.report, &meeting_id, 4, true).await;
    let first_item = crate::support::agenda_ids(&app, &pair.manager, &meeting_id).await[0].clone();
    mutate(
        &app,
        &pair.manager,
        "setCurrentTopic",
        "SetCurrentTopicInput",
        json!({ "meetingId": meeting_id, "agendaItemId": first_item }),
        "meeting { id }",
    )
    .await;

    let (small, small_statements) = view(&app, &pair.manager, &meeting_id).await;
    assert_eq!(small["agenda"].as_array().unwrap().len(), 5, "{small}");
    assert_eq!(small["currentTopic"]["title"], "Topic 0");
    assert_eq!(small["checkIns"], json!([{ "mood": 4 }]));

    grow(&app, &pair, &earlier, &meeting_id, 5..50).await;
    let (large, large_statements) = view(&app, &pair.manager, &meeting_id).await;
    assert_eq!(large["agenda"].as_array().unwrap().len(), 50);
    assert_eq!(large["actionItems"].as_array().unwrap().len(), 30);
    assert_eq!(
        large["oneOnOne"]["openActionItems"]
            .as_array()
            .unwrap()
            .len(),
        60
    );
    assert!(
        large["agenda"]
            .as_array()
            .unwrap()
            .iter()
            .all(|item| item["author"]["displayName"].is_string())
    );
    assert_eq!(
        small_statements, large_statements,
        "5 agenda items took {small_statements} statements, 50 took {large_statements}"
    );
    assert!(
        large_statements <= 8.0,
        "the meeting view took {large_statements} statements"
    );
}
