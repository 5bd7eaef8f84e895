//! The admin side and the trust features: audit log, insights, export and calendar feed.

use serde_json::{Value, json};
use tete_tests::{TestApp, error_code, spawn_app};

use crate::support::{
    add_item_in, create_action_item, create_note, day, end, mutate, pair, schedule, start,
    submit_check_in,
};

const INSIGHTS: &str = "{ organization { insights { cadenceAdherence meetingsHeld actionItemCompletionRate reportDrivenShare topicMix { category share } overdueOneOnOnes { daysSinceLastMeeting oneOnOne { id } } wellbeing { respondents averageMood } } } }";

async fn audit_actions(app: &TestApp, token: &str) -> Vec<Value> {
    let data = app
        .ok(
            "{ organization { auditLog(first: 100) { edges { node { action detail address actor { id } subjectUser { id } occurredAt } } } } }",
            json!({}),
            Some(token),
        )
        .await;
    crate::support::nodes(&data["organization"]["auditLog"])
}

#[tokio::test]
async fn the_audit_log_records_sign_ins_and_admin_actions_for_admins_only() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    assert!(app.sign_in("bob@example.com", "wrong password!").await["errors"].is_array());
    mutate(
        &app,
        &pair.admin,
        "setManager",
        "SetManagerInput",
        json!({ "userId": pair.report.user_id, "managerId": null }),
        "user { id }",
    )
    .await;
    mutate(
        &app,
        &pair.admin,
        "deactivateUser",
        "DeactivateUserInput",
        json!({ "userId": pair.report.user_id }),
        "user { id }",
    )
    .await;
    mutate(
        &app,
        &pair.manager,
        "createApiToken",
        "CreateApiTokenInput",
        json!({ "name": "Sync", "scopes": ["MEETINGS_READ"] }),
        "token",
    )
    .await;

    let entries = audit_actions(&app, &pair.admin.access_token).await;
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "SIGNED_UP",
        "USER_CREATED",
        "SIGN_IN_SUCCEEDED",
        "SIGN_IN_FAILED",
        "MANAGER_CHANGED",
        "USER_DEACTIVATED",
        "API_TOKEN_CREATED",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    let failed = entries
        .iter()
        .find(|e| e["action"] == "SIGN_IN_FAILED")
        .unwrap();
    assert_eq!(failed["subjectUser"]["id"], pair.report.user_id.as_str());
    assert_eq!(failed["address"], "127.0.0.1");
    let deactivated = entries
        .iter()
        .find(|e| e["action"] == "USER_DEACTIVATED")
        .unwrap();
    assert_eq!(deactivated["actor"]["id"], pair.admin.user_id.as_str());
    assert!(deactivated["occurredAt"].is_string());

    let body = app
        .graphql(
            "{ organization { auditLog { totalCount } } }",
            json!({}),
            Some(&pair.manager.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
}

#[tokio::test]
async fn insights_match_hand_computed_figures_and_carry_no_content() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    // A second series that never meets: overdue.
    let max_id = pair.manager.user_id.clone();
    app.create_user(&pair.admin, "cy@example.com", Some(&max_id))
        .await;

    let meeting = schedule(&app, &pair.manager, &pair.series, day(-1)).await;
    add_item_in(
        &app,
        &pair.report,
        &meeting,
        "Secret topic one",
        "WELLBEING",
    )
    .await;
    add_item_in(
        &app,
        &pair.report,
        &meeting,
        "Secret topic two",
        "PRIORITIES",
    )
    .await;
    add_item_in(
        &app,
        &pair.manager,
        &meeting,
        "Secret topic three",
        "PROGRESS",
    )
    .await;
    create_note(&app, &pair.report, &meeting, "SHARED", "Secret shared note").await;
    let done = create_action_item(
        &app,
        &pair.manager,
        &meeting,
        "Secret action",
        &pair.report.user_id,
    )
    .await;
    create_action_item(&app, &pair.manager, &meeting, "Other action", &max_id).await;
    mutate(
        &app,
        &pair.manager,
        "setActionItemDone",
        "SetActionItemDoneInput",
        json!({ "actionItemId": done, "done": true }),
        "actionItem { id }",
    )
    .await;
    submit_check_in(&app, &pair.report, &meeting, 4, true).await;
    start(&app, &pair.manager, &meeting).await;
    end(&app, &pair.manager, &meeting).await;

    let (status, raw) = app
        .post_graphql(INSIGHTS, json!({}), Some(&pair.admin.access_token))
        .await;
    assert_eq!(status, 200, "{raw}");
    let insights = &raw["data"]["organization"]["insights"];
    assert_eq!(insights["meetingsHeld"], 1);
    assert_eq!(insights["cadenceAdherence"], 0.5);
    assert_eq!(insights["actionItemCompletionRate"], 0.5);
    let share = insights["reportDrivenShare"].as_f64().unwrap();
    assert!((share - 2.0 / 3.0).abs() < 1e-9, "{share}");
    let mut mix: Vec<(String, f64)> = insights["topicMix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["category"].as_str().unwrap().to_owned(),
                t["share"].as_f64().unwrap(),
            )
        })
        .collect();
    mix.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        mix.iter().map(|m| m.0.as_str()).collect::<Vec<_>>(),
        ["PRIORITIES", "PROGRESS", "WELLBEING"]
    );
    assert!(
        mix.iter()
            .all(|(_, share)| (share - 1.0 / 3.0).abs() < 1e-9)
    );
    let overdue = insights["overdueOneOnOnes"].as_array().unwrap();
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0]["daysSinceLastMeeting"], Value::Null);
    assert_ne!(overdue[0]["oneOnOne"]["id"], pair.series.as_str());
    // One respondent is fewer than five: hidden.
    assert_eq!(insights["wellbeing"], Value::Null);

    let text = raw.to_string();
    assert!(
        !text.contains("Secret"),
        "content leaked into insights: {text}"
    );

    let body = app
        .graphql(INSIGHTS, json!({}), Some(&pair.manager.access_token))
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
}

