//! The contract, exactly: what the OpenAPI document promises is what the server does, System B's
//! routes answer as System B's clients expect, and System A's `/api/v1` routes as System A did.

use messaging_domain::text::LimitSpec;
use messaging_domain::user::Role;
use serde_json::{Value, json};

use crate::support::{TestApp, TestUser};

/// Sends a request with any method and returns the status, the `Allow` header and the body.
async fn with_method(app: &TestApp, method: &str, path: &str, token: &str) -> (u16, String, Value) {
    let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
    let mut resp = awc::Client::default()
        .request(method, format!("{}{path}", app.base))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send()
        .await
        .unwrap();
    let allow = resp
        .headers()
        .get("allow")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = resp.body().await.unwrap();
    (
        resp.status().as_u16(),
        allow,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

pub async fn methods_a_path_does_not_have_get_405_with_allow(app: &TestApp) {
    let a = app.register("meth_a").await;
    let cases = [
        ("TRACE", "/healthz", "GET"),
        ("POST", "/readyz", "GET"),
        ("TRACE", "/api/messages/threads", "GET"),
        // `/api/messages/{id}` would take these, but `inbox` is no id.
        ("PATCH", "/api/messages/inbox", "GET"),
        ("DELETE", "/api/messages/threads", "GET"),
        ("GET", "/api/messages/5", "DELETE, PATCH"),
        ("TRACE", "/api/v1/messages/5", "DELETE, PATCH"),
        ("PUT", "/api/users/5/block", "POST, DELETE"),
        ("GET", "/api/messages", "POST"),
        ("DELETE", "/api/v1/messages", "POST"),
    ];
    for (method, path, allow) in cases {
        let (status, got_allow, body) = with_method(app, method, path, &a.token).await;
        assert_eq!(
            (status, got_allow.as_str(), body["code"].as_str()),
            (405, allow, Some("METHOD_NOT_ALLOWED")),
            "{method} {path}: {body}"
        );
    }
    // A path that names nothing is still 404.
    for (method, path) in [
        ("GET", "/api/nothing-here"),
        ("TRACE", "/api/messages/abc"),
        ("GET", "/api/v1/messages/inbox"),
    ] {
        let (status, allow, body) = with_method(app, method, path, &a.token).await;
        assert_eq!(
            (status, allow.as_str(), body["code"].as_str()),
            (404, "", Some("NOT_FOUND")),
            "{method} {path}"
        );
    }
}

async fn send_b(app: &TestApp, from: &TestUser, body: Value) -> (u16, Value) {
    app.post("/api/messages/send", Some(&from.token), body)
        .await
}

pub async fn system_b_validation_failures_are_400_with_their_code(app: &TestApp) {
    let a = app.register("bval_a").await;
    let b = app.register("bval_b").await;
    let first = send_b(app, &a, json!({"recipient": "bval_b", "content": "hi"})).await;
    assert_eq!(first.0, 201, "{}", first.1);
    let reply = format!("/api/messages/{}/reply", first.1["message_id"]);
    let cases = [
        (
            "/api/messages/send",
            json!({"recipient": "bval_b", "content": "   "}),
            "content",
        ),
        (
            "/api/messages/send",
            json!({"recipient": "bval_b", "subject": "s".repeat(256), "content": "hi"}),
            "subject",
        ),
        (
            "/api/messages/send",
            json!({"recipient": "bval_b", "content": "x".repeat(10_001)}),
            "content",
        ),
        (reply.as_str(), json!({"content": ""}), "content"),
        (
            "/api/clinician/message",
            json!({"recipient_username": "bval_b", "message": "x", "client_message_id": "no spaces"}),
            "client_message_id",
        ),
    ];
    for (path, body, field) in cases {
        let (status, answer) = app.post(path, Some(&b.token), body).await;
        assert_eq!(
            (status, answer["code"].as_str(), answer["field"].as_str()),
            (400, Some("VALIDATION_FAILED"), Some(field)),
            "{path}: {answer}"
        );
    }
    for path in ["/api/messages/inbox?page=0", "/api/messages/sent?page=0"] {
        let (status, answer) = app.get(path, Some(&b.token)).await;
        assert_eq!(
            (status, answer["field"].as_str()),
            (400, Some("page")),
            "{path}: {answer}"
        );
    }
    // System A's routes keep System A's 422.
    let (status, answer) = app
        .post(
            "/api/messages",
            Some(&a.token),
            json!({"recipient_id": b.id, "message": " "}),
        )
        .await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (422, Some("VALIDATION_FAILED"))
    );
}

pub async fn system_b_unknown_recipients_are_404_as_in_system_b(app: &TestApp) {
    let a = app.register("bunk_a").await;
    for recipient in ["nobody_at_all", "bunk_a"] {
        let (status, body) =
            send_b(app, &a, json!({"recipient": recipient, "content": "hi"})).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("RECIPIENT_UNAVAILABLE")),
            "{recipient}: one answer for unknown users and for oneself"
        );
    }
    // System A's routes keep System A's one identical 400.
    let (status, body) = app
        .post(
            "/api/messages",
            Some(&a.token),
            json!({"recipient_id": 999_999, "message": "hi"}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("RECIPIENT_UNAVAILABLE"))
    );
}

