//! The access matrix: every viewer against every kind of 1:1 object, on every path (`node(id:)`,
//! nested fields, connections, mutations). Each expected outcome is one explicit table entry, so
//! dropping any single access rule from the server makes at least one entry fail.
//!
//! The organisation (seeded afresh by every test):
//! - admin Ada, not a participant of anything;
//! - series S, active: Max manages Bob. Meetings M (day 1) and M2 (day 8). On M: Bob's agenda
//!   item (the current topic) and one of Max's, Max's shared note, a private note by each, an
//!   action item, Bob's shared check-in; on M2 Bob's private check-in;
//! - series A, archived: Fay managed Gus, with the same content (Gus in Bob's place), until Ada
//!   moved Gus to Nel: Fay is the former manager, Nel the new one, with a new series N;
//! - Oli, a member with no part in any of it; Zed, another organisation's admin;
//! - Dee, who reported to Max (series T) and was deactivated after signing in;
//! - and anonymous callers.

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tete_tests::{TestApp, error_code, spawn_app};

use crate::support::{
    add_item, create_action_item, create_note, day, mutate, one_on_ones, schedule, submit_check_in,
    wire,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Who {
    Max,
    Bob,
    Ada,
    Oli,
    Zed,
    Anon,
    Dee,
    Fay,
    Nel,
    Gus,
}

/// The column order of every table below.
const VIEWERS: [Who; 10] = [
    Who::Max,
    Who::Bob,
    Who::Ada,
    Who::Oli,
    Who::Zed,
    Who::Anon,
    Who::Dee,
    Who::Fay,
    Who::Nel,
    Who::Gus,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Obj {
    /// Series S (Max manages Bob) and its content.
    SSeries,
    SMeeting,
    SMeeting2,
    SItem,
    SItemMax,
    SShared,
    SPrivBob,
    SPrivMax,
    SAction,
    SCheckShared,
    SCheckPrivate,
    /// Series A (Fay managed Gus, archived) and its content.
    ASeries,
    AMeeting,
    AMeeting2,
    AItem,
    AItemFay,
    AShared,
    APrivGus,
    APrivFay,
    AAction,
    ACheckShared,
    ACheckPrivate,
    /// Nel's new series with Gus; Max's archived series with Dee.
    NSeries,
    TSeries,
    /// Users, as parents of `oneOnOnes`.
    UserBob,
    UserGus,
    UserMax,
    UserNel,
}

/// An expected outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum E {
    /// Succeeds (a read returns the object, a write goes through).
    Ok,
    /// The object is listed in the answer.
    L,
    /// The request succeeds but the object is not in the answer.
    N,
    /// `FORBIDDEN`.
    Fb,
    /// `NOT_FOUND`.
    Nf,
    /// `UNAUTHENTICATED`.
    Ua,
    /// HTTP 401 with `UNAUTHENTICATED` (a deactivated user).
    D4,
    /// Not attempted here (covered by another entry).
    Skip,
}

use E::{D4, Fb as FB, L, N, Nf as NF, Ok as OK, Skip as SK, Ua as UA};
use Obj::*;

struct Fixture {
    tokens: HashMap<Who, String>,
    users: HashMap<Who, String>,
    objects: HashMap<Obj, String>,
}

impl Fixture {
    fn token(&self, who: Who) -> Option<&str> {
        self.tokens.get(&who).map(String::as_str)
    }

    fn user(&self, who: Who) -> &str {
        &self.users[&who]
    }

    fn id(&self, obj: Obj) -> &str {
        &self.objects[&obj]
    }
}

async fn seed(app: &TestApp) -> Fixture {
    let ada = app.sign_up("Acme", "ada@example.com").await;
    let zed = app.sign_up("Other", "zed@example.com").await;
    let max = app.create_user(&ada, "max@example.com", None).await;
    let bob = app.create_user(&ada, "bob@example.com", Some(&max)).await;
    let oli = app.create_user(&ada, "oli@example.com", None).await;
    let dee = app.create_user(&ada, "dee@example.com", Some(&max)).await;
    let fay = app.create_user(&ada, "fay@example.com", None).await;
    let gus = app.create_user(&ada, "gus@example.com", Some(&fay)).await;
    let nel = app.create_user(&ada, "nel@example.com", None).await;
    let mut sessions = HashMap::new();
    for (who, email) in [
        (Who::Max, "max@example.com"),
        (Who::Bob, "bob@example.com"),
        (Who::Oli, "oli@example.com"),
        (Who::Dee, "dee@example.com"),
        (Who::Fay, "fay@example.com"),
        (Who::Gus, "gus@example.com"),
        (Who::Nel, "nel@example.com"),
    ] {
        sessions.insert(who, app.session(email).await);
    }
    let s = |who: Who| &sessions[&who];
    let mut objects = HashMap::new();
    let series_with = |list: &[Value], report: &str| -> String {
        list.iter()
            .find(|series| series["report"]["id"] == report)
            .and_then(|series| series["id"].as_str())
            .expect("the series")
            .to_owned()
    };
    let max_series = one_on_ones(app, s(Who::Max), false).await;
    objects.insert(SSeries, series_with(&max_series, &bob));
    objects.insert(TSeries, series_with(&max_series, &dee));
    let fay_series = one_on_ones(app, s(Who::Fay), false).await;
    objects.insert(ASeries, series_with(&fay_series, &gus));

    // The same content in S (Max and Bob) and A (Fay and Gus).
    let sides = [
        (Who::Max, Who::Bob, &bob, SSeries, 0),
        (Who::Fay, Who::Gus, &gus, ASeries, 1),
    ];
    for (manager, report, report_id, series, offset) in sides {
        let (m, r) = (s(manager), s(report));
        let ids = |s_obj: Obj, a_obj: Obj| if offset == 0 { s_obj } else { a_obj };
        let series_id = objects[&series].clone();
        let meeting = mutate(
            app,
            m,
            "scheduleMeeting",
            "ScheduleMeetingInput",
            json!({ "oneOnOneId": series_id, "scheduledAt": wire(day(1 + offset)), "location": LOCATION }),
            "meeting { id }",
        )
        .await["meeting"]["id"]
            .as_str()
            .expect("a meeting id")
            .to_owned();
        let meeting2 = schedule(app, m, &series_id, day(8 + offset)).await;
        let item = add_item(app, r, &meeting, "The report's topic").await;
        let item_of_manager = add_item(app, m, &meeting, "The manager's topic").await;
        let shared = create_note(app, m, &meeting, "SHARED", "Shared by the manager").await;
        let private_report = create_note(app, r, &meeting, "PRIVATE", "The report's own").await;
        let private_manager = create_note(app, m, &meeting, "PRIVATE", "The manager's own").await;
        let action = create_action_item(app, m, &meeting, "Follow up", report_id).await;
        let check_shared = submit_check_in(app, r, &meeting, 4, true).await;
        let check_private = submit_check_in(app, r, &meeting2, 2, false).await;
        mutate(
            app,
            m,
            "setCurrentTopic",
            "SetCurrentTopicInput",
            json!({ "meetingId": meeting, "agendaItemId": item }),
            "meeting { id }",
        )
        .await;
        objects.insert(ids(SMeeting, AMeeting), meeting);
        objects.insert(ids(SMeeting2, AMeeting2), meeting2);
        objects.insert(ids(SItem, AItem), item);
        objects.insert(ids(SItemMax, AItemFay), item_of_manager);
        objects.insert(ids(SShared, AShared), shared);
        objects.insert(ids(SPrivBob, APrivGus), private_report);
        objects.insert(ids(SPrivMax, APrivFay), private_manager);
        objects.insert(ids(SAction, AAction), action);
        objects.insert(ids(SCheckShared, ACheckShared), check_shared);
        objects.insert(ids(SCheckPrivate, ACheckPrivate), check_private);
    }

    // Gus moves to Nel: A is archived, N starts.
    let data = app
        .ok(
            "mutation($input: SetManagerInput!) { setManager(input: $input) { oneOnOne { id } } }",
            json!({ "input": { "userId": gus, "managerId": nel } }),
            Some(&ada.access_token),
        )
        .await;
    objects.insert(
        NSeries,
        data["setManager"]["oneOnOne"]["id"]
            .as_str()
            .expect("the new series")
            .to_owned(),
    );
    // Dee signed in earlier; now she is deactivated (and T archived).
    app.ok(
        "mutation($id: ID!) { deactivateUser(input: { userId: $id }) { user { id } } }",
        json!({ "id": dee }),
        Some(&ada.access_token),
    )
    .await;
    objects.insert(UserBob, bob.clone());
    objects.insert(UserGus, gus.clone());
    objects.insert(UserMax, max.clone());
    objects.insert(UserNel, nel.clone());

    let mut tokens: HashMap<Who, String> = sessions
        .iter()
        .map(|(who, session)| (*who, session.access_token.clone()))
        .collect();
    tokens.insert(Who::Ada, ada.access_token.clone());
    tokens.insert(Who::Zed, zed.access_token.clone());
    let users = HashMap::from([
        (Who::Max, max),
        (Who::Bob, bob),
        (Who::Ada, ada.user_id.clone()),
        (Who::Oli, oli),
        (Who::Zed, zed.user_id.clone()),
        (Who::Dee, dee),
        (Who::Fay, fay),
        (Who::Nel, nel),
        (Who::Gus, gus),
    ]);
    Fixture {
        tokens,
        users,
        objects,
    }
}

/// Compares a response with an expected refusal; `None` when it matches. `Ok`, `L` and `N`
/// are checked by the caller and only need the response to carry no error.
fn refusal_mismatch(expected: E, status: StatusCode, body: &Value) -> Option<String> {
    let code = error_code(body);
    let matches = match expected {
        OK | L | N => body.get("errors").is_none(),
        FB => code == Some("FORBIDDEN"),
        NF => code == Some("NOT_FOUND"),
        UA => code == Some("UNAUTHENTICATED"),
        D4 => status == StatusCode::UNAUTHORIZED && code == Some("UNAUTHENTICATED"),
        SK => true,
    };
    (!matches).then(|| format!("expected {expected:?}, got HTTP {status}: {body}"))
}

/// Whether `id` appears as a value anywhere in the response's data.
fn mentions(body: &Value, id: &str) -> bool {
    body["data"].to_string().contains(&format!("\"{id}\""))
}

fn assert_no_failures(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} table entries failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

const NODE: &str = "query($id: ID!) { node(id: $id) { id __typename ... on OneOnOne { archivedAt manager { id } report { id } } ... on Meeting { status scheduledAt } ... on AgendaItem { title } ... on Note { body } ... on ActionItem { title } ... on CheckIn { mood } } }";

#[tokio::test]
async fn node_answers_each_viewer_as_the_rules_say() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    #[rustfmt::skip]
    let table: &[(Obj, [E; 10])] = &[
        //                  Max Bob Ada Oli Zed Anon Dee Fay Nel Gus
        (SSeries,         [OK, OK, OK, NF, NF, UA, D4, NF, NF, NF]),
        (SMeeting,        [OK, OK, OK, NF, NF, UA, D4, NF, NF, NF]),
        (SMeeting2,       [OK, OK, OK, NF, NF, UA, D4, NF, NF, NF]),
        (SItem,           [OK, OK, NF, NF, NF, UA, D4, NF, NF, NF]),
        (SShared,         [OK, OK, NF, NF, NF, UA, D4, NF, NF, NF]),
        (SPrivBob,        [NF, OK, NF, NF, NF, UA, D4, NF, NF, NF]),
        (SPrivMax,        [OK, NF, NF, NF, NF, UA, D4, NF, NF, NF]),
        (SAction,         [OK, OK, NF, NF, NF, UA, D4, NF, NF, NF]),
        (SCheckShared,    [OK, OK, NF, NF, NF, UA, D4, NF, NF, NF]),
        (SCheckPrivate,   [NF, OK, NF, NF, NF, UA, D4, NF, NF, NF]),
        (ASeries,         [NF, NF, OK, NF, NF, UA, D4, OK, NF, OK]),
        (AMeeting,        [NF, NF, OK, NF, NF, UA, D4, OK, NF, OK]),
        (AItem,           [NF, NF, NF, NF, NF, UA, D4, OK, NF, OK]),
        (AShared,         [NF, NF, NF, NF, NF, UA, D4, OK, NF, OK]),
        (APrivGus,        [NF, NF, NF, NF, NF, UA, D4, NF, NF, OK]),
        (APrivFay,        [NF, NF, NF, NF, NF, UA, D4, OK, NF, NF]),
        (AAction,         [NF, NF, NF, NF, NF, UA, D4, OK, NF, OK]),
        (ACheckShared,    [NF, NF, NF, NF, NF, UA, D4, OK, NF, OK]),
        (ACheckPrivate,   [NF, NF, NF, NF, NF, UA, D4, NF, NF, OK]),
        (NSeries,         [NF, NF, OK, NF, NF, UA, D4, NF, OK, OK]),
        (TSeries,         [OK, NF, OK, NF, NF, UA, D4, NF, NF, NF]),
    ];
    let mut failures = Vec::new();
    for (obj, expected) in table {
        for (who, expected) in VIEWERS.into_iter().zip(*expected) {
            let id = fx.id(*obj);
            let (status, body) = app
                .post_graphql(NODE, json!({ "id": id }), fx.token(who))
                .await;
            let mismatch = match expected {
                OK => (body["data"]["node"]["id"] != id || body.get("errors").is_some())
                    .then(|| format!("expected the object, got HTTP {status}: {body}")),
                NF => refusal_mismatch(NF, status, &body).or_else(|| {
                    (!body["data"]["node"].is_null())
                        .then(|| format!("NOT_FOUND but data given: {body}"))
                }),
                other => refusal_mismatch(other, status, &body),
            };
            if let Some(mismatch) = mismatch {
                failures.push(format!("node({obj:?}) as {who:?}: {mismatch}"));
            }
        }
    }
    assert_no_failures(failures);
}

