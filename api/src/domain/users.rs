//! Users and reporting lines, and who may see whom: an admin sees everyone in their
//! organisation; a member sees themselves, their manager and their direct reports.

use chrono::Utc;
use entity::{
    one_on_one,
    user::{self, Role},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, Select, Set,
};
use uuid::Uuid;

use super::{
    audit::{self, Action, Entry},
    idempotency, series,
};
use crate::{
    auth::{Viewer, password, session},
    db::{Store, begin_write},
    error::{AppError, AppResult, OnUniqueViolation},
    realtime::AccessChange,
};

const MAX_EMAIL_CHARS: usize = 254;
const MAX_NAME_CHARS: usize = 100;
/// The longest reporting chain walked when checking for cycles.
const MAX_CHAIN: usize = 1_000;

/// Whether `viewer` may see `target` (profile and reporting line).
pub fn can_see(viewer: &Viewer, target: &user::Model) -> bool {
    target.organization_id == viewer.organization_id()
        && (viewer.is_admin()
            || target.id == viewer.id()
            || Some(target.id) == viewer.user.manager_id
            || target.manager_id == Some(viewer.id()))
}

/// The users `viewer` may see, as a query (the SQL form of [`can_see`]).
pub fn visible_to(viewer: &Viewer) -> Select<user::Entity> {
    let in_org =
        user::Entity::find().filter(user::Column::OrganizationId.eq(viewer.organization_id()));
    if viewer.is_admin() {
        return in_org;
    }
    let mut related = Condition::any()
        .add(user::Column::Id.eq(viewer.id()))
        .add(user::Column::ManagerId.eq(viewer.id()));
    if let Some(manager_id) = viewer.user.manager_id {
        related = related.add(user::Column::Id.eq(manager_id));
    }
    in_org.filter(related)
}

/// A user `viewer` may see, or `NotFound`.
pub async fn find_visible(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<user::Model> {
    visible_to(viewer)
        .filter(user::Column::Id.eq(id))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

/// Lower-cases and checks an email address.
pub fn normalize_email(raw: &str) -> AppResult<String> {
    let email = raw.trim().to_lowercase();
    if email.chars().count() > MAX_EMAIL_CHARS || !email_address::EmailAddress::is_valid(&email) {
        return Err(AppError::bad_input("email is not a valid address"));
    }
    Ok(email)
}

/// Trims and checks a display or organisation name.
pub fn normalize_name(raw: &str, what: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(AppError::bad_input(format!(
            "{what} must be 1 to {MAX_NAME_CHARS} printable characters"
        )));
    }
    Ok(name.to_owned())
}

/// A user to create; fields are validated by [`insert`].
pub struct NewUser {
    pub organization_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub password: String,
    pub role: Role,
    pub manager_id: Option<Uuid>,
}

/// Validates and inserts a user. The password is hashed before any transaction is held.
pub async fn insert(
    conn: &impl ConnectionTrait,
    new: NewUser,
    password_hash: String,
) -> AppResult<user::Model> {
    let NewUser {
        organization_id,
        email,
        display_name,
        role,
        manager_id,
        ..
    } = new;
    user::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(organization_id),
        email: Set(email),
        display_name: Set(display_name),
        password_hash: Set(password_hash),
        role: Set(role),
        time_zone: Set("UTC".into()),
        manager_id: Set(manager_id),
        token_version: Set(0),
        deactivated_at: Set(None),
        created_at: Set(Utc::now()),
        calendar_feed_salt: Set(None),
    }
    .insert(conn)
    .await
    // Emails are unique per organisation: other organisations' users are no concern of this one.
    .on_unique_violation(|| {
        AppError::bad_input("a user with this email already exists in this organisation")
    })
}

/// Checks the fields of a new user and hashes its password.
pub async fn prepare(mut new: NewUser) -> AppResult<(NewUser, String)> {
    new.email = normalize_email(&new.email)?;
    new.display_name = normalize_name(&new.display_name, "displayName")?;
    password::validate(&new.password)?;
    let hash = password::hash(new.password.clone()).await?;
    Ok((new, hash))
}

