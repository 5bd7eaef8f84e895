//! Notes: versioned edits with conflicts, shared notes for both participants, private notes for
//! their author alone, and private bodies encrypted at rest.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};
use tete_tests::{Session, TestApp, error_code, spawn_app};

use crate::support::{Pair, create_note, day, ids, meeting, node, pair, schedule};

const CREATE: &str = "mutation($input: CreateNoteInput!) { createNote(input: $input) { clientMutationId note { id meeting { id } author { id } visibility body version createdAt updatedAt } } }";
const UPDATE: &str = "mutation($input: UpdateNoteInput!) { updateNote(input: $input) { note { id body version updatedAt } } }";
const DELETE: &str =
    "mutation($input: DeleteNoteInput!) { deleteNote(input: $input) { deletedNoteId } }";
const NOTE: &str = "... on Note { body version visibility author { id } }";

async fn meeting_of(app: &TestApp) -> (Pair, String) {
    let pair = pair(app).await;
    let id = schedule(app, &pair.manager, &pair.series, day(1)).await;
    (pair, id)
}

async fn update(app: &TestApp, who: &Session, note: &str, body: &str, version: i64) -> Value {
    app.graphql(
        UPDATE,
        json!({ "input": { "noteId": note, "body": body, "expectedVersion": version } }),
        Some(&who.access_token),
    )
    .await
}

async fn read(app: &TestApp, who: &Session, note: &str) -> Value {
    let body = node(app, Some(&who.access_token), note, NOTE).await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["node"].clone()
}

async fn listed(app: &TestApp, who: &Session, meeting_id: &str) -> Vec<String> {
    ids(&meeting(app, who, meeting_id, "notes { id }").await["notes"])
}

#[tokio::test]
async fn a_new_note_starts_at_version_1() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let data = app
        .ok(
            CREATE,
            json!({ "input": { "meetingId": meeting_id, "visibility": "SHARED", "body": "# Agreed\n- ship it", "clientMutationId": "n-1" } }),
            Some(&pair.report.access_token),
        )
        .await;
    let payload = &data["createNote"];
    assert_eq!(payload["clientMutationId"], "n-1");
    let note = &payload["note"];
    assert_eq!(note["meeting"]["id"], meeting_id.as_str());
    assert_eq!(note["author"]["id"], pair.report.user_id.as_str());
    assert_eq!(note["visibility"], "SHARED");
    assert_eq!(note["body"], "# Agreed\n- ship it");
    assert_eq!(note["version"], 1);
    assert!(note["createdAt"].is_string() && note["updatedAt"].is_string());
    assert_eq!(
        listed(&app, &pair.manager, &meeting_id).await,
        vec![note["id"].as_str().unwrap().to_owned()]
    );
}

#[tokio::test]
async fn both_participants_edit_a_shared_note_and_each_edit_bumps_the_version() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let note = create_note(&app, &pair.manager, &meeting_id, "SHARED", "v1").await;
    let body = update(&app, &pair.report, &note, "v2 by Bob", 1).await;
    assert_eq!(body["data"]["updateNote"]["note"]["version"], 2, "{body}");
    assert_eq!(body["data"]["updateNote"]["note"]["body"], "v2 by Bob");
    let body = update(&app, &pair.manager, &note, "v3 by Max", 2).await;
    assert_eq!(body["data"]["updateNote"]["note"]["version"], 3, "{body}");
    let stored = read(&app, &pair.report, &note).await;
    assert_eq!(stored["body"], "v3 by Max");
    assert_eq!(stored["version"], 3);
    // The author stays the one who wrote it first.
    assert_eq!(stored["author"]["id"], pair.manager.user_id.as_str());
}

#[tokio::test]
async fn an_edit_based_on_an_old_version_is_a_conflict_with_the_current_version() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let note = create_note(&app, &pair.manager, &meeting_id, "SHARED", "v1").await;
    update(&app, &pair.manager, &note, "v2", 1).await;
    update(&app, &pair.report, &note, "v3", 2).await;
    for stale in [1, 2, 7] {
        let body = update(&app, &pair.manager, &note, "lost edit", stale).await;
        assert_eq!(error_code(&body), Some("CONFLICT"), "{stale}: {body}");
        assert_eq!(
            body["errors"][0]["extensions"]["currentVersion"], 3,
            "{body}"
        );
    }
    let stored = read(&app, &pair.manager, &note).await;
    assert_eq!(stored["body"], "v3");
    assert_eq!(stored["version"], 3);
}

