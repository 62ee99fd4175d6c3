//! What the server refuses, over real HTTP against a real `blisko-server` process: bad
//! credentials, writes a kiosk may not make, reads outside its branch, malformed and
//! oversized bodies, old protocol versions, bad enrollment codes, guessing codes and sync
//! floods past the rate limits. Each refusal is a clear error (status and code), leaves
//! the server's documents and kiosks exactly as they were, and is recorded in the audit
//! log when someone can be held to it.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result, bail, ensure};
use rand::RngExt;
use serde_json::Value;

use blisko_kiosk::Kiosk;
use blisko_kiosk::KioskError;
use blisko_kiosk::kiosk::{RegistrationForm, system_clock};
use blisko_kiosk::sync::{APP_VERSION, SyncClient, SyncError};
use blisko_shared::crypto::PersonKey;
use blisko_shared::docs::{CatalogDoc, CatalogEdit, Doc, DocKey, PeopleDoc, RosterDoc, RosterEdit};
use blisko_shared::hlc::HlcClock;
use blisko_shared::ids::{BranchId, ClassId, KioskId, PersonId, RegistrationId};
use blisko_shared::model::Registration;
use blisko_shared::sync::{
    DocChanges, DocHave, KeyList, PROTOCOL_HEADER, PROTOCOL_VERSION, PersonList, SyncRequest,
    SyncResponse, encode, to_heads,
};
use blisko_tests::harness::{
    ServerProcess, ServerSql, StorePart, branch_id, enroll_kiosk, kiosk_code, setup_key, sync,
};
use blisko_tests::{Backend, for_each_backend};

