//! Webhooks: admins register endpoints for chosen meeting event kinds. Each event queues a
//! delivery in the transaction that made it (so deliveries survive restarts and a rolled-back
//! change sends nothing); a worker POSTs them, signed with HMAC-SHA256, retrying with
//! exponential backoff. Bodies carry ids and metadata only, and events about private notes or
//! private check-ins are never sent. Targets that are not globally reachable (loopback, private,
//! special-purpose: see [`crate::outbound`]) are refused (SSRF) unless
//! `TETE_WEBHOOK_ALLOW_PRIVATE` is set: at creation, and at every delivery on the address
//! actually connected to.

use std::{error::Error, net::IpAddr, sync::Arc, time::Duration as StdDuration};

use chrono::{Duration, Utc};
use entity::{meeting, meeting_event, one_on_one, webhook, webhook_delivery};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, sea_query::Expr,
};
use secrecy::SecretBox;
use serde_json::json;
use sha2::Sha256;
use uuid::Uuid;

use super::{
    audit::{self, Action, Entry},
    crypto,
};
use crate::{
    auth::Viewer,
    db::begin_write,
    error::{AppError, AppResult},
    ids::{self, NodeKind},
    outbound::{self, GlobalOnly, Refused},
};

const MAX_ATTEMPTS: i32 = 8;
const MAX_BACKOFF_SECS: i64 = 3_600;
const REQUEST_TIMEOUT: StdDuration = StdDuration::from_secs(5);
/// How long a worker holds a claimed delivery before another may retry it.
const LEASE: Duration = Duration::seconds(60);
const POLL: StdDuration = StdDuration::from_millis(250);

pub const PENDING: &str = "PENDING";
pub const DELIVERED: &str = "DELIVERED";
pub const FAILED: &str = "FAILED";

