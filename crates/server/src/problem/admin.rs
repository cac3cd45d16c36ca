//! The answers of the admin use cases: account changes, bookings, care assignments, and the
//! audit log's reads.

use actix_web::http::StatusCode;
use messaging_domain::ValidationError;
use messaging_domain::{AdminError, AuditReadError};

use super::Problem;
use super::doc::Documented;

/// 403 for a caller who is not an active admin.
pub(crate) fn admin_only() -> Problem {
    Problem::new(
        StatusCode::FORBIDDEN,
        "ADMIN_ONLY",
        "Forbidden",
        "Only admins can do this",
    )
}

impl From<AdminError> for Problem {
    fn from(err: AdminError) -> Self {
        match err {
            AdminError::NotAdmin => admin_only(),
            AdminError::NotFound => Problem::new(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "Not found",
                "No such user or booking",
            ),
            // 409: the request is well formed; the users' current roles or state refuse it.
            AdminError::WrongRoles(detail) => {
                Problem::new(StatusCode::CONFLICT, "WRONG_ROLES", "Wrong roles", detail)
            }
            AdminError::SelfChange => Problem::new(
                StatusCode::CONFLICT,
                "SELF_CHANGE",
                "Not allowed on yourself",
                "Admins cannot deactivate or demote themselves",
            ),
            AdminError::Store(e) => e.into(),
        }
    }
}

impl From<AuditReadError> for Problem {
    fn from(err: AuditReadError) -> Self {
        match err {
            AuditReadError::NotAdmin => admin_only(),
            AuditReadError::Validation(e) => e.into(),
            AuditReadError::Store(e) => e.into(),
        }
    }
}

impl Documented for AdminError {
    fn problems() -> Vec<Problem> {
        [
            AdminError::NotAdmin,
            AdminError::NotFound,
            AdminError::WrongRoles("wrong roles"),
            AdminError::SelfChange,
        ]
        .into_iter()
        .map(|e| match e {
            AdminError::NotAdmin
            | AdminError::NotFound
            | AdminError::WrongRoles(_)
            | AdminError::SelfChange
            | AdminError::Store(_) => Problem::from(e),
        })
        .collect()
    }
}

impl Documented for AuditReadError {
    fn problems() -> Vec<Problem> {
        let mut all: Vec<Problem> = [AuditReadError::NotAdmin]
            .into_iter()
            .map(|e| match e {
                AuditReadError::NotAdmin
                | AuditReadError::Validation(_)
                | AuditReadError::Store(_) => Problem::from(e),
            })
            .collect();
        all.extend(ValidationError::problems());
        all
    }
}
