//! The personal calendar feed: an unguessable URL serving the viewer's meetings as iCalendar
//! (RFC 5545) — time, duration, format, location and the other person's name, never agenda,
//! notes or check-ins. The URL carries the user's id and a MAC over it and a per-user salt, so
//! nothing secret is stored, and rotating the salt invalidates the old URL.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Duration;
use entity::{enums::MeetingStatus, meeting, one_on_one, user};
use hmac::{Hmac, Mac};
use icalendar::{Calendar, Component, Event, EventLike, EventStatus};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set, sea_query::Expr,
};
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;
use uuid::Uuid;

use super::access::participant_series;
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    ids::{self, NodeKind},
};

type HmacSha256 = Hmac<Sha256>;
const MAC_LEN: usize = 32;

fn mac(data_key: &SecretBox<[u8; 32]>, user_id: Uuid, salt: &str) -> HmacSha256 {
    // A key of its own for feeds, derived from the data key.
    let mut derive = HmacSha256::new_from_slice(data_key.expose_secret()).expect("any key length");
    derive.update(b"tete calendar feed v1");
    let key = derive.finalize().into_bytes();
    let mut mac = HmacSha256::new_from_slice(&key).expect("any key length");
    mac.update(user_id.as_bytes());
    mac.update(salt.as_bytes());
    mac
}

fn token(data_key: &SecretBox<[u8; 32]>, user_id: Uuid, salt: &str) -> String {
    let mut bytes = user_id.as_bytes().to_vec();
    bytes.extend_from_slice(&mac(data_key, user_id, salt).finalize().into_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

fn new_salt() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn url(base: &str, token: &str) -> String {
    format!("{}/calendar/{token}.ics", base.trim_end_matches('/'))
}

/// The viewer's feed URL, creating it on first use.
pub async fn feed_url(
    db: &DatabaseConnection,
    data_key: &SecretBox<[u8; 32]>,
    viewer: &Viewer,
    base: &str,
) -> AppResult<String> {
    viewer.require_session()?;
    let salt = match &viewer.user.calendar_feed_salt {
        Some(salt) => salt.clone(),
        None => first_salt(db, viewer).await?,
    };
    Ok(url(base, &token(data_key, viewer.id(), &salt)))
}

/// A new feed URL; the old one stops working.
pub async fn rotate(
    db: &DatabaseConnection,
    data_key: &SecretBox<[u8; 32]>,
    viewer: &Viewer,
    base: &str,
) -> AppResult<String> {
    viewer.require_session()?;
    let salt = set_salt(db, viewer).await?;
    Ok(url(base, &token(data_key, viewer.id(), &salt)))
}

/// Sets a salt unless one exists (two first requests racing get the same URL).
async fn first_salt(db: &DatabaseConnection, viewer: &Viewer) -> AppResult<String> {
    user::Entity::update_many()
        .col_expr(user::Column::CalendarFeedSalt, Expr::value(new_salt()))
        .filter(user::Column::Id.eq(viewer.id()))
        .filter(user::Column::CalendarFeedSalt.is_null())
        .exec(db)
        .await?;
    user::Entity::find_by_id(viewer.id())
        .one(db)
        .await?
        .and_then(|user| user.calendar_feed_salt)
        .ok_or(AppError::NotFound)
}

async fn set_salt(db: &DatabaseConnection, viewer: &Viewer) -> AppResult<String> {
    let salt = new_salt();
    let mut user = viewer.user.clone().into_active_model();
    user.calendar_feed_salt = Set(Some(salt.clone()));
    user.update(db).await?;
    Ok(salt)
}

/// The iCalendar text for a feed token, or `NotFound` for any token that is not current.
pub async fn feed(
    db: &DatabaseConnection,
    data_key: &SecretBox<[u8; 32]>,
    token: &str,
) -> AppResult<String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| AppError::NotFound)?;
    if bytes.len() != 16 + MAC_LEN {
        return Err(AppError::NotFound);
    }
    let (id, presented) = bytes.split_at(16);
    let user_id = Uuid::from_slice(id).map_err(|_| AppError::NotFound)?;
    let user = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .filter(user::Model::is_active)
        .ok_or(AppError::NotFound)?;
    let salt = user.calendar_feed_salt.clone().ok_or(AppError::NotFound)?;
    mac(data_key, user_id, &salt)
        .verify_slice(presented)
        .map_err(|_| AppError::NotFound)?;

    let viewer = Viewer::new(user);
    let series = one_on_one::Entity::find()
        .filter(participant_series(&viewer))
        .all(db)
        .await?;
    let others: Vec<Uuid> = series
        .iter()
        .map(|s| {
            if s.manager_id == user_id {
                s.report_id
            } else {
                s.manager_id
            }
        })
        .collect();
    let names: std::collections::HashMap<Uuid, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(others))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    let meetings = meeting::Entity::find()
        .filter(meeting::Column::OneOnOneId.is_in(series.iter().map(|s| s.id)))
        .order_by_asc(meeting::Column::ScheduledAt)
        .all(db)
        .await?;

    let mut calendar = Calendar::new();
    calendar.name("Tête-à-tête 1:1s");
    for meeting in meetings {
        let Some(one) = series.iter().find(|s| s.id == meeting.one_on_one_id) else {
            continue;
        };
        let other = if one.manager_id == user_id {
            one.report_id
        } else {
            one.manager_id
        };
        let with = names.get(&other).map_or("your 1:1", String::as_str);
        let mut event = Event::new();
        event
            .uid(&ids::encode(NodeKind::Meeting, meeting.id).0)
            .summary(&format!("1:1 with {with}"))
            .starts(meeting.scheduled_at)
            .ends(meeting.scheduled_at + Duration::minutes(meeting.duration_minutes.into()))
            .description(&format!("Format: {}", format_label(meeting.format)))
            .status(match meeting.status {
                MeetingStatus::Cancelled => EventStatus::Cancelled,
                _ => EventStatus::Confirmed,
            });
        if let Some(location) = &meeting.location {
            event.location(location);
        }
        calendar.push(event.done());
    }
    Ok(calendar.done().to_string())
}

fn format_label(format: entity::enums::MeetingFormat) -> &'static str {
    use entity::enums::MeetingFormat;
    match format {
        MeetingFormat::InPerson => "in person",
        MeetingFormat::Video => "video",
        MeetingFormat::Phone => "phone",
        MeetingFormat::WalkAndTalk => "walk and talk",
    }
}
