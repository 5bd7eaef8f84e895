//! Organisation insights for admins, computed with SQL aggregates (one row per series at most,
//! never the meetings or items themselves) and carrying no content: counts, shares and ids.

use chrono::{DateTime, Duration, Utc};
use entity::{
    action_item, agenda_item, check_in,
    enums::{Cadence, MeetingStatus, TopicCategory},
    meeting, one_on_one,
};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, JoinType, QueryFilter, QuerySelect,
    QueryTrait, RelationTrait,
    sea_query::{Expr, ExprTrait, Func},
};
use uuid::Uuid;

use super::validate;
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
};

/// Below this many respondents, well-being is not shown, so nobody can be singled out.
pub const MIN_RESPONDENTS: i64 = 5;
const DEFAULT_WINDOW: Duration = Duration::days(90);

/// An active series and when it last had a completed meeting.
pub struct SeriesCadence {
    pub series_id: Uuid,
    pub cadence: Cadence,
    pub last_met: Option<DateTime<Utc>>,
}

impl SeriesCadence {
    /// A series is on cadence when it met within its cadence plus half a cadence.
    pub fn is_on_cadence(&self, now: DateTime<Utc>) -> bool {
        self.last_met
            .is_some_and(|last| now - last <= grace_window(self.cadence))
    }
}

pub fn grace_window(cadence: Cadence) -> Duration {
    let days = match cadence {
        Cadence::Weekly => 7,
        Cadence::Biweekly => 14,
        Cadence::Monthly => 30,
    };
    Duration::hours(days * 24 * 3 / 2)
}

pub struct Insights {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub series: Vec<SeriesCadence>,
    pub meetings_held: i64,
    pub action_items: (i64, i64),
    pub agenda_by_author: (i64, i64),
    pub topic_counts: Vec<(TopicCategory, i64)>,
    pub wellbeing: Option<(i64, f64)>,
}

impl Insights {
    pub fn cadence_adherence(&self) -> f64 {
        if self.series.is_empty() {
            return 0.0;
        }
        let on = self
            .series
            .iter()
            .filter(|s| s.is_on_cadence(self.to))
            .count();
        on as f64 / self.series.len() as f64
    }
}

