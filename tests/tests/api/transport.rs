//! GraphQL over HTTP, and requests from clients that are broken or hostile.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tete_tests::{TestApp, error_code, spawn_app, spawn_app_with};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

async fn still_serving(app: &TestApp) {
    assert_eq!(
        app.ok("{ __typename }", json!({}), None).await["__typename"],
        "Query"
    );
}

fn content_type(response: &reqwest::Response) -> String {
    response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn queries_work_over_get() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[
            (
                "query",
                "query A { __typename } query Me($x: Boolean!) { viewer @include(if: $x) { id } }",
            ),
            ("variables", r#"{"x": true}"#),
            ("operationName", "Me"),
        ])
        .header("accept", GRAPHQL_RESPONSE)
        .bearer_auth(&admin.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with(GRAPHQL_RESPONSE));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["viewer"]["id"], admin.user_id.as_str());
}

#[tokio::test]
async fn mutations_over_get_are_refused_with_405() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[(
            "query",
            "mutation { signOut(input: { refreshToken: \"x\" }) { ok } }",
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "POST");
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn the_response_type_follows_the_accept_header() {
    let app = spawn_app().await;
    let send = |accept: Option<&'static str>, query: &'static str| {
        let mut request = app
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": query }));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        request.send()
    };
    let legacy = send(Some("application/json"), "{ __typename }")
        .await
        .unwrap();
    assert!(content_type(&legacy).starts_with("application/json"));
    // reqwest always sends `Accept: */*` when no Accept is set, which gets the spec's type.
    let any = send(None, "{ __typename }").await.unwrap();
    assert!(content_type(&any).starts_with(GRAPHQL_RESPONSE));
    let modern = send(
        Some("application/graphql-response+json, application/json;q=0.9"),
        "{ __typename }",
    )
    .await
    .unwrap();
    assert!(content_type(&modern).starts_with(GRAPHQL_RESPONSE));
    let html = send(Some("text/html"), "{ __typename }").await.unwrap();
    assert_eq!(html.status(), StatusCode::NOT_ACCEPTABLE);

    // A request error is 400 without `data` in the spec's media type, 200 in legacy JSON.
    let invalid = send(Some(GRAPHQL_RESPONSE), "{ noSuchField }")
        .await
        .unwrap();
    assert_eq!(invalid.status(), 400);
    let body: Value = invalid.json().await.unwrap();
    assert!(body.get("data").is_none(), "{body}");
    assert!(body["errors"][0]["message"].is_string());
    let invalid_legacy = send(Some("application/json"), "{ noSuchField }")
        .await
        .unwrap();
    assert_eq!(invalid_legacy.status(), 200);

    // A field error is still 200 with `data`.
    let (status, body) = app.post_graphql("{ viewer { id } }", json!({}), None).await;
    assert_eq!(status, 200);
    assert!(body.get("data").is_some());
}

#[tokio::test]
async fn malformed_requests_get_clean_json_errors() {
    let app = spawn_app().await;
    let post = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url("/graphql"))
            .header("content-type", content_type)
            .header("accept", GRAPHQL_RESPONSE)
            .body(body)
            .send()
    };
    let cases = [
        ("{not json", "application/json", StatusCode::BAD_REQUEST),
        (
            r#"[{"query": "{ __typename }"}]"#,
            "application/json",
            StatusCode::BAD_REQUEST,
        ),
        (
            r#"{"query": 42}"#,
            "application/json",
            StatusCode::BAD_REQUEST,
        ),
        (
            r#"{"variables": {}}"#,
            "application/json",
            StatusCode::BAD_REQUEST,
        ),
        (
            r#"{"query": "{ __typename }", "variables": [1]}"#,
            "application/json",
            StatusCode::BAD_REQUEST,
        ),
        (
            r#"{"query": "{ __typename "}"#,
            "application/json",
            StatusCode::BAD_REQUEST,
        ),
        (
            "query=%7B__typename%7D",
            "application/x-www-form-urlencoded",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "--x\r\n\r\n--x--",
            "multipart/form-data; boundary=x",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "{ __typename }",
            "text/plain",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
    ];
    for (body, content_type, status) in cases {
        let response = post(body, content_type).await.unwrap();
        assert_eq!(response.status(), status, "{body}");
        let json: Value = response.json().await.unwrap();
        assert_eq!(error_code(&json), Some("BAD_USER_INPUT"), "{body}: {json}");
    }
    still_serving(&app).await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused() {
    let app = spawn_app_with(|config| config.body_limit_bytes = 10_000).await;
    let query = format!("{{ __typename }} # {}", "x".repeat(20_000));
    let response = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    still_serving(&app).await;
}

/// Low limits, and one document over each of them.
pub fn with_low_limits(config: &mut tete_tests::Config) {
    config.max_depth = 5;
    config.max_complexity = 50;
    config.max_aliases = 3;
    config.max_string_length = 100;
    config.max_directives = 5;
}

pub fn over_low_limits() -> [String; 5] {
    [
        "{ viewer { manager { manager { manager { manager { manager { id } } } } } } }".into(),
        "{ a: __typename b: __typename c: __typename d: __typename }".into(),
        "{ __typename @skip(if: false) @skip(if: false) @skip(if: false) @skip(if: false) @skip(if: false) @skip(if: false) }".into(),
        "{ organization { users(first: 100) { edges { node { id email displayName reports { id email } } } } } }".into(),
        format!("{{ node(id: \"{}\") {{ id }} }}", "x".repeat(101)),
    ]
}

#[tokio::test]
async fn abusive_queries_are_refused_before_they_run() {
    let app = spawn_app_with(with_low_limits).await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let token = Some(admin.access_token.as_str());
    for query in over_low_limits() {
        let query = query.as_str();
        let (status, body) = app.post_graphql(query, json!({}), token).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body["errors"][0]["message"].is_string(), "{body}");
        assert!(body.get("data").is_none());
    }
    let (status, body) = app
        .post_graphql(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": "x".repeat(101) }),
            token,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    still_serving(&app).await;
}

#[tokio::test]
async fn default_limits_let_a_real_client_through() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let query = "{ viewer { id displayName manager { id } reports { id displayName manager { id } } } organization { id name users(first: 50) { totalCount edges { cursor node { id email role reports { id } } } pageInfo { hasNextPage endCursor } } } }";
    app.ok(query, json!({}), Some(&admin.access_token)).await;
}

#[tokio::test]
async fn internal_errors_reveal_nothing() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    // Closing the pool under the server makes every database call fail.
    app.state.store.db.close_by_ref().await.unwrap();
    let (status, body) = app
        .post_graphql("{ viewer { id } }", json!({}), Some(&admin.access_token))
        .await;
    assert_eq!(status, 500);
    assert_eq!(error_code(&body), Some("INTERNAL"));
    assert_eq!(body["errors"][0]["message"], "internal error");
    let text = body.to_string().to_lowercase();
    for leak in ["select", "sqlx", "pool", "users", ".rs"] {
        assert!(!text.contains(leak), "{leak} leaked: {text}");
    }
    // Anonymous requests reach resolvers, whose errors are masked the same way.
    let body = app.sign_in("ada@example.com", "whatever pw").await;
    assert_eq!(error_code(&body), Some("INTERNAL"), "{body}");
    assert!(!body.to_string().to_lowercase().contains("select"));
}
