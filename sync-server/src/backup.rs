//! Backups of a data folder while the server runs, their restore into an empty folder,
//! and the erasure log that keeps erasures made after a backup effective in a restored
//! copy.
//!
//! A backup is one tar file: `manifest.json` first (see [`Manifest`]), then
//! `server.sqlite3` and `personal.sqlite3`, each a complete SQLite file. It is written as
//! `FILE.partial` and renamed at the end, so a crash never leaves a half backup under the
//! real name.
//!
//! The erasure log (`erasures.log` in the data folder) gets one line per erased person,
//! `<person id> <time>`, after the erasure is committed: no personal data. Every start
//! replays the lines the databases lack (a restored copy older than the erasure).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use blisko_shared::ids::PersonId;

use crate::central::{Central, CentralError};
use crate::store::{DB_FILE, PERSONAL_DB_FILE, StoreError};

/// The backup format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// What a manifest's `format` says.
const FORMAT_NAME: &str = "blisko-server-backup";
const MANIFEST: &str = "manifest.json";
/// The erasure log, in the data folder.
pub const ERASURE_LOG: &str = "erasures.log";
/// A database file in a backup is at most this large (a guard against a damaged header).
const MAX_FILE_BYTES: u64 = 64 << 30;

/// `manifest.json`, the first entry of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always "blisko-server-backup".
    pub format: String,
    pub format_version: u32,
    /// The `blisko-server` version that wrote it.
    pub server_version: String,
    /// The main file's schema version (SQLite `user_version`: the migrations applied).
    pub schema_version: i64,
    /// When the copy was taken (UTC, RFC 3339).
    pub created: String,
    pub files: Vec<ManifestFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub name: String,
    pub bytes: u64,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
}

/// What `backup` reports.
#[derive(Debug, Clone, Serialize)]
pub struct BackupDone {
    pub file: PathBuf,
    pub manifest: Manifest,
}

/// What `restore` reports.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreDone {
    pub data: PathBuf,
    pub manifest: Manifest,
    /// Whether an erasure log was put in the data folder.
    pub erasure_log: bool,
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> CentralError {
    let what = what.into();
    move |source| CentralError::Store(StoreError::Io { what, source })
}

fn refused(message: String) -> CentralError {
    CentralError::BadRequest(message)
}

