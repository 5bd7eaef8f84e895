//! API tokens: a user creates them with explicit scopes for an integration, lists them (never
//! the secret) and revokes them. A token acts as its user within its scopes, never reaches a
//! private note or private check-in, and never does what only a person may do.
//!
//! The organisation (seeded afresh by every test): admin Ada; Max manages Bob (series S) and
//! Dee (series T); Oli has no part in either. Meeting M of S holds agenda items, shared and
//! private notes, an action item and Bob's shared check-in; meeting M2 of S holds Bob's private
//! check-in; meeting TM of T holds one of Dee's items.

use std::{collections::HashMap, time::Duration};

use chrono::{DurationRound, TimeDelta, Utc};
use serde_json::{Value, json};
use tete_tests::{PASSWORD, Session, TestApp, error_code, spawn_app};

use crate::{
    support::{
        add_item, create_action_item, create_note, day, mutate, node, one_on_ones, pair, schedule,
        start, submit_check_in, time, wire,
    },
    ws::{Ended, TRANSPORT_WS, WAIT, Ws},
};

pub const MEETINGS_READ: &str = "MEETINGS_READ";
pub const AGENDA_WRITE: &str = "AGENDA_WRITE";
pub const NOTES_READ: &str = "NOTES_READ";
pub const NOTES_WRITE: &str = "NOTES_WRITE";
pub const ACTION_ITEMS_WRITE: &str = "ACTION_ITEMS_WRITE";
/// Every scope there is.
pub const ALL_SCOPES: [&str; 5] = [
    MEETINGS_READ,
    AGENDA_WRITE,
    NOTES_READ,
    NOTES_WRITE,
    ACTION_ITEMS_WRITE,
];

/// A revoked token's live subscription ends within this ("~5 s").
const REVOKED_STREAM_ENDS_WITHIN: Duration = Duration::from_secs(6);

pub const PRIVATE_BOB: &str = "Bob's private thoughts about leaving";
pub const PRIVATE_MAX: &str = "Max's private thoughts about Bob";
pub const PRIVATE_CHECK_IN: &str = "Bob's private check-in comment";

const CREATE_TOKEN: &str = "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id name scopes createdAt lastUsedAt revokedAt } } }";
const REVOKE_TOKEN: &str = "mutation($input: RevokeApiTokenInput!) { revokeApiToken(input: $input) { apiToken { id revokedAt } } }";
const MY_TOKENS: &str = "{ viewer { apiTokens { id name scopes lastUsedAt revokedAt } } }";
const WHO_AM_I: &str = "{ viewer { id } }";
/// The viewer's tokens without `lastUsedAt`, which using a token changes.
const TOKEN_STATES: &str = "{ viewer { apiTokens { id revokedAt } } }";

/// A token as its creator got it.
pub struct Token {
    pub secret: String,
    pub id: String,
}

/// As `who`, creates a token with `scopes`; the request must succeed.
pub async fn create_token(app: &TestApp, who: &Session, name: &str, scopes: &[&str]) -> Token {
    let data = app
        .ok(
            CREATE_TOKEN,
            json!({ "input": { "name": name, "scopes": scopes } }),
            Some(&who.access_token),
        )
        .await;
    let payload = &data["createApiToken"];
    Token {
        secret: payload["token"].as_str().expect("the secret").to_owned(),
        id: payload["apiToken"]["id"]
            .as_str()
            .expect("the token id")
            .to_owned(),
    }
}

/// Whether holding `held` grants `wanted`: write scopes include the reads they need
/// (AGENDA_WRITE and ACTION_ITEMS_WRITE include MEETINGS_READ, NOTES_WRITE includes NOTES_READ).
fn includes(held: &str, wanted: &str) -> bool {
    held == wanted
        || matches!(
            (held, wanted),
            (AGENDA_WRITE | ACTION_ITEMS_WRITE, MEETINGS_READ) | (NOTES_WRITE, NOTES_READ)
        )
}

/// Every scope that does not grant `scope`.
fn all_but(scope: &str) -> Vec<&'static str> {
    ALL_SCOPES
        .into_iter()
        .filter(|other| !includes(other, scope))
        .collect()
}

/// Whether `id` appears as a value anywhere in the response's data.
pub fn mentions(body: &Value, id: &str) -> bool {
    body["data"].to_string().contains(&format!("\"{id}\""))
}

pub fn assert_no_failures(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The people of the seeded organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    Ada,
    Max,
    Bob,
    Dee,
    Oli,
}

/// The seeded organisation: sessions and named object ids.
pub struct Fx {
    pub ada: Session,
    pub max: Session,
    pub bob: Session,
    pub dee: Session,
    pub oli: Session,
    ids: HashMap<&'static str, String>,
}

impl Fx {
    pub fn id(&self, name: &str) -> &str {
        self.ids
            .get(name)
            .unwrap_or_else(|| panic!("no {name} in the fixture"))
    }

    pub fn session(&self, who: Who) -> &Session {
        match who {
            Who::Ada => &self.ada,
            Who::Max => &self.max,
            Who::Bob => &self.bob,
            Who::Dee => &self.dee,
            Who::Oli => &self.oli,
        }
    }

    fn insert(&mut self, name: &'static str, id: String) {
        self.ids.insert(name, id);
    }
}

/// Seeds the organisation described at the top of this file.
pub async fn seed(app: &TestApp) -> Fx {
    let pair = pair(app).await;
    let (ada, max, bob) = (pair.admin, pair.manager, pair.report);
    let dee_id = app
        .create_user(&ada, "dee@example.com", Some(&max.user_id))
        .await;
    app.create_user(&ada, "oli@example.com", None).await;
    let dee = app.session("dee@example.com").await;
    let oli = app.session("oli@example.com").await;
    let t = one_on_ones(app, &max, false)
        .await
        .into_iter()
        .find(|series| series["report"]["id"] == dee_id.as_str())
        .and_then(|series| series["id"].as_str().map(str::to_owned))
        .expect("Max's series with Dee");

    let s = pair.series;
    let m = schedule(app, &max, &s, day(1)).await;
    let m2 = schedule(app, &max, &s, day(8)).await;
    let item = add_item(app, &bob, &m, "Bob's topic").await;
    let item_max = add_item(app, &max, &m, "Max's topic").await;
    let item_move = add_item(app, &bob, &m, "Bob's topic to move").await;
    let item_remove = add_item(app, &bob, &m, "Bob's topic to remove").await;
    mutate(
        app,
        &max,
        "setCurrentTopic",
        "SetCurrentTopicInput",
        json!({ "meetingId": m, "agendaItemId": item_max }),
        "meeting { id }",
    )
    .await;
    let shared = create_note(app, &max, &m, "SHARED", "Max's shared note").await;
    let shared_bob = create_note(app, &bob, &m, "SHARED", "Bob's shared note").await;
    let shared_bob_2 = create_note(app, &bob, &m, "SHARED", "Bob's other shared note").await;
    let private_bob = create_note(app, &bob, &m, "PRIVATE", PRIVATE_BOB).await;
    let private_max = create_note(app, &max, &m, "PRIVATE", PRIVATE_MAX).await;
    let action = create_action_item(app, &max, &m, "Follow up", &bob.user_id).await;
    let check_shared = submit_check_in(app, &bob, &m, 4, true).await;
    let check_private = mutate(
        app,
        &bob,
        "submitCheckIn",
        "SubmitCheckInInput",
        json!({ "meetingId": m2, "mood": 2, "comment": PRIVATE_CHECK_IN, "sharedWithManager": false }),
        "checkIn { id }",
    )
    .await["checkIn"]["id"]
        .as_str()
        .expect("check-in id")
        .to_owned();
    let tm = schedule(app, &max, &t, day(3)).await;
    let t_item = add_item(app, &dee, &tm, "Dee's topic").await;

    let ids = HashMap::from([
        ("S", s),
        ("T", t),
        ("M", m),
        ("M2", m2),
        ("TM", tm),
        ("item", item),
        ("item_max", item_max),
        ("item_move", item_move),
        ("item_remove", item_remove),
        ("shared", shared),
        ("shared_bob", shared_bob),
        ("shared_bob_2", shared_bob_2),
        ("private_bob", private_bob),
        ("private_max", private_max),
        ("action", action),
        ("check_shared", check_shared),
        ("check_private", check_private),
        ("t_item", t_item),
        ("ada", ada.user_id.clone()),
        ("max", max.user_id.clone()),
        ("bob", bob.user_id.clone()),
        ("dee", dee_id),
        ("oli", oli.user_id.clone()),
    ]);
    Fx {
        ada,
        max,
        bob,
        dee,
        oli,
        ids,
    }
}

