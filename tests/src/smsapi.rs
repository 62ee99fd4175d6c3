//! A fake SMSAPI.pl on loopback for the tests: `POST /sms.do` with a bearer token and the
//! form fields the real API takes, answered as the real one answers (a JSON list of the
//! messages taken, or `{"error": code, "message": …}`), honouring `check_idx=1` (a second
//! message with the same `idx` is refused with error 53 and not delivered). The tests
//! script what the next requests meet: an error code, a 5xx, a slow answer, or a
//! connection dropped after the message was taken.

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// A message the fake took (delivered to the phone, as far as the test knows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub to: String,
    pub message: String,
    pub idx: String,
    pub from: Option<String>,
}

/// What the next request meets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// SMSAPI's error answer with this code (HTTP 200, as SMSAPI does); nothing delivered.
    Error(i64),
    /// An HTTP error status without a JSON body; nothing delivered.
    Status(u16),
    /// The message is taken, then the answer comes after this long.
    Slow(Duration),
    /// The message is taken, then the connection closes without an answer.
    DropAfterAccept,
}

#[derive(Default)]
struct State {
    delivered: Vec<Delivered>,
    requests: usize,
    script: VecDeque<Behaviour>,
    next_id: u64,
}

pub struct FakeSmsApi {
    pub addr: SocketAddr,
    pub token: String,
    state: Arc<Mutex<State>>,
}

impl FakeSmsApi {
    /// Listen on a free loopback port; requests must carry `Authorization: Bearer TOKEN`.
    pub fn start(token: &str) -> Result<FakeSmsApi> {
        let listener = TcpListener::bind("127.0.0.1:0").context("bind the fake SMSAPI")?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let token_owned = token.to_owned();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                let token = token_owned.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &state, &token);
                });
            }
        });
        Ok(FakeSmsApi {
            addr,
            token: token.to_owned(),
            state,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Script the next requests, in order.
    pub fn then(&self, behaviour: Behaviour) {
        self.lock().script.push_back(behaviour);
    }

    pub fn delivered(&self) -> Vec<Delivered> {
        self.lock().delivered.clone()
    }

    /// Requests received (retries included).
    pub fn requests(&self) -> usize {
        self.lock().requests
    }

    /// Wait until `n` messages were delivered (or `timeout` passes); returns them.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Delivered> {
        let until = Instant::now() + timeout;
        loop {
            let delivered = self.delivered();
            if delivered.len() >= n || Instant::now() > until {
                return delivered;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn respond(stream: &mut TcpStream, status: u16, body: &str) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

fn serve(mut stream: TcpStream, state: &Mutex<State>, token: &str) -> Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let (head_len, headers) = loop {
        let n = stream.read(&mut chunk)?;
        anyhow::ensure!(n > 0, "the client closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        if let httparse::Status::Complete(len) = req.parse(&buf)? {
            let map: HashMap<String, String> = req
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_ascii_lowercase(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect();
            anyhow::ensure!(
                req.path == Some("/sms.do"),
                "unexpected path {:?}",
                req.path
            );
            break (len, map);
        }
    };
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_len + length {
        let n = stream.read(&mut chunk)?;
        anyhow::ensure!(n > 0, "the body was cut off");
        buf.extend_from_slice(&chunk[..n]);
    }
    let form: HashMap<String, String> = form_urlencoded::parse(&buf[head_len..head_len + length])
        .into_owned()
        .collect();
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    s.requests += 1;
    if headers.get("authorization").map(String::as_str) != Some(&format!("Bearer {token}")) {
        drop(s);
        return Ok(respond(
            &mut stream,
            401,
            r#"{"error":101,"message":"Authorization failed"}"#,
        )?);
    }
    let behaviour = s.script.pop_front();
    match behaviour {
        Some(Behaviour::Error(code)) => {
            drop(s);
            return Ok(respond(
                &mut stream,
                200,
                &format!(r#"{{"error":{code},"message":"scripted error"}}"#),
            )?);
        }
        Some(Behaviour::Status(status)) => {
            drop(s);
            return Ok(respond(&mut stream, status, "<html>unavailable</html>")?);
        }
        _ => {}
    }
    let to = form.get("to").cloned().unwrap_or_default();
    let idx = form.get("idx").cloned().unwrap_or_default();
    let valid_to = to.len() == 11 && to.starts_with("48") && to.bytes().all(|b| b.is_ascii_digit());
    if !valid_to {
        drop(s);
        return Ok(respond(
            &mut stream,
            200,
            r#"{"error":13,"message":"No correct phone numbers"}"#,
        )?);
    }
    let checks_idx = form.get("check_idx").map(String::as_str) == Some("1");
    if checks_idx && !idx.is_empty() && s.delivered.iter().any(|d| d.idx == idx) {
        drop(s);
        return Ok(respond(
            &mut stream,
            200,
            r#"{"error":53,"message":"Not unique idx"}"#,
        )?);
    }
    s.next_id += 1;
    let id = format!("{}", 7_000_000_000_000 + s.next_id);
    s.delivered.push(Delivered {
        to: to.clone(),
        message: form.get("message").cloned().unwrap_or_default(),
        idx: idx.clone(),
        from: form.get("from").cloned(),
    });
    drop(s);
    match behaviour {
        Some(Behaviour::Slow(pause)) => std::thread::sleep(pause),
        Some(Behaviour::DropAfterAccept) => return Ok(()),
        _ => {}
    }
    respond(
        &mut stream,
        200,
        &format!(
            r#"{{"count":1,"list":[{{"id":"{id}","points":0.16,"number":"{to}","date_sent":0,"submitted_number":"{to}","status":"QUEUE","error":null,"idx":"{idx}"}}]}}"#
        ),
    )?;
    Ok(())
}
