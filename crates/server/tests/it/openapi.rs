//! The OpenAPI document and Swagger UI.

use crate::support::{Backend, TestApp};

/// Every documented route: method and the path as the document names it.
const DOCUMENTED: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("post", "/api/auth/register"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/refresh"),
    ("post", "/api/auth/logout"),
    ("get", "/api/csrf-token"),
    ("get", "/api/messages/threads"),
    ("get", "/api/messages/threads/{other_user_id}"),
    ("patch", "/api/messages/threads/{other_user_id}/read-all"),
    ("get", "/api/messages/search"),
    ("get", "/api/messages/unread-count"),
    ("post", "/api/messages"),
    ("patch", "/api/messages/{id}/read"),
    ("patch", "/api/messages/{id}"),
    ("delete", "/api/messages/{id}"),
    ("post", "/api/messages/send"),
    ("get", "/api/messages/inbox"),
    ("get", "/api/messages/sent"),
    ("get", "/api/messages/conversation/{username}"),
    ("post", "/api/messages/{id}/reply"),
    ("post", "/api/clinician/message"),
    ("post", "/api/users/{id}/block"),
    ("delete", "/api/users/{id}/block"),
    ("post", "/api/messages/{id}/report"),
    ("patch", "/api/admin/users/{id}"),
    ("post", "/api/admin/bookings"),
    ("patch", "/api/admin/bookings/{id}"),
    ("post", "/api/admin/care-assignments"),
    (
        "delete",
        "/api/admin/care-assignments/{clinician_id}/{patient_id}",
    ),
    ("get", "/api/admin/reports"),
    ("get", "/api/admin/audit"),
];

#[actix_web::test]
async fn openapi_document_is_3_1_and_lists_every_route() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (status, doc) = app.get("/api/openapi.json", None).await;
    assert_eq!(status, 200, "{doc}");
    let version = doc["openapi"].as_str().expect("an openapi version string");
    assert!(version.starts_with("3.1"), "{version}");
    for (method, path) in DOCUMENTED {
        let op = &doc["paths"][*path][*method];
        assert!(
            op.is_object(),
            "{method} {path} is missing from the document"
        );
        // Every route documents its error responses with the problem schema.
        let responses = op["responses"].as_object().unwrap();
        if *path == "/healthz" {
            continue;
        }
        let problem = responses.iter().any(|(code, r)| {
            (code.starts_with('4') || code.starts_with('5'))
                && r["content"]["application/problem+json"]["schema"]["$ref"]
                    == "#/components/schemas/ProblemDetails"
        });
        assert!(problem, "{method} {path} documents no problem response");
    }
    let problem = &doc["components"]["schemas"]["ProblemDetails"]["properties"];
    for field in [
        "type",
        "title",
        "status",
        "detail",
        "code",
        "field",
        "retry_after",
    ] {
        assert!(problem[field].is_object(), "ProblemDetails lacks {field}");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // Every schema reference resolves.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let text = doc.to_string();
    for part in text.split("\"#/components/schemas/").skip(1) {
        let name = part.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "dangling reference to {name}");
    }
    // Path parameters and query parameters come through.
    let params = doc["paths"]["/api/messages/{id}"]["delete"]["parameters"]
        .as_array()
        .unwrap();
    let names: Vec<&str> = params.iter().filter_map(|p| p["name"].as_str()).collect();
    assert!(
        names.contains(&"id") && names.contains(&"scope"),
        "{names:?}"
    );
}

