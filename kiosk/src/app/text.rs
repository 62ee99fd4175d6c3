//! Every string of the touch app, in Polish and English, in one catalogue.
//!
//! Errors of the kiosk's actions carry their own texts (`KioskError::message`); this
//! catalogue holds what the screens say. Counting words follow Polish grammar
//! ("1 wolne miejsce", "3 wolne miejsca", "5 wolnych miejsc").
//!
//! # Wording rules (Polish)
//!
//! Residents of every age read these texts, many of them alone at the kiosk. One polite
//! register, everywhere (the office pages follow it too):
//!
//! - Address the resident impersonally or with „Proszę …": „Proszę wybrać usługę",
//!   „Proszę wpisać imię", „Stan wniosku można sprawdzić tutaj". Never „ty", „Twój",
//!   „chcesz", „masz", „jesteś" or a second-person imperative („wybierz", „wpisz",
//!   „dotknij"), and never „Pan/Pani/Państwo" either: the two registers do not mix.
//!   Buttons name their action („Zapisz mnie", „Pokaż", „Wyślij wniosek") or speak for
//!   the resident in the first person („Potwierdzam …", „Wybieram"); sentences never
//!   give the resident orders.
//! - No slash forms („Przeczytałem/am"): a form that fits everyone („Potwierdzam
//!   zapoznanie się z informacją") or an impersonal one. Roles are worded so that they
//!   do not assume a gender („Składam jako rodzic lub opiekun prawny").
//! - Numbers with their correct plural ([`polish_plural`]: „na 5 minut", „2 osoby"), never
//!   „minut: 5".
//! - Lowercase after a dash or a colon mid-sentence („— miejsce na liście: 4").
//! - „Dzień dobry!" without the first name: the kiosk is not on first-name terms.
//! - No internal codes (clause versions, ids) and no legal references („art. 6 …",
//!   „RODO") in headings, buttons or short texts; the references belong in the full
//!   information text, the versions in the records.
//! - No promises the screen cannot keep: a call is promised only when a phone number was
//!   given; a tile names only what this branch offers.
//!
//! English strings stay natural English. `tests::polish_wording_follows_the_rules` checks
//! every string here and every error message against these rules.

use blisko_shared::i18n::{Lang, polish_plural};
use blisko_shared::model::{
    AttendanceStatus, INFORMATION_CLAUSE, INTAKE_CLAUSE, RequestStatus, Weekday,
};
use blisko_shared::seats::SeatStatus;

macro_rules! texts {
    ($($key:ident => $pl:expr, $en:expr;)*) => {
        /// A text of the app; `tr` gives it in a language.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum T { $($key,)* }

        impl T {
            pub const ALL: &'static [T] = &[$(T::$key,)*];

            pub fn tr(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((T::$key, Lang::Pl) => $pl, (T::$key, Lang::En) => $en,)*
                }
            }
        }
    };
}

