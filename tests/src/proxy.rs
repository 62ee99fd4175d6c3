//! A TCP proxy that breaks connections on purpose, put between kiosks and the server to
//! test that a sync cut anywhere loses nothing and repeats nothing harmful.
//!
//! Each accepted connection gets one [`Fault`] from the plan: pass everything, cut the
//! answer after some bytes, swallow the request and never answer, close at once, or cut
//! the request on its way. The plan is a function, so a test can draw faults from a
//! seeded generator and replay a failure.

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
}

struct Shared {
    upstream: SocketAddr,
    plan: Mutex<Plan>,
    stop: AtomicBool,
    counts: [AtomicU64; 5],
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

    pub fn stats(&self) -> ProxyStats {
        let c = |i: usize| self.shared.counts[i].load(Ordering::SeqCst);
        ProxyStats {
            passed: c(0),
            cut_responses: c(1),
            cut_requests: c(2),
            dropped: c(3),
            closed: c(4),
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
                let index = match fault {
                    Fault::Pass => 0,
                    Fault::CutResponse(_) => 1,
                    Fault::CutRequest(_) => 2,
                    Fault::DropRequest(_) => 3,
                    Fault::CloseAtOnce => 4,
                };
                shared.counts[index].fetch_add(1, Ordering::SeqCst);
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
        Fault::Pass | Fault::CutResponse(_) | Fault::CutRequest(_) => {
            let server = match TcpStream::connect_timeout(&upstream, Duration::from_secs(2)) {
                Ok(s) => s,
                // The server is down: the client sees a closed connection.
                Err(_) => return client.shutdown(Shutdown::Both),
            };
            server.set_nodelay(true)?;
            let request_limit = match fault {
                Fault::CutRequest(n) => Some(n),
                _ => None,
            };
            let response_limit = match fault {
                Fault::CutResponse(n) => Some(n),
                _ => None,
            };
            let (c2, s2) = (client.try_clone()?, server.try_clone()?);
            let up = std::thread::spawn(move || {
                let _ = copy(c2, s2, request_limit);
            });
            let result = copy(server, client, response_limit);
            let _ = up.join();
            result
        }
    }
}

/// Copy `from` to `to` until the end or `limit` bytes; then close both.
fn copy(mut from: TcpStream, mut to: TcpStream, limit: Option<usize>) -> std::io::Result<()> {
    let mut buf = [0u8; 16 * 1024];
    let mut sent = 0usize;
    let result = loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) => break Err(e),
        };
        let n = match limit {
            Some(limit) => n.min(limit - sent),
            None => n,
        };
        if let Err(e) = to.write_all(&buf[..n]) {
            break Err(e);
        }
        sent += n;
        if limit.is_some_and(|limit| sent >= limit) {
            break Ok(());
        }
    };
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
    result
}
