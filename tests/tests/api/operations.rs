//! Health, readiness, metrics, GraphiQL, request ids and start-up.

use serde_json::json;
use tete_tests::{spawn_app, spawn_app_with};

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.state.store.db.close_by_ref().await.unwrap();
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn metrics_count_requests_and_sql_statements() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let before = app.metric("tete_db_statements_total").await;
    app.ok(
        "query Me { viewer { id } }",
        json!({}),
        Some(&admin.access_token),
    )
    .await;
    let after = app.metric("tete_db_statements_total").await;
    // One statement to authenticate the viewer; `viewer` itself needs none.
    assert_eq!(after - before, 1.0);
    assert_eq!(
        app.metric(r#"tete_graphql_requests_total{operation="Me",outcome="Ok"}"#)
            .await,
        1.0
    );
    app.graphql("query Me { nope }", json!({}), None).await;
    assert_eq!(
        app.metric(r#"tete_graphql_requests_total{operation="Me",outcome="Rejected"}"#)
            .await,
        1.0
    );
    assert!(
        app.metric(r#"tete_graphql_request_duration_seconds_count{operation="Me"}"#)
            .await
            >= 2.0
    );
}

#[tokio::test]
async fn graphiql_is_served_at_the_root() {
    let app = spawn_app().await;
    let page = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        page.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("graphiql")
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let fresh = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(!fresh.headers()["x-request-id"].is_empty());
    let given = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn on_sqlite_without_secrets_keys_are_generated_once_and_kept_private() {
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty()) {
        return; // The generated-key fallback exists only for the embedded SQLite store.
    }
    let app = spawn_app_with(|config| {
        config.jwt_secret = None;
        config.data_key = None;
    })
    .await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    app.ok("{ viewer { id } }", json!({}), Some(&admin.access_token))
        .await;
    let url = &app.state.config.database_url;
    let db_file = url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap();
    let secrets = std::path::Path::new(db_file).with_extension("secrets");
    let text = std::fs::read_to_string(&secrets).unwrap();
    assert!(text.contains("TETE_JWT_SECRET=") && text.contains("TETE_DATA_KEY="));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&secrets).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // A second server on the same file reuses the keys, so the old token stays valid.
    let url = url.clone();
    let second = tete_api::Application::build({
        let mut config = (*app.state.config).clone();
        config.database_url = url;
        config
    })
    .await
    .unwrap();
    let address = format!("http://{}", second.local_addr());
    tokio::spawn(second.run_until_stopped(std::future::pending()));
    let response: serde_json::Value = app
        .client
        .post(format!("{address}/graphql"))
        .bearer_auth(&admin.access_token)
        .json(&json!({ "query": "{ viewer { id } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["data"]["viewer"]["id"], admin.user_id.as_str());
}