texts! {
    AppTitle => "Blisko — punkt zapisów", "Blisko — sign-up point";
    Welcome => "Dzień dobry! Proszę wybrać, co zrobić.", "Hello! Please choose what to do.";
    SignUpTile => "Zapisy na zajęcia", "Sign up for a class";
    SignUpTileHint => "Zajęcia w tym punkcie", "Classes at this branch point";
    RequestTile => "Wniosek o usługę", "Request a service";
    RequestTileHint => "Usługi społeczne: pomoc, zdrowie, wsparcie", "Social services: help, health, support";
    MineTile => "Moje zapisy i wnioski", "My registrations and requests";
    MineTileHint => "Potrzebny kod mieszkańca", "You need your resident code";
    OtherLanguage => "English", "Polski";
    LargerText => "Większy tekst", "Larger text";
    NormalText => "Zwykły tekst", "Normal text";
    HighContrast => "Wysoki kontrast", "High contrast";
    NormalContrast => "Zwykłe kolory", "Normal colours";
    Staff => "Obsługa", "Staff";
    Back => "Wstecz", "Back";
    StartAgain => "Od początku", "Start again";
    Next => "Dalej", "Next";
    PreviousPage => "Poprzednia strona", "Previous page";
    NextPage => "Następna strona", "Next page";
    PageOf => "Strona", "Page";
    AllDays => "Wszystkie dni", "All days";
    ClassesTitle => "Zajęcia w punkcie", "Classes at";
    NoClasses => "Nie ma zajęć w tym dniu.", "There are no classes on this day.";
    Choose => "Wybieram", "Choose";
    Instructor => "Prowadzi", "Instructor";
    Room => "Sala", "Room";
    AgeGroup => "Dla kogo", "For";
    NoFreeSeats => "Brak wolnych miejsc", "No free seats";
    NoWaitlist => "Zapisy zamknięte: brak miejsc", "Closed: no seats left";
    YourDetails => "Dane osoby zapisywanej", "Details of the person signing up";
    GivenName => "Imię", "Given name";
    FamilyName => "Nazwisko", "Family name";
    BirthYear => "Rok urodzenia", "Year of birth";
    Phone => "Telefon (nieobowiązkowo)", "Phone (optional)";
    ResidentCodeOptional => "Kod mieszkańca (jeśli jest)", "Resident code (if you have one)";
    ResidentCode => "Kod mieszkańca", "Resident code";
    TapFieldToType => "Proszę dotknąć pola, aby pisać.", "Touch a field to type.";
    InformationTitle => "Informacja o danych osobowych", "About your personal data";
    InformationClause => INFORMATION_CLAUSE.0, INFORMATION_CLAUSE.1;
    ConsentRead => "Potwierdzam zapoznanie się z informacją", "I have read the information";
    SmsConsent => "Zgoda na wiadomości SMS w sprawie zajęć i wniosków (nieobowiązkowo)", "I want text messages about my classes and requests (optional)";
    SignMeUp => "Zapisz mnie", "Sign me up";
    Confirmed => "Miejsce przyznane!", "You have a seat!";
    ConfirmedDetail => "Zapis jest potwierdzony.", "Your registration is confirmed.";
    Waitlisted => "Zapis na liście rezerwowej", "You are on the waiting list";
    WaitlistDetail => "Gdy zwolni się miejsce, otrzymają je kolejne osoby z listy, w tej kolejności. Kolejność może się jeszcze zmienić, gdy inne punkty prześlą swoje zapisy.", "When a seat frees up, it goes to people in this order. The order may still change as other branch kiosks send their registrations.";
    BeyondLimit => "ponad limit — proszę zadzwonić", "beyond the limit — please call";
    CompensationNotice => "Po synchronizacji punktów zapisów jest więcej, niż zajęcia mieszczą. Nikogo nie przeniesiono; osoby oznaczone „ponad limit” trzeba powiadomić (najpóźniej zapisane).", "After the kiosks synced there are more registrations than the class holds. Nobody was moved; the people marked \"beyond the limit\" need to be told (the latest to register).";
    CheckingPool => "Sprawdzamy, czy jest wolne miejsce…", "Checking for a free seat…";
    CheckingPoolDetail => "To potrwa chwilę. Proszę zaczekać.", "This takes a moment. Please wait.";
    KeepYourCode => "Kod mieszkańca — proszę go zapisać lub sfotografować:", "Your resident code — please write it down or take a photo:";
    Done => "Gotowe", "Done";
    ServicesTitle => "Proszę wybrać usługę", "Please choose a service";
    NeedsPesel => "Ta usługa wymaga numeru PESEL.", "This service needs a PESEL number.";
    Pesel => "PESEL", "PESEL";
    ApplicantRole => "Kto składa wniosek?", "Who is applying?";
    RoleSelf => "Składam wniosek we własnym imieniu", "I am applying for myself";
    RoleLegal => "Składam jako rodzic lub opiekun prawny", "I am a parent or legal guardian";
    RoleCarer => "Składam jako osoba opiekująca się na co dzień", "I care for the person day to day";
    Description => "Proszę krótko opisać, czego potrzeba", "Please describe briefly what is needed";
    DeclarationTitle => "Oświadczenie i zgoda", "Declaration and consent";
    DeclarationText => "Oświadczam, że osoba, której dotyczy wniosek, spełnia warunki skorzystania z usługi, a podane dane są prawdziwe.", "I declare that the person this request is for meets the conditions for this service and that the details given are true.";
    DeclarationTick => "Potwierdzam spełnienie warunków", "I confirm that the conditions are met";
    SendRequest => "Wyślij wniosek", "Send the request";
    RequestSent => "Wniosek przyjęty", "Request received";
    ReferenceNumber => "Numer wniosku — proszę go zachować:", "Reference number — please keep it:";
    RequestNext => "Pracownik zadzwoni pod podany numer telefonu. Stan wniosku można też sprawdzić tutaj, podając kod mieszkańca.", "A member of staff will call the phone number given. The status can also be checked here with the resident code.";
    EnterCode => "Proszę wpisać kod mieszkańca", "Please enter your resident code";
    Show => "Pokaż", "Show";
    HelloName => "Dzień dobry!", "Hello!";
    YourRegistrations => "Zapisy na zajęcia", "Your registrations";
    YourRequests => "Wnioski", "Your requests";
    OfficeMessage => "Wiadomość z urzędu:", "A message from the office:";
    NoneYet => "Brak.", "None.";
    CancelRegistration => "Wypisz mnie", "Cancel my place";
    CancelQuestion => "Czy na pewno wypisać z tych zajęć?", "Do you really want to cancel your place in this class?";
    YesCancel => "Tak, wypisz mnie", "Yes, cancel my place";
    NoKeep => "Nie, zapis zostaje", "No, keep my place";
    Cancelled => "Wypisano. Miejsce dostanie kolejna osoba.", "Cancelled. The seat goes to the next person.";
    SmsReminders => "Wiadomości SMS: włączone", "Text messages: on";
    StopSms => "Nie chcę SMS", "Stop SMS messages";
    StopSmsQuestion => "Czy na pewno zrezygnować z wiadomości SMS?", "Do you really want to stop text messages?";
    StopSmsHint => "Zapisy na zajęcia i wnioski zostają bez zmian.", "Your registrations and requests stay as they are.";
    YesStopSms => "Tak, nie chcę SMS", "Yes, stop SMS messages";
    NoKeepSms => "Nie, SMS zostają", "No, keep text messages";
    SmsStopped => "Rezygnacja z SMS zapisana", "Text messages stopped";
    SmsStoppedText => "Biuro otrzyma rezygnację przy najbliższym połączeniu kiosku z serwerem; od tego czasu wiadomości SMS nie będą wysyłane.", "The office receives it the next time this kiosk connects to the server; from then on no text messages are sent.";
    StatusConfirmed => "potwierdzony", "confirmed";
    StatusWaitlisted => "lista rezerwowa", "waiting list";
    StatusCancelled => "wypisano", "cancelled";
    IdleTitle => "Czy ktoś jeszcze korzysta z kiosku?", "Are you still there?";
    IdleText => "Za chwilę ekran wróci do początku, a wpisane dane znikną.", "The screen will soon go back to the start and what you typed will be cleared.";
    IdleSeconds => "Pozostało sekund", "Seconds left";
    MoreTime => "Potrzebuję więcej czasu", "I need more time";
    SyncOffline => "Bez połączenia", "Offline";
    SyncSyncing => "Synchronizacja…", "Syncing…";
    SyncedAgo => "Zsynchronizowano", "Synced";
    SyncNever => "Jeszcze nie synchronizowano", "Not synced yet";
    Standalone => "Kiosk samodzielny", "Standalone kiosk";
    MinutesAgo => "min temu", "min ago";
    JustNow => "przed chwilą", "just now";
    EnterPin => "Obsługa: proszę wpisać PIN", "Staff: enter your PIN";
    WrongPin => "Nieprawidłowy PIN.", "Wrong PIN.";
    PinLocked => "Za dużo prób. Tryb obsługi jest zablokowany", "Too many attempts. Staff mode is locked";
    Unlock => "Wejdź", "Enter";
    StaffMenu => "Tryb obsługi", "Staff mode";
    RollCallTile => "Lista obecności (dzisiaj)", "Roll call (today)";
    RostersTile => "Zajęcia i listy zapisanych", "Classes and rosters";
    SyncTile => "Synchronizacja", "Sync";
    LeaveStaff => "Zakończ tryb obsługi", "Leave staff mode";
    CloseApp => "Zamknij aplikację", "Close the app";
    NoSessionsToday => "Dzisiaj nie ma zajęć w tym punkcie.", "There are no sessions here today.";
    Present => "Obecny", "Present";
    Absent => "Nieobecny", "Absent";
    Excused => "Usprawiedliwiony", "Excused";
    ConflictMark => "różne oznaczenia — rozstrzygnie biuro", "marked differently — the office decides";
    AddWalkIn => "Dodaj osobę spoza listy", "Add a walk-in";
    WalkInConsent => "Osoba zapoznała się z informacją o danych", "The person has read the information about their data";
    AddPresent => "Dodaj do obecnych", "Add as present";
    NoOneRegistered => "Nikt nie jest zapisany.", "No one is registered.";
    Roster => "Zapisani", "Registered";
    Waitlist => "Lista rezerwowa", "Waiting list";
    UnknownPerson => "(dane jeszcze nie dotarły)", "(details not here yet)";
    ErasedPerson => "(dane usunięte)", "(data erased)";
    LastSync => "Ostatnia synchronizacja", "Last sync";
    PendingChanges => "Zmiany do wysłania", "Changes to send";
    LastError => "Ostatni błąd", "Last error";
    KioskClock => "Zegar kiosku", "Kiosk clock";
    SetTheClock => "Proszę ustawić zegar kiosku: od niego zależy kolejność na listach rezerwowych.", "Set the kiosk's clock: the order of waiting lists depends on it.";
    Server => "Serwer", "Server";
    SyncNow => "Synchronizuj teraz", "Sync now";
    RevokedStaff => "Biuro wyłączyło ten kiosk; jego dane są bezpieczne. Aby przywrócić go do pracy, należy wpisać nowy kod rejestracji z biura (blisko-server kiosk reenroll).", "The office has revoked this kiosk; its data is safe. To bring it back into service, enter a new enrollment code from the office (blisko-server kiosk reenroll).";
    EnrollAgain => "Zarejestruj ponownie", "Enroll again";
    EnrolledAgain => "Kiosk zarejestrowany ponownie; wysyła teraz swoje dane.", "The kiosk is enrolled again; it is sending its data now.";
    SetupTitle => "Ten kiosk nie jest jeszcze przygotowany", "This kiosk is not set up yet";
    SetupDemo => "Uruchom z katalogiem demonstracyjnym", "Start with the demo catalogue";
    SetupEnroll => "Połącz z serwerem", "Connect to a server";
    ChooseBranch => "Proszę wybrać punkt", "Choose the branch";
    ServerAddress => "Adres serwera", "Server address";
    EnrollmentCode => "Kod rejestracji kiosku", "Kiosk enrollment code";
    Connect => "Połącz", "Connect";
    Shift => "Wielkie litery", "Capitals";
    Space => "Spacja", "Space";
    Erase => "Usuń", "Delete";
    Symbols => "123", "123";
    Letters => "ABC", "ABC";
    HideKeyboard => "Schowaj klawiaturę", "Hide keyboard";
    Error => "Nie udało się", "That did not work";
    // Spoken output and help (issue 16, parts 1 and 5).
    ReadAloud => "Czytaj na głos", "Read aloud";
    StopReadingAloud => "Nie czytaj na głos", "Stop reading aloud";
    Repeat => "Powtórz", "Repeat";
    TouchAgain => "Aby wybrać, proszę dotknąć jeszcze raz.", "To choose it, touch it again.";
    ReadingVoice => "Głos czytający", "Reading voice";
    ReadingVoiceHint => "Ustawienia dla wszystkich, aż do zamknięcia aplikacji. Mieszkańcy włączają czytanie przyciskiem na ekranie startowym.", "Settings for everyone until the app is closed. Residents switch reading on with the button on the start screen.";
    Volume => "Głośność", "Volume";
    Speed => "Tempo", "Speed";
    Louder => "Głośniej", "Louder";
    Quieter => "Ciszej", "Quieter";
    Faster => "Szybciej", "Faster";
    Slower => "Wolniej", "Slower";
    Help => "Pomoc", "Help";
    HelpTitle => "Jak uzyskać pomoc", "How to get help";
    HelpAskStaff => "Proszę poprosić o pomoc pracownika tego punktu.", "Please ask a member of staff at this branch for help.";
    HelpAddress => "Adres", "Address";
    HelpHours => "Godziny otwarcia", "Opening hours";
    HelpStaffTitle => "Pomoc — tryb obsługi", "Help — staff mode";
    HelpStaffText => "Gdy osoba przy kiosku potrzebuje pomocy: proszę podejść, przeczytać z nią ekran i wpisywać dane razem z nią, tylko za jej zgodą. PIN obsługi należy wpisywać tak, by nikt go nie widział.", "When someone at the kiosk needs help: please go over, read the screen with them and type their details together with them, only with their consent. Type the staff PIN so that nobody sees it.";
    HelpStaffLeave => "Aby zakończyć tryb obsługi, proszę dotknąć w menu obsługi przycisku", "To leave staff mode, touch this button in the staff menu:";
    HelpStaffIdle => "Po chwili bezczynności tryb obsługi kończy się sam.", "After a short idle time staff mode ends by itself.";
    Close => "Zamknij", "Close";
    HelpButtonHint => "Przycisk „Pomoc” jest w prawym górnym rogu każdego ekranu.", "The \"Help\" button is in the top right corner of every screen.";
    SpokenFields => "Pola do wypełnienia", "Fields to fill in";
    SpokenMainButton => "Przycisk na dole ekranu", "Button at the bottom of the screen";
    SpokenChoices => "Do wyboru", "To choose from";
    SpokenNoOptions => "Brak pozycji do wyboru.", "Nothing to choose from.";
    SpokenSessions => "Zajęć dzisiaj", "Sessions today";
    Ticked => "zaznaczone", "ticked";
    NotTicked => "niezaznaczone", "not ticked";
    SpokenEntries => "Osób na liście", "People on the list";
    // Part "content" (issue 16): the intake request's own clause and conditions, whose
    // details to enter, the slip, and warnings before a form is sent.
    IntakeInformationTitle => "Informacja o danych we wniosku", "About the data in this request";
    IntakeClause => INTAKE_CLAUSE.0, INTAKE_CLAUSE.1;
    ConditionsTitle => "Kto może skorzystać z usługi", "Who can use this service";
    LegalBasisTitle => "Podstawa prawna usługi", "Legal basis of the service";
    NoConditions => "Warunki poda pracownik przy rozpatrywaniu wniosku.", "A member of staff will explain the conditions when the request is considered.";
    DetailsOfSelf => "Proszę wpisać swoje dane.", "Please enter your own details.";
    DetailsOfOther => "Proszę wpisać dane osoby, której dotyczy wniosek (np. dziecka).", "Please enter the details of the person the request is for (e.g. the child).";
    PhoneForCall => "Telefon do kontaktu (nieobowiązkowo)", "Phone for a call back (optional)";
    RequestNextNoCall => "Stan wniosku można sprawdzić tutaj, podając kod mieszkańca, lub w punkcie obsługi.", "The status can be checked here with the resident code, or at the desk.";
    NextSession => "Najbliższe zajęcia", "Next session";
    NoNextSession => "Termin najbliższych zajęć poda obsługa punktu.", "Staff at the desk will give the date of the next session.";
    Print => "Wydrukuj", "Print";
    Printed => "Potwierdzenie zostało wydrukowane.", "The slip has been printed.";
    PrintFailed => "Nie udało się wydrukować potwierdzenia. Nic nie zostało utracone: proszę przepisać kod z ekranu albo poprosić obsługę o pomoc.", "The slip could not be printed. Nothing was lost: please copy the code from the screen or ask a member of staff.";
    SlipRegistration => "Potwierdzenie zapisu", "Registration slip";
    SlipRequest => "Potwierdzenie złożenia wniosku", "Request slip";
    ReferenceLabel => "Numer wniosku", "Reference number";
    SlipStatus => "Stan zapisu", "Status";
    Time => "Godzina", "Time";
    Date => "Data", "Date";
    WaitlistAhead => "Brak wolnych miejsc: zapis trafi na listę rezerwową.", "No free seats: the registration goes on the waiting list.";
}

