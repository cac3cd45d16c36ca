//! Every operation of the served OpenAPI document, fed generated bad values in each query
//! parameter, path parameter and body field, answers with a 4xx problem, never a 5xx, and changes
//! nothing: no message is stored and no audit entry is written (every state change writes one).

use chrono::Utc;
use messaging_domain::user::{BookingState, Role, UserId};
use serde_json::{Map, Value, json};

use crate::support::TestApp;

/// Values that are wrong for a field of the given JSON type.
fn bad_values(kind: &str) -> Vec<Value> {
    let long = "x".repeat(20_000);
    let mut values = vec![
        Value::Null,
        json!([]),
        json!({"nested": true}),
        json!(" \u{0}\u{7}\n"),
        json!("\u{0}"),
        json!(long),
    ];
    match kind {
        "integer" | "number" => values.extend([
            json!("12"),
            json!(-1),
            json!(0),
            json!(i64::MAX),
            json!(1.5),
            json!(true),
        ]),
        "boolean" => values.extend([json!("yes"), json!(2)]),
        _ => values.extend([json!(42), json!(true), json!(""), json!("  ")]),
    }
    values
}

/// Raw query-string values that are wrong for a parameter of the given type.
fn bad_query_values(kind: &str) -> Vec<String> {
    let mut values = vec![
        String::new(),
        "%00".into(),
        "%FF%FE".into(),
        "x".repeat(5_000),
        "%20%20".into(),
    ];
    if matches!(kind, "integer" | "number") {
        values.extend(["-1", "0", "abc", "99999999999999999999", "1e400", "1.5"].map(String::from));
    }
    if kind == "boolean" {
        values.push("maybe".into());
    }
    values
}