/// Where the first meeting of each series happens: content, as telling as any note.
const LOCATION: &str = "Coffee at Luigi's, to talk about leaving";

#[tokio::test]
async fn where_a_meeting_happens_is_shown_to_its_participants_only() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let paths = [
        (
            "node",
            "query($id: ID!) { node(id: $id) { id ... on Meeting { status location } } }",
        ),
        (
            "series.meetings",
            "query($id: ID!) { node(id: $id) { ... on Meeting { oneOnOne { meetings(first: 5) { edges { node { id location } } } } } } }",
        ),
        (
            "series.nextMeeting",
            "query($id: ID!) { node(id: $id) { ... on Meeting { oneOnOne { nextMeeting { id location } } } } }",
        ),
    ];
    #[rustfmt::skip]
    let table: &[(Obj, [E; 10])] = &[
        //             Max Bob Ada Oli Zed Anon Dee Fay Nel Gus
        (SMeeting,   [OK, OK, FB, NF, NF, UA, D4, NF, NF, NF]),
        (AMeeting,   [NF, NF, FB, NF, NF, UA, D4, OK, NF, OK]),
    ];
    let mut failures = Vec::new();
    for (path, query) in paths {
        for (obj, expected) in table {
            for (who, expected) in VIEWERS.into_iter().zip(*expected) {
                let (status, body) = app
                    .post_graphql(query, json!({ "id": fx.id(*obj) }), fx.token(who))
                    .await;
                let shown = body["data"].to_string().contains(LOCATION);
                let mismatch = match expected {
                    OK if !shown => Some(format!("expected the location: {body}")),
                    OK => refusal_mismatch(OK, status, &body),
                    _ if shown => Some(format!("the location leaked: {body}")),
                    other => refusal_mismatch(other, status, &body),
                };
                if let Some(mismatch) = mismatch {
                    failures.push(format!("{path} of {obj:?} as {who:?}: {mismatch}"));
                }
            }
        }
    }
    assert_no_failures(failures);
}

