//! A bounds check on automerge change bytes received from elsewhere, before automerge
//! parses them.
//!
//! automerge 0.12 trusts the run lengths inside a bundle's columns: a few hundred bytes
//! that claim a run of 2^60 values make it allocate until the process dies (found by
//! fuzzing `kiosk_changes`). An allocation failure aborts the process and cannot be
//! caught, so the only defence is to refuse such input before it reaches automerge.
//!
//! This walks the chunk framing and every column of every bundle, counting the values
//! each column would decode to, without decoding them, and inflating compressed columns
//! only up to a limit. Real pushes stay far below the limits (a people document of 1,000
//! persons has about 12,000 operations).
//!
//! The layout (automerge's binary format): a chunk is magic (4 bytes), checksum (4),
//! type (1), uLEB length, data. A bundle's data is: dependencies (uLEB count, 32-byte
//! hashes), actors (uLEB count, each uLEB length + bytes), then the change columns and
//! the operation columns, each as a uLEB column count, (uLEB spec, uLEB length) pairs and
//! the columns' bytes.

use std::io::Read;

/// The most values one column may decode to.
pub const MAX_VALUES_PER_COLUMN: u64 = 1 << 20;
/// The most bytes a compressed column may inflate to.
pub const MAX_INFLATED_COLUMN_BYTES: u64 = 16 << 20;

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHUNK_BUNDLE: u8 = 3;
const COLUMN_DEFLATE: u32 = 0b1000;

/// Why change bytes were refused before automerge saw them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UntrustedError {
    #[error("not a bundle of changes: {0}")]
    Framing(&'static str),
    #[error("a column claims more than {MAX_VALUES_PER_COLUMN} values")]
    TooManyValues,
    #[error("a compressed column inflates past {MAX_INFLATED_COLUMN_BYTES} bytes")]
    InflatesTooFar,
    #[error("a compressed column is not valid deflate data")]
    BadDeflate,
}

type Result<T> = std::result::Result<T, UntrustedError>;

/// Check change bytes as a kiosk pushes them (bundles, as `Doc::changes_since` makes
/// them) against the limits above. Empty input is fine. (What the server sends a kiosk
/// may also hold whole saved documents; the kiosk trusts its server.)
pub fn check_changes(mut bytes: &[u8]) -> Result<()> {
    while !bytes.is_empty() {
        let magic = take(&mut bytes, 4, "chunk magic")?;
        if magic != MAGIC {
            return Err(UntrustedError::Framing("bad magic bytes"));
        }
        take(&mut bytes, 4, "chunk checksum")?;
        let kind = take(&mut bytes, 1, "chunk type")?[0];
        if kind != CHUNK_BUNDLE {
            return Err(UntrustedError::Framing(
                "only bundles of changes are accepted",
            ));
        }
        let len = uleb(&mut bytes)?;
        let data = take(&mut bytes, to_usize(len)?, "chunk data")?;
        check_bundle(data)?;
    }
    Ok(())
}

fn check_bundle(mut data: &[u8]) -> Result<()> {
    let deps = uleb(&mut data)?;
    take(
        &mut data,
        to_usize(deps)?.saturating_mul(32),
        "dependencies",
    )?;
    for _ in 0..uleb(&mut data)? {
        let len = uleb(&mut data)?;
        take(&mut data, to_usize(len)?, "actor id")?;
    }
    // The change columns, then the operation columns.
    for _ in 0..2 {
        let count = uleb(&mut data)?;
        let mut specs = Vec::new();
        for _ in 0..count {
            let spec = u32::try_from(uleb(&mut data)?)
                .map_err(|_| UntrustedError::Framing("column spec too large"))?;
            let len = to_usize(uleb(&mut data)?)?;
            specs.push((spec, len));
        }
        for (spec, len) in specs {
            let column = take(&mut data, len, "column data")?;
            check_column(spec, column)?;
        }
    }
    Ok(())
}

fn check_column(spec: u32, column: &[u8]) -> Result<()> {
    if spec & COLUMN_DEFLATE != 0 {
        let mut inflated = Vec::new();
        flate2::read::DeflateDecoder::new(column)
            .take(MAX_INFLATED_COLUMN_BYTES + 1)
            .read_to_end(&mut inflated)
            .map_err(|_| UntrustedError::BadDeflate)?;
        if inflated.len() as u64 > MAX_INFLATED_COLUMN_BYTES {
            return Err(UntrustedError::InflatesTooFar);
        }
        return count_values(spec, &inflated);
    }
    count_values(spec, column)
}