/// Tokens of one person, made once per set of scopes.
struct Tokens<'a> {
    app: &'a TestApp,
    who: &'a Session,
    made: HashMap<Vec<&'static str>, String>,
}

impl<'a> Tokens<'a> {
    fn of(app: &'a TestApp, who: &'a Session) -> Self {
        Self {
            app,
            who,
            made: HashMap::new(),
        }
    }

    async fn with(&mut self, scopes: &[&'static str]) -> String {
        let mut key = scopes.to_vec();
        key.sort_unstable();
        if let Some(secret) = self.made.get(&key) {
            return secret.clone();
        }
        let token = create_token(self.app, self.who, &key.join("+"), &key).await;
        self.made.insert(key, token.secret.clone());
        token.secret
    }
}

/// The viewer's tokens as listed by `viewer.apiTokens`.
async fn my_tokens(app: &TestApp, who: &Session) -> Vec<Value> {
    app.ok(MY_TOKENS, json!({}), Some(&who.access_token)).await["viewer"]["apiTokens"]
        .as_array()
        .expect("a list of tokens")
        .clone()
}

fn sorted(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("a list, got {list}"))
        .iter()
        .map(|name| name.as_str().expect("a string").to_owned())
        .collect();
    names.sort();
    names
}

// ---------------------------------------------------------------------------------------------
// Creating, listing, using

#[tokio::test]
async fn create_api_token_returns_a_tete_pat_secret_and_the_token() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let before = Utc::now();
    let data = app
        .ok(
            CREATE_TOKEN,
            json!({ "input": { "name": "Calendar sync", "scopes": [NOTES_READ, MEETINGS_READ] } }),
            Some(&fx.bob.access_token),
        )
        .await;
    let after = Utc::now();
    let payload = &data["createApiToken"];
    let secret = payload["token"].as_str().expect("a secret");
    assert!(secret.starts_with("tete_pat_"), "{secret}");
    assert!(
        secret.len() > "tete_pat_".len() + 16,
        "the secret is long enough to be unguessable: {secret}"
    );
    let token = &payload["apiToken"];
    assert!(token["id"].is_string(), "{token}");
    assert_eq!(token["name"], "Calendar sync");
    assert_eq!(sorted(&token["scopes"]), [MEETINGS_READ, NOTES_READ]);
    let created = time(&token["createdAt"]);
    assert!(
        created >= before - TimeDelta::seconds(1) && created <= after + TimeDelta::seconds(1),
        "createdAt {created} outside {before}..{after}"
    );
    assert!(token["lastUsedAt"].is_null(), "{token}");
    assert!(token["revokedAt"].is_null(), "{token}");
}

#[tokio::test]
async fn create_api_token_refuses_empty_scopes_and_a_blank_name() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let attempts = [
        json!({ "name": "No scopes", "scopes": [] }),
        json!({ "name": "", "scopes": [MEETINGS_READ] }),
        json!({ "name": "   ", "scopes": [MEETINGS_READ] }),
    ];
    let mut failures = Vec::new();
    for input in attempts {
        let body = app
            .graphql(
                CREATE_TOKEN,
                json!({ "input": input }),
                Some(&fx.bob.access_token),
            )
            .await;
        if error_code(&body) != Some("BAD_USER_INPUT")
            || body["data"].to_string().contains("tete_pat_")
        {
            failures.push(format!("{input}: expected BAD_USER_INPUT, got {body}"));
        }
    }
    assert_no_failures(failures);
    assert_eq!(my_tokens(&app, &fx.bob).await, Vec::<Value>::new());
}

#[tokio::test]
async fn viewer_api_tokens_lists_the_viewers_own_tokens_without_their_secrets() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let sync = create_token(&app, &fx.bob, "Calendar sync", &[MEETINGS_READ]).await;
    let notes = create_token(&app, &fx.bob, "Notes bot", &[NOTES_READ, NOTES_WRITE]).await;
    let max = create_token(&app, &fx.max, "Max's tool", &[AGENDA_WRITE]).await;

    let body = app
        .graphql(MY_TOKENS, json!({}), Some(&fx.bob.access_token))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let listed = body["data"]["viewer"]["apiTokens"]
        .as_array()
        .expect("a list")
        .clone();
    let mut found: Vec<(String, String, Vec<String>)> = listed
        .iter()
        .map(|token| {
            assert!(token["revokedAt"].is_null(), "{token}");
            (
                token["id"].as_str().expect("an id").to_owned(),
                token["name"].as_str().expect("a name").to_owned(),
                sorted(&token["scopes"]),
            )
        })
        .collect();
    found.sort();
    let mut expected = vec![
        (
            sync.id.clone(),
            "Calendar sync".to_owned(),
            vec![MEETINGS_READ.to_owned()],
        ),
        (
            notes.id.clone(),
            "Notes bot".to_owned(),
            vec![NOTES_READ.to_owned(), NOTES_WRITE.to_owned()],
        ),
    ];
    expected.sort();
    assert_eq!(found, expected);
    let text = body.to_string();
    for secret in [&sync.secret, &notes.secret, &max.secret] {
        assert!(
            !text.contains(secret.as_str()),
            "a secret was listed: {text}"
        );
    }
    assert!(!text.contains("tete_pat_"), "a secret was listed: {text}");
    assert!(
        !mentions(&body, &max.id),
        "Max's token is in Bob's list: {body}"
    );

    let max_list: Vec<String> = my_tokens(&app, &fx.max)
        .await
        .iter()
        .map(|token| token["id"].as_str().expect("an id").to_owned())
        .collect();
    assert_eq!(max_list, [max.id]);
}

