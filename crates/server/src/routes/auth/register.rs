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
    username: String,
    email: String,
    #[schema(value_type = String)]
    password: Secret,
    first_name: Option<String>,
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
        (status = 400, description = "INVALID_REQUEST", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "ACCOUNT_EXISTS", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "VALIDATION_FAILED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 429, description = "RATE_LIMITED (with Retry-After)", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 500, description = "INTERNAL_ERROR", body = crate::openapi::ProblemDetails, content_type = "application/problem+json")
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
        .check_register(client_addr(&req).as_deref(), &body.username)?;
    let body = body.into_inner();
    let form = Registration {
        username: Username::parse(&body.username)?,
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
