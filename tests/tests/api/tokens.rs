//! Access-token attacks: every forged, tampered or stale token is refused with 401.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Utc;
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::{Value, json};
use tete_tests::{JWT_SECRET, TestApp, error_code, spawn_app};

fn user_uuid(global_id: &str) -> String {
    let (_, uuid) = tete_api::ids::decode(global_id).expect("a global id");
    uuid.to_string()
}

fn claims(sub: &str) -> Value {
    let now = Utc::now().timestamp();
    json!({ "iss": "tete", "aud": "tete-api", "sub": sub, "ver": 0, "iat": now, "exp": now + 600 })
}

fn sign(claims: &Value, secret: &str) -> String {
    encode(
        &Header::default(),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn assert_refused(app: &TestApp, token: &str, case: &str) {
    let (status, body) = app
        .post_graphql("{ __typename }", json!({}), Some(token))
        .await;
    assert_eq!(status, 401, "{case}: {body}");
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{case}");
}

#[tokio::test]
async fn a_token_forged_with_the_server_key_is_accepted() {
    // Proves the forging below is faithful, so the refusals are about what each case changes.
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let token = sign(&claims(&user_uuid(&admin.user_id)), JWT_SECRET);
    let data = app.ok("{ viewer { id } }", json!({}), Some(&token)).await;
    assert_eq!(data["viewer"]["id"], admin.user_id.as_str());
}

#[tokio::test]
async fn tampered_and_forged_tokens_are_refused() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let other = app.create_user(&admin, "bob@example.com", None).await;
    let good = admin.access_token.clone();
    let (header, rest) = good.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();

    // Signature bytes changed.
    let mut bad_signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    bad_signature[0] ^= 1;
    let tampered = format!(
        "{header}.{payload}.{}",
        URL_SAFE_NO_PAD.encode(bad_signature)
    );
    assert_refused(&app, &tampered, "tampered signature").await;

    // Payload changed to another user, signature kept.
    let mut claims_of_other: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims_of_other["sub"] = json!(user_uuid(&other));
    let swapped = format!(
        "{header}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims_of_other).unwrap())
    );
    assert_refused(&app, &swapped, "changed payload").await;

    // `alg: none`, unsigned.
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    assert_refused(&app, &format!("{none_header}.{payload}."), "alg none").await;

    // Signed with another key.
    let sub = user_uuid(&admin.user_id);
    assert_refused(
        &app,
        &sign(&claims(&sub), "another-secret-that-is-long-enough-xxxxx"),
        "wrong key",
    )
    .await;

    // Right key, wrong claims.
    let now = Utc::now().timestamp();
    let mut expired = claims(&sub);
    expired["exp"] = json!(now - 5);
    assert_refused(&app, &sign(&expired, JWT_SECRET), "expired").await;
    let mut wrong_audience = claims(&sub);
    wrong_audience["aud"] = json!("someone-else");
    assert_refused(&app, &sign(&wrong_audience, JWT_SECRET), "wrong audience").await;
    let mut wrong_issuer = claims(&sub);
    wrong_issuer["iss"] = json!("someone-else");
    assert_refused(&app, &sign(&wrong_issuer, JWT_SECRET), "wrong issuer").await;
    let mut no_expiry = claims(&sub);
    no_expiry.as_object_mut().unwrap().remove("exp");
    assert_refused(&app, &sign(&no_expiry, JWT_SECRET), "no exp").await;
    let mut old_version = claims(&sub);
    old_version["ver"] = json!(-1);
    assert_refused(&app, &sign(&old_version, JWT_SECRET), "stale token version").await;
    let unknown_user = claims(&uuid::Uuid::now_v7().to_string());
    assert_refused(&app, &sign(&unknown_user, JWT_SECRET), "unknown user").await;

    // Not a JWT at all.
    assert_refused(&app, "garbage", "garbage").await;
    assert_refused(&app, "a.b.c", "three garbage parts").await;
}

#[tokio::test]
async fn only_the_bearer_scheme_is_accepted() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    for header in [
        format!("Basic {}", admin.access_token),
        admin.access_token.clone(),
        "Bearer".into(),
    ] {
        let response = app
            .client
            .post(app.url("/graphql"))
            .header("authorization", header.clone())
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{header}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
    }
}
