//! Live subscriptions re-check their subscriber's access every few seconds. Thousands of
//! subscriptions by the same person (and credentials) to the same meeting share one check: a
//! result is reused for [`FRESH_FOR`], and a check already running is awaited, not repeated.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::sync::OnceCell;
use uuid::Uuid;

use super::stream::live_scope;
use crate::{auth::Viewer, db::Store, domain::access::SeriesScope, error::AppResult};

/// How long one check answers for everyone asking the same question.
const FRESH_FOR: Duration = Duration::from_secs(1);

/// User, API token (if any), meeting.
type Question = (Uuid, Option<Uuid>, Uuid);
type Answer = Option<Arc<SeriesScope>>;

#[derive(Default)]
pub struct SharedRechecks {
    checks: Mutex<Checks>,
}

#[derive(Default)]
struct Checks {
    by_question: HashMap<Question, Check>,
    swept: Option<Instant>,
}

#[derive(Clone)]
struct Check {
    started: Instant,
    answer: Arc<OnceCell<Answer>>,
}

impl SharedRechecks {
    /// The scope under which `viewer` may still follow the meeting, as [`live_scope`] answers
    /// it, at most [`FRESH_FOR`] old.
    pub async fn live_scope(
        &self,
        store: &Store,
        viewer: &Viewer,
        meeting_id: Uuid,
    ) -> AppResult<Answer> {
        let question = (viewer.id(), viewer.api_token_id(), meeting_id);
        let answer = self.check_for(question, Instant::now());
        answer
            .get_or_try_init(|| async {
                Ok(live_scope(store, viewer, meeting_id).await?.map(Arc::new))
            })
            .await
            .cloned()
    }

    /// The check answering `question` now: a fresh one, or a new one to run.
    fn check_for(&self, question: Question, now: Instant) -> Arc<OnceCell<Answer>> {
        let mut checks = self.checks.lock().unwrap_or_else(|p| p.into_inner());
        // Forget questions nobody has asked lately, at most once per interval.
        if checks
            .swept
            .is_none_or(|swept| now.duration_since(swept) > FRESH_FOR)
        {
            checks
                .by_question
                .retain(|_, check| now.duration_since(check.started) < FRESH_FOR);
            checks.swept = Some(now);
        }
        let check = checks.by_question.entry(question).or_insert_with(|| Check {
            started: now,
            answer: Arc::default(),
        });
        if now.duration_since(check.started) >= FRESH_FOR {
            *check = Check {
                started: now,
                answer: Arc::default(),
            };
        }
        check.answer.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_check_answers_the_same_question_until_it_is_stale() {
        let rechecks = SharedRechecks::default();
        let (user, meeting) = (Uuid::now_v7(), Uuid::now_v7());
        let now = Instant::now();
        let first = rechecks.check_for((user, None, meeting), now);
        let same = rechecks.check_for((user, None, meeting), now + FRESH_FOR / 2);
        assert!(Arc::ptr_eq(&first, &same));

        let other_token = rechecks.check_for((user, Some(Uuid::now_v7()), meeting), now);
        assert!(!Arc::ptr_eq(&first, &other_token));

        let later = rechecks.check_for((user, None, meeting), now + FRESH_FOR);
        assert!(!Arc::ptr_eq(&first, &later));
    }

    #[test]
    fn forgets_questions_nobody_asks_any_more() {
        let rechecks = SharedRechecks::default();
        let now = Instant::now();
        for _ in 0..100 {
            rechecks.check_for((Uuid::now_v7(), None, Uuid::now_v7()), now);
        }
        rechecks.check_for((Uuid::now_v7(), None, Uuid::now_v7()), now + FRESH_FOR * 2);
        let checks = rechecks.checks.lock().unwrap();
        assert_eq!(checks.by_question.len(), 1);
    }
}