#[actix_web::test]
async fn swagger_ui_is_served_offline() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let url = format!("{}/docs/", app.base);
    let mut resp = awc::Client::default().get(url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body = resp.body().await.unwrap();
    let html = String::from_utf8_lossy(&body);
    assert!(html.contains("swagger-ui"), "{html}");
    // The page loads its script from this server, not from a CDN.
    assert!(!html.contains("https://"), "{html}");
    let url = format!("{}/docs/swagger-ui-bundle.js", app.base);
    let resp = awc::Client::default().get(url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

#[test]
fn a_problem_an_operation_does_not_document_fails_the_test_that_received_it() {
    use crate::support::documented::assert_documented;
    use serde_json::json;
    // Documented: the edit route answers 403 NOT_SENDER, also under /api/v1 and for any id.
    assert_documented(
        "PATCH",
        "/api/messages/12",
        403,
        &json!({"code": "NOT_SENDER"}),
    );
    assert_documented(
        "PATCH",
        "/api/v1/messages/12",
        403,
        &json!({"code": "NOT_SENDER"}),
    );
    // Not documented: the thread list never refuses a sender, and the inbox is not `{id}`.
    for (method, path, status, code) in [
        ("GET", "/api/messages/threads", 403, "NOT_SENDER"),
        (
            "GET",
            "/api/messages/inbox?page=2",
            404,
            "MESSAGE_NOT_FOUND",
        ),
        ("PATCH", "/api/messages/12", 409, "NOT_SENDER"),
    ] {
        let body = json!({ "code": code });
        let caught = std::panic::catch_unwind(|| assert_documented(method, path, status, &body));
        assert!(
            caught.is_err(),
            "{method} {path} {status} {code} passed the check"
        );
    }
}

/// Every (status, code) pair the server's mappings can answer: each use case's error, what the
/// handlers add, and what extractors and the router answer for any route.
fn mapped_problems() -> Vec<(u16, String)> {
    use messaging_domain::service::accounts::{
        AuthError, LoginError, PasswordChangeError, RefreshError, RegisterError,
    };
    use server::problem::doc::{Documented, RateLimited, SystemB};
    fn of<T: Documented>() -> Vec<server::problem::Problem> {
        T::problems()
    }
    let mut all = [
        of::<AuthError>(),
        of::<LoginError>(),
        of::<RegisterError>(),
        of::<RefreshError>(),
        of::<PasswordChangeError>(),
        of::<messaging_domain::HashError>(),
        of::<messaging_domain::ValidationError>(),
        of::<SystemB<messaging_domain::ValidationError>>(),
        of::<messaging_domain::contact::ContactRefusal>(),
        of::<messaging_domain::SendError>(),
        of::<SystemB<messaging_domain::SendError>>(),
        of::<messaging_domain::EditError>(),
        of::<messaging_domain::DeleteError>(),
        of::<messaging_domain::LiveError>(),
        of::<messaging_domain::ReadError>(),
        of::<messaging_domain::SafetyError>(),
        of::<messaging_domain::AdminError>(),
        of::<messaging_domain::AuditReadError>(),
        of::<messaging_domain::PeopleError>(),
        of::<messaging_domain::attachment::FileRefusal>(),
        of::<messaging_domain::DownloadError>(),
        of::<messaging_files::LinkError>(),
        of::<RateLimited>(),
        of::<server::readiness::NotReady>(),
        of::<server::idempotency::ClientIdProblems>(),
        of::<server::routes::messages::send_with_attachment::FormProblems>(),
        of::<server::routes::messages::delete_v1::SenderOnly>(),
        of::<server::routes::auth::csrf::NoSession>(),
        of::<server::routes::attachments::file::FileGone>(),
        server::problem::json_body_problems(),
    ]
    .into_iter()
    .flatten()
    .map(|p| (p.status().as_u16(), p.code().to_owned()))
    .collect::<Vec<_>>();
    for code in server::auth::UNAUTHENTICATED_CODES {
        all.push((401, code.to_owned()));
    }
    for (status, code) in [
        (403, "CSRF_FAILED"),
        (400, "INVALID_REQUEST"),
        (404, "NOT_FOUND"),
        (500, "INTERNAL_ERROR"),
        (503, "DATABASE_UNAVAILABLE"),
    ] {
        all.push((status, code.to_owned()));
    }
    all
}

#[test]
fn every_documented_error_is_one_the_mapping_answers_and_every_route_lists_the_generic_ones() {
    let doc = serde_json::to_value(server::openapi::document()).unwrap();
    let mapped = mapped_problems();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(responses) = op["responses"].as_object() else {
                continue;
            };
            operations += 1;
            let listed = |status: &str| -> Vec<String> {
                responses
                    .get(status)
                    .and_then(|r| r["description"].as_str())
                    .map(server::problem::doc::described_codes)
                    .unwrap_or_default()
            };
            for (status, response) in responses {
                let numeric: u16 = status.parse().unwrap();
                if numeric < 400 {
                    continue;
                }
                assert_eq!(
                    response["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/ProblemDetails",
                    "{method} {path} {status}"
                );
                // Written by the derivation, not by hand: nothing but the codes.
                let description = response["description"].as_str().unwrap();
                let codes = server::problem::doc::described_codes(description);
                let names: Vec<&str> = codes.iter().map(String::as_str).collect();
                assert_eq!(
                    server::problem::doc::describe(&names),
                    description,
                    "{method} {path} {status}: a hand-written error response"
                );
                for code in codes {
                    assert!(
                        mapped.contains(&(numeric, code.clone())),
                        "{method} {path} documents {status} {code}, which no mapping answers"
                    );
                }
            }
            if path != "/healthz" {
                assert!(
                    listed("500").contains(&"INTERNAL_ERROR".to_owned()),
                    "{method} {path}"
                );
                assert!(
                    listed("503").contains(&"DATABASE_UNAVAILABLE".to_owned()),
                    "{method} {path}"
                );
            }
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                for code in server::auth::UNAUTHENTICATED_CODES {
                    assert!(
                        listed("401").iter().any(|c| c == code),
                        "{method} {path}: 401 {code}"
                    );
                }
            }
        }
    }
    assert!(operations > 40, "only {operations} operations were found");
}