/// The number of values a column decodes to, by its type (the spec's low three bits),
/// refused when over [`MAX_VALUES_PER_COLUMN`].
fn count_values(spec: u32, mut column: &[u8]) -> Result<()> {
    let mut values: u64 = 0;
    let mut add = |n: u64| {
        values = values.saturating_add(n);
        if values > MAX_VALUES_PER_COLUMN {
            Err(UntrustedError::TooManyValues)
        } else {
            Ok(())
        }
    };
    match spec & 0b111 {
        // Booleans: alternating run lengths.
        4 => {
            while !column.is_empty() {
                add(uleb(&mut column)?)?;
            }
        }
        // Raw values: bytes, counted by their metadata column.
        7 => {}
        // Run-length encoded: group, actor, integer, delta, string, value metadata.
        kind => {
            let value = |column: &mut &[u8]| -> Result<()> {
                match kind {
                    3 => sleb(column).map(drop),
                    5 => {
                        let len = to_usize(uleb(column)?)?;
                        take(column, len, "string value").map(drop)
                    }
                    _ => uleb(column).map(drop),
                }
            };
            while !column.is_empty() {
                let run = sleb(&mut column)?;
                if run > 0 {
                    value(&mut column)?;
                    add(run.unsigned_abs())?;
                } else if run < 0 {
                    for _ in 0..run.unsigned_abs() {
                        value(&mut column)?;
                    }
                    add(run.unsigned_abs())?;
                } else {
                    add(uleb(&mut column)?)?;
                }
            }
        }
    }
    Ok(())
}

fn take<'a>(bytes: &mut &'a [u8], n: usize, what: &'static str) -> Result<&'a [u8]> {
    if bytes.len() < n {
        return Err(UntrustedError::Framing(what));
    }
    let (head, rest) = bytes.split_at(n);
    *bytes = rest;
    Ok(head)
}

fn uleb(bytes: &mut &[u8]) -> Result<u64> {
    leb128::read::unsigned(bytes).map_err(|_| UntrustedError::Framing("bad LEB128 number"))
}

fn sleb(bytes: &mut &[u8]) -> Result<i64> {
    leb128::read::signed(bytes).map_err(|_| UntrustedError::Framing("bad LEB128 number"))
}

fn to_usize(n: u64) -> Result<usize> {
    usize::try_from(n).map_err(|_| UntrustedError::Framing("length too large"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docs::{DocKey, RosterDoc};
    use crate::ids::{ClassId, KioskId};

    #[test]
    fn real_changes_pass() {
        let class = ClassId::new();
        let roster = RosterDoc::create(class, KioskId::new()).unwrap();
        let changes = roster.doc().changes_since(&[]).unwrap();
        assert_eq!(roster.doc().key(), DocKey::Roster(class));
        assert_eq!(check_changes(&changes), Ok(()));
        assert_eq!(check_changes(&[]), Ok(()));
    }

    /// A bundle with one integer column holding a single run of 2^40 copies of 0.
    fn bundle_with_column(spec: u32, column: &[u8]) -> Vec<u8> {
        let mut data = vec![0, 0]; // no dependencies, no actors
        data.push(1); // one change column
        leb128::write::unsigned(&mut data, u64::from(spec)).unwrap();
        leb128::write::unsigned(&mut data, column.len() as u64).unwrap();
        data.extend_from_slice(column);
        data.push(0); // no operation columns
        let mut chunk = MAGIC.to_vec();
        chunk.extend_from_slice(&[0; 4]);
        chunk.push(CHUNK_BUNDLE);
        leb128::write::unsigned(&mut chunk, data.len() as u64).unwrap();
        chunk.extend_from_slice(&data);
        chunk
    }

    #[test]
    fn a_run_past_the_limit_is_refused() {
        let mut run = Vec::new();
        leb128::write::signed(&mut run, 1 << 40).unwrap();
        run.push(0);
        let bytes = bundle_with_column(2, &run);
        assert_eq!(check_changes(&bytes), Err(UntrustedError::TooManyValues));

        let mut fine = Vec::new();
        leb128::write::signed(&mut fine, 1000).unwrap();
        fine.push(0);
        assert_eq!(check_changes(&bundle_with_column(2, &fine)), Ok(()));
    }

    #[test]
    fn a_deflate_bomb_is_refused() {
        use std::io::Write;
        let mut deflater =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        deflater
            .write_all(&vec![0u8; (MAX_INFLATED_COLUMN_BYTES + 1) as usize])
            .unwrap();
        let bomb = deflater.finish().unwrap();
        let bytes = bundle_with_column(7 | COLUMN_DEFLATE, &bomb);
        assert_eq!(check_changes(&bytes), Err(UntrustedError::InflatesTooFar));
    }

    #[test]
    fn truncated_and_foreign_chunks_are_refused() {
        let changes = RosterDoc::create(ClassId::new(), KioskId::new())
            .unwrap()
            .doc()
            .changes_since(&[])
            .unwrap();
        for cut in [1, 5, 9, changes.len() - 1] {
            assert!(check_changes(&changes[..cut]).is_err(), "cut at {cut}");
        }
        let mut document_chunk = changes.clone();
        document_chunk[8] = 0;
        assert!(check_changes(&document_chunk).is_err());
    }
}