#[tokio::test]
async fn wellbeing_shows_only_from_five_respondents_and_only_shared_check_ins() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let max = app.create_user(&admin, "max@example.com", None).await;
    let max_session = app.session("max@example.com").await;
    let mut moods = Vec::new();
    for n in 1..=6 {
        let email = format!("r{n}@example.com");
        app.create_user(&admin, &email, Some(&max)).await;
        let report = app.session(&email).await;
        let series = crate::support::one_on_ones(&app, &report, false).await[0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let meeting = schedule(&app, &max_session, &series, day(1)).await;
        // The sixth keeps theirs private: it must not count.
        let shared = n <= 5;
        submit_check_in(&app, &report, &meeting, if shared { n } else { 1 }, shared).await;
        if shared {
            moods.push(n);
        }
        let data = app.ok(INSIGHTS, json!({}), Some(&admin.access_token)).await;
        let wellbeing = &data["organization"]["insights"]["wellbeing"];
        if moods.len() < 5 {
            assert_eq!(*wellbeing, Value::Null, "with {} respondents", moods.len());
        } else {
            assert_eq!(wellbeing["respondents"], 5);
            assert_eq!(wellbeing["averageMood"], 3.0);
        }
    }
}

#[tokio::test]
async fn the_export_holds_what_the_viewer_may_read_and_is_logged() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let meeting = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    create_note(
        &app,
        &pair.report,
        &meeting,
        "PRIVATE",
        "Bob's own private thought",
    )
    .await;
    create_note(
        &app,
        &pair.manager,
        &meeting,
        "PRIVATE",
        "Max's private thought",
    )
    .await;
    create_note(&app, &pair.manager, &meeting, "SHARED", "A shared note").await;
    add_item_in(&app, &pair.manager, &meeting, "A topic", "OTHER").await;

    let export = app
        .ok(
            "mutation { exportMyData { json } }",
            json!({}),
            Some(&pair.report.access_token),
        )
        .await;
    let text = export["exportMyData"]["json"].to_string();
    assert!(text.contains("Bob's own private thought"));
    assert!(text.contains("A shared note"));
    assert!(text.contains("A topic"));
    assert!(
        !text.contains("Max's private thought"),
        "another's private note was exported"
    );
    assert_eq!(
        export["exportMyData"]["json"]["user"]["email"],
        "bob@example.com"
    );

    // Both participants see the export in their access log; the admin sees it in the audit log.
    for who in [&pair.report, &pair.manager] {
        let log = app
            .ok(
                "{ viewer { accessLog { edges { node { via reader { id } } } } } }",
                json!({}),
                Some(&who.access_token),
            )
            .await;
        let edges = log["viewer"]["accessLog"]["edges"]
            .as_array()
            .unwrap()
            .clone();
        assert!(
            edges.iter().any(|e| e["node"]["via"] == "EXPORT"
                && e["node"]["reader"]["id"] == pair.report.user_id.as_str()),
            "{edges:?}"
        );
    }
    let actions = audit_actions(&app, &pair.admin.access_token).await;
    assert!(actions.iter().any(|e| e["action"] == "DATA_EXPORTED"));

    // No API token may export.
    let token = mutate(&app, &pair.report, "createApiToken", "CreateApiTokenInput", json!({ "name": "All", "scopes": ["MEETINGS_READ", "NOTES_READ", "AGENDA_WRITE", "NOTES_WRITE", "ACTION_ITEMS_WRITE"] }), "token").await;
    let body = app
        .graphql(
            "mutation { exportMyData { json } }",
            json!({}),
            token["token"].as_str(),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
}

