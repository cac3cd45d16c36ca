//! The answers of the people use cases: the directory, a clinician's patients, the admins' user
//! list and the caller's own account.

use actix_web::http::StatusCode;
use messaging_domain::people::PeopleError;

use super::Problem;
use super::admin::admin_only;
use super::doc::Documented;

impl From<PeopleError> for Problem {
    fn from(err: PeopleError) -> Self {
        match err {
            PeopleError::AccountInactive => Problem::new(
                StatusCode::FORBIDDEN,
                "ACCOUNT_INACTIVE",
                "Account inactive",
                "Your account is not active.",
            ),
            PeopleError::ClinicianOnly => Problem::new(
                StatusCode::FORBIDDEN,
                "CLINICIAN_ONLY",
                "Forbidden",
                "Only clinicians have a patient list",
            ),
            PeopleError::AdminOnly => admin_only(),
            PeopleError::Store(e) => e.into(),
        }
    }
}

impl Documented for PeopleError {
    fn problems() -> Vec<Problem> {
        [
            PeopleError::AccountInactive,
            PeopleError::ClinicianOnly,
            PeopleError::AdminOnly,
        ]
        .into_iter()
        .map(|e| match e {
            PeopleError::AccountInactive
            | PeopleError::ClinicianOnly
            | PeopleError::AdminOnly
            | PeopleError::Store(_) => Problem::from(e),
        })
        .collect()
    }
}