#[tokio::test]
async fn only_the_author_deletes_a_shared_note() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let note = create_note(&app, &pair.report, &meeting_id, "SHARED", "ours").await;
    let body = app
        .graphql(
            DELETE,
            json!({ "input": { "noteId": note } }),
            Some(&pair.manager.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
    assert_eq!(read(&app, &pair.manager, &note).await["body"], "ours");
    let data = app
        .ok(
            DELETE,
            json!({ "input": { "noteId": note } }),
            Some(&pair.report.access_token),
        )
        .await;
    assert_eq!(data["deleteNote"]["deletedNoteId"], note.as_str());
    assert!(listed(&app, &pair.manager, &meeting_id).await.is_empty());
    let body = node(&app, Some(&pair.report.access_token), &note, NOTE).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
}

#[tokio::test]
async fn a_private_note_exists_for_its_author_alone() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let shared = create_note(&app, &pair.manager, &meeting_id, "SHARED", "both").await;
    let private = create_note(&app, &pair.report, &meeting_id, "PRIVATE", "just me").await;
    let mut own = listed(&app, &pair.report, &meeting_id).await;
    own.sort();
    let mut expected = vec![shared.clone(), private.clone()];
    expected.sort();
    assert_eq!(own, expected);
    assert_eq!(read(&app, &pair.report, &private).await["body"], "just me");

    let max = &pair.manager;
    assert_eq!(listed(&app, max, &meeting_id).await, vec![shared]);
    let body = node(&app, Some(&max.access_token), &private, NOTE).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let body = update(&app, max, &private, "peeked", 1).await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let body = app
        .graphql(
            DELETE,
            json!({ "input": { "noteId": private } }),
            Some(&max.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let stored = read(&app, &pair.report, &private).await;
    assert_eq!(stored["body"], "just me");
    assert_eq!(stored["version"], 1);
}

#[tokio::test]
async fn the_author_edits_and_deletes_a_private_note() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let private = create_note(&app, &pair.manager, &meeting_id, "PRIVATE", "draft").await;
    let body = update(&app, &pair.manager, &private, "final", 1).await;
    assert_eq!(
        body["data"]["updateNote"]["note"]["body"], "final",
        "{body}"
    );
    assert_eq!(body["data"]["updateNote"]["note"]["version"], 2);
    let body = update(&app, &pair.manager, &private, "stale", 1).await;
    assert_eq!(error_code(&body), Some("CONFLICT"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["currentVersion"], 2);
    let stored = read(&app, &pair.manager, &private).await;
    assert_eq!(stored["body"], "final");
    assert_eq!(stored["visibility"], "PRIVATE");
    let data = app
        .ok(
            DELETE,
            json!({ "input": { "noteId": private } }),
            Some(&pair.manager.access_token),
        )
        .await;
    assert_eq!(data["deleteNote"]["deletedNoteId"], private.as_str());
    assert!(listed(&app, &pair.manager, &meeting_id).await.is_empty());
}

/// Every text and binary value in every table of the database, one string per value.
async fn every_stored_value(app: &TestApp) -> Vec<(String, String)> {
    let db = &app.state.store.db;
    let backend = db.get_database_backend();
    let tables_sql = match backend {
        DbBackend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table'",
        DbBackend::Postgres => {
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()"
        }
        other => panic!("unexpected backend {other:?}"),
    };
    let tables: Vec<String> = db
        .query_all_raw(Statement::from_string(backend, tables_sql))
        .await
        .expect("the table list")
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("a table name"))
        .collect();
    assert!(
        tables.iter().any(|table| table == "notes"),
        "no notes table among {tables:?}"
    );
    let mut values = Vec::new();
    for table in tables {
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                format!("SELECT * FROM \"{table}\""),
            ))
            .await
            .expect("rows");
        for row in rows {
            // Column names are not needed: try each position as text, then as bytes.
            for index in 0..64 {
                if let Ok(Some(text)) = row.try_get_by_index::<Option<String>>(index) {
                    values.push((table.clone(), text));
                } else if let Ok(Some(bytes)) = row.try_get_by_index::<Option<Vec<u8>>>(index) {
                    values.push((table.clone(), String::from_utf8_lossy(&bytes).into_owned()));
                }
            }
        }
        if backend == DbBackend::Postgres {
            // Catches columns of any other type (json, arrays...) as their text form.
            let rows = db
                .query_all_raw(Statement::from_string(
                    backend,
                    format!("SELECT row_to_json(t)::text FROM \"{table}\" t"),
                ))
                .await
                .expect("rows as json");
            for row in rows {
                values.push((table.clone(), row.try_get_by_index::<String>(0).unwrap()));
            }
        }
    }
    values
}

#[tokio::test]
async fn private_note_bodies_are_encrypted_at_rest() {
    let app = spawn_app().await;
    let (pair, meeting_id) = meeting_of(&app).await;
    let secret = "I am thinking about leaving: zebra-quartz-7731";
    let shared = "Shared agreement: walrus-ember-4409";
    let private = create_note(&app, &pair.report, &meeting_id, "PRIVATE", secret).await;
    create_note(&app, &pair.report, &meeting_id, "SHARED", shared).await;
    // An edit is encrypted too.
    let edited = "Edited secret: falcon-moss-2290";
    let body = update(&app, &pair.report, &private, edited, 1).await;
    assert!(body.get("errors").is_none(), "{body}");

    let values = every_stored_value(&app).await;
    assert!(
        values
            .iter()
            .any(|(table, value)| table == "notes" && value.contains("walrus-ember-4409")),
        "the scan must find the shared note's body, or it proves nothing"
    );
    for needle in ["zebra-quartz-7731", "falcon-moss-2290"] {
        let found: Vec<&String> = values
            .iter()
            .filter(|(_, value)| value.contains(needle))
            .map(|(table, _)| table)
            .collect();
        assert!(
            found.is_empty(),
            "private text {needle:?} stored in {found:?}"
        );
    }

    // On SQLite the whole database file (and its journal) must not hold it either.
    let url = &app.state.config.database_url;
    if let Some(rest) = url.strip_prefix("sqlite://") {
        let file = rest.split('?').next().unwrap();
        for suffix in ["", "-wal", "-journal"] {
            let Ok(bytes) = std::fs::read(format!("{file}{suffix}")) else {
                continue;
            };
            for needle in ["zebra-quartz-7731", "falcon-moss-2290"] {
                assert!(
                    !bytes
                        .windows(needle.len())
                        .any(|window| window == needle.as_bytes()),
                    "{needle} in {file}{suffix}"
                );
            }
        }
    }
    // And the author still reads it in clear.
    assert_eq!(read(&app, &pair.report, &private).await["body"], edited);
}