#[tokio::test]
async fn nested_fields_show_each_viewer_only_what_the_rules_allow() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let via_bob = "... on User { oneOnOnes(first: 5, includeArchived: true) { edges { node { meetings(first: 5) { edges { node { id status agenda { id } } } } } } } }";
    let meetings_via_bob = "... on User { oneOnOnes(first: 5, includeArchived: true) { edges { node { meetings(first: 5) { edges { node { id status } } } } } } }";
    #[rustfmt::skip]
    let table: &[(Obj, Obj, &str, [E; 10])] = &[
        // object           parent      field                                   Max Bob Ada Oli Zed Anon Dee Fay Nel Gus
        (SItem,          SMeeting,  "... on Meeting { agenda { id } }",          [L,  L,  FB, NF, NF, UA, D4, NF, NF, NF]),
        (SItem,          SMeeting,  "... on Meeting { currentTopic { id } }",    [L,  L,  FB, NF, NF, UA, D4, NF, NF, NF]),
        (SShared,        SMeeting,  "... on Meeting { notes { id } }",           [L,  L,  FB, NF, NF, UA, D4, NF, NF, NF]),
        (SPrivBob,       SMeeting,  "... on Meeting { notes { id } }",           [N,  L,  FB, NF, NF, UA, D4, NF, NF, NF]),
        (SPrivMax,       SMeeting,  "... on Meeting { notes { id } }",           [L,  N,  FB, NF, NF, UA, D4, NF, NF, NF]),
        (SAction,        SMeeting,  "... on Meeting { actionItems { id } }",     [L,  L,  FB, NF, NF, UA, D4, NF, NF, NF]),
        (SAction,        SSeries,   "... on OneOnOne { openActionItems { id } }",[L,  L,  FB, NF, NF, UA, D4, NF, NF, NF]),
        (SCheckShared,   SMeeting,  "... on Meeting { checkIns { id } }",        [L,  L,  FB, NF, NF, UA, D4, NF, NF, NF]),
        (SCheckPrivate,  SMeeting2, "... on Meeting { checkIns { id } }",        [N,  L,  FB, NF, NF, UA, D4, NF, NF, NF]),
        (SMeeting,       SSeries,   "... on OneOnOne { meetings { edges { node { id status } } } }", [L, L, L, NF, NF, UA, D4, NF, NF, NF]),
        (SMeeting,       SSeries,   "... on OneOnOne { nextMeeting { id } }",    [L,  L,  L,  NF, NF, UA, D4, NF, NF, NF]),
        (SSeries,        SMeeting,  "... on Meeting { oneOnOne { id } }",        [L,  L,  L,  NF, NF, UA, D4, NF, NF, NF]),
        (SMeeting,       SItem,     "... on AgendaItem { meeting { id } }",      [L,  L,  NF, NF, NF, UA, D4, NF, NF, NF]),
        (SMeeting,       SShared,   "... on Note { meeting { id } }",            [L,  L,  NF, NF, NF, UA, D4, NF, NF, NF]),
        (SMeeting,       SCheckShared, "... on CheckIn { meeting { id } }",      [L,  L,  NF, NF, NF, UA, D4, NF, NF, NF]),
        (SSeries,        SAction,   "... on ActionItem { oneOnOne { id } }",     [L,  L,  NF, NF, NF, UA, D4, NF, NF, NF]),
        (SItem,          UserBob,   via_bob,                                     [L,  L,  FB, NF, NF, UA, D4, NF, NF, NF]),
        (SMeeting,       UserBob,   meetings_via_bob,                            [L,  L,  L,  NF, NF, UA, D4, NF, NF, NF]),
        (AItem,          AMeeting,  "... on Meeting { agenda { id } }",          [NF, NF, FB, NF, NF, UA, D4, L,  NF, L ]),
        (AItem,          AMeeting,  "... on Meeting { currentTopic { id } }",    [NF, NF, FB, NF, NF, UA, D4, L,  NF, L ]),
        (AShared,        AMeeting,  "... on Meeting { notes { id } }",           [NF, NF, FB, NF, NF, UA, D4, L,  NF, L ]),
        (APrivGus,       AMeeting,  "... on Meeting { notes { id } }",           [NF, NF, FB, NF, NF, UA, D4, N,  NF, L ]),
        (APrivFay,       AMeeting,  "... on Meeting { notes { id } }",           [NF, NF, FB, NF, NF, UA, D4, L,  NF, N ]),
        (AAction,        AMeeting,  "... on Meeting { actionItems { id } }",     [NF, NF, FB, NF, NF, UA, D4, L,  NF, L ]),
        (AAction,        ASeries,   "... on OneOnOne { openActionItems { id } }",[NF, NF, FB, NF, NF, UA, D4, L,  NF, L ]),
        (ACheckShared,   AMeeting,  "... on Meeting { checkIns { id } }",        [NF, NF, FB, NF, NF, UA, D4, L,  NF, L ]),
        (ACheckPrivate,  AMeeting2, "... on Meeting { checkIns { id } }",        [NF, NF, FB, NF, NF, UA, D4, N,  NF, L ]),
        (AMeeting,       ASeries,   "... on OneOnOne { meetings { edges { node { id status } } } }", [NF, NF, L, NF, NF, UA, D4, L, NF, L]),
        (ASeries,        AMeeting,  "... on Meeting { oneOnOne { id } }",        [NF, NF, L,  NF, NF, UA, D4, L,  NF, L ]),
        (AMeeting,       AItem,     "... on AgendaItem { meeting { id } }",      [NF, NF, NF, NF, NF, UA, D4, L,  NF, L ]),
        // Through Gus's own series list: the new manager sees only the new series.
        (AItem,          UserGus,   "... on User { oneOnOnes(first: 5, includeArchived: true) { edges { node { meetings(first: 5) { edges { node { agenda { id } } } } } } } }",
                                                                                 [NF, NF, FB, NF, NF, UA, D4, SK, N,  L ]),
    ];
    let mut failures = Vec::new();
    for (obj, parent, selection, expected) in table {
        for (who, expected) in VIEWERS.into_iter().zip(*expected) {
            if expected == SK {
                continue;
            }
            let (status, body) = app
                .post_graphql(
                    &format!("query($id: ID!) {{ node(id: $id) {{ id {selection} }} }}"),
                    json!({ "id": fx.id(*parent) }),
                    fx.token(who),
                )
                .await;
            let mismatch = refusal_mismatch(expected, status, &body).or_else(|| {
                let listed = mentions(&body, fx.id(*obj));
                match expected {
                    L if !listed => Some(format!("expected it listed: {body}")),
                    N if listed => Some(format!("expected it not listed: {body}")),
                    _ => None,
                }
            });
            if let Some(mismatch) = mismatch {
                failures.push(format!(
                    "{obj:?} in {parent:?} {{ {selection} }} as {who:?}: {mismatch}"
                ));
            }
        }
    }
    assert_no_failures(failures);
}

