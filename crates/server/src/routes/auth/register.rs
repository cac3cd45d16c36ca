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

use crate::auth::{Secret, client_addr, hash_password_off_thread};
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

const MIN_PASSWORD: usize = 8;
const MAX_PASSWORD: usize = 128;

#[utoipa::path(
    context_path = "/api",
    tag = "auth",
    summary = "Create an account",
    responses(
        (status = 201, description = "The new account", body = RegisteredUser),
        crate::problem::doc::Errors<(messaging_domain::ValidationError, crate::problem::doc::RateLimited, AccountExists)>
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
    let password_hash = hash_password_off_thread(body.password).await?;
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

/// `ACCOUNT_EXISTS`, answered for a taken name or address.
#[derive(Debug)]
pub struct AccountExists;

impl crate::problem::doc::Documented for AccountExists {
    fn problems() -> Vec<Problem> {
        vec![crate::problem::doc::named(
            StatusCode::CONFLICT,
            "ACCOUNT_EXISTS",
        )]
    }
}
