//! `DELETE /api/messages/{id}?scope=me|everyone` → 204. The default hides the message from the
//! caller only (System B); `scope=everyone` hides it from both parties and is the sender's alone
//! (System A). The record is kept either way.

use actix_web::{HttpResponse, delete, web};
use messaging_domain::message::{DeleteScope, MessageId};
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, Default, Clone, Copy, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
enum Scope {
    #[default]
    Me,
    Everyone,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// `me` (default) hides the message from the caller; `everyone` is the sender's alone.
    #[serde(default)]
    #[param(inline)]
    scope: Scope,
}

#[utoipa::path(
    context_path = "/api",
    tag = "messages (System A)",
    summary = "Delete a message for me, or for everyone (sender only; also under /api/v1)",
    params(DeleteQuery),
    responses(
        (status = 204, description = "Deleted"),
        crate::problem::doc::Errors<messaging_domain::DeleteError>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[delete("/messages/{id}")]
pub async fn delete(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<i64>,
    query: web::Query<DeleteQuery>,
) -> Result<HttpResponse, Problem> {
    let scope = match query.scope {
        Scope::Me => DeleteScope::ForMe,
        Scope::Everyone => DeleteScope::ForEveryone,
    };
    state
        .messaging
        .delete(
            &user.actor(),
            MessageId(crate::routes::positive_id(path.into_inner())?),
            scope,
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
