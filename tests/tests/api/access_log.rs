//! The access log a participant can check: every HTTP request that reads a series through an
//! API token, and every request in which an admin who is not a participant sees a series'
//! metadata, adds one entry per series, visible to both participants and to no one else. The
//! participants' own reads in the app add nothing.
//!
//! The organisation is the one seeded by `api_tokens::seed`: admin Ada; Max manages Bob
//! (series S, meeting M with content) and Dee (series T, meeting TM); Oli has no series.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use tete_tests::{Session, TestApp, error_code, spawn_app};

use crate::{
    api_tokens::{
        Fx, MEETINGS_READ, NOTES_READ, Who, assert_no_failures, create_token, mentions, seed,
    },
    support::{add_item, day, node, one_on_ones, schedule},
};

const LOG: &str = "query($first: Int, $after: String) { viewer { accessLog(first: $first, after: $after) { totalCount edges { cursor node { id oneOnOneId reader { id } via apiTokenId occurredAt } } pageInfo { hasNextPage endCursor } } } }";

/// The viewer's whole access log (its entries); checks `totalCount` against them.
async fn log_of(app: &TestApp, who: &Session) -> Vec<Value> {
    let data = app
        .ok(
            LOG,
            json!({ "first": 50, "after": null }),
            Some(&who.access_token),
        )
        .await;
    crate::support::nodes(&data["viewer"]["accessLog"])
}

/// The one entry of `who`'s log; fails unless there is exactly one.
async fn only_entry(app: &TestApp, who: &Session, name: &str) -> Value {
    let entries = log_of(app, who).await;
    assert_eq!(entries.len(), 1, "{name}'s log: {entries:#?}");
    entries[0].clone()
}

/// What an entry must say.
struct Expected<'a> {
    series: &'a str,
    reader: &'a str,
    via: &'a str,
    api_token: Option<&'a str>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

/// What differs between `entry` and `expected`, if anything.
fn entry_mismatch(entry: &Value, expected: &Expected<'_>) -> Option<String> {
    let at = entry["occurredAt"].as_str().and_then(|text| {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|at| at.with_timezone(&Utc))
    });
    let in_time = at.is_some_and(|at| {
        at >= expected.from - TimeDelta::seconds(1) && at <= expected.to + TimeDelta::seconds(1)
    });
    let matches = entry["id"].is_string()
        && entry["oneOnOneId"] == expected.series
        && entry["reader"]["id"] == expected.reader
        && entry["via"] == expected.via
        && entry["apiTokenId"] == json!(expected.api_token)
        && in_time;
    (!matches).then(|| {
        format!(
            "expected series {}, reader {}, via {}, apiTokenId {:?}, occurredAt in {}..{}; got {entry}",
            expected.series,
            expected.reader,
            expected.via,
            expected.api_token,
            expected.from,
            expected.to
        )
    })
}

fn assert_entry(entry: &Value, expected: &Expected<'_>) {
    if let Some(mismatch) = entry_mismatch(entry, expected) {
        panic!("{mismatch}");
    }
}

fn series_of(entries: &[Value]) -> Vec<String> {
    let mut series: Vec<String> = entries
        .iter()
        .map(|entry| {
            entry["oneOnOneId"]
                .as_str()
                .expect("a series id")
                .to_owned()
        })
        .collect();
    series.sort();
    series
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
    ids.sort();
    ids
}