async fn fetch(app: &TestApp, url: &str) -> (u16, String, String) {
    let response = app.client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn the_calendar_feed_serves_meeting_times_only_and_rotates() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let meeting = schedule(&app, &pair.manager, &pair.series, day(2)).await;
    mutate(
        &app,
        &pair.manager,
        "rescheduleMeeting",
        "RescheduleMeetingInput",
        json!({ "meetingId": meeting, "scheduledAt": "2030-03-04T09:30:00Z" }),
        "meeting { id }",
    )
    .await;
    add_item_in(&app, &pair.report, &meeting, "Secret agenda", "OTHER").await;
    create_note(&app, &pair.report, &meeting, "SHARED", "Secret note").await;

    let data = app
        .ok(
            "{ viewer { calendarFeedUrl } }",
            json!({}),
            Some(&pair.report.access_token),
        )
        .await;
    let url = data["viewer"]["calendarFeedUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        url.starts_with(&app.address) && url.ends_with(".ics"),
        "{url}"
    );
    let again = app
        .ok(
            "{ viewer { calendarFeedUrl } }",
            json!({}),
            Some(&pair.report.access_token),
        )
        .await;
    assert_eq!(
        again["viewer"]["calendarFeedUrl"],
        url.as_str(),
        "the URL is stable"
    );

    let (status, content_type, ics) = fetch(&app, &url).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/calendar"), "{content_type}");
    assert!(ics.starts_with("BEGIN:VCALENDAR"), "{ics}");
    assert!(ics.contains("BEGIN:VEVENT"));
    assert!(ics.contains("DTSTART:20300304T093000Z"), "{ics}");
    assert!(ics.contains("1:1 with max"), "{ics}");
    assert!(
        !ics.contains("Secret"),
        "content leaked into the feed: {ics}"
    );

    // A wrong token, or the token of another user, is 404.
    let (status, _, _) = fetch(&app, &url.replace(".ics", "x.ics")).await;
    assert_eq!(status, 404);
    let (status, _, _) = fetch(&app, &app.url("/calendar/garbage.ics")).await;
    assert_eq!(status, 404);

    let rotated = app
        .ok(
            "mutation { rotateCalendarFeed { calendarFeedUrl } }",
            json!({}),
            Some(&pair.report.access_token),
        )
        .await;
    let new_url = rotated["rotateCalendarFeed"]["calendarFeedUrl"]
        .as_str()
        .unwrap();
    assert_ne!(new_url, url);
    assert_eq!(fetch(&app, &url).await.0, 404, "the old URL still works");
    assert_eq!(fetch(&app, new_url).await.0, 200);

    // Only the viewer's own.
    let body = app
        .graphql(
            "query($id: ID!) { node(id: $id) { ... on User { calendarFeedUrl } } }",
            json!({ "id": pair.report.user_id }),
            Some(&pair.manager.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
}
