//! `POST /api/admin/bookings` `{student_id, tutor_id, state?}` → 201, and
//! `PATCH /api/admin/bookings/{id}` `{state}` → 200.

use actix_web::{HttpResponse, patch, post, web};
use messaging_domain::ValidationError;
use messaging_domain::user::{BookingId, BookingState, UserId};
use serde::Deserialize;

use super::BookingResponse;
use crate::auth::AuthUser;
use crate::problem::Problem;
use crate::state::AppState;

fn parse_state(name: &str) -> Result<BookingState, ValidationError> {
    BookingState::parse(name).ok_or(ValidationError::Malformed {
        field: "state",
        reason: "one of requested, scheduled, active, ended, cancelled",
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateBooking {
    student_id: i64,
    tutor_id: i64,
    state: Option<String>,
}

#[utoipa::path(
    context_path = "/api",
    tag = "admin",
    summary = "Create a booking (state default `requested`)",
    responses(
        (status = 201, description = "The booking", body = super::BookingResponse),
        (status = 400, description = "INVALID_REQUEST", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 401, description = "UNAUTHENTICATED, TOKEN_EXPIRED or SESSION_EXPIRED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 403, description = "ADMIN_ONLY, CSRF_FAILED, ACCOUNT_INACTIVE", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "WRONG_ROLES, VALIDATION_FAILED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 500, description = "INTERNAL_ERROR", body = crate::openapi::ProblemDetails, content_type = "application/problem+json")
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[post("/admin/bookings")]
pub async fn create_booking(
    state: web::Data<AppState>,
    admin: AuthUser,
    body: web::Json<CreateBooking>,
) -> Result<HttpResponse, Problem> {
    let booking_state = parse_state(body.state.as_deref().unwrap_or("requested"))?;
    let booking = state
        .admin
        .create_booking(
            &admin.actor(),
            UserId(body.student_id),
            UserId(body.tutor_id),
            booking_state,
        )
        .await?;
    Ok(HttpResponse::Created().json(BookingResponse::from(booking)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UpdateBooking {
    state: String,
}

#[utoipa::path(
    context_path = "/api",
    tag = "admin",
    summary = "Change a booking's state",
    responses(
        (status = 200, description = "The booking", body = super::BookingResponse),
        (status = 400, description = "INVALID_REQUEST", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 401, description = "UNAUTHENTICATED, TOKEN_EXPIRED or SESSION_EXPIRED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 403, description = "ADMIN_ONLY, CSRF_FAILED, ACCOUNT_INACTIVE", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "NOT_FOUND", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "VALIDATION_FAILED", body = crate::openapi::ProblemDetails, content_type = "application/problem+json"),
        (status = 500, description = "INTERNAL_ERROR", body = crate::openapi::ProblemDetails, content_type = "application/problem+json")
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[patch("/admin/bookings/{id}")]
pub async fn update_booking(
    state: web::Data<AppState>,
    admin: AuthUser,
    path: web::Path<i64>,
    body: web::Json<UpdateBooking>,
) -> Result<HttpResponse, Problem> {
    let booking = state
        .admin
        .set_booking_state(
            &admin.actor(),
            BookingId(crate::routes::positive_id(path.into_inner())?),
            parse_state(&body.state)?,
        )
        .await?;
    Ok(HttpResponse::Ok().json(BookingResponse::from(booking)))
}