/// Bob's token reads M's agenda and notes; one request.
async fn token_reads_s(app: &TestApp, fx: &Fx, secret: &str) {
    let body = node(
        app,
        Some(secret),
        fx.id("M"),
        "... on Meeting { agenda { title } notes { body } }",
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
}

#[tokio::test]
async fn a_token_request_adds_one_entry_per_series_read_for_both_participants() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let token = create_token(&app, &fx.bob, "Notes sync", &[MEETINGS_READ, NOTES_READ]).await;
    let from = Utc::now();
    // One request reading S several ways.
    app.ok(
        "query($s: ID!, $m: ID!, $i: ID!, $n: ID!) { series: node(id: $s) { ... on OneOnOne { meetings(first: 5) { edges { node { agenda { id } } } } } } meeting: node(id: $m) { ... on Meeting { agenda { title } notes { body } checkIns { mood } } } item: node(id: $i) { ... on AgendaItem { title } } note: node(id: $n) { ... on Note { body } } }",
        json!({ "s": fx.id("S"), "m": fx.id("M"), "i": fx.id("item"), "n": fx.id("shared") }),
        Some(&token.secret),
    )
    .await;
    let to = Utc::now();
    let expected = Expected {
        series: fx.id("S"),
        reader: &fx.bob.user_id,
        via: "API_TOKEN",
        api_token: Some(&token.id),
        from,
        to,
    };
    let bobs = only_entry(&app, &fx.bob, "Bob").await;
    assert_entry(&bobs, &expected);
    let maxs = only_entry(&app, &fx.max, "Max").await;
    assert_eq!(maxs, bobs, "both participants see the same entry");
}

#[tokio::test]
async fn each_token_request_adds_its_own_entry() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let token = create_token(&app, &fx.bob, "Notes sync", &[MEETINGS_READ, NOTES_READ]).await;
    let from = Utc::now();
    token_reads_s(&app, &fx, &token.secret).await;
    token_reads_s(&app, &fx, &token.secret).await;
    let to = Utc::now();
    for (name, who) in [("Bob", &fx.bob), ("Max", &fx.max)] {
        let entries = log_of(&app, who).await;
        assert_eq!(entries.len(), 2, "{name}'s log: {entries:#?}");
        assert_ne!(entries[0]["id"], entries[1]["id"]);
        for entry in &entries {
            assert_entry(
                entry,
                &Expected {
                    series: fx.id("S"),
                    reader: &fx.bob.user_id,
                    via: "API_TOKEN",
                    api_token: Some(&token.id),
                    from,
                    to,
                },
            );
        }
    }
}

#[tokio::test]
async fn a_token_request_reading_two_series_adds_one_entry_for_each() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let token = create_token(&app, &fx.max, "Max's sync", &[MEETINGS_READ]).await;
    let from = Utc::now();
    let body = app
        .graphql(
            "{ viewer { oneOnOnes(first: 10) { edges { node { id meetings(first: 10) { edges { node { id agenda { id title } } } } } } } } }",
            json!({}),
            Some(&token.secret),
        )
        .await;
    let to = Utc::now();
    assert!(body.get("errors").is_none(), "{body}");
    assert!(
        mentions(&body, fx.id("item")) && mentions(&body, fx.id("t_item")),
        "{body}"
    );

    let maxs = log_of(&app, &fx.max).await;
    assert_eq!(
        series_of(&maxs),
        sorted(&[fx.id("S"), fx.id("T")]),
        "{maxs:#?}"
    );
    for entry in &maxs {
        let series = entry["oneOnOneId"].as_str().expect("a series id");
        assert_entry(
            entry,
            &Expected {
                series,
                reader: &fx.max.user_id,
                via: "API_TOKEN",
                api_token: Some(&token.id),
                from,
                to,
            },
        );
    }
    let bobs = only_entry(&app, &fx.bob, "Bob").await;
    assert_eq!(bobs["oneOnOneId"], fx.id("S"), "{bobs}");
    let dees = only_entry(&app, &fx.dee, "Dee").await;
    assert_eq!(dees["oneOnOneId"], fx.id("T"), "{dees}");
}

