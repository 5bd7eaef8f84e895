use std::time::{Duration, Instant};

use serde_json::json;
use tete_tests::{PASSWORD, TestApp, error_code, spawn_app};

const VIEWER: &str = "{ viewer { id email displayName role timeZone } organization { name } }";
const REFRESH: &str = "mutation($t: String!) { refreshSession(input: { refreshToken: $t }) { accessToken refreshToken user { id } } }";

async fn refresh(app: &TestApp, token: &str) -> serde_json::Value {
    app.graphql(REFRESH, json!({ "t": token }), None).await
}

#[tokio::test]
async fn sign_up_creates_an_organization_with_its_first_admin() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "Ada@Example.com").await;
    let data = app.ok(VIEWER, json!({}), Some(&admin.access_token)).await;
    assert_eq!(data["viewer"]["id"], admin.user_id.as_str());
    assert_eq!(data["viewer"]["email"], "ada@example.com");
    assert_eq!(data["viewer"]["displayName"], "Admin of Acme");
    assert_eq!(data["viewer"]["role"], "ADMIN");
    assert_eq!(data["viewer"]["timeZone"], "UTC");
    assert_eq!(data["organization"]["name"], "Acme");
}

#[tokio::test]
async fn sign_up_refuses_bad_input_and_writes_nothing() {
    let app = spawn_app().await;
    let sign_up = "mutation($input: SignUpInput!) { signUp(input: $input) { user { id } } }";
    let cases = [
        ("short password", "a@example.com", "too short", "Ada"),
        ("bad email", "not-an-email", PASSWORD, "Ada"),
        ("blank name", "b@example.com", PASSWORD, "   "),
    ];
    for (case, email, password, name) in cases {
        let body = app
            .graphql(
                sign_up,
                json!({ "input": { "organizationName": "Acme", "email": email, "password": password, "displayName": name } }),
                None,
            )
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{case}: {body}");
    }
    // None of the refused sign-ups left a user behind.
    assert_eq!(
        error_code(&app.sign_in("a@example.com", "too short").await),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(
        error_code(&app.sign_in("b@example.com", PASSWORD).await),
        Some("UNAUTHENTICATED")
    );
}

#[tokio::test]
async fn emails_are_unique_within_an_organisation_whatever_their_case() {
    let app = spawn_app().await;
    let ada = app.sign_up("Acme", "ada@example.com").await;
    let body = app
        .graphql(
            "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }",
            json!({ "input": { "email": "ADA@example.com", "password": PASSWORD, "displayName": "Ada" } }),
            Some(&ada.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
}

#[tokio::test]
async fn sign_in_accepts_the_email_in_any_case() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let body = app.sign_in("  ADA@Example.COM ", PASSWORD).await;
    assert_eq!(body["data"]["signIn"]["user"]["id"], admin.user_id.as_str());
    let token = body["data"]["signIn"]["accessToken"].as_str().unwrap();
    let data = app.ok("{ viewer { id } }", json!({}), Some(token)).await;
    assert_eq!(data["viewer"]["id"], admin.user_id.as_str());
}

#[tokio::test]
async fn unknown_email_and_wrong_password_answer_alike_in_content_and_time() {
    let app = spawn_app().await;
    app.sign_up("Acme", "ada@example.com").await;
    let wrong_password = app.sign_in("ada@example.com", "wrong password!").await;
    let unknown_email = app.sign_in("nobody@example.com", "wrong password!").await;
    assert_eq!(error_code(&wrong_password), Some("UNAUTHENTICATED"));
    assert_eq!(
        wrong_password["errors"][0]["message"],
        unknown_email["errors"][0]["message"]
    );
    assert_eq!(wrong_password["data"], unknown_email["data"]);

    // Both pay for a password hash: an unknown email must not answer markedly faster. The two
    // take turns, so a busy machine slows both alike.
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        for (email, times) in [
            ("ada@example.com", &mut known),
            ("nobody@example.com", &mut unknown),
        ] {
            let started = Instant::now();
            app.sign_in(email, "wrong password!").await;
            times.push(started.elapsed());
        }
    }
    let median = |mut times: Vec<Duration>| {
        times.sort();
        times[2]
    };
    let (known, unknown) = (median(known), median(unknown));
    assert!(
        unknown.as_secs_f64() > known.as_secs_f64() * 0.5,
        "unknown email answered in {unknown:?}, wrong password in {known:?}"
    );
}

#[tokio::test]
async fn the_sign_in_payload_resolves_relations_as_the_new_user() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let report = app
        .create_user(&admin, "bob@example.com", Some(&admin.user_id))
        .await;
    let data = app
        .ok(
            "mutation { signIn(input: { email: \"ada@example.com\", password: \"correct horse battery staple\" }) { user { id reports { id } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(data["signIn"]["user"]["reports"], json!([{ "id": report }]));
}

#[tokio::test]
async fn refreshing_rotates_both_tokens() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let body = refresh(&app, &admin.refresh_token).await;
    let renewed = &body["data"]["refreshSession"];
    assert_eq!(renewed["user"]["id"], admin.user_id.as_str());
    let new_refresh = renewed["refreshToken"].as_str().unwrap();
    assert_ne!(new_refresh, admin.refresh_token);
    let access = renewed["accessToken"].as_str().unwrap();
    app.ok("{ viewer { id } }", json!({}), Some(access)).await;
    // The new refresh token works in turn.
    let again = refresh(&app, new_refresh).await;
    assert!(
        again["data"]["refreshSession"]["refreshToken"].is_string(),
        "{again}"
    );
}

