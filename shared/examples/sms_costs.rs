//! Prints what each resident message costs, in both languages, with and without
//! transliteration, as a Markdown table; then each message as a resident receives it.
//! The README's "What a message costs" comes from here:
//! `cargo run -p blisko-shared --example sms_costs`.

use blisko_shared::i18n::Lang;
use blisko_shared::sms::{Encoding, Message, RequestOutcome, SessionWhen, segments, transliterate};
use jiff::civil::date;

fn main() {
    let title = "Trening pamięci dla 60+".to_owned();
    let when = |day, start: &str| SessionWhen {
        date: date(2026, 12, day),
        start: start.to_owned(),
        room: Some("sala klubowa".to_owned()),
    };
    let request = |outcome| Message::RequestStatus {
        reference: "MAL/01/2026/00042".to_owned(),
        outcome,
    };
    let messages = [
        (
            "SeatFreed",
            Message::SeatFreed {
                class_title: title.clone(),
                next: Some(when(8, "10:00")),
            },
        ),
        (
            "Reminder",
            Message::Reminder {
                class_title: title.clone(),
                session: when(8, "10:00"),
                sessions_left: Some(3),
            },
        ),
        (
            "SessionMoved",
            Message::SessionMoved {
                class_title: title.clone(),
                from: when(8, "10:00"),
                to: when(10, "17:30"),
            },
        ),
        (
            "SessionCancelled",
            Message::SessionCancelled {
                class_title: title,
                session: when(8, "10:00"),
            },
        ),
        (
            "RequestStatus (accepted)",
            request(RequestOutcome::Accepted),
        ),
        (
            "RequestStatus (rejected)",
            request(RequestOutcome::Rejected),
        ),
        (
            "RequestStatus (needs information)",
            request(RequestOutcome::NeedsInformation),
        ),
        ("Test", Message::Test),
    ];
    let cost = |text: &str| {
        let s = segments(text);
        let alphabet = match s.encoding {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        };
        format!("{} {alphabet}, {}", s.units, s.count)
    };
    println!("| Message | Polish | Polish, transliterated | English | English, transliterated |");
    println!("|---|---|---|---|---|");
    for (name, message) in &messages {
        let pl = message.render(Lang::Pl, "CUS Wola");
        let en = message.render(Lang::En, "CUS Wola");
        println!(
            "| {name} | {} | {} | {} | {} |",
            cost(&pl),
            cost(&transliterate(&pl)),
            cost(&en),
            cost(&transliterate(&en))
        );
    }
    for (name, message) in &messages {
        println!("\n{name}:");
        for lang in [Lang::Pl, Lang::En] {
            println!("    {}", message.render(lang, "CUS Wola"));
        }
    }
    println!("\nTransliterated:");
    for (_, message) in &messages[..1] {
        println!(
            "    {}",
            transliterate(&message.render(Lang::Pl, "CUS Wola"))
        );
    }
}
