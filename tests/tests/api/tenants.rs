//! Organisations are apart: emails are unique within one, so an admin creating a user learns
//! nothing about other organisations' users, and an address with accounts in several
//! organisations signs in to the one it names.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DbBackend};
use serde_json::{Value, json};
use tete_tests::{PASSWORD, Session, TestApp, error_code, spawn_app};

const CREATE_USER: &str =
    "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id email } } }";
const SIGN_IN: &str =
    "mutation($input: SignInInput!) { signIn(input: $input) { accessToken user { id email } } }";

async fn create_user(app: &TestApp, admin: &Session, email: &str) -> Value {
    app.graphql(
        CREATE_USER,
        json!({ "input": { "email": email, "displayName": "Bob", "password": PASSWORD } }),
        Some(&admin.access_token),
    )
    .await
}

async fn emails(app: &TestApp, admin: &Session) -> Vec<String> {
    let data = app
        .ok(
            "{ organization { users(first: 50) { edges { node { email } } } } }",
            json!({}),
            Some(&admin.access_token),
        )
        .await;
    let mut emails: Vec<String> = crate::support::nodes(&data["organization"]["users"])
        .iter()
        .filter_map(|user| user["email"].as_str().map(str::to_owned))
        .collect();
    emails.sort();
    emails
}

async fn organization_id(app: &TestApp, who: &Session) -> String {
    app.ok(
        "{ organization { id } }",
        json!({}),
        Some(&who.access_token),
    )
    .await["organization"]["id"]
        .as_str()
        .expect("an organisation id")
        .to_owned()
}

