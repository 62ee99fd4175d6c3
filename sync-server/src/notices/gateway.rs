//! SMS gateways: one trait, and SMSAPI.pl's HTTP API behind it.
//!
//! SMSAPI (`POST {api_url}/sms.do`, bearer token): form fields `to` (48 and nine digits),
//! `message`, `from`, `format=json`, `encoding=utf-8`, and `idx` (the notice's id) with
//! `check_idx=1`, so that the gateway refuses a second message with the same `idx`: a
//! send retried after a timeout, a dropped connection or a crash is never delivered twice.
//! It answers JSON: `{"count":1,"list":[{"id":"…","points":…,"status":"QUEUE",…}]}`, or
//! `{"error":13,"message":"…"}`.

use std::time::Duration;

use serde::Deserialize;

/// The provider's address.
pub const SMSAPI_URL: &str = "https://api.smsapi.pl";

/// One message to send. Lives only while it is sent: the outbox keeps neither the number
/// nor the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The notice's id: the gateway's de-duplication key.
    pub idx: String,
    /// E.164, "+48…".
    pub to: String,
    pub text: String,
}

/// The gateway took the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The gateway's id of the message (absent when it had taken it before).
    pub gateway_id: Option<String>,
    /// The gateway says a message with this `idx` was taken before (a retry after a lost
    /// answer): delivered once, already.
    pub already: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// Worth trying again later (the network, a timeout, a 5xx, the gateway busy).
    #[error("{0}")]
    Temporary(String),
    /// Trying again will not help (a bad number, a refused token, no credit).
    #[error("{0}")]
    Permanent(String),
}

pub trait Gateway: Send + Sync {
    /// Send one message. Blocking: the sender calls it off the async runtime.
    fn send(&self, sms: &Outgoing) -> Result<Accepted, GatewayError>;
}

/// SMSAPI.pl.
pub struct SmsApi {
    client: reqwest::blocking::Client,
    url: String,
    token: String,
    sender: Option<String>,
}

impl SmsApi {
    pub fn new(api_url: &str, token: &str, sender: Option<&str>) -> anyhow::Result<SmsApi> {
        let token = token.trim();
        anyhow::ensure!(!token.is_empty(), "the SMSAPI token is empty");
        // rustls needs its cryptography chosen once per process: ring, as for serving.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| anyhow::anyhow!("could not set up the SMS gateway's client: {e}"))?;
        Ok(SmsApi {
            client,
            url: format!("{}/sms.do", api_url.trim_end_matches('/')),
            token: token.to_owned(),
            sender: sender.map(str::to_owned),
        })
    }
}

/// SMSAPI's answer: a list of messages taken, or an error code.
#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default)]
    list: Vec<Taken>,
    error: Option<i64>,
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Taken {
    id: Option<String>,
}

/// SMSAPI's error codes that pass: the gateway was busy or limited this number for a
/// while, or failed inside. Any other code is permanent (a bad number, sender or token,
/// no credit, a blocked number).
fn temporary_code(code: i64) -> bool {
    matches!(code, 8 | 52 | 201 | 202 | 203 | 999)
}

/// "Not unique idx": a message with this idx was taken before (with `check_idx=1`).
const IDX_USED: i64 = 53;

/// Read SMSAPI's answer. Separate from the HTTP call so that every answer is tested.
pub fn read_answer(status: u16, body: &str) -> Result<Accepted, GatewayError> {
    let answer: Option<Answer> = serde_json::from_str(body).ok();
    match answer {
        Some(Answer {
            error: Some(code),
            message,
            ..
        }) => {
            let text = format!(
                "SMSAPI error {code}: {}",
                message.as_deref().unwrap_or("no message")
            );
            if code == IDX_USED {
                Ok(Accepted {
                    gateway_id: None,
                    already: true,
                })
            } else if temporary_code(code) || status >= 500 {
                Err(GatewayError::Temporary(text))
            } else {
                Err(GatewayError::Permanent(text))
            }
        }
        Some(Answer { list, .. }) if (200..300).contains(&status) && !list.is_empty() => {
            Ok(Accepted {
                gateway_id: list.into_iter().find_map(|t| t.id),
                already: false,
            })
        }
        _ if status >= 500 || status == 429 => Err(GatewayError::Temporary(format!(
            "SMSAPI answered HTTP {status}"
        ))),
        _ if status == 401 || status == 403 => Err(GatewayError::Permanent(format!(
            "SMSAPI refused the token (HTTP {status})"
        ))),
        _ => Err(GatewayError::Permanent(format!(
            "SMSAPI gave an answer that says neither sent nor error (HTTP {status})"
        ))),
    }
}

impl Gateway for SmsApi {
    fn send(&self, sms: &Outgoing) -> Result<Accepted, GatewayError> {
        let to = blisko_shared::sms::gateway_number(&sms.to)
            .ok_or_else(|| GatewayError::Permanent("not a Polish mobile number".into()))?;
        let mut form: Vec<(&str, &str)> = vec![
            ("to", &to),
            ("message", &sms.text),
            ("format", "json"),
            ("encoding", "utf-8"),
            ("idx", &sms.idx),
            ("check_idx", "1"),
        ];
        if let Some(from) = &self.sender {
            form.push(("from", from));
        }
        let response = self
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .form(&form)
            .send()
            // The request may have reached the gateway: the retry carries the same idx.
            .map_err(|e| GatewayError::Temporary(format!("could not reach SMSAPI: {e}")))?;
        let status = response.status().as_u16();
        let body = response
            .text()
            .map_err(|e| GatewayError::Temporary(format!("SMSAPI's answer was cut off: {e}")))?;
        read_answer(status, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        let ok = r#"{"count":1,"list":[{"id":"7074294081650020450","points":0.16,"number":"48500600700","status":"QUEUE","idx":"x"}]}"#;
        assert_eq!(
            read_answer(200, ok),
            Ok(Accepted {
                gateway_id: Some("7074294081650020450".into()),
                already: false
            })
        );
        assert_eq!(
            read_answer(200, r#"{"error":53,"message":"Not unique idx"}"#),
            Ok(Accepted {
                gateway_id: None,
                already: true
            })
        );
        assert!(matches!(
            read_answer(200, r#"{"error":13,"message":"No correct phone numbers"}"#),
            Err(GatewayError::Permanent(m)) if m.contains("13")
        ));
        assert!(matches!(
            read_answer(401, r#"{"error":101,"message":"Authorization failed"}"#),
            Err(GatewayError::Permanent(_))
        ));
        assert!(matches!(
            read_answer(200, r#"{"error":201,"message":"System internal error"}"#),
            Err(GatewayError::Temporary(_))
        ));
        assert!(matches!(
            read_answer(503, "<html>busy</html>"),
            Err(GatewayError::Temporary(_))
        ));
        assert!(matches!(
            read_answer(200, "OK:123"),
            Err(GatewayError::Permanent(_))
        ));
    }
}