fn sha256_file(path: &Path) -> Result<(u64, String), CentralError> {
    let mut file = std::fs::File::open(path).map_err(io(path.display().to_string()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .map_err(io(path.display().to_string()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok((bytes, hex::encode(hasher.finalize())))
}

/// A folder beside `path` (same file system, so renames work) for work files.
fn staging_beside(path: &Path) -> Result<tempfile::TempDir, CentralError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    tempfile::Builder::new()
        .prefix(".blisko-backup-")
        .tempdir_in(&parent)
        .map_err(io(format!("a work folder in {}", parent.display())))
}

/// Copy the data folder `dir` into the new backup file `to` while the server may run.
/// An existing `to` is refused.
pub fn backup(dir: &Path, to: &Path) -> Result<BackupDone, CentralError> {
    if !dir.join(DB_FILE).exists() {
        return Err(refused(format!(
            "{} holds no Blisko server data ({DB_FILE} is missing)",
            dir.display()
        )));
    }
    if to.exists() {
        return Err(refused(format!(
            "{} exists already: a backup never overwrites a file; choose a new name",
            to.display()
        )));
    }
    let mut central = Central::open(dir)?;
    let staging = staging_beside(to)?;
    let main = staging.path().join(DB_FILE);
    let personal = staging.path().join(PERSONAL_DB_FILE);
    let schema_version = central.store.backup_into(&main, &personal)?;
    let mut files = Vec::new();
    for (name, path) in [(DB_FILE, &main), (PERSONAL_DB_FILE, &personal)] {
        let (bytes, sha256) = sha256_file(path)?;
        files.push(ManifestFile {
            name: name.to_owned(),
            bytes,
            sha256,
        });
    }
    let manifest = Manifest {
        format: FORMAT_NAME.to_owned(),
        format_version: FORMAT_VERSION,
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        schema_version,
        created: jiff::Timestamp::now().to_string(),
        files,
    };
    let partial = partial_name(to);
    let written = write_archive(&partial, &manifest, staging.path());
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    // A hard link, unlike a rename, never replaces a file made meanwhile under the name.
    let linked = std::fs::hard_link(&partial, to).map_err(io(to.display().to_string()));
    let _ = std::fs::remove_file(&partial);
    linked?;
    sync_parent(to);
    Ok(BackupDone {
        file: to.to_path_buf(),
        manifest,
    })
}

fn partial_name(to: &Path) -> PathBuf {
    let mut name = to.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Ok(dir) = std::fs::File::open(parent)
    {
        let _ = dir.sync_all();
    }
}

fn write_archive(partial: &Path, manifest: &Manifest, from: &Path) -> Result<(), CentralError> {
    let what = partial.display().to_string();
    let mut options = std::fs::File::options();
    options.write(true).create_new(true);
    // It holds the personal-data file: readable by the server's user only.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(partial).map_err(io(what.clone()))?;
    let mut tar = tar::Builder::new(file);
    let json = serde_json::to_vec_pretty(manifest)
        .map_err(|e| CentralError::Internal(format!("encode the manifest: {e}")))?;
    let mut header = tar::Header::new_gnu();
    header.set_size(json.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(jiff::Timestamp::now().as_second().max(0) as u64);
    header.set_cksum();
    tar.append_data(&mut header, MANIFEST, json.as_slice())
        .map_err(io(what.clone()))?;
    for f in &manifest.files {
        let mut source = std::fs::File::open(from.join(&f.name)).map_err(io(what.clone()))?;
        tar.append_file(&f.name, &mut source)
            .map_err(io(what.clone()))?;
    }
    let file = tar.into_inner().map_err(io(what.clone()))?;
    file.sync_all().map_err(io(what))?;
    Ok(())
}

/// Restore the backup `from` into the data folder `dir`, which must be empty or missing.
/// The archive is read whole and checked (manifest, sizes, checksums) before anything is
/// put in `dir`; a refusal leaves `dir` as it was. `erasure_log`, when given, is copied
/// into the folder, and its erasures are replayed here, as every start does.
pub fn restore(
    dir: &Path,
    from: &Path,
    erasure_log: Option<&Path>,
) -> Result<RestoreDone, CentralError> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(io(dir.display().to_string()))?;
        if entries.next().is_some() {
            return Err(refused(format!(
                "{} is not empty: a backup is restored only into an empty or new folder",
                dir.display()
            )));
        }
    }
    let log = match erasure_log {
        Some(path) => {
            Some(std::fs::read(path).map_err(io(format!("the erasure log {}", path.display())))?)
        }
        None => None,
    };
    if let Some(log) = &log {
        parse_erasure_log(log, erasure_log.unwrap_or(Path::new(ERASURE_LOG)))?;
    }
    let staging = staging_beside(dir)?;
    let manifest = unpack_checked(from, staging.path())?;
    let created_dir = !dir.exists();
    std::fs::create_dir_all(dir).map_err(io(dir.display().to_string()))?;
    let placed = (|| {
        for f in &manifest.files {
            std::fs::rename(staging.path().join(&f.name), dir.join(&f.name))
                .map_err(io(dir.join(&f.name).display().to_string()))?;
        }
        if let Some(log) = &log {
            std::fs::write(dir.join(ERASURE_LOG), log)
                .map_err(io(dir.join(ERASURE_LOG).display().to_string()))?;
        }
        // The normal start: migrations, then what the erasure log holds.
        let mut central = Central::open(dir)?;
        // Kiosks learn from the new id that the server may lack what it acknowledged.
        central.store.mark_restored()?;
        central.replay_erasure_log()?;
        central.complete_erasures()?;
        Ok::<_, CentralError>(())
    })();
    if let Err(e) = placed {
        // Leave the folder as it was found.
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        if created_dir {
            let _ = std::fs::remove_dir(dir);
        }
        return Err(e);
    }
    sync_parent(&dir.join(DB_FILE));
    Ok(RestoreDone {
        data: dir.to_path_buf(),
        manifest,
        erasure_log: log.is_some(),
    })
}

fn damaged(from: &Path, why: impl std::fmt::Display) -> CentralError {
    refused(format!(
        "{} is not a usable backup ({why}); nothing was restored",
        from.display()
    ))
}

/// Read the archive into `into`, checking it against its manifest.
fn unpack_checked(from: &Path, into: &Path) -> Result<Manifest, CentralError> {
    let file = std::fs::File::open(from).map_err(io(from.display().to_string()))?;
    let mut archive = tar::Archive::new(file);
    let mut manifest: Option<Manifest> = None;
    let mut seen: Vec<(String, u64, String)> = Vec::new();
    let entries = archive.entries().map_err(|e| damaged(from, e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| damaged(from, e))?;
        let name = entry
            .path()
            .map_err(|e| damaged(from, e))?
            .to_string_lossy()
            .into_owned();
        if name == MANIFEST {
            if manifest.is_some() || !seen.is_empty() {
                return Err(damaged(from, "the manifest is not its first entry"));
            }
            let mut text = Vec::new();
            entry
                .by_ref()
                .take(1 << 20)
                .read_to_end(&mut text)
                .map_err(|e| damaged(from, e))?;
            let m: Manifest = serde_json::from_slice(&text)
                .map_err(|e| damaged(from, format!("manifest: {e}")))?;
            check_manifest(from, &m)?;
            manifest = Some(m);
            continue;
        }
        let Some(m) = &manifest else {
            return Err(damaged(from, "it does not start with a manifest"));
        };
        let Some(expected) = m.files.iter().find(|f| f.name == name) else {
            return Err(damaged(from, format!("an unexpected entry {name:?}")));
        };
        if seen.iter().any(|(n, _, _)| *n == name) {
            return Err(damaged(from, format!("{name} appears twice")));
        }
        let path = into.join(&expected.name);
        let mut out = std::fs::File::create(&path).map_err(io(path.display().to_string()))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut bytes = 0u64;
        loop {
            let n = entry.read(&mut buf).map_err(|e| damaged(from, e))?;
            if n == 0 {
                break;
            }
            bytes += n as u64;
            if bytes > MAX_FILE_BYTES {
                return Err(damaged(from, format!("{name} is too large")));
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .map_err(io(path.display().to_string()))?;
        }
        out.sync_all().map_err(io(path.display().to_string()))?;
        seen.push((name, bytes, hex::encode(hasher.finalize())));
    }
    let Some(manifest) = manifest else {
        return Err(damaged(from, "no manifest"));
    };
    for f in &manifest.files {
        match seen.iter().find(|(n, _, _)| *n == f.name) {
            None => return Err(damaged(from, format!("{} is missing", f.name))),
            Some((_, bytes, _)) if *bytes != f.bytes => {
                return Err(damaged(
                    from,
                    format!(
                        "{} has {bytes} bytes, the manifest says {}",
                        f.name, f.bytes
                    ),
                ));
            }
            Some((_, _, sha)) if *sha != f.sha256 => {
                return Err(damaged(
                    from,
                    format!("{} does not match its checksum", f.name),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(manifest)
}

fn check_manifest(from: &Path, m: &Manifest) -> Result<(), CentralError> {
    if m.format != FORMAT_NAME {
        return Err(damaged(from, format!("its format is {:?}", m.format)));
    }
    if m.format_version != FORMAT_VERSION {
        return Err(damaged(
            from,
            format!(
                "backup format {} (this blisko-server reads {FORMAT_VERSION})",
                m.format_version
            ),
        ));
    }
    let known = crate::store::schema_version();
    if m.schema_version > known {
        return Err(CentralError::Store(StoreError::TooNew {
            found: m.schema_version,
            known,
        }));
    }
    let mut names: Vec<&str> = m.files.iter().map(|f| f.name.as_str()).collect();
    names.sort_unstable();
    if names != [PERSONAL_DB_FILE, DB_FILE] {
        return Err(damaged(
            from,
            format!("the manifest lists {names:?}, not the two database files"),
        ));
    }
    Ok(())
}

/// Append erasures to the data folder's erasure log (synced to disk).
fn append_erasures(dir: &Path, erasures: &[(PersonId, String)]) -> std::io::Result<()> {
    if erasures.is_empty() {
        return Ok(());
    }
    let mut text = String::new();
    for (p, at) in erasures {
        text.push_str(&format!("{p} {at}\n"));
    }
    let mut file = std::fs::File::options()
        .create(true)
        .append(true)
        .open(dir.join(ERASURE_LOG))?;
    file.write_all(text.as_bytes())?;
    file.sync_data()
}

/// The erasures an erasure log lists, in order.
pub fn parse_erasure_log(
    bytes: &[u8],
    path: &Path,
) -> Result<Vec<(PersonId, String)>, CentralError> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        refused(format!(
            "{} is not an erasure log (not text)",
            path.display()
        ))
    })?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (id, at) = line.split_once(' ').unwrap_or((line, ""));
        let id: PersonId = id.parse().map_err(|_| {
            refused(format!(
                "{} line {}: {id:?} is not a person id",
                path.display(),
                n + 1
            ))
        })?;
        out.push((id, at.trim().to_owned()));
    }
    Ok(out)
}

impl Central {
    /// Replay the data folder's erasure log: each person listed whose key this store
    /// still holds (a copy from before their erasure) is marked for
    /// [`Central::complete_erasures`]. Returns how many were.
    pub fn replay_erasure_log(&mut self) -> Result<usize, CentralError> {
        let Some(dir) = self.store.data_dir() else {
            return Ok(0);
        };
        let path = dir.join(ERASURE_LOG);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(io(path.display().to_string())(e)),
        };
        let entries = parse_erasure_log(&bytes, &path)?;
        let db = self.store.write()?;
        let mut replayed = 0;
        for (person, at) in &entries {
            if db.replay_erasure(*person, at)? {
                replayed += 1;
            }
        }
        db.commit()?;
        Ok(replayed)
    }

    /// Bring the erasure log up to date with the erasures recorded in the main file
    /// (after every erasure, and at every start, which catches one a crash cut between
    /// the commit and the log).
    pub fn log_erasures(&mut self) -> Result<usize, CentralError> {
        let Some(dir) = self.store.data_dir() else {
            return Ok(0);
        };
        let path = dir.join(ERASURE_LOG);
        let logged = match std::fs::read(&path) {
            Ok(b) => parse_erasure_log(&b, &path)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(path.display().to_string())(e)),
        };
        let logged: std::collections::HashSet<PersonId> =
            logged.into_iter().map(|(id, _)| id).collect();
        let db = self.store.write()?;
        let recorded = db.erasures()?;
        drop(db);
        let mut missing: Vec<(PersonId, String)> = recorded
            .into_iter()
            .filter(|(id, _)| !logged.contains(id))
            .collect();
        missing.sort_by(|a, b| a.1.cmp(&b.1));
        append_erasures(&dir, &missing).map_err(io(path.display().to_string()))?;
        Ok(missing.len())
    }
}
