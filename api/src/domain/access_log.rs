//! The access log a participant can check: every read of their 1:1 content through an API
//! token or an export, and every admin view of their series' metadata. Reads are noted as a
//! request resolves (once per series) and written when it finishes.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
};

use chrono::Utc;
use entity::{access_entry, one_on_one};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait, Select, Set,
};
use uuid::Uuid;

use super::access::participant_series;
use crate::{auth::Viewer, error::AppResult};

/// How a reader reached a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Via {
    ApiToken,
    Export,
    AdminView,
}

impl Via {
    pub fn name(self) -> &'static str {
        match self {
            Via::ApiToken => "API_TOKEN",
            Via::Export => "EXPORT",
            Via::AdminView => "ADMIN_VIEW",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        [Via::ApiToken, Via::Export, Via::AdminView]
            .into_iter()
            .find(|via| via.name() == stored)
    }
}

/// The series one request read, and how.
#[derive(Debug, Default)]
pub struct ReadRecorder(Mutex<BTreeSet<(Uuid, Via)>>);

impl ReadRecorder {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    pub fn note(&self, series_id: Uuid, via: Via) {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert((series_id, via));
    }

    /// Writes what was noted, as `reader` (with the API token they used, if any).
    pub async fn flush(&self, conn: &impl ConnectionTrait, reader: &Viewer) -> AppResult<()> {
        let reads = std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        if reads.is_empty() {
            return Ok(());
        }
        let now = Utc::now();
        let entries = reads
            .into_iter()
            .map(|(series_id, via)| access_entry::ActiveModel {
                id: Set(Uuid::now_v7()),
                one_on_one_id: Set(series_id),
                reader_id: Set(reader.id()),
                via: Set(via.name().to_owned()),
                api_token_id: Set(reader.api_token_id()),
                occurred_at: Set(now),
            });
        access_entry::Entity::insert_many(entries)
            .exec(conn)
            .await?;
        Ok(())
    }
}

/// The entries of every series the viewer takes part in.
pub fn visible_to(viewer: &Viewer) -> Select<access_entry::Entity> {
    let mine = one_on_one::Entity::find()
        .select_only()
        .column(one_on_one::Column::Id)
        .filter(participant_series(viewer))
        .into_query();
    access_entry::Entity::find().filter(access_entry::Column::OneOnOneId.in_subquery(mine))
}
