//! Spoken output, offline, in Polish and English: one module and one small trait, so a
//! better voice can replace the one used today.
//!
//! [`Espeak`] speaks through the system's espeak-ng (the Debian package `espeak-ng`, which
//! has a Polish voice): one process per utterance, started and stopped by a worker thread,
//! so the touch app never waits for it. A new utterance stops the one being spoken. A
//! missing espeak-ng is logged once as an error, and the kiosk goes on without a voice.
//! [`synthesize_wav`] writes an utterance to a WAV file instead (`espeak-ng -w`), and
//! [`wav_duration`] reads how long it lasts from the header.
//!
//! Only the text of the screen is spoken; nothing of it goes to the log.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use blisko_shared::i18n::Lang;

/// The program the system voice runs.
pub const ESPEAK: &str = "espeak-ng";

/// espeak-ng's amplitude (`-a`, 0–200, its default 100) for each volume step.
const AMPLITUDES: [u32; 5] = [40, 70, 100, 140, 190];
/// Words per minute (`-s`, espeak-ng's default 175) for each speed step: slower than the
/// default by default, as seniors prefer.
const RATES: [u32; 5] = [100, 125, 150, 175, 210];

/// How loud and how fast: a few steps each, chosen with buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Voice {
    volume: usize,
    speed: usize,
}

impl Default for Voice {
    fn default() -> Voice {
        Voice {
            volume: 2,
            speed: 2,
        }
    }
}

impl Voice {
    pub const STEPS: usize = 5;

    /// A voice at these steps (1 to [`Voice::STEPS`]; outside, the nearest end).
    pub fn steps(volume: u8, speed: u8) -> Voice {
        let index = |step: u8| usize::from(step.max(1) - 1).min(Self::STEPS - 1);
        Voice {
            volume: index(volume),
            speed: index(speed),
        }
    }

    /// The steps, counted from 1 (quietest, slowest) to [`Voice::STEPS`].
    pub fn volume_step(self) -> usize {
        self.volume + 1
    }

    pub fn speed_step(self) -> usize {
        self.speed + 1
    }

    pub fn louder(self) -> Voice {
        Voice {
            volume: (self.volume + 1).min(Self::STEPS - 1),
            ..self
        }
    }

    pub fn quieter(self) -> Voice {
        Voice {
            volume: self.volume.saturating_sub(1),
            ..self
        }
    }

    pub fn faster(self) -> Voice {
        Voice {
            speed: (self.speed + 1).min(Self::STEPS - 1),
            ..self
        }
    }

    pub fn slower(self) -> Voice {
        Voice {
            speed: self.speed.saturating_sub(1),
            ..self
        }
    }

    pub fn amplitude(self) -> u32 {
        AMPLITUDES[self.volume.min(Self::STEPS - 1)]
    }

    pub fn words_per_minute(self) -> u32 {
        RATES[self.speed.min(Self::STEPS - 1)]
    }
}

/// One thing to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utterance {
    pub text: String,
    pub lang: Lang,
    pub voice: Voice,
}

/// A voice the app speaks through. `say` returns at once; a new utterance stops the
/// previous one.
pub trait Speaker: Send + Sync {
    fn say(&self, utterance: Utterance);
    /// Stop speaking (the session ended, or speech was switched off).
    fn stop(&self);
}

/// The app's voice, shared with its options.
pub type SharedSpeaker = Arc<dyn Speaker>;

/// The system voice (espeak-ng), started on first use.
pub fn system() -> SharedSpeaker {
    Arc::new(Espeak::new(PathBuf::from(ESPEAK)))
}

/// espeak-ng's voice name for a language.
fn voice_name(lang: Lang) -> &'static str {
    match lang {
        Lang::Pl => "pl",
        Lang::En => "en",
    }
}