fn share(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl Insights {
    pub fn action_item_completion_rate(&self) -> Option<f64> {
        share(self.action_items.0, self.action_items.1)
    }

    pub fn report_driven_share(&self) -> Option<f64> {
        share(self.agenda_by_author.0, self.agenda_by_author.1)
    }

    pub fn topic_mix(&self) -> Vec<(TopicCategory, f64)> {
        let total: i64 = self.topic_counts.iter().map(|(_, count)| count).sum();
        self.topic_counts
            .iter()
            .filter_map(|(category, count)| Some((*category, share(*count, total)?)))
            .collect()
    }
}

/// Admin: the organisation's insights over `[from, to]` (default: the last 90 days).
pub async fn compute(
    db: &DatabaseConnection,
    viewer: &Viewer,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> AppResult<Insights> {
    viewer.require_admin()?;
    let to = to.map(|to| validate::instant(to, "to")).transpose()?;
    let from = from
        .map(|from| validate::instant(from, "from"))
        .transpose()?;
    let to = to.unwrap_or_else(Utc::now);
    let from = from.unwrap_or(to - DEFAULT_WINDOW);
    if from > to {
        return Err(AppError::bad_input("from must not be after to"));
    }
    let org = viewer.organization_id();
    let org_series = one_on_one::Entity::find()
        .select_only()
        .column(one_on_one::Column::Id)
        .filter(one_on_one::Column::OrganizationId.eq(org))
        .into_query();

    let series: Vec<(Uuid, Cadence, Option<DateTime<Utc>>)> = one_on_one::Entity::find()
        .select_only()
        .column(one_on_one::Column::Id)
        .column(one_on_one::Column::Cadence)
        .column_as(meeting::Column::EndedAt.max(), "last_met")
        .join_rev(
            JoinType::LeftJoin,
            meeting::Relation::OneOnOne.def().on_condition(move |_, _| {
                Expr::col((meeting::Entity, meeting::Column::Status))
                    .eq(MeetingStatus::Completed)
                    .and(Expr::col((meeting::Entity, meeting::Column::EndedAt)).lte(to))
                    .into()
            }),
        )
        .filter(one_on_one::Column::OrganizationId.eq(org))
        .filter(one_on_one::Column::ArchivedAt.is_null())
        .group_by(one_on_one::Column::Id)
        .group_by(one_on_one::Column::Cadence)
        .into_tuple()
        .all(db)
        .await?;

    let in_window = |column: meeting::Column| column.between(from, to);
    let meetings_held: i64 = meeting::Entity::find()
        .select_only()
        .column_as(meeting::Column::Id.count(), "n")
        .filter(meeting::Column::OneOnOneId.in_subquery(org_series.clone()))
        .filter(meeting::Column::Status.eq(MeetingStatus::Completed))
        .filter(in_window(meeting::Column::EndedAt))
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or(0);

    let action_items: (i64, i64) = action_item::Entity::find()
        .select_only()
        .column_as(action_item::Column::CompletedAt.count(), "done")
        .column_as(action_item::Column::Id.count(), "all")
        .filter(action_item::Column::OneOnOneId.in_subquery(org_series.clone()))
        .filter(action_item::Column::CreatedAt.between(from, to))
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or((0, 0));

    // Agenda items people brought (carried-over copies are not brought twice).
    let agenda_in_window = Condition::all()
        .add(agenda_item::Column::CreatedAt.between(from, to))
        .add(agenda_item::Column::CarriedOverFromId.is_null());
    let by_report = Expr::col((one_on_one::Entity, one_on_one::Column::ReportId))
        .equals((agenda_item::Entity, agenda_item::Column::AuthorId));
    let agenda_by_author: (i64, i64) = agenda_item::Entity::find()
        .select_only()
        .column_as(
            Expr::from(Func::sum(Expr::case(by_report, 1).finally(0))),
            "by_report",
        )
        .column_as(agenda_item::Column::Id.count(), "all")
        .join(JoinType::InnerJoin, agenda_item::Relation::Meeting.def())
        .join(JoinType::InnerJoin, meeting::Relation::OneOnOne.def())
        .filter(one_on_one::Column::OrganizationId.eq(org))
        .filter(agenda_in_window.clone())
        .into_tuple::<(Option<i64>, i64)>()
        .one(db)
        .await?
        .map_or((0, 0), |(by_report, all)| (by_report.unwrap_or(0), all));

    let topic_counts: Vec<(TopicCategory, i64)> = agenda_item::Entity::find()
        .select_only()
        .column(agenda_item::Column::Category)
        .column_as(agenda_item::Column::Id.count(), "n")
        .join(JoinType::InnerJoin, agenda_item::Relation::Meeting.def())
        .join(JoinType::InnerJoin, meeting::Relation::OneOnOne.def())
        .filter(one_on_one::Column::OrganizationId.eq(org))
        .filter(agenda_in_window)
        .group_by(agenda_item::Column::Category)
        .into_tuple()
        .all(db)
        .await?;

    // Only check-ins shared with the manager: a private one is its author's alone, even averaged.
    let (respondents, average): (i64, Option<f64>) = check_in::Entity::find()
        .select_only()
        .column_as(
            Expr::from(Func::count_distinct(Expr::col(check_in::Column::AuthorId))),
            "respondents",
        )
        .column_as(
            Expr::from(Func::avg(Expr::col(check_in::Column::Mood).cast_as("REAL"))),
            "average",
        )
        .join(JoinType::InnerJoin, check_in::Relation::Meeting.def())
        .filter(meeting::Column::OneOnOneId.in_subquery(org_series))
        .filter(check_in::Column::SharedWithManager.eq(true))
        .filter(check_in::Column::CreatedAt.between(from, to))
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or((0, None));
    let wellbeing = match average {
        Some(average) if respondents >= MIN_RESPONDENTS => Some((respondents, average)),
        _ => None,
    };

    Ok(Insights {
        from,
        to,
        series: series
            .into_iter()
            .map(|(series_id, cadence, last_met)| SeriesCadence {
                series_id,
                cadence,
                last_met,
            })
            .collect(),
        meetings_held,
        action_items,
        agenda_by_author,
        topic_counts,
        wellbeing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_cadence_means_within_one_and_a_half_cadences() {
        let now = Utc::now();
        let series = |cadence, days: Option<i64>| SeriesCadence {
            series_id: Uuid::now_v7(),
            cadence,
            last_met: days.map(|days| now - Duration::days(days)),
        };
        assert!(series(Cadence::Weekly, Some(10)).is_on_cadence(now));
        assert!(!series(Cadence::Weekly, Some(11)).is_on_cadence(now));
        assert!(series(Cadence::Biweekly, Some(21)).is_on_cadence(now));
        assert!(!series(Cadence::Monthly, Some(46)).is_on_cadence(now));
        assert!(!series(Cadence::Monthly, None).is_on_cadence(now));
    }
}
