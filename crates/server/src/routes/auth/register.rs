//! `POST /api/auth/register`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::Utc;
use messaging_domain::StoreError;
use messaging_domain::ValidationError;
use messaging_domain::accounts::{EmailAddress, NewAccount, Username, parse_name};
use messaging_domain::audit::{AuditAction, AuditRecord};
use messaging_domain::ports::Accounts;
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

const MIN_PASSWORD: usize = 8;
const MAX_PASSWORD: usize = 128;

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
        (status = 500, description = "INTERNAL_ERROR", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 503, description = "SERVER_BUSY: every password hashing thread is busy and the queue is full (with Retry-After)", body = crate::openapi::ProblemDetails, content_type = "application/problem+json")
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
    let username = Username::parse(&body.username)?;
    let email = EmailAddress::parse(&body.email)?;
    let first_name = parse_name(body.first_name.as_deref(), "first_name")?;
    let last_name = parse_name(body.last_name.as_deref(), "last_name")?;
    let length = body.password.expose().chars().count();
    if length < MIN_PASSWORD {
        return Err(ValidationError::TooShort {
            field: "password",
            min: MIN_PASSWORD,
        }
        .into());
    }
    if length > MAX_PASSWORD {
        return Err(ValidationError::TooLong {
            field: "password",
            max: MAX_PASSWORD,
        }
        .into());
    }
    let password_hash = state.passwords.hash(body.password).await?;
    let account = NewAccount {
        username,
        email,
        password_hash,
        first_name,
        last_name,
        role: state.default_role,
    };
    let audit = AuditRecord {
        actor: None,
        action: AuditAction::UserRegistered,
        object_type: "user",
        object_id: None,
        at: Utc::now(),
        client_addr: client_addr(&req),
    };
    let user = state
        .store
        .create_account(account, audit)
        .await
        .map_err(|e| match e {
            // One answer for a taken name or address, so that registration cannot be used to find
            // out who has an account.
            StoreError::Duplicate(_) => Problem::new(
                StatusCode::CONFLICT,
                "ACCOUNT_EXISTS",
                "Account exists",
                "An account with this username or email already exists",
            ),
            other => other.into(),
        })?;
    Ok(HttpResponse::Created().json(RegisteredUser {
        id: user.id.0,
        username: user.username,
        first_name: user.first_name,
        last_name: user.last_name,
        role: user.role.as_str(),
    }))
}