pub fn tr(key: T, lang: Lang) -> &'static str {
    key.tr(lang)
}

/// "Za dużo prób. Tryb obsługi jest zablokowany na 5 minut."
pub fn pin_locked(minutes: u64, lang: Lang) -> String {
    let head = T::PinLocked.tr(lang);
    match lang {
        Lang::Pl => {
            let word = polish_plural(minutes, ["minutę", "minuty", "minut"]);
            format!("{head} na {minutes} {word}.")
        }
        Lang::En if minutes == 1 => format!("{head} for 1 minute."),
        Lang::En => format!("{head} for {minutes} minutes."),
    }
}

/// The declaration of an intake request, naming the service's conditions ("… spełnia
/// warunki: mieszkańcy gminy w wieku 60 lat i więcej. …"); the general sentence when the
/// catalogue gives none.
/// What the registration form says before anything is sent when the class is full: the
/// person goes on its waiting list ("… Na liście rezerwowej: 2 osoby.").
pub fn waitlist_ahead(class: &crate::store::ClassRow, lang: Lang) -> Option<String> {
    let admission = blisko_shared::seats::admission_for(
        class.free_seats,
        class.waitlisted,
        class.waitlist_limit,
    );
    if !matches!(admission, blisko_shared::seats::Admission::Waitlist { .. }) {
        return None;
    }
    let waiting = waiting(class.waitlisted, lang);
    let mut chars = waiting.chars();
    let waiting: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    Some(format!("{} {waiting}.", T::WaitlistAhead.tr(lang)))
}