/// What a refusal must leave untouched: every document's feed position and heads, and
/// every kiosk's credential, revocation and last sync.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fingerprint {
    documents: Vec<(String, String, Vec<u8>)>,
    kiosks: Vec<KioskState>,
    enrollment_codes: Vec<(Vec<u8>, Option<String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct KioskState {
    id: String,
    token_prefix: Option<String>,
    enrolled_at: Option<String>,
    revoked_at: Option<String>,
    last_sync: Option<String>,
}

impl Fingerprint {
    fn of(data: &Path) -> Result<Fingerprint> {
        let mut sql = ServerSql::open_read_only(data, StorePart::Main)?;
        // Text on both stores; no timestamp or prefix is ever empty, so '' stands for none.
        let some = |text: &String| (!text.is_empty()).then(|| text.clone());
        let heads = sql.blobs("SELECT heads FROM documents ORDER BY doc_id", &[])?;
        let documents = sql
            .texts(
                "SELECT doc_id, CAST(seq AS TEXT) FROM documents ORDER BY doc_id",
                &[],
            )?
            .into_iter()
            .zip(heads)
            .map(|(row, heads)| (row[0].clone(), row[1].clone(), heads))
            .collect();
        let kiosks = sql
            .texts(
                "SELECT id, COALESCE(token_prefix, ''), COALESCE(enrolled_at, ''), \
                 COALESCE(revoked_at, ''), COALESCE(last_sync, '') FROM kiosks ORDER BY id",
                &[],
            )?
            .iter()
            .map(|r| KioskState {
                id: r[0].clone(),
                token_prefix: some(&r[1]),
                enrolled_at: some(&r[2]),
                revoked_at: some(&r[3]),
                last_sync: some(&r[4]),
            })
            .collect();
        let code_hashes = sql.blobs(
            "SELECT code_hash FROM enrollment_codes ORDER BY code_hash",
            &[],
        )?;
        let used = sql.texts(
            "SELECT COALESCE(used_at, '') FROM enrollment_codes ORDER BY code_hash",
            &[],
        )?;
        let enrollment_codes = code_hashes
            .into_iter()
            .zip(used.iter().map(|r| some(&r[0])))
            .collect();
        Ok(Fingerprint {
            documents,
            kiosks,
            enrollment_codes,
        })
    }

    fn without_last_sync(mut self) -> Fingerprint {
        for k in &mut self.kiosks {
            k.last_sync = None;
        }
        self
    }
}

/// The audit log, newest first.
fn audit(server: &ServerProcess) -> Result<Vec<Value>> {
    let log = server.admin(&["audit", "--limit", "100000"])?;
    Ok(log.as_array().context("the audit log is an array")?.clone())
}

/// A raw answer: status and the JSON error body (or `Null` for a success).
struct Answer {
    status: u16,
    body: Vec<u8>,
    /// The Retry-After header, in seconds.
    retry_after: Option<u64>,
}

impl Answer {
    fn error(&self) -> Result<(String, String)> {
        let v: Value = serde_json::from_slice(&self.body).with_context(|| {
            format!(
                "HTTP {} has no JSON error body: {:?}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })?;
        Ok((
            v["code"].as_str().context("code")?.to_owned(),
            v["message"].as_str().context("message")?.to_owned(),
        ))
    }
}

fn http() -> Result<reqwest::blocking::Client> {
    blisko_kiosk::sync::install_tls_provider();
    Ok(reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?)
}

/// POST a body with a chosen protocol header (`None`: left out) and token (`None`: no
/// Authorization header).
fn post(
    server: &ServerProcess,
    path: &str,
    protocol: Option<&str>,
    token: Option<&str>,
    body: Vec<u8>,
) -> Result<Answer> {
    let mut request = http()?
        .post(format!("{}{path}", server.url()))
        .header(
            reqwest::header::CONTENT_TYPE,
            blisko_shared::sync::CONTENT_TYPE,
        )
        .body(body);
    if let Some(p) = protocol {
        request = request.header(PROTOCOL_HEADER, p);
    }
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let response = request.send()?;
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    Ok(Answer {
        status: response.status().as_u16(),
        retry_after,
        body: response.bytes()?.to_vec(),
    })
}

fn current() -> String {
    PROTOCOL_VERSION.to_string()
}

fn sync_raw(server: &ServerProcess, token: &str, request: &SyncRequest) -> Result<Answer> {
    post(
        server,
        "/api/v1/sync",
        Some(&current()),
        Some(token),
        encode(request)?,
    )
}

fn enroll_raw(server: &ServerProcess, code: &str) -> Result<Answer> {
    let request = blisko_shared::sync::EnrollRequest {
        code: code.to_owned(),
        app_version: APP_VERSION.to_owned(),
    };
    post(
        server,
        "/api/v1/enroll",
        Some(&current()),
        None,
        encode(&request)?,
    )
}

fn push_request(push: Vec<DocChanges>, pull: Vec<DocHave>) -> SyncRequest {
    SyncRequest {
        push,
        pull,
        ..SyncRequest::new(APP_VERSION)
    }
}

/// Run `act`, which must be refused with `status` and `code`; the server must be left
/// exactly as it was, and `audited` (when given) must gain exactly one record.
fn refused(
    server: &ServerProcess,
    what: &str,
    status: u16,
    code: &str,
    audited: Option<&str>,
    act: impl FnOnce() -> Result<Answer>,
) -> Result<String> {
    let before = Fingerprint::of(&server.data)?;
    let log_before = audit(server)?;
    let answer = act()?;
    ensure!(
        answer.status == status,
        "{what}: expected HTTP {status}, got {} ({:?})",
        answer.status,
        String::from_utf8_lossy(&answer.body)
    );
    let (got_code, message) = answer.error().with_context(|| what.to_owned())?;
    ensure!(
        got_code == code,
        "{what}: expected code {code}, got {got_code}"
    );
    ensure!(!message.is_empty(), "{what}: the error explains itself");
    assert_eq!(
        Fingerprint::of(&server.data)?,
        before,
        "{what}: a refusal changes nothing"
    );
    let log_after = audit(server)?;
    let new = &log_after[..log_after.len() - log_before.len()];
    match audited {
        Some(action) => {
            ensure!(
                new.len() == 1 && new[0]["action"] == action,
                "{what}: expected one audit record {action}, got {new:?}"
            );
        }
        None => ensure!(new.is_empty(), "{what}: unexpected audit records {new:?}"),
    }
    Ok(message)
}

fn token_of(kiosk: &Mutex<Kiosk>) -> Result<String> {
    let k = kiosk.lock().expect("kiosk");
    Ok(k.server()?.context("enrolled")?.1)
}

fn kiosk_id(kiosk: &Mutex<Kiosk>) -> KioskId {
    kiosk.lock().expect("kiosk").identity().kiosk_id
}

/// A document as a kiosk stores it, loaded as `writer` (whose actor its new changes get).
fn stored(kiosk: &Mutex<Kiosk>, key: DocKey, writer: KioskId) -> Result<Doc> {
    let k = kiosk.lock().expect("kiosk");
    let s = k.store().load_doc(key)?.context("the kiosk holds it")?;
    Ok(Doc::load(
        key,
        writer,
        &s.snapshot,
        s.chunks.iter().map(Vec::as_slice),
    )?)
}

fn changes_after(doc: &Doc, before: &[blisko_shared::docs::ChangeHash]) -> DocChanges {
    DocChanges {
        doc: doc.key(),
        changes: doc
            .changes_since(before)
            .expect("changes of a valid document"),
        heads: to_heads(&doc.heads()),
        seal: None,
    }
}

fn registration(class: ClassId, kiosk: KioskId) -> Registration {
    let mut clock = HlcClock::new(kiosk);
    Registration {
        id: RegistrationId::new(),
        class_id: class,
        person_id: PersonId::new(),
        kiosk_id: kiosk,
        created: clock.tick(1_700_000_000_000),
        cancelled: None,
        grants: Default::default(),
    }
}

fn register(kiosk: &Mutex<Kiosk>, class: &str, given: &str) -> Result<()> {
    kiosk.lock().expect("kiosk").register(&RegistrationForm {
        class_id: class.to_owned(),
        given_name: given.to_owned(),
        family_name: "Nowak".to_owned(),
        birth_year: 1950,
        consent: true,
        ..RegistrationForm::default()
    })?;
    Ok(())
}

/// Two kiosks of one branch and one of another, synced, with a registration each.
struct World {
    _tmp: tempfile::TempDir,
    server: ServerProcess,
    mal: BranchId,
    si: BranchId,
    a: Mutex<Kiosk>,
    b: Mutex<Kiosk>,
    other: Mutex<Kiosk>,
    mal_class: ClassId,
    si_class: ClassId,
}

fn world(backend: Backend) -> Result<World> {
    let tmp = tempfile::tempdir()?;
    let server = ServerProcess::start_backend(backend, &tmp.path().join("server"), true)?;
    let mal = branch_id(&server.data, "MAL")?;
    let si = branch_id(&server.data, "SI")?;
    let a = enroll_kiosk(&server, &mal, &tmp.path().join("a"))?;
    let b = enroll_kiosk(&server, &mal, &tmp.path().join("b"))?;
    let other = enroll_kiosk(&server, &si, &tmp.path().join("other"))?;
    for k in [&a, &b, &other] {
        sync(k)?;
    }
    let mal_class = a.lock().expect("kiosk").classes()?[0].id;
    let si_class = other.lock().expect("kiosk").classes()?[0].id;
    register(&a, &mal_class.to_string(), "Anna")?;
    register(&other, &si_class.to_string(), "Ewa")?;
    for k in [&a, &other, &b] {
        sync(k)?;
    }
    Ok(World {
        _tmp: tmp,
        server,
        mal: mal.parse()?,
        si: si.parse()?,
        a,
        b,
        other,
        mal_class,
        si_class,
    })
}

#[test]
fn bad_and_revoked_credentials_are_refused() -> Result<()> {
    for_each_backend(|backend| {
        let w = world(backend)?;
        let s = &w.server;
        let idle = encode(&push_request(vec![], vec![]))?;

        let wrong: String = (0..64)
            .map(|_| char::from_digit(rand::rng().random_range(0..16), 16).expect("hex digit"))
            .collect();
        refused(
            s,
            "random token",
            401,
            "unauthorized",
            Some("sync_unauthorized"),
            || {
                post(
                    s,
                    "/api/v1/sync",
                    Some(&current()),
                    Some(&wrong),
                    idle.clone(),
                )
            },
        )?;
        // A real token's prefix with a wrong rest.
        let real = token_of(&w.a)?;
        let forged = format!("{}{}", &real[..12], &wrong[12..]);
        refused(
            s,
            "token with a known prefix",
            401,
            "unauthorized",
            Some("sync_unauthorized"),
            || {
                post(
                    s,
                    "/api/v1/sync",
                    Some(&current()),
                    Some(&forged),
                    idle.clone(),
                )
            },
        )?;
        // A known prefix names its kiosk in the audit record; a made-up token names none.
        let log = audit(s)?;
        assert_eq!(log[0]["subject"], format!("kiosk:{}", kiosk_id(&w.a)));
        assert_eq!(log[1]["subject"], "kiosk:?");
        refused(
            s,
            "no Authorization header",
            401,
            "unauthorized",
            Some("sync_unauthorized"),
            || post(s, "/api/v1/sync", Some(&current()), None, idle.clone()),
        )?;

        // Revoked: the credential stops working at once, and the kiosk says so plainly.
        let revoked = enroll_kiosk(s, &w.mal.to_string(), &w._tmp.path().join("revoked"))?;
        sync(&revoked)?;
        let id = kiosk_id(&revoked).to_string();
        s.admin(&["kiosk", "revoke", &id])?;
        let token = token_of(&revoked)?;
        refused(
            s,
            "revoked kiosk",
            401,
            "revoked",
            Some("sync_unauthorized"),
            || {
                post(
                    s,
                    "/api/v1/sync",
                    Some(&current()),
                    Some(&token),
                    idle.clone(),
                )
            },
        )?;
        let before = Fingerprint::of(&s.data)?;
        register(&revoked, &w.mal_class.to_string(), "Zofia")?;
        match sync(&revoked) {
            Err(e) => match e.downcast_ref::<KioskError>() {
                Some(KioskError::Sync(e @ SyncError::Revoked(_))) => {
                    assert_eq!(e.code(), "revoked");
                    assert!(!e.is_transient(), "revoked is not retried on its own");
                }
                other => bail!("a revoked kiosk's sync: {other:?}"),
            },
            Ok(report) => bail!("a revoked kiosk synced: {report:?}"),
        }
        assert_eq!(Fingerprint::of(&s.data)?, before);
        let status = revoked.lock().expect("kiosk").status()?;
        assert_eq!(status.last_sync_error.as_deref(), Some("revoked"));
        assert!(status.revoked, "the kiosk knows it is revoked");
        assert!(status.pending_changes > 0, "its work stays on the kiosk");
        let log = audit(s)?;
        assert_eq!(log[0]["action"], "sync_unauthorized");
        assert_eq!(log[0]["detail"], "revoked");
        // The refused credential's kiosk is known, and named.
        assert_eq!(log[0]["subject"], format!("kiosk:{id}"));
        Ok(())
    })
}

#[test]
fn writes_a_kiosk_may_not_make_are_forbidden() -> Result<()> {
    for_each_backend(|backend| {
        let w = world(backend)?;
        let s = &w.server;
        let (a_id, b_id) = (kiosk_id(&w.a), kiosk_id(&w.b));
        let a_token = token_of(&w.a)?;
        let b_token = token_of(&w.b)?;

        // The branch catalog, edited by the kiosk: catalogs are the office's.
        let key = DocKey::Catalog(w.mal);
        let mut catalog = CatalogDoc::from_doc(stored(&w.a, key, a_id)?)?;
        let base = catalog.doc().heads();
        catalog.apply(&[CatalogEdit::Allotment {
            class_id: w.mal_class,
            kiosk_id: a_id,
            seats: 1000,
        }])?;
        let push = changes_after(catalog.doc(), &base);
        refused(
            s,
            "catalog write",
            403,
            "forbidden",
            Some("sync_refused"),
            || sync_raw(s, &a_token, &push_request(vec![push.clone()], vec![])),
        )?;

        // A roster of another branch's class, written with the kiosk's own actor.
        let mut roster = RosterDoc::create(w.si_class, a_id)?;
        roster.apply(&[RosterEdit::Register(registration(w.si_class, a_id))])?;
        let push = changes_after(roster.doc(), &[]);
        refused(
            s,
            "roster of another branch",
            403,
            "forbidden",
            Some("sync_refused"),
            || sync_raw(s, &a_token, &push_request(vec![push.clone()], vec![])),
        )?;

        // Kiosk A's person, edited by kiosk B of the same branch (B holds a copy).
        let people_key_of_a =
            w.b.lock()
                .expect("kiosk")
                .store()
                .doc_keys("people")?
                .into_iter()
                .find(|k| matches!(k, DocKey::People(owner, _) if *owner == a_id))
                .context("B received A's people")?;
        let mut people = PeopleDoc::from_doc(stored(&w.b, people_key_of_a, b_id)?)?;
        let base = people.doc().heads();
        let mut p = people
            .persons()?
            .into_iter()
            .next()
            .context("A's people document names someone")?;
        p.family_name = "Zmieniona".to_owned();
        people.put(&p, &PersonKey::generate())?;
        let push = changes_after(people.doc(), &base);
        refused(
            s,
            "another kiosk's person",
            403,
            "forbidden",
            Some("sync_refused"),
            || sync_raw(s, &b_token, &push_request(vec![push.clone()], vec![])),
        )?;

        // A key for kiosk A's person, pushed by kiosk B: keys come only from the kiosk
        // whose people documents hold the person.
        let mut planted = push_request(vec![], vec![]);
        planted.keys = KeyList(vec![(p.id, PersonKey::generate())]);
        refused(
            s,
            "a key for another kiosk's person",
            403,
            "forbidden",
            Some("sync_refused"),
            || sync_raw(s, &b_token, &planted),
        )?;

        // A new person filed under another branch.
        let mut stranger = p.clone();
        stranger.id = PersonId::new();
        stranger.home_branch = w.si;
        // Written by A into its own people document, on top of what it holds.
        let own_key = DocKey::People(a_id, 0);
        let mut own = PeopleDoc::from_doc(stored(&w.a, own_key, a_id)?)?;
        let base = own.doc().heads();
        own.put(&stranger, &PersonKey::generate())?;
        let push = changes_after(own.doc(), &base);
        refused(
            s,
            "person naming another branch",
            403,
            "forbidden",
            Some("sync_refused"),
            || sync_raw(s, &a_token, &push_request(vec![push.clone()], vec![])),
        )?;

        // Kiosk A's roster, with a change written under kiosk B's actor, sent with A's token.
        let roster_key = DocKey::Roster(w.mal_class);
        let mut forged = RosterDoc::from_doc(stored(&w.a, roster_key, b_id)?)?;
        let base = forged.doc().heads();
        forged.apply(&[RosterEdit::Register(registration(w.mal_class, a_id))])?;
        let push = changes_after(forged.doc(), &base);
        let message = refused(
            s,
            "forged actor",
            403,
            "forbidden",
            Some("sync_refused"),
            || sync_raw(s, &a_token, &push_request(vec![push.clone()], vec![])),
        )?;
        assert!(message.contains("may not write"), "{message}");

        // One bad document spoils the whole push: the good one next to it is not kept.
        register(&w.a, &w.mal_class.to_string(), "Maria")?;
        let good =
            w.a.lock()
                .expect("kiosk")
                .prepare_sync(APP_VERSION)?
                .request;
        assert!(!good.push.is_empty());
        let mut mixed = good.clone();
        mixed.push.push(push.clone());
        refused(
            s,
            "good push with a forged one",
            403,
            "forbidden",
            Some("sync_refused"),
            || sync_raw(s, &a_token, &mixed),
        )?;

        // The kiosk itself is still welcome.
        let report = sync(&w.a)?;
        assert_eq!(report.pending_changes, 0);
        Ok(())
    })
}

#[test]
fn bad_bodies_and_foreign_reads_are_refused() -> Result<()> {
    for_each_backend(|backend| {
        let w = world(backend)?;
        let s = &w.server;
        let token = token_of(&w.a)?;
        let sync_body =
            |body: Vec<u8>| post(s, "/api/v1/sync", Some(&current()), Some(&token), body);

        refused(s, "garbage", 400, "malformed", None, || {
            sync_body(b"\x00\x01 not zstd at all".to_vec())
        })?;
        refused(s, "zstd of garbage", 400, "malformed", None, || {
            sync_body(zstd::bulk::compress(b"\xff\xfe not cbor", 3)?)
        })?;
        refused(s, "zstd of another message", 400, "malformed", None, || {
            sync_body(encode(&serde_json::json!({"cursor": "x"}))?)
        })?;
        refused(s, "empty body", 400, "malformed", None, || {
            sync_body(Vec::new())
        })?;
        let mut big = vec![0u8; blisko_shared::sync::MAX_BODY_BYTES + 1024];
        rand::rng().fill(&mut big[..]);
        refused(s, "oversized body", 413, "too_large", None, || {
            sync_body(big.clone())
        })?;

        // A decompression bomb: small on the wire, far past the limit once inflated.
        let bomb = string_bomb(2 * blisko_shared::sync::MAX_DECOMPRESSED_BYTES)?;
        ensure!(bomb.len() < 64 * 1024, "a bomb of {} bytes", bomb.len());
        refused(s, "decompression bomb", 413, "too_large", None, || {
            sync_body(bomb.clone())
        })?;
        // Zeros are no message: refused at the first byte, the rest never inflated.
        let zeros = zstd::bulk::compress(
            &vec![0u8; 2 * blisko_shared::sync::MAX_DECOMPRESSED_BYTES],
            19,
        )?;
        refused(s, "zeros bomb", 400, "malformed", None, || {
            sync_body(zeros.clone())
        })?;
        // Arrays nested a hundred thousand deep: the decoder gives up, it does not recurse on.
        let mut nested = vec![0x81u8; 100_000];
        nested.push(0x00);
        refused(s, "deeply nested", 400, "malformed", None, || {
            sync_body(zstd::bulk::compress(&nested, 3)?)
        })?;
        // A map that claims 2^32 entries and holds none: nothing is allocated for the claim.
        refused(s, "absurd length", 400, "malformed", None, || {
            sync_body(zstd::bulk::compress(&[0xbb, 0, 0, 0, 1, 0, 0, 0, 0], 3)?)
        })?;

        // Asking for more persons' keys at once than a returning resident could need.
        let mut greedy = push_request(vec![], vec![]);
        greedy.want_keys = PersonList(
            (0..=blisko_shared::sync::MAX_WANTED_KEYS)
                .map(|_| PersonId::new())
                .collect(),
        );
        refused(
            s,
            "too many wanted keys",
            400,
            "bad_request",
            Some("sync_refused"),
            || sync_raw(s, &token, &greedy),
        )?;

        // Reads outside the branch: refused as a whole, nothing returned, whether the
        // kiosk holds nothing of the document or says it holds some of it. A document
        // that does not exist is refused in the same words as another branch's, so that
        // asking tells a kiosk nothing about what exists elsewhere.
        let unknown = DocKey::Roster(ClassId::new());
        for have in [vec![], vec![blisko_shared::sync::Head([7; 32])]] {
            let mut messages = Vec::new();
            for key in [DocKey::Catalog(w.si), DocKey::Roster(w.si_class), unknown] {
                let request = push_request(
                    vec![],
                    vec![DocHave {
                        doc: key,
                        have: have.clone(),
                    }],
                );
                let message = refused(
                    s,
                    &format!("pull of {key} (holding {} heads)", have.len()),
                    403,
                    "forbidden",
                    Some("sync_refused"),
                    || sync_raw(s, &token, &request),
                )?;
                messages.push(message.replace(&key.to_string(), "<doc>"));
            }
            assert_eq!(
                messages[1], messages[2],
                "an unknown document answers differently"
            );
        }
        // The other branch's documents never show in the change list either.
        let answer = sync_raw(s, &token, &push_request(vec![], vec![]))?;
        assert_eq!(answer.status, 200);
        let response: SyncResponse = blisko_shared::sync::decode(&answer.body)?;
        assert!(!response.changed.is_empty());
        for changed in &response.changed {
            assert_ne!(changed.doc, DocKey::Catalog(w.si));
            assert_ne!(changed.doc, DocKey::Roster(w.si_class));
        }
        let _ = &w.other;
        Ok(())
    })
}

/// Relay one connection to `server`, rewriting the protocol header of the request to
/// `version` (what an old or new kiosk would send). Returns the relay's address.
fn protocol_rewriter(server: &ServerProcess, version: &'static str) -> Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let upstream = server.addr;
    std::thread::spawn(move || -> Result<()> {
        let (mut client, _) = listener.accept()?;
        let mut request = Vec::new();
        let mut buf = [0u8; 65536];
        // Head, then as many body bytes as Content-Length says.
        let (head_end, length) = loop {
            let n = client.read(&mut buf)?;
            if n == 0 {
                bail!("the client closed early");
            }
            request.extend_from_slice(&buf[..n]);
            if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break (end + 4, length);
            }
        };
        while request.len() < head_end + length {
            let n = client.read(&mut buf)?;
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        let head = String::from_utf8_lossy(&request[..head_end]).into_owned();
        let rewritten: String = head
            .split("\r\n")
            .map(|line| {
                if line.to_ascii_lowercase().starts_with(PROTOCOL_HEADER) {
                    format!("{PROTOCOL_HEADER}: {version}\r\nconnection: close")
                } else {
                    line.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\r\n");
        let mut up = TcpStream::connect(upstream)?;
        up.write_all(rewritten.as_bytes())?;
        up.write_all(&request[head_end..])?;
        let mut response = Vec::new();
        up.read_to_end(&mut response)?;
        client.write_all(&response)?;
        client.shutdown(Shutdown::Both)?;
        Ok(())
    });
    Ok(format!("http://{addr}"))
}

#[test]
fn protocol_versions_and_enrollment_codes_are_checked() -> Result<()> {
    for_each_backend(|backend| {
        let w = world(backend)?;
        let s = &w.server;
        let token = token_of(&w.a)?;
        let idle = encode(&push_request(vec![], vec![]))?;

        let message = refused(s, "protocol 999", 426, "unsupported_protocol", None, || {
            post(s, "/api/v1/sync", Some("999"), Some(&token), idle.clone())
        })?;
        assert!(message.contains("update"), "{message}");
        refused(
            s,
            "no protocol header",
            400,
            "missing_protocol",
            None,
            || post(s, "/api/v1/sync", None, Some(&token), idle.clone()),
        )?;
        refused(
            s,
            "enroll with protocol 0",
            426,
            "unsupported_protocol",
            None,
            || post(s, "/api/v1/enroll", Some("0"), None, idle.clone()),
        )?;

        // The kiosk's own client turns 426 into "update required".
        let relay = protocol_rewriter(s, "999")?;
        let client = SyncClient::new(&relay, Some(token.clone()), None)?;
        let before = Fingerprint::of(&s.data)?;
        match client.round(&push_request(vec![], vec![]), &mut Default::default()) {
            Err(SyncError::UpdateRequired(message)) => assert!(message.contains("update")),
            other => bail!("expected UpdateRequired, got {other:?}"),
        }
        assert_eq!(Fingerprint::of(&s.data)?, before);

        // Enrollment codes: unknown, then used.
        let enroll = |code: &str| enroll_raw(s, code);
        refused(
            s,
            "wrong enrollment code",
            401,
            "bad_enrollment_code",
            Some("enroll_refused"),
            || enroll("AAAA-BBBB-CCCC"),
        )?;
        let added = s.admin(&["kiosk", "add", "--branch", &w.mal.to_string()])?;
        let code = added["code"].as_str().context("code")?.to_owned();
        let first = enroll(&code)?;
        assert_eq!(first.status, 200);
        refused(
            s,
            "used enrollment code",
            401,
            "bad_enrollment_code",
            Some("enroll_refused"),
            || enroll(&code),
        )?;
        // Typed differently, still the same used code.
        refused(
            s,
            "used enrollment code, lower case",
            401,
            "bad_enrollment_code",
            Some("enroll_refused"),
            || enroll(&code.to_lowercase().replace('-', " ")),
        )?;
        let client = SyncClient::new(&s.url(), None, None)?;
        match client.enroll(&code) {
            Err(SyncError::Unauthorized { code, .. }) => assert_eq!(code, "bad_enrollment_code"),
            other => bail!("a used code enrolled: {other:?}"),
        }
        Ok(())
    })
}

#[test]
fn a_replayed_push_changes_nothing() -> Result<()> {
    for_each_backend(|backend| {
        let w = world(backend)?;
        let s = &w.server;
        let token = token_of(&w.a)?;
        let class = w.mal_class.to_string();
        for name in ["Irena", "Jadwiga", "Halina"] {
            register(&w.a, &class, name)?;
        }
        let request =
            w.a.lock()
                .expect("kiosk")
                .prepare_sync(APP_VERSION)?
                .request;
        assert!(!request.push.is_empty());
        let body = encode(&request)?;

        let before = Fingerprint::of(&s.data)?;
        let first = post(
            s,
            "/api/v1/sync",
            Some(&current()),
            Some(&token),
            body.clone(),
        )?;
        assert_eq!(first.status, 200);
        let after_first = Fingerprint::of(&s.data)?;
        assert_ne!(after_first.documents, before.documents, "the push landed");
        let roster_first = s.admin(&["roster", "--class", &class])?;

        let log_before = audit(s)?.len();
        let second = post(s, "/api/v1/sync", Some(&current()), Some(&token), body)?;
        assert_eq!(second.status, 200, "a replay is accepted");
        let _: SyncResponse = blisko_shared::sync::decode(&second.body)?;
        assert_eq!(
            Fingerprint::of(&s.data)?.without_last_sync(),
            after_first.clone().without_last_sync(),
            "a replay changes nothing"
        );
        assert_eq!(s.admin(&["roster", "--class", &class])?, roster_first);
        assert_eq!(audit(s)?.len(), log_before, "a replay is no refusal");

        // The kiosk, which never saw the answers, pushes the same again and settles.
        let report = sync(&w.a)?;
        assert_eq!(report.pending_changes, 0);
        assert_eq!(
            Fingerprint::of(&s.data)?.without_last_sync().documents,
            after_first.documents
        );
        assert!(w.a.lock().expect("kiosk").verify()?.is_empty());
        Ok(())
    })
}

/// Change bytes that made automerge panic, and bytes that made it allocate without bound
/// (both found by the `kiosk_changes` fuzz target, kept in its corpus). Pushed to a new
/// and to an existing document, they are refused as a bad request, and the server keeps
/// serving everyone.
#[test]
fn changes_that_crash_the_decoder_are_refused_and_the_server_goes_on() -> Result<()> {
    for_each_backend(|backend| {
        let w = world(backend)?;
        let s = &w.server;
        let token = token_of(&w.a)?;
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/kiosk_changes");
        for found in [
            "regression-automerge-column-eof",
            "regression-automerge-run-length-oom",
        ] {
            let path = corpus.join(found);
            let input = std::fs::read(&path).with_context(|| format!("{}", path.display()))?;
            let changes = input
                .get(1..)
                .context("an empty regression input")?
                .to_vec();
            for key in [
                DocKey::People(kiosk_id(&w.a), 9),
                DocKey::Roster(w.mal_class),
            ] {
                let push = DocChanges {
                    doc: key,
                    changes: changes.clone(),
                    heads: vec![],
                    seal: None,
                };
                let message = refused(
                    s,
                    &format!("{found} pushed to {key}"),
                    400,
                    "bad_request",
                    Some("sync_refused"),
                    || sync_raw(s, &token, &push_request(vec![push.clone()], vec![])),
                )?;
                assert!(message.contains("cannot be decoded"), "{message}");
            }
        }

        // Nobody else pays for it: both kiosks of the branch still sync and register.
        register(&w.a, &w.mal_class.to_string(), "Stefania")?;
        assert_eq!(sync(&w.a)?.pending_changes, 0);
        assert_eq!(sync(&w.b)?.pending_changes, 0);
        Ok(())
    })
}

/// A server on a free loopback port with the demo catalogue and more `serve` options.
fn server_with(
    backend: Backend,
    tmp: &tempfile::TempDir,
    options: &[&str],
) -> Result<ServerProcess> {
    ServerProcess::start_backend_with(
        backend,
        &tmp.path().join("server"),
        "127.0.0.1:0".parse()?,
        true,
        options,
    )
}

#[test]
fn guessing_enrollment_codes_is_rate_limited() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        // A short window keeps the test quick; the rule is the default one (5 in 60 s).
        let s = &server_with(
            backend,
            &tmp,
            &["--enroll-failures", "3", "--enroll-window-secs", "2"],
        )?;
        let mal = branch_id(&s.data, "MAL")?;
        let code = kiosk_code(s, &mal)?;
        for guess in ["AAAA-BBBB-CCCC", "AAAA-BBBB-CCCD", "AAAA-BBBB-CCCE"] {
            refused(
                s,
                "a guessed code",
                401,
                "bad_enrollment_code",
                Some("enroll_refused"),
                || enroll_raw(s, guess),
            )?;
        }

        // Limited: even the right code is refused, before it is looked at (the code stays
        // unused, nothing is audited), with the wait in Retry-After.
        let mut wait = None;
        let message = refused(
            s,
            "the right code while limited",
            429,
            "rate_limited",
            None,
            || {
                let answer = enroll_raw(s, &code)?;
                wait = answer.retry_after;
                Ok(answer)
            },
        )?;
        assert!(message.contains("try again"), "{message}");
        let wait = wait.context("a 429 says when to retry")?;
        assert!((1..=2).contains(&wait), "Retry-After {wait}");
        // The kiosk's own client reads it as a transient refusal with that wait.
        match SyncClient::new(&s.url(), None, None)?.enroll(&code) {
            Err(e @ SyncError::RateLimited { .. }) => {
                assert!(e.is_transient());
                assert!(e.retry_after().is_some_and(|d| d.as_secs() >= 1));
            }
            other => bail!("expected a rate limit, got {other:?}"),
        }

        // After the window the right code is accepted and the kiosk syncs.
        std::thread::sleep(std::time::Duration::from_secs(wait));
        let kiosk = {
            let dir = tmp.path().join("k");
            blisko_kiosk::sync::enroll(
                &dir,
                &s.url(),
                &code,
                None,
                &setup_key(&dir)?,
                system_clock(),
            )?
        };
        let kiosk = Mutex::new(kiosk);
        sync(&kiosk)?;
        ensure!(!kiosk.lock().expect("kiosk").classes()?.is_empty());
        Ok(())
    })
}

#[test]
fn a_sync_flood_is_rate_limited_and_changes_nothing() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        // A small burst keeps the flood short; the default is 120 in a row, then 2 a second.
        let s = &server_with(
            backend,
            &tmp,
            &["--sync-burst", "8", "--sync-per-minute", "2"],
        )?;
        let mal = branch_id(&s.data, "MAL")?;
        let flooder = enroll_kiosk(s, &mal, &tmp.path().join("flooder"))?;
        let normal = enroll_kiosk(s, &mal, &tmp.path().join("normal"))?;
        sync(&flooder)?;
        sync(&normal)?;
        let class = flooder.lock().expect("kiosk").classes()?[0].id.to_string();
        let roster_before = blisko_tests::harness::server_roster(s, &class)?;

        // A runaway client repeats the idle round until the server stops it (bounded).
        let token = token_of(&flooder)?;
        let idle = push_request(vec![], vec![]);
        let mut answers = Vec::new();
        for _ in 0..20 {
            let answer = sync_raw(s, &token, &idle)?;
            let status = answer.status;
            answers.push(answer);
            if status == 429 {
                break;
            }
        }
        let last = answers.last().context("answers")?;
        ensure!(last.status == 429, "no limit after 20 rounds");
        ensure!(answers.len() > 1, "the first rounds pass");
        assert_eq!(last.error()?.0, "rate_limited");
        assert!(last.retry_after.is_some_and(|s| (1..=30).contains(&s)));

        // While limited, a real push is refused and changes nothing: the registration stays
        // pending at the kiosk, which treats it as transient and keeps the wait.
        register(&flooder, &class, "Irena")?;
        let before = Fingerprint::of(&s.data)?;
        match sync(&flooder).map_err(|e| e.downcast::<KioskError>()) {
            Err(Ok(KioskError::Sync(e @ SyncError::RateLimited { .. }))) => {
                assert!(e.is_transient());
                assert!(e.retry_after().is_some_and(|d| d.as_secs() >= 1));
            }
            other => bail!("expected a rate limit, got {other:?}"),
        }
        assert_eq!(
            Fingerprint::of(&s.data)?,
            before,
            "a limited sync changes nothing"
        );
        assert!(flooder.lock().expect("kiosk").status()?.pending_changes > 0);
        refused(s, "a push while limited", 429, "rate_limited", None, || {
            let request = flooder
                .lock()
                .expect("kiosk")
                .prepare_sync(APP_VERSION)?
                .request;
            sync_raw(s, &token, &request)
        })?;

        // Another kiosk is not affected.
        register(&normal, &class, "Jadwiga")?;
        let report = sync(&normal)?;
        assert_eq!(report.pending_changes, 0);
        let roster = blisko_tests::harness::server_roster(s, &class)?;
        assert_eq!(
            roster.len(),
            roster_before.len() + 1,
            "only the kiosk that was not limited reached the server"
        );
        Ok(())
    })
}

#[test]
fn made_up_credentials_are_rate_limited_per_address() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        // The default is 20 a minute; 3 keep the test short.
        let s = &server_with(backend, &tmp, &["--auth-failures", "3"])?;
        let mal = branch_id(&s.data, "MAL")?;
        let kiosk = enroll_kiosk(s, &mal, &tmp.path().join("k"))?;
        let idle = push_request(vec![], vec![]);
        let made_up = |n: u8| format!("{n:02x}").repeat(32);
        for n in 0..3 {
            refused(
                s,
                "a made-up credential",
                401,
                "unauthorized",
                Some("sync_unauthorized"),
                || sync_raw(s, &made_up(n), &idle),
            )?;
        }
        // A fresh made-up token no longer reaches the store (nor the audit log); neither does
        // anything else from that address for a minute.
        refused(
            s,
            "one more made-up credential",
            429,
            "rate_limited",
            None,
            || sync_raw(s, &made_up(9), &idle),
        )?;
        let token = token_of(&kiosk)?;
        let answer = refused(
            s,
            "a real credential from that address",
            429,
            "rate_limited",
            None,
            || sync_raw(s, &token, &idle),
        )?;
        assert!(answer.contains("refused credentials"), "{answer}");
        Ok(())
    })
}

