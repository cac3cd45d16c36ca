//! `GET /api/me`: who the caller is, their role and settings.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;

use crate::auth::AuthUser;
use crate::problem::Problem;
use crate::state::AppState;

/// The caller's own account.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeResponse {
    pub id: i64,
    pub username: String,
    /// The caller's own address (no other user's is ever shown).
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: &'static str,
    /// Whether partners see when the caller is online (`PUT /api/me/presence`).
    pub presence_visible: bool,
    /// How long after sending a message may be edited.
    pub edit_window_seconds: i64,
}

#[utoipa::path(
    context_path = "/api",
    tag = "me",
    summary = "Who the caller is: account, role and settings",
    responses(
        (status = 200, description = "The caller's account", body = MeResponse),
        crate::problem::doc::Errors<messaging_domain::PeopleError>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, Problem> {
    let me = state.people.me(&user.actor()).await?;
    Ok(HttpResponse::Ok().json(MeResponse {
        id: me.user.id.0,
        username: me.user.username,
        email: me.user.email,
        first_name: me.user.first_name,
        last_name: me.user.last_name,
        role: me.user.role.as_str(),
        presence_visible: !me.presence_hidden,
        edit_window_seconds: state.messaging.config().edit_window.num_seconds(),
    }))
}
