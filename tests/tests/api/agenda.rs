//! Agenda items: each participant edits their own, either reorders and marks them discussed, the
//! order survives many moves, and the agenda of a finished meeting no longer changes.

use serde_json::{Value, json};
use tete_tests::{Session, TestApp, error_code, spawn_app};

use crate::support::{
    ITEM, Pair, add_item, agenda, agenda_ids, cancel, day, end, meeting, pair, schedule,
    set_discussed, start,
};

const ADD: &str = "mutation($input: AddAgendaItemInput!) { addAgendaItem(input: $input) { clientMutationId agendaItem { id meeting { id } title description category discussedAt author { id } carriedOverFrom { id } } } }";
const UPDATE: &str = "mutation($input: UpdateAgendaItemInput!) { updateAgendaItem(input: $input) { agendaItem { id title description category } } }";
const REMOVE: &str = "mutation($input: RemoveAgendaItemInput!) { removeAgendaItem(input: $input) { removedAgendaItemId } }";
const MOVE: &str = "mutation($input: MoveAgendaItemInput!) { moveAgendaItem(input: $input) { meeting { id agenda { id } } } }";
const DISCUSSED: &str = "mutation($input: SetAgendaItemDiscussedInput!) { setAgendaItemDiscussed(input: $input) { agendaItem { id discussedAt } } }";
const CURRENT: &str = "mutation($input: SetCurrentTopicInput!) { setCurrentTopic(input: $input) { meeting { id currentTopic { id title } } } }";

async fn move_item(app: &TestApp, who: &Session, item: &str, after: Option<&str>) -> Value {
    app.graphql(
        MOVE,
        json!({ "input": { "agendaItemId": item, "afterAgendaItemId": after } }),
        Some(&who.access_token),
    )
    .await
}

/// A pair with one scheduled meeting.
async fn meeting_of(app: &TestApp) -> (Pair, String) {
    let pair = pair(app).await;
    let id = schedule(app, &pair.manager, &pair.series, day(1)).await;
    (pair, id)
}

#[tokio::test]
async fn either_participant_adds_items_at_the_end_as_their_author() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let data = app
        .ok(
            ADD,
            json!({ "input": { "meetingId": meeting_id, "title": "Growth plan", "description": "Next quarter", "category": "DEVELOPMENT", "clientMutationId": "a-1" } }),
            Some(&pair.report.access_token),
        )
        .await;
    let payload = &data["addAgendaItem"];
    assert_eq!(payload["clientMutationId"], "a-1");
    let first = &payload["agendaItem"];
    assert_eq!(first["meeting"]["id"], meeting_id.as_str());
    assert_eq!(first["title"], "Growth plan");
    assert_eq!(first["description"], "Next quarter");
    assert_eq!(first["category"], "DEVELOPMENT");
    assert_eq!(first["author"]["id"], pair.report.user_id.as_str());
    assert_eq!(first["discussedAt"], Value::Null);
    assert_eq!(first["carriedOverFrom"], Value::Null);

    let data = app
        .ok(
            ADD,
            json!({ "input": { "meetingId": meeting_id, "title": "Team news" } }),
            Some(&pair.manager.access_token),
        )
        .await;
    let second = &data["addAgendaItem"]["agendaItem"];
    assert_eq!(second["category"], "OTHER");
    assert_eq!(second["description"], Value::Null);
    assert_eq!(second["author"]["id"], pair.manager.user_id.as_str());
    let third = add_item(&app, &pair.report, &meeting_id, "Feedback").await;

    assert_eq!(
        agenda_ids(&app, &pair.manager, &meeting_id).await,
        vec![
            first["id"].as_str().unwrap().to_owned(),
            second["id"].as_str().unwrap().to_owned(),
            third
        ]
    );
}

#[tokio::test]
async fn titles_are_1_to_200_characters() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let token = Some(pair.report.access_token.as_str());
    for title in [String::new(), "x".repeat(201)] {
        let body = app
            .graphql(
                ADD,
                json!({ "input": { "meetingId": meeting_id, "title": title } }),
                token,
            )
            .await;
        assert_eq!(
            error_code(&body),
            Some("BAD_USER_INPUT"),
            "{} chars: {body}",
            title.len()
        );
    }
    assert!(agenda_ids(&app, &pair.report, &meeting_id).await.is_empty());
    let longest = "é".repeat(200);
    let data = app
        .ok(
            ADD,
            json!({ "input": { "meetingId": meeting_id, "title": longest } }),
            token,
        )
        .await;
    assert_eq!(
        data["addAgendaItem"]["agendaItem"]["title"],
        longest.as_str()
    );
    let item = data["addAgendaItem"]["agendaItem"]["id"].clone();
    let body = app
        .graphql(
            UPDATE,
            json!({ "input": { "agendaItemId": item, "title": "y".repeat(201) } }),
            token,
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    let body = app
        .graphql(
            UPDATE,
            json!({ "input": { "agendaItemId": item, "title": "" } }),
            token,
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(
        agenda(&app, &pair.report, &meeting_id).await[0]["title"],
        longest.as_str()
    );
}

#[tokio::test]
async fn authors_edit_their_own_items() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let item = add_item(&app, &pair.report, &meeting_id, "Draft").await;
    let data = app
        .ok(
            UPDATE,
            json!({ "input": { "agendaItemId": item, "title": "Career path", "description": "Staff role?", "category": "DEVELOPMENT" } }),
            Some(&pair.report.access_token),
        )
        .await;
    let updated = &data["updateAgendaItem"]["agendaItem"];
    assert_eq!(updated["title"], "Career path");
    assert_eq!(updated["description"], "Staff role?");
    assert_eq!(updated["category"], "DEVELOPMENT");
    let stored = &agenda(&app, &pair.manager, &meeting_id).await[0];
    assert_eq!(stored["title"], "Career path");
    assert_eq!(stored["author"]["id"], pair.report.user_id.as_str());
}

