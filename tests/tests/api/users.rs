//! Users and reporting lines: who may create, change and see whom.

use serde_json::{Value, json};
use tete_tests::{Session, TestApp, error_code, spawn_app};

const NODE: &str =
    "query($id: ID!) { node(id: $id) { id ... on User { email } ... on Organization { name } } }";
const SET_MANAGER: &str = "mutation($input: SetManagerInput!) { setManager(input: $input) { user { id manager { id } } } }";

/// An organisation: admin Ada; Max manages Bob and Cy; Dee is unrelated. Plus another
/// organisation with its admin Zed.
struct Org {
    ada: Session,
    max: String,
    bob: String,
    cy: String,
    dee: String,
    zed: Session,
}

async fn seed(app: &TestApp) -> Org {
    let ada = app.sign_up("Acme", "ada@example.com").await;
    let max = app.create_user(&ada, "max@example.com", None).await;
    let bob = app.create_user(&ada, "bob@example.com", Some(&max)).await;
    let cy = app.create_user(&ada, "cy@example.com", Some(&max)).await;
    let dee = app.create_user(&ada, "dee@example.com", None).await;
    let zed = app.sign_up("Other", "zed@example.com").await;
    Org {
        ada,
        max,
        bob,
        cy,
        dee,
        zed,
    }
}

async fn node(app: &TestApp, id: &str, token: &str) -> Value {
    app.graphql(NODE, json!({ "id": id }), Some(token)).await
}

