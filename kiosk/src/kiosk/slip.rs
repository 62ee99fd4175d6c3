//! The printed slip: what a receipt shows (the class, its next session, the resident code;
//! or the request's reference number), as plain UTF-8 text for a receipt printer, and the
//! one call that hands it to CUPS.
//!
//! Formatting is a pure function of the slip and the paper width, so it is tested without
//! a printer; the screen builds the slip from the same strings it shows.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::error::KioskError;

/// Receipt paper: 58 mm fits about 32 characters of the printer's font a line, 80 mm
/// about 48.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PaperWidth {
    #[default]
    Mm80,
    Mm58,
}

impl PaperWidth {
    pub fn chars(self) -> usize {
        match self {
            PaperWidth::Mm58 => 32,
            PaperWidth::Mm80 => 48,
        }
    }

    /// "58" or "80" (millimetres), as the `--slip-width` flag takes it.
    pub fn from_mm(mm: &str) -> Option<PaperWidth> {
        match mm.trim().trim_end_matches("mm") {
            "58" => Some(PaperWidth::Mm58),
            "80" => Some(PaperWidth::Mm80),
            _ => None,
        }
    }
}

/// What a slip says, in the resident's language.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slip {
    /// "Potwierdzenie zapisu".
    pub title: String,
    /// The branch point's name, under the title.
    pub place: String,
    /// The class or the service, prominent.
    pub subject: String,
    /// Labelled lines: ("Data", "wtorek, 2026-09-08"), ("Godzina", "10:00"), …
    pub rows: Vec<(String, String)>,
    /// The codes to keep ("Kod mieszkańca", "ABCD-EFGH"), each set apart and centred.
    pub codes: Vec<(String, String)>,
    /// Sentences at the end (what happens next).
    pub notes: Vec<String>,
}

/// The slip as lines of at most `width.chars()` characters (characters, not bytes:
/// "ż" is one), ending with blank lines for the printer's cutter.
pub fn format_slip(slip: &Slip, width: PaperWidth) -> String {
    let w = width.chars();
    let mut out: Vec<String> = Vec::new();
    let rule = "-".repeat(w);
    for line in wrap(&slip.title, w) {
        out.push(center(&line, w));
    }
    for line in wrap(&slip.place, w) {
        out.push(center(&line, w));
    }
    out.push(rule.clone());
    out.extend(wrap(&slip.subject, w));
    for (label, value) in &slip.rows {
        out.extend(wrap_indented(&format!("{label}: {value}"), w, 2));
    }
    for (label, code) in &slip.codes {
        out.push(rule.clone());
        out.extend(wrap(&format!("{label}:"), w));
        // Spaced out, large on the paper's terms: easy to read back and copy.
        let spaced: String = code.chars().map(String::from).collect::<Vec<_>>().join(" ");
        let shown = if spaced.chars().count() <= w {
            spaced
        } else {
            code.clone()
        };
        for line in wrap(&shown, w) {
            out.push(center(&line, w));
        }
    }
    if !slip.notes.is_empty() {
        out.push(rule);
        for note in &slip.notes {
            out.extend(wrap(note, w));
        }
    }
    let mut text = out
        .into_iter()
        .map(|l| l.trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n");
    text.push_str("\n\n\n\n");
    text
}

fn center(line: &str, width: usize) -> String {
    let len = line.chars().count();
    let pad = width.saturating_sub(len) / 2;
    format!("{}{line}", " ".repeat(pad))
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    wrap_indented(text, width, 0)
}

/// Words to lines of at most `width` characters; continuation lines start with `indent`
/// spaces; a word longer than a line is cut.
fn wrap_indented(text: &str, width: usize, indent: usize) -> Vec<String> {
    let width = width.max(indent + 8);
    let mut lines = Vec::new();
    let mut line: Vec<char> = Vec::new();
    // Where the words of the current line start (after the indent).
    let mut start = 0;
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        while !word.is_empty() {
            let used = line.len();
            let sep = usize::from(used > start);
            if used + sep + word.len() <= width {
                if sep == 1 {
                    line.push(' ');
                }
                line.append(&mut word);
                continue;
            }
            if used == start {
                // Longer than a whole line: cut it.
                let rest = word.split_off(width - used);
                line.append(&mut word);
                word = rest;
            }
            lines.push(line.iter().collect());
            line = vec![' '; indent];
            start = indent;
        }
    }
    if line.len() > start {
        lines.push(line.iter().collect());
    }
    lines
}

