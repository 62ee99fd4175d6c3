//! Replays the committed fuzz corpus (the seeds and every input fuzzing found worth
//! keeping, including past crashes once fixed) through the fuzz targets' bodies, so a
//! regression shows in a plain `cargo test` without libFuzzer.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut inputs = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a corpus entry").path();
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        run(&bytes);
        inputs += 1;
    }
    inputs
}

#[test]
fn the_sync_message_corpus_replays_cleanly() {
    let inputs = replay("sync_message", blisko_fuzz::sync_message);
    assert!(inputs >= 8, "only {inputs} inputs: the corpus is missing");
}

#[test]
fn the_kiosk_changes_corpus_replays_cleanly() {
    let inputs = replay("kiosk_changes", blisko_fuzz::kiosk_changes);
    assert!(inputs >= 3, "only {inputs} inputs: the corpus is missing");
}

/// The seeds are real documents: the server's path must accept them, or fuzzing would
/// start from inputs that fail at the first check.
#[test]
fn the_seed_documents_are_accepted_as_a_kiosk_push() {
    use blisko_shared::docs::{Doc, actor_for};
    use blisko_shared::ids::KioskId;

    let own = actor_for(blisko_fuzz::subjects().kiosk);
    let keys = blisko_fuzz::doc_keys();
    let seeds: Vec<_> = blisko_fuzz::seeds::all()
        .into_iter()
        .filter(|s| s.target == "kiosk_changes")
        .collect();
    assert_eq!(seeds.len(), keys.len());
    for seed in seeds {
        let key = keys[usize::from(seed.bytes[0])];
        let doc = Doc::from_remote(key, KioskId::CENTRAL, &seed.bytes[1..], &[], &[], |a| {
            *a == own
        });
        assert!(doc.is_ok(), "{}: {:?}", seed.name, doc.err());
        // And under another kiosk's actor the same push is refused.
        let other = actor_for(KioskId::derived("another"));
        let forged = Doc::from_remote(key, KioskId::CENTRAL, &seed.bytes[1..], &[], &[], |a| {
            *a == other
        });
        assert!(forged.is_err(), "{}: accepted from a stranger", seed.name);
    }
}
