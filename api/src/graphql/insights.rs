//! `OrganizationInsights`: how 1:1s are going across the organisation, without any content.

use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject};
use entity::one_on_one;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{context::ContextExt, enums::TopicCategory, series::OneOnOne};
use crate::{
    domain::{access::SeriesScope, insights::Insights},
    error::AppResult,
};

pub struct OrganizationInsights(pub Insights);

/// One category's share of the agenda items brought in the period.
#[derive(SimpleObject)]
pub struct TopicShare {
    pub category: TopicCategory,
    /// 0 to 1.
    pub share: f64,
}

/// A series that has not met within its cadence plus half a cadence.
pub struct OverdueOneOnOne {
    one_on_one: OneOnOne,
    days_since_last_meeting: Option<i32>,
}

#[Object]
impl OverdueOneOnOne {
    async fn one_on_one(&self) -> &OneOnOne {
        &self.one_on_one
    }

    /// Null when the series never met.
    async fn days_since_last_meeting(&self) -> Option<i32> {
        self.days_since_last_meeting
    }
}

/// Mood across the organisation; only from check-ins shared with managers.
#[derive(SimpleObject)]
pub struct WellbeingAggregate {
    pub respondents: i32,
    pub average_mood: f64,
}

#[Object]
impl OrganizationInsights {
    /// Share of active series that met within their cadence plus half a cadence.
    async fn cadence_adherence(&self) -> f64 {
        self.0.cadence_adherence()
    }

    /// Meetings completed in the period.
    async fn meetings_held(&self) -> i32 {
        i32::try_from(self.0.meetings_held).unwrap_or(i32::MAX)
    }

    /// Share of the action items created in the period that are done; null when none were.
    async fn action_item_completion_rate(&self) -> Option<f64> {
        self.0.action_item_completion_rate()
    }

    /// Share of the agenda items brought in the period that the reports brought.
    async fn report_driven_share(&self) -> Option<f64> {
        self.0.report_driven_share()
    }

    /// What the agenda items of the period were about.
    async fn topic_mix(&self) -> Vec<TopicShare> {
        self.0
            .topic_mix()
            .into_iter()
            .map(|(category, share)| TopicShare {
                category: category.into(),
                share,
            })
            .collect()
    }

    /// Active series that are not meeting on cadence.
    async fn overdue_one_on_ones(&self, ctx: &Context<'_>) -> AppResult<Vec<OverdueOneOnOne>> {
        let viewer = ctx.viewer()?;
        let to = self.0.to;
        let overdue: Vec<_> = self
            .0
            .series
            .iter()
            .filter(|s| !s.is_on_cadence(to))
            .collect();
        let models = one_on_one::Entity::find()
            .filter(one_on_one::Column::Id.is_in(overdue.iter().map(|s| s.series_id)))
            .all(&ctx.state()?.store.db)
            .await?;
        let mut rows = Vec::with_capacity(models.len());
        for model in models {
            let last_met = overdue
                .iter()
                .find(|s| s.series_id == model.id)
                .and_then(|s| s.last_met);
            rows.push(OverdueOneOnOne {
                one_on_one: OneOnOne {
                    scope: Arc::new(SeriesScope::new(&viewer, model)?),
                },
                days_since_last_meeting: last_met
                    .map(|last| i32::try_from((to - last).num_days()).unwrap_or(i32::MAX)),
            });
        }
        Ok(rows)
    }

    /// Null under five respondents, so nobody can be singled out.
    async fn wellbeing(&self) -> Option<WellbeingAggregate> {
        self.0
            .wellbeing
            .map(|(respondents, average_mood)| WellbeingAggregate {
                respondents: i32::try_from(respondents).unwrap_or(i32::MAX),
                average_mood,
            })
    }
}