pub async fn system_b_limit_falls_back_to_its_default_on_garbage(app: &TestApp) {
    let a = app.register("blim_a").await;
    let b = app.register("blim_b").await;
    for i in 0..3 {
        app.send(&a, &b, &format!("note {i}")).await;
    }
    for (path, limit) in [
        ("/api/messages/inbox?limit=abc", Some(20)),
        ("/api/messages/inbox?limit=", Some(20)),
        ("/api/messages/inbox?limit=2.5", Some(20)),
        ("/api/messages/inbox?limit=0", Some(20)),
        ("/api/messages/sent?limit=lots", Some(20)),
        ("/api/messages/conversation/blim_a?limit=abc", None),
        ("/api/messages/conversation/blim_a?limit=-3", None),
    ] {
        let (status, body) = app.get(path, Some(&b.token)).await;
        assert_eq!(status, 200, "{path}: {body}");
        if let Some(limit) = limit {
            assert_eq!(body["limit"], limit, "{path}");
        } else {
            assert_eq!(body["messages"].as_array().unwrap().len(), 3, "{path}");
        }
    }
}

pub async fn patients_may_write_ten_thousand_characters(app: &TestApp) {
    let admin = app.user_with_role("pat10_admin", Role::Admin).await;
    let doc = app.user_with_role("pat10_doc", Role::Clinician).await;
    let patient = app.user_with_role("pat10_pat", Role::Patient).await;
    let (status, _) = app
        .post(
            "/api/admin/care-assignments",
            Some(&admin.token),
            json!({"clinician_id": doc.id, "patient_id": patient.id}),
        )
        .await;
    assert_eq!(status, 204);
    let (status, first) = app
        .post(
            "/api/clinician/message",
            Some(&doc.token),
            json!({"recipient_username": "pat10_pat", "message": "How are you?"}),
        )
        .await;
    assert_eq!(status, 201, "{first}");
    let long = "w".repeat(10_000);
    let reply = format!("/api/messages/{}/reply", first["message_id"]);
    let (status, body) = app
        .post(&reply, Some(&patient.token), json!({"content": long}))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .post(
            "/api/messages",
            Some(&patient.token),
            json!({"recipient_id": doc.id, "message": long}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

pub async fn v1_delete_is_the_senders_and_hides_the_message_from_both(app: &TestApp) {
    let a = app.register("v1del_a").await;
    let b = app.register("v1del_b").await;
    let kept = app.send(&a, &b, "kept").await;
    let gone = app.send(&a, &b, "gone").await;
    let mut b_ws = app.ws_for(&b, "").await;

    // The recipient may not delete there: 404, as in System A, and nothing changes.
    let (status, body) = app
        .delete(&format!("/api/v1/messages/{}", kept["id"]), &b.token)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("MESSAGE_NOT_FOUND"))
    );

    let (status, _) = app
        .delete(&format!("/api/v1/messages/{}", gone["id"]), &a.token)
        .await;
    assert_eq!(status, 204);
    let frame = b_ws.next_json().await;
    assert_eq!(
        (&frame["type"], &frame["message_id"], &frame["scope"]),
        (&json!("message_deleted"), &gone["id"], &json!("everyone")),
        "the recipient's devices hear of it"
    );
    for user in [&a, &b] {
        let (status, history) = app
            .get(
                &format!(
                    "/api/v1/messages/threads/{}",
                    if user.id == a.id { b.id } else { a.id }
                ),
                Some(&user.token),
            )
            .await;
        assert_eq!(status, 200);
        let texts: Vec<&str> = history["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["message"].as_str())
            .collect();
        assert_eq!(texts, ["kept"], "hidden from both parties");
    }
    // The unversioned route keeps the per-party delete: the recipient hides it from themself.
    let (status, _) = app
        .delete(&format!("/api/messages/{}", kept["id"]), &b.token)
        .await;
    assert_eq!(status, 204);
    let (_, history) = app
        .get(&format!("/api/messages/threads/{}", b.id), Some(&a.token))
        .await;
    assert_eq!(history["messages"][0]["message"], "kept");
}

pub async fn schema_valid_requests_are_not_refused_as_invalid(app: &TestApp) {
    let admin = app.user_with_role("sv_admin", Role::Admin).await;
    let student = app.register("sv_student").await;
    let tutor = app.user_with_role("sv_tutor", Role::Tutor).await;
    // Blocking or unblocking oneself conflicts with who the caller is, like SELF_CHANGE.
    for method in ["POST", "DELETE"] {
        let (status, body) = app
            .request(
                method,
                &format!("/api/users/{}/block", student.id),
                Some(&student.token),
                None,
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (409, Some("CANNOT_BLOCK_SELF")),
            "{method}"
        );
    }
    // A patch that changes nothing answers the user as they are.
    let (status, body) = app
        .patch(
            &format!("/api/admin/users/{}", student.id),
            &admin.token,
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (status, body["username"].as_str()),
        (200, Some("sv_student"))
    );
    // JSON Schema's integers include 7.0.
    let (status, body) = app
        .post(
            "/api/admin/bookings",
            Some(&admin.token),
            json!({"student_id": student.id as f64, "tutor_id": tutor.id as f64}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .post(
            "/api/messages",
            Some(&student.token),
            json!({"recipient_id": tutor.id as f64, "message": "hello"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // Users who are not a clinician and a patient conflict with an assignment (409).
    let (status, body) = app
        .post(
            "/api/admin/care-assignments",
            Some(&admin.token),
            json!({"clinician_id": student.id, "patient_id": tutor.id}),
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("WRONG_ROLES")));
    // An Idempotency-Key and a client_message_id that differ conflict (409).
    let mut resp = awc::Client::default()
        .post(format!("{}/api/messages", app.base))
        .insert_header(("Authorization", format!("Bearer {}", student.token)))
        .insert_header(("Idempotency-Key", "key-1"))
        .send_json(
            &json!({"recipient_id": tutor.id, "message": "hi", "client_message_id": "key-2"}),
        )
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        (resp.status().as_u16(), body["code"].as_str()),
        (409, Some("IDEMPOTENCY_KEY_MISMATCH"))
    );
    // A bad `limit` is refused even when `page_size` decides the page size.
    let (status, body) = app
        .get(
            "/api/messages/search?q=hello&page_size=10&limit=0",
            Some(&student.token),
        )
        .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("limit")));
    // A body of `null` is no body, as the document's optional body says.
    let (status, body) = app
        .post("/api/auth/logout", Some(&student.token), Value::Null)
        .await;
    assert_eq!(status, 204, "{body}");
}

/// The operations of the served document.
async fn document(app: &TestApp) -> Value {
    let (status, doc) = app.get("/api/openapi.json", None).await;
    assert_eq!(status, 200);
    doc
}

fn statuses(doc: &Value, method: &str, path: &str) -> Vec<String> {
    let mut codes: Vec<String> = doc["paths"][path][method]["responses"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} is not documented"))
        .keys()
        .cloned()
        .collect();
    codes.sort();
    codes
}

fn param<'a>(doc: &'a Value, method: &str, path: &str, name: &str) -> &'a Value {
    doc["paths"][path][method]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{method} {path} has no parameter {name}"))
}

#[track_caller]
fn check_statuses(doc: &Value, method: &str, path: &str, expected: &[&str]) {
    let got = statuses(doc, method, path);
    for status in expected {
        assert!(
            got.iter().any(|s| s == status),
            "{method} {path} does not document {status}: {got:?}"
        );
    }
}

pub async fn the_document_states_every_status_bound_and_nullable_field(app: &TestApp) {
    let doc = document(app).await;
    let send = [
        "201", "400", "401", "403", "404", "409", "413", "415", "422", "429", "500",
    ];
    check_statuses(&doc, "post", "/api/messages", &send);
    check_statuses(&doc, "post", "/api/v1/messages", &send);
    check_statuses(
        &doc,
        "post",
        "/api/messages/send",
        &[
            "201", "400", "401", "403", "404", "409", "413", "415", "429", "500",
        ],
    );
    check_statuses(
        &doc,
        "get",
        "/api/messages/inbox",
        &["200", "400", "401", "500"],
    );
    check_statuses(
        &doc,
        "get",
        "/api/messages/threads",
        &["200", "400", "401", "422"],
    );
    check_statuses(
        &doc,
        "delete",
        "/api/users/{id}/block",
        &["204", "401", "403", "404", "409"],
    );
    check_statuses(
        &doc,
        "patch",
        "/api/admin/users/{id}",
        &["200", "400", "403", "404", "409", "415"],
    );
    check_statuses(
        &doc,
        "delete",
        "/api/v1/messages/{id}",
        &["204", "401", "404"],
    );
    check_statuses(&doc, "get", "/readyz", &["200", "503"]);
    // System B's validation failures are 400, not 422.
    assert!(!statuses(&doc, "post", "/api/messages/send").contains(&"422".to_owned()));

    // Bounds the server enforces, as the domain states them.
    for (path, name, spec) in [
        ("/api/messages/threads", "limit", LimitSpec::THREADS),
        (
            "/api/messages/threads/{other_user_id}",
            "page_size",
            LimitSpec::HISTORY,
        ),
        ("/api/messages/search", "page_size", LimitSpec::SEARCH),
        ("/api/messages/search", "limit", LimitSpec::SEARCH_LIMIT),
        ("/api/admin/reports", "limit", LimitSpec::INBOX),
    ] {
        let schema = &param(&doc, "get", path, name)["schema"];
        assert_eq!(
            (schema["minimum"].as_f64(), schema["maximum"].as_f64()),
            (Some(f64::from(spec.min)), Some(f64::from(spec.max))),
            "{path} {name}: {schema}"
        );
    }
    let page = &param(&doc, "get", "/api/messages/search", "page")["schema"];
    assert_eq!(page["minimum"].as_f64(), Some(1.0), "{page}");
    let q = param(&doc, "get", "/api/messages/search", "q");
    assert_eq!(
        (&q["required"], &q["schema"]["minLength"]),
        (&json!(true), &json!(2))
    );
    let id = &param(&doc, "delete", "/api/messages/{id}", "id")["schema"];
    assert_eq!(id["minimum"].as_f64(), Some(1.0), "{id}");
    // System B's lenient limit takes any value.
    let limit = &param(&doc, "get", "/api/messages/inbox", "limit")["schema"];
    assert!(limit["type"].to_string().contains("string"), "{limit}");

    let schemas = &doc["components"]["schemas"];
    let body = &schemas["SendRequest"]["properties"];
    assert_eq!(
        (&body["message"]["minLength"], &body["message"]["maxLength"]),
        (&json!(1), &json!(10_000))
    );
    assert_eq!(body["recipient_id"]["minimum"].as_f64(), Some(1.0));
    let role = &schemas["RoleName"]["enum"];
    assert_eq!(
        role,
        &json!(["student", "tutor", "patient", "clinician", "admin"])
    );
    // Nullable fields are nullable.
    for (schema, field) in [
        ("ConversationResponse", "with_user"),
        ("ReportEntry", "reporter_username"),
        ("ReportEntry", "message"),
        ("MessageResponse", "subject"),
    ] {
        let text = schemas[schema]["properties"][field].to_string();
        assert!(
            text.contains("null"),
            "{schema}.{field} is not nullable: {text}"
        );
    }
    // An unknown user's conversation answers `with_user: null`, which the schema allows.
    let a = app.register("nullable_a").await;
    let (status, body) = app
        .get(
            "/api/messages/conversation/nobody_like_that",
            Some(&a.token),
        )
        .await;
    assert_eq!((status, &body["with_user"]), (200, &Value::Null));
}

pub async fn a_json_body_must_be_an_object(app: &TestApp) {
    let admin = app.user_with_role("arr_admin", Role::Admin).await;
    let student = app.register("arr_student").await;
    // serde would read these arrays as the structs' fields in order.
    let (status, body) = app
        .patch(
            &format!("/api/admin/users/{}", student.id),
            &admin.token,
            Some(json!([false, null])),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("INVALID_REQUEST"))
    );
    let (status, body) = app
        .post(
            "/api/messages",
            Some(&student.token),
            json!([admin.id, "hello", null, null]),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("INVALID_REQUEST"))
    );
    let (status, user) = app
        .post(
            "/api/auth/login",
            None,
            json!(["arr_student", crate::support::PASSWORD, false]),
        )
        .await;
    assert_eq!(status, 400, "{user}");
    let (_, list) = app.get("/api/messages/threads", Some(&admin.token)).await;
    assert_eq!(list, json!([]), "nothing was sent");
}
