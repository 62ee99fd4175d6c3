//! Where the key of the kiosk's encrypted store comes from. The key never lives in the
//! data folder: a copied folder, or a backup of it, is useless without the key, which a
//! deployment keeps elsewhere (another disk, a TPM-sealed systemd credential, ...).
//!
//! In order: `--key-file PATH` (or `BLISKO_KEY_FILE`), then systemd's credential
//! `blisko-kiosk.key` in `$CREDENTIALS_DIRECTORY` (`LoadCredential=` or
//! `LoadCredentialEncrypted=` in the unit). Set-up creates the file with a new random
//! key if it does not exist yet; opening needs it.

use std::path::{Path, PathBuf};

pub use blisko_shared::sqlite::StoreKey;

use crate::error::KioskError;

pub const KEY_FILE_ENV: &str = "BLISKO_KEY_FILE";
/// The name of the key among systemd's credentials.
pub const CREDENTIAL: &str = "blisko-kiosk.key";

/// The key file for the store in `data`: `given`, else the systemd credential. Refused
/// inside the data folder.
pub fn key_file(given: Option<&Path>, data: &Path) -> Result<PathBuf, KioskError> {
    let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
    key_file_from(given, credentials.as_deref(), data)
}

/// [`key_file`] with systemd's credentials folder given rather than read from the
/// environment.
fn key_file_from(
    given: Option<&Path>,
    credentials: Option<&Path>,
    data: &Path,
) -> Result<PathBuf, KioskError> {
    let path = match (given, credentials) {
        (Some(path), _) => path.to_owned(),
        (None, Some(dir)) => dir.join(CREDENTIAL),
        (None, None) => return Err(KioskError::NoKeyFile),
    };
    if inside(&path, data) {
        return Err(KioskError::KeyInDataFolder(path.display().to_string()));
    }
    Ok(path)
}

/// Whether `path` is in `folder`, after resolving what exists of both (symbolic links,
/// `..`).
fn inside(path: &Path, folder: &Path) -> bool {
    let resolve = |p: &Path| {
        let absolute = std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
        // The deepest existing ancestor, resolved, with the rest appended.
        let mut existing = absolute.as_path();
        let mut rest = Vec::new();
        while !existing.exists() {
            match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_owned());
                    existing = parent;
                }
                _ => break,
            }
        }
        let mut resolved = existing
            .canonicalize()
            .unwrap_or_else(|_| existing.to_owned());
        resolved.extend(rest.iter().rev());
        resolved
    };
    resolve(path).starts_with(resolve(folder))
}

/// The key for setting up a kiosk in `data`: the one in `key_file`, or a new one
/// written there. A folder already holding a store gets no new key (set-up will refuse
/// it anyway), so a missing key file is reported rather than replaced.
pub fn for_setup(key_file: &Path, data: &Path) -> Result<StoreKey, KioskError> {
    if data.join(crate::store::DB_FILE).exists() {
        Ok(StoreKey::load(key_file)?)
    } else {
        Ok(StoreKey::load_or_create(key_file)?)
    }
}

/// Set up a store (`f`) with the key for it: the key file is made here when neither it
/// nor a store exists yet, and removed again when the set-up fails before any store was
/// written, so that a failed enrollment leaves no key file behind (a retry makes a new
/// one).
pub fn set_up_with<T>(
    key_file: &Path,
    data: &Path,
    f: impl FnOnce(&StoreKey) -> Result<T, KioskError>,
) -> Result<T, KioskError> {
    let store = data.join(crate::store::DB_FILE);
    let made_here = !store.exists() && !key_file.exists();
    let key = for_setup(key_file, data)?;
    let result = f(&key);
    if result.is_err()
        && made_here
        && !store.exists()
        && let Err(e) = std::fs::remove_file(key_file)
    {
        tracing::warn!(error = %e, "could not remove the key file of a failed set-up");
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_in_the_data_folder_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("kiosk");
        let refused = [data.join("key"), data.join("sub/../key"), data.clone()];
        for path in refused {
            assert!(
                matches!(
                    key_file(Some(&path), &data),
                    Err(KioskError::KeyInDataFolder(_))
                ),
                "{}",
                path.display()
            );
        }
        let beside = tmp.path().join("kiosk.key");
        assert_eq!(key_file(Some(&beside), &data).unwrap(), beside);
    }

    #[test]
    fn without_a_key_file_the_systemd_credential_is_used() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("kiosk");
        let credentials = tmp.path().join("credentials");
        assert_eq!(
            key_file_from(None, Some(&credentials), &data).unwrap(),
            credentials.join("blisko-kiosk.key")
        );
        // A file given wins over the credential.
        let given = tmp.path().join("given.key");
        assert_eq!(
            key_file_from(Some(&given), Some(&credentials), &data).unwrap(),
            given
        );
        assert!(matches!(
            key_file_from(None, None, &data),
            Err(KioskError::NoKeyFile)
        ));
        // A credentials folder inside the data folder is refused like a key file there.
        assert!(matches!(
            key_file_from(None, Some(&data.join("creds")), &data),
            Err(KioskError::KeyInDataFolder(_))
        ));
    }

    #[test]
    fn a_key_from_the_credential_opens_what_it_set_up() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("kiosk");
        let credentials = tmp.path().join("credentials");
        std::fs::create_dir(&credentials).unwrap();
        // As blisko-kiosk-setup writes it: 64 hex digits and a newline.
        std::fs::write(
            credentials.join(CREDENTIAL),
            format!("{}\n", "ab".repeat(32)),
        )
        .unwrap();
        let path = key_file_from(None, Some(&credentials), &data).unwrap();
        let key = for_setup(&path, &data).unwrap();
        assert_eq!(StoreKey::load(&path).unwrap(), key);
        // The credential is never replaced: a wrong one is refused, not overwritten.
        std::fs::write(credentials.join(CREDENTIAL), "not a key\n").unwrap();
        assert!(for_setup(&path, &data).is_err());
        assert_eq!(
            std::fs::read_to_string(credentials.join(CREDENTIAL)).unwrap(),
            "not a key\n"
        );
    }
}
