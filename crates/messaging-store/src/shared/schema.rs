// The tables, shared by both backends: included into `pg` and `sqlite`, each of which defines `Ts`,
// its SQL type for a UTC timestamp (the one its `Dialect` names). Search columns are
// backend-specific and left out here.

pub mod schema {
    diesel::table! {
        use diesel::sql_types::*;
        use super::super::Ts;
        users (id) {
            id -> BigInt,
            username -> Text,
            email -> Text,
            password_hash -> Text,
            first_name -> Text,
            last_name -> Text,
            role -> Text,
            is_active -> Bool,
            created_at -> Ts,
            credential_version -> BigInt,
        }
    }

    diesel::table! {
        use diesel::sql_types::*;
        use super::super::Ts;
        bookings (id) {
            id -> BigInt,
            student_id -> BigInt,
            tutor_id -> BigInt,
            state -> Text,
            created_at -> Ts,
        }
    }

    diesel::table! {
        use diesel::sql_types::*;
        use super::super::Ts;
        care_assignments (clinician_id, patient_id) {
            clinician_id -> BigInt,
            patient_id -> BigInt,
            created_at -> Ts,
            ended_at -> Nullable<Ts>,
        }
    }

    diesel::table! {
        use diesel::sql_types::*;
        use super::super::Ts;
        blocks (blocker_id, blocked_id) {
            blocker_id -> BigInt,
            blocked_id -> BigInt,
            created_at -> Ts,
        }
    }

    diesel::table! {
        use diesel::sql_types::*;
        use super::super::Ts;
        conversations (id) {
            id -> BigInt,
            user_low -> BigInt,
            user_high -> BigInt,
            booking_id -> Nullable<BigInt>,
            started_by -> BigInt,
            created_at -> Ts,
        }
    }

    diesel::table! {
        use diesel::sql_types::*;
        use super::super::Ts;
        messages (id) {
            id -> BigInt,
            conversation_id -> BigInt,
            sender_id -> BigInt,
            recipient_id -> BigInt,
            booking_id -> Nullable<BigInt>,
            subject -> Nullable<Text>,
            body -> Text,
            parent_id -> Nullable<BigInt>,
            created_at -> Ts,
            read_at -> Nullable<Ts>,
            edited_at -> Nullable<Ts>,
            deleted_by_sender -> Bool,
            deleted_by_recipient -> Bool,
            deleted_for_everyone_at -> Nullable<Ts>,
            deleted_at -> Nullable<Ts>,
            client_message_id -> Nullable<Text>,
        }
    }

    // The columns a message is written with, its search words included: the same table seen
    // through fewer columns, since `messages` above is at Diesel's 16-column limit (a wider
    // limit costs every build). `search_words` is written here only, never read.
    diesel::table! {
        use diesel::sql_types::*;
        use super::super::Ts;
        #[sql_name = "messages"]
        message_writes (id) {
            id -> BigInt,
            conversation_id -> BigInt,
            sender_id -> BigInt,
            recipient_id -> BigInt,
            booking_id -> Nullable<BigInt>,
            subject -> Nullable<Text>,
            body -> Text,
            search_words -> Nullable<Text>,
            parent_id -> Nullable<BigInt>,
            client_message_id -> Nullable<Text>,
            created_at -> Ts,
            edited_at -> Nullable<Ts>,
            deleted_by_sender -> Bool,
            deleted_by_recipient -> Bool,
        }
    }

    diesel::table! {
        use diesel::sql_types::*;
        use super::super::Ts;
        conversation_members (user_id, conversation_id) {
            conversation_id -> BigInt,
            user_id -> BigInt,
            other_user_id -> BigInt,
            booking_id -> Nullable<BigInt>,
            last_message_id -> Nullable<BigInt>,
            last_message_at -> Nullable<Ts>,
            unread_count -> Integer,
        }
    }

    diesel::table! {
        use diesel::sql_types::*;
        use super::super::Ts;
        audit_log (id) {
            id -> BigInt,
            actor_id -> Nullable<BigInt>,
            action -> Text,
            object_type -> Text,
            object_id -> Nullable<BigInt>,
            client_addr -> Nullable<Text>,
            at -> Ts,
            prev_hash -> Nullable<Text>,
            hash -> Nullable<Text>,
        }
    }

