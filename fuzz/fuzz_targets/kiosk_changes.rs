#![no_main]

use std::sync::Once;

static DEFAULT_PANIC_HOOK: Once = Once::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // The code under test turns a dependency's panics on malformed changes into errors
    // (`catch_unwind`), which libfuzzer-sys's aborting panic hook would defeat. With the
    // default hook back, a panic that escapes still aborts the run and is reported.
    DEFAULT_PANIC_HOOK.call_once(|| drop(std::panic::take_hook()));
    blisko_fuzz::kiosk_changes(data);
});