/// Checks a target URL's form and, unless `allow_private`, an IP-literal host: reqwest connects
/// to those without asking its resolver. Names are checked by resolving them: at creation
/// ([`check_target`]) and, as it connects, by the worker's [`GlobalOnly`] resolver.
fn parse_target(url: &str, allow_private: bool) -> AppResult<reqwest::Url> {
    let parsed =
        reqwest::Url::parse(url).map_err(|_| AppError::bad_input("url is not a valid URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(AppError::bad_input("url must be http or https"));
    }
    if parsed.host_str().is_none() {
        return Err(AppError::bad_input("url has no host"));
    }
    if !allow_private && ip_literal(&parsed).is_some_and(|ip| !outbound::is_global(ip)) {
        return Err(AppError::bad_input(Refused::NotGlobal.to_string()));
    }
    Ok(parsed)
}

/// The URL's host, when it is an IP address (the URL parser has normalised `0x7f.1` and the
/// like to `127.0.0.1`).
fn ip_literal(url: &reqwest::Url) -> Option<IpAddr> {
    url.host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// [`parse_target`], and (unless `allow_private`) a name must resolve, to global addresses
/// only, so an admin learns at once that a URL leads nowhere public.
async fn check_target(url: &str, allow_private: bool) -> AppResult<reqwest::Url> {
    let parsed = parse_target(url, allow_private)?;
    if !allow_private && ip_literal(&parsed).is_none() {
        let host = parsed.host_str().unwrap_or_default();
        let port = parsed.port_or_known_default().unwrap_or(443);
        outbound::resolve(host, port)
            .await
            .map_err(|refused| AppError::bad_input(refused.to_string()))?;
    }
    Ok(parsed)
}

/// Admin: registers a webhook; returns it with its signing secret (shown once).
pub async fn create(
    db: &DatabaseConnection,
    data_key: &SecretBox<[u8; 32]>,
    viewer: &Viewer,
    url: &str,
    events: &[meeting_event::MeetingEventKind],
    allow_private: bool,
) -> AppResult<(webhook::Model, String)> {
    viewer.require_admin()?;
    if url.chars().count() > 2_000 {
        return Err(AppError::bad_input("url is too long"));
    }
    check_target(url, allow_private).await?;
    if events.is_empty() {
        return Err(AppError::bad_input("choose at least one event"));
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    let id = Uuid::now_v7();
    let kinds: Vec<String> = events.iter().map(sea_orm::ActiveEnum::to_value).collect();
    let tx = begin_write(db).await?;
    let hook = webhook::ActiveModel {
        id: Set(id),
        organization_id: Set(viewer.organization_id()),
        url: Set(url.to_owned()),
        events: Set(kinds.join(",")),
        sealed_secret: Set(crypto::seal(data_key, id, &secret)?),
        created_by_id: Set(viewer.id()),
        created_at: Set(Utc::now()),
    }
    .insert(&tx)
    .await?;
    audit::record(
        &tx,
        Entry::by(viewer, Action::WebhookCreated).detail(url.to_owned()),
    )
    .await?;
    tx.commit().await?;
    Ok((hook, secret))
}

/// Admin: removes a webhook of the organisation, with its queue.
pub async fn delete(db: &DatabaseConnection, viewer: &Viewer, id: Uuid) -> AppResult<()> {
    viewer.require_admin()?;
    let tx = begin_write(db).await?;
    let hook = find(&tx, viewer, id).await?;
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::WebhookId.eq(id))
        .exec(&tx)
        .await?;
    webhook::Entity::delete_by_id(id).exec(&tx).await?;
    audit::record(
        &tx,
        Entry::by(viewer, Action::WebhookDeleted).detail(hook.url),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Admin: one of the organisation's webhooks.
pub async fn find(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<webhook::Model> {
    viewer.require_admin()?;
    webhook::Entity::find_by_id(id)
        .filter(webhook::Column::OrganizationId.eq(viewer.organization_id()))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// Admin: the organisation's webhooks.
pub async fn list(db: &DatabaseConnection, viewer: &Viewer) -> AppResult<Vec<webhook::Model>> {
    viewer.require_admin()?;
    Ok(webhook::Entity::find()
        .filter(webhook::Column::OrganizationId.eq(viewer.organization_id()))
        .order_by_asc(webhook::Column::Id)
        .all(db)
        .await?)
}

/// A webhook's most recent deliveries.
pub async fn deliveries(
    db: &DatabaseConnection,
    webhook_id: Uuid,
    limit: u64,
) -> AppResult<Vec<webhook_delivery::Model>> {
    Ok(webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::WebhookId.eq(webhook_id))
        .order_by_desc(webhook_delivery::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Queues a delivery of `event` to every webhook of its organisation that wants its kind.
/// Runs inside the transaction that recorded the event.
pub async fn enqueue(conn: &impl ConnectionTrait, event: &meeting_event::Model) -> AppResult<()> {
    if event.private_to.is_some() {
        return Ok(());
    }
    let Some((meeting, Some(series))) = meeting::Entity::find_by_id(event.meeting_id)
        .find_also_related(one_on_one::Entity)
        .one(conn)
        .await?
    else {
        return Ok(());
    };
    let kind = sea_orm::ActiveEnum::to_value(&event.kind);
    let hooks: Vec<webhook::Model> = webhook::Entity::find()
        .filter(webhook::Column::OrganizationId.eq(series.organization_id))
        .all(conn)
        .await?
        .into_iter()
        .filter(|hook| hook.events.split(',').any(|wanted| wanted == kind))
        .collect();
    let id = |node, uuid: Option<Uuid>| uuid.map(|uuid| ids::encode(node, uuid).0);
    let now = Utc::now();
    for hook in hooks {
        let delivery_id = Uuid::now_v7();
        let body = json!({
            "deliveryId": delivery_id,
            "event": kind,
            // Counts shared events only, like everything a webhook receives.
            "sequence": event.shared_sequence,
            "occurredAt": event.occurred_at,
            "organizationId": ids::encode(NodeKind::Organization, series.organization_id).0,
            "oneOnOneId": ids::encode(NodeKind::OneOnOne, series.id).0,
            "meetingId": ids::encode(NodeKind::Meeting, meeting.id).0,
            "meetingStatus": sea_orm::ActiveEnum::to_value(&meeting.status),
            "scheduledAt": meeting.scheduled_at,
            "actorId": id(NodeKind::User, event.actor_id),
            "agendaItemId": id(NodeKind::AgendaItem, event.agenda_item_id),
            "noteId": id(NodeKind::Note, event.note_id),
            "actionItemId": id(NodeKind::ActionItem, event.action_item_id),
            "participantId": id(NodeKind::User, event.participant_id),
            "removedId": event.removed_id,
        });
        webhook_delivery::ActiveModel {
            id: Set(delivery_id),
            webhook_id: Set(hook.id),
            event: Set(kind.clone()),
            body: Set(body.to_string()),
            status: Set(PENDING.into()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            last_status_code: Set(None),
            last_error: Set(None),
            delivered_at: Set(None),
            created_at: Set(now),
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// The `X-Tete-Signature` value: `sha256=` and the hex HMAC-SHA256 of the body.
pub fn signature(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Delivers due webhook calls for as long as the process runs.
pub async fn run_worker(
    db: DatabaseConnection,
    data_key: Arc<SecretBox<[u8; 32]>>,
    allow_private: bool,
) {
    // No proxy: the address the resolver checked must be the one connected to.
    let builder = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    let builder = if allow_private {
        builder
    } else {
        builder.dns_resolver(Arc::new(GlobalOnly))
    };
    let client = match builder.build() {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "webhook worker cannot start");
            return;
        }
    };
    loop {
        match deliver_due(&db, &data_key, &client, allow_private).await {
            Ok(0) => tokio::time::sleep(POLL).await,
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(error = ?error, "webhook deliveries failed");
                tokio::time::sleep(POLL * 4).await;
            }
        }
    }
}

/// Claims and sends the deliveries that are due; returns how many it handled.
async fn deliver_due(
    db: &DatabaseConnection,
    data_key: &SecretBox<[u8; 32]>,
    client: &reqwest::Client,
    allow_private: bool,
) -> AppResult<usize> {
    let now = Utc::now();
    let due = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Status.eq(PENDING))
        .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
        .order_by_asc(webhook_delivery::Column::NextAttemptAt)
        .limit(20)
        .all(db)
        .await?;
    let mut handled = 0;
    for delivery in due {
        // Claim it with a lease, so another instance does not send it at the same time.
        let claimed = webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::NextAttemptAt,
                Expr::value(now + LEASE),
            )
            .filter(webhook_delivery::Column::Id.eq(delivery.id))
            .filter(webhook_delivery::Column::NextAttemptAt.eq(delivery.next_attempt_at))
            .exec(db)
            .await?;
        if claimed.rows_affected == 0 {
            continue;
        }
        handled += 1;
        let Some(hook) = webhook::Entity::find_by_id(delivery.webhook_id)
            .one(db)
            .await?
        else {
            continue;
        };
        let outcome = send(data_key, client, &hook, &delivery, allow_private).await;
        record_attempt(db, &delivery, outcome).await?;
    }
    Ok(handled)
}

/// The HTTP status, or why no status came back.
async fn send(
    data_key: &SecretBox<[u8; 32]>,
    client: &reqwest::Client,
    hook: &webhook::Model,
    delivery: &webhook_delivery::Model,
    allow_private: bool,
) -> Result<u16, String> {
    let url = parse_target(&hook.url, allow_private).map_err(|error| error.public_message())?;
    let secret = crypto::open(data_key, hook.id, &hook.sealed_secret)
        .map_err(|_| "secret unreadable".to_owned())?;
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-tete-signature", signature(&secret, &delivery.body))
        .header("x-tete-event", &delivery.event)
        .header("x-tete-delivery", delivery.id.to_string())
        .body(delivery.body.clone())
        .send()
        .await
        .map_err(|error| {
            let refused =
                std::iter::successors(Some(&error as &dyn Error), |&error| error.source())
                    .find_map(|error| error.downcast_ref::<Refused>());
            match refused {
                Some(refused) => refused.to_string(),
                None if error.is_timeout() => "timed out".to_owned(),
                None => "connection failed".to_owned(),
            }
        })?;
    Ok(response.status().as_u16())
}

async fn record_attempt(
    db: &DatabaseConnection,
    delivery: &webhook_delivery::Model,
    outcome: Result<u16, String>,
) -> AppResult<()> {
    let now = Utc::now();
    let attempts = delivery.attempts + 1;
    let mut update: webhook_delivery::ActiveModel = delivery.clone().into();
    update.attempts = Set(attempts);
    match &outcome {
        Ok(status) if (200..300).contains(status) => {
            update.status = Set(DELIVERED.into());
            update.delivered_at = Set(Some(now));
            update.last_status_code = Set(Some(i32::from(*status)));
            update.last_error = Set(None);
        }
        failure => {
            let (code, error) = match failure {
                Ok(status) => (Some(i32::from(*status)), format!("HTTP {status}")),
                Err(reason) => (None, reason.clone()),
            };
            update.last_status_code = Set(code);
            update.last_error = Set(Some(error));
            if attempts >= MAX_ATTEMPTS {
                update.status = Set(FAILED.into());
            } else {
                let backoff = (1_i64 << attempts.min(12)).min(MAX_BACKOFF_SECS);
                update.next_attempt_at = Set(now + Duration::seconds(backoff));
            }
        }
    }
    update.update(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hex_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
