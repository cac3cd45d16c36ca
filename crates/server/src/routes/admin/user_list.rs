//! `GET /api/admin/users?q=&role=&page=&limit=`: every account (active or not) whose user name,
//! name or email address contains `q`, by id; admins only.

use actix_web::{HttpResponse, get, web};
use messaging_domain::ValidationError;
use messaging_domain::people::{NameQuery, UserFilter};
use messaging_domain::text::{LimitSpec, Page, PageNumber, PageSize};
use messaging_domain::user::Role;
use serde::{Deserialize, Serialize};

use super::AdminUser;
use crate::auth::AuthUser;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Words in the user name, name or email address (case-insensitive).
    #[param(max_length = 100)]
    q: Option<String>,
    /// `student`, `tutor`, `patient`, `clinician` or `admin`.
    #[param(pattern = r"^(student|tutor|patient|clinician|admin)?$")]
    role: Option<String>,
    /// 1-based page (1).
    #[param(minimum = 1, maximum = 10000)]
    page: Option<i64>,
    /// 1..=100 (50).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserListResponse {
    pub users: Vec<AdminUser>,
    pub page: u32,
    pub limit: u32,
}

/// Admins page through users 50 at a time, 100 at most.
const USER_LIMIT: LimitSpec = LimitSpec {
    field: "limit",
    min: 1,
    max: 100,
    default: 50,
};

#[utoipa::path(
    context_path = "/api",
    tag = "admin",
    summary = "List and search users (with email addresses)",
    params(UserListQuery),
    responses(
        (status = 200, description = "One page of users, by id", body = UserListResponse),
        crate::problem::doc::Errors<(messaging_domain::PeopleError, messaging_domain::ValidationError)>
    ),
    security(("bearer" = []), ("session_cookie" = []))
)]
#[get("/admin/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    admin: AuthUser,
    query: web::Query<UserListQuery>,
) -> Result<HttpResponse, Problem> {
    let query = query.into_inner();
    let role = match query.role.as_deref() {
        None | Some("") => None,
        Some(name) => Some(Role::parse(name).ok_or(ValidationError::Malformed {
            field: "role",
            reason: "one of student, tutor, patient, clinician, admin",
        })?),
    };
    let filter = UserFilter {
        query: NameQuery::parse(query.q.as_deref())?,
        role,
    };
    let page = Page {
        number: PageNumber::parse(query.page)?,
        size: PageSize::parse(query.limit, USER_LIMIT)?,
    };
    let users = state.people.users(&admin.actor(), filter, page).await?;
    Ok(HttpResponse::Ok().json(UserListResponse {
        users: users.into_iter().map(AdminUser::from).collect(),
        page: page.number.get(),
        limit: page.size.get(),
    }))
}
