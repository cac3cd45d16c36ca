//! `POST /api/admin/bookings` `{student_id, tutor_id, state?}` → 201, and
//! `PATCH /api/admin/bookings/{id}` `{state}` → 200.

use actix_web::{HttpResponse, patch, post, web};
use messaging_domain::user::{BookingId, BookingState, UserId};
use serde::Deserialize;

use super::BookingResponse;
use crate::auth::AuthUser;
use crate::problem::Problem;
use crate::state::AppState;

/// A booking's state, as the API names it.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StateName {
    Requested,
    Scheduled,
    Active,
    Ended,
    Cancelled,
}

impl From<StateName> for BookingState {
    fn from(name: StateName) -> Self {
        match name {
            StateName::Requested => BookingState::Requested,
            StateName::Scheduled => BookingState::Scheduled,
            StateName::Active => BookingState::Active,
            StateName::Ended => BookingState::Ended,
            StateName::Cancelled => BookingState::Cancelled,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateBooking {
    /// An active student.
    #[serde(deserialize_with = "crate::dto::whole_number")]
    student_id: i64,
    /// An active tutor.
    #[serde(deserialize_with = "crate::dto::whole_number")]
    tutor_id: i64,
    /// `requested` when absent.
    state: Option<StateName>,
}

#[utoipa::path(
    context_path = "/api",
    tag = "admin",
    summary = "Create a booking (state default `requested`)",
    responses(
        (status = 201, description = "The booking", body = super::BookingResponse),
        crate::problem::doc::Errors<messaging_domain::AdminError>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[post("/admin/bookings")]
pub async fn create_booking(
    state: web::Data<AppState>,
    admin: AuthUser,
    body: web::Json<CreateBooking>,
) -> Result<HttpResponse, Problem> {
    let booking_state = body
        .state
        .map_or(BookingState::Requested, BookingState::from);
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
    state: StateName,
}

#[utoipa::path(
    context_path = "/api",
    tag = "admin",
    summary = "Change a booking's state",
    responses(
        (status = 200, description = "The booking", body = super::BookingResponse),
        crate::problem::doc::Errors<messaging_domain::AdminError>
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
            body.state.into(),
        )
        .await?;
    Ok(HttpResponse::Ok().json(BookingResponse::from(booking)))
}