/// A zstd body, a few KB on the wire, that inflates to `len` bytes and more: a message
/// whose one text value goes on and on (so a decoder reading it as it inflates must
/// inflate it all, unlike zeros, which are no message from the first byte).
fn string_bomb(len: usize) -> Result<Vec<u8>> {
    let mut cbor = vec![0xa1, 0x6b];
    cbor.extend_from_slice(b"app_version");
    cbor.push(0x7a);
    cbor.extend_from_slice(&u32::try_from(len)?.to_be_bytes());
    cbor.resize(cbor.len() + len, 0);
    Ok(zstd::bulk::compress(&cbor, 19)?)
}

/// A random 64-digit hex token, as a kiosk's credential looks.
fn made_up_token() -> String {
    (0..64)
        .map(|_| char::from_digit(rand::rng().random_range(0..16), 16).expect("hex digit"))
        .collect()
}

/// Decompression bombs (33 MiB of text in a few KB) from eight clients at once, with
/// made-up credentials to the sync endpoint and without any to enrollment: the sync ones
/// are refused before their body is read (401, then 429), the enrollment ones once they
/// pass the few KB a code needs (413, then 429), and the server's memory stays where it
/// was. Before, every bomb was inflated to the 32 MiB limit first: eight clients took the
/// server from 19 to 127 MB.
#[test]
fn bombs_from_strangers_are_refused_without_inflating_them() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let s = &server_with(backend, &tmp, &[])?;
        let mal = branch_id(&s.data, "MAL")?;
        let kiosk = enroll_kiosk(s, &mal, &tmp.path().join("k"))?;
        sync(&kiosk)?;
        let bomb = string_bomb(33 * 1024 * 1024)?;
        ensure!(bomb.len() < 64 * 1024, "a bomb of {} bytes", bomb.len());
        let peak_before = s.peak_memory_kib().context("the server's VmHWM")?;

        let statuses = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for client in 0..8 {
                let (bomb, statuses) = (&bomb, &statuses);
                scope.spawn(move || -> Result<()> {
                    for _ in 0..15 {
                        let answer = if client % 2 == 0 {
                            post(
                                s,
                                "/api/v1/sync",
                                Some(&current()),
                                Some(&made_up_token()),
                                bomb.clone(),
                            )?
                        } else {
                            post(s, "/api/v1/enroll", Some(&current()), None, bomb.clone())?
                        };
                        let code = answer.error()?.0;
                        statuses.lock().expect("statuses").push((
                            client % 2 == 0,
                            answer.status,
                            code,
                        ));
                    }
                    Ok(())
                });
            }
        });
        let peak_after = s.peak_memory_kib().context("the server's VmHWM")?;
        let grown_mib = peak_after.saturating_sub(peak_before) / 1024;
        ensure!(
            grown_mib < 40,
            "120 bombs grew the server's peak memory by {grown_mib} MiB ({peak_before} -> {peak_after} KiB)"
        );
        let statuses = statuses.into_inner().expect("statuses");
        assert_eq!(statuses.len(), 120, "every bomb was answered");
        for (to_sync, status, code) in &statuses {
            let expected: &[(u16, &str)] = if *to_sync {
                &[(401, "unauthorized"), (429, "rate_limited")]
            } else {
                &[(413, "too_large"), (429, "rate_limited")]
            };
            ensure!(
                expected.contains(&(*status, code.as_str())),
                "a bomb to {} answered {status} {code}",
                if *to_sync { "sync" } else { "enroll" }
            );
        }
        ensure!(
            statuses
                .iter()
                .filter(|(_, status, _)| *status == 429)
                .count()
                >= 90,
            "the floods were cut short: {statuses:?}"
        );
        // The kiosk that synced before is still served.
        let class = kiosk.lock().expect("kiosk").classes()?[0].id.to_string();
        register(&kiosk, &class, "Teresa")?;
        assert_eq!(sync(&kiosk)?.pending_changes, 0);
        Ok(())
    })
}

