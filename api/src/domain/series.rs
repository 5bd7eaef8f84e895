//! 1:1 series: one per reporting line, archived when the line ends.

use chrono::Utc;
use entity::{
    enums::{Cadence, MeetingFormat, MeetingLead},
    one_on_one,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, Select, Set, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    access::{SeriesScope, visible_series},
    validate,
};
use crate::{auth::Viewer, db::begin_write, error::AppResult};

pub const DEFAULT_CADENCE: Cadence = Cadence::Weekly;
pub const DEFAULT_FORMAT: MeetingFormat = MeetingFormat::Video;
pub const DEFAULT_DURATION_MINUTES: i32 = 30;
/// The employee brings their topics first.
pub const DEFAULT_LEAD: MeetingLead = MeetingLead::Report;
pub const DURATION_RANGE: std::ops::RangeInclusive<i32> = 5..=480;

/// Starts the series of a new reporting line.
pub async fn start(
    conn: &impl ConnectionTrait,
    organization_id: Uuid,
    manager_id: Uuid,
    report_id: Uuid,
) -> AppResult<one_on_one::Model> {
    Ok(one_on_one::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(organization_id),
        manager_id: Set(manager_id),
        report_id: Set(report_id),
        cadence: Set(DEFAULT_CADENCE),
        default_format: Set(DEFAULT_FORMAT),
        default_duration_minutes: Set(DEFAULT_DURATION_MINUTES),
        lead: Set(DEFAULT_LEAD),
        archived_at: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await?)
}

/// Archives the active series in which `user_id` is the report (their reporting line ended).
pub async fn archive_as_report(conn: &impl ConnectionTrait, user_id: Uuid) -> AppResult<()> {
    archive(
        conn,
        Condition::all().add(one_on_one::Column::ReportId.eq(user_id)),
    )
    .await
}

/// Archives every active series of `user_id`, on either side (they were deactivated).
pub async fn archive_all(conn: &impl ConnectionTrait, user_id: Uuid) -> AppResult<()> {
    archive(
        conn,
        Condition::any()
            .add(one_on_one::Column::ReportId.eq(user_id))
            .add(one_on_one::Column::ManagerId.eq(user_id)),
    )
    .await
}

async fn archive(conn: &impl ConnectionTrait, which: Condition) -> AppResult<()> {
    one_on_one::Entity::update_many()
        .col_expr(one_on_one::Column::ArchivedAt, Expr::value(Utc::now()))
        .filter(which)
        .filter(one_on_one::Column::ArchivedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// A series the viewer may see, with what they may do with it; `NotFound` otherwise.
pub async fn find(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<SeriesScope> {
    let series = one_on_one::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(crate::error::AppError::NotFound)?;
    SeriesScope::new(viewer, series)
}

/// The series of `user_id` that the viewer may see, archived ones only when asked.
pub fn of_user(
    viewer: &Viewer,
    user_id: Uuid,
    include_archived: bool,
) -> Select<one_on_one::Entity> {
    let mut select = one_on_one::Entity::find()
        .filter(visible_series(viewer))
        .filter(
            Condition::any()
                .add(one_on_one::Column::ManagerId.eq(user_id))
                .add(one_on_one::Column::ReportId.eq(user_id)),
        );
    if !include_archived {
        select = select.filter(one_on_one::Column::ArchivedAt.is_null());
    }
    select
}

/// What `updateOneOnOne` may change; `None` leaves a field as it is.
#[derive(Default)]
pub struct SeriesChanges {
    pub cadence: Option<Cadence>,
    pub default_format: Option<MeetingFormat>,
    pub default_duration_minutes: Option<i32>,
    pub lead: Option<MeetingLead>,
}

pub async fn update(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: Uuid,
    changes: SeriesChanges,
) -> AppResult<one_on_one::Model> {
    viewer.require_session()?;
    if let Some(minutes) = changes.default_duration_minutes {
        validate::in_range(minutes, "defaultDurationMinutes", DURATION_RANGE)?;
    }
    let tx = begin_write(db).await?;
    let scope = find(&tx, viewer, id).await?;
    scope.access.write()?;
    let mut series = scope.series.into_active_model();
    if let Some(cadence) = changes.cadence {
        series.cadence = Set(cadence);
    }
    if let Some(format) = changes.default_format {
        series.default_format = Set(format);
    }
    if let Some(minutes) = changes.default_duration_minutes {
        series.default_duration_minutes = Set(minutes);
    }
    if let Some(lead) = changes.lead {
        series.lead = Set(lead);
    }
    let series = series.update(&tx).await?;
    tx.commit().await?;
    Ok(series)
}
