//! Sign-up, sign-in, session refresh and sign-out.

use std::marker::PhantomData;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{context::ContextExt, users::User};
use crate::{
    auth::{Viewer, session},
    domain::{
        export,
        identity::{self, SignUp},
    },
    error::{AppError, AppResult},
    ids::{self, NodeKind},
};

/// What a sign-in gives: tokens and the signed-in user. One shape, named per mutation.
#[derive(SimpleObject)]
#[graphql(concrete(name = "SignUpPayload", params(SignUpKind)))]
#[graphql(concrete(name = "SignInPayload", params(SignInKind)))]
#[graphql(concrete(name = "RefreshSessionPayload", params(RefreshKind)))]
pub struct SessionPayload<Kind: Send + Sync> {
    /// Bearer token for `Authorization`, valid for 15 minutes.
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    /// Trade it for new tokens with `refreshSession`; single use, valid for 30 days.
    pub refresh_token: String,
    pub user: User,
    #[graphql(skip)]
    kind: PhantomData<Kind>,
}

pub struct SignUpKind;
pub struct SignInKind;
pub struct RefreshKind;

/// Makes the new session's user the viewer for the rest of the request, so the payload's
/// `user` resolves as it would on the next request.
fn into_payload<Kind: Send + Sync>(
    ctx: &Context<'_>,
    session: session::Session,
) -> SessionPayload<Kind> {
    ctx.sign_in_as(Viewer::new(session.user.clone()));
    SessionPayload {
        access_token: session.access.token,
        access_token_expires_at: session.access.expires_at,
        refresh_token: session.refresh_token,
        user: User(session.user),
        kind: PhantomData,
    }
}

#[derive(InputObject)]
pub struct SignUpInput {
    pub organization_name: String,
    pub email: String,
    /// At least 10 characters.
    pub password: String,
    pub display_name: String,
}

#[derive(InputObject)]
pub struct SignInInput {
    pub email: String,
    pub password: String,
    /// The organisation to sign in to. Needed only for an email with accounts in several
    /// organisations (emails are unique per organisation); without it such a sign-in is
    /// answered like a wrong password.
    pub organization_id: Option<ID>,
}

#[derive(InputObject)]
pub struct RefreshSessionInput {
    pub refresh_token: String,
}

#[derive(InputObject)]
pub struct SignOutInput {
    pub refresh_token: String,
}

#[derive(SimpleObject)]
pub struct SignOutPayload {
    pub ok: bool,
}

#[derive(Default)]
pub struct IdentityMutation;

#[Object]
impl IdentityMutation {
    /// Creates an organisation and its first admin, and signs that admin in.
    async fn sign_up(
        &self,
        ctx: &Context<'_>,
        input: SignUpInput,
    ) -> AppResult<SessionPayload<SignUpKind>> {
        let state = ctx.state()?;
        let session = identity::sign_up(
            &state.store.db,
            &state.token_keys,
            SignUp {
                organization_name: input.organization_name,
                email: input.email,
                password: input.password,
                display_name: input.display_name,
            },
            ctx.client_address(),
        )
        .await?;
        Ok(into_payload(ctx, session))
    }

    /// Signs in with email and password.
    async fn sign_in(
        &self,
        ctx: &Context<'_>,
        input: SignInInput,
    ) -> AppResult<SessionPayload<SignInKind>> {
        let state = ctx.state()?;
        state
            .rate_limits
            .sign_in(&input.email, ctx.client_address())?;
        let organization_id =
            ids::decode_optional(NodeKind::Organization, input.organization_id.as_ref())
                .map_err(|_| AppError::InvalidCredentials)?;
        let session = identity::sign_in(
            &state.store.db,
            &state.token_keys,
            &state.after_response,
            identity::SignIn {
                email: &input.email,
                password: input.password,
                organization_id,
                address: ctx.client_address(),
            },
        )
        .await?;
        Ok(into_payload(ctx, session))
    }

    /// Trades a refresh token for new tokens. Each refresh token works once; using one twice
    /// ends every session descended from the same sign-in.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        input: RefreshSessionInput,
    ) -> AppResult<SessionPayload<RefreshKind>> {
        let state = ctx.state()?;
        let session =
            session::refresh(&state.store.db, &state.token_keys, &input.refresh_token).await?;
        Ok(into_payload(ctx, session))
    }

    /// Ends the session a refresh token belongs to.
    async fn sign_out(&self, ctx: &Context<'_>, input: SignOutInput) -> AppResult<SignOutPayload> {
        session::end(&ctx.state()?.store.db, &input.refresh_token).await?;
        Ok(SignOutPayload { ok: true })
    }
}

#[derive(InputObject)]
pub struct ExportMyDataInput {
    /// Reserved; the export always holds everything you may read.
    pub client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct ExportMyDataPayload {
    /// Everything you may read, as one JSON document.
    pub json: async_graphql::Json<serde_json::Value>,
}

#[derive(Default)]
pub struct ExportMutation;

#[Object]
impl ExportMutation {
    /// Everything you may read, as one JSON document: your profile and every 1:1 you take part
    /// in, with meetings, agenda, shared notes and your own private notes, action items and
    /// check-ins. The export shows in your 1:1s' access logs. Not available to API tokens.
    async fn export_my_data(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            name = "input",
            default_with = "ExportMyDataInput { client_mutation_id: None }"
        )]
        _input: ExportMyDataInput,
    ) -> AppResult<ExportMyDataPayload> {
        let viewer = ctx.viewer()?;
        let state = ctx.state()?;
        let document = export::export(&state.store.db, &state.data_key, &viewer).await?;
        Ok(ExportMyDataPayload {
            json: async_graphql::Json(document),
        })
    }
}
