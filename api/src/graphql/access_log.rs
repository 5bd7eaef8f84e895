//! `AccessEntry`: one line of a participant's access log.

use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};
use entity::access_entry;

use super::{context::ContextExt, users::User};
use crate::{
    domain::access_log,
    error::AppResult,
    ids::{self, NodeKind},
};

/// How someone reached a 1:1.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::domain::access_log::Via")]
pub enum AccessVia {
    /// Content read by an integration through an API token.
    ApiToken,
    /// Content included in a data export.
    Export,
    /// An organisation admin looked at the series' metadata (never its content).
    AdminView,
}

/// Who read your 1:1 other than through the app itself, and when.
pub struct AccessEntry(pub access_entry::Model);

#[Object]
impl AccessEntry {
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::AccessEntry, self.0.id)
    }

    /// The series that was read.
    async fn one_on_one_id(&self) -> ID {
        ids::encode(NodeKind::OneOnOne, self.0.one_on_one_id)
    }

    /// Who read it (for a token, the token's owner).
    async fn reader(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        Ok(ctx.loaders()?.user(self.0.reader_id).await?.map(User))
    }

    async fn via(&self) -> Option<AccessVia> {
        access_log::Via::parse(&self.0.via).map(Into::into)
    }

    /// The API token used, for `API_TOKEN` reads.
    async fn api_token_id(&self) -> Option<ID> {
        self.0
            .api_token_id
            .map(|id| ids::encode(NodeKind::ApiToken, id))
    }

    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
}
