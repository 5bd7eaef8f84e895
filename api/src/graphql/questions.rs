//! The question bank: `questions`, `addQuestion`, `removeQuestion`.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use entity::question;

use super::{
    context::ContextExt,
    enums::TopicCategory,
    pagination::{self, Page},
};
use crate::{
    domain::questions,
    error::AppResult,
    ids::{self, NodeKind},
};

/// A suggested question to bring to a 1:1.
pub struct Question(pub question::Model);

#[Object]
impl Question {
    pub async fn id(&self) -> ID {
        ids::encode(NodeKind::Question, self.0.id)
    }

    async fn category(&self) -> TopicCategory {
        self.0.category.into()
    }

    async fn text(&self) -> &str {
        &self.0.text
    }

    /// Part of the built-in bank every organisation has (as opposed to your organisation's own).
    async fn built_in(&self) -> bool {
        self.0.organization_id.is_none()
    }
}

#[derive(Default)]
pub struct QuestionQuery;

#[Object]
impl QuestionQuery {
    /// Suggested questions: the built-in bank plus your organisation's own.
    #[graphql(complexity = "pagination::cost(first, child_complexity)")]
    async fn questions(
        &self,
        ctx: &Context<'_>,
        category: Option<TopicCategory>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Page<Question>> {
        let viewer = ctx.viewer()?;
        pagination::paginate(
            &ctx.state()?.store.db,
            questions::visible_to(&viewer, category.map(Into::into)),
            question::Column::Id,
            |question| question.id,
            first,
            after,
            |question| Ok(Question(question)),
        )
        .await
    }
}

#[derive(InputObject)]
pub struct AddQuestionInput {
    pub category: TopicCategory,
    /// 1 to 300 characters.
    pub text: String,
    pub client_mutation_id: Option<String>,
}

#[derive(SimpleObject)]
pub struct AddQuestionPayload {
    pub question: Question,
    pub client_mutation_id: Option<String>,
}

#[derive(InputObject)]
pub struct RemoveQuestionInput {
    pub question_id: ID,
}

#[derive(SimpleObject)]
pub struct RemoveQuestionPayload {
    pub removed_question_id: ID,
}

#[derive(Default)]
pub struct QuestionMutation;

#[Object]
impl QuestionMutation {
    /// Admin: adds a question to your organisation's bank.
    async fn add_question(
        &self,
        ctx: &Context<'_>,
        input: AddQuestionInput,
    ) -> AppResult<AddQuestionPayload> {
        let viewer = ctx.viewer()?;
        let store = &ctx.state()?.store;
        let id = questions::add(
            store,
            &viewer,
            input.category.into(),
            &input.text,
            input.client_mutation_id.as_deref(),
        )
        .await?;
        Ok(AddQuestionPayload {
            question: Question(questions::find(&store.db, &viewer, id).await?),
            client_mutation_id: input.client_mutation_id,
        })
    }

    /// Admin: removes one of your organisation's questions.
    async fn remove_question(
        &self,
        ctx: &Context<'_>,
        input: RemoveQuestionInput,
    ) -> AppResult<RemoveQuestionPayload> {
        let viewer = ctx.viewer()?;
        let id = ids::decode_as(NodeKind::Question, &input.question_id)?;
        questions::remove(&ctx.state()?.store, &viewer, id).await?;
        Ok(RemoveQuestionPayload {
            removed_question_id: input.question_id,
        })
    }
}