#[tokio::test]
async fn an_admin_learns_nothing_about_another_organisations_users() {
    let app = spawn_app().await;
    let ada = app.sign_up("Acme", "ada@example.com").await;
    let zed = app.sign_up("Other", "zed@other.example").await;
    app.create_user(&zed, "bob@example.com", None).await;

    // An email registered elsewhere is as free here as one never seen.
    for email in ["bob@example.com", "never-seen@example.com"] {
        let body = create_user(&app, &ada, email).await;
        assert!(body.get("errors").is_none(), "{email}: {body}");
        assert_eq!(body["data"]["createUser"]["user"]["email"], email);
    }
    assert_eq!(
        emails(&app, &ada).await,
        [
            "ada@example.com",
            "bob@example.com",
            "never-seen@example.com"
        ]
    );
    assert_eq!(
        emails(&app, &zed).await,
        ["bob@example.com", "zed@other.example"]
    );
    // Only this organisation's own emails are taken, and the answer says so.
    let body = create_user(&app, &ada, "Bob@Example.com").await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    assert_eq!(
        body["errors"][0]["message"],
        "a user with this email already exists in this organisation"
    );
    // Signing up a new organisation with an address used elsewhere works too.
    let body = app
        .graphql(
            "mutation($input: SignUpInput!) { signUp(input: $input) { user { email } } }",
            json!({ "input": { "organizationName": "Third", "email": "bob@example.com", "password": PASSWORD, "displayName": "Bob" } }),
            None,
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
}

#[tokio::test]
async fn an_address_in_two_organisations_signs_in_to_the_one_it_names() {
    let app = spawn_app().await;
    let ada = app.sign_up("Acme", "ada@example.com").await;
    let zed = app.sign_up("Other", "zed@other.example").await;
    let acme_bob = app.create_user(&ada, "bob@example.com", None).await;
    let other_bob = app.create_user(&zed, "bob@example.com", None).await;
    let (acme, other) = (
        organization_id(&app, &ada).await,
        organization_id(&app, &zed).await,
    );
    let sign_in = |password: &str, organization: Option<&str>| json!({ "input": { "email": "bob@example.com", "password": password, "organizationId": organization } });

    // Without an organisation, exactly the answer a wrong password gets.
    let wrong = app
        .graphql(SIGN_IN, sign_in("not the password", None), None)
        .await;
    let ambiguous = app.graphql(SIGN_IN, sign_in(PASSWORD, None), None).await;
    assert_eq!(
        error_code(&ambiguous),
        Some("UNAUTHENTICATED"),
        "{ambiguous}"
    );
    assert_eq!(ambiguous, wrong);

    for (organization, bob) in [(&acme, &acme_bob), (&other, &other_bob)] {
        let body = app
            .graphql(SIGN_IN, sign_in(PASSWORD, Some(organization)), None)
            .await;
        assert_eq!(body["data"]["signIn"]["user"]["id"], bob.as_str(), "{body}");
        let body = app
            .graphql(
                SIGN_IN,
                sign_in("not the password", Some(organization)),
                None,
            )
            .await;
        assert_eq!(body, wrong);
    }
    // An organisation where the address has no account, or no organisation at all.
    let ada_org_for_zed = app
        .graphql(
            SIGN_IN,
            json!({ "input": { "email": "zed@other.example", "password": PASSWORD, "organizationId": acme } }),
            None,
        )
        .await;
    assert_eq!(ada_org_for_zed, wrong);
    let nonsense = app
        .graphql(SIGN_IN, sign_in(PASSWORD, Some("not-an-id")), None)
        .await;
    assert_eq!(nonsense, wrong);
    // A single account still signs in by email alone.
    let body = app.sign_in("zed@other.example", PASSWORD).await;
    assert!(body["data"]["signIn"]["accessToken"].is_string(), "{body}");
}

/// Holds the write lock on the audit log until the returned transaction ends.
async fn hold_audit_log(app: &TestApp) -> sea_orm::DatabaseTransaction {
    let db = &app.state.store.db;
    let lock = tete_api::db::begin_write(db).await.expect("a transaction");
    if db.get_database_backend() == DbBackend::Postgres {
        lock.execute_unprepared("LOCK TABLE audit_entries IN EXCLUSIVE MODE")
            .await
            .expect("the lock");
    }
    // On SQLite the immediate transaction already holds the only write lock.
    lock
}

#[tokio::test]
async fn a_failed_sign_in_costs_the_same_for_a_known_email_as_for_an_unknown_one() {
    let app = spawn_app().await;
    let ada = app.sign_up("Acme", "ada@example.com").await;
    let lock = hold_audit_log(&app).await;
    // The known email's failure is logged after the answer, so neither waits for the log.
    for email in ["ada@example.com", "nobody@example.com"] {
        let asked = Instant::now();
        let body = app.sign_in(email, "not the password").await;
        assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
        assert!(
            asked.elapsed() < Duration::from_secs(1),
            "{email} took {:?}",
            asked.elapsed()
        );
    }
    lock.rollback().await.expect("the lock is let go");
    // Then the failure is in Ada's log.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let data = app
            .ok(
                "{ organization { auditLog(first: 20) { edges { node { action } } } } }",
                json!({}),
                Some(&ada.access_token),
            )
            .await;
        let actions = crate::support::nodes(&data["organization"]["auditLog"]);
        if actions
            .iter()
            .any(|entry| entry["action"] == "SIGN_IN_FAILED")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no failed sign-in logged: {actions:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A user row as an installation from before this change holds it.
fn user_row(
    organization_id: uuid::Uuid,
    email: &str,
    role: entity::user::Role,
    manager_id: Option<uuid::Uuid>,
    password_hash: &str,
) -> entity::user::ActiveModel {
    use sea_orm::Set;
    entity::user::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        organization_id: Set(organization_id),
        email: Set(email.to_owned()),
        display_name: Set(email.split('@').next().unwrap_or(email).to_owned()),
        password_hash: Set(password_hash.to_owned()),
        role: Set(role),
        time_zone: Set("UTC".into()),
        manager_id: Set(manager_id),
        token_version: Set(0),
        deactivated_at: Set(None),
        created_at: Set(chrono::Utc::now()),
        calendar_feed_salt: Set(None),
    }
}

#[tokio::test]
async fn an_installation_from_before_keeps_its_people_and_their_lines() {
    use entity::{enums, one_on_one, organization, user::Role};
    use sea_orm::{ActiveModelTrait, Set};
    // The migrations before emails became per organisation.
    const BEFORE: u32 = 7;
    let hash = tete_api::auth::password::hash(PASSWORD.into())
        .await
        .expect("a hash");
    let app = tete_tests::spawn_app_after_migrations(BEFORE, |db| async move {
        let now = chrono::Utc::now();
        let (acme, other) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        for (id, name) in [(acme, "Acme"), (other, "Other")] {
            organization::ActiveModel {
                id: Set(id),
                name: Set(name.into()),
                created_at: Set(now),
            }
            .insert(&db)
            .await
            .expect("an organisation");
        }
        user_row(acme, "ada@example.com", Role::Admin, None, &hash)
            .insert(&db)
            .await
            .expect("Ada");
        let max = user_row(acme, "max@example.com", Role::Member, None, &hash)
            .insert(&db)
            .await
            .expect("Max");
        let bob = user_row(acme, "bob@example.com", Role::Member, Some(max.id), &hash)
            .insert(&db)
            .await
            .expect("Bob");
        user_row(other, "zed@other.example", Role::Admin, None, &hash)
            .insert(&db)
            .await
            .expect("Zed");
        one_on_one::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            organization_id: Set(acme),
            manager_id: Set(max.id),
            report_id: Set(bob.id),
            cadence: Set(enums::Cadence::Weekly),
            default_format: Set(enums::MeetingFormat::Video),
            default_duration_minutes: Set(30),
            lead: Set(enums::MeetingLead::Report),
            archived_at: Set(None),
            created_at: Set(now),
        }
        .insert(&db)
        .await
        .expect("their series");
    })
    .await;

    let bob = app.session("bob@example.com").await;
    let max = app.session("max@example.com").await;
    let data = app
        .ok(
            "{ viewer { manager { id } oneOnOnes(first: 5) { edges { node { manager { id } report { id } } } } } }",
            json!({}),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(data["viewer"]["manager"]["id"], max.user_id.as_str());
    let series = crate::support::nodes(&data["viewer"]["oneOnOnes"]);
    assert_eq!(series.len(), 1, "{data}");
    assert_eq!(series[0]["report"]["id"], bob.user_id.as_str());
    let data = app
        .ok(
            "{ viewer { reports { id } } }",
            json!({}),
            Some(&max.access_token),
        )
        .await;
    assert_eq!(data["viewer"]["reports"][0]["id"], bob.user_id.as_str());
    // And emails are now per organisation.
    let zed = app.session("zed@other.example").await;
    let body = create_user(&app, &zed, "bob@example.com").await;
    assert!(body.get("errors").is_none(), "{body}");
    let ada = app.session("ada@example.com").await;
    let body = create_user(&app, &ada, "bob@example.com").await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
}
