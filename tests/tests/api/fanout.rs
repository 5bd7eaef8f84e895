//! One change reaches every subscriber of a meeting for the same few SQL statements, however
//! many subscribers there are: the rows an event is about are read once per process, not once
//! per subscriber.

use tete_tests::{TestApp, spawn_app};

use crate::{
    support::{Pair, add_item, day, pair, schedule},
    ws::Ws,
};

/// Opens `count` subscriptions (alternating the two participants) and waits until each is live.
async fn subscribers(app: &TestApp, pair: &Pair, meeting_id: &str, count: usize) -> Vec<Ws> {
    let head = add_item(app, &pair.manager, meeting_id, "Warm-up").await;
    let mut sockets = Vec::new();
    for n in 0..count {
        let who = if n % 2 == 0 {
            &pair.manager
        } else {
            &pair.report
        };
        let mut ws = Ws::open(app, &who.access_token).await;
        // From the start: the first stored event proves the subscription is live.
        ws.subscribe("1", meeting_id, Some(0)).await;
        let first = ws.event("1").await;
        assert_eq!(first["sequence"], 1, "{first} ({head})");
        sockets.push(ws);
    }
    sockets
}

/// The fewest statements one change took, out of three, with every subscriber receiving it
/// with its nested fields.
async fn statements_per_change(
    app: &TestApp,
    pair: &Pair,
    meeting_id: &str,
    sockets: &mut [Ws],
    round: usize,
) -> f64 {
    let mut fewest = f64::INFINITY;
    for n in 0..3 {
        let title = format!("Round {round}, change {n}");
        let before = app.metric("tete_db_statements_total").await;
        add_item(app, &pair.manager, meeting_id, &title).await;
        for ws in sockets.iter_mut() {
            let events = ws
                .events_until("1", |event| event["agendaItem"]["title"] == title.as_str())
                .await;
            let last = events.last().expect("the change arrives");
            assert_eq!(last["actor"]["id"], pair.manager.user_id.as_str());
            assert_eq!(last["meeting"]["status"], "SCHEDULED");
        }
        let after = app.metric("tete_db_statements_total").await;
        fewest = fewest.min(after - before);
    }
    fewest
}

#[tokio::test]
async fn a_change_costs_the_same_statements_for_2_or_20_subscribers() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let meeting_id = schedule(&app, &pair.manager, &pair.series, day(1)).await;

    let mut few = subscribers(&app, &pair, &meeting_id, 2).await;
    let with_few = statements_per_change(&app, &pair, &meeting_id, &mut few, 1).await;
    let mut many = subscribers(&app, &pair, &meeting_id, 18).await;
    many.append(&mut few);
    let with_many = statements_per_change(&app, &pair, &meeting_id, &mut many, 2).await;

    assert_eq!(
        with_few, with_many,
        "a change took {with_few} statements with 2 subscribers and {with_many} with 20"
    );
    // The mutation's own transaction, plus one read of the new event and its rows per process.
    assert!(with_many <= 16.0, "a change took {with_many} statements");
}
