//! The access rules of a 1:1 series, in one place. Everything inside a series (its meetings,
//! agenda, notes, action items, check-ins) is reached through a [`SeriesScope`] built here, and
//! every list is filtered by the SQL conditions built here.
//!
//! | viewer | series + meeting metadata | content | writes |
//! |---|---|---|---|
//! | a participant | yes | yes | until the series is archived |
//! | an admin of the organisation | yes | FORBIDDEN | FORBIDDEN |
//! | anyone else | NOT_FOUND | NOT_FOUND | NOT_FOUND |
//!
//! Private notes and private check-ins narrow "content" to their author (see `notes` and
//! `check_ins`).

use entity::one_on_one;
use sea_orm::{ColumnTrait, Condition};
use uuid::Uuid;

use super::{access_log::Via, api_tokens::ApiScope};
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
};

/// Which side of the series the viewer is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Manager,
    Report,
}

/// What the viewer may do with one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Participant {
        role: Role,
        archived: bool,
    },
    /// An organisation admin who is not a participant: metadata only.
    Admin,
}

impl Access {
    /// `None` when the viewer may not know the series exists.
    pub fn of(viewer: &Viewer, series: &one_on_one::Model) -> Option<Self> {
        if series.organization_id != viewer.organization_id() {
            return None;
        }
        let archived = series.archived_at.is_some();
        if series.manager_id == viewer.id() {
            Some(Self::Participant {
                role: Role::Manager,
                archived,
            })
        } else if series.report_id == viewer.id() {
            Some(Self::Participant {
                role: Role::Report,
                archived,
            })
        } else if viewer.is_admin() {
            Some(Self::Admin)
        } else {
            None
        }
    }

    /// Reading what was said (agenda, notes, action items, check-ins).
    pub fn read_content(self) -> AppResult<Role> {
        match self {
            Self::Participant { role, .. } => Ok(role),
            Self::Admin => Err(AppError::Forbidden),
        }
    }

    /// Changing anything in the series.
    pub fn write(self) -> AppResult<Role> {
        match self {
            Self::Participant {
                role,
                archived: false,
            } => Ok(role),
            Self::Participant { archived: true, .. } | Self::Admin => Err(AppError::Forbidden),
        }
    }
}

/// A series together with what the viewer may do with it. Objects inside the series carry it,
/// so nested fields never re-derive access.
#[derive(Debug, Clone)]
pub struct SeriesScope {
    pub series: one_on_one::Model,
    pub access: Access,
    /// Whether the credentials may read meeting content (an API token reached this series
    /// through a notes scope alone may not).
    reads_meetings: bool,
}

impl SeriesScope {
    /// The scope of `series` for `viewer`: `NotFound` when they may not know it exists,
    /// `Forbidden` for an API token without `MEETINGS_READ`.
    pub fn new(viewer: &Viewer, series: one_on_one::Model) -> AppResult<Self> {
        Self::needing(viewer, series, ApiScope::MeetingsRead)
    }

    /// As [`Self::new`], for a path whose API-token scope is `needed` (notes need only
    /// `NOTES_READ`).
    pub fn needing(
        viewer: &Viewer,
        series: one_on_one::Model,
        needed: ApiScope,
    ) -> AppResult<Self> {
        let access = Access::of(viewer, &series).ok_or(AppError::NotFound)?;
        viewer.require_scope(needed)?;
        let reads_meetings = viewer.has_scope(ApiScope::MeetingsRead);
        if let Some(reads) = &viewer.reads {
            if access == Access::Admin {
                reads.note(series.id, Via::AdminView);
            } else if viewer.api_token_id().is_some() {
                reads.note(series.id, Via::ApiToken);
            }
        }
        Ok(Self {
            series,
            access,
            reads_meetings,
        })
    }

    /// The scope of `series`, but only for a participant: content objects do not exist for
    /// anyone else.
    pub fn for_content(viewer: &Viewer, series: one_on_one::Model) -> AppResult<Self> {
        let scope = Self::new(viewer, series)?;
        scope
            .access
            .read_content()
            .map_err(|_| AppError::NotFound)?;
        Ok(scope)
    }

    /// Reading agenda, action items and check-ins: a participant whose credentials read
    /// meetings.
    pub fn read_meeting_content(&self) -> AppResult<Role> {
        let role = self.access.read_content()?;
        if self.reads_meetings {
            Ok(role)
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn is_participant(&self, user_id: Uuid) -> bool {
        self.series.manager_id == user_id || self.series.report_id == user_id
    }
}

/// SQL form of "series whose metadata the viewer may see".
pub fn visible_series(viewer: &Viewer) -> Condition {
    let in_org =
        Condition::all().add(one_on_one::Column::OrganizationId.eq(viewer.organization_id()));
    if viewer.is_admin() {
        in_org
    } else {
        in_org.add(participant_series(viewer))
    }
}

/// SQL form of "series the viewer takes part in".
pub fn participant_series(viewer: &Viewer) -> Condition {
    Condition::any()
        .add(one_on_one::Column::ManagerId.eq(viewer.id()))
        .add(one_on_one::Column::ReportId.eq(viewer.id()))
}
