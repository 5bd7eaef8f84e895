//! Live subscriptions re-check their subscriber's access every few seconds. Thousands of
//! subscriptions by the same person (and credentials) to the same meeting share one check,
//! reused for [`FRESH_FOR`].

use std::{sync::Arc, time::Duration};

use uuid::Uuid;

use super::stream::live_scope;
use crate::{auth::Viewer, db::Store, domain::access::SeriesScope, error::AppResult, memo::Memo};

/// How long one check answers for everyone asking the same question.
const FRESH_FOR: Duration = Duration::from_secs(1);

/// User, API token (if any), meeting.
type Question = (Uuid, Option<Uuid>, Uuid);

pub struct SharedRechecks(Memo<Question, Option<Arc<SeriesScope>>>);

impl Default for SharedRechecks {
    fn default() -> Self {
        Self(Memo::new(FRESH_FOR))
    }
}

impl SharedRechecks {
    /// The scope under which `viewer` may still follow the meeting, as [`live_scope`] answers
    /// it, at most [`FRESH_FOR`] old.
    pub async fn live_scope(
        &self,
        store: &Store,
        viewer: &Viewer,
        meeting_id: Uuid,
    ) -> AppResult<Option<Arc<SeriesScope>>> {
        let question = (viewer.id(), viewer.api_token_id(), meeting_id);
        self.0
            .get_or_read(question, || async {
                Ok(live_scope(store, viewer, meeting_id).await?.map(Arc::new))
            })
            .await
    }
}
