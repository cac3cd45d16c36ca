//! The caller's own account: who they are, their settings, their password.

pub mod password;
pub mod profile;

use actix_web::http::StatusCode;
use messaging_domain::people::PeopleError;

use crate::problem::Problem;

fn account_inactive() -> Problem {
    Problem::new(
        StatusCode::FORBIDDEN,
        "ACCOUNT_INACTIVE",
        "Account inactive",
        "Your account is not active.",
    )
}

impl From<PeopleError> for Problem {
    fn from(err: PeopleError) -> Self {
        match err {
            PeopleError::AccountInactive => account_inactive(),
            PeopleError::ClinicianOnly => Problem::new(
                StatusCode::FORBIDDEN,
                "CLINICIAN_ONLY",
                "Forbidden",
                "Only clinicians have a patient list",
            ),
            PeopleError::AdminOnly => Problem::new(
                StatusCode::FORBIDDEN,
                "ADMIN_ONLY",
                "Forbidden",
                "Only admins can do this",
            ),
            PeopleError::Store(e) => e.into(),
        }
    }
}