pub fn declaration(conditions: &str, lang: Lang) -> String {
    let conditions = conditions.trim().trim_end_matches('.');
    if conditions.is_empty() {
        return T::DeclarationText.tr(lang).to_owned();
    }
    match lang {
        Lang::Pl => format!(
            "Oświadczam, że osoba, której dotyczy wniosek, spełnia warunki skorzystania z usługi: {conditions}. Podane dane są prawdziwe."
        ),
        Lang::En => format!(
            "I declare that the person this request is for meets the conditions for this service: {conditions}. The details given are true."
        ),
    }
}

/// What a home tile lists: the first few names this branch really offers ("Joga, Szachy,
/// Brydż i inne"), or the neutral hint when it lists none.
pub fn offer_hint<'a>(names: impl IntoIterator<Item = &'a str>, neutral: T, lang: Lang) -> String {
    const SHOWN: usize = 3;
    let names: Vec<&str> = names.into_iter().collect();
    if names.is_empty() {
        return neutral.tr(lang).to_owned();
    }
    let mut hint = names[..names.len().min(SHOWN)].join(", ");
    if names.len() > SHOWN {
        hint.push_str(match lang {
            Lang::Pl => " i inne",
            Lang::En => " and more",
        });
    }
    hint
}

/// A session's date in words: "środa, 9 września 2026" / "Wednesday, 9 September 2026";
/// the ISO text itself when it does not parse.
pub fn long_date(iso: &str, lang: Lang) -> String {
    let Ok(date) = iso.parse::<jiff::civil::Date>() else {
        return iso.to_owned();
    };
    let day = Weekday::ALL[date.weekday().to_monday_zero_offset() as usize];
    let month = blisko_shared::i18n::month_in_date(date.month(), lang);
    format!(
        "{}, {} {month} {}",
        weekday(day, lang),
        date.day(),
        date.year()
    )
}

