//! A real nginx in front of several server processes, as a deployment puts one: the
//! tests start it on loopback with a configuration of their own and read its access log
//! to see which process each request went to.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Where Debian's nginx package puts the program.
const NGINX: &str = "/usr/sbin/nginx";

/// One nginx process (no master, no daemon), stopped when dropped.
pub struct Nginx {
    child: Child,
    pub addr: SocketAddr,
    access_log: PathBuf,
}

/// One line of the access log: the request's `blisko-branch` header (empty without
/// one), the status nginx returned, and the processes it tried, in order (the last one
/// answered; the ones before it refused the connection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    pub branch: String,
    pub status: u16,
    pub tried: Vec<String>,
}

impl Routed {
    /// The process that answered.
    pub fn upstream(&self) -> &str {
        self.tried.last().map_or("", String::as_str)
    }
}

impl Nginx {
    /// Start nginx in `dir`, passing requests to `upstreams` (host:port each), the
    /// process chosen by `balance`: an `upstream` block directive such as
    /// `hash $http_blisko_branch consistent;`, or empty for nginx's round robin.
    pub fn start(dir: &Path, upstreams: &[SocketAddr], balance: &str) -> Result<Nginx> {
        if !Path::new(NGINX).exists() {
            bail!(
                "{NGINX} is missing: the load-balancer tests need Debian's nginx \
                 (apt-get install -y nginx)"
            );
        }
        std::fs::create_dir_all(dir)?;
        // The port is taken back from the system a moment before nginx binds it.
        let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let access_log = dir.join("access.log");
        let servers: String = upstreams
            .iter()
            .map(|u| format!("        server {u} max_fails=1 fail_timeout=30s;\n"))
            .collect();
        let d = dir.display();
        let conf = format!(
            "daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format routed '$http_blisko_branch $status $upstream_addr';
    access_log {log} routed;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream blisko {{
        {balance}
{servers}    }}
    server {{
        listen {addr};
        client_max_body_size 8m;
        location / {{
            proxy_pass http://blisko;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
",
            log = access_log.display(),
        );
        let conf_file = dir.join("nginx.conf");
        std::fs::write(&conf_file, conf)?;
        let child = Command::new(NGINX)
            .arg("-p")
            .arg(dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(&conf_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("start {NGINX}"))?;
        let mut nginx = Nginx {
            child,
            addr,
            access_log,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(addr).is_err() {
            if let Some(status) = nginx.child.try_wait()? {
                let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
                bail!("nginx exited ({status}): {log}");
            }
            if Instant::now() > deadline {
                bail!("nginx did not listen on {addr} within 10 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(nginx)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests nginx has passed on so far, oldest first.
    pub fn routed(&self) -> Result<Vec<Routed>> {
        let log = std::fs::read_to_string(&self.access_log)
            .with_context(|| format!("read {}", self.access_log.display()))?;
        log.lines()
            .map(|line| {
                // `$http_blisko_branch` is logged as "-" when the header is absent;
                // `$upstream_addr` lists each process tried, as "a, b".
                let mut fields = line.splitn(3, ' ');
                let (Some(branch), Some(status), Some(tried)) =
                    (fields.next(), fields.next(), fields.next())
                else {
                    bail!("an access log line without three fields: {line:?}");
                };
                Ok(Routed {
                    branch: if branch == "-" { "" } else { branch }.to_owned(),
                    status: status
                        .parse()
                        .with_context(|| format!("status in {line:?}"))?,
                    tried: tried.split(", ").map(str::to_owned).collect(),
                })
            })
            .collect()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