    diesel::table! {
        use diesel::sql_types::*;
        use super::super::Ts;
        refresh_tokens (token_hash) {
            token_hash -> Text,
            user_id -> BigInt,
            family -> Text,
            issued_at -> Ts,
            expires_at -> Ts,
            used_at -> Nullable<Ts>,
            revoked_at -> Nullable<Ts>,
        }
    }

    diesel::table! {
        use diesel::sql_types::*;
        use super::super::Ts;
        reports (id) {
            id -> BigInt,
            reporter_id -> BigInt,
            message_id -> BigInt,
            reason -> Text,
            created_at -> Ts,
        }
    }

    diesel::table! {
        use diesel::sql_types::*;
        use super::super::Ts;
        sessions (id_hash) {
            id_hash -> Text,
            user_id -> BigInt,
            created_at -> Ts,
            last_seen_at -> Ts,
            revoked_at -> Nullable<Ts>,
        }
    }

    diesel::table! {
        use diesel::sql_types::*;
        event_heads (user_id) {
            user_id -> BigInt,
            last_seq -> BigInt,
        }
    }

    diesel::table! {
        use diesel::sql_types::*;
        use super::super::Ts;
        user_events (user_id, seq) {
            user_id -> BigInt,
            seq -> BigInt,
            at -> Ts,
            payload -> Text,
            message_id -> Nullable<BigInt>,
        }
    }

    diesel::table! {
        use diesel::sql_types::*;
        use super::super::Ts;
        message_deliveries (message_id) {
            message_id -> BigInt,
            delivered_at -> Ts,
        }
    }

    diesel::table! {
        use diesel::sql_types::*;
        presence_settings (user_id) {
            user_id -> BigInt,
            hidden -> Bool,
        }
    }

    diesel::table! {
        use diesel::sql_types::*;
        use super::super::Ts;
        presence_connections (user_id, instance_id) {
            instance_id -> Text,
            user_id -> BigInt,
            seen_at -> Ts,
        }
    }

    diesel::table! {
        use diesel::sql_types::*;
        use super::super::Ts;
        presence_instances (instance_id) {
            instance_id -> Text,
            seen_at -> Ts,
        }
    }

    diesel::table! {
        use diesel::sql_types::*;
        use super::super::Ts;
        ws_tickets (ticket_hash) {
            ticket_hash -> Text,
            user_id -> BigInt,
            expires_at -> Ts,
            used_at -> Nullable<Ts>,
            credential_version -> BigInt,
            session_hash -> Nullable<Text>,
        }
    }

    diesel::table! {
        use diesel::sql_types::*;
        use super::super::Ts;
        attachments (id) {
            id -> BigInt,
            message_id -> BigInt,
            uploader_id -> BigInt,
            storage_key -> Text,
            file_name -> Text,
            mime_type -> Text,
            size_bytes -> BigInt,
            width -> Nullable<Integer>,
            height -> Nullable<Integer>,
            scan_status -> Text,
            created_at -> Ts,
            scanned_at -> Nullable<Ts>,
            scan_failures -> Integer,
            next_scan_at -> Nullable<Ts>,
        }
    }

    diesel::table! {
        use diesel::sql_types::*;
        use super::super::Ts;
        pending_uploads (storage_key) {
            storage_key -> Text,
            uploader_id -> BigInt,
            started_at -> Ts,
            abandoned -> Bool,
        }
    }

    diesel::joinable!(conversation_members -> users (other_user_id));
    diesel::joinable!(attachments -> messages (message_id));
    diesel::allow_tables_to_appear_in_same_query!(
        users,
        bookings,
        care_assignments,
        blocks,
        conversations,
        messages,
        conversation_members,
        audit_log,
        refresh_tokens,
        reports,
        sessions,
        event_heads,
        user_events,
        message_deliveries,
        presence_settings,
        presence_connections,
        presence_instances,
        ws_tickets,
        attachments,
        pending_uploads,
    );
}