/// A session's time: "10:00–11:00" from its start and length.
pub fn time_span(start: &str, minutes: u32) -> String {
    let parsed = start
        .split_once(':')
        .and_then(|(h, m)| Some((h.parse::<u32>().ok()?, m.parse::<u32>().ok()?)));
    match parsed {
        Some((h, m)) => {
            let end = (h * 60 + m + minutes) % (24 * 60);
            format!("{start}–{:02}:{:02}", end / 60, end % 60)
        }
        None => start.to_owned(),
    }
}

/// "3 wolne miejsca" / "3 free seats".
pub fn free_seats(n: u32, lang: Lang) -> String {
    match lang {
        Lang::Pl if n == 0 => T::NoFreeSeats.tr(lang).to_owned(),
        Lang::Pl => {
            let word = polish_plural(
                u64::from(n),
                ["wolne miejsce", "wolne miejsca", "wolnych miejsc"],
            );
            format!("{n} {word}")
        }
        Lang::En if n == 0 => T::NoFreeSeats.tr(lang).to_owned(),
        Lang::En if n == 1 => "1 free seat".to_owned(),
        Lang::En => format!("{n} free seats"),
    }
}

/// How far the kiosk's clock is from the server's, `offset_s` seconds behind it
/// (negative: ahead): "spieszy się o 3 dni" / "3 days ahead of the server".
pub fn clock_offset(offset_s: i64, lang: Lang) -> String {
    if offset_s.abs() <= crate::kiosk::CLOCK_WARNING_S {
        return match lang {
            Lang::Pl => "zgodny z serwerem".to_owned(),
            Lang::En => "matches the server".to_owned(),
        };
    }
    let secs = offset_s.unsigned_abs();
    let (n, unit) = if secs >= 86_400 {
        (secs / 86_400, 'd')
    } else if secs >= 3_600 {
        (secs / 3_600, 'h')
    } else {
        (secs / 60, 'm')
    };
    let n = u32::try_from(n).unwrap_or(u32::MAX);
    let amount = match (lang, unit) {
        (Lang::Pl, 'd') if n == 1 => "1 dzień".to_owned(),
        (Lang::Pl, 'd') => format!("{n} dni"),
        (Lang::Pl, 'h') => format!("{n} godz."),
        (Lang::Pl, _) => format!("{n} min"),
        (Lang::En, 'd') if n == 1 => "1 day".to_owned(),
        (Lang::En, 'd') => format!("{n} days"),
        (Lang::En, 'h') => format!("{n} h"),
        (Lang::En, _) => format!("{n} min"),
    };
    match (lang, offset_s < 0) {
        (Lang::Pl, true) => format!("spieszy się o {amount}"),
        (Lang::Pl, false) => format!("późni się o {amount}"),
        (Lang::En, true) => format!("{amount} ahead of the server"),
        (Lang::En, false) => format!("{amount} behind the server"),
    }
}

