//! The home screen (the viewer's series with their next meetings) loads in a fixed number of SQL
//! statements, however many series it lists.

use serde_json::{Value, json};
use tete_tests::{Session, TestApp, spawn_app_with};

use crate::support::{add_item, create_action_item, day, one_on_ones, schedule};

const HOME: &str = "query Home { viewer { id displayName oneOnOnes(first: 50) { totalCount edges { node { id cadence manager { displayName } report { displayName } nextMeeting { id scheduledAt status agenda { title author { displayName } } } openActionItems { title assignee { displayName } } } } } } }";

/// The home screen as `who`, and the fewest statements it took out of three runs.
async fn home(app: &TestApp, who: &Session) -> (Value, f64) {
    let mut fewest = f64::INFINITY;
    let mut data = Value::Null;
    for _ in 0..3 {
        let before = app.metric("tete_db_statements_total").await;
        data = app.ok(HOME, json!({}), Some(&who.access_token)).await;
        fewest = fewest.min(app.metric("tete_db_statements_total").await - before);
    }
    (data, fewest)
}

/// Gives Max reports `range`, each series with a next meeting, two agenda items (one by each
/// side) and an open action item.
async fn add_reports(app: &TestApp, admin: &Session, max: &Session, range: std::ops::Range<usize>) {
    for n in range {
        let email = format!("report{n}@example.com");
        app.create_user(admin, &email, Some(&max.user_id)).await;
        let report = app.session(&email).await;
        let series = one_on_ones(app, &report, false).await[0]["id"]
            .as_str()
            .expect("series id")
            .to_owned();
        let meeting = schedule(app, max, &series, day(2)).await;
        add_item(app, max, &meeting, &format!("From Max to {n}")).await;
        add_item(app, &report, &meeting, &format!("From {n}")).await;
        create_action_item(app, &report, &meeting, &format!("Action {n}"), &max.user_id).await;
    }
}

#[tokio::test]
async fn the_home_screen_takes_the_same_few_statements_for_2_or_8_series() {
    // As in the meeting view test: a wide DataLoader window makes the count depend on the query
    // alone, not on how busy the machine is.
    let app = spawn_app_with(|config| config.dataloader_delay_ms = 20).await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let max_id = app.create_user(&admin, "max@example.com", None).await;
    let max = app.session("max@example.com").await;
    assert_eq!(max.user_id, max_id);

    add_reports(&app, &admin, &max, 0..2).await;
    let (small, few) = home(&app, &max).await;
    assert_eq!(small["viewer"]["oneOnOnes"]["totalCount"], 2);

    add_reports(&app, &admin, &max, 2..8).await;
    let (large, many) = home(&app, &max).await;
    let series = large["viewer"]["oneOnOnes"]["edges"].as_array().unwrap();
    assert_eq!(series.len(), 8);
    for edge in series {
        let node = &edge["node"];
        assert_eq!(node["manager"]["displayName"], "max");
        assert_eq!(node["nextMeeting"]["agenda"].as_array().unwrap().len(), 2);
        assert_eq!(node["openActionItems"][0]["assignee"]["displayName"], "max");
    }
    assert_eq!(few, many, "2 series took {few} statements, 8 took {many}");
    assert!(many <= 8.0, "the home screen took {many} statements");
}
