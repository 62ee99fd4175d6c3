//! The `detail` of an audit record of an edit: a small JSON object with the values before
//! and after, only of what changed:
//!
//! ```json
//! {"old": {"capacity": 10, "title": "Joga"}, "new": {"capacity": 12, "title": "Joga 60+"}}
//! ```
//!
//! Either side may be absent (an addition has no `old`). Keys are field names of the
//! record the audit subject names (`class:<id>`: `title`, `capacity`, `waitlist_limit`,
//! …; `kiosk:<id>`: `name`, `state`), plus `allotment kiosk:<id>` (seats a kiosk may
//! confirm offline) and `session:<id>` (a whole session: `date`, `start`, `minutes`, and
//! `cancelled` when either side is) for catalog edits. Ids only, no
//! personal data. The office's audit-log page shows them as "field: old → new".

use serde_json::{Map, Value, json};

use blisko_shared::model::Catalog;

/// `{"old": old, "new": new}`, leaving out a side that is `null`.
pub(crate) fn change_detail(old: Value, new: Value) -> String {
    let mut detail = Map::new();
    if !old.is_null() {
        detail.insert("old".to_owned(), old);
    }
    if !new.is_null() {
        detail.insert("new".to_owned(), new);
    }
    Value::Object(detail).to_string()
}

/// What an edit changed in a catalog, in the format above; `None` when nothing did.
pub(crate) fn catalog_change(before: &Catalog, after: &Catalog) -> Option<String> {
    let mut old = Map::new();
    let mut new = Map::new();
    for class in &after.classes {
        let was = before.class(class.id).map(|c| json!(c));
        let now = json!(class);
        match (was.as_ref().and_then(Value::as_object), now.as_object()) {
            (Some(was), Some(now)) => {
                for (field, value) in now {
                    if was.get(field) != Some(value) {
                        old.insert(
                            field.clone(),
                            was.get(field).cloned().unwrap_or(Value::Null),
                        );
                        new.insert(field.clone(), value.clone());
                    }
                }
            }
            (None, Some(now)) => {
                for field in ["title", "capacity", "waitlist_limit", "instructor", "room"] {
                    if let Some(value) = now.get(field) {
                        new.insert(field.to_owned(), value.clone());
                    }
                }
            }
            _ => {}
        }
        let was = before.allotments_of(class.id);
        let now = after.allotments_of(class.id);
        for kiosk in was.keys().chain(now.keys()) {
            let (a, b) = (was.get(kiosk), now.get(kiosk));
            if a != b {
                let key = format!("allotment kiosk:{kiosk}");
                old.insert(key.clone(), json!(a.copied().unwrap_or(0)));
                new.insert(key, json!(b.copied().unwrap_or(0)));
            }
        }
    }
    for session in &after.sessions {
        let was = before.sessions.iter().find(|s| s.id == session.id);
        if was != Some(session) {
            let key = format!("session:{}", session.id);
            // `cancelled` only where a side is cancelled (most sessions never are).
            let cancelled = session.cancelled || was.is_some_and(|w| w.cancelled);
            let side = |s: &blisko_shared::model::Session| {
                let mut v = json!({ "date": s.date, "start": s.start, "minutes": s.minutes });
                if cancelled && let Some(fields) = v.as_object_mut() {
                    fields.insert("cancelled".to_owned(), json!(s.cancelled));
                }
                v
            };
            if let Some(was) = was {
                old.insert(key.clone(), side(was));
            }
            new.insert(key, side(session));
        }
    }
    let (b, a) = (&before.branch, &after.branch);
    for (field, was, now) in [
        ("code", &b.code, &a.code),
        ("name", &b.name, &a.name),
        ("address", &b.address, &a.address),
        ("opening_hours", &b.opening_hours, &a.opening_hours),
        ("help", &b.help, &a.help),
    ] {
        if was != now {
            old.insert(field.to_owned(), json!(was));
            new.insert(field.to_owned(), json!(now));
        }
    }
    // Kiosk staff by name and role (one changes at a time); a new PIN only as `pin: true`,
    // never its hash.
    let person =
        |s: &blisko_shared::model::StaffUser| json!({ "name": s.name, "role": s.role.code() });
    for s in &after.staff {
        let key = "kiosk_staff".to_owned();
        match before.staff.iter().find(|w| w.id == s.id) {
            Some(was) if was == s => {}
            Some(was) => {
                old.insert(key.clone(), person(was));
                let mut now = person(s);
                if was.pin_hash != s.pin_hash
                    && let Some(fields) = now.as_object_mut()
                {
                    fields.insert("pin".to_owned(), json!(true));
                }
                new.insert(key, now);
            }
            None => {
                new.insert(key, person(s));
            }
        }
    }
    for s in &before.staff {
        if !after.staff.iter().any(|a| a.id == s.id) {
            old.insert("kiosk_staff".to_owned(), person(s));
            new.insert("kiosk_staff".to_owned(), Value::Null);
        }
    }
    if old.is_empty() && new.is_empty() {
        return None;
    }
    let side = |m: Map<String, Value>| {
        if m.is_empty() {
            Value::Null
        } else {
            Value::Object(m)
        }
    };
    Some(change_detail(side(old), side(new)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_detail_leaves_out_a_missing_side() {
        assert_eq!(
            change_detail(json!({"name": "a"}), json!({"name": "b"})),
            r#"{"new":{"name":"b"},"old":{"name":"a"}}"#
        );
        assert_eq!(
            change_detail(Value::Null, json!({"name": "b"})),
            r#"{"new":{"name":"b"}}"#
        );
    }
}
