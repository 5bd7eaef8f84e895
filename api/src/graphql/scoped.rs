//! Objects that live inside a series carry its [`SeriesScope`], so their nested fields apply the
//! access already decided for the parent instead of deciding again.

use std::sync::Arc;

use crate::domain::access::SeriesScope;

pub trait InSeries: Sized {
    type Model;

    fn new(model: Self::Model, scope: Arc<SeriesScope>) -> Self;

    fn wrap_all(models: Vec<Self::Model>, scope: &Arc<SeriesScope>) -> Vec<Self> {
        models
            .into_iter()
            .map(|model| Self::new(model, scope.clone()))
            .collect()
    }
}

/// Implements [`InSeries`] for a `{ model, scope }` struct.
macro_rules! in_series {
    ($type:ty, $model:ty) => {
        impl $crate::graphql::scoped::InSeries for $type {
            type Model = $model;

            fn new(
                model: $model,
                scope: std::sync::Arc<$crate::domain::access::SeriesScope>,
            ) -> Self {
                Self { model, scope }
            }
        }
    };
}

pub(crate) use in_series;