/// "lista rezerwowa: 2 osoby" / "waiting list: 2 people".
pub fn waiting(n: u32, lang: Lang) -> String {
    match lang {
        Lang::Pl => {
            let word = polish_plural(u64::from(n), ["osoba", "osoby", "osób"]);
            format!("lista rezerwowa: {n} {word}")
        }
        Lang::En if n == 1 => "waiting list: 1 person".to_owned(),
        Lang::En => format!("waiting list: {n} people"),
    }
}

pub fn weekday(day: Weekday, lang: Lang) -> &'static str {
    let i = day.index() as usize;
    match lang {
        Lang::Pl => blisko_shared::i18n::WEEKDAYS_PL[i],
        Lang::En => blisko_shared::i18n::WEEKDAYS_EN[i],
    }
}

/// A place on a waiting list as a kiosk knows it: an estimate, since kiosks that were
/// offline may add people ahead when they sync.
pub fn waitlist_place(position: u32, lang: Lang) -> String {
    match lang {
        Lang::Pl => format!("obecnie około {position}. miejsce na liście"),
        Lang::En => format!("currently about number {position} on the list"),
    }
}

pub fn seat_status(status: SeatStatus, lang: Lang) -> &'static str {
    match status {
        SeatStatus::Confirmed => T::StatusConfirmed.tr(lang),
        SeatStatus::Waitlisted => T::StatusWaitlisted.tr(lang),
        SeatStatus::Cancelled => T::StatusCancelled.tr(lang),
    }
}

pub fn request_status(code: &str, lang: Lang) -> &'static str {
    let status = RequestStatus::from_code(code);
    match (status, lang) {
        (Some(RequestStatus::Submitted), Lang::Pl) => "złożony",
        (Some(RequestStatus::Submitted), Lang::En) => "submitted",
        (Some(RequestStatus::InReview), Lang::Pl) => "w trakcie rozpatrywania",
        (Some(RequestStatus::InReview), Lang::En) => "in review",
        (Some(RequestStatus::Accepted), Lang::Pl) => "przyjęty",
        (Some(RequestStatus::Accepted), Lang::En) => "accepted",
        (Some(RequestStatus::Rejected), Lang::Pl) => "odmowa (decyzja z pouczeniem w biurze)",
        (Some(RequestStatus::Rejected), Lang::En) => "refused (decision and appeal at the office)",
        (Some(RequestStatus::MoreInformationNeeded), Lang::Pl) => "potrzebne dodatkowe informacje",
        (Some(RequestStatus::MoreInformationNeeded), Lang::En) => "more information needed",
        (None, Lang::Pl) => "nieznany",
        (None, Lang::En) => "unknown",
    }
}

