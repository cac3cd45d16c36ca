//! `GET /api/people?q=`: the people the caller may start a conversation with (a student their
//! booked tutors, a tutor their students, a clinician their assigned patients, an admin anyone;
//! a patient nobody), whose name or user name contains `q`. At most 50, by name.

use actix_web::{HttpResponse, get, web};
use messaging_domain::people::NameQuery;
use serde::{Deserialize, Serialize};

use crate::auth::AuthUser;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectoryQuery {
    /// Words in the name or user name (case-insensitive), at most 100 characters.
    #[param(max_length = 100)]
    q: Option<String>,
}

/// A person as the directory shows them (no email address).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Person {
    pub id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub role: &'static str,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DirectoryResponse {
    pub people: Vec<Person>,
}

#[utoipa::path(
    context_path = "/api",
    tag = "people",
    summary = "People the caller may start a conversation with",
    params(DirectoryQuery),
    responses(
        (status = 200, description = "At most 50 people, by name", body = DirectoryResponse),
        crate::problem::doc::Errors<(messaging_domain::PeopleError, messaging_domain::ValidationError)>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[get("/people")]
pub async fn directory(
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<DirectoryQuery>,
) -> Result<HttpResponse, Problem> {
    let q = NameQuery::parse(query.q.as_deref())?;
    let people = state.people.directory(&user.actor(), q).await?;
    Ok(HttpResponse::Ok().json(DirectoryResponse {
        people: people
            .into_iter()
            .map(|p| Person {
                id: p.id.0,
                username: p.username,
                first_name: p.first_name,
                last_name: p.last_name,
                role: p.role.as_str(),
            })
            .collect(),
    }))
}
