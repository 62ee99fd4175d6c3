//! The server's store on each backend of the tests: a server starts on it, its admin
//! commands work on the same store, and a kiosk enrolls and syncs a registration.

use std::sync::Mutex;

use anyhow::{Context, Result, ensure};

use blisko_kiosk::Kiosk;
use blisko_kiosk::kiosk::RegistrationForm;
use blisko_tests::harness::{server_and_mal_kiosk_on, server_roster, sync};
use blisko_tests::{Backend, for_each_backend};

fn lock(kiosk: &Mutex<Kiosk>) -> Result<std::sync::MutexGuard<'_, Kiosk>> {
    kiosk.lock().map_err(|_| anyhow::anyhow!("kiosk lock"))
}

#[test]
fn a_kiosk_enrolls_and_syncs_with_a_server_on_each_backend() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let (server, kiosk) = server_and_mal_kiosk_on(backend, tmp.path())?;
        assert_eq!(server.backend(), backend);

        let class = lock(&kiosk)?
            .classes()?
            .first()
            .context("the demo branch has a class")?
            .id
            .to_string();
        let receipt = lock(&kiosk)?.register(&RegistrationForm {
            class_id: class.clone(),
            given_name: "Halina".to_owned(),
            family_name: "Próbna".to_owned(),
            birth_year: 1951,
            consent: true,
            ..RegistrationForm::default()
        })?;
        let report = sync(&kiosk)?;
        ensure!(
            !report.incomplete && report.pending_changes == 0,
            "{report:?}"
        );
        let roster = server_roster(&server, &class)?;
        ensure!(
            roster.contains_key(&receipt.registration_id.to_string()),
            "the registration reached the server: {roster:?}"
        );
        let kiosks = server.admin(&["kiosk", "list"])?;
        assert_eq!(kiosks.as_array().map(Vec::len), Some(1), "{kiosks}");

        // The store is where the backend says, and only there.
        let sqlite_file = server.data.join("server.sqlite3");
        match (backend, server.database()) {
            (Backend::Sqlite, None) => ensure!(sqlite_file.is_file(), "no SQLite store"),
            (Backend::Postgres, Some(database)) => {
                ensure!(!sqlite_file.exists(), "a SQLite store beside PostgreSQL");
                let mut client = database.connect()?;
                for schema in ["main", "personal"] {
                    let tables: i64 = client
                        .query_one(
                            "SELECT count(*) FROM information_schema.tables \
                             WHERE table_schema = $1",
                            &[&schema],
                        )?
                        .get(0);
                    ensure!(tables > 0, "no tables in the schema {schema}");
                }
            }
            (backend, database) => anyhow::bail!("{backend} with {database:?}"),
        }
        Ok(())
    })
}