#[tokio::test]
async fn walking_down_from_the_viewer_reaches_only_what_the_rules_allow() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let query = "{ viewer { oneOnOnes(first: 3, includeArchived: true) { edges { node { id openActionItems { id } meetings(first: 3) { edges { node { id agenda { id } currentTopic { id } notes { id } actionItems { id } checkIns { id } } } } } } } } }";
    #[rustfmt::skip]
    let table: &[(Obj, [E; 10])] = &[
        //                  Max Bob Ada Oli Zed Anon Dee Fay Nel Gus
        (SSeries,         [L,  L,  N,  N,  N,  UA, D4, N,  N,  N ]),
        (SMeeting,        [L,  L,  N,  N,  N,  UA, D4, N,  N,  N ]),
        (SMeeting2,       [L,  L,  N,  N,  N,  UA, D4, N,  N,  N ]),
        (SItem,           [L,  L,  N,  N,  N,  UA, D4, N,  N,  N ]),
        (SShared,         [L,  L,  N,  N,  N,  UA, D4, N,  N,  N ]),
        (SPrivBob,        [N,  L,  N,  N,  N,  UA, D4, N,  N,  N ]),
        (SPrivMax,        [L,  N,  N,  N,  N,  UA, D4, N,  N,  N ]),
        (SAction,         [L,  L,  N,  N,  N,  UA, D4, N,  N,  N ]),
        (SCheckShared,    [L,  L,  N,  N,  N,  UA, D4, N,  N,  N ]),
        (SCheckPrivate,   [N,  L,  N,  N,  N,  UA, D4, N,  N,  N ]),
        (TSeries,         [L,  N,  N,  N,  N,  UA, D4, N,  N,  N ]),
        (ASeries,         [N,  N,  N,  N,  N,  UA, D4, L,  N,  L ]),
        (AMeeting,        [N,  N,  N,  N,  N,  UA, D4, L,  N,  L ]),
        (AMeeting2,       [N,  N,  N,  N,  N,  UA, D4, L,  N,  L ]),
        (AItem,           [N,  N,  N,  N,  N,  UA, D4, L,  N,  L ]),
        (AShared,         [N,  N,  N,  N,  N,  UA, D4, L,  N,  L ]),
        (APrivGus,        [N,  N,  N,  N,  N,  UA, D4, N,  N,  L ]),
        (APrivFay,        [N,  N,  N,  N,  N,  UA, D4, L,  N,  N ]),
        (AAction,         [N,  N,  N,  N,  N,  UA, D4, L,  N,  L ]),
        (ACheckShared,    [N,  N,  N,  N,  N,  UA, D4, L,  N,  L ]),
        (ACheckPrivate,   [N,  N,  N,  N,  N,  UA, D4, N,  N,  L ]),
        (NSeries,         [N,  N,  N,  N,  N,  UA, D4, N,  L,  L ]),
    ];
    let mut answers = HashMap::new();
    for who in VIEWERS {
        answers.insert(who, app.post_graphql(query, json!({}), fx.token(who)).await);
    }
    let mut failures = Vec::new();
    for (obj, expected) in table {
        for (who, expected) in VIEWERS.into_iter().zip(*expected) {
            let (status, body) = &answers[&who];
            let mismatch = refusal_mismatch(expected, *status, body).or_else(|| {
                let listed = mentions(body, fx.id(*obj));
                match expected {
                    L if !listed => Some(format!("expected it listed: {body}")),
                    N if listed => Some(format!("expected it not listed: {body}")),
                    _ => None,
                }
            });
            if let Some(mismatch) = mismatch {
                failures.push(format!("{obj:?} under viewer as {who:?}: {mismatch}"));
            }
        }
    }
    assert_no_failures(failures);
}

/// What a connection should hold: these objects exactly, or a refusal.
enum Holds {
    Exactly(&'static [Obj]),
    Refused(E),
}

#[tokio::test]
async fn connections_list_series_and_meetings_only_to_those_allowed() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    use Holds::{Exactly, Refused};
    // `None` as the parent: the viewer's own `oneOnOnes`.
    #[rustfmt::skip]
    let series_table: &[(Who, Option<Obj>, bool, Holds)] = &[
        (Who::Max, None,          false, Exactly(&[SSeries])),
        (Who::Max, None,          true,  Exactly(&[SSeries, TSeries])),
        (Who::Max, Some(UserBob), true,  Exactly(&[SSeries])),
        (Who::Bob, None,          true,  Exactly(&[SSeries])),
        (Who::Bob, Some(UserMax), true,  Exactly(&[SSeries])),
        (Who::Ada, None,          true,  Exactly(&[])),
        (Who::Ada, Some(UserBob), true,  Exactly(&[SSeries])),
        (Who::Ada, Some(UserGus), false, Exactly(&[NSeries])),
        (Who::Ada, Some(UserGus), true,  Exactly(&[ASeries, NSeries])),
        (Who::Ada, Some(UserMax), true,  Exactly(&[SSeries, TSeries])),
        (Who::Oli, None,          true,  Exactly(&[])),
        (Who::Oli, Some(UserBob), true,  Refused(NF)),
        (Who::Zed, None,          true,  Exactly(&[])),
        (Who::Zed, Some(UserBob), true,  Refused(NF)),
        (Who::Zed, Some(UserGus), true,  Refused(NF)),
        (Who::Anon, None,         true,  Refused(UA)),
        (Who::Dee, None,          true,  Refused(D4)),
        (Who::Fay, None,          false, Exactly(&[])),
        (Who::Fay, None,          true,  Exactly(&[ASeries])),
        (Who::Nel, None,          true,  Exactly(&[NSeries])),
        (Who::Nel, Some(UserGus), true,  Exactly(&[NSeries])),
        (Who::Gus, None,          false, Exactly(&[NSeries])),
        (Who::Gus, None,          true,  Exactly(&[ASeries, NSeries])),
        (Who::Gus, Some(UserNel), true,  Exactly(&[NSeries])),
    ];
    let mut failures = Vec::new();
    let connection =
        "oneOnOnes(first: 20, includeArchived: $archived) { totalCount edges { node { id } } }";
    for (who, parent, archived, holds) in series_table {
        let (query, variables) = match parent {
            None => (
                format!("query($archived: Boolean) {{ viewer {{ {connection} }} }}"),
                json!({ "archived": archived }),
            ),
            Some(user) => (
                format!(
                    "query($id: ID!, $archived: Boolean) {{ node(id: $id) {{ ... on User {{ {connection} }} }} }}"
                ),
                json!({ "id": fx.id(*user), "archived": archived }),
            ),
        };
        let (status, body) = app.post_graphql(&query, variables, fx.token(*who)).await;
        let found = if parent.is_none() {
            &body["data"]["viewer"]["oneOnOnes"]
        } else {
            &body["data"]["node"]["oneOnOnes"]
        };
        let case = format!("{parent:?}.oneOnOnes(includeArchived: {archived}) as {who:?}");
        check_holds(&fx, holds, status, &body, found, &case, &mut failures);
    }

