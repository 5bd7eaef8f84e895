//! Webhooks: admin-only, SSRF-safe, signed, content-free, retried, and durable across restarts.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tete_tests::{TestApp, error_code, spawn_app, spawn_app_with};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

use crate::support::{add_item, create_note, day, mutate, pair, schedule};

pub const CREATE: &str = "mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id url events } } }";

/// A request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// A webhook receiver on loopback answering with the given statuses in turn (then 200).
pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start(statuses: &[u16]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let statuses = Arc::new(Mutex::new(statuses.to_vec()));
        let (log, script) = (received.clone(), statuses.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (log, script) = (log.clone(), script.clone());
                tokio::spawn(async move {
                    let mut buffer = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let (head_end, length) = loop {
                        let n = socket.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buffer.extend_from_slice(&chunk[..n]);
                        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buffer[..end]).to_string();
                            let length = head
                                .lines()
                                .find_map(|line| {
                                    let (key, value) = line.split_once(':')?;
                                    key.eq_ignore_ascii_case("content-length")
                                        .then(|| value.trim().parse::<usize>().ok())
                                        .flatten()
                                })
                                .unwrap_or(0);
                            break (end + 4, length);
                        }
                    };
                    while buffer.len() < head_end + length {
                        let n = socket.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        buffer.extend_from_slice(&chunk[..n]);
                    }
                    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
                    let headers = head
                        .lines()
                        .skip(1)
                        .filter_map(|line| {
                            let (key, value) = line.split_once(':')?;
                            Some((key.trim().to_owned(), value.trim().to_owned()))
                        })
                        .collect();
                    let body = String::from_utf8_lossy(&buffer[head_end..]).to_string();
                    log.lock().unwrap().push(Received { headers, body });
                    let status = {
                        let mut script = script.lock().unwrap();
                        if script.is_empty() {
                            200
                        } else {
                            script.remove(0)
                        }
                    };
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                    );
                    let _ = socket.write_all(reply.as_bytes()).await;
                });
            }
        });
        Self { url, received }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `n` requests arrived (at most `limit`).
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Received> {
        let deadline = Instant::now() + limit;
        loop {
            let received = self.received();
            if received.len() >= n || Instant::now() > deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn verify(secret: &str, received: &Received) {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(received.body.as_bytes());
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(received.header("x-tete-signature"), Some(expected.as_str()));
}

async fn deliveries(app: &TestApp, admin: &str) -> Vec<Value> {
    let data = app
        .ok(
            "{ organization { webhooks { deliveries { status attempts lastStatusCode event } } } }",
            json!({}),
            Some(admin),
        )
        .await;
    data["organization"]["webhooks"][0]["deliveries"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn only_admins_register_webhooks_and_never_at_private_addresses() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let input = |url: &str| json!({ "input": { "url": url, "events": ["AGENDA_ITEM_ADDED"] } });
    for url in [
        "http://127.0.0.1:9/hook",
        "http://10.0.0.1/hook",
        "http://[::1]/hook",
        "http://localhost/hook",
        "ftp://example.com/x",
        "not a url",
    ] {
        let body = app
            .graphql(CREATE, input(url), Some(&pair.admin.access_token))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{url}: {body}");
    }
    let body = app
        .graphql(
            CREATE,
            input("https://example.com/hook"),
            Some(&pair.manager.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"));
    let data = app
        .ok(
            "{ organization { webhooks { id } } }",
            json!({}),
            Some(&pair.admin.access_token),
        )
        .await;
    assert_eq!(data["organization"]["webhooks"], json!([]));
}

/// What `createWebhook` and a refused delivery say about such a target.
const NOT_GLOBAL: &str = "url points at a private or special-purpose address";

#[tokio::test]
async fn no_webhook_targets_a_special_purpose_address() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let input = |url: &str| json!({ "input": { "url": url, "events": ["AGENDA_ITEM_ADDED"] } });
    for url in [
        // What the auditors found accepted.
        "http://[::127.0.0.1]:1/",
        "http://[64:ff9b::7f00:1]:1/",
        "http://[2002:7f00:1::]:1/",
        "http://[fec0::1]/",
        "http://198.18.0.1/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        // Their neighbours, and loopback in the spellings a URL parser normalises.
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
        "http://[2001:db8::1]/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
        "http://[ff02::1]/",
        "http://100.64.0.1/",
        "http://192.0.0.1/",
        "http://255.255.255.255/",
        "http://0/",
        "http://2130706433/",
        "http://0x7f.1/",
        // A name that resolves to loopback.
        "http://localhost:1/",
    ] {
        let body = app
            .graphql(CREATE, input(url), Some(&pair.admin.access_token))
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{url}: {body}");
        assert_eq!(body["errors"][0]["message"], NOT_GLOBAL, "{url}: {body}");
    }
    // Public IP literals are accepted without any lookup.
    for url in [
        "http://93.184.216.34/hook",
        "https://[2606:4700::1111]/hook",
    ] {
        let data = app
            .ok(CREATE, input(url), Some(&pair.admin.access_token))
            .await;
        assert_eq!(data["createWebhook"]["webhook"]["url"], url);
    }
}

#[tokio::test]
async fn a_target_that_no_longer_passes_is_never_sent_to() {
    // Registered while private targets were allowed; delivered by an instance that refuses them.
    let mut app = spawn_app_with(|config| config.webhook_allow_private = true).await;
    let pair = pair(&app).await;
    let receiver = Receiver::start(&[]).await;
    // An IP literal (checked before sending) and a name (checked by the resolver reqwest uses).
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    for url in [receiver.url.as_str(), by_name.as_str()] {
        app.ok(
            CREATE,
            json!({ "input": { "url": url, "events": ["AGENDA_ITEM_ADDED"] } }),
            Some(&pair.admin.access_token),
        )
        .await;
    }
    let strict = app
        .spawn_sibling_with(|config| config.webhook_allow_private = false)
        .await;
    app.stop().await.expect("the permissive server stops");

    let meeting = schedule(&strict, &pair.manager, &pair.series, day(1)).await;
    add_item(&strict, &pair.report, &meeting, "Topic").await;

    let query = "{ organization { webhooks { url deliveries { status attempts lastStatusCode lastError } } } }";
    let deadline = Instant::now() + Duration::from_secs(10);
    let hooks = loop {
        let data = strict
            .ok(query, json!({}), Some(&pair.admin.access_token))
            .await;
        let hooks = data["organization"]["webhooks"]
            .as_array()
            .cloned()
            .unwrap();
        let attempted = hooks.iter().all(|hook| {
            hook["deliveries"]
                .as_array()
                .is_some_and(|log| log.iter().any(|d| d["attempts"].as_i64() > Some(0)))
        });
        if attempted || Instant::now() > deadline {
            break hooks;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(hooks.len(), 2, "{hooks:?}");
    for hook in &hooks {
        let log = hook["deliveries"].as_array().unwrap();
        assert_eq!(log.len(), 1, "{hook}");
        assert!(log[0]["attempts"].as_i64() >= Some(1), "{hook}");
        assert_eq!(log[0]["status"], "PENDING", "retried later: {hook}");
        assert_eq!(log[0]["lastStatusCode"], Value::Null, "{hook}");
        assert_eq!(log[0]["lastError"], NOT_GLOBAL, "{hook}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.received().is_empty(), "{:?}", receiver.received());
}

#[tokio::test]
async fn events_are_posted_signed_with_ids_only() {
    let app = spawn_app_with(|config| config.webhook_allow_private = true).await;
    let pair = pair(&app).await;
    let receiver = Receiver::start(&[]).await;
    let created = app
        .ok(CREATE, json!({ "input": { "url": receiver.url, "events": ["AGENDA_ITEM_ADDED", "NOTE_CREATED"] } }), Some(&pair.admin.access_token))
        .await;
    let secret = created["createWebhook"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let meeting = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    let item = add_item(&app, &pair.report, &meeting, "Secret agenda title").await;
    create_note(
        &app,
        &pair.report,
        &meeting,
        "PRIVATE",
        "Secret private body",
    )
    .await;
    create_note(&app, &pair.report, &meeting, "SHARED", "Secret shared body").await;

    let received = receiver.wait_for(2, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let received = if received.len() < 2 {
        received
    } else {
        receiver.received()
    };
    // The agenda item and the shared note; never the private note; never MEETING_UPDATED.
    assert_eq!(received.len(), 2, "{received:?}");
    for request in &received {
        verify(&secret, request);
        assert!(request.header("x-tete-delivery").is_some());
        assert!(
            !request.body.contains("Secret"),
            "content in a webhook body: {}",
            request.body
        );
    }
    let first: Value = serde_json::from_str(&received[0].body).unwrap();
    assert_eq!(
        received[0].header("x-tete-event"),
        Some("AGENDA_ITEM_ADDED")
    );
    assert_eq!(first["agendaItemId"], item.as_str());
    assert_eq!(first["meetingId"], meeting.as_str());
    assert_eq!(received[1].header("x-tete-event"), Some("NOTE_CREATED"));

    let log = deliveries(&app, &pair.admin.access_token).await;
    assert!(
        log.iter()
            .all(|d| d["status"] == "DELIVERED" && d["lastStatusCode"] == 200),
        "{log:?}"
    );
    let actions = app
        .ok(
            "{ organization { auditLog(first: 100) { edges { node { action } } } } }",
            json!({}),
            Some(&pair.admin.access_token),
        )
        .await;
    assert!(actions.to_string().contains("WEBHOOK_CREATED"));
}

#[tokio::test]
async fn a_failed_delivery_is_retried_and_survives_a_restart() {
    let app = spawn_app_with(|config| config.webhook_allow_private = true).await;
    let pair = pair(&app).await;
    // Fails twice, then accepts.
    let receiver = Receiver::start(&[500, 503]).await;
    app.ok(
        CREATE,
        json!({ "input": { "url": receiver.url, "events": ["AGENDA_ITEM_ADDED"] } }),
        Some(&pair.admin.access_token),
    )
    .await;
    let meeting = schedule(&app, &pair.manager, &pair.series, day(1)).await;
    add_item(&app, &pair.report, &meeting, "Topic").await;

    // The first attempt fails; the retry comes after the backoff (2 s).
    let first = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(first.len(), 1);
    let log = deliveries(&app, &pair.admin.access_token).await;
    assert_eq!(log[0]["status"], "PENDING", "{log:?}");

    // Restart: this server stops, another one on the same database takes over the queue.
    let sibling = app.spawn_sibling().await;
    drop(app);
    let all = receiver.wait_for(3, Duration::from_secs(20)).await;
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(
        all.iter().all(|r| r.body == all[0].body),
        "a retry sends the same body"
    );
    let log = deliveries(&sibling, &pair.admin.access_token).await;
    assert_eq!(log[0]["status"], "DELIVERED", "{log:?}");
    assert_eq!(log[0]["attempts"], 3);

    // Deleting the webhook stops deliveries.
    let data = sibling
        .ok(
            "{ organization { webhooks { id } } }",
            json!({}),
            Some(&pair.admin.access_token),
        )
        .await;
    let id = data["organization"]["webhooks"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    mutate(
        &sibling,
        &pair.admin,
        "deleteWebhook",
        "DeleteWebhookInput",
        json!({ "webhookId": id }),
        "deletedWebhookId",
    )
    .await;
    add_item(&sibling, &pair.report, &meeting, "After deletion").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(receiver.received().len(), 3);
}

#[tokio::test]
async fn no_api_token_may_register_a_webhook() {
    let app = spawn_app().await;
    let pair = pair(&app).await;
    let token = mutate(
        &app,
        &pair.admin,
        "createApiToken",
        "CreateApiTokenInput",
        json!({ "name": "All", "scopes": ["MEETINGS_READ", "AGENDA_WRITE", "NOTES_READ", "NOTES_WRITE", "ACTION_ITEMS_WRITE"] }),
        "token",
    )
    .await;
    let body = app
        .graphql(
            CREATE,
            json!({ "input": { "url": "https://example.com/hook", "events": ["AGENDA_ITEM_ADDED"] } }),
            token["token"].as_str(),
        )
        .await;
    assert_eq!(error_code(&body), Some("FORBIDDEN"), "{body}");
}
