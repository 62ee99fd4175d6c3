//! The sync benchmarks' shared workload: branch catalogs built from the demo's classes,
//! kiosks enrolled through real HTTP, seat allotments, and the people who register.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};

use blisko_kiosk::Kiosk;
use blisko_kiosk::kiosk::{RegistrationForm, system_clock};
use blisko_shared::demo;
use blisko_shared::ids::{BranchId, ClassId, KioskId};
use blisko_shared::model::{Branch, Catalog, Class};

use crate::harness::{admin, setup_key};

/// `branches` catalogs of `classes` classes each (capacity 30, a waiting list of
/// `waitlist_limit`), built from the demo's classes and services.
pub fn catalogs(branches: usize, classes: usize, waitlist_limit: u32) -> Vec<Catalog> {
    let today = jiff::Zoned::now().date();
    let templates: Vec<Catalog> = demo::catalogs(today, 1, None);
    let demo_classes: Vec<&Class> = templates.iter().flat_map(|c| &c.classes).collect();
    (0..branches)
        .map(|b| {
            let template = &templates[b % templates.len()];
            let branch = Branch {
                id: BranchId::new(),
                code: format!("B{:02}", b + 1),
                name: format!("Punkt {}", b + 1),
                ..template.branch.clone()
            };
            let classes = (0..classes)
                .map(|i| Class {
                    id: ClassId::new(),
                    branch_id: branch.id,
                    capacity: 30,
                    waitlist_limit,
                    ..demo_classes[i % demo_classes.len()].clone()
                })
                .collect();
            Catalog {
                branch,
                classes,
                sessions: Vec::new(),
                services: template.services.clone(),
                allotments: BTreeMap::new(),
                staff: Vec::new(),
            }
        })
        .collect()
}

/// Import (or re-import) catalogs into the server's data folder with its admin command.
pub fn import(data: &Path, catalogs: &[Catalog]) -> Result<()> {
    let file = data.with_extension("catalogs.json");
    std::fs::write(&file, serde_json::to_vec(catalogs)?)
        .with_context(|| format!("write {}", file.display()))?;
    admin(data, &["catalog-import", &file.to_string_lossy()])?;
    Ok(())
}

/// Add a kiosk to `branch` on the server whose data folder is `data`, and enroll a new
/// kiosk store in `dir` with it through `url` (the server, or a proxy in front of it).
pub fn enroll_at(data: &Path, url: &str, branch: BranchId, dir: &Path) -> Result<Kiosk> {
    let added = admin(data, &["kiosk", "add", "--branch", &branch.to_string()])?;
    let code = added["code"].as_str().context("enrollment code")?;
    let key = setup_key(dir)?;
    Ok(blisko_kiosk::sync::enroll(
        dir,
        url,
        code,
        None,
        &key,
        system_clock(),
    )?)
}

/// Let each kiosk confirm `seats` seats per class of its branch offline; the rest stays
/// in the server's pool. `kiosks[b]` are branch `b`'s kiosks.
pub fn allot(catalogs: &mut [Catalog], kiosks: &[Vec<KioskId>], seats: u32) {
    for (catalog, kiosks) in catalogs.iter_mut().zip(kiosks) {
        for class in &catalog.classes {
            let per_kiosk = kiosks.iter().map(|k| (*k, seats)).collect();
            catalog.allotments.insert(class.id, per_kiosk);
        }
    }
}

pub const GIVEN: &[&str] = &[
    "Anna",
    "Maria",
    "Krystyna",
    "Barbara",
    "Zofia",
    "Jan",
    "Stanisław",
    "Andrzej",
    "Józef",
    "Tadeusz",
    "Halina",
    "Elżbieta",
    "Grażyna",
    "Wiesław",
    "Ryszard",
];
pub const FAMILY: &[&str] = &[
    "Nowak",
    "Kowalska",
    "Wiśniewski",
    "Wójcik",
    "Kowalczyk",
    "Kamińska",
    "Lewandowski",
    "Zielińska",
    "Szymański",
    "Woźniak",
    "Dąbrowska",
    "Kozłowski",
    "Jankowska",
    "Mazur",
    "Krawczyk",
];

/// The `i`th registration of kiosk `kiosk`: a varied but repeatable person.
pub fn form(kiosk: usize, i: usize, class: ClassId) -> RegistrationForm {
    let n = kiosk * 7919 + i;
    RegistrationForm {
        class_id: class.to_string(),
        given_name: GIVEN[n % GIVEN.len()].to_owned(),
        family_name: FAMILY[(n / GIVEN.len()) % FAMILY.len()].to_owned(),
        birth_year: 1935 + (n % 50) as i32,
        phone: Some(format!(
            "+48 6{:02} {:03} {:03}",
            n % 100,
            (n / 100) % 1000,
            n % 997
        )),
        consent: true,
        ..RegistrationForm::default()
    }
}

/// Run `f` over `0..count` with at most `concurrency` at a time; the results in order,
/// or the first error.
pub fn for_each_bounded<T: Send>(
    count: usize,
    concurrency: usize,
    f: impl Fn(usize) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, T)>> = Mutex::new(Vec::new());
    let first_error: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..concurrency.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= count {
                        return;
                    }
                    match f(i) {
                        Ok(v) => results.lock().expect("results").push((i, v)),
                        Err(e) => {
                            first_error.lock().expect("errors").get_or_insert(e);
                            return;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().expect("errors") {
        return Err(e);
    }
    let mut results = results.into_inner().expect("results");
    results.sort_by_key(|(i, _)| *i);
    Ok(results.into_iter().map(|(_, v)| v).collect())
}

/// Rounded to two decimals, for the benchmarks' JSON.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
