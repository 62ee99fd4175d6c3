//! Write the seed inputs into `fuzz/corpus/<target>/seed-<name>` (next to what fuzzing
//! found and kept). Run again when the document layout or the protocol changes.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for seed in blisko_fuzz::seeds::all() {
        let dir = root.join(seed.target);
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("seed-{}", seed.name));
        std::fs::write(&path, &seed.bytes)?;
        println!("{} ({} bytes)", path.display(), seed.bytes.len());
    }
    Ok(())
}