/// Bodies that cannot be read count against their address like refused credentials:
/// garbage with a real credential is answered 400 until that credential's own rate
/// limit answers 429 (a cut upload on a poor line must not lock out the kiosks behind
/// its address); garbage with a made-up credential is refused as a credential, unread. A
/// kiosk that has synced before, at the same address, is still served.
#[test]
fn garbage_bodies_from_one_address_are_rate_limited() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let s = &server_with(
            backend,
            &tmp,
            &[
                "--auth-failures",
                "3",
                "--sync-burst",
                "10",
                "--sync-per-minute",
                "6",
            ],
        )?;
        let mal = branch_id(&s.data, "MAL")?;
        let sender = enroll_kiosk(s, &mal, &tmp.path().join("sender"))?;
        let neighbour = enroll_kiosk(s, &mal, &tmp.path().join("neighbour"))?;
        sync(&sender)?;
        sync(&neighbour)?;
        let token = token_of(&sender)?;
        let garbage = |body: &[u8]| -> Result<Answer> {
            post(
                s,
                "/api/v1/sync",
                Some(&current()),
                Some(&token),
                body.to_vec(),
            )
        };
        refused(s, "garbage", 400, "malformed", None, || {
            garbage(b"\x00\x01 not zstd at all")
        })?;
        refused(s, "zstd of garbage", 400, "malformed", None, || {
            garbage(&zstd::bulk::compress(b"\xff\xfe not cbor", 3)?)
        })?;
        refused(s, "a bomb", 413, "too_large", None, || {
            garbage(&string_bomb(33 * 1024 * 1024)?)
        })?;
        // A cut upload is garbage too, and on a poor line it is common: the kiosk is refused
        // each time but keeps its standing, and its own rate limit holds a flood.
        let mut refused_unread = 0;
        let message = loop {
            let answer = garbage(b"\x00\x01 not zstd at all")?;
            match answer.status {
                400 => refused_unread += 1,
                429 => break String::from_utf8_lossy(&answer.body).into_owned(),
                other => anyhow::bail!("garbage answered {other}"),
            }
            anyhow::ensure!(refused_unread < 20, "garbage was never rate limited");
        };
        assert!(message.contains("this credential"), "{message}");
        // The neighbour behind the same address has done nothing wrong.
        let class = neighbour.lock().expect("kiosk").classes()?[0]
            .id
            .to_string();
        register(&neighbour, &class, "Olga")?;
        assert_eq!(sync(&neighbour)?.pending_changes, 0);

        // With a made-up credential, garbage is not even read: refused as a credential.
        let tmp2 = tempfile::tempdir()?;
        let s2 = &server_with(backend, &tmp2, &["--auth-failures", "3"])?;
        for _ in 0..3 {
            refused(
                s2,
                "garbage with a made-up credential",
                401,
                "unauthorized",
                Some("sync_unauthorized"),
                || {
                    post(
                        s2,
                        "/api/v1/sync",
                        Some(&current()),
                        Some(&made_up_token()),
                        b"\x00\x01 not zstd at all".to_vec(),
                    )
                },
            )?;
        }
        refused(s2, "more garbage", 429, "rate_limited", None, || {
            post(
                s2,
                "/api/v1/sync",
                Some(&current()),
                Some(&made_up_token()),
                b"\x00\x01 not zstd at all".to_vec(),
            )
        })?;
        Ok(())
    })
}