#[tokio::test]
async fn reusing_a_refresh_token_revokes_its_whole_family() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let first = refresh(&app, &admin.refresh_token).await;
    let successor = first["data"]["refreshSession"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();

    let replay = refresh(&app, &admin.refresh_token).await;
    assert_eq!(error_code(&replay), Some("UNAUTHENTICATED"));
    // The thief's replay also ended the legitimate successor.
    let after = refresh(&app, &successor).await;
    assert_eq!(error_code(&after), Some("UNAUTHENTICATED"), "{after}");
    // Another sign-in is another family and still works.
    let other = app.session("ada@example.com").await;
    assert!(refresh(&app, &other.refresh_token).await["data"]["refreshSession"].is_object());
}

#[tokio::test]
async fn concurrent_uses_of_one_refresh_token_yield_at_most_one_session() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let (a, b) = tokio::join!(
        refresh(&app, &admin.refresh_token),
        refresh(&app, &admin.refresh_token)
    );
    let winners = [&a, &b]
        .iter()
        .filter(|body| body["data"]["refreshSession"].is_object())
        .count();
    assert!(winners <= 1, "{a} {b}");
}

#[tokio::test]
async fn garbage_refresh_tokens_are_refused() {
    let app = spawn_app().await;
    let body = refresh(&app, "not-a-token").await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let data = app
        .ok(
            "mutation($t: String!) { signOut(input: { refreshToken: $t }) { ok } }",
            json!({ "t": admin.refresh_token }),
            None,
        )
        .await;
    assert_eq!(data["signOut"]["ok"], true);
    let body = refresh(&app, &admin.refresh_token).await;
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn anonymous_callers_get_typename_and_sign_in_but_nothing_else() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    assert_eq!(
        app.ok("{ __typename }", json!({}), None).await["__typename"],
        "Query"
    );
    for query in [
        "{ viewer { id } }",
        "{ organization { id } }",
        "query($id: ID!) { node(id: $id) { id } }",
        "mutation { createUser(input: { email: \"x@example.com\", displayName: \"X\", password: \"long enough pw\" }) { user { id } } }",
        "mutation($id: ID!) { deactivateUser(input: { userId: $id }) { user { id } } }",
        "mutation($id: ID!) { setManager(input: { userId: $id }) { user { id } } }",
    ] {
        let (status, body) = app
            .post_graphql(query, json!({ "id": admin.user_id }), None)
            .await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(
            error_code(&body),
            Some("UNAUTHENTICATED"),
            "{query}: {body}"
        );
    }
}

#[tokio::test]
async fn a_deactivated_user_is_refused_at_once_everywhere() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let bob_id = app.create_user(&admin, "bob@example.com", None).await;
    let bob = app.session("bob@example.com").await;
    app.ok("{ viewer { id } }", json!({}), Some(&bob.access_token))
        .await;

    let data = app
        .ok(
            "mutation($id: ID!) { deactivateUser(input: { userId: $id }) { user { id deactivatedAt } } }",
            json!({ "id": bob_id }),
            Some(&admin.access_token),
        )
        .await;
    assert!(data["deactivateUser"]["user"]["deactivatedAt"].is_string());

    // The unexpired access token stops working on the very next request.
    let (status, body) = app
        .post_graphql("{ __typename }", json!({}), Some(&bob.access_token))
        .await;
    assert_eq!(status, 401);
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"));
    assert_eq!(
        error_code(&refresh(&app, &bob.refresh_token).await),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(
        error_code(&app.sign_in("bob@example.com", PASSWORD).await),
        Some("UNAUTHENTICATED")
    );
}