#[tokio::test]
async fn managers_and_reports_see_their_reporting_line() {
    let app = spawn_app().await;
    let org = seed(&app).await;
    let max = app.session("max@example.com").await;
    let data = app
        .ok(
            "{ viewer { reports { id } manager { id } } }",
            json!({}),
            Some(&max.access_token),
        )
        .await;
    assert_eq!(
        data["viewer"]["reports"],
        json!([{ "id": org.bob }, { "id": org.cy }])
    );
    assert_eq!(data["viewer"]["manager"], Value::Null);

    let bob = app.session("bob@example.com").await;
    let data = app
        .ok(
            "{ viewer { manager { id email reports { id } } } }",
            json!({}),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(data["viewer"]["manager"]["id"], org.max.as_str());
    // Bob sees his manager, but not his peers through her.
    assert_eq!(
        data["viewer"]["manager"]["reports"],
        json!([{ "id": org.bob }])
    );
}

#[tokio::test]
async fn members_see_only_themselves_their_manager_and_their_reports() {
    let app = spawn_app().await;
    let org = seed(&app).await;
    let bob = app.session("bob@example.com").await;
    for visible in [&org.bob, &org.max] {
        let body = node(&app, visible, &bob.access_token).await;
        assert_eq!(body["data"]["node"]["id"], visible.as_str(), "{body}");
    }
    for hidden in [&org.cy, &org.dee, &org.ada.user_id, &org.zed.user_id] {
        let body = node(&app, hidden, &bob.access_token).await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    }
    let max = app.session("max@example.com").await;
    for visible in [&org.bob, &org.cy, &org.max] {
        let body = node(&app, visible, &max.access_token).await;
        assert_eq!(body["data"]["node"]["id"], visible.as_str(), "{body}");
    }
    assert_eq!(
        error_code(&node(&app, &org.dee, &max.access_token).await),
        Some("NOT_FOUND")
    );
}

#[tokio::test]
async fn admins_see_their_whole_organisation_and_nothing_of_another() {
    let app = spawn_app().await;
    let org = seed(&app).await;
    for id in [&org.max, &org.bob, &org.cy, &org.dee] {
        let body = node(&app, id, &org.ada.access_token).await;
        assert_eq!(body["data"]["node"]["id"], id.as_str());
    }
    for id in [&org.max, &org.ada.user_id] {
        let body = node(&app, id, &org.zed.access_token).await;
        assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    }
    let acme = app
        .ok(
            "{ organization { id } }",
            json!({}),
            Some(&org.ada.access_token),
        )
        .await;
    let acme_id = acme["organization"]["id"].as_str().unwrap();
    assert_eq!(
        node(&app, acme_id, &org.ada.access_token).await["data"]["node"]["name"],
        "Acme"
    );
    assert_eq!(
        error_code(&node(&app, acme_id, &org.zed.access_token).await),
        Some("NOT_FOUND")
    );
    // Another organisation's user cannot be managed either: it does not exist for Zed.
    let body = app
        .graphql(
            SET_MANAGER,
            json!({ "input": { "userId": org.bob, "managerId": null } }),
            Some(&org.zed.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
}

#[tokio::test]
async fn an_id_of_the_wrong_type_or_garbage_is_not_found() {
    let app = spawn_app().await;
    let org = seed(&app).await;
    let acme = app
        .ok(
            "{ organization { id } }",
            json!({}),
            Some(&org.ada.access_token),
        )
        .await;
    let organization_id = acme["organization"]["id"].as_str().unwrap();
    let body = app
        .graphql(
            SET_MANAGER,
            json!({ "input": { "userId": organization_id, "managerId": org.max } }),
            Some(&org.ada.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"));
    for garbage in ["", "nope", "VXNlcjpub3QtYS11dWlk"] {
        assert_eq!(
            error_code(&node(&app, garbage, &org.ada.access_token).await),
            Some("NOT_FOUND")
        );
    }
}

#[tokio::test]
async fn admins_start_change_and_end_reporting_lines() {
    let app = spawn_app().await;
    let org = seed(&app).await;
    let token = Some(org.ada.access_token.as_str());
    let data = app
        .ok(
            SET_MANAGER,
            json!({ "input": { "userId": org.dee, "managerId": org.max } }),
            token,
        )
        .await;
    assert_eq!(
        data["setManager"]["user"]["manager"]["id"],
        org.max.as_str()
    );
    let data = app
        .ok(
            SET_MANAGER,
            json!({ "input": { "userId": org.dee, "managerId": org.bob } }),
            token,
        )
        .await;
    assert_eq!(
        data["setManager"]["user"]["manager"]["id"],
        org.bob.as_str()
    );
    let data = app
        .ok(
            SET_MANAGER,
            json!({ "input": { "userId": org.dee, "managerId": null } }),
            token,
        )
        .await;
    assert_eq!(data["setManager"]["user"]["manager"], Value::Null);
}

#[tokio::test]
async fn reporting_lines_cannot_loop() {
    let app = spawn_app().await;
    let org = seed(&app).await;
    let token = Some(org.ada.access_token.as_str());
    for (user, manager) in [(&org.max, &org.bob), (&org.bob, &org.bob)] {
        let body = app
            .graphql(
                SET_MANAGER,
                json!({ "input": { "userId": user, "managerId": manager } }),
                token,
            )
            .await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    }
    // Two levels up is caught too: Bob manages Dee, so Dee cannot manage Max (Bob's manager).
    app.ok(
        SET_MANAGER,
        json!({ "input": { "userId": org.dee, "managerId": org.bob } }),
        token,
    )
    .await;
    let body = app
        .graphql(
            SET_MANAGER,
            json!({ "input": { "userId": org.max, "managerId": org.dee } }),
            token,
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
}

#[tokio::test]
async fn members_cannot_administer_users() {
    let app = spawn_app().await;
    let org = seed(&app).await;
    let max = app.session("max@example.com").await;
    let token = Some(max.access_token.as_str());
    let attempts = [
        (
            "mutation { createUser(input: { email: \"new@example.com\", displayName: \"New\", password: \"long enough pw\" }) { user { id } } }",
            json!({}),
        ),
        (
            SET_MANAGER,
            json!({ "input": { "userId": org.bob, "managerId": null } }),
        ),
        (
            "mutation($id: ID!) { deactivateUser(input: { userId: $id }) { user { id } } }",
            json!({ "id": org.bob }),
        ),
        ("{ organization { users { totalCount } } }", json!({})),
    ];
    for (query, variables) in attempts {
        let body = app.graphql(query, variables, token).await;
        assert_eq!(error_code(&body), Some("FORBIDDEN"), "{query}: {body}");
    }
    // Nothing changed: Bob still reports to Max.
    let bob = app.session("bob@example.com").await;
    let data = app
        .ok(
            "{ viewer { manager { id } } }",
            json!({}),
            Some(&bob.access_token),
        )
        .await;
    assert_eq!(data["viewer"]["manager"]["id"], org.max.as_str());
}

#[tokio::test]
async fn create_user_validates_its_input() {
    let app = spawn_app().await;
    let org = seed(&app).await;
    let create =
        "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id role } } }";
    let token = Some(org.ada.access_token.as_str());
    let bad = [
        json!({ "email": "max@example.com", "displayName": "Dup", "password": "long enough pw" }),
        json!({ "email": "x@example.com", "displayName": "X", "password": "short" }),
        json!({ "email": "x@", "displayName": "X", "password": "long enough pw" }),
    ];
    for input in bad {
        let body = app.graphql(create, json!({ "input": input }), token).await;
        assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
    }
    let body = app
        .graphql(create, json!({ "input": { "email": "x@example.com", "displayName": "X", "password": "long enough pw", "managerId": org.zed.user_id } }), token)
        .await;
    assert_eq!(error_code(&body), Some("NOT_FOUND"), "{body}");
    let data = app
        .ok(create, json!({ "input": { "email": "x@example.com", "displayName": "X", "password": "long enough pw", "role": "ADMIN" } }), token)
        .await;
    assert_eq!(data["createUser"]["user"]["role"], "ADMIN");
}

#[tokio::test]
async fn admins_cannot_deactivate_themselves_and_deactivated_users_cannot_manage() {
    let app = spawn_app().await;
    let org = seed(&app).await;
    let token = Some(org.ada.access_token.as_str());
    let deactivate =
        "mutation($id: ID!) { deactivateUser(input: { userId: $id }) { user { id } } }";
    let body = app
        .graphql(deactivate, json!({ "id": org.ada.user_id }), token)
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    app.ok(deactivate, json!({ "id": org.dee }), token).await;
    let body = app
        .graphql(
            SET_MANAGER,
            json!({ "input": { "userId": org.bob, "managerId": org.dee } }),
            token,
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"), "{body}");
}

#[tokio::test]
async fn admins_page_through_the_organisation() {
    let app = spawn_app().await;
    let org = seed(&app).await;
    let query = "query($after: String) { organization { users(first: 2, after: $after) { totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app
            .ok(
                query,
                json!({ "after": after }),
                Some(&org.ada.access_token),
            )
            .await;
        let users = &data["organization"]["users"];
        assert_eq!(users["totalCount"], 5);
        for edge in users["edges"].as_array().unwrap() {
            seen.push(edge["node"]["id"].as_str().unwrap().to_owned());
        }
        if users["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = users["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(
        seen,
        vec![org.ada.user_id.clone(), org.max, org.bob, org.cy, org.dee]
    );

    let body = app
        .graphql(
            "{ organization { users(first: 1000) { totalCount } } }",
            json!({}),
            Some(&org.ada.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
    let body = app
        .graphql(
            "{ organization { users(after: \"garbage\") { totalCount } } }",
            json!({}),
            Some(&org.ada.access_token),
        )
        .await;
    assert_eq!(error_code(&body), Some("BAD_USER_INPUT"));
}

#[tokio::test]
async fn a_retried_create_user_creates_one_user() {
    let app = spawn_app().await;
    let admin = app.sign_up("Acme", "ada@example.com").await;
    let create = "mutation($input: CreateUserInput!) { createUser(input: $input) { clientMutationId user { id } } }";
    let input = json!({ "input": { "email": "new@example.com", "displayName": "New", "password": "long enough pw", "clientMutationId": "retry-1" } });
    let first = app
        .ok(create, input.clone(), Some(&admin.access_token))
        .await;
    let second = app.ok(create, input, Some(&admin.access_token)).await;
    assert_eq!(first["createUser"]["clientMutationId"], "retry-1");
    assert_eq!(
        first["createUser"]["user"]["id"],
        second["createUser"]["user"]["id"]
    );
    let data = app
        .ok(
            "{ organization { users { totalCount } } }",
            json!({}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(data["organization"]["users"]["totalCount"], 2);
}