/// A flood of made-up credentials from one address (a NAT shared with real kiosks) is
/// refused with 429, while the kiosks at that address that have synced before keep
/// syncing — also right after a restart of the server, which knows them from its store.
/// A kiosk that has never synced waits with the flood.
#[test]
fn made_up_credentials_do_not_lock_out_kiosks_that_synced() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let mut server = server_with(backend, &tmp, &["--auth-failures", "3"])?;
        let mal = branch_id(&server.data, "MAL")?;
        let kiosk = enroll_kiosk(&server, &mal, &tmp.path().join("k"))?;
        let newcomer = enroll_kiosk(&server, &mal, &tmp.path().join("new"))?;
        sync(&kiosk)?;
        let class = kiosk.lock().expect("kiosk").classes()?[0].id.to_string();
        let idle = push_request(vec![], vec![]);
        let flood = |s: &ServerProcess| -> Result<()> {
            let mut limited = 0;
            for _ in 0..10 {
                let answer = sync_raw(s, &made_up_token(), &idle)?;
                ensure!(
                    answer.status == 401 || answer.status == 429,
                    "a made-up credential answered {}",
                    answer.status
                );
                limited += usize::from(answer.status == 429);
            }
            ensure!(limited >= 7, "the flood was not limited");
            Ok(())
        };

        flood(&server)?;
        register(&kiosk, &class, "Wanda")?;
        assert_eq!(
            sync(&kiosk)?.pending_changes,
            0,
            "the kiosk that synced is served"
        );
        let before = Fingerprint::of(&server.data)?;
        match sync(&newcomer).map_err(|e| e.downcast::<KioskError>()) {
            Err(Ok(KioskError::Sync(SyncError::RateLimited { .. }))) => {}
            other => bail!("a kiosk that never synced, in the flood: {other:?}"),
        }
        assert_eq!(Fingerprint::of(&server.data)?, before);

        // After a restart, the server knows the kiosk from its store.
        let addr = server.addr;
        server.stop()?;
        let server = ServerProcess::start_with(
            &tmp.path().join("server"),
            addr,
            false,
            &["--auth-failures", "3"],
        )?;
        flood(&server)?;
        register(&kiosk, &class, "Halina")?;
        assert_eq!(sync(&kiosk)?.pending_changes, 0, "served after a restart");

        // Revoked, it loses its standing: refused, then limited with the flood.
        server.admin(&["kiosk", "revoke", &kiosk_id(&kiosk).to_string()])?;
        let token = token_of(&kiosk)?;
        let answer = sync_raw(&server, &token, &idle)?;
        assert_eq!(
            (answer.status, answer.error()?.0.as_str()),
            (401, "revoked")
        );
        let answer = sync_raw(&server, &token, &idle)?;
        assert_eq!(answer.status, 429);
        Ok(())
    })
}

