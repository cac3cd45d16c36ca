//! `GET /api/clinician/patients` (System B): the clinician's assigned patients, each with the last
//! message of their conversation and the clinician's unread count. Clinicians only (403
//! `CLINICIAN_ONLY`).

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::auth::AuthUser;
use crate::dto::preview;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PatientLastMessage {
    pub id: i64,
    pub sender_id: i64,
    pub subject: Option<String>,
    /// The first 100 characters of the body.
    pub preview: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PatientEntry {
    pub id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub last_message: Option<PatientLastMessage>,
    pub unread_count: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PatientsResponse {
    pub patients: Vec<PatientEntry>,
}

#[utoipa::path(
    context_path = "/api",
    tag = "messages (System B)",
    summary = "The clinician's assigned patients with their last message and unread count",
    responses(
        (status = 200, description = "Every assigned, active patient, by name", body = PatientsResponse),
        crate::problem::doc::Errors<messaging_domain::PeopleError>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[get("/clinician/patients")]
pub async fn patients(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, Problem> {
    let patients = state.people.clinician_patients(&user.actor()).await?;
    Ok(HttpResponse::Ok().json(PatientsResponse {
        patients: patients
            .into_iter()
            .map(|p| PatientEntry {
                id: p.patient.id.0,
                username: p.patient.username,
                first_name: p.patient.first_name,
                last_name: p.patient.last_name,
                last_message: p.last_message.map(|m| PatientLastMessage {
                    id: m.id.0,
                    sender_id: m.sender_id.0,
                    subject: m.subject,
                    preview: preview(&m.body, 100),
                    created_at: m.created_at,
                }),
                unread_count: p.unread_count,
            })
            .collect(),
    }))
}