pub fn attendance(status: AttendanceStatus) -> T {
    match status {
        AttendanceStatus::Present => T::Present,
        AttendanceStatus::Absent => T::Absent,
        AttendanceStatus::Excused => T::Excused,
    }
}

/// Words of the familiar register, second-person imperatives, and the "Pan/Pani/Państwo"
/// register: none of them in a Polish text of the kiosk (see the wording rules above).
const FORBIDDEN_WORDS: &[&str] = &[
    "ty",
    "twój",
    "twoja",
    "twoje",
    "twojego",
    "twojej",
    "twoich",
    "twoim",
    "twoimi",
    "tobą",
    "tobie",
    "ciebie",
    "cię",
    "chcesz",
    "masz",
    "jesteś",
    "możesz",
    "wybierz",
    "wpisz",
    "dotknij",
    "opisz",
    "zachowaj",
    "sprawdź",
    "sprawdzisz",
    "dostaniesz",
    "uczysz",
    "złóż",
    "zacznij",
    "spróbuj",
    "poproś",
    "podejdź",
    "zadzwoń",
    "wróć",
    "pan",
    "pani",
    "pana",
    "państwo",
    "państwa",
    "państwu",
    "prosimy",
];

/// A text shorter than this is a heading, a button or a notice: no legal references.
const SHORT_TEXT_CHARS: usize = 200;