/// How long `lp` may take to hand a job to CUPS.
const LP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Print `text` on the CUPS queue `queue` with `lp -d QUEUE` (the server is the system's,
/// or `CUPS_SERVER`). Returns once CUPS has taken the job; the text is not logged.
pub fn print(queue: &str, text: &str) -> Result<(), KioskError> {
    let io = |context: String| move |source: std::io::Error| KioskError::Io { context, source };
    let mut child = Command::new("lp")
        .args(["-d", queue, "-t", "Blisko"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(io(format!("start `lp` for printer queue {queue}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(text.as_bytes())
            .map_err(io(format!("send the slip to `lp` (queue {queue})")))?;
    }
    // `lp` returns once CUPS has the job; a scheduler that does not answer must not
    // freeze the screen.
    let deadline = std::time::Instant::now() + LP_TIMEOUT;
    loop {
        let exited = child
            .try_wait()
            .map_err(io(format!("wait for `lp` (queue {queue})")))?;
        if exited.is_some() {
            break;
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(KioskError::Io {
                context: format!("print on queue {queue}"),
                source: std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("`lp` did not finish within {} s", LP_TIMEOUT.as_secs()),
                ),
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let output = child
        .wait_with_output()
        .map_err(io(format!("wait for `lp` (queue {queue})")))?;
    if output.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    Err(KioskError::Io {
        context: format!("print on queue {queue} ({})", output.status),
        source: std::io::Error::other(said),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slip() -> Slip {
        Slip {
            title: "Potwierdzenie zapisu".into(),
            place: "Klub Seniora „Złota Jesień” przy ulicy Źródlanej".into(),
            subject: "Gimnastyka przy krzesłach dla osób starszych i początkujących".into(),
            rows: vec![
                ("Data".into(), "środa, 2026-09-09".into()),
                ("Godzina".into(), "10:00 (60 min)".into()),
                ("Sala".into(), "Sala gimnastyczna nr 2 na parterze, wejście od podwórza".into()),
            ],
            codes: vec![("Kod mieszkańca".into(), "ABCD-EFGH".into())],
            notes: vec![
                "Gdy zwolni się miejsce, otrzymają je kolejne osoby z listy. Nazwaodbardzodługiegosłowakróreniemieścisięwlinii".into(),
            ],
        }
    }

    #[test]
    fn no_line_is_wider_than_the_paper() {
        for width in [PaperWidth::Mm58, PaperWidth::Mm80] {
            let text = format_slip(&slip(), width);
            for line in text.lines() {
                assert!(
                    line.chars().count() <= width.chars(),
                    "{width:?}: {line:?} has {} characters",
                    line.chars().count()
                );
            }
        }
    }

    #[test]
    fn polish_letters_and_every_word_survive() {
        let text = format_slip(&slip(), PaperWidth::Mm58);
        let words = |t: &str| -> String { t.split_whitespace().collect::<Vec<_>>().join(" ") };
        let flat = words(&text);
        for needle in [
            "Potwierdzenie zapisu",
            "„Złota Jesień”",
            "Źródlanej",
            "Data: środa, 2026-09-09",
            "Godzina: 10:00 (60 min)",
            "Sala: Sala gimnastyczna nr 2 na parterze, wejście od podwórza",
            "A B C D - E F G H",
        ] {
            assert!(flat.contains(needle), "{needle:?} missing from\n{text}");
        }
        // The long word is cut, not lost.
        let joined: String = text.split_whitespace().collect();
        assert!(joined.contains("Nazwaodbardzodługiegosłowakróreniemieścisięwlinii"));
    }

    #[test]
    fn the_code_is_centred_and_the_paper_widths_parse() {
        let text = format_slip(&slip(), PaperWidth::Mm80);
        let line = text
            .lines()
            .find(|l| l.contains("A B C D"))
            .expect("code line");
        let lead = line.chars().take_while(|c| *c == ' ').count();
        assert_eq!(lead, (48 - "A B C D - E F G H".len()) / 2);
        assert_eq!(PaperWidth::from_mm("58"), Some(PaperWidth::Mm58));
        assert_eq!(PaperWidth::from_mm("80mm"), Some(PaperWidth::Mm80));
        assert_eq!(PaperWidth::from_mm("110"), None);
        assert!(text.ends_with("\n\n\n\n"));
    }
}
