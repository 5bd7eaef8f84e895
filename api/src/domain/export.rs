//! Self-service export: everything the viewer may read, as one JSON document. The same rules as
//! every other path decide what goes in (private notes and check-ins of others never do), and
//! each series exported appears in its participants' access logs.

use entity::{action_item, agenda_item, check_in, meeting, note, one_on_one, organization};
use sea_orm::{ActiveEnum, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use secrecy::SecretBox;
use serde_json::{Value, json};

use super::{
    access::participant_series,
    access_log::{ReadRecorder, Via},
    audit::{self, Action, Entry},
    check_ins, notes,
};
use crate::{
    auth::Viewer,
    db::begin_write,
    error::{AppError, AppResult},
    ids::{self, NodeKind},
};

pub async fn export(
    db: &DatabaseConnection,
    data_key: &SecretBox<[u8; 32]>,
    viewer: &Viewer,
) -> AppResult<Value> {
    viewer.require_session()?;
    let organization = organization::Entity::find_by_id(viewer.organization_id())
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let series = one_on_one::Entity::find()
        .filter(participant_series(viewer))
        .order_by_asc(one_on_one::Column::Id)
        .all(db)
        .await?;
    let series_ids: Vec<_> = series.iter().map(|s| s.id).collect();
    let meetings = meeting::Entity::find()
        .filter(meeting::Column::OneOnOneId.is_in(series_ids.clone()))
        .order_by_asc(meeting::Column::ScheduledAt)
        .all(db)
        .await?;
    let meeting_ids: Vec<_> = meetings.iter().map(|m| m.id).collect();
    let agenda = agenda_item::Entity::find()
        .filter(agenda_item::Column::MeetingId.is_in(meeting_ids.clone()))
        .order_by_asc(agenda_item::Column::Position)
        .all(db)
        .await?;
    let notes = note::Entity::find()
        .filter(note::Column::MeetingId.is_in(meeting_ids.clone()))
        .filter(notes::readable_by(viewer))
        .order_by_asc(note::Column::Id)
        .all(db)
        .await?;
    let check_ins = check_in::Entity::find()
        .filter(check_in::Column::MeetingId.is_in(meeting_ids))
        .filter(check_ins::readable_by(viewer))
        .order_by_asc(check_in::Column::Id)
        .all(db)
        .await?;
    let action_items = action_item::Entity::find()
        .filter(action_item::Column::OneOnOneId.is_in(series_ids))
        .order_by_asc(action_item::Column::Id)
        .all(db)
        .await?;

    let id = |kind, uuid| ids::encode(kind, uuid).0;
    let mut series_json = Vec::new();
    for one in &series {
        let mut meetings_json = Vec::new();
        for m in meetings.iter().filter(|m| m.one_on_one_id == one.id) {
            let mut notes_json = Vec::new();
            for n in notes.iter().filter(|n| n.meeting_id == m.id) {
                notes_json.push(json!({
                    "id": id(NodeKind::Note, n.id),
                    "authorId": id(NodeKind::User, n.author_id),
                    "visibility": n.visibility.to_value(),
                    "body": notes::body(data_key, n)?,
                    "version": n.version,
                    "updatedAt": n.updated_at,
                }));
            }
            meetings_json.push(json!({
                "id": id(NodeKind::Meeting, m.id),
                "scheduledAt": m.scheduled_at,
                "durationMinutes": m.duration_minutes,
                "location": m.location,
                "status": m.status.to_value(),
                "agenda": agenda.iter().filter(|a| a.meeting_id == m.id).map(|a| json!({
                    "id": id(NodeKind::AgendaItem, a.id),
                    "authorId": id(NodeKind::User, a.author_id),
                    "title": a.title,
                    "description": a.description,
                    "category": a.category.to_value(),
                    "discussedAt": a.discussed_at,
                })).collect::<Vec<_>>(),
                "notes": notes_json,
                "checkIns": check_ins.iter().filter(|c| c.meeting_id == m.id).map(|c| json!({
                    "id": id(NodeKind::CheckIn, c.id),
                    "authorId": id(NodeKind::User, c.author_id),
                    "mood": c.mood,
                    "comment": c.comment,
                    "sharedWithManager": c.shared_with_manager,
                })).collect::<Vec<_>>(),
            }));
        }
        series_json.push(json!({
            "id": id(NodeKind::OneOnOne, one.id),
            "managerId": id(NodeKind::User, one.manager_id),
            "reportId": id(NodeKind::User, one.report_id),
            "cadence": one.cadence.to_value(),
            "archivedAt": one.archived_at,
            "meetings": meetings_json,
            "actionItems": action_items.iter().filter(|a| a.one_on_one_id == one.id).map(|a| json!({
                "id": id(NodeKind::ActionItem, a.id),
                "title": a.title,
                "assigneeId": id(NodeKind::User, a.assignee_id),
                "dueOn": a.due_on,
                "completedAt": a.completed_at,
            })).collect::<Vec<_>>(),
        }));
    }

    let tx = begin_write(db).await?;
    let reads = ReadRecorder::default();
    for one in &series {
        reads.note(one.id, Via::Export);
    }
    reads.flush(&tx, viewer).await?;
    audit::record(&tx, Entry::by(viewer, Action::DataExported)).await?;
    tx.commit().await?;

    Ok(json!({
        "exportedAt": chrono::Utc::now(),
        "user": {
            "id": id(NodeKind::User, viewer.id()),
            "email": viewer.user.email,
            "displayName": viewer.user.display_name,
            "role": viewer.user.role.to_value(),
            "timeZone": viewer.user.time_zone,
        },
        "organization": { "id": id(NodeKind::Organization, organization.id), "name": organization.name },
        "oneOnOnes": series_json,
    }))
}
