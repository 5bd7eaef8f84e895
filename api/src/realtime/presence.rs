//! Who has a meeting open in this process: the first subscription of a user to a meeting
//! records `PARTICIPANT_JOINED`, the last one closing records `PARTICIPANT_LEFT`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use uuid::Uuid;

#[derive(Clone, Default)]
pub struct Presence(Arc<Mutex<HashMap<(Uuid, Uuid), usize>>>);

impl Presence {
    fn counts(&self) -> std::sync::MutexGuard<'_, HashMap<(Uuid, Uuid), usize>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// True when this is the user's first open subscription to the meeting.
    pub fn join(&self, meeting_id: Uuid, user_id: Uuid) -> bool {
        let mut counts = self.counts();
        let count = counts.entry((meeting_id, user_id)).or_default();
        *count += 1;
        *count == 1
    }

    /// True when this was the user's last open subscription to the meeting.
    pub fn leave(&self, meeting_id: Uuid, user_id: Uuid) -> bool {
        let mut counts = self.counts();
        match counts.get_mut(&(meeting_id, user_id)) {
            Some(count) if *count > 1 => {
                *count -= 1;
                false
            }
            Some(_) => {
                counts.remove(&(meeting_id, user_id));
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_user_and_meeting() {
        let presence = Presence::default();
        let (meeting, ada, bob) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        assert!(presence.join(meeting, ada));
        assert!(!presence.join(meeting, ada));
        assert!(presence.join(meeting, bob));
        assert!(!presence.leave(meeting, ada));
        assert!(presence.leave(meeting, ada));
        assert!(!presence.leave(meeting, ada));
        assert!(presence.leave(meeting, bob));
    }
}
