//! Presence: `GET /api/users/{id}/presence` (only for someone the caller shares a conversation
//! with; anyone else is 404, so presence cannot be probed as in System A) and
//! `PUT /api/me/presence` to hide or show one's own.

use actix_web::{HttpResponse, get, put, web};
use messaging_domain::user::UserId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::problem::Problem;
use crate::state::AppState;

/// A user's presence as the caller may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PresenceResponse {
    /// Whose.
    pub user_id: i64,
    /// `online` or `offline` (a user who hides their presence shows as offline).
    pub status: &'static str,
}

/// Whether to show one's presence.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresenceSetting {
    /// `false` hides it: partners see `offline` and hear nothing.
    pub visible: bool,
}

#[utoipa::path(
    context_path = "/api",
    tag = "realtime",
    summary = "A conversation partner's presence",
    responses(
        (status = 200, description = "Online or offline", body = PresenceResponse),
        crate::problem::doc::Errors<messaging_domain::LiveError>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[get("/users/{id}/presence")]
pub async fn presence(
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, Problem> {
    let target = UserId(crate::routes::positive_id(path.into_inner())?);
    let online = state.presence.presence_of(&user.actor(), target).await?;
    Ok(HttpResponse::Ok().json(PresenceResponse {
        user_id: target.0,
        status: if online { "online" } else { "offline" },
    }))
}

#[utoipa::path(
    context_path = "/api",
    tag = "realtime",
    summary = "Show or hide one's presence",
    request_body = PresenceSetting,
    responses(
        (status = 204, description = "Saved; partners hear the change if the user is online")
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[put("/me/presence")]
pub async fn set_presence(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<PresenceSetting>,
) -> Result<HttpResponse, Problem> {
    state
        .presence
        .set_visible(&user.actor(), body.visible)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
