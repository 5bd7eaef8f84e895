//! Shared set-up for the 1:1 tests: a reporting line with its series, times that every store
//! keeps exactly, and one-call helpers for the mutations most tests need before they start.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};
use tete_tests::{Session, TestApp};

/// The fields of a series most tests look at.
pub const SERIES: &str =
    "id cadence defaultFormat defaultDurationMinutes lead archivedAt manager { id } report { id }";
/// The fields of an agenda item most tests look at.
pub const ITEM: &str =
    "id title description category discussedAt author { id } carriedOverFrom { id }";

/// Admin Ada; Max manages Bob, so their series exists.
pub struct Pair {
    pub admin: Session,
    pub manager: Session,
    pub report: Session,
    pub series: String,
}

/// Signs up Acme (admin Ada) with Max managing Bob; returns their sessions and series.
pub async fn pair(app: &TestApp) -> Pair {
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let max = app.create_user(&admin, "max@example.com", None).await;
    app.create_user(&admin, "bob@example.com", Some(&max)).await;
    let manager = app.session("max@example.com").await;
    let report = app.session("bob@example.com").await;
    let series = one_on_ones(app, &manager, false).await;
    assert_eq!(series.len(), 1, "Max has one series: {series:?}");
    let series = series[0]["id"].as_str().expect("series id").to_owned();
    Pair {
        admin,
        manager,
        report,
        series,
    }
}

/// The viewer's series (`SERIES` fields), in the connection's order.
pub async fn one_on_ones(app: &TestApp, who: &Session, include_archived: bool) -> Vec<Value> {
    let data = app
        .ok(
            &format!(
                "query($archived: Boolean) {{ viewer {{ oneOnOnes(first: 50, includeArchived: $archived) {{ totalCount edges {{ node {{ {SERIES} }} }} }} }} }}"
            ),
            json!({ "archived": include_archived }),
            Some(&who.access_token),
        )
        .await;
    nodes(&data["viewer"]["oneOnOnes"])
}

/// The nodes of a connection, in order; when it has `totalCount`, checks that it counts them.
pub fn nodes(connection: &Value) -> Vec<Value> {
    let nodes: Vec<Value> = connection["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| edge["node"].clone())
        .collect();
    if let Some(total) = connection.get("totalCount") {
        assert_eq!(total.as_u64(), Some(nodes.len() as u64), "{connection}");
    }
    nodes
}

/// Today at 10:00 UTC moved by `days`: whole seconds, so every store keeps it exactly.
pub fn day(days: i64) -> DateTime<Utc> {
    let today = Utc::now()
        .date_naive()
        .and_hms_opt(10, 0, 0)
        .expect("a valid time")
        .and_utc();
    today + Duration::days(days)
}

/// The wire form of a time.
pub fn wire(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Reads a `DateTime` from a response.
pub fn time(value: &Value) -> DateTime<Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("a DateTime, got {value}"));
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|error| panic!("{text} is not RFC 3339: {error}"))
        .with_timezone(&Utc)
}

