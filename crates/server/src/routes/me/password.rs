//! `PUT /api/me/password` `{current_password, new_password}` → 204. Every other credential of the
//! account stops working (other browser sessions, every access and refresh token, their sockets);
//! the browser session the change was made from stays open. A token client logs in again.

use actix_web::{HttpResponse, put, web};
use messaging_domain::accounts::Password;
use serde::Deserialize;

use crate::auth::{AuthUser, Secret};
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(value_type = String, max_length = 128)]
    current_password: Secret,
    #[schema(value_type = String, min_length = 8, max_length = 128)]
    new_password: Secret,
}

#[utoipa::path(
    context_path = "/api",
    tag = "me",
    summary = "Change one's password; every other session and token is revoked",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed"),
        crate::problem::doc::Errors<(messaging_domain::ValidationError, messaging_domain::service::accounts::PasswordChangeError)>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[put("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse, Problem> {
    let body = body.into_inner();
    let new = Password::parse_new(body.new_password.expose().to_owned(), "new_password")?;
    state
        .accounts
        .change_password(
            &user.principal,
            body.current_password.expose().to_owned(),
            new,
            user.client_addr.clone(),
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
