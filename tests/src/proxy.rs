//! A TCP proxy that breaks connections on purpose, put between kiosks and the server to
//! test that a sync cut anywhere loses nothing and repeats nothing harmful.
//!
//! Each accepted connection gets one [`Fault`] from the plan: pass everything, cut the
//! answer after some bytes, swallow the request and never answer, close at once, cut
//! the request on its way, hold the bytes a while, reset the connection (TCP RST), or
//! send the request to the server twice. The plan is a function, so a test can draw
//! faults from a seeded generator and replay a failure.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Result;

/// What happens to one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward both ways untouched.
    Pass,
    /// Forward the request; pass only this many bytes of the answer, then close.
    CutResponse(usize),
    /// Forward only this many bytes of the request, then close; nothing comes back.
    CutRequest(usize),
    /// Read the request, send nothing on, and close without an answer after a while.
    DropRequest(Duration),
    /// Close the connection as soon as it is accepted.
    CloseAtOnce,
    /// Hold the first bytes each way this long before forwarding them (a slow link).
    Delay(Duration),
    /// Forward the request; pass this many bytes of the answer, then reset the
    /// connection (TCP RST, as from a crashed middlebox) instead of closing it.
    Reset(usize),
    /// Send the first request to the server twice, one copy after the other, as a
    /// replaying network would; the answer to the first copy is dropped, the answer to
    /// the second forwarded.
    Duplicate,
}

impl Fault {
    const KINDS: usize = 8;

    fn index(self) -> usize {
        match self {
            Fault::Pass => 0,
            Fault::CutResponse(_) => 1,
            Fault::CutRequest(_) => 2,
            Fault::DropRequest(_) => 3,
            Fault::CloseAtOnce => 4,
            Fault::Delay(_) => 5,
            Fault::Reset(_) => 6,
            Fault::Duplicate => 7,
        }
    }
}

type Plan = Box<dyn FnMut() -> Fault + Send>;

/// How many connections met each kind of fault.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProxyStats {
    pub passed: u64,
    pub cut_responses: u64,
    pub cut_requests: u64,
    pub dropped: u64,
    pub closed: u64,
    pub delayed: u64,
    pub reset: u64,
    pub duplicated: u64,
}

struct Shared {
    upstream: SocketAddr,
    plan: Mutex<Plan>,
    stop: AtomicBool,
    counts: [AtomicU64; Fault::KINDS],
}