#[tokio::test]
async fn the_other_participant_can_neither_edit_nor_remove_an_item() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let item = add_item(&app, &pair.report, &meeting_id, "Mine").await;
    let before = agenda(&app, &pair.report, &meeting_id).await;
    let body = app
        .graphql(
            UPDATE,
            json!({ "input": { "agendaItemId": item, "title": "Theirs now" } }),
            Some(&pair.manager.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    let body = app
        .graphql(
            REMOVE,
            json!({ "input": { "agendaItemId": item } }),
            Some(&pair.manager.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert_eq!(agenda(&app, &pair.report, &meeting_id).await, before);
}

#[tokio::test]
async fn authors_remove_their_items() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let keep = add_item(&app, &pair.manager, &meeting_id, "Keep").await;
    let gone = add_item(&app, &pair.manager, &meeting_id, "Gone").await;
    let data = app
        .ok(
            REMOVE,
            json!({ "input": { "agendaItemId": gone } }),
            Some(&pair.manager.access_token),
        )
        .await;
    assert_eq!(
        data["removeAgendaItem"]["removedAgendaItemId"],
        gone.as_str()
    );
    assert_eq!(
        agenda_ids(&app, &pair.report, &meeting_id).await,
        vec![keep]
    );
    let body = crate::support::node(
        &app,
        Some(&pair.manager.access_token),
        &gone,
        "... on AgendaItem { title }",
    )
    .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
}

#[tokio::test]
async fn either_participant_marks_an_item_discussed_and_back() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let item = add_item(&app, &pair.report, &meeting_id, "Topic").await;
    let data = app
        .ok(
            DISCUSSED,
            json!({ "input": { "agendaItemId": item, "discussed": true } }),
            Some(&pair.manager.access_token),
        )
        .await;
    assert!(
        data["setAgendaItemDiscussed"]["agendaItem"]["discussedAt"].is_string(),
        "{data}"
    );
    assert!(agenda(&app, &pair.report, &meeting_id).await[0]["discussedAt"].is_string());
    let data = app
        .ok(
            DISCUSSED,
            json!({ "input": { "agendaItemId": item, "discussed": false } }),
            Some(&pair.report.access_token),
        )
        .await;
    assert_eq!(
        data["setAgendaItemDiscussed"]["agendaItem"]["discussedAt"],
        Value::Null
    );
    assert_eq!(
        agenda(&app, &pair.manager, &meeting_id).await[0]["discussedAt"],
        Value::Null
    );
}

#[tokio::test]
async fn the_current_topic_is_set_and_cleared() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    add_item(&app, &pair.report, &meeting_id, "First").await;
    let second = add_item(&app, &pair.manager, &meeting_id, "Second").await;
    start(&app, &pair.manager, &meeting_id).await;
    let current = meeting(&app, &pair.report, &meeting_id, "currentTopic { id }").await;
    assert_eq!(current["currentTopic"], Value::Null);
    let data = app
        .ok(
            CURRENT,
            json!({ "input": { "meetingId": meeting_id, "agendaItemId": second } }),
            Some(&pair.report.access_token),
        )
        .await;
    assert_eq!(
        data["setCurrentTopic"]["meeting"]["currentTopic"]["id"],
        second.as_str()
    );
    let current = meeting(
        &app,
        &pair.manager,
        &meeting_id,
        "currentTopic { id title }",
    )
    .await;
    assert_eq!(current["currentTopic"]["title"], "Second");
    let data = app
        .ok(
            CURRENT,
            json!({ "input": { "meetingId": meeting_id, "agendaItemId": null } }),
            Some(&pair.manager.access_token),
        )
        .await;
    assert_eq!(
        data["setCurrentTopic"]["meeting"]["currentTopic"],
        Value::Null
    );
    let current = meeting(&app, &pair.report, &meeting_id, "currentTopic { id }").await;
    assert_eq!(current["currentTopic"], Value::Null);
}

