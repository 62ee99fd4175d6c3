//! Branches from the browser, over real HTTP against a real `blisko-server` with no
//! catalog loaded: a new server's office admin adds the first branch, its kiosk, and the
//! people who open the kiosk's staff mode with their own PINs; a real kiosk enrolled for
//! the branch gets all of it with a sync, and a PIN taken away stops working there. Bad
//! input is refused with what was typed kept, and changes nothing.

use std::sync::Mutex;

use anyhow::{Context, Result, ensure};

use blisko_kiosk::Kiosk;
use blisko_shared::ids::BranchId;
use blisko_tests::for_each_backend;
use blisko_tests::harness::{ServerProcess, enroll_kiosk, sync};
use blisko_tests::office::{Office, PASSWORD, add_staff, audit_actions, data_attrs, location};

fn staff_named(kiosk: &Mutex<Kiosk>, pin: &str) -> Result<Option<String>> {
    Ok(kiosk
        .lock()
        .expect("kiosk")
        .staff_by_pin(pin)?
        .map(|s| s.name))
}

#[test]
fn a_new_server_gets_its_branch_kiosk_and_kiosk_staff_from_the_browser() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, false)?;
        add_staff(&data, "admin", "office_admin", None)?;
        add_staff(&data, "org", "organizer", None)?;
        let admin = Office::login(&server.url(), "admin", PASSWORD)?;

        // Nothing yet: the overview and the kiosks page send the admin to the branches page.
        let overview = admin.page("/office")?;
        ensure!(
            overview.contains("id=\"no-branches\"") && overview.contains("/office/branches#add"),
            "the overview says where to start"
        );
        let kiosks = admin.page("/office/kiosks")?;
        ensure!(
            kiosks.contains("id=\"no-branches\"") && kiosks.contains("/office/branches#add"),
            "the kiosks page says a branch comes first"
        );
        ensure!(
            admin
                .page("/office/branches")?
                .contains("id=\"no-branches\"")
        );

        // A bad code is refused; what was typed stays; nothing is created.
        let refused = admin.post(
            "/office/branches",
            &[
                ("code", "M"),
                ("name", "Klub Seniora <script>alert(1)</script>"),
                ("address", "ul. Lipowa 3, 00-001 Miasto"),
                ("opening_hours", "pon.–pt. 9:00–17:00"),
                ("help", ""),
            ],
        )?;
        ensure!(refused.status().as_u16() == 400, "{}", refused.status());
        let refused = refused.text()?;
        ensure!(refused.contains("id=\"branch-refused\"") && refused.contains("Skrót"));
        ensure!(
            refused.contains("value=\"ul. Lipowa 3, 00-001 Miasto\""),
            "the address typed is kept"
        );
        ensure!(
            !refused.contains("<script>alert(1)</script>"),
            "a typed name is escaped"
        );
        ensure!(
            admin
                .page("/office/branches")?
                .contains("id=\"no-branches\"")
        );

        // The first branch: the code is taken in capitals; the page of the branch follows.
        let form = [
            ("code", "ks2"),
            ("name", "Klub Seniora <script>alert(1)</script>"),
            ("address", "ul. Lipowa 3, 00-001 Miasto"),
            ("opening_hours", "pon.–pt. 9:00–17:00"),
            ("help", "Proszę podejść do recepcji."),
        ];
        let added = admin.post("/office/branches", &form)?;
        ensure!(added.status().as_u16() == 303, "{}", added.status());
        let page = location(&added)?;
        let branch = page.rsplit('/').next().context("branch id")?.to_owned();
        branch.parse::<BranchId>()?;
        let list = admin.page("/office/branches")?;
        ensure!(data_attrs(&list, "branch") == vec![branch.clone()]);
        ensure!(list.contains("KS2") && list.contains("&lt;script&gt;"));
        // The same code again is refused.
        let twice = admin.post("/office/branches", &form)?;
        ensure!(twice.status().as_u16() == 400, "{}", twice.status());
        ensure!(data_attrs(&admin.page("/office/branches")?, "branch").len() == 1);

        // A kiosk enrolled for it gets the branch with its first sync.
        let kiosk = enroll_kiosk(&server, &branch, &tmp.path().join("kiosk"))?;
        sync(&kiosk)?;
        {
            let k = kiosk.lock().expect("kiosk");
            let shown = k
                .store()
                .branch(branch.parse()?)?
                .context("the kiosk knows its branch")?;
            ensure!(shown.code == "KS2" && shown.help == "Proszę podejść do recepcji.");
            ensure!(
                k.services()?.len() == 7,
                "a first branch takes requests for the standard services"
            );
        }

        // Kiosk staff: a PIN each, never the same one twice.
        let staff = format!("{page}/staff");
        let anna = admin.post(
            &staff,
            &[
                ("name", "Anna Nowak"),
                ("role", "instructor"),
                ("pin", "4321"),
            ],
        )?;
        ensure!(anna.status().as_u16() == 303, "{}", anna.status());
        let same_pin = admin.post(
            &staff,
            &[
                ("name", "Jan Lis"),
                ("role", "branch_staff"),
                ("pin", "4321"),
            ],
        )?;
        ensure!(same_pin.status().as_u16() == 400, "{}", same_pin.status());
        let same_pin = same_pin.text()?;
        ensure!(
            same_pin.contains("id=\"staff-refused\"") && same_pin.contains("value=\"Jan Lis\""),
            "the refusal keeps the name typed"
        );
        let short_pin = admin.post(
            &staff,
            &[("name", "Jan Lis"), ("role", "branch_staff"), ("pin", "12")],
        )?;
        ensure!(short_pin.status().as_u16() == 400);
        let jan = admin.post(
            &staff,
            &[
                ("name", "Jan Lis"),
                ("role", "branch_staff"),
                ("pin", "8765"),
            ],
        )?;
        ensure!(jan.status().as_u16() == 303);
        sync(&kiosk)?;
        ensure!(staff_named(&kiosk, "4321")?.as_deref() == Some("Anna Nowak"));
        ensure!(staff_named(&kiosk, "8765")?.as_deref() == Some("Jan Lis"));

        // Anna gets a new PIN; Jan's is taken away.
        let detail = admin.page(&page)?;
        let ids = data_attrs(&detail, "staff");
        ensure!(ids.len() == 2, "{ids:?}");
        // Listed in Polish order: Lis before Nowak.
        let (jan_id, anna_id) = (&ids[0], &ids[1]);
        let changed = admin.post(
            &staff,
            &[
                ("id", anna_id.as_str()),
                ("name", "Anna Nowak"),
                ("role", "instructor"),
                ("pin", "5555"),
            ],
        )?;
        ensure!(changed.status().as_u16() == 303, "{}", changed.status());
        let removed = admin.post(&format!("{staff}/{jan_id}/remove"), &[])?;
        ensure!(removed.status().as_u16() == 303, "{}", removed.status());
        sync(&kiosk)?;
        ensure!(
            staff_named(&kiosk, "4321")?.is_none(),
            "the old PIN is gone"
        );
        ensure!(staff_named(&kiosk, "5555")?.as_deref() == Some("Anna Nowak"));
        ensure!(
            staff_named(&kiosk, "8765")?.is_none(),
            "a PIN taken away stops working at the kiosk"
        );

        // The branch's hours change; the kiosk shows the new ones after a sync.
        let mut edited = form.to_vec();
        edited[3] = ("opening_hours", "pon.–sob. 8:00–20:00");
        edited[0] = ("code", "KS2");
        let saved = admin.post(&page, &edited)?;
        ensure!(saved.status().as_u16() == 303, "{}", saved.status());
        sync(&kiosk)?;
        ensure!(
            kiosk
                .lock()
                .expect("kiosk")
                .store()
                .branch(branch.parse()?)?
                .context("branch")?
                .opening_hours
                == "pon.–sob. 8:00–20:00"
        );

        // Only an office admin manages branches.
        let org = Office::login(&server.url(), "org", PASSWORD)?;
        ensure!(org.get("/office/branches")?.status().as_u16() == 403);
        let forbidden = org.post(
            &staff,
            &[("name", "X Y"), ("role", "instructor"), ("pin", "9999")],
        )?;
        ensure!(forbidden.status().as_u16() == 403);
        sync(&kiosk)?;
        ensure!(staff_named(&kiosk, "9999")?.is_none(), "nothing changed");

        // The audit page says what happened in words, and never shows a PIN's hash.
        let log = admin.page("/office/audit")?;
        for said in [
            "nowy punkt",
            "<span class=\"field\">skrót</span>: <span class=\"new\">KS2</span>",
            "zmiana danych punktu",
            "PIN do kiosku nadany",
            "PIN do kiosku odebrany",
            "Anna Nowak",
            "nowy PIN",
            "pon.–sob. 8:00–20:00",
        ] {
            ensure!(log.contains(said), "the audit page says {said}");
        }
        ensure!(!log.contains("argon2"), "no PIN hash in the audit");
        // Times read as words ("6 grudnia 2026, niedz., 14:30"), never "2026-12-06 14:30".
        for page in [
            "/office/audit",
            "/office/kiosks",
            "/office/staff",
            "/office",
        ] {
            let text = admin.page(page)?;
            ensure!(!has_iso_time(&text), "{page} shows a time as digits");
        }
        let done = audit_actions(&server)?;
        for action in [
            "branch_add",
            "branch_edit",
            "kiosk_staff_pin",
            "kiosk_staff_remove",
        ] {
            ensure!(done.iter().any(|a| a == action), "{action} audited");
        }
        Ok(())
    })
}

/// Whether `text` holds a time written as `YYYY-MM-DD HH:MM`.
fn has_iso_time(text: &str) -> bool {
    let shape = b"dddd-dd-dd dd:dd";
    text.as_bytes().windows(shape.len()).any(|w| {
        w.iter().zip(shape).all(|(c, s)| match s {
            b'd' => c.is_ascii_digit(),
            other => c == other,
        })
    })
}