#[tokio::test]
async fn another_users_api_tokens_and_access_log_are_forbidden() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let bob_token = create_token(&app, &fx.bob, "Bob's tool", &[MEETINGS_READ]).await;
    let max_token = create_token(&app, &fx.max, "Max's tool", &[MEETINGS_READ]).await;
    let mut failures = Vec::new();
    for (viewer, owner, owner_token) in [
        (Who::Max, Who::Bob, &bob_token.id),
        (Who::Ada, Who::Bob, &bob_token.id),
        (Who::Bob, Who::Max, &max_token.id),
        (Who::Ada, Who::Max, &max_token.id),
    ] {
        for field in [
            "apiTokens { id name }",
            "accessLog(first: 10) { totalCount }",
        ] {
            let body = node(
                &app,
                Some(&fx.session(viewer).access_token),
                &fx.session(owner).user_id,
                &format!("... on User {{ {field} }}"),
            )
            .await;
            if error_code(&body) != Some("FORBIDDEN") || mentions(&body, owner_token) {
                failures.push(format!(
                    "{owner:?}.{field} as {viewer:?}: expected FORBIDDEN, got {body}"
                ));
            }
        }
    }
    assert_no_failures(failures);
}

#[tokio::test]
async fn the_secret_authenticates_http_requests_as_its_user() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let token = create_token(&app, &fx.bob, "Tool", &[MEETINGS_READ]).await;
    let (status, body) = app
        .post_graphql(WHO_AM_I, json!({}), Some(&token.secret))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["viewer"]["id"],
        fx.bob.user_id.as_str(),
        "{body}"
    );
    // And it reads what its user may read.
    let body = node(
        &app,
        Some(&token.secret),
        fx.id("M"),
        "... on Meeting { status }",
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(body["data"]["node"]["id"], fx.id("M"));
}

#[tokio::test]
async fn the_secret_authenticates_a_websocket_connection() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let token = create_token(&app, &fx.bob, "Live tool", &[MEETINGS_READ]).await;
    let meeting = schedule(&app, &fx.max, fx.id("S"), day(20)).await;
    let mut ws = Ws::open(&app, &token.secret).await;
    ws.subscribe("1", &meeting, Some(0)).await;
    let first = ws.event("1").await;
    assert_eq!(first["sequence"], 1, "{first}");
    assert_eq!(first["meeting"]["id"], meeting.as_str(), "{first}");
    // Live events follow.
    add_item(&app, &fx.max, &meeting, "Live topic").await;
    let events = ws
        .events_until("1", |event| event["kind"] == "AGENDA_ITEM_ADDED")
        .await;
    let added = events.last().expect("an event");
    assert_eq!(added["agendaItem"]["title"], "Live topic", "{added}");
}

#[tokio::test]
async fn last_used_at_is_set_when_the_token_is_used() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let token = create_token(&app, &fx.bob, "Tool", &[MEETINGS_READ]).await;
    let listed = my_tokens(&app, &fx.bob).await;
    assert!(listed[0]["lastUsedAt"].is_null(), "unused yet: {listed:?}");

    let before = Utc::now();
    app.ok(WHO_AM_I, json!({}), Some(&token.secret)).await;
    let after = Utc::now();
    let listed = my_tokens(&app, &fx.bob).await;
    assert_eq!(listed[0]["id"], token.id.as_str());
    let used = time(&listed[0]["lastUsedAt"]);
    // "To the minute": it may be rounded down to the minute, never later than the use.
    let earliest = before
        .duration_trunc(TimeDelta::minutes(1))
        .expect("a whole minute");
    assert!(
        used >= earliest && used <= after + TimeDelta::seconds(1),
        "lastUsedAt {used} is not the use at {before}..{after}"
    );
}

// ---------------------------------------------------------------------------------------------
// Revocation and deactivation

#[tokio::test]
async fn a_revoked_token_is_refused_with_401_on_the_very_next_request() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let token = create_token(&app, &fx.bob, "Tool", &[MEETINGS_READ]).await;
    app.ok(WHO_AM_I, json!({}), Some(&token.secret)).await;

    let before = Utc::now();
    let data = app
        .ok(
            REVOKE_TOKEN,
            json!({ "input": { "apiTokenId": token.id } }),
            Some(&fx.bob.access_token),
        )
        .await;
    let (status, body) = app
        .post_graphql(WHO_AM_I, json!({}), Some(&token.secret))
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(error_code(&body), Some("UNAUTHENTICATED"), "{body}");
    assert!(body["data"]["viewer"].is_null(), "{body}");

    let revoked = &data["revokeApiToken"]["apiToken"];
    assert_eq!(revoked["id"], token.id.as_str());
    let revoked_at = time(&revoked["revokedAt"]);
    assert!(
        revoked_at >= before - TimeDelta::seconds(1) && revoked_at <= Utc::now(),
        "{revoked}"
    );
    let listed = my_tokens(&app, &fx.bob).await;
    assert_eq!(listed[0]["id"], token.id.as_str());
    assert_eq!(listed[0]["revokedAt"], revoked["revokedAt"], "{listed:?}");
}

#[tokio::test]
async fn revoking_a_token_leaves_the_users_other_tokens_and_session_working() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let revoked = create_token(&app, &fx.bob, "Old tool", &[MEETINGS_READ]).await;
    let kept = create_token(&app, &fx.bob, "New tool", &[MEETINGS_READ]).await;
    app.ok(
        REVOKE_TOKEN,
        json!({ "input": { "apiTokenId": revoked.id } }),
        Some(&fx.bob.access_token),
    )
    .await;
    for credential in [&kept.secret, &fx.bob.access_token] {
        let data = app.ok(WHO_AM_I, json!({}), Some(credential)).await;
        assert_eq!(data["viewer"]["id"], fx.bob.user_id.as_str());
    }
}

#[tokio::test]
async fn revoking_another_users_token_is_not_found_and_leaves_it_working() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let token = create_token(&app, &fx.bob, "Bob's tool", &[MEETINGS_READ]).await;
    let mut failures = Vec::new();
    for who in [Who::Max, Who::Ada, Who::Dee] {
        let body = app
            .graphql(
                REVOKE_TOKEN,
                json!({ "input": { "apiTokenId": token.id } }),
                Some(&fx.session(who).access_token),
            )
            .await;
        if error_code(&body) != Some("NOT_FOUND") {
            failures.push(format!("as {who:?}: expected NOT_FOUND, got {body}"));
        }
    }
    assert_no_failures(failures);
    let data = app.ok(WHO_AM_I, json!({}), Some(&token.secret)).await;
    assert_eq!(data["viewer"]["id"], fx.bob.user_id.as_str());
    let listed = my_tokens(&app, &fx.bob).await;
    assert!(listed[0]["revokedAt"].is_null(), "{listed:?}");
}

#[tokio::test]
async fn a_revoked_tokens_live_subscription_ends_within_five_seconds() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let token = create_token(&app, &fx.bob, "Live tool", &ALL_SCOPES).await;
    let mut ws = Ws::open(&app, &token.secret).await;
    ws.subscribe("1", fx.id("M"), Some(0)).await;
    ws.event("1").await;
    app.ok(
        REVOKE_TOKEN,
        json!({ "input": { "apiTokenId": token.id } }),
        Some(&fx.bob.access_token),
    )
    .await;
    let ended = ws.ended("1", REVOKED_STREAM_ENDS_WITHIN).await;
    assert!(
        matches!(ended, Ended::Complete | Ended::Closed(_)),
        "{ended:?}"
    );
}