#[tokio::test]
async fn each_admin_view_of_series_metadata_adds_an_entry_for_both_participants() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    #[rustfmt::skip]
    let views: [(&str, &str, &str); 3] = [
        ("node(OneOnOne)", "S", "... on OneOnOne { cadence lead manager { id } report { id } }"),
        ("node(Meeting)", "M", "... on Meeting { status scheduledAt }"),
        ("User.oneOnOnes of Bob", "bob", "... on User { oneOnOnes(first: 5) { edges { node { id } } } }"),
    ];
    let mut failures = Vec::new();
    for (count, (label, object, selection)) in views.into_iter().enumerate() {
        let from = Utc::now();
        let body = node(&app, Some(&fx.ada.access_token), fx.id(object), selection).await;
        let to = Utc::now();
        assert!(body.get("errors").is_none(), "{label} by Ada: {body}");
        for (name, who) in [("Bob", &fx.bob), ("Max", &fx.max)] {
            let entries = log_of(&app, who).await;
            if entries.len() != count + 1 {
                failures.push(format!(
                    "after {label}: {name} has {} entries, expected {}: {entries:#?}",
                    entries.len(),
                    count + 1
                ));
                continue;
            }
            let expected = Expected {
                series: fx.id("S"),
                reader: &fx.ada.user_id,
                via: "ADMIN_VIEW",
                api_token: None,
                from,
                to,
            };
            // The new entry is the one made during this view (earlier ones are older).
            if !entries
                .iter()
                .any(|entry| entry_mismatch(entry, &expected).is_none())
            {
                failures.push(format!(
                    "after {label}: no entry of {name}'s log is this view: {entries:#?}"
                ));
            }
        }
    }
    assert_no_failures(failures);
}

#[tokio::test]
async fn one_admin_request_seeing_a_series_several_ways_adds_one_entry() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let from = Utc::now();
    app.ok(
        "query($s: ID!, $m: ID!, $bob: ID!) { series: node(id: $s) { ... on OneOnOne { cadence nextMeeting { id } meetings(first: 5) { totalCount } } } meeting: node(id: $m) { ... on Meeting { status oneOnOne { id } } } bob: node(id: $bob) { ... on User { oneOnOnes(first: 5) { totalCount } } } }",
        json!({ "s": fx.id("S"), "m": fx.id("M"), "bob": fx.id("bob") }),
        Some(&fx.ada.access_token),
    )
    .await;
    let to = Utc::now();
    let expected = Expected {
        series: fx.id("S"),
        reader: &fx.ada.user_id,
        via: "ADMIN_VIEW",
        api_token: None,
        from,
        to,
    };
    let bobs = only_entry(&app, &fx.bob, "Bob").await;
    assert_entry(&bobs, &expected);
    let maxs = only_entry(&app, &fx.max, "Max").await;
    assert_eq!(maxs, bobs);
}

#[tokio::test]
async fn an_admin_reading_a_series_they_take_part_in_adds_nothing() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    app.create_user(&fx.ada, "cy@example.com", Some(&fx.ada.user_id))
        .await;
    let cy = app.session("cy@example.com").await;
    let series = one_on_ones(&app, &fx.ada, false).await;
    assert_eq!(series.len(), 1, "Ada manages Cy: {series:?}");
    let series = series[0]["id"].as_str().expect("series id").to_owned();
    let meeting = schedule(&app, &fx.ada, &series, day(1)).await;
    add_item(&app, &cy, &meeting, "Cy's topic").await;
    for id in [&series, &meeting] {
        let body = node(
            &app,
            Some(&fx.ada.access_token),
            id,
            "... on OneOnOne { cadence meetings(first: 5) { totalCount } } ... on Meeting { status agenda { title } }",
        )
        .await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    let body = node(
        &app,
        Some(&fx.ada.access_token),
        &cy.user_id,
        "... on User { oneOnOnes(first: 5) { totalCount } }",
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(log_of(&app, &fx.ada).await, Vec::<Value>::new());
    assert_eq!(log_of(&app, &cy).await, Vec::<Value>::new());
}

#[tokio::test]
async fn participants_reading_in_the_app_add_nothing() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let walk = "{ viewer { oneOnOnes(first: 10, includeArchived: true) { edges { node { id openActionItems { id } meetings(first: 10) { edges { node { id agenda { title } notes { body } actionItems { title } checkIns { mood } } } } } } } } }";
    for who in [Who::Max, Who::Bob, Who::Dee] {
        let session = fx.session(who);
        app.ok(walk, json!({}), Some(&session.access_token)).await;
        for object in [
            "S",
            "M",
            "item",
            "shared",
            "action",
            "check_shared",
            "T",
            "TM",
        ] {
            // Some of these are not theirs to read; the answer does not matter here.
            node(&app, Some(&session.access_token), fx.id(object), "").await;
        }
    }
    let mut failures = Vec::new();
    for who in [Who::Max, Who::Bob, Who::Dee] {
        let entries = log_of(&app, fx.session(who)).await;
        if !entries.is_empty() {
            failures.push(format!("{who:?}'s log: {entries:#?}"));
        }
    }
    assert_no_failures(failures);
}