/// Path values that name nothing valid.
fn bad_path_values(kind: &str) -> Vec<String> {
    let mut values = vec!["%00".into(), "x".repeat(300), "%E2%80%AE".into()];
    if matches!(kind, "integer" | "number") {
        values.extend(["-1", "0", "abc", "99999999999999999999"].map(String::from));
    }
    values
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap_or_default();
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

fn kind_of(doc: &Value, schema: &Value) -> String {
    let schema = resolve(doc, schema);
    match &schema["type"] {
        Value::String(t) => t.clone(),
        // `["integer", "null"]` for optional fields in OpenAPI 3.1.
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("string")
            .to_owned(),
        _ => "string".into(),
    }
}

/// A body that passes the schema's shape: each property gets a plausible value of its type.
fn plausible_body(doc: &Value, schema: &Value) -> Map<String, Value> {
    let schema = resolve(doc, schema);
    let mut body = Map::new();
    if let Some(props) = schema["properties"].as_object() {
        for (name, prop) in props {
            let value = match kind_of(doc, prop).as_str() {
                "integer" | "number" => json!(1),
                "boolean" => json!(false),
                _ => json!("value"),
            };
            body.insert(name.clone(), value);
        }
    }
    body
}

/// The stored messages, and every audit entry but failed logins (which are audited on purpose and
/// change no data).
async fn snapshot(app: &TestApp) -> (i64, Vec<i64>) {
    use messaging_domain::text::{LimitSpec, Page, PageNumber, PageSize};
    let messages = app.store.message_count().await.unwrap();
    let mut ids = Vec::new();
    for number in 1.. {
        let page = Page {
            number: PageNumber::parse(Some(number)).unwrap(),
            size: PageSize::parse(Some(200), LimitSpec::CONVERSATION).unwrap(),
        };
        let entries = app
            .store
            .audit_entries(messaging_store::audit::AuditFilter::default(), page)
            .await
            .unwrap();
        if entries.is_empty() {
            break;
        }
        ids.extend(
            entries
                .into_iter()
                .filter(|e| e.action != "auth.login_failed")
                .map(|e| e.id),
        );
    }
    (messages, ids)
}

#[track_caller]
fn check_answer(what: &str, status: u16, body: &Value) {
    assert!(
        (400..500).contains(&status),
        "{what}: expected a 4xx, got {status}: {body}"
    );
    assert!(
        body["code"].is_string() && body["status"] == json!(status),
        "{what}: not a problem body: {body}"
    );
}

pub async fn generated_bad_input_gets_4xx_problems_and_changes_nothing(app: &TestApp) {
    let admin = app.user_with_role("fuzz_admin", Role::Admin).await;
    let a = app.register("fuzz_a").await;
    let b = app.register("fuzz_b").await;
    let tutor = app.user_with_role("fuzz_tutor", Role::Tutor).await;
    app.store
        .create_booking(
            UserId(a.id),
            UserId(tutor.id),
            BookingState::Active,
            Utc::now(),
        )
        .await
        .unwrap();
    app.send(&a, &b, "a message to point at").await;
    let (_, spec) = app.get("/api/openapi.json", None).await;
    let before = snapshot(app).await;

    let mut tried = 0usize;
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let method = method.to_uppercase();
            let params = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let path_params: Vec<(String, String)> = params
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| {
                    (
                        p["name"].as_str().unwrap().to_owned(),
                        kind_of(&spec, &p["schema"]),
                    )
                })
                .collect();
            // Path parameters that name something real, so that bad queries and bodies are what
            // is being tested; then each path parameter in turn is made bad.
            let fill = |overrides: &[(&str, &str)]| {
                let mut filled = path.clone();
                for (name, kind) in &path_params {
                    let value = overrides
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| (*v).to_owned())
                        .unwrap_or_else(|| {
                            if kind == "string" {
                                "fuzz_b".into()
                            } else {
                                "1".into()
                            }
                        });
                    filled = filled.replace(&format!("{{{name}}}"), &value);
                }
                filled
            };
            let body_schema =
                operation["requestBody"]["content"]["application/json"]["schema"].clone();
            let has_body = !body_schema.is_null();
            let base_body = if has_body {
                Value::Object(plausible_body(&spec, &body_schema))
            } else {
                Value::Null
            };
            let send = |url: String, body: Option<Value>| {
                let method = method.clone();
                let token = admin.token.clone();
                async move { app.request(&method, &url, Some(&token), body).await }
            };

            for param in params.iter().filter(|p| p["in"] == "query") {
                let name = param["name"].as_str().unwrap();
                for value in bad_query_values(&kind_of(&spec, &param["schema"])) {
                    let url = format!("{}?{name}={value}", fill(&[]));
                    let body = has_body.then(|| base_body.clone());
                    let (status, answer) = send(url.clone(), body).await;
                    // A bad value of an optional filter may also be ignored safely; it must never
                    // be a fault or a change.
                    if status >= 300 {
                        check_answer(&format!("{method} {url}"), status, &answer);
                    }
                    tried += 1;
                }
            }
            for (name, kind) in &path_params {
                for value in bad_path_values(kind) {
                    let url = fill(&[(name.as_str(), value.as_str())]);
                    let body = has_body.then(|| base_body.clone());
                    let (status, answer) = send(url.clone(), body).await;
                    if method != "GET" || status >= 300 {
                        check_answer(&format!("{method} {url}"), status, &answer);
                    }
                    tried += 1;
                }
            }
            if has_body {
                let url = fill(&[]);
                let required = resolve(&spec, &body_schema)["required"]
                    .as_array()
                    .is_some_and(|r| !r.is_empty());
                let mut wholes = vec![json!([]), json!("text"), json!(42)];
                if required {
                    wholes.push(json!({}));
                }
                for whole in wholes {
                    let (status, answer) = send(url.clone(), Some(whole.clone())).await;
                    check_answer(
                        &format!("{method} {url} with body {whole}"),
                        status,
                        &answer,
                    );
                    tried += 1;
                }
                for field in base_body.as_object().unwrap().keys() {
                    let prop = &resolve(&spec, &body_schema)["properties"][field];
                    for bad in bad_values(&kind_of(&spec, prop)) {
                        let mut body = base_body.clone();
                        body[field] = bad.clone();
                        let (status, answer) = send(url.clone(), Some(body)).await;
                        check_answer(
                            &format!("{method} {url} with {field} = {bad:.40}"),
                            status,
                            &answer,
                        );
                        tried += 1;
                    }
                }
            }
        }
    }
    assert!(tried > 300, "only {tried} requests were generated");
    let after = snapshot(app).await;
    assert_eq!(before.0, after.0, "a message was stored");
    assert_eq!(before.1, after.1, "an audited change went through");
}
