//! Automatic persisted queries (Apollo's protocol): a phone sends the hash of a query it has
//! sent before instead of its text.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tete_tests::{TestApp, error_code, spawn_app, spawn_app_with};

const VIEWER: &str = "query Me { viewer { id displayName } }";

fn hash(query: &str) -> String {
    hex::encode(Sha256::digest(query.as_bytes()))
}

fn extension(query: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash(query) } })
}

/// POSTs `body` as the given user; returns the status and JSON body.
async fn post(app: &TestApp, body: Value, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = app
        .client
        .post(app.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

/// Sends only the hash of `query`.
async fn by_hash(app: &TestApp, query: &str, token: Option<&str>) -> (StatusCode, Value) {
    post(app, json!({ "extensions": extension(query) }), token).await
}

/// Sends `query` with its hash, registering it.
async fn register(app: &TestApp, query: &str, token: Option<&str>) -> (StatusCode, Value) {
    post(
        app,
        json!({ "query": query, "extensions": extension(query) }),
        token,
    )
    .await
}

fn assert_not_found(status: StatusCode, body: &Value) {
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    assert_eq!(error_code(body), Some("PERSISTED_QUERY_NOT_FOUND"));
    assert!(body.get("data").is_none(), "{body}");
}

#[tokio::test]
async fn an_unknown_hash_is_not_found_then_registered_then_answered_by_hash() {
    let app = spawn_app().await;
    let ada = app.sign_up("Acme", "ada@example.com").await;
    let token = Some(ada.access_token.as_str());

    let (status, body) = by_hash(&app, VIEWER, token).await;
    assert_not_found(status, &body);

    let (status, body) = register(&app, VIEWER, token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["viewer"]["id"], ada.user_id.as_str());

    let before = app.metric("tete_db_statements_total").await;
    let (status, by_hash_body) = by_hash(&app, VIEWER, token).await;
    let statements = app.metric("tete_db_statements_total").await - before;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_hash_body, body, "the hash answers as the text did");
    assert_eq!(
        statements, 1.0,
        "a persisted query costs no extra statement"
    );
}

#[tokio::test]
async fn a_persisted_query_runs_with_the_variables_and_viewer_of_each_request() {
    let app = spawn_app().await;
    let ada = app.sign_up("Acme", "ada@example.com").await;
    let bob = app.sign_up("Other", "bob@example.com").await;
    let query = "query Node($id: ID!) { node(id: $id) { id } }";
    let (_, registered) = post(
        &app,
        json!({ "query": query, "variables": { "id": ada.user_id }, "extensions": extension(query) }),
        Some(&ada.access_token),
    )
    .await;
    assert_eq!(registered["data"]["node"]["id"], ada.user_id.as_str());

    // Another organisation's user may send the same hash: the text is shared, access is not.
    let (_, theirs) = post(
        &app,
        json!({ "variables": { "id": ada.user_id }, "extensions": extension(query) }),
        Some(&bob.access_token),
    )
    .await;
    assert_eq!(theirs["data"]["node"], Value::Null, "{theirs}");
    let (_, own) = post(
        &app,
        json!({ "variables": { "id": bob.user_id }, "extensions": extension(query) }),
        Some(&bob.access_token),
    )
    .await;
    assert_eq!(own["data"]["node"]["id"], bob.user_id.as_str());

    // Without a token, the persisted query is refused like the text would be.
    let (status, anonymous) = by_hash(&app, VIEWER, None).await;
    assert_not_found(status, &anonymous);
    register(&app, VIEWER, Some(&ada.access_token)).await;
    let (_, anonymous) = by_hash(&app, VIEWER, None).await;
    assert_eq!(
        error_code(&anonymous),
        Some("UNAUTHENTICATED"),
        "{anonymous}"
    );
}

#[tokio::test]
async fn persisted_queries_work_over_get_but_mutations_still_need_post() {
    let app = spawn_app().await;
    let ada = app.sign_up("Acme", "ada@example.com").await;
    register(&app, VIEWER, Some(&ada.access_token)).await;
    let get = |query: &str| {
        app.client
            .get(app.url("/graphql"))
            .query(&[("extensions", extension(query).to_string())])
            .header("accept", "application/graphql-response+json")
            .bearer_auth(&ada.access_token)
            .send()
    };
    let response = get(VIEWER).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["viewer"]["id"], ada.user_id.as_str());

    let mutation = "mutation { signOut(input: { refreshToken: \"x\" }) { ok } }";
    register(&app, mutation, Some(&ada.access_token)).await;
    let response = get(mutation).await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn a_text_that_does_not_match_its_hash_is_refused_and_not_registered() {
    let app = spawn_app().await;
    let ada = app.sign_up("Acme", "ada@example.com").await;
    let token = Some(ada.access_token.as_str());
    let (status, body) = post(
        &app,
        json!({ "query": "{ __typename }", "extensions": extension(VIEWER) }),
        token,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    assert_eq!(
        body["errors"][0]["message"],
        "provided sha does not match query"
    );
    let (status, body) = by_hash(&app, VIEWER, token).await;
    assert_not_found(status, &body);

    for malformed in [
        json!({ "persistedQuery": { "version": 2, "sha256Hash": hash(VIEWER) } }),
        json!({ "persistedQuery": { "sha256Hash": hash(VIEWER) } }),
        json!({ "persistedQuery": "yes" }),
    ] {
        let (status, body) = post(&app, json!({ "extensions": malformed }), token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    }
}

#[tokio::test]
async fn the_cache_is_bounded_and_forgets_the_least_recently_used() {
    let query = |n: usize| format!("query Q{n} {{ viewer {{ id }} }}");
    // Room for three entries (hash and text) and not four.
    let entry = 64 + query(0).len();
    let app = spawn_app_with(|config| config.persisted_query_cache_bytes = entry * 3).await;
    let ada = app.sign_up("Acme", "ada@example.com").await;
    let token = Some(ada.access_token.as_str());
    for n in 0..3 {
        register(&app, &query(n), token).await;
    }
    let (status, _) = by_hash(&app, &query(0), token).await;
    assert_eq!(status, StatusCode::OK);
    register(&app, &query(3), token).await;

    let (_, kept) = by_hash(&app, &query(0), token).await;
    assert_eq!(kept["data"]["viewer"]["id"], ada.user_id.as_str());
    let (status, forgotten) = by_hash(&app, &query(1), token).await;
    assert_not_found(status, &forgotten);

    // Registering again after eviction works as the first time.
    let (_, again) = register(&app, &query(1), token).await;
    assert_eq!(again["data"]["viewer"]["id"], ada.user_id.as_str());
}
