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