/// Admin: adds a user to the viewer's organisation, optionally with a manager.
pub async fn create(
    store: &Store,
    viewer: &Viewer,
    new: NewUser,
    client_mutation_id: Option<&str>,
) -> AppResult<Uuid> {
    viewer.require_admin()?;
    let (new, hash) = prepare(new).await?;
    idempotency::create_once(
        store,
        viewer.id(),
        client_mutation_id,
        "createUser",
        async |tx| {
            if let Some(manager_id) = new.manager_id {
                find_active_colleague(tx, viewer, manager_id).await?;
            }
            let user = insert(tx, new, hash).await?;
            if let Some(manager_id) = user.manager_id {
                series::start(tx, user.organization_id, manager_id, user.id).await?;
            }
            let entry = Entry::by(viewer, Action::UserCreated)
                .subject(user.id)
                .detail(user.email.clone());
            audit::record(tx, entry).await?;
            Ok(user.id)
        },
    )
    .await
}

/// Admin: starts, changes (`Some`) or ends (`None`) a user's reporting line. The old line's
/// series is archived and a new line gets a new series, returned with the user.
pub async fn set_manager(
    db: &DatabaseConnection,
    viewer: &Viewer,
    user_id: Uuid,
    manager_id: Option<Uuid>,
) -> AppResult<(user::Model, Option<one_on_one::Model>)> {
    viewer.require_admin()?;
    let tx = begin_write(db).await?;
    let target = find_in_org(&tx, viewer, user_id).await?;
    if !target.is_active() {
        return Err(AppError::bad_input("the user is deactivated"));
    }
    if let Some(manager_id) = manager_id {
        if manager_id == user_id {
            return Err(AppError::bad_input("a user cannot manage themselves"));
        }
        find_active_colleague(&tx, viewer, manager_id).await?;
        if manages_indirectly(&tx, user_id, manager_id).await? {
            return Err(AppError::bad_input(
                "this manager reports to the user: the line would make a cycle",
            ));
        }
    }
    if target.manager_id == manager_id {
        let current = series::of_user(viewer, user_id, false)
            .filter(one_on_one::Column::ReportId.eq(user_id))
            .one(&tx)
            .await?;
        return Ok((target, current));
    }
    let mut active = target.into_active_model();
    active.manager_id = Set(manager_id);
    let user = active.update(&tx).await?;
    series::archive_as_report(&tx, user_id).await?;
    let detail = manager_id.map_or_else(|| "no manager".to_owned(), |id| format!("manager {id}"));
    audit::record(
        &tx,
        Entry::by(viewer, Action::ManagerChanged)
            .subject(user_id)
            .detail(detail),
    )
    .await?;
    let new_series = match manager_id {
        Some(manager_id) => {
            Some(series::start(&tx, user.organization_id, manager_id, user_id).await?)
        }
        None => None,
    };
    tx.commit().await?;
    Ok((user, new_series))
}

/// Admin: deactivates a user. Their tokens and sessions stop working on the next request, and
/// every connection opened with them closes.
pub async fn deactivate(store: &Store, viewer: &Viewer, user_id: Uuid) -> AppResult<user::Model> {
    viewer.require_admin()?;
    if user_id == viewer.id() {
        return Err(AppError::bad_input("you cannot deactivate yourself"));
    }
    let tx = store.begin().await?;
    let target = find_in_org(&tx, viewer, user_id).await?;
    if !target.is_active() {
        return Ok(target);
    }
    let token_version = target.token_version + 1;
    let mut active = target.into_active_model();
    active.deactivated_at = Set(Some(Utc::now()));
    active.token_version = Set(token_version);
    let user = active.update(&tx).await?;
    session::revoke_all(&tx, user_id).await?;
    series::archive_all(&tx, user_id).await?;
    tx.revoke(AccessChange::User(user_id)).await?;
    audit::record(
        &tx,
        Entry::by(viewer, Action::UserDeactivated).subject(user_id),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// Any user of the viewer's organisation (for admin actions), or `NotFound`.
async fn find_in_org(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<user::Model> {
    user::Entity::find_by_id(id)
        .filter(user::Column::OrganizationId.eq(viewer.organization_id()))
        .one(conn)
        .await?
        .ok_or(AppError::NotFound)
}

async fn find_active_colleague(
    conn: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> AppResult<user::Model> {
    let user = find_in_org(conn, viewer, id).await?;
    if !user.is_active() {
        return Err(AppError::bad_input("the manager is deactivated"));
    }
    Ok(user)
}

/// True when `user_id` appears in the management chain above `manager_id`.
async fn manages_indirectly(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    manager_id: Uuid,
) -> AppResult<bool> {
    let mut current = Some(manager_id);
    for _ in 0..MAX_CHAIN {
        let Some(id) = current else {
            return Ok(false);
        };
        if id == user_id {
            return Ok(true);
        }
        current = user::Entity::find_by_id(id)
            .one(conn)
            .await?
            .and_then(|user| user.manager_id);
    }
    Ok(true)
}
