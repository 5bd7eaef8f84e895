//! The question bank: built-in questions per category plus the organisation's own, managed by
//! admins.

use serde_json::{Value, json};
use tete_tests::{Session, TestApp, error_code, spawn_app};

const CATEGORIES: [&str; 6] = [
    "PRIORITIES",
    "PROGRESS",
    "DEVELOPMENT",
    "WELLBEING",
    "FEEDBACK",
    "OTHER",
];
const ADD: &str = "mutation($input: AddQuestionInput!) { addQuestion(input: $input) { clientMutationId question { id category text } } }";
const REMOVE: &str = "mutation($input: RemoveQuestionInput!) { removeQuestion(input: $input) { removedQuestionId } }";

/// Every question `who` can read in `category` (all when `None`), paging through.
async fn all_questions(app: &TestApp, who: &Session, category: Option<&str>) -> Vec<Value> {
    let query = "query($category: TopicCategory, $after: String) { questions(category: $category, first: 50, after: $after) { totalCount edges { node { id category text } } pageInfo { hasNextPage endCursor } } }";
    let mut found = Vec::new();
    let mut after = Value::Null;
    let mut total = None;
    loop {
        let data = app
            .ok(
                query,
                json!({ "category": category, "after": after }),
                Some(&who.access_token),
            )
            .await;
        let page = &data["questions"];
        total = total.or(page["totalCount"].as_u64());
        found.extend(
            page["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(|edge| edge["node"].clone()),
        );
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(total, Some(found.len() as u64), "totalCount");
    found
}

fn has_text(questions: &[Value], text: &str) -> bool {
    questions.iter().any(|question| question["text"] == text)
}

async fn add(app: &TestApp, who: &Session, category: &str, text: &str) -> Value {
    app.graphql(
        ADD,
        json!({ "input": { "category": category, "text": text } }),
        Some(&who.access_token),
    )
    .await
}

#[tokio::test]
async fn every_category_has_at_least_eight_built_in_questions() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let mut total = 0;
    for category in CATEGORIES {
        let questions = all_questions(&app, &admin, Some(category)).await;
        assert!(
            questions.len() >= 8,
            "{category}: only {} questions",
            questions.len()
        );
        assert!(
            questions
                .iter()
                .all(|question| question["category"] == category
                    && question["text"]
                        .as_str()
                        .is_some_and(|t| !t.trim().is_empty())),
            "{category}: {questions:?}"
        );
        total += questions.len();
    }
    assert_eq!(all_questions(&app, &admin, None).await.len(), total);
}

#[tokio::test]
async fn any_member_reads_the_bank_but_anonymous_callers_do_not() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    app.create_user(&admin, "bob@example.com", None).await;
    let bob = app.session("bob@example.com").await;
    assert!(all_questions(&app, &bob, Some("FEEDBACK")).await.len() >= 8);
    let body = app
        .graphql("{ questions { totalCount } }", json!({}), None)
        .await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
}

#[tokio::test]
async fn admins_add_questions_their_organisation_alone_sees() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    app.create_user(&admin, "bob@example.com", None).await;
    let bob = app.session("bob@example.com").await;
    let other = app.sign_up("Other", "zed@example.com").await;
    let text = "What would make our launch calmer?";
    let data = app
        .ok(
            ADD,
            json!({ "input": { "category": "WELLBEING", "text": text, "clientMutationId": "q-1" } }),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(data["addQuestion"]["clientMutationId"], "q-1");
    let question = &data["addQuestion"]["question"];
    assert_eq!(question["category"], "WELLBEING");
    assert_eq!(question["text"], text);

    let seen = all_questions(&app, &bob, Some("WELLBEING")).await;
    assert!(has_text(&seen, text));
    assert!(seen.iter().any(|q| q["id"] == question["id"]));
    assert!(!has_text(
        &all_questions(&app, &bob, Some("FEEDBACK")).await,
        text
    ));
    assert!(!has_text(
        &all_questions(&app, &other, Some("WELLBEING")).await,
        text
    ));
    assert!(!has_text(&all_questions(&app, &other, None).await, text));
}

#[tokio::test]
async fn members_cannot_add_or_remove_questions() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    app.create_user(&admin, "bob@example.com", None).await;
    let bob = app.session("bob@example.com").await;
    let body = add(&app, &bob, "OTHER", "Sneaky question?").await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert!(!has_text(
        &all_questions(&app, &admin, None).await,
        "Sneaky question?"
    ));

    let added = add(&app, &admin, "OTHER", "Kept question?").await;
    let id = added["data"]["addQuestion"]["question"]["id"].clone();
    let body = app
        .graphql(
            REMOVE,
            json!({ "input": { "questionId": id } }),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert!(has_text(
        &all_questions(&app, &bob, Some("OTHER")).await,
        "Kept question?"
    ));
}

#[tokio::test]
async fn admins_remove_their_organisations_questions() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let added = add(&app, &admin, "PROGRESS", "What moved this week?").await;
    let id = added["data"]["addQuestion"]["question"]["id"].clone();
    let data = app
        .ok(
            REMOVE,
            json!({ "input": { "questionId": id } }),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(data["removeQuestion"]["removedQuestionId"], id);
    assert!(!has_text(
        &all_questions(&app, &admin, Some("PROGRESS")).await,
        "What moved this week?"
    ));
}

#[tokio::test]
async fn another_organisations_question_is_not_found() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let other = app.sign_up("Other", "zed@example.com").await;
    let added = add(&app, &admin, "FEEDBACK", "Ours, not theirs?").await;
    let id = added["data"]["addQuestion"]["question"]["id"].clone();
    let body = app
        .graphql(
            REMOVE,
            json!({ "input": { "questionId": id } }),
            Some(&other.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let body = app
        .graphql(
            "query($id: ID!) { node(id: $id) { id ... on Question { text } } }",
            json!({ "id": id }),
            Some(&other.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    assert!(has_text(
        &all_questions(&app, &admin, Some("FEEDBACK")).await,
        "Ours, not theirs?"
    ));
}

#[tokio::test]
async fn built_in_questions_cannot_be_removed() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let before = all_questions(&app, &admin, Some("PRIORITIES")).await;
    let built_in = before[0]["id"].clone();
    let body = app
        .graphql(
            REMOVE,
            json!({ "input": { "questionId": built_in } }),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(
        all_questions(&app, &admin, Some("PRIORITIES")).await,
        before
    );
}