/// The `id`s of a JSON list of objects.
pub fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("a list, got {list}"))
        .iter()
        .map(|item| item["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// `node(id:)` with `selection` spread on the object; the whole response body.
pub async fn node(app: &TestApp, token: Option<&str>, id: &str, selection: &str) -> Value {
    app.graphql(
        &format!("query($id: ID!) {{ node(id: $id) {{ id {selection} }} }}"),
        json!({ "id": id }),
        token,
    )
    .await
}

/// A meeting's fields as `who` sees them; the request must succeed.
pub async fn meeting(app: &TestApp, who: &Session, id: &str, fields: &str) -> Value {
    let data = app
        .ok(
            &format!("query($id: ID!) {{ node(id: $id) {{ ... on Meeting {{ {fields} }} }} }}"),
            json!({ "id": id }),
            Some(&who.access_token),
        )
        .await;
    data["node"].clone()
}

/// A meeting's agenda (`ITEM` fields), in order.
pub async fn agenda(app: &TestApp, who: &Session, meeting_id: &str) -> Vec<Value> {
    meeting(app, who, meeting_id, &format!("agenda {{ {ITEM} }}")).await["agenda"]
        .as_array()
        .expect("an agenda")
        .clone()
}

/// A meeting's agenda item ids, in order.
pub async fn agenda_ids(app: &TestApp, who: &Session, meeting_id: &str) -> Vec<String> {
    ids(&meeting(app, who, meeting_id, "agenda { id }").await["agenda"])
}

/// Runs a mutation that must succeed; returns its payload (`data.<field>`).
pub async fn mutate(
    app: &TestApp,
    who: &Session,
    field: &str,
    input_type: &str,
    input: Value,
    selection: &str,
) -> Value {
    let data = app
        .ok(
            &format!(
                "mutation($input: {input_type}!) {{ {field}(input: $input) {{ {selection} }} }}"
            ),
            json!({ "input": input }),
            Some(&who.access_token),
        )
        .await;
    data[field].clone()
}

/// Schedules a meeting of `series` at `at`; returns its id.
pub async fn schedule(app: &TestApp, who: &Session, series: &str, at: DateTime<Utc>) -> String {
    let payload = mutate(
        app,
        who,
        "scheduleMeeting",
        "ScheduleMeetingInput",
        json!({ "oneOnOneId": series, "scheduledAt": wire(at) }),
        "meeting { id }",
    )
    .await;
    payload["meeting"]["id"]
        .as_str()
        .expect("meeting id")
        .into()
}

/// Starts a meeting; returns it.
pub async fn start(app: &TestApp, who: &Session, meeting_id: &str) -> Value {
    mutate(
        app,
        who,
        "startMeeting",
        "StartMeetingInput",
        json!({ "meetingId": meeting_id }),
        "meeting { id status startedAt }",
    )
    .await["meeting"]
        .clone()
}

/// Ends a meeting; returns the payload `{ meeting nextMeeting }`.
pub async fn end(app: &TestApp, who: &Session, meeting_id: &str) -> Value {
    mutate(
        app,
        who,
        "endMeeting",
        "EndMeetingInput",
        json!({ "meetingId": meeting_id }),
        "meeting { id status startedAt endedAt } nextMeeting { id status scheduledAt }",
    )
    .await
}

/// Cancels a meeting; returns it.
pub async fn cancel(app: &TestApp, who: &Session, meeting_id: &str) -> Value {
    mutate(
        app,
        who,
        "cancelMeeting",
        "CancelMeetingInput",
        json!({ "meetingId": meeting_id }),
        "meeting { id status }",
    )
    .await["meeting"]
        .clone()
}

/// Adds an agenda item of `category`; returns its id.
pub async fn add_item_in(
    app: &TestApp,
    who: &Session,
    meeting_id: &str,
    title: &str,
    category: &str,
) -> String {
    let payload = mutate(
        app,
        who,
        "addAgendaItem",
        "AddAgendaItemInput",
        json!({ "meetingId": meeting_id, "title": title, "category": category }),
        "agendaItem { id }",
    )
    .await;
    payload["agendaItem"]["id"]
        .as_str()
        .expect("agenda item id")
        .into()
}

/// Adds an agenda item (category OTHER); returns its id.
pub async fn add_item(app: &TestApp, who: &Session, meeting_id: &str, title: &str) -> String {
    add_item_in(app, who, meeting_id, title, "OTHER").await
}

/// Marks an agenda item discussed or not.
pub async fn set_discussed(app: &TestApp, who: &Session, item: &str, discussed: bool) {
    mutate(
        app,
        who,
        "setAgendaItemDiscussed",
        "SetAgendaItemDiscussedInput",
        json!({ "agendaItemId": item, "discussed": discussed }),
        "agendaItem { id }",
    )
    .await;
}

/// Writes a note (`SHARED` or `PRIVATE`); returns its id.
pub async fn create_note(
    app: &TestApp,
    who: &Session,
    meeting_id: &str,
    visibility: &str,
    body: &str,
) -> String {
    let payload = mutate(
        app,
        who,
        "createNote",
        "CreateNoteInput",
        json!({ "meetingId": meeting_id, "visibility": visibility, "body": body }),
        "note { id }",
    )
    .await;
    payload["note"]["id"].as_str().expect("note id").into()
}

/// Creates an action item for `assignee`; returns its id.
pub async fn create_action_item(
    app: &TestApp,
    who: &Session,
    meeting_id: &str,
    title: &str,
    assignee: &str,
) -> String {
    let payload = mutate(
        app,
        who,
        "createActionItem",
        "CreateActionItemInput",
        json!({ "meetingId": meeting_id, "title": title, "assigneeId": assignee }),
        "actionItem { id }",
    )
    .await;
    payload["actionItem"]["id"]
        .as_str()
        .expect("action item id")
        .into()
}

/// Submits a check-in; returns its id.
pub async fn submit_check_in(
    app: &TestApp,
    who: &Session,
    meeting_id: &str,
    mood: i64,
    shared: bool,
) -> String {
    let payload = mutate(
        app,
        who,
        "submitCheckIn",
        "SubmitCheckInInput",
        json!({ "meetingId": meeting_id, "mood": mood, "sharedWithManager": shared }),
        "checkIn { id }",
    )
    .await;
    payload["checkIn"]["id"]
        .as_str()
        .expect("check-in id")
        .into()
}

/// As `admin`, deactivates a user.
pub async fn deactivate(app: &TestApp, admin: &Session, user_id: &str) {
    mutate(
        app,
        admin,
        "deactivateUser",
        "DeactivateUserInput",
        json!({ "userId": user_id }),
        "user { id }",
    )
    .await;
}

/// Holds the write lock of `meeting_id`'s row until the returned transaction ends, so a write
/// to the meeting keeps its turn until then.
pub async fn hold_meeting(app: &TestApp, meeting_id: &str) -> sea_orm::DatabaseTransaction {
    use sea_orm::{ConnectionTrait, Statement};
    let (_, raw_id) = tete_api::ids::decode(meeting_id).expect("a meeting id");
    let db = &app.state.store.db;
    let lock = tete_api::db::begin_write(db).await.expect("a transaction");
    lock.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE meetings SET last_event_sequence = last_event_sequence WHERE id = $1",
        [raw_id.into()],
    ))
    .await
    .expect("the meeting's row is locked");
    lock
}
