//! `Webhook`, `createWebhook` and `deleteWebhook` (admin).

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{webhook, webhook_delivery};

use super::{context::ContextExt, enums::MeetingEventKind};
use crate::{
    domain::webhooks,
    error::AppResult,
    ids::{self, NodeKind},
};

/// An endpoint that receives signed POSTs (`X-Tete-Signature: sha256=<hex HMAC-SHA256 of the
/// body>`, `X-Tete-Event`, `X-Tete-Delivery`) for chosen meeting events: ids and metadata only.
pub struct Webhook(pub webhook::Model);

#[Object]
impl Webhook {
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Webhook, self.0.id)
    }

    async fn url(&self) -> &str {
        &self.0.url
    }

    async fn events(&self) -> Vec<MeetingEventKind> {
        use sea_orm::ActiveEnum;
        self.0
            .events
            .split(',')
            .filter_map(|kind| {
                entity::meeting_event::MeetingEventKind::try_from_value(&kind.to_owned()).ok()
            })
            .map(Into::into)
            .collect()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// The most recent deliveries, newest first.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, validator(minimum = 1, maximum = 100))] first: i32,
    ) -> AppResult<Vec<WebhookDelivery>> {
        let rows = webhooks::deliveries(
            &ctx.state()?.store.db,
            self.0.id,
            first.unsigned_abs().into(),
        )
        .await?;
        Ok(rows.into_iter().map(WebhookDelivery).collect())
    }
}

/// One POST owed to a webhook, and how it went.
pub struct WebhookDelivery(pub webhook_delivery::Model);

#[Object]
impl WebhookDelivery {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn event(&self) -> &str {
        &self.0.event
    }

    /// `PENDING`, `DELIVERED` or `FAILED` (gave up after 8 attempts).
    async fn status(&self) -> &str {
        &self.0.status
    }

    async fn attempts(&self) -> i32 {
        self.0.attempts
    }

    async fn last_status_code(&self) -> Option<i32> {
        self.0.last_status_code
    }

    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }

    async fn next_attempt_at(&self) -> DateTime<Utc> {
        self.0.next_attempt_at
    }

    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
}

#[derive(InputObject)]
pub struct CreateWebhookInput {
    /// http(s); private and loopback addresses are refused.
    pub url: String,
    pub events: Vec<MeetingEventKind>,
}

#[derive(SimpleObject)]
pub struct CreateWebhookPayload {
    pub webhook: Webhook,
    /// The signing secret, shown only this once.
    pub secret: String,
}

#[derive(InputObject)]
pub struct DeleteWebhookInput {
    pub webhook_id: ID,
}

#[derive(SimpleObject)]
pub struct DeleteWebhookPayload {
    pub deleted_webhook_id: ID,
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Admin: registers a webhook for meeting events.
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookInput,
    ) -> AppResult<CreateWebhookPayload> {
        let viewer = ctx.viewer()?;
        let state = ctx.state()?;
        let kinds: Vec<_> = input.events.into_iter().map(Into::into).collect();
        let (hook, secret) = webhooks::create(
            &state.store.db,
            &state.data_key,
            &viewer,
            &input.url,
            &kinds,
            state.config.webhook_allow_private,
        )
        .await?;
        Ok(CreateWebhookPayload {
            webhook: Webhook(hook),
            secret,
        })
    }

    /// Admin: removes a webhook and its pending deliveries.
    async fn delete_webhook(
        &self,
        ctx: &Context<'_>,
        input: DeleteWebhookInput,
    ) -> AppResult<DeleteWebhookPayload> {
        let viewer = ctx.viewer()?;
        let id = ids::decode_as(NodeKind::Webhook, &input.webhook_id)?;
        webhooks::delete(&ctx.state()?.store.db, &viewer, id).await?;
        Ok(DeleteWebhookPayload {
            deleted_webhook_id: input.webhook_id,
        })
    }
}
