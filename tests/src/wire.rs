//! A TCP proxy that counts the bytes crossing it in each direction, so benchmarks
//! report what really went over the wire (HTTP headers included), and can keep a copy of
//! everything (for tests that check what travelled).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Result;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WireCounts {
    /// Client to server.
    pub up: u64,
    /// Server to client.
    pub down: u64,
}

impl WireCounts {
    pub fn since(self, earlier: WireCounts) -> WireCounts {
        WireCounts {
            up: self.up - earlier.up,
            down: self.down - earlier.down,
        }
    }
}

/// Every byte of each connection direction, when capturing.
type Captures = Arc<Mutex<Vec<Arc<Mutex<Vec<u8>>>>>>;

pub struct CountingProxy {
    addr: SocketAddr,
    up: Arc<AtomicU64>,
    down: Arc<AtomicU64>,
    captures: Option<Captures>,
}

impl CountingProxy {
    /// Listen on a free loopback port and forward every connection to `target`.
    pub fn start(target: SocketAddr) -> Result<CountingProxy> {
        Self::start_with(target, None)
    }

    /// Like [`CountingProxy::start`], keeping a copy of everything that crosses it.
    pub fn start_capturing(target: SocketAddr) -> Result<CountingProxy> {
        Self::start_with(target, Some(Captures::default()))
    }

    /// What crossed so far: one byte string per connection and direction.
    pub fn captured(&self) -> Vec<Vec<u8>> {
        let Some(captures) = &self.captures else {
            return Vec::new();
        };
        let streams = captures.lock().expect("capture lock");
        streams
            .iter()
            .map(|s| s.lock().expect("capture lock").clone())
            .collect()
    }

    fn start_with(target: SocketAddr, captures: Option<Captures>) -> Result<CountingProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let up = Arc::new(AtomicU64::new(0));
        let down = Arc::new(AtomicU64::new(0));
        let (u, d) = (up.clone(), down.clone());
        let caps = captures.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
                    continue;
                };
                let (u, d) = (u.clone(), d.clone());
                let copy = || {
                    caps.as_ref().map(|c| {
                        let stream = Arc::new(Mutex::new(Vec::new()));
                        c.lock().expect("capture lock").push(stream.clone());
                        stream
                    })
                };
                let (cu, cd) = (copy(), copy());
                std::thread::spawn(move || pump(client, server, &u, cu));
                std::thread::spawn(move || pump(s2, c2, &d, cd));
            }
        });
        Ok(CountingProxy {
            addr,
            up,
            down,
            captures,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn counts(&self) -> WireCounts {
        WireCounts {
            up: self.up.load(Ordering::SeqCst),
            down: self.down.load(Ordering::SeqCst),
        }
    }
}

fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    counter: &AtomicU64,
    copy: Option<Arc<Mutex<Vec<u8>>>>,
) {
    let mut buf = [0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                counter.fetch_add(n as u64, Ordering::SeqCst);
                if let Some(copy) = &copy {
                    copy.lock()
                        .expect("capture lock")
                        .extend_from_slice(&buf[..n]);
                }
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
