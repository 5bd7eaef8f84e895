//! Live meetings: the event bus that announces stored meeting events, the per-meeting fan-out to
//! subscribers, presence, and the subscription stream itself.

pub mod bus;
pub mod fanout;
pub mod presence;
pub mod rechecks;
pub mod stream;

pub use bus::{AccessChange, Announcement, EventBus, Notice};