#[tokio::test]
async fn a_revoked_token_is_refused_at_connection_init() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let token = create_token(&app, &fx.bob, "Live tool", &[MEETINGS_READ]).await;
    app.ok(
        REVOKE_TOKEN,
        json!({ "input": { "apiTokenId": token.id } }),
        Some(&fx.bob.access_token),
    )
    .await;
    let mut ws = Ws::connect(&app, TRANSPORT_WS).await;
    ws.init(Some(&token.secret)).await;
    ws.subscribe("1", fx.id("M"), Some(0)).await;
    let (messages, code) = ws.close_code(WAIT).await;
    assert_eq!(code, Some(4403), "{messages:?}");
    assert!(
        messages.is_empty(),
        "nothing may come before the close: {messages:?}"
    );
}

#[tokio::test]
async fn a_deactivated_users_tokens_stop_working_with_401() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let token = create_token(&app, &fx.bob, "Tool", &ALL_SCOPES).await;
    app.ok(WHO_AM_I, json!({}), Some(&token.secret)).await;
    mutate(
        &app,
        &fx.ada,
        "deactivateUser",
        "DeactivateUserInput",
        json!({ "userId": fx.bob.user_id }),
        "user { id }",
    )
    .await;
    for query in [
        WHO_AM_I,
        "{ viewer { oneOnOnes(first: 5) { totalCount } } }",
    ] {
        let (status, body) = app
            .post_graphql(query, json!({}), Some(&token.secret))
            .await;
        assert_eq!(status, 401, "{query}: {body}");
        assert_eq!(
            error_code(&body),
            Some("UNAUTHENTICATED"),
            "{query}: {body}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Scopes

/// A read path: the scopes it needs, and the object that shows when it is allowed.
struct Read {
    label: &'static str,
    query: &'static str,
    vars: fn(&Fx) -> Value,
    needs: &'static [&'static str],
    shows: &'static str,
}

#[tokio::test]
async fn each_read_path_needs_its_scopes() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    #[rustfmt::skip]
    let cases = [
        Read { label: "node(OneOnOne)", query: "query($id: ID!) { node(id: $id) { id ... on OneOnOne { cadence lead } } }",
            vars: |fx| json!({ "id": fx.id("S") }), needs: &[MEETINGS_READ], shows: "S" },
        Read { label: "node(Meeting)", query: "query($id: ID!) { node(id: $id) { id ... on Meeting { status scheduledAt } } }",
            vars: |fx| json!({ "id": fx.id("M") }), needs: &[MEETINGS_READ], shows: "M" },
        Read { label: "node(AgendaItem)", query: "query($id: ID!) { node(id: $id) { id ... on AgendaItem { title } } }",
            vars: |fx| json!({ "id": fx.id("item") }), needs: &[MEETINGS_READ], shows: "item" },
        Read { label: "node(ActionItem)", query: "query($id: ID!) { node(id: $id) { id ... on ActionItem { title } } }",
            vars: |fx| json!({ "id": fx.id("action") }), needs: &[MEETINGS_READ], shows: "action" },
        Read { label: "node(CheckIn)", query: "query($id: ID!) { node(id: $id) { id ... on CheckIn { mood } } }",
            vars: |fx| json!({ "id": fx.id("check_shared") }), needs: &[MEETINGS_READ], shows: "check_shared" },
        Read { label: "node(Note)", query: "query($id: ID!) { node(id: $id) { id ... on Note { body visibility } } }",
            vars: |fx| json!({ "id": fx.id("shared") }), needs: &[NOTES_READ], shows: "shared" },
        Read { label: "Meeting.agenda", query: "query($id: ID!) { node(id: $id) { ... on Meeting { agenda { id } } } }",
            vars: |fx| json!({ "id": fx.id("M") }), needs: &[MEETINGS_READ], shows: "item" },
        Read { label: "Meeting.currentTopic", query: "query($id: ID!) { node(id: $id) { ... on Meeting { currentTopic { id } } } }",
            vars: |fx| json!({ "id": fx.id("M") }), needs: &[MEETINGS_READ], shows: "item_max" },
        Read { label: "Meeting.notes", query: "query($id: ID!) { node(id: $id) { ... on Meeting { notes { id } } } }",
            vars: |fx| json!({ "id": fx.id("M") }), needs: &[MEETINGS_READ, NOTES_READ], shows: "shared" },
        Read { label: "Meeting.actionItems", query: "query($id: ID!) { node(id: $id) { ... on Meeting { actionItems { id } } } }",
            vars: |fx| json!({ "id": fx.id("M") }), needs: &[MEETINGS_READ], shows: "action" },
        Read { label: "Meeting.checkIns", query: "query($id: ID!) { node(id: $id) { ... on Meeting { checkIns { id } } } }",
            vars: |fx| json!({ "id": fx.id("M") }), needs: &[MEETINGS_READ], shows: "check_shared" },
        Read { label: "OneOnOne.meetings", query: "query($id: ID!) { node(id: $id) { ... on OneOnOne { meetings(first: 5) { edges { node { id } } } } } }",
            vars: |fx| json!({ "id": fx.id("S") }), needs: &[MEETINGS_READ], shows: "M" },
        Read { label: "OneOnOne.openActionItems", query: "query($id: ID!) { node(id: $id) { ... on OneOnOne { openActionItems { id } } } }",
            vars: |fx| json!({ "id": fx.id("S") }), needs: &[MEETINGS_READ], shows: "action" },
        Read { label: "Note.meeting", query: "query($id: ID!) { node(id: $id) { ... on Note { meeting { id agenda { id } } } } }",
            vars: |fx| json!({ "id": fx.id("shared") }), needs: &[NOTES_READ, MEETINGS_READ], shows: "item" },
        Read { label: "viewer.oneOnOnes", query: "{ viewer { oneOnOnes(first: 5) { edges { node { id } } } } }",
            vars: |_| json!({}), needs: &[MEETINGS_READ], shows: "S" },
        Read { label: "User.oneOnOnes", query: "query($id: ID!) { node(id: $id) { ... on User { oneOnOnes(first: 5) { edges { node { id } } } } } }",
            vars: |fx| json!({ "id": fx.id("max") }), needs: &[MEETINGS_READ], shows: "S" },
    ];
    let mut tokens = Tokens::of(&app, &fx.bob);
    let mut failures = Vec::new();
    for case in &cases {
        let shows = fx.id(case.shows);
        let variables = (case.vars)(&fx);
        for missing in case.needs {
            let token = tokens.with(&all_but(missing)).await;
            let body = app
                .graphql(case.query, variables.clone(), Some(&token))
                .await;
            if error_code(&body) != Some("FORBIDDEN") || mentions(&body, shows) {
                failures.push(format!(
                    "{} without {missing}: expected FORBIDDEN and no {}, got {body}",
                    case.label, case.shows
                ));
            }
        }
        let token = tokens.with(case.needs).await;
        let body = app.graphql(case.query, variables, Some(&token)).await;
        if body.get("errors").is_some() || !mentions(&body, shows) {
            failures.push(format!(
                "{} with exactly {:?}: expected {}, got {body}",
                case.label, case.needs, case.shows
            ));
        }
    }
    assert_no_failures(failures);
}

