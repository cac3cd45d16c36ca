//! What one user can learn of another through the API: contact details in everything the other
//! party reads, masked whatever the text (subjects, display names, bodies of any length), and
//! nothing about who exists or what role they have from a refused send.

use messaging_domain::user::{Role, UserId};
use serde_json::{Value, json};

use crate::support::{PASSWORD, TestApp, TestUser};

/// The worst input known for the old masking: it recursed once per repetition.
const WORST_UNIT: &str = "@a.co/";

pub async fn the_longest_worst_case_body_is_masked_and_the_server_keeps_answering(app: &TestApp) {
    // Clinicians and admins may send the longest bodies (10 000 characters).
    let admin = app.user_with_role("root_w", Role::Admin).await;
    let student = app.register("stu_w").await;
    let body: String = WORST_UNIT.chars().cycle().take(10_000).collect();
    let (status, sent) = app
        .post(
            "/api/messages",
            Some(&admin.token),
            json!({"recipient_id": student.id, "message": body}),
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    let stored = sent["message"].as_str().unwrap();
    assert!(stored.starts_with("@***/@a.co/"), "{}", &stored[..40]);
    // The server is still there, and answers the recipient.
    let (status, threads) = app.get("/api/messages/threads", Some(&student.token)).await;
    assert_eq!(status, 200, "{threads}");
    assert_eq!(threads[0]["last_message"].as_str(), Some(stored));
    let (status, _) = app.get("/healthz", None).await;
    assert_eq!(status, 200);
}

/// Registers through the API with the given display name, and logs in.
async fn register_named(app: &TestApp, username: &str, first: &str, last: &str) -> TestUser {
    let (status, body) = app
        .post(
            "/api/auth/register",
            None,
            json!({
                "username": username,
                "email": format!("{username}@example.com"),
                "password": PASSWORD,
                "first_name": first,
                "last_name": last,
            }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let tokens = app.login(username).await;
    TestUser {
        id: body["id"].as_i64().unwrap(),
        token: tokens["access_token"].as_str().unwrap().into(),
    }
}

pub async fn subjects_and_display_names_reach_the_other_party_masked(app: &TestApp) {
    const FIRST: &str = "Reach me on whatsapp at johnny99";
    const LAST: &str = "call 555-1234";
    const FIRST_MASKED: &str = "Reach me on whatsapp at ***";
    const LAST_MASKED: &str = "call ***-****";
    const SUBJECT_MASKED: &str = "Call ***-**** or j***@e***.com";
    let tutor = register_named(app, "tut_names", FIRST, LAST).await;
    let student = app.register("stu_names").await;
    let mut socket = app.ws_for(&student, "").await;

    // The two share no booking: the subject is masked like the body.
    let (status, sent) = app
        .post(
            "/api/messages/send",
            Some(&tutor.token),
            json!({
                "recipient": "stu_names",
                "subject": "Call 555-1234 or john@example.com",
                "content": "hello there",
            }),
        )
        .await;
    assert_eq!(
        (status, sent["subject"].as_str()),
        (201, Some(SUBJECT_MASKED))
    );
    let id = sent["message_id"].as_i64().unwrap();

    // Everywhere the student sees the tutor, the tutor's name is masked.
    let names = |face: &Value, prefix: &str| {
        (
            face[format!("{prefix}first_name")]
                .as_str()
                .map(str::to_owned),
            face[format!("{prefix}last_name")]
                .as_str()
                .map(str::to_owned),
        )
    };
    let masked = (Some(FIRST_MASKED.to_owned()), Some(LAST_MASKED.to_owned()));
    let (_, threads) = app.get("/api/messages/threads", Some(&student.token)).await;
    assert_eq!(
        names(&threads[0], "other_user_"),
        masked,
        "threads: {threads}"
    );
    let (_, history) = app
        .get(
            &format!("/api/messages/threads/{}", tutor.id),
            Some(&student.token),
        )
        .await;
    assert_eq!(names(&history["messages"][0], "sender_"), masked, "history");
    assert_eq!(history["messages"][0]["subject"], SUBJECT_MASKED);
    let (_, found) = app
        .get("/api/messages/search?q=hello", Some(&student.token))
        .await;
    assert_eq!(
        names(&found["messages"][0], "sender_"),
        masked,
        "search: {found}"
    );
    let (_, inbox) = app.get("/api/messages/inbox", Some(&student.token)).await;
    assert_eq!(
        inbox["conversations"][0]["subject"], SUBJECT_MASKED,
        "{inbox}"
    );
    let (_, conversation) = app
        .get("/api/messages/conversation/tut_names", Some(&student.token))
        .await;
    assert_eq!(
        names(&conversation["messages"][0], "sender_"),
        masked,
        "conversation: {conversation}"
    );
    let (_, read) = app
        .patch(&format!("/api/messages/{id}/read"), &student.token, None)
        .await;
    assert_eq!(names(&read, "sender_"), masked, "mark read: {read}");
    let frame = socket.next_of("new_message", &[]).await;
    assert_eq!(names(&frame["sender"], ""), masked, "frame: {frame}");
    assert_eq!(frame["subject"], SUBJECT_MASKED);

    // The tutor sees their own name as typed.
    let (_, own) = app
        .get(
            &format!("/api/messages/threads/{}", student.id),
            Some(&tutor.token),
        )
        .await;
    assert_eq!(
        names(&own["messages"][0], "sender_"),
        (Some(FIRST.to_owned()), Some(LAST.to_owned())),
        "own name: {own}"
    );

    // A reply's subject stays masked.
    let (status, reply) = app
        .post(
            &format!("/api/messages/{id}/reply"),
            Some(&student.token),
            json!({"content": "thanks"}),
        )
        .await;
    assert_eq!(
        (status, reply["subject"].as_str()),
        (201, Some(format!("Re: {SUBJECT_MASKED}").as_str()))
    );
}

/// A send route, and how it names the recipient.
#[derive(Debug, Clone, Copy)]
enum Route {
    /// System A: `POST /api/messages` by id.
    ById,
    /// System B: `POST /api/messages/send` by user name.
    ByUsername,
    /// System B's clinician route, by user name.
    Clinician,
}

impl Route {
    const ALL: [Route; 3] = [Route::ById, Route::ByUsername, Route::Clinician];

    /// Sends "hi" to the user with this id and name; the answer as the caller sees it.
    async fn send(self, app: &TestApp, from: &TestUser, id: i64, name: &str) -> (u16, Value) {
        let (path, body) = match self {
            Route::ById => (
                "/api/messages",
                json!({"recipient_id": id, "message": "hi"}),
            ),
            Route::ByUsername => (
                "/api/messages/send",
                json!({"recipient": name, "content": "hi"}),
            ),
            Route::Clinician => (
                "/api/clinician/message",
                json!({"recipient_username": name, "message": "hi"}),
            ),
        };
        app.post(path, Some(&from.token), body).await
    }
}

pub async fn probing_recipients_tells_nobody_who_exists_or_what_role_they_have(app: &TestApp) {
    // One user of each role to be probed, two deactivated ones, and a prober of each role with
    // no booking, assignment or conversation with anyone.
    let mut targets: Vec<(&str, Role, i64)> = Vec::new();
    for (name, role) in [
        ("t_student", Role::Student),
        ("t_tutor", Role::Tutor),
        ("t_patient", Role::Patient),
        ("t_clinician", Role::Clinician),
        ("t_admin", Role::Admin),
        ("t_gone_tutor", Role::Tutor),
        ("t_gone_patient", Role::Patient),
    ] {
        let user = app.user_with_role(name, role).await;
        targets.push((name, role, user.id));
    }
    for gone in ["t_gone_tutor", "t_gone_patient"] {
        let id = targets.iter().find(|t| t.0 == gone).unwrap().2;
        app.store.set_user_active(UserId(id), false).await.unwrap();
    }
    let probers = [
        ("p_student", Role::Student),
        ("p_tutor", Role::Tutor),
        ("p_patient", Role::Patient),
        ("p_clinician", Role::Clinician),
    ];
    for (name, role) in probers {
        let prober = app.user_with_role(name, role).await;
        // System B's conversation view names nobody the prober has no conversation with.
        let conversation = |who: &str| format!("/api/messages/conversation/{who}");
        let nobody = app
            .get(&conversation("no_such_user"), Some(&prober.token))
            .await;
        assert_eq!(nobody.1["with_user"], Value::Null, "{nobody:?}");
        for &(target, _, _) in &targets {
            let answer = app.get(&conversation(target), Some(&prober.token)).await;
            assert_eq!(answer, nobody, "{name} opens {target}");
        }
        for route in Route::ALL {
            let unknown = route.send(app, &prober, 987_654_321, "no_such_user").await;
            assert!(
                // System A's routes answer 400, System B's 404, as each seed did.
                unknown.1["code"] == "RECIPIENT_UNAVAILABLE"
                    || unknown.1["code"] == "CLINICIAN_ONLY",
                "{name} {route:?}: {unknown:?}"
            );
            let myself = route.send(app, &prober, prober.id, name).await;
            assert_eq!(myself, unknown, "{name} {route:?} to self");
            for &(target, role_of_target, id) in &targets {
                let answer = route.send(app, &prober, id, target).await;
                let active = !target.starts_with("t_gone");
                // Admins are reachable by all; otherwise only the same side, and on the
                // clinical side only the same role without an assignment or a conversation.
                let reachable = active
                    && matches!(
                        (role, role_of_target),
                        (_, Role::Admin)
                            | (Role::Student | Role::Tutor, Role::Student | Role::Tutor)
                            | (Role::Patient, Role::Patient)
                            | (Role::Clinician, Role::Clinician)
                    );
                let allowed_route = !matches!(route, Route::Clinician) || role == Role::Clinician;
                if reachable && allowed_route {
                    assert_eq!(answer.0, 201, "{name} {route:?} to {target}: {answer:?}");
                } else {
                    // Exactly the unknown-recipient answer: same status, same body.
                    assert_eq!(answer, unknown, "{name} {route:?} to {target}");
                }
            }
        }
    }
}

pub async fn only_a_party_already_known_is_told_why_a_send_is_refused(app: &TestApp) {
    let admin = app.user_with_role("root_k", Role::Admin).await;
    let doc = app.user_with_role("dr_k", Role::Clinician).await;
    let former = app.user_with_role("dr_former", Role::Clinician).await;
    let patient = app.user_with_role("pat_k", Role::Patient).await;
    for clinician in [&doc, &former] {
        let (status, body) = app
            .post(
                "/api/admin/care-assignments",
                Some(&admin.token),
                json!({"clinician_id": clinician.id, "patient_id": patient.id}),
            )
            .await;
        assert_eq!(status, 204, "{body}");
    }
    let (status, body) = app
        .delete(
            &format!("/api/admin/care-assignments/{}/{}", former.id, patient.id),
            &admin.token,
        )
        .await;
    assert_eq!(status, 204, "{body}");
    // A clinician once assigned to the patient knows them: "not assigned".
    for route in Route::ALL {
        let (status, body) = route.send(app, &former, patient.id, "pat_k").await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("NOT_ASSIGNED")),
            "{route:?}"
        );
    }
    // A patient writing first to their own clinician: "patients cannot initiate".
    for route in [Route::ById, Route::ByUsername] {
        let (status, body) = route.send(app, &patient, doc.id, "dr_k").await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("PATIENT_CANNOT_INITIATE")),
            "{route:?}"
        );
    }
    // Once the clinician has written, the patient may answer.
    let (status, _) = Route::Clinician.send(app, &doc, patient.id, "pat_k").await;
    assert_eq!(status, 201);
    let (status, body) = Route::ById.send(app, &patient, doc.id, "dr_k").await;
    assert_eq!(status, 201, "{body}");
}