#[tokio::test]
async fn items_move_to_the_top_or_after_another_item() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let a = add_item(&app, &pair.report, &meeting_id, "A").await;
    let b = add_item(&app, &pair.manager, &meeting_id, "B").await;
    let c = add_item(&app, &pair.report, &meeting_id, "C").await;
    // Either participant moves anyone's item.
    let body = move_item(&app, &pair.manager, &c, None).await;
    let order: Vec<String> =
        crate::support::ids(&body["data"]["moveAgendaItem"]["meeting"]["agenda"]);
    assert_eq!(order, vec![c.clone(), a.clone(), b.clone()], "{body}");
    move_item(&app, &pair.report, &c, Some(&b)).await;
    assert_eq!(
        agenda_ids(&app, &pair.manager, &meeting_id).await,
        vec![a.clone(), b.clone(), c.clone()]
    );
    move_item(&app, &pair.report, &a, Some(&b)).await;
    assert_eq!(
        agenda_ids(&app, &pair.manager, &meeting_id).await,
        vec![b, a, c]
    );
}

/// xorshift64: a small deterministic generator, so a failure replays identically.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[tokio::test]
async fn the_agenda_order_follows_200_random_moves() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let mut model = Vec::new();
    for n in 0..12 {
        let who = if n % 2 == 0 {
            &pair.report
        } else {
            &pair.manager
        };
        model.push(add_item(&app, who, &meeting_id, &format!("Item {n}")).await);
    }
    assert_eq!(agenda_ids(&app, &pair.report, &meeting_id).await, model);

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for step in 1..=200 {
        let moving = model[rng.below(model.len())].clone();
        let from = model.iter().position(|id| *id == moving).unwrap();
        model.remove(from);
        // About one move in six goes to the top; the others go after a random other item.
        let after = if rng.below(6) == 0 {
            None
        } else {
            Some(model[rng.below(model.len())].clone())
        };
        let to = after.as_ref().map_or(0, |after| {
            model.iter().position(|id| id == after).unwrap() + 1
        });
        model.insert(to, moving.clone());
        let who = if rng.below(2) == 0 {
            &pair.report
        } else {
            &pair.manager
        };
        let body = move_item(&app, who, &moving, after.as_deref()).await;
        assert!(body.get("errors").is_none(), "step {step}: {body}");
        assert_eq!(
            crate::support::ids(&body["data"]["moveAgendaItem"]["meeting"]["agenda"]),
            model,
            "payload after step {step}"
        );
        if step % 50 == 0 {
            assert_eq!(
                agenda_ids(&app, &pair.manager, &meeting_id).await,
                model,
                "Meeting.agenda after step {step}"
            );
        }
    }
    assert_eq!(agenda_ids(&app, &pair.report, &meeting_id).await, model);
}

/// Every agenda change on a finished meeting is refused and leaves the agenda as it was.
async fn assert_agenda_locked(app: &TestApp, who: &Session, meeting_id: &str, items: [&str; 2]) {
    let before = agenda(app, who, meeting_id).await;
    let [first, second] = items;
    let attempts = [
        (ADD, json!({ "meetingId": meeting_id, "title": "Too late" })),
        (
            UPDATE,
            json!({ "agendaItemId": first, "title": "Rewritten" }),
        ),
        (REMOVE, json!({ "agendaItemId": first })),
        (
            MOVE,
            json!({ "agendaItemId": second, "afterAgendaItemId": null }),
        ),
        (
            DISCUSSED,
            json!({ "agendaItemId": first, "discussed": true }),
        ),
    ];
    for (query, input) in attempts {
        let body = app
            .graphql(query, json!({ "input": input }), Some(&who.access_token))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{query}: {body}");
    }
    assert_eq!(agenda(app, who, meeting_id).await, before);
}

#[tokio::test]
async fn the_agenda_of_a_completed_meeting_is_locked() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let first = add_item(&app, &pair.report, &meeting_id, "Mine").await;
    let second = add_item(&app, &pair.report, &meeting_id, "Also mine").await;
    set_discussed(&app, &pair.report, &second, true).await;
    start(&app, &pair.manager, &meeting_id).await;
    end(&app, &pair.manager, &meeting_id).await;
    assert_agenda_locked(&app, &pair.report, &meeting_id, [&first, &second]).await;
}

#[tokio::test]
async fn the_agenda_of_a_cancelled_meeting_is_locked() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let first = add_item(&app, &pair.report, &meeting_id, "Mine").await;
    let second = add_item(&app, &pair.report, &meeting_id, "Also mine").await;
    cancel(&app, &pair.manager, &meeting_id).await;
    assert_agenda_locked(&app, &pair.report, &meeting_id, [&first, &second]).await;
}

#[tokio::test]
async fn an_item_reads_through_node_with_its_meeting() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let item = add_item(&app, &pair.report, &meeting_id, "Lookup").await;
    let body = crate::support::node(
        &app,
        Some(&pair.manager.access_token),
        &item,
        &format!("... on AgendaItem {{ {ITEM} meeting {{ id }} }}"),
    )
    .await;
    let found = &body["data"]["node"];
    assert_eq!(found["id"], item.as_str(), "{body}");
    assert_eq!(found["title"], "Lookup");
    assert_eq!(found["meeting"]["id"], meeting_id.as_str());
    assert_eq!(found["author"]["id"], pair.report.user_id.as_str());
}
