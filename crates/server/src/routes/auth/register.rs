//! `POST /api/auth/register`.

use actix_web::{HttpRequest, HttpResponse, post, web};
use messaging_domain::accounts::{EmailAddress, Password, Username, parse_name};
use messaging_domain::service::accounts::Registration;
use serde::{Deserialize, Serialize};

use crate::auth::{Secret, client_addr};
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RegisterRequest {
    /// 3..=32 letters, digits, `_`, `.` and `-`.
    #[schema(pattern = r"^[A-Za-z0-9_.-]{3,32}$")]
    username: String,
    /// An address like `name@example.com`.
    #[schema(
        max_length = 254,
        pattern = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[A-Za-z0-9-][A-Za-z0-9.-]*\.[A-Za-z0-9.-]*[A-Za-z0-9-]$"
    )]
    email: String,
    /// 8..=128 characters.
    #[schema(value_type = String, min_length = 8, max_length = 128)]
    password: Secret,
    /// One line, up to 100 characters.
    #[schema(max_length = 100)]
    first_name: Option<String>,
    /// One line, up to 100 characters.
    #[schema(max_length = 100)]
    last_name: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegisteredUser {
    id: i64,
    username: String,
    first_name: String,
    last_name: String,
    role: &'static str,
}

#[utoipa::path(
    context_path = "/api",
    tag = "auth",
    summary = "Create an account",
    responses(
        (status = 201, description = "The new account", body = RegisteredUser),
        crate::problem::doc::Errors<(messaging_domain::ValidationError, crate::problem::doc::RateLimited, messaging_domain::service::accounts::RegisterError)>
    )
)]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<RegisterRequest>,
) -> Result<HttpResponse, Problem> {
    state
        .rate_limits
        .check_register(client_addr(&req).as_deref(), &body.username)
        .await?;
    let body = body.into_inner();
    let form = Registration {
        username: Username::parse_new(&body.username)?,
        email: EmailAddress::parse(&body.email)?,
        password: Password::parse_new(body.password.expose().to_owned(), "password")?,
        first_name: parse_name(body.first_name.as_deref(), "first_name")?,
        last_name: parse_name(body.last_name.as_deref(), "last_name")?,
    };
    let user = state
        .accounts
        .register(form, state.default_role, client_addr(&req))
        .await?;
    Ok(HttpResponse::Created().json(RegisteredUser {
        id: user.id.0,
        username: user.username,
        first_name: user.first_name,
        last_name: user.last_name,
        role: user.role.as_str(),
    }))
}