/// A running proxy on a loopback port. Stops when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Listen on a free loopback port and forward to `upstream`, passing everything.
    pub fn start(upstream: SocketAddr) -> Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            plan: Mutex::new(Box::new(|| Fault::Pass)),
            stop: AtomicBool::new(false),
            counts: Default::default(),
        });
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("fault-proxy".into())
            .spawn(move || accept_loop(&listener, &worker))?;
        Ok(FaultProxy {
            addr,
            shared,
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Choose each new connection's fault with `plan`.
    pub fn set_plan(&self, plan: impl FnMut() -> Fault + Send + 'static) {
        *self.shared.plan.lock().unwrap_or_else(|p| p.into_inner()) = Box::new(plan);
    }

    /// Every new connection passes untouched.
    pub fn pass_all(&self) {
        self.set_plan(|| Fault::Pass);
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.shared
            .counts
            .iter()
            .map(|c| c.load(Ordering::SeqCst))
            .sum()
    }

    /// Wait until more than `seen` connections have come (a sync has started).
    pub fn wait_for_connection(&self, seen: u64) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.connections() <= seen {
            anyhow::ensure!(Instant::now() < deadline, "no one connected");
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }

    pub fn stats(&self) -> ProxyStats {
        let c = |i: usize| self.shared.counts[i].load(Ordering::SeqCst);
        ProxyStats {
            passed: c(0),
            cut_responses: c(1),
            cut_requests: c(2),
            dropped: c(3),
            closed: c(4),
            delayed: c(5),
            reset: c(6),
            duplicated: c(7),
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                let fault = (shared.plan.lock().unwrap_or_else(|p| p.into_inner()))();
                shared.counts[fault.index()].fetch_add(1, Ordering::SeqCst);
                let upstream = shared.upstream;
                std::thread::spawn(move || {
                    let _ = handle(client, upstream, fault);
                });
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

fn handle(client: TcpStream, upstream: SocketAddr, fault: Fault) -> std::io::Result<()> {
    client.set_nonblocking(false)?;
    client.set_nodelay(true)?;
    match fault {
        Fault::CloseAtOnce => {
            drop(client);
            Ok(())
        }
        Fault::DropRequest(hold) => {
            let mut client = client;
            let until = Instant::now() + hold;
            let mut buf = [0u8; 16 * 1024];
            while let Some(left) = until.checked_duration_since(Instant::now()) {
                client.set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
                match client.read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            client.shutdown(Shutdown::Both)
        }
        Fault::Duplicate => duplicate(client, upstream),
        Fault::Pass
        | Fault::CutResponse(_)
        | Fault::CutRequest(_)
        | Fault::Delay(_)
        | Fault::Reset(_) => {
            let Some(server) = connect(upstream) else {
                // The server is down: the client sees a closed connection.
                return client.shutdown(Shutdown::Both);
            };
            let (mut request, mut response) = (Leg::default(), Leg::default());
            match fault {
                Fault::CutRequest(n) => request.limit = Some(n),
                Fault::CutResponse(n) | Fault::Reset(n) => response.limit = Some(n),
                Fault::Delay(hold) => (request.hold, response.hold) = (hold, hold),
                _ => {}
            }
            relay(
                client,
                server,
                request,
                response,
                matches!(fault, Fault::Reset(_)),
            )
        }
    }
}

fn connect(upstream: SocketAddr) -> Option<TcpStream> {
    let server = TcpStream::connect_timeout(&upstream, Duration::from_secs(2)).ok()?;
    server.set_nodelay(true).ok()?;
    Some(server)
}

/// How one direction of a connection is forwarded.
#[derive(Debug, Clone, Copy, Default)]
struct Leg {
    /// Held before the first bytes go on.
    hold: Duration,
    /// Bytes passed before the direction is cut.
    limit: Option<usize>,
}

/// Forward both ways until either side ends or a leg's limit is reached; then close
/// both, or with `reset`, abort the client's side with a TCP RST.
fn relay(
    client: TcpStream,
    server: TcpStream,
    request: Leg,
    response: Leg,
    reset: bool,
) -> std::io::Result<()> {
    let resetting = Arc::new(AtomicBool::new(false));
    let (c2, s2) = (client.try_clone()?, server.try_clone()?);
    let up_resetting = resetting.clone();
    let up = std::thread::spawn(move || {
        let result = copy(&c2, &s2, request);
        let _ = s2.shutdown(Shutdown::Both);
        // A FIN here would turn the coming reset into an orderly close.
        if !up_resetting.load(Ordering::SeqCst) {
            let _ = c2.shutdown(Shutdown::Both);
        }
        result
    });
    let result = copy(&server, &client, response);
    let _ = server.shutdown(Shutdown::Both);
    if reset {
        resetting.store(true, Ordering::SeqCst);
        // Linger 0: closing sends RST and drops whatever is unsent. Shutting the read
        // side only wakes the other thread, without a word to the client.
        socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO))?;
        let _ = client.shutdown(Shutdown::Read);
    } else {
        let _ = client.shutdown(Shutdown::Both);
    }
    let _ = up.join();
    // The last handle of the client's socket closes here (with RST on a reset).
    drop(client);
    result
}

/// Copy `from` to `to` until the end or the leg's limit.
fn copy(mut from: &TcpStream, mut to: &TcpStream, leg: Leg) -> std::io::Result<()> {
    let mut buf = [0u8; 16 * 1024];
    let mut sent = 0usize;
    let mut held = leg.hold.is_zero();
    loop {
        let n = match from.read(&mut buf)? {
            0 => return Ok(()),
            n => n,
        };
        if !held {
            std::thread::sleep(leg.hold);
            held = true;
        }
        let n = match leg.limit {
            Some(limit) => n.min(limit - sent),
            None => n,
        };
        to.write_all(&buf[..n])?;
        sent += n;
        if leg.limit.is_some_and(|limit| sent >= limit) {
            return Ok(());
        }
    }
}

/// Send the client's first request to the server twice and relay the second answer;
/// the rest of the connection passes untouched.
fn duplicate(client: TcpStream, upstream: SocketAddr) -> std::io::Result<()> {
    let mut reader = &client;
    reader.set_read_timeout(Some(Duration::from_secs(20)))?;
    let Some((request, rest)) = read_message(&mut reader, Message::Request)? else {
        return client.shutdown(Shutdown::Both);
    };
    // The first copy runs to its end on the server; its answer goes nowhere.
    let Some(first) = connect(upstream) else {
        return client.shutdown(Shutdown::Both);
    };
    (&first).write_all(&request)?;
    first.set_read_timeout(Some(Duration::from_secs(60)))?;
    let answered = read_message(&mut &first, Message::Response);
    drop(first);
    if !matches!(answered, Ok(Some(_))) {
        // The server died on the first copy: the client sees a closed connection.
        return client.shutdown(Shutdown::Both);
    }
    let Some(second) = connect(upstream) else {
        return client.shutdown(Shutdown::Both);
    };
    (&second).write_all(&request)?;
    (&second).write_all(&rest)?;
    reader.set_read_timeout(None)?;
    relay(client, second, Leg::default(), Leg::default(), false)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Message {
    Request,
    Response,
}

/// Read one whole HTTP/1 message (head and a Content-Length body). Returns its bytes and
/// any bytes read past it, or `None` when the stream ends or is not plain HTTP/1.
fn read_message(
    from: &mut impl Read,
    kind: Message,
) -> std::io::Result<Option<(Vec<u8>, Vec<u8>)>> {
    let mut data = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let (head_len, body_len) = loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        data.extend_from_slice(&buf[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let parsed = match kind {
            Message::Request => httparse::Request::new(&mut headers).parse(&data),
            Message::Response => httparse::Response::new(&mut headers).parse(&data),
        };
        match parsed {
            Ok(httparse::Status::Complete(head_len)) => {
                let body_len = headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| std::str::from_utf8(h.value).ok())
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break (head_len, body_len);
            }
            Ok(httparse::Status::Partial) if data.len() < 64 * 1024 => {}
            _ => return Ok(None),
        }
    };
    while data.len() < head_len + body_len {
        let n = from.read(&mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        data.extend_from_slice(&buf[..n]);
    }
    let rest = data.split_off(head_len + body_len);
    Ok(Some((data, rest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &[u8] = b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc";
    const ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

    /// A server that answers each request on a connection once, counting the requests.
    fn server() -> (SocketAddr, Arc<AtomicU64>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        let requests = Arc::new(AtomicU64::new(0));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for mut conn in listener.incoming().flatten() {
                if let Ok(Some((request, _))) = read_message(&mut conn, Message::Request) {
                    assert_eq!(request, REQUEST);
                    seen.fetch_add(1, Ordering::SeqCst);
                    let _ = conn.write_all(ANSWER);
                }
            }
        });
        (addr, requests)
    }

    /// Send the request through a proxy with one fault; what came back, or the error.
    fn exchange(fault: Fault) -> (std::io::Result<Vec<u8>>, u64) {
        let (addr, requests) = server();
        let proxy = FaultProxy::start(addr).expect("proxy");
        proxy.set_plan(move || fault);
        let mut client = TcpStream::connect(proxy.addr()).expect("connect");
        client.write_all(REQUEST).expect("send");
        let mut answer = Vec::new();
        let result = client.read_to_end(&mut answer).map(|_| answer);
        (result, requests.load(Ordering::SeqCst))
    }

    #[test]
    fn pass_and_delay_forward_the_exchange() {
        for fault in [Fault::Pass, Fault::Delay(Duration::from_millis(20))] {
            let (answer, requests) = exchange(fault);
            assert_eq!(answer.expect("an answer"), ANSWER, "{fault:?}");
            assert_eq!(requests, 1);
        }
    }

    #[test]
    fn a_cut_answer_ends_early() {
        let (answer, requests) = exchange(Fault::CutResponse(4));
        assert_eq!(answer.expect("an answer"), b"HTTP");
        assert_eq!(requests, 1);
    }

    #[test]
    fn a_reset_reaches_the_client_as_a_reset() {
        let (answer, requests) = exchange(Fault::Reset(0));
        let e = answer.expect_err("a reset, not an orderly close");
        assert_eq!(e.kind(), ErrorKind::ConnectionReset);
        assert_eq!(requests, 1, "the server had the request");
    }

    #[test]
    fn a_duplicate_reaches_the_server_twice_and_answers_once() {
        let (answer, requests) = exchange(Fault::Duplicate);
        assert_eq!(answer.expect("an answer"), ANSWER);
        assert_eq!(requests, 2);
    }
}