#[tokio::test]
async fn an_access_log_never_shows_series_its_viewer_is_not_part_of() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    let token = create_token(&app, &fx.bob, "Notes sync", &[MEETINGS_READ, NOTES_READ]).await;
    token_reads_s(&app, &fx, &token.secret).await;
    let body = node(
        &app,
        Some(&fx.ada.access_token),
        fx.id("T"),
        "... on OneOnOne { cadence }",
    )
    .await;
    assert!(body.get("errors").is_none(), "{body}");

    let s = fx.id("S").to_owned();
    let t = fx.id("T").to_owned();
    #[rustfmt::skip]
    let expected: [(Who, Vec<String>); 5] = [
        (Who::Max, sorted(&[&s, &t])),
        (Who::Bob, vec![s.clone()]),
        (Who::Dee, vec![t.clone()]),
        (Who::Oli, vec![]),
        (Who::Ada, vec![]),
    ];
    let mut failures = Vec::new();
    for (who, series) in expected {
        let entries = log_of(&app, fx.session(who)).await;
        if series_of(&entries) != series {
            failures.push(format!(
                "{who:?}'s log: expected entries of {series:?}, got {entries:#?}"
            ));
        }
    }
    assert_no_failures(failures);
}

#[tokio::test]
async fn another_users_access_log_is_forbidden() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    node(
        &app,
        Some(&fx.ada.access_token),
        fx.id("S"),
        "... on OneOnOne { cadence }",
    )
    .await;
    let entry = only_entry(&app, &fx.bob, "Bob").await;
    let entry_id = entry["id"].as_str().expect("an entry id");
    let mut failures = Vec::new();
    for (viewer, owner) in [
        (Who::Max, Who::Bob),
        (Who::Ada, Who::Bob),
        (Who::Bob, Who::Max),
        (Who::Dee, Who::Max),
    ] {
        let body = node(
            &app,
            Some(&fx.session(viewer).access_token),
            &fx.session(owner).user_id,
            "... on User { accessLog(first: 10) { totalCount edges { node { id oneOnOneId } } } }",
        )
        .await;
        if error_code(&body) != Some("FORBIDDEN") || mentions(&body, entry_id) {
            failures.push(format!(
                "{owner:?}.accessLog as {viewer:?}: expected FORBIDDEN, got {body}"
            ));
        }
    }
    assert_no_failures(failures);
}

#[tokio::test]
async fn the_access_log_pages_with_first_and_after() {
    let app = spawn_app().await;
    let fx = seed(&app).await;
    for _ in 0..3 {
        node(
            &app,
            Some(&fx.ada.access_token),
            fx.id("S"),
            "... on OneOnOne { cadence }",
        )
        .await;
    }
    let all: Vec<Value> = log_of(&app, &fx.bob)
        .await
        .iter()
        .map(|entry| entry["id"].clone())
        .collect();
    assert_eq!(all.len(), 3, "{all:?}");

    let page = |after: Value| {
        let app = &app;
        let token = fx.bob.access_token.clone();
        async move {
            app.ok(LOG, json!({ "first": 2, "after": after }), Some(&token))
                .await["viewer"]["accessLog"]
                .clone()
        }
    };
    let first = page(Value::Null).await;
    assert_eq!(first["totalCount"], 3, "{first}");
    assert_eq!(first["pageInfo"]["hasNextPage"], true, "{first}");
    let second = page(first["pageInfo"]["endCursor"].clone()).await;
    assert_eq!(second["totalCount"], 3, "{second}");
    assert_eq!(second["pageInfo"]["hasNextPage"], false, "{second}");
    let mut paged: Vec<Value> = [&first, &second]
        .iter()
        .flat_map(|connection| {
            connection["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(|edge| edge["node"]["id"].clone())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(paged.len(), 3, "{first} {second}");
    let mut all = all;
    let key = |id: &Value| id.as_str().expect("an id").to_owned();
    paged.sort_by_key(key);
    all.sort_by_key(key);
    assert_eq!(paged, all);
}