/// An intake request as a kiosk that skipped the PESEL check would file it.
fn intake_with_pesel(
    person: PersonId,
    branch: BranchId,
    kiosk: KioskId,
    service: blisko_shared::ids::ServiceId,
    pesel: &str,
) -> blisko_shared::model::IntakeRequest {
    use blisko_shared::model::{ApplicantRole, RequestStatus, StatusChange};
    let at = HlcClock::new(kiosk).tick(1_700_000_000_000);
    blisko_shared::model::IntakeRequest {
        id: blisko_shared::ids::RequestId::stamped(&at),
        reference: "MAL/01/2026/09999".to_owned(),
        person_id: person,
        branch_id: branch,
        kiosk_id: kiosk,
        service_id: service,
        applicant_role: ApplicantRole::SelfApplicant,
        description: "Potrzebna pomoc asystenta".to_owned(),
        pesel: Some(pesel.to_owned()),
        declaration_version: "1".to_owned(),
        consent_version: "1".to_owned(),
        history: vec![StatusChange {
            status: RequestStatus::Submitted,
            by: format!("kiosk:{kiosk}"),
            at,
            decision_reference: None,
            appeal_info: None,
        }],
        ipus_due: None,
    }
}

/// A PESEL whose date of birth is in another year than its person's birth year, pushed
/// by a kiosk that skipped the check, is refused (400, nothing changed, audited): for a
/// person already at the server, and for a new person pushed with their key and the
/// request in one round, as kiosks push. The server opens both with the person's key.
/// A PESEL of the right year is taken.
#[test]
fn a_pushed_pesel_of_another_birth_year_is_refused() -> Result<()> {
    for_each_backend(|backend| {
        use blisko_shared::docs::IntakeDoc;
        let w = world(backend)?;
        let s = &w.server;
        let a_id = kiosk_id(&w.a);
        let token = token_of(&w.a)?;
        let service =
            w.a.lock()
                .expect("kiosk")
                .services()?
                .into_iter()
                .find(|s| s.requires_pesel)
                .context("a service that needs a PESEL")?
                .id;
        let keys = w.a.lock().expect("kiosk").store().person_keys()?;
        let people_key = DocKey::People(a_id, 0);
        let people = PeopleDoc::from_doc(stored(&w.a, people_key, a_id)?)?;
        // Anna, registered at kiosk A in 1950's name and synced: her key is at the server.
        let anna = people
            .persons_with(|id| keys.get(&id).cloned())?
            .into_iter()
            .find(|p| p.given_name == "Anna")
            .context("Anna at kiosk A")?;
        assert_eq!(anna.birth_year, 1950);
        let anna_key = keys.get(&anna.id).context("Anna's key")?.clone();
        // Born 14 May 1944.
        let request = intake_with_pesel(anna.id, w.mal, a_id, service, "44051401359");
        let doc = IntakeDoc::create(&request, &anna_key, a_id)?;
        let push = changes_after(doc.doc(), &[]);
        let message = refused(
            s,
            "a PESEL of 1944 for a person born in 1950",
            400,
            "bad_request",
            Some("sync_refused"),
            || sync_raw(s, &token, &push_request(vec![push.clone()], vec![])),
        )?;
        assert!(
            message.contains("does not agree with the person's birth year"),
            "{message}"
        );
        assert!(!message.contains("1944") && !message.contains("44051401359"));

        // A new person, their key and their request in one push.
        let mut people = PeopleDoc::from_doc(stored(&w.a, people_key, a_id)?)?;
        let base = people.doc().heads();
        let mut newcomer = anna.clone();
        newcomer.id = PersonId::new();
        newcomer.given_name = "Bożena".to_owned();
        let newcomer_key = PersonKey::generate();
        people.put(&newcomer, &newcomer_key)?;
        let person_push = changes_after(people.doc(), &base);
        let one_round = |pesel: &str| -> Result<SyncRequest> {
            let request = intake_with_pesel(newcomer.id, w.mal, a_id, service, pesel);
            let doc = IntakeDoc::create(&request, &newcomer_key, a_id)?;
            let mut round = push_request(
                vec![person_push.clone(), changes_after(doc.doc(), &[])],
                vec![],
            );
            round.keys = KeyList(vec![(newcomer.id, newcomer_key.clone())]);
            Ok(round)
        };
        let mismatched = one_round("44051401359")?;
        refused(
            s,
            "a new person with a PESEL of another year, in one push",
            400,
            "bad_request",
            Some("sync_refused"),
            || sync_raw(s, &token, &mismatched),
        )?;
        // Born 3 March 1950: taken.
        let answer = sync_raw(s, &token, &one_round("50030300016")?)?;
        assert_eq!(answer.status, 200, "{:?}", answer.error());
        Ok(())
    })
}