/// A write: the scope it needs, and a read (by Bob's session) that shows whether it happened.
struct Write {
    label: &'static str,
    field: &'static str,
    input_type: &'static str,
    input: fn(&Fx) -> Value,
    needs: &'static str,
    probe: (&'static str, &'static str),
}

/// The mutation with nothing read back, so only the write itself is at stake.
fn bare_mutation(field: &str, input_type: &str) -> String {
    format!("mutation($input: {input_type}!) {{ {field}(input: $input) {{ __typename }} }}")
}

async fn probe(app: &TestApp, who: &Session, id: &str, selection: &str) -> Value {
    let body = node(app, Some(&who.access_token), id, selection).await;
    assert!(body.get("errors").is_none(), "probe failed: {body}");
    body["data"]["node"].clone()
}

#[tokio::test]
async fn each_write_needs_its_scope_and_a_refused_write_changes_nothing() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    const AGENDA: &str = "... on Meeting { agenda { id title } }";
    const ITEM: &str = "... on AgendaItem { title discussedAt }";
    const NOTES: &str = "... on Meeting { notes { id body version } }";
    const NOTE: &str = "... on Note { body version }";
    const ACTIONS: &str = "... on Meeting { actionItems { id title } }";
    const ACTION: &str = "... on ActionItem { title completedAt }";
    #[rustfmt::skip]
    let cases = [
        Write { label: "addAgendaItem", field: "addAgendaItem", input_type: "AddAgendaItemInput",
            input: |fx| json!({ "meetingId": fx.id("M"), "title": "Added by a token" }),
            needs: AGENDA_WRITE, probe: ("M", AGENDA) },
        Write { label: "updateAgendaItem", field: "updateAgendaItem", input_type: "UpdateAgendaItemInput",
            input: |fx| json!({ "agendaItemId": fx.id("item"), "title": "Renamed by a token" }),
            needs: AGENDA_WRITE, probe: ("item", ITEM) },
        Write { label: "moveAgendaItem", field: "moveAgendaItem", input_type: "MoveAgendaItemInput",
            input: |fx| json!({ "agendaItemId": fx.id("item_move"), "afterAgendaItemId": null }),
            needs: AGENDA_WRITE, probe: ("M", AGENDA) },
        Write { label: "setAgendaItemDiscussed", field: "setAgendaItemDiscussed", input_type: "SetAgendaItemDiscussedInput",
            input: |fx| json!({ "agendaItemId": fx.id("item_max"), "discussed": true }),
            needs: AGENDA_WRITE, probe: ("item_max", ITEM) },
        Write { label: "removeAgendaItem", field: "removeAgendaItem", input_type: "RemoveAgendaItemInput",
            input: |fx| json!({ "agendaItemId": fx.id("item_remove") }),
            needs: AGENDA_WRITE, probe: ("M", AGENDA) },
        Write { label: "setCurrentTopic", field: "setCurrentTopic", input_type: "SetCurrentTopicInput",
            input: |fx| json!({ "meetingId": fx.id("M"), "agendaItemId": fx.id("item") }),
            needs: AGENDA_WRITE, probe: ("M", "... on Meeting { currentTopic { id } }") },
        Write { label: "createNote(SHARED)", field: "createNote", input_type: "CreateNoteInput",
            input: |fx| json!({ "meetingId": fx.id("M"), "visibility": "SHARED", "body": "Shared by a token" }),
            needs: NOTES_WRITE, probe: ("M", NOTES) },
        Write { label: "updateNote", field: "updateNote", input_type: "UpdateNoteInput",
            input: |fx| json!({ "noteId": fx.id("shared_bob"), "body": "Edited by a token", "expectedVersion": 1 }),
            needs: NOTES_WRITE, probe: ("shared_bob", NOTE) },
        Write { label: "deleteNote", field: "deleteNote", input_type: "DeleteNoteInput",
            input: |fx| json!({ "noteId": fx.id("shared_bob_2") }),
            needs: NOTES_WRITE, probe: ("M", NOTES) },
        Write { label: "createActionItem", field: "createActionItem", input_type: "CreateActionItemInput",
            input: |fx| json!({ "meetingId": fx.id("M"), "title": "Created by a token", "assigneeId": fx.id("bob") }),
            needs: ACTION_ITEMS_WRITE, probe: ("M", ACTIONS) },
        Write { label: "updateActionItem", field: "updateActionItem", input_type: "UpdateActionItemInput",
            input: |fx| json!({ "actionItemId": fx.id("action"), "title": "Retitled by a token" }),
            needs: ACTION_ITEMS_WRITE, probe: ("action", ACTION) },
        Write { label: "setActionItemDone", field: "setActionItemDone", input_type: "SetActionItemDoneInput",
            input: |fx| json!({ "actionItemId": fx.id("action"), "done": true }),
            needs: ACTION_ITEMS_WRITE, probe: ("action", ACTION) },
    ];
    let mut tokens = Tokens::of(&app, &fx.bob);
    let mut failures = Vec::new();
    for case in &cases {
        let query = bare_mutation(case.field, case.input_type);
        let variables = json!({ "input": (case.input)(&fx) });
        let (object, selection) = case.probe;
        let before = probe(&app, &fx.bob, fx.id(object), selection).await;

        let without = tokens.with(&all_but(case.needs)).await;
        let body = app.graphql(&query, variables.clone(), Some(&without)).await;
        if error_code(&body) != Some("FORBIDDEN") {
            failures.push(format!(
                "{} without {}: expected FORBIDDEN, got {body}",
                case.label, case.needs
            ));
        }
        let after = probe(&app, &fx.bob, fx.id(object), selection).await;
        if after != before {
            failures.push(format!(
                "{} without {}: the refused write changed {object}: {before} became {after}",
                case.label, case.needs
            ));
        }

        let exactly = tokens.with(&[case.needs]).await;
        let body = app.graphql(&query, variables, Some(&exactly)).await;
        if body.get("errors").is_some() {
            failures.push(format!(
                "{} with exactly {}: expected success, got {body}",
                case.label, case.needs
            ));
        }
        let written = probe(&app, &fx.bob, fx.id(object), selection).await;
        if written == after {
            failures.push(format!(
                "{} with exactly {}: {object} did not change: {written}",
                case.label, case.needs
            ));
        }
    }
    assert_no_failures(failures);
}

#[tokio::test]
async fn a_write_only_token_reads_back_only_what_its_scope_includes() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let token = create_token(&app, &fx.bob, "Writer", &[AGENDA_WRITE]).await;
    let body = app
        .graphql(
            "mutation($input: AddAgendaItemInput!) { addAgendaItem(input: $input) { agendaItem { meeting { notes { id body } } } } }",
            json!({ "input": { "meetingId": fx.id("M"), "title": "Added by a writer" } }),
            Some(&token.secret),
        )
        .await;
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|error| error["extensions"]["code"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(codes.contains(&"FORBIDDEN"), "{body}");
    assert!(
        !mentions(&body, fx.id("shared")),
        "the shared note was read back: {body}"
    );
    assert!(!body.to_string().contains("Bob's topic"), "{body}");
}