    #[rustfmt::skip]
    let meetings_table: &[(Obj, [Holds; 10])] = &[
        (SSeries, [
            Exactly(&[SMeeting, SMeeting2]), Exactly(&[SMeeting, SMeeting2]), Exactly(&[SMeeting, SMeeting2]),
            Refused(NF), Refused(NF), Refused(UA), Refused(D4), Refused(NF), Refused(NF), Refused(NF),
        ]),
        (ASeries, [
            Refused(NF), Refused(NF), Exactly(&[AMeeting, AMeeting2]), Refused(NF), Refused(NF),
            Refused(UA), Refused(D4), Exactly(&[AMeeting, AMeeting2]), Refused(NF), Exactly(&[AMeeting, AMeeting2]),
        ]),
        (NSeries, [
            Refused(NF), Refused(NF), Exactly(&[]), Refused(NF), Refused(NF),
            Refused(UA), Refused(D4), Refused(NF), Exactly(&[]), Exactly(&[]),
        ]),
    ];
    let query = "query($id: ID!) { node(id: $id) { ... on OneOnOne { meetings(first: 20) { totalCount edges { node { id } } } } } }";
    for (series, row) in meetings_table {
        for (who, holds) in VIEWERS.into_iter().zip(row) {
            let (status, body) = app
                .post_graphql(query, json!({ "id": fx.id(*series) }), fx.token(who))
                .await;
            let case = format!("{series:?}.meetings as {who:?}");
            let found = &body["data"]["node"]["meetings"];
            check_holds(&fx, holds, status, &body, found, &case, &mut failures);
        }
    }
    assert_no_failures(failures);
}

fn check_holds(
    fx: &Fixture,
    holds: &Holds,
    status: StatusCode,
    body: &Value,
    found: &Value,
    case: &str,
    failures: &mut Vec<String>,
) {
    match holds {
        Holds::Refused(expected) => {
            if let Some(mismatch) = refusal_mismatch(*expected, status, body) {
                failures.push(format!("{case}: {mismatch}"));
            }
        }
        Holds::Exactly(objects) => {
            let mut expected: Vec<&str> = objects.iter().map(|obj| fx.id(*obj)).collect();
            expected.sort();
            let mut listed: Vec<&str> = found["edges"]
                .as_array()
                .map(|edges| {
                    edges
                        .iter()
                        .filter_map(|edge| edge["node"]["id"].as_str())
                        .collect()
                })
                .unwrap_or_default();
            listed.sort();
            if body.get("errors").is_some()
                || listed != expected
                || found["totalCount"].as_u64() != Some(expected.len() as u64)
            {
                failures.push(format!("{case}: expected {objects:?}, got {body}"));
            }
        }
    }
}

/// One mutation tried by every viewer. Refused viewers go first; then `probe` (a read by a
/// viewer who may read it) must be unchanged; then the allowed viewers, in table order.
struct Case<'a> {
    label: &'static str,
    query: &'a str,
    /// The input for a viewer; the `usize` counts the successful attempts so far.
    input: fn(&Fixture, Who, usize) -> Value,
    probe: (Who, Obj, &'static str),
    expected: [E; 10],
}

async fn probe(app: &TestApp, fx: &Fixture, (who, obj, selection): (Who, Obj, &str)) -> Value {
    let body = app
        .graphql(
            &format!("query($id: ID!) {{ node(id: $id) {{ id {selection} }} }}"),
            json!({ "id": fx.id(obj) }),
            fx.token(who),
        )
        .await;
    assert!(body.get("errors").is_none(), "probe failed: {body}");
    body["data"]["node"].clone()
}

