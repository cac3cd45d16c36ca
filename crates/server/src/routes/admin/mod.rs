//! The admin API (active admins only; others get 403 `ADMIN_ONLY`).

pub mod assignments;
pub mod audit;
pub mod audit_verify;
pub mod bookings;
pub mod reports;
pub mod user_list;
pub mod users;

use messaging_domain::user::{Booking, User};
use serde::Serialize;

/// A user as admins see it (with the email address, which only admins may see).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminUser {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: &'static str,
    pub is_active: bool,
}

impl From<User> for AdminUser {
    fn from(u: User) -> Self {
        Self {
            id: u.id.0,
            username: u.username,
            email: u.email,
            first_name: u.first_name,
            last_name: u.last_name,
            role: u.role.as_str(),
            is_active: u.is_active,
        }
    }
}

/// A booking.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BookingResponse {
    pub id: i64,
    pub student_id: i64,
    pub tutor_id: i64,
    pub state: &'static str,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<Booking> for BookingResponse {
    fn from(b: Booking) -> Self {
        Self {
            id: b.id.0,
            student_id: b.student_id.0,
            tutor_id: b.tutor_id.0,
            state: b.state.as_str(),
            created_at: b.created_at,
        }
    }
}