#[tokio::test]
async fn the_meeting_events_subscription_needs_meetings_read() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let meeting = schedule(&app, &fx.max, fx.id("S"), day(20)).await;

    let without = create_token(&app, &fx.bob, "No reading", &all_but(MEETINGS_READ)).await;
    let mut ws = Ws::open(&app, &without.secret).await;
    ws.subscribe("1", &meeting, Some(0)).await;
    assert_eq!(ws.refusal("1").await, "FORBIDDEN");
    ws.close().await;

    let exactly = create_token(&app, &fx.bob, "Reading", &[MEETINGS_READ]).await;
    let mut ws = Ws::open(&app, &exactly.secret).await;
    ws.subscribe("1", &meeting, Some(0)).await;
    let first = ws.event("1").await;
    assert_eq!(first["sequence"], 1, "{first}");
    assert_eq!(first["meeting"]["id"], meeting.as_str(), "{first}");
}

/// Something no token may do, whatever its scopes; `probe` (a read by a session) shows
/// whether it happened.
struct Never {
    label: &'static str,
    who: Who,
    field: &'static str,
    input_type: &'static str,
    input: fn(&Fx) -> Value,
    probe: (Who, &'static str, fn(&Fx) -> Value),
}

async fn run_probe(
    app: &TestApp,
    fx: &Fx,
    (who, query, vars): (Who, &str, fn(&Fx) -> Value),
) -> Value {
    app.ok(query, vars(fx), Some(&fx.session(who).access_token))
        .await
}

#[tokio::test]
async fn what_only_a_person_may_do_is_forbidden_to_any_token_and_changes_nothing() {
    let app = spawn_app().await;
    let mut fx = seed(&app).await;
    // Objects of their own for the cases below.
    let victim = create_token(&app, &fx.bob, "To be revoked", &[MEETINGS_READ]).await;
    fx.insert("victim_token", victim.id);
    let question = mutate(
        &app,
        &fx.ada,
        "addQuestion",
        "AddQuestionInput",
        json!({ "category": "OTHER", "text": "What would you change?" }),
        "question { id }",
    )
    .await["question"]["id"]
        .as_str()
        .expect("question id")
        .to_owned();
    fx.insert("question", question);
    let eve = app.create_user(&fx.ada, "eve@example.com", None).await;
    fx.insert("eve", eve);
    for (name, days) in [
        ("m_resched", 11),
        ("m_start", 12),
        ("m_cancel", 13),
        ("m_check", 14),
        ("m_live", 2),
    ] {
        let id = schedule(&app, &fx.max, fx.id("S"), day(days)).await;
        fx.insert(name, id);
    }
    start(&app, &fx.max, fx.id("m_live")).await;

    const MEETING: &str = "query($id: ID!) { node(id: $id) { ... on Meeting { status scheduledAt startedAt endedAt checkIns { id } notes { id } } } }";
    const SERIES: &str = "query($id: ID!) { node(id: $id) { ... on OneOnOne { cadence defaultDurationMinutes lead meetings(first: 50) { totalCount } } } }";
    const USER: &str =
        "query($id: ID!) { node(id: $id) { ... on User { deactivatedAt manager { id } } } }";
    const QUESTIONS: &str = "{ questions(category: OTHER, first: 1) { totalCount } }";
    const USERS: &str = "{ organization { users(first: 1) { totalCount } } }";
    #[rustfmt::skip]
    let cases = [
        Never { label: "createApiToken", who: Who::Bob, field: "createApiToken", input_type: "CreateApiTokenInput",
            input: |_| json!({ "name": "Made by a token", "scopes": [MEETINGS_READ] }),
            probe: (Who::Bob, TOKEN_STATES, |_| json!({})) },
        Never { label: "revokeApiToken", who: Who::Bob, field: "revokeApiToken", input_type: "RevokeApiTokenInput",
            input: |fx| json!({ "apiTokenId": fx.id("victim_token") }),
            probe: (Who::Bob, TOKEN_STATES, |_| json!({})) },
        Never { label: "scheduleMeeting", who: Who::Max, field: "scheduleMeeting", input_type: "ScheduleMeetingInput",
            input: |fx| json!({ "oneOnOneId": fx.id("S"), "scheduledAt": wire(day(30)) }),
            probe: (Who::Max, SERIES, |fx| json!({ "id": fx.id("S") })) },
        Never { label: "rescheduleMeeting", who: Who::Max, field: "rescheduleMeeting", input_type: "RescheduleMeetingInput",
            input: |fx| json!({ "meetingId": fx.id("m_resched"), "scheduledAt": wire(day(31)) }),
            probe: (Who::Max, MEETING, |fx| json!({ "id": fx.id("m_resched") })) },
        Never { label: "endMeeting", who: Who::Max, field: "endMeeting", input_type: "EndMeetingInput",
            input: |fx| json!({ "meetingId": fx.id("m_live") }),
            probe: (Who::Max, MEETING, |fx| json!({ "id": fx.id("m_live") })) },
        Never { label: "startMeeting", who: Who::Max, field: "startMeeting", input_type: "StartMeetingInput",
            input: |fx| json!({ "meetingId": fx.id("m_start") }),
            probe: (Who::Max, MEETING, |fx| json!({ "id": fx.id("m_start") })) },
        Never { label: "cancelMeeting", who: Who::Max, field: "cancelMeeting", input_type: "CancelMeetingInput",
            input: |fx| json!({ "meetingId": fx.id("m_cancel") }),
            probe: (Who::Max, MEETING, |fx| json!({ "id": fx.id("m_cancel") })) },
        Never { label: "updateOneOnOne", who: Who::Max, field: "updateOneOnOne", input_type: "UpdateOneOnOneInput",
            input: |fx| json!({ "oneOnOneId": fx.id("S"), "defaultDurationMinutes": 47 }),
            probe: (Who::Max, SERIES, |fx| json!({ "id": fx.id("S") })) },
        Never { label: "submitCheckIn", who: Who::Bob, field: "submitCheckIn", input_type: "SubmitCheckInInput",
            input: |fx| json!({ "meetingId": fx.id("m_check"), "mood": 3, "sharedWithManager": true }),
            probe: (Who::Bob, MEETING, |fx| json!({ "id": fx.id("m_check") })) },
        Never { label: "createNote(PRIVATE)", who: Who::Bob, field: "createNote", input_type: "CreateNoteInput",
            input: |fx| json!({ "meetingId": fx.id("M"), "visibility": "PRIVATE", "body": "Private by a token" }),
            probe: (Who::Bob, MEETING, |fx| json!({ "id": fx.id("M") })) },
        Never { label: "createUser", who: Who::Ada, field: "createUser", input_type: "CreateUserInput",
            input: |_| json!({ "email": "new@example.com", "displayName": "New", "password": PASSWORD }),
            probe: (Who::Ada, USERS, |_| json!({})) },
        Never { label: "addQuestion", who: Who::Ada, field: "addQuestion", input_type: "AddQuestionInput",
            input: |_| json!({ "category": "OTHER", "text": "Asked by a token?" }),
            probe: (Who::Ada, QUESTIONS, |_| json!({})) },
        Never { label: "removeQuestion", who: Who::Ada, field: "removeQuestion", input_type: "RemoveQuestionInput",
            input: |fx| json!({ "questionId": fx.id("question") }),
            probe: (Who::Ada, QUESTIONS, |_| json!({})) },
        Never { label: "deactivateUser", who: Who::Ada, field: "deactivateUser", input_type: "DeactivateUserInput",
            input: |fx| json!({ "userId": fx.id("eve") }),
            probe: (Who::Ada, USER, |fx| json!({ "id": fx.id("eve") })) },
        Never { label: "setManager", who: Who::Ada, field: "setManager", input_type: "SetManagerInput",
            input: |fx| json!({ "userId": fx.id("dee"), "managerId": fx.id("oli") }),
            probe: (Who::Ada, USER, |fx| json!({ "id": fx.id("dee") })) },
    ];
    let mut all_scopes = HashMap::new();
    for who in [Who::Ada, Who::Max, Who::Bob] {
        let token = create_token(&app, fx.session(who), "Everything", &ALL_SCOPES).await;
        all_scopes.insert(who, token.secret);
    }
    let mut failures = Vec::new();
    for case in &cases {
        let query = bare_mutation(case.field, case.input_type);
        let variables = json!({ "input": (case.input)(&fx) });
        let before = run_probe(&app, &fx, case.probe).await;
        let body = app
            .graphql(&query, variables.clone(), Some(&all_scopes[&case.who]))
            .await;
        if error_code(&body) != Some("FORBIDDEN") {
            failures.push(format!(
                "{} with an all-scope token of {:?}: expected FORBIDDEN, got {body}",
                case.label, case.who
            ));
        }
        let after = run_probe(&app, &fx, case.probe).await;
        if after != before {
            failures.push(format!(
                "{}: the refused attempt changed {before} into {after}",
                case.label
            ));
        }
        // The same request is a valid one for the person: the token alone made the difference.
        let body = app
            .graphql(&query, variables, Some(&fx.session(case.who).access_token))
            .await;
        let done = run_probe(&app, &fx, case.probe).await;
        if body.get("errors").is_some() || done == after {
            failures.push(format!(
                "{} by {:?}'s session (to check the case itself): expected a change, got {body}",
                case.label, case.who
            ));
        }
    }
    assert_no_failures(failures);
}

#[tokio::test]
async fn export_my_data_is_forbidden_to_any_token() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let token = create_token(&app, &fx.bob, "Everything", &ALL_SCOPES).await;
    let body = app
        .graphql(
            "mutation { exportMyData(input: {}) { json } }",
            json!({}),
            Some(&token.secret),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert!(body["data"].is_null(), "{body}");
    assert!(!body.to_string().contains("Bob's topic"), "{body}");
}

/// Whose token, its scopes, the object read, the selection, and the expected error code (`None`:
/// the read succeeds).
type Visibility = (
    Who,
    &'static [&'static str],
    &'static str,
    &'static str,
    Option<&'static str>,
);