fn espeak_command(program: &Path, u: &Utterance) -> Command {
    let mut cmd = Command::new(program);
    cmd.arg("-v")
        .arg(voice_name(u.lang))
        .arg("-a")
        .arg(u.voice.amplitude().to_string())
        .arg("-s")
        .arg(u.voice.words_per_minute().to_string())
        // The text comes on standard input, never as an argument a "-" could turn
        // into an option.
        .arg("--stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

enum Order {
    Say(Utterance),
    Stop,
}

/// espeak-ng through the system: a worker thread owns the speaking process.
pub struct Espeak {
    program: PathBuf,
    worker: OnceLock<Mutex<Sender<Order>>>,
}

impl Espeak {
    pub fn new(program: PathBuf) -> Espeak {
        Espeak {
            program,
            worker: OnceLock::new(),
        }
    }

    fn send(&self, order: Order) {
        let sender = self.worker.get_or_init(|| {
            let (tx, rx) = mpsc::channel();
            let program = self.program.clone();
            let spawned = std::thread::Builder::new()
                .name("speech".to_owned())
                .spawn(move || speak_orders(&program, &rx));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start the speech thread; no spoken output");
            }
            Mutex::new(tx)
        });
        let sent = match sender.lock() {
            Ok(tx) => tx.send(order).is_ok(),
            Err(_) => false,
        };
        if !sent {
            tracing::warn!("the speech thread has stopped; nothing is spoken");
        }
    }
}

impl Speaker for Espeak {
    fn say(&self, utterance: Utterance) {
        self.send(Order::Say(utterance));
    }

    fn stop(&self) {
        self.send(Order::Stop);
    }
}

/// The worker: each order stops what is being said, then maybe says something new.
fn speak_orders(program: &Path, orders: &Receiver<Order>) {
    let mut current: Option<Child> = None;
    let mut missing_logged = false;
    while let Ok(mut order) = orders.recv() {
        // Only the newest of orders that piled up matters.
        while let Ok(newer) = orders.try_recv() {
            order = newer;
        }
        if let Some(mut child) = current.take() {
            // Already finished is fine; kill fails then and wait reaps it.
            let _ = child.kill();
            if let Err(e) = child.wait() {
                tracing::warn!(error = %e, "could not stop the previous utterance");
            }
        }
        let Order::Say(u) = order else {
            continue;
        };
        match espeak_command(program, &u).spawn() {
            Ok(mut child) => {
                if let Some(mut stdin) = child.stdin.take()
                    && let Err(e) = stdin.write_all(u.text.as_bytes())
                {
                    tracing::warn!(error = %e, "could not pass the text to espeak-ng");
                }
                current = Some(child);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !missing_logged {
                    tracing::error!(
                        program = %program.display(),
                        "espeak-ng is not installed (Debian package espeak-ng): \
                         the kiosk works, but nothing is read aloud"
                    );
                    missing_logged = true;
                }
            }
            Err(e) => tracing::error!(error = %e, "could not start espeak-ng"),
        }
    }
    if let Some(mut child) = current {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A voice that only writes down what it was asked to say: for tests, and for a kiosk
/// that must stay silent.
#[derive(Default)]
pub struct Recorder {
    said: Mutex<Vec<Utterance>>,
    stops: Mutex<usize>,
}

impl Recorder {
    pub fn new() -> Arc<Recorder> {
        Arc::new(Recorder::default())
    }

    /// Everything said so far, oldest first.
    pub fn said(&self) -> Vec<Utterance> {
        self.said.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The text of the latest utterance.
    pub fn last(&self) -> Option<String> {
        self.said().pop().map(|u| u.text)
    }

    pub fn clear(&self) {
        if let Ok(mut s) = self.said.lock() {
            s.clear();
        }
    }

    pub fn stops(&self) -> usize {
        self.stops.lock().map(|s| *s).unwrap_or_default()
    }
}

impl Speaker for Recorder {
    fn say(&self, utterance: Utterance) {
        if let Ok(mut s) = self.said.lock() {
            s.push(utterance);
        }
    }

    fn stop(&self) {
        if let Ok(mut s) = self.stops.lock() {
            *s += 1;
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error("could not run {program} (is the Debian package espeak-ng installed?): {source}")]
    Run {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} failed with {status}")]
    Failed { program: String, status: String },
    #[error("could not read the WAV file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a WAV file espeak-ng writes: {what}")]
    NotWav { path: String, what: &'static str },
}

/// Say `utterance` into a WAV file at `out` with the system's espeak-ng (`-w`), and wait
/// until it is written. For tests and checks, never on the touch app's thread.
pub fn synthesize_wav(
    program: &Path,
    utterance: &Utterance,
    out: &Path,
) -> Result<(), SpeechError> {
    let mut cmd = espeak_command(program, utterance);
    cmd.arg("-w").arg(out);
    let run = |source| SpeechError::Run {
        program: program.display().to_string(),
        source,
    };
    let mut child = cmd.spawn().map_err(run)?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(utterance.text.as_bytes()).map_err(run)?;
    }
    let status = child.wait().map_err(run)?;
    if !status.success() {
        return Err(SpeechError::Failed {
            program: program.display().to_string(),
            status: status.to_string(),
        });
    }
    Ok(())
}

/// What a WAV file holds, read from its header and samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WavInfo {
    /// Data bytes over the byte rate.
    pub duration: Duration,
    /// Root mean square of the 16-bit samples (0 for silence; 0 for other sample sizes).
    pub rms: f64,
}

/// How long a PCM WAV file plays: its data bytes over its byte rate, read from the
/// header (a size larger than the file, as a stream writes, counts what is there).
pub fn wav_duration(path: &Path) -> Result<Duration, SpeechError> {
    read_wav(path).map(|w| w.duration)
}

/// Read a PCM WAV file's length and loudness.
pub fn read_wav(path: &Path) -> Result<WavInfo, SpeechError> {
    let bytes = std::fs::read(path).map_err(|source| SpeechError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let not_wav = |what| SpeechError::NotWav {
        path: path.display().to_string(),
        what,
    };
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(not_wav("no RIFF/WAVE header"));
    }
    let u32_at = |at: usize| -> Option<u32> {
        let b = bytes.get(at..at + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let mut at = 12;
    let mut format = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let size = u32_at(at + 4).ok_or_else(|| not_wav("a cut chunk header"))? as usize;
        let body = at + 8;
        match id {
            b"fmt " => {
                let bits = bytes
                    .get(body + 14..body + 16)
                    .map(|b| u16::from_le_bytes([b[0], b[1]]));
                format = u32_at(body + 8).zip(bits);
            }
            b"data" => {
                let (rate, bits) = format
                    .filter(|(r, _)| *r > 0)
                    .ok_or_else(|| not_wav("no byte rate before the data"))?;
                let data = &bytes[body..body + size.min(bytes.len() - body)];
                let rms = if bits == 16 && data.len() >= 2 {
                    let samples = data.chunks_exact(2);
                    let n = samples.len() as f64;
                    let sum: f64 = samples
                        .map(|b| f64::from(i16::from_le_bytes([b[0], b[1]])).powi(2))
                        .sum();
                    (sum / n).sqrt()
                } else {
                    0.0
                };
                return Ok(WavInfo {
                    duration: Duration::from_secs_f64(data.len() as f64 / f64::from(rate)),
                    rms,
                });
            }
            _ => {}
        }
        // Chunks are padded to an even size.
        at = body.saturating_add(size).saturating_add(size % 2);
    }
    Err(not_wav("no data chunk"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(data_bytes: u32, byte_rate: u32, actual: usize) -> Vec<u8> {
        let mut w = Vec::new();
        w.extend_from_slice(b"RIFF");
        w.extend_from_slice(&(36 + data_bytes).to_le_bytes());
        w.extend_from_slice(b"WAVE");
        w.extend_from_slice(b"fmt ");
        w.extend_from_slice(&16u32.to_le_bytes());
        w.extend_from_slice(&1u16.to_le_bytes()); // PCM
        w.extend_from_slice(&1u16.to_le_bytes()); // mono
        w.extend_from_slice(&(byte_rate / 2).to_le_bytes());
        w.extend_from_slice(&byte_rate.to_le_bytes());
        w.extend_from_slice(&2u16.to_le_bytes());
        w.extend_from_slice(&16u16.to_le_bytes());
        w.extend_from_slice(b"data");
        w.extend_from_slice(&data_bytes.to_le_bytes());
        w.extend(std::iter::repeat_n(0u8, actual));
        w
    }

    #[test]
    fn a_wav_lasts_its_data_over_its_byte_rate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.wav");
        std::fs::write(&path, wav(44_100, 44_100, 44_100)).expect("write");
        assert_eq!(wav_duration(&path).expect("read"), Duration::from_secs(1));
        // A stream's header claims more than was written: what is there counts.
        std::fs::write(&path, wav(u32::MAX - 100, 44_100, 22_050)).expect("write");
        assert_eq!(
            wav_duration(&path).expect("read"),
            Duration::from_millis(500)
        );
        std::fs::write(&path, b"RIFF\0\0\0\0WAVEjunk").expect("write");
        assert!(wav_duration(&path).is_err());
    }

    #[test]
    fn voice_steps_stop_at_their_ends() {
        assert_eq!(Voice::steps(3, 3), Voice::default());
        assert_eq!(Voice::steps(0, 9), Voice::steps(1, 5));
        assert_eq!(Voice::steps(5, 1).amplitude(), 190);
        let mut v = Voice::default();
        assert_eq!((v.volume_step(), v.speed_step()), (3, 3));
        for _ in 0..10 {
            v = v.louder().slower();
        }
        assert_eq!((v.volume_step(), v.speed_step()), (Voice::STEPS, 1));
        assert_eq!((v.amplitude(), v.words_per_minute()), (190, 100));
        for _ in 0..10 {
            v = v.quieter().faster();
        }
        assert_eq!((v.amplitude(), v.words_per_minute()), (40, 210));
    }

    /// Poll until `done` (the worker runs on its own thread), for at most 30 s.
    fn wait_for(what: &str, done: impl Fn() -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !done() {
            assert!(std::time::Instant::now() < deadline, "timed out: {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn a_new_utterance_stops_the_one_being_said() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("log");
        let program = dir.path().join("fake-espeak");
        // Stands in for espeak-ng: notes its pid, arguments and text, then "speaks" for
        // a minute as the same process.
        let script = format!(
            "#!/bin/sh\nprintf 'pid %s args %s text ' $$ \"$*\" >> '{log}'\ncat >> '{log}'\necho >> '{log}'\nexec sleep 60\n",
            log = log.display()
        );
        std::fs::write(&program, script).expect("write the script");
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let read = || std::fs::read_to_string(&log).unwrap_or_default();
        let pid_of = |text: &str| -> u32 {
            let log = read();
            let line = log.lines().find(|l| l.ends_with(text)).expect("logged");
            line.split(' ')
                .nth(1)
                .and_then(|p| p.parse().ok())
                .expect("a pid")
        };
        let alive = |pid: u32| Path::new(&format!("/proc/{pid}")).exists();

        let speaker = Espeak::new(program.clone());
        speaker.say(Utterance {
            text: "pierwsze".to_owned(),
            lang: Lang::Pl,
            voice: Voice::default(),
        });
        wait_for("the first utterance", || read().contains("text pierwsze"));
        let first = pid_of("pierwsze");
        assert!(
            read().contains("args -v pl -a 100 -s 150 --stdin text pierwsze"),
            "{}",
            read()
        );
        speaker.say(Utterance {
            text: "second".to_owned(),
            lang: Lang::En,
            voice: Voice::default().louder().slower(),
        });
        wait_for("the second utterance", || read().contains("text second"));
        assert!(
            read().contains("args -v en -a 140 -s 125 --stdin text second"),
            "{}",
            read()
        );
        // The worker stopped (and reaped) the first before it started the second.
        assert!(!alive(first), "the first utterance is still being said");
        let second = pid_of("second");
        speaker.stop();
        wait_for("stop", || !alive(second));
    }

    #[test]
    fn a_missing_program_is_an_error_not_a_panic() {
        let speaker = Espeak::new(PathBuf::from("/nonexistent/espeak-ng"));
        speaker.say(Utterance {
            text: "Dzień dobry".to_owned(),
            lang: Lang::Pl,
            voice: Voice::default(),
        });
        speaker.stop();
        let dir = tempfile::tempdir().expect("tempdir");
        let u = Utterance {
            text: "x".to_owned(),
            lang: Lang::Pl,
            voice: Voice::default(),
        };
        let err = synthesize_wav(
            Path::new("/nonexistent/espeak-ng"),
            &u,
            &dir.path().join("x.wav"),
        )
        .expect_err("no such program");
        assert!(err.to_string().contains("espeak-ng"), "{err}");
    }
}

#[cfg(test)]
mod cli_tests {
    use clap::Parser;

    use super::Voice;
    use crate::cli::Cli;

    #[test]
    fn the_voice_flags_take_steps_one_to_five() {
        let cli = Cli::try_parse_from(["blisko-kiosk"]).expect("defaults");
        assert_eq!(cli.speech_program, std::path::PathBuf::from("espeak-ng"));
        assert_eq!(
            Voice::steps(cli.speech_volume, cli.speech_speed),
            Voice::default()
        );
        let cli = Cli::try_parse_from([
            "blisko-kiosk",
            "--speech-volume",
            "5",
            "--speech-speed",
            "1",
            "--speech-program",
            "/opt/voice/say",
        ])
        .expect("flags");
        let voice = Voice::steps(cli.speech_volume, cli.speech_speed);
        assert_eq!((voice.volume_step(), voice.speed_step()), (5, 1));
        assert!(Cli::try_parse_from(["blisko-kiosk", "--speech-volume", "6"]).is_err());
        assert!(Cli::try_parse_from(["blisko-kiosk", "--speech-speed", "0"]).is_err());
    }
}