/// What breaks the wording rules in a Polish text shown to residents, one line per
/// problem; empty when it follows them.
pub fn wording_problems(text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        let lower = word.to_lowercase();
        if FORBIDDEN_WORDS.contains(&lower.as_str()) {
            problems.push(format!("uses „{word}\""));
        }
    }
    let chars: Vec<char> = text.chars().collect();
    for w in chars.windows(3) {
        if w[1] == '/' && w[0].is_alphabetic() && w[2].is_alphabetic() {
            problems.push(format!("slash form „{}{}{}\"", w[0], w[1], w[2]));
        }
        if w[0] == '—' && w[1] == ' ' && w[2].is_uppercase() {
            problems.push(format!("capital after a dash: „— {}\"", w[2]));
        }
    }
    if chars.len() < SHORT_TEXT_CHARS {
        for reference in ["RODO", "art.", "ust.", "GDPR"] {
            if text.contains(reference) {
                problems.push(format!("legal reference „{reference}\" in a short text"));
            }
        }
    }
    // A text version id ("klauzula-informacyjna-2026-01"): records only.
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices("-20") {
        let digits = bytes
            .get(i + 3..i + 5)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit));
        if digits && bytes.get(i + 5) == Some(&b'-') {
            problems.push("shows a version code".to_owned());
        }
    }
    // "Zapisz mnie" speaks for the resident; "Zapisz się" orders them.
    if text.to_lowercase().contains("zapisz się") {
        problems.push("a second-person order („zapisz się\")".to_owned());
    }
    if text.contains("minut:") || text.contains("sekund:") {
        problems.push("a number after its word („minut: 5\")".to_owned());
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polish_wording_follows_the_rules() {
        let mut problems = Vec::new();
        for key in T::ALL {
            for p in wording_problems(key.tr(Lang::Pl)) {
                problems.push(format!("{key:?}: {p}"));
            }
        }
        let made = [
            pin_locked(5, Lang::Pl),
            pin_locked(1, Lang::Pl),
            declaration("mieszkańcy gminy w wieku 60 lat i więcej", Lang::Pl),
            waitlist_place(4, Lang::Pl),
            waiting(3, Lang::Pl),
            free_seats(2, Lang::Pl),
        ];
        for text in &made {
            for p in wording_problems(text) {
                problems.push(format!("{text}: {p}"));
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }

    /// The server's text messages to residents (`blisko_shared::sms`) follow the same rules.
    #[test]
    fn sms_messages_follow_the_wording_rules() {
        use blisko_shared::sms::{Message, RequestOutcome, SessionWhen};
        let when = |day| SessionWhen {
            date: jiff::civil::date(2026, 12, day),
            start: "10:00".to_owned(),
            room: Some("sala 2".to_owned()),
        };
        let title = || "Trening pamięci".to_owned();
        let mut messages = vec![
            Message::SeatFreed {
                class_title: title(),
                next: Some(when(8)),
            },
            Message::SeatFreed {
                class_title: title(),
                next: None,
            },
            Message::SessionMoved {
                class_title: title(),
                from: when(8),
                to: when(10),
            },
            Message::SessionCancelled {
                class_title: title(),
                session: when(8),
            },
            Message::Test,
        ];
        for sessions_left in [None, Some(0), Some(1), Some(3), Some(5)] {
            messages.push(Message::Reminder {
                class_title: title(),
                session: when(8),
                sessions_left,
            });
        }
        for outcome in [
            RequestOutcome::Accepted,
            RequestOutcome::Rejected,
            RequestOutcome::NeedsInformation,
        ] {
            messages.push(Message::RequestStatus {
                reference: "MAL/01/2026/00042".to_owned(),
                outcome,
            });
        }
        let mut problems = Vec::new();
        for message in &messages {
            let text = message.render(Lang::Pl, "CUS Wola");
            for p in wording_problems(&text) {
                problems.push(format!("{text}: {p}"));
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn the_wording_check_finds_what_the_old_strings_did() {
        for bad in [
            "Przeczytałem/am informację o danych",
            "Twój kod mieszkańca",
            "Dzień dobry! Co chcesz zrobić?",
            "Jesteś na liście rezerwowej",
            "Masz miejsce!",
            "Wiadomość z urzędu dla Pani/Pana:",
            "Prosimy potwierdzić, że zapoznali się Państwo z klauzulą.",
            "(dane usunięte (RODO))",
            "Wersja tekstu: oswiadczenie-2026-01",
            "Tryb obsługi zablokowany na minut: 5",
            "Jesteś na liście — Miejsce na liście: 4",
            "Wybierz usługę",
        ] {
            assert!(!wording_problems(bad).is_empty(), "not caught: {bad}");
        }
        assert!(wording_problems("Proszę wybrać usługę — miejsce na liście: 4").is_empty());
    }

    #[test]
    fn session_dates_and_times_in_words() {
        assert_eq!(long_date("2026-09-09", Lang::Pl), "środa, 9 września 2026");
        assert_eq!(long_date("2026-12-07", Lang::En), "Monday, 7 December 2026");
        assert_eq!(long_date("soon", Lang::Pl), "soon");
        assert_eq!(time_span("10:00", 90), "10:00–11:30");
    }

    #[test]
    fn plurals_and_declarations_read_naturally() {
        assert_eq!(
            pin_locked(5, Lang::Pl),
            "Za dużo prób. Tryb obsługi jest zablokowany na 5 minut."
        );
        assert_eq!(
            pin_locked(2, Lang::Pl),
            "Za dużo prób. Tryb obsługi jest zablokowany na 2 minuty."
        );
        assert_eq!(
            pin_locked(1, Lang::En),
            "Too many attempts. Staff mode is locked for 1 minute."
        );
        let d = declaration("osoby pełnoletnie.", Lang::Pl);
        assert!(
            d.contains("warunki skorzystania z usługi: osoby pełnoletnie. Podane"),
            "{d}"
        );
        assert_eq!(declaration(" ", Lang::En), T::DeclarationText.tr(Lang::En));
        assert_eq!(
            offer_hint(["Szachy", "Brydż"], T::SignUpTileHint, Lang::Pl),
            "Szachy, Brydż"
        );
        assert_eq!(
            offer_hint(["A", "B", "C", "D"], T::SignUpTileHint, Lang::Pl),
            "A, B, C i inne"
        );
        assert_eq!(
            offer_hint([], T::SignUpTileHint, Lang::En),
            "Classes at this branch point"
        );
    }

    #[test]
    fn every_text_exists_in_both_languages() {
        for key in T::ALL {
            for lang in [Lang::Pl, Lang::En] {
                assert!(
                    !key.tr(lang).trim().is_empty(),
                    "{key:?} is empty in {lang:?}"
                );
            }
        }
    }

    #[test]
    fn clock_offsets_read_naturally() {
        assert_eq!(clock_offset(30, Lang::Pl), "zgodny z serwerem");
        assert_eq!(clock_offset(-120, Lang::En), "matches the server");
        assert_eq!(
            clock_offset(-3 * 86_400 - 5, Lang::Pl),
            "spieszy się o 3 dni"
        );
        assert_eq!(clock_offset(86_400, Lang::Pl), "późni się o 1 dzień");
        assert_eq!(
            clock_offset(4 * 86_400, Lang::En),
            "4 days behind the server"
        );
        assert_eq!(clock_offset(-7_300, Lang::En), "2 h ahead of the server");
        assert_eq!(clock_offset(600, Lang::Pl), "późni się o 10 min");
    }

    #[test]
    fn polish_counting_words() {
        let pl = |n| free_seats(n, Lang::Pl);
        assert_eq!(pl(0), "Brak wolnych miejsc");
        assert_eq!(pl(1), "1 wolne miejsce");
        assert_eq!(pl(3), "3 wolne miejsca");
        assert_eq!(pl(5), "5 wolnych miejsc");
        assert_eq!(pl(12), "12 wolnych miejsc");
        assert_eq!(pl(22), "22 wolne miejsca");
        assert_eq!(waiting(1, Lang::Pl), "lista rezerwowa: 1 osoba");
        assert_eq!(waiting(2, Lang::Pl), "lista rezerwowa: 2 osoby");
        assert_eq!(waiting(5, Lang::Pl), "lista rezerwowa: 5 osób");
        assert_eq!(waiting(2, Lang::En), "waiting list: 2 people");
        assert_eq!(free_seats(1, Lang::En), "1 free seat");
    }
}