#[tokio::test]
async fn a_token_gets_not_found_for_what_its_user_cannot_see_and_forbidden_for_what_they_can() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    #[rustfmt::skip]
    let table: &[Visibility] = &[
        // Dee is not part of S: without the scope and with every scope, it stays NOT_FOUND.
        (Who::Dee, &[AGENDA_WRITE], "S",      "... on OneOnOne { cadence }", Some("NOT_FOUND")),
        (Who::Dee, &[AGENDA_WRITE], "M",      "... on Meeting { status }",   Some("NOT_FOUND")),
        (Who::Dee, &[AGENDA_WRITE], "item",   "... on AgendaItem { title }", Some("NOT_FOUND")),
        (Who::Dee, &[MEETINGS_READ], "shared", "... on Note { body }",       Some("NOT_FOUND")),
        (Who::Dee, &ALL_SCOPES,     "S",      "... on OneOnOne { cadence }", Some("NOT_FOUND")),
        (Who::Dee, &ALL_SCOPES,     "M",      "... on Meeting { status }",   Some("NOT_FOUND")),
        (Who::Dee, &ALL_SCOPES,     "item",   "... on AgendaItem { title }", Some("NOT_FOUND")),
        (Who::Dee, &ALL_SCOPES,     "shared", "... on Note { body }",        Some("NOT_FOUND")),
        // Oli has no series at all.
        (Who::Oli, &[AGENDA_WRITE], "M",      "... on Meeting { status }",   Some("NOT_FOUND")),
        (Who::Oli, &ALL_SCOPES,     "M",      "... on Meeting { status }",   Some("NOT_FOUND")),
        // Dee's own series T: FORBIDDEN without the scope, allowed with it.
        (Who::Dee, &[NOTES_WRITE],  "T",      "... on OneOnOne { cadence }", Some("FORBIDDEN")),
        (Who::Dee, &[NOTES_WRITE],  "t_item", "... on AgendaItem { title }", Some("FORBIDDEN")),
        (Who::Dee, &[MEETINGS_READ], "T",     "... on OneOnOne { cadence }", None),
        (Who::Dee, &[MEETINGS_READ], "t_item", "... on AgendaItem { title }", None),
        // Ada may see S's metadata but never its content.
        (Who::Ada, &[NOTES_WRITE],  "S",      "... on OneOnOne { cadence }", Some("FORBIDDEN")),
        (Who::Ada, &[MEETINGS_READ], "S",     "... on OneOnOne { cadence }", None),
        (Who::Ada, &ALL_SCOPES,     "item",   "... on AgendaItem { title }", Some("NOT_FOUND")),
        (Who::Ada, &ALL_SCOPES,     "shared", "... on Note { body }",        Some("NOT_FOUND")),
    ];
    let mut tokens: HashMap<Who, Tokens> = [Who::Dee, Who::Oli, Who::Ada]
        .into_iter()
        .map(|who| (who, Tokens::of(&app, fx.session(who))))
        .collect();
    let mut failures = Vec::new();
    for (who, scopes, object, selection, expected) in table {
        let token = tokens
            .get_mut(who)
            .expect("tokens of this person")
            .with(scopes)
            .await;
        let id = fx.id(object);
        let body = node(&app, Some(&token), id, selection).await;
        let matches = match expected {
            Some(code) => error_code(&body) == Some(*code) && body["data"]["node"].is_null(),
            None => body.get("errors").is_none() && body["data"]["node"]["id"] == id,
        };
        if !matches {
            failures.push(format!(
                "node({object}) by {who:?}'s token {scopes:?}: expected {expected:?}, got {body}"
            ));
        }
    }
    assert_no_failures(failures);
}

// ---------------------------------------------------------------------------------------------
// Private notes and private check-ins

