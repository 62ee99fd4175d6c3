//! What a person has typed or ticked on the current screen. One struct for every form,
//! so that "start again" and the idle reset clear everything by replacing it.

use std::collections::BTreeMap;

use blisko_shared::model::ApplicantRole;

use super::keyboard::{self, Layout, Press};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FieldId {
    GivenName,
    FamilyName,
    BirthYear,
    Phone,
    ResidentCode,
    Pesel,
    Description,
    LookupCode,
    Pin,
    ServerUrl,
    EnrollmentCode,
}

impl FieldId {
    pub fn layout(self) -> Layout {
        match self {
            FieldId::BirthYear | FieldId::Phone | FieldId::Pesel | FieldId::Pin => Layout::Digits,
            FieldId::GivenName | FieldId::FamilyName => Layout::Letters,
            FieldId::Description => Layout::Text,
            FieldId::ResidentCode
            | FieldId::LookupCode
            | FieldId::EnrollmentCode
            | FieldId::ServerUrl => Layout::Code,
        }
    }

    pub fn max_chars(self) -> usize {
        match self {
            FieldId::GivenName | FieldId::FamilyName => 60,
            FieldId::BirthYear => 4,
            FieldId::Phone => 16,
            FieldId::ResidentCode | FieldId::LookupCode => 12,
            FieldId::EnrollmentCode => 20,
            FieldId::Pesel => 11,
            FieldId::Description => blisko_shared::validate::DESCRIPTION_MAX_CHARS,
            FieldId::Pin => 8,
            FieldId::ServerUrl => 200,
        }
    }

    /// Names start with a capital: the keyboard offers one at the start of a word.
    pub fn capitalizes(self) -> bool {
        matches!(self, FieldId::GivenName | FieldId::FamilyName)
    }

    /// Codes are shown in capitals whatever case was typed.
    pub fn uppercase(self) -> bool {
        matches!(
            self,
            FieldId::ResidentCode | FieldId::LookupCode | FieldId::EnrollmentCode
        )
    }
}

#[derive(Debug, Clone, Default)]
pub struct Form {
    values: BTreeMap<FieldId, String>,
    /// The field the keyboard types into; no keyboard when `None`.
    pub active: Option<FieldId>,
    pub consent: bool,
    pub sms_consent: bool,
    pub declaration: bool,
    pub role: Option<ApplicantRole>,
}

impl Form {
    pub fn get(&self, id: FieldId) -> &str {
        self.values.get(&id).map(String::as_str).unwrap_or("")
    }

    pub fn set(&mut self, id: FieldId, value: &str) {
        self.values.insert(id, value.to_owned());
    }

    /// The trimmed value, or `None` when nothing was typed.
    pub fn optional(&self, id: FieldId) -> Option<String> {
        Some(self.get(id).trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// Apply a key press to the active field. Returns true when the keyboard should hide.
    pub fn press(&mut self, press: Press) -> bool {
        let Some(id) = self.active else {
            return true;
        };
        if press == Press::Hide {
            self.active = None;
            return true;
        }
        let press = match press {
            Press::Char(c) if id.uppercase() => Press::Char(c.to_uppercase().next().unwrap_or(c)),
            other => other,
        };
        let value = self.values.entry(id).or_default();
        keyboard::apply(value, press, id.max_chars());
        false
    }

    /// True when nothing at all was typed or ticked.
    pub fn is_empty(&self) -> bool {
        self.values.values().all(String::is_empty)
            && !self.consent
            && !self.sms_consent
            && !self.declaration
            && self.role.is_none()
    }

    /// Forget the typed values of these fields (e.g. a PIN after each try).
    pub fn clear(&mut self, ids: &[FieldId]) {
        for id in ids {
            self.values.remove(id);
        }
    }

    /// Everything typed, for the tests' "nothing remains" checks.
    pub fn values(&self) -> impl Iterator<Item = (&FieldId, &String)> {
        self.values.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_typed_in_capitals_and_fields_keep_their_limits() {
        let mut form = Form {
            active: Some(FieldId::LookupCode),
            ..Form::default()
        };
        for c in "acde-fhjk".chars() {
            form.press(Press::Char(c));
        }
        assert_eq!(form.get(FieldId::LookupCode), "ACDE-FHJK");
        form.active = Some(FieldId::BirthYear);
        for c in "195012".chars() {
            form.press(Press::Char(c));
        }
        assert_eq!(form.get(FieldId::BirthYear), "1950");
        assert!(form.press(Press::Hide));
        assert_eq!(form.active, None);
    }
}