async fn run_cases(app: &TestApp, fx: &Fixture, cases: &[Case<'_>]) {
    let mut failures = Vec::new();
    for case in cases {
        let before = probe(app, fx, case.probe).await;
        let refused = VIEWERS
            .into_iter()
            .zip(case.expected)
            .filter(|(_, expected)| !matches!(expected, OK | SK));
        for (who, expected) in refused {
            let (status, body) = app
                .post_graphql(
                    case.query,
                    json!({ "input": (case.input)(fx, who, 0) }),
                    fx.token(who),
                )
                .await;
            if let Some(mismatch) = refusal_mismatch(expected, status, &body) {
                failures.push(format!("{} as {who:?}: {mismatch}", case.label));
            }
        }
        let after = probe(app, fx, case.probe).await;
        if after != before {
            failures.push(format!(
                "{}: refused attempts changed {:?}: {before} became {after}",
                case.label, case.probe.1
            ));
        }
        let allowed = VIEWERS
            .into_iter()
            .zip(case.expected)
            .filter(|(_, expected)| *expected == OK);
        for (successes, (who, _)) in allowed.enumerate() {
            let (status, body) = app
                .post_graphql(
                    case.query,
                    json!({ "input": (case.input)(fx, who, successes) }),
                    fx.token(who),
                )
                .await;
            if body.get("errors").is_some() {
                failures.push(format!(
                    "{} as {who:?}: expected success, got HTTP {status}: {body}",
                    case.label
                ));
            }
        }
    }
    assert_no_failures(failures);
}

fn label(who: Who) -> String {
    format!("written by {who:?}")
}

fn index(who: Who) -> i64 {
    VIEWERS.iter().position(|viewer| *viewer == who).unwrap() as i64
}

const UPDATE_SERIES: &str =
    "mutation($input: UpdateOneOnOneInput!) { updateOneOnOne(input: $input) { oneOnOne { id } } }";
const SCHEDULE: &str =
    "mutation($input: ScheduleMeetingInput!) { scheduleMeeting(input: $input) { meeting { id } } }";
const RESCHEDULE: &str = "mutation($input: RescheduleMeetingInput!) { rescheduleMeeting(input: $input) { meeting { id } } }";
const ADD_ITEM: &str =
    "mutation($input: AddAgendaItemInput!) { addAgendaItem(input: $input) { agendaItem { id } } }";
const CURRENT_TOPIC: &str =
    "mutation($input: SetCurrentTopicInput!) { setCurrentTopic(input: $input) { meeting { id } } }";
const CREATE_NOTE: &str =
    "mutation($input: CreateNoteInput!) { createNote(input: $input) { note { id } } }";
const CREATE_ACTION: &str = "mutation($input: CreateActionItemInput!) { createActionItem(input: $input) { actionItem { id } } }";
const CHECK_IN: &str =
    "mutation($input: SubmitCheckInInput!) { submitCheckIn(input: $input) { checkIn { id } } }";

#[tokio::test]
async fn series_and_meeting_writes_follow_the_rules() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    const SERIES_PROBE: &str =
        "... on OneOnOne { cadence defaultDurationMinutes lead meetings { totalCount } }";
    const MEETING_PROBE: &str = "... on Meeting { scheduledAt currentTopic { id } agenda { id title } notes { id body } actionItems { id title } checkIns { id mood comment } }";
    #[rustfmt::skip]
    let cases = [
        Case { label: "updateOneOnOne(S)", query: UPDATE_SERIES,
            input: |fx, who, _| json!({ "oneOnOneId": fx.id(SSeries), "defaultDurationMinutes": 40 + index(who) }),
            probe: (Who::Bob, SSeries, SERIES_PROBE),
            //          Max Bob Ada Oli Zed Anon Dee Fay Nel Gus
            expected: [OK, OK, FB, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "updateOneOnOne(A)", query: UPDATE_SERIES,
            input: |fx, who, _| json!({ "oneOnOneId": fx.id(ASeries), "defaultDurationMinutes": 40 + index(who) }),
            probe: (Who::Fay, ASeries, SERIES_PROBE),
            expected: [NF, NF, FB, NF, NF, UA, D4, FB, NF, FB] },
        Case { label: "scheduleMeeting(S)", query: SCHEDULE,
            input: |fx, who, _| json!({ "oneOnOneId": fx.id(SSeries), "scheduledAt": wire(day(30 + index(who))) }),
            probe: (Who::Bob, SSeries, SERIES_PROBE),
            expected: [OK, OK, FB, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "scheduleMeeting(A)", query: SCHEDULE,
            input: |fx, who, _| json!({ "oneOnOneId": fx.id(ASeries), "scheduledAt": wire(day(30 + index(who))) }),
            probe: (Who::Gus, ASeries, SERIES_PROBE),
            expected: [NF, NF, FB, NF, NF, UA, D4, FB, NF, FB] },
        Case { label: "rescheduleMeeting(S)", query: RESCHEDULE,
            input: |fx, who, _| json!({ "meetingId": fx.id(SMeeting), "scheduledAt": wire(day(1) + chrono::Duration::hours(index(who))) }),
            probe: (Who::Bob, SMeeting, MEETING_PROBE),
            expected: [OK, OK, FB, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "rescheduleMeeting(A)", query: RESCHEDULE,
            input: |fx, who, _| json!({ "meetingId": fx.id(AMeeting), "scheduledAt": wire(day(2) + chrono::Duration::hours(index(who))) }),
            probe: (Who::Fay, AMeeting, MEETING_PROBE),
            expected: [NF, NF, FB, NF, NF, UA, D4, FB, NF, FB] },
        Case { label: "addAgendaItem(S)", query: ADD_ITEM,
            input: |fx, who, _| json!({ "meetingId": fx.id(SMeeting), "title": label(who) }),
            probe: (Who::Bob, SMeeting, MEETING_PROBE),
            expected: [OK, OK, FB, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "addAgendaItem(A)", query: ADD_ITEM,
            input: |fx, who, _| json!({ "meetingId": fx.id(AMeeting), "title": label(who) }),
            probe: (Who::Gus, AMeeting, MEETING_PROBE),
            expected: [NF, NF, FB, NF, NF, UA, D4, FB, NF, FB] },
        Case { label: "createNote(S)", query: CREATE_NOTE,
            input: |fx, who, _| json!({ "meetingId": fx.id(SMeeting), "visibility": "SHARED", "body": label(who) }),
            probe: (Who::Bob, SMeeting, MEETING_PROBE),
            expected: [OK, OK, FB, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "createNote(A)", query: CREATE_NOTE,
            input: |fx, who, _| json!({ "meetingId": fx.id(AMeeting), "visibility": "SHARED", "body": label(who) }),
            probe: (Who::Fay, AMeeting, MEETING_PROBE),
            expected: [NF, NF, FB, NF, NF, UA, D4, FB, NF, FB] },
        Case { label: "createNote(A, private)", query: CREATE_NOTE,
            input: |fx, who, _| json!({ "meetingId": fx.id(AMeeting), "visibility": "PRIVATE", "body": label(who) }),
            probe: (Who::Gus, AMeeting, MEETING_PROBE),
            expected: [NF, NF, FB, NF, NF, UA, D4, FB, NF, FB] },
        Case { label: "createActionItem(S)", query: CREATE_ACTION,
            input: |fx, who, _| json!({ "meetingId": fx.id(SMeeting), "title": label(who), "assigneeId": fx.user(Who::Bob) }),
            probe: (Who::Bob, SMeeting, MEETING_PROBE),
            expected: [OK, OK, FB, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "createActionItem(A)", query: CREATE_ACTION,
            input: |fx, who, _| json!({ "meetingId": fx.id(AMeeting), "title": label(who), "assigneeId": fx.user(Who::Gus) }),
            probe: (Who::Fay, AMeeting, MEETING_PROBE),
            expected: [NF, NF, FB, NF, NF, UA, D4, FB, NF, FB] },
        Case { label: "submitCheckIn(S, shared)", query: CHECK_IN,
            input: |fx, who, _| json!({ "meetingId": fx.id(SMeeting), "mood": 5, "comment": label(who), "sharedWithManager": true }),
            probe: (Who::Bob, SMeeting, MEETING_PROBE),
            expected: [FB, OK, FB, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "submitCheckIn(S, private)", query: CHECK_IN,
            input: |fx, who, _| json!({ "meetingId": fx.id(SMeeting2), "mood": 5, "comment": label(who), "sharedWithManager": false }),
            probe: (Who::Bob, SCheckPrivate, "... on CheckIn { mood comment sharedWithManager }"),
            expected: [FB, OK, FB, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "submitCheckIn(A)", query: CHECK_IN,
            input: |fx, who, _| json!({ "meetingId": fx.id(AMeeting), "mood": 5, "comment": label(who), "sharedWithManager": true }),
            probe: (Who::Gus, AMeeting, MEETING_PROBE),
            expected: [NF, NF, FB, NF, NF, UA, D4, FB, NF, FB] },
        Case { label: "setCurrentTopic(S, none)", query: CURRENT_TOPIC,
            input: |fx, _, _| json!({ "meetingId": fx.id(SMeeting), "agendaItemId": null }),
            probe: (Who::Bob, SMeeting, MEETING_PROBE),
            expected: [OK, OK, FB, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "setCurrentTopic(A, none)", query: CURRENT_TOPIC,
            input: |fx, _, _| json!({ "meetingId": fx.id(AMeeting), "agendaItemId": null }),
            probe: (Who::Fay, AMeeting, MEETING_PROBE),
            expected: [NF, NF, FB, NF, NF, UA, D4, FB, NF, FB] },
    ];
    run_cases(&app, &fx, &cases).await;
}

#[tokio::test]
async fn meeting_state_changes_follow_the_rules() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let simple = |name: &str, input: &str| {
        format!("mutation($input: {input}!) {{ {name}(input: $input) {{ meeting {{ id }} }} }}")
    };
    let cancel = &simple("cancelMeeting", "CancelMeetingInput");
    let start = &simple("startMeeting", "StartMeetingInput");
    let end = &simple("endMeeting", "EndMeetingInput");
    const PROBE: &str = "... on Meeting { status startedAt endedAt }";
    // A state change can succeed once: one participant does it, the other's right shows in the
    // next row (SK marks the entry tried elsewhere).
    #[rustfmt::skip]
    let cases = [
        Case { label: "cancelMeeting(S)", query: cancel,
            input: |fx, _, _| json!({ "meetingId": fx.id(SMeeting2) }),
            probe: (Who::Bob, SMeeting2, PROBE),
            //          Max Bob Ada Oli Zed Anon Dee Fay Nel Gus
            expected: [OK, SK, FB, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "startMeeting(S)", query: start,
            input: |fx, _, _| json!({ "meetingId": fx.id(SMeeting) }),
            probe: (Who::Max, SMeeting, PROBE),
            expected: [SK, OK, FB, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "endMeeting(S)", query: end,
            input: |fx, _, _| json!({ "meetingId": fx.id(SMeeting) }),
            probe: (Who::Bob, SMeeting, PROBE),
            expected: [OK, SK, FB, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "cancelMeeting(A)", query: cancel,
            input: |fx, _, _| json!({ "meetingId": fx.id(AMeeting2) }),
            probe: (Who::Gus, AMeeting2, PROBE),
            expected: [NF, NF, FB, NF, NF, UA, D4, FB, NF, FB] },
        Case { label: "startMeeting(A)", query: start,
            input: |fx, _, _| json!({ "meetingId": fx.id(AMeeting) }),
            probe: (Who::Fay, AMeeting, PROBE),
            expected: [NF, NF, FB, NF, NF, UA, D4, FB, NF, FB] },
    ];
    run_cases(&app, &fx, &cases).await;
    // The successes happened.
    let cancelled = probe(&app, &fx, (Who::Bob, SMeeting2, PROBE)).await;
    assert_eq!(cancelled["status"], "CANCELLED");
    let completed = probe(&app, &fx, (Who::Bob, SMeeting, PROBE)).await;
    assert_eq!(completed["status"], "COMPLETED");
}

#[tokio::test]
async fn agenda_item_writes_follow_the_rules() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    const ITEM_PROBE: &str = "... on AgendaItem { title discussedAt }";
    const AGENDA_PROBE: &str = "... on Meeting { agenda { id title discussedAt } }";
    const UPDATE: &str = "mutation($input: UpdateAgendaItemInput!) { updateAgendaItem(input: $input) { agendaItem { id } } }";
    const MOVE: &str = "mutation($input: MoveAgendaItemInput!) { moveAgendaItem(input: $input) { meeting { id } } }";
    const DISCUSSED: &str = "mutation($input: SetAgendaItemDiscussedInput!) { setAgendaItemDiscussed(input: $input) { agendaItem { id } } }";
    const REMOVE: &str = "mutation($input: RemoveAgendaItemInput!) { removeAgendaItem(input: $input) { removedAgendaItemId } }";
    #[rustfmt::skip]
    let cases = [
        Case { label: "updateAgendaItem(S, Bob's)", query: UPDATE,
            input: |fx, who, _| json!({ "agendaItemId": fx.id(SItem), "title": label(who) }),
            probe: (Who::Max, SItem, ITEM_PROBE),
            //          Max Bob Ada Oli Zed Anon Dee Fay Nel Gus
            expected: [FB, OK, NF, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "updateAgendaItem(S, Max's)", query: UPDATE,
            input: |fx, who, _| json!({ "agendaItemId": fx.id(SItemMax), "title": label(who) }),
            probe: (Who::Bob, SItemMax, ITEM_PROBE),
            expected: [OK, FB, NF, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "updateAgendaItem(A, Gus's)", query: UPDATE,
            input: |fx, who, _| json!({ "agendaItemId": fx.id(AItem), "title": label(who) }),
            probe: (Who::Fay, AItem, ITEM_PROBE),
            expected: [NF, NF, NF, NF, NF, UA, D4, FB, NF, FB] },
        Case { label: "moveAgendaItem(S)", query: MOVE,
            input: |fx, _, _| json!({ "agendaItemId": fx.id(SItem), "afterAgendaItemId": fx.id(SItemMax) }),
            probe: (Who::Bob, SMeeting, AGENDA_PROBE),
            expected: [OK, OK, NF, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "moveAgendaItem(A)", query: MOVE,
            input: |fx, _, _| json!({ "agendaItemId": fx.id(AItem), "afterAgendaItemId": fx.id(AItemFay) }),
            probe: (Who::Gus, AMeeting, AGENDA_PROBE),
            expected: [NF, NF, NF, NF, NF, UA, D4, FB, NF, FB] },
        Case { label: "setAgendaItemDiscussed(S)", query: DISCUSSED,
            input: |fx, _, _| json!({ "agendaItemId": fx.id(SItem), "discussed": true }),
            probe: (Who::Bob, SItem, ITEM_PROBE),
            expected: [OK, OK, NF, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "setAgendaItemDiscussed(A)", query: DISCUSSED,
            input: |fx, _, _| json!({ "agendaItemId": fx.id(AItem), "discussed": true }),
            probe: (Who::Fay, AItem, ITEM_PROBE),
            expected: [NF, NF, NF, NF, NF, UA, D4, FB, NF, FB] },
        Case { label: "setCurrentTopic(S, item)", query: CURRENT_TOPIC,
            input: |fx, _, _| json!({ "meetingId": fx.id(SMeeting), "agendaItemId": fx.id(SItemMax) }),
            probe: (Who::Bob, SMeeting, "... on Meeting { currentTopic { id } }"),
            expected: [OK, OK, SK, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "removeAgendaItem(S, Bob's)", query: REMOVE,
            input: |fx, _, _| json!({ "agendaItemId": fx.id(SItem) }),
            probe: (Who::Bob, SMeeting, AGENDA_PROBE),
            expected: [FB, OK, NF, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "removeAgendaItem(A, Gus's)", query: REMOVE,
            input: |fx, _, _| json!({ "agendaItemId": fx.id(AItem) }),
            probe: (Who::Fay, AMeeting, AGENDA_PROBE),
            expected: [NF, NF, NF, NF, NF, UA, D4, FB, NF, FB] },
        Case { label: "removeAgendaItem(A, Fay's)", query: REMOVE,
            input: |fx, _, _| json!({ "agendaItemId": fx.id(AItemFay) }),
            probe: (Who::Gus, AMeeting, AGENDA_PROBE),
            expected: [NF, NF, NF, NF, NF, UA, D4, FB, NF, FB] },
    ];
    run_cases(&app, &fx, &cases).await;
    let agenda = probe(&app, &fx, (Who::Max, SMeeting, AGENDA_PROBE)).await;
    assert!(
        !mentions(&json!({ "data": agenda }), fx.id(SItem)),
        "{agenda}"
    );
}

#[tokio::test]
async fn note_writes_follow_the_rules() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    const NOTE_PROBE: &str = "... on Note { body version }";
    const UPDATE: &str =
        "mutation($input: UpdateNoteInput!) { updateNote(input: $input) { note { id version } } }";
    const DELETE: &str =
        "mutation($input: DeleteNoteInput!) { deleteNote(input: $input) { deletedNoteId } }";
    fn edit(fx: &Fixture, note: Obj, who: Who, successes: usize) -> Value {
        json!({ "noteId": fx.id(note), "body": label(who), "expectedVersion": 1 + successes })
    }
    #[rustfmt::skip]
    let cases = [
        Case { label: "updateNote(S, shared)", query: UPDATE,
            input: |fx, who, n| edit(fx, SShared, who, n),
            probe: (Who::Bob, SShared, NOTE_PROBE),
            //          Max Bob Ada Oli Zed Anon Dee Fay Nel Gus
            expected: [OK, OK, NF, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "updateNote(S, Bob's private)", query: UPDATE,
            input: |fx, who, n| edit(fx, SPrivBob, who, n),
            probe: (Who::Bob, SPrivBob, NOTE_PROBE),
            expected: [NF, OK, NF, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "updateNote(S, Max's private)", query: UPDATE,
            input: |fx, who, n| edit(fx, SPrivMax, who, n),
            probe: (Who::Max, SPrivMax, NOTE_PROBE),
            expected: [OK, NF, NF, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "updateNote(A, shared)", query: UPDATE,
            input: |fx, who, n| edit(fx, AShared, who, n),
            probe: (Who::Gus, AShared, NOTE_PROBE),
            expected: [NF, NF, NF, NF, NF, UA, D4, FB, NF, FB] },
        Case { label: "updateNote(A, Gus's private)", query: UPDATE,
            input: |fx, who, n| edit(fx, APrivGus, who, n),
            probe: (Who::Gus, APrivGus, NOTE_PROBE),
            expected: [NF, NF, NF, NF, NF, UA, D4, NF, NF, FB] },
        Case { label: "updateNote(A, Fay's private)", query: UPDATE,
            input: |fx, who, n| edit(fx, APrivFay, who, n),
            probe: (Who::Fay, APrivFay, NOTE_PROBE),
            expected: [NF, NF, NF, NF, NF, UA, D4, FB, NF, NF] },
        Case { label: "deleteNote(S, Max's shared)", query: DELETE,
            input: |fx, _, _| json!({ "noteId": fx.id(SShared) }),
            probe: (Who::Bob, SShared, NOTE_PROBE),
            expected: [OK, FB, NF, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "deleteNote(S, Bob's private)", query: DELETE,
            input: |fx, _, _| json!({ "noteId": fx.id(SPrivBob) }),
            probe: (Who::Bob, SPrivBob, NOTE_PROBE),
            expected: [NF, OK, NF, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "deleteNote(S, Max's private)", query: DELETE,
            input: |fx, _, _| json!({ "noteId": fx.id(SPrivMax) }),
            probe: (Who::Max, SPrivMax, NOTE_PROBE),
            expected: [OK, NF, NF, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "deleteNote(A, Fay's shared)", query: DELETE,
            input: |fx, _, _| json!({ "noteId": fx.id(AShared) }),
            probe: (Who::Gus, AShared, NOTE_PROBE),
            expected: [NF, NF, NF, NF, NF, UA, D4, FB, NF, FB] },
        Case { label: "deleteNote(A, Gus's private)", query: DELETE,
            input: |fx, _, _| json!({ "noteId": fx.id(APrivGus) }),
            probe: (Who::Gus, APrivGus, NOTE_PROBE),
            expected: [NF, NF, NF, NF, NF, UA, D4, NF, NF, FB] },
        Case { label: "deleteNote(A, Fay's private)", query: DELETE,
            input: |fx, _, _| json!({ "noteId": fx.id(APrivFay) }),
            probe: (Who::Fay, APrivFay, NOTE_PROBE),
            expected: [NF, NF, NF, NF, NF, UA, D4, FB, NF, NF] },
    ];
    run_cases(&app, &fx, &cases).await;
}

#[tokio::test]
async fn action_item_writes_follow_the_rules() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    const PROBE: &str = "... on ActionItem { title completedAt assignee { id } }";
    const UPDATE: &str = "mutation($input: UpdateActionItemInput!) { updateActionItem(input: $input) { actionItem { id } } }";
    const DONE: &str = "mutation($input: SetActionItemDoneInput!) { setActionItemDone(input: $input) { actionItem { id } } }";
    #[rustfmt::skip]
    let cases = [
        Case { label: "updateActionItem(S)", query: UPDATE,
            input: |fx, who, _| json!({ "actionItemId": fx.id(SAction), "title": label(who) }),
            probe: (Who::Bob, SAction, PROBE),
            //          Max Bob Ada Oli Zed Anon Dee Fay Nel Gus
            expected: [OK, OK, NF, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "updateActionItem(A)", query: UPDATE,
            input: |fx, who, _| json!({ "actionItemId": fx.id(AAction), "title": label(who) }),
            probe: (Who::Fay, AAction, PROBE),
            expected: [NF, NF, NF, NF, NF, UA, D4, FB, NF, FB] },
        Case { label: "setActionItemDone(S)", query: DONE,
            input: |fx, _, _| json!({ "actionItemId": fx.id(SAction), "done": true }),
            probe: (Who::Max, SAction, PROBE),
            expected: [OK, OK, NF, NF, NF, UA, D4, NF, NF, NF] },
        Case { label: "setActionItemDone(A)", query: DONE,
            input: |fx, _, _| json!({ "actionItemId": fx.id(AAction), "done": true }),
            probe: (Who::Gus, AAction, PROBE),
            expected: [NF, NF, NF, NF, NF, UA, D4, FB, NF, FB] },
    ];
    run_cases(&app, &fx, &cases).await;
    let done = probe(&app, &fx, (Who::Bob, SAction, PROBE)).await;
    assert!(done["completedAt"].is_string(), "{done}");
}

#[tokio::test]
async fn ids_of_the_wrong_type_are_not_found() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let token = fx.token(Who::Max);
    #[rustfmt::skip]
    let attempts: &[(&str, Value)] = &[
        (SCHEDULE, json!({ "oneOnOneId": fx.id(SMeeting), "scheduledAt": wire(day(40)) })),
        (ADD_ITEM, json!({ "meetingId": fx.id(SSeries), "title": "Wrong parent" })),
        (CREATE_NOTE, json!({ "meetingId": fx.id(SItem), "visibility": "SHARED", "body": "Wrong parent" })),
        (CREATE_ACTION, json!({ "meetingId": fx.id(SMeeting), "title": "Wrong assignee type", "assigneeId": fx.id(SSeries) })),
        (CURRENT_TOPIC, json!({ "meetingId": fx.id(SMeeting), "agendaItemId": fx.id(SShared) })),
        (UPDATE_SERIES, json!({ "oneOnOneId": fx.id(UserBob), "cadence": "MONTHLY" })),
        (RESCHEDULE, json!({ "meetingId": fx.id(SSeries), "scheduledAt": wire(day(40)) })),
        ("mutation($input: UpdateNoteInput!) { updateNote(input: $input) { note { id } } }",
            json!({ "noteId": fx.id(SItem), "body": "x", "expectedVersion": 1 })),
        ("mutation($input: UpdateAgendaItemInput!) { updateAgendaItem(input: $input) { agendaItem { id } } }",
            json!({ "agendaItemId": fx.id(SShared), "title": "x" })),
        ("mutation($input: MoveAgendaItemInput!) { moveAgendaItem(input: $input) { meeting { id } } }",
            json!({ "agendaItemId": fx.id(SItem), "afterAgendaItemId": fx.id(SMeeting) })),
        ("mutation($input: SetActionItemDoneInput!) { setActionItemDone(input: $input) { actionItem { id } } }",
            json!({ "actionItemId": fx.id(SCheckShared), "done": true })),
        ("mutation($input: StartMeetingInput!) { startMeeting(input: $input) { meeting { id } } }",
            json!({ "meetingId": fx.id(SSeries) })),
    ];
    let mut failures = Vec::new();
    for (query, input) in attempts {
        let body = app.graphql(query, json!({ "input": input }), token).await;
        if error_code(&body) != Some("NOT_FOUND") {
            failures.push(format!("{query} with {input}: {body}"));
        }
    }
    assert_no_failures(failures);
}