#[tokio::test]
async fn a_token_never_lists_a_private_note_not_even_its_users_own() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let mut failures = Vec::new();
    for who in [Who::Bob, Who::Max] {
        let token = create_token(&app, fx.session(who), "Everything", &ALL_SCOPES).await;
        let body = node(
            &app,
            Some(&token.secret),
            fx.id("M"),
            "... on Meeting { notes { id body visibility } }",
        )
        .await;
        let mut listed = crate::support::ids(&body["data"]["node"]["notes"]);
        listed.sort();
        let mut shared = vec![
            fx.id("shared").to_owned(),
            fx.id("shared_bob").to_owned(),
            fx.id("shared_bob_2").to_owned(),
        ];
        shared.sort();
        let text = body.to_string();
        if body.get("errors").is_some()
            || listed != shared
            || text.contains(PRIVATE_BOB)
            || text.contains(PRIVATE_MAX)
            || text.contains("PRIVATE")
        {
            failures.push(format!(
                "M.notes by {who:?}'s token: expected the shared notes only, got {body}"
            ));
        }
    }
    assert_no_failures(failures);
}

#[tokio::test]
async fn node_of_a_private_note_is_not_found_for_a_token_even_its_authors() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let mut failures = Vec::new();
    for (who, note, secret) in [
        (Who::Bob, "private_bob", PRIVATE_BOB),
        (Who::Max, "private_max", PRIVATE_MAX),
    ] {
        let token = create_token(&app, fx.session(who), "Everything", &ALL_SCOPES).await;
        let body = node(
            &app,
            Some(&token.secret),
            fx.id(note),
            "... on Note { body visibility }",
        )
        .await;
        if error_code(&body) != Some("NOT_FOUND")
            || !body["data"]["node"].is_null()
            || body.to_string().contains(secret)
        {
            failures.push(format!(
                "node({note}) by its author's token: expected NOT_FOUND, got {body}"
            ));
        }
    }
    assert_no_failures(failures);
}

#[tokio::test]
async fn a_token_never_reaches_a_private_check_in_not_even_its_users_own() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let token = create_token(&app, &fx.bob, "Everything", &ALL_SCOPES).await;
    let listed = app
        .ok(
            "query($m: ID!, $m2: ID!) { m: node(id: $m) { ... on Meeting { checkIns { id } } } m2: node(id: $m2) { ... on Meeting { checkIns { id comment } } } }",
            json!({ "m": fx.id("M"), "m2": fx.id("M2") }),
            Some(&token.secret),
        )
        .await;
    assert_eq!(
        crate::support::ids(&listed["m"]["checkIns"]),
        [fx.id("check_shared")],
        "the shared check-in is listed: {listed}"
    );
    assert_eq!(
        listed["m2"]["checkIns"],
        json!([]),
        "the private check-in is not: {listed}"
    );
    let body = node(
        &app,
        Some(&token.secret),
        fx.id("check_private"),
        "... on CheckIn { mood comment }",
    )
    .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    assert!(body["data"]["node"].is_null(), "{body}");
    assert!(!body.to_string().contains(PRIVATE_CHECK_IN), "{body}");
}

#[tokio::test]
async fn walking_every_series_with_a_token_never_reaches_private_content() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let query = "{ viewer { oneOnOnes(first: 3, includeArchived: true) { edges { node { id openActionItems { id } meetings(first: 3) { edges { node { id agenda { id title } currentTopic { id } notes { id body visibility } actionItems { id } checkIns { id mood comment sharedWithManager } } } } } } } } }";
    for who in [Who::Bob, Who::Max] {
        let token = create_token(&app, fx.session(who), "Everything", &ALL_SCOPES).await;
        let body = app.graphql(query, json!({}), Some(&token.secret)).await;
        assert!(body.get("errors").is_none(), "{who:?}: {body}");
        assert!(
            mentions(&body, fx.id("shared")),
            "{who:?}: the walk reached shared notes: {body}"
        );
        assert!(
            mentions(&body, fx.id("check_shared")),
            "{who:?}: the walk reached shared check-ins: {body}"
        );
        let text = body.to_string();
        for private in ["private_bob", "private_max", "check_private"] {
            assert!(
                !mentions(&body, fx.id(private)),
                "{who:?} reached {private}: {body}"
            );
        }
        for secret in [PRIVATE_BOB, PRIVATE_MAX, PRIVATE_CHECK_IN] {
            assert!(!text.contains(secret), "{who:?} reached {secret:?}: {body}");
        }
    }
}

#[tokio::test]
async fn a_tokens_subscription_never_receives_a_private_note_but_receives_the_next_shared_event() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let meeting = schedule(&app, &fx.max, fx.id("S"), day(20)).await;
    let token = create_token(&app, &fx.bob, "Live tool", &ALL_SCOPES).await;
    let mut ws = Ws::open(&app, &token.secret).await;
    ws.subscribe("1", &meeting, Some(0)).await;
    ws.event("1").await;

    // Bob writes a private note in the app, edits and deletes it, then a shared one.
    let secret = "Only for me, never for my integrations";
    let private = create_note(&app, &fx.bob, &meeting, "PRIVATE", secret).await;
    mutate(
        &app,
        &fx.bob,
        "updateNote",
        "UpdateNoteInput",
        json!({ "noteId": private, "body": format!("{secret}, still"), "expectedVersion": 1 }),
        "note { id }",
    )
    .await;
    mutate(
        &app,
        &fx.bob,
        "deleteNote",
        "DeleteNoteInput",
        json!({ "noteId": private }),
        "deletedNoteId",
    )
    .await;
    let shared = create_note(&app, &fx.bob, &meeting, "SHARED", "For both of us").await;

    let events = ws
        .events_until("1", |event| event["kind"] == "NOTE_CREATED")
        .await;
    let first_note = events.last().expect("an event");
    assert_eq!(
        first_note["note"]["id"],
        shared.as_str(),
        "the first note event is the shared one: {events:#?}"
    );
    assert_eq!(first_note["note"]["body"], "For both of us");
    assert!(
        events.iter().all(|event| !event["kind"]
            .as_str()
            .is_some_and(|kind| kind.starts_with("NOTE_"))
            || event["note"]["id"] == shared.as_str()),
        "a private note event reached the token: {events:#?}"
    );
    assert!(!ws.saw(secret), "the private body reached the token");
    assert!(!ws.saw(&private), "the private note's id reached the token");
}

#[tokio::test]
async fn a_tokens_subscription_never_receives_a_private_check_in() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let meeting = schedule(&app, &fx.max, fx.id("S"), day(20)).await;
    let token = create_token(&app, &fx.bob, "Live tool", &ALL_SCOPES).await;
    let mut ws = Ws::open(&app, &token.secret).await;
    ws.subscribe("1", &meeting, Some(0)).await;
    ws.event("1").await;

    let check_in = submit_check_in(&app, &fx.bob, &meeting, 1, false).await;
    add_item(&app, &fx.bob, &meeting, "Shared topic").await;
    let events = ws
        .events_until("1", |event| event["kind"] == "AGENDA_ITEM_ADDED")
        .await;
    assert_eq!(
        events.last().expect("an event")["agendaItem"]["title"],
        "Shared topic"
    );
    assert!(
        events
            .iter()
            .all(|event| event["kind"] != "CHECK_IN_SUBMITTED"),
        "the private check-in reached the token: {events:#?}"
    );
    assert!(
        !ws.saw(&check_in),
        "the private check-in's id reached the token"
    );
}
