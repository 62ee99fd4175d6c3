//! Every string of the touch app, in Polish and English, in one catalogue.
//!
//! Errors of the kiosk's actions carry their own texts (`KioskError::message`); this
//! catalogue holds what the screens say. Counting words follow Polish grammar
//! ("1 wolne miejsce", "3 wolne miejsca", "5 wolnych miejsc").

use blisko_shared::i18n::{Lang, polish_plural};
use blisko_shared::model::{AttendanceStatus, INFORMATION_CLAUSE, RequestStatus, Weekday};
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
    Welcome => "Dzień dobry! Co chcesz zrobić?", "Hello! What would you like to do?";
    SignUpTile => "Zapisz się na zajęcia", "Sign up for a class";
    SignUpTileHint => "Joga, gimnastyka, języki, spotkania", "Yoga, exercise, languages, meetings";
    RequestTile => "Złóż wniosek o usługę", "Request a service";
    RequestTileHint => "Rehabilitacja, podolog, psycholog i inne", "Rehabilitation, podiatrist, psychologist and more";
    MineTile => "Moje zapisy i wnioski", "My registrations and requests";
    MineTileHint => "Potrzebny kod mieszkańca", "You need your resident code";
    OtherLanguage => "English", "Polski";
    LargerText => "Większy tekst", "Larger text";
    NormalText => "Zwykły tekst", "Normal text";
    HighContrast => "Wysoki kontrast", "High contrast";
    NormalContrast => "Zwykłe kolory", "Normal colours";
    Staff => "Obsługa", "Staff";
    Back => "Wstecz", "Back";
    StartAgain => "Zacznij od nowa", "Start again";
    Next => "Dalej", "Next";
    PreviousPage => "Poprzednia strona", "Previous page";
    NextPage => "Następna strona", "Next page";
    PageOf => "Strona", "Page";
    AllDays => "Wszystkie dni", "All days";
    ClassesTitle => "Zajęcia w punkcie", "Classes at";
    NoClasses => "Nie ma zajęć w tym dniu.", "There are no classes on this day.";
    Choose => "Wybierz", "Choose";
    Instructor => "Prowadzi", "Instructor";
    Room => "Sala", "Room";
    AgeGroup => "Dla kogo", "For";
    NoFreeSeats => "Brak wolnych miejsc", "No free seats";
    NoWaitlist => "Zapisy zamknięte: brak miejsc", "Closed: no seats left";
    YourDetails => "Twoje dane", "Your details";
    GivenName => "Imię", "Given name";
    FamilyName => "Nazwisko", "Family name";
    BirthYear => "Rok urodzenia", "Year of birth";
    Phone => "Telefon (nieobowiązkowo)", "Phone (optional)";
    ResidentCodeOptional => "Kod mieszkańca (jeśli masz)", "Resident code (if you have one)";
    ResidentCode => "Kod mieszkańca", "Resident code";
    TapFieldToType => "Dotknij pola, aby pisać.", "Touch a field to type.";
    InformationTitle => "Informacja o danych osobowych", "About your personal data";
    InformationClause => INFORMATION_CLAUSE.0, INFORMATION_CLAUSE.1;
    ClauseVersion => "Wersja tekstu", "Text version";
    ConsentRead => "Przeczytałem/am informację o danych", "I have read the information about my data";
    SmsConsent => "Chcę przypomnienia SMS (nieobowiązkowo)", "I want SMS reminders (optional)";
    SignMeUp => "Zapisz mnie", "Sign me up";
    Confirmed => "Masz miejsce!", "You have a seat!";
    ConfirmedDetail => "Zapis jest potwierdzony.", "Your registration is confirmed.";
    Waitlisted => "Jesteś na liście rezerwowej", "You are on the waiting list";
    WaitlistDetail => "Gdy zwolni się miejsce, dostaniesz je w tej kolejności. Kolejność może się jeszcze zmienić, gdy inne punkty prześlą swoje zapisy.", "When a seat frees up, it goes to people in this order. The order may still change as other branch kiosks send their registrations.";
    BeyondLimit => "ponad limit — proszę zadzwonić", "beyond the limit — please call";
    CompensationNotice => "Po synchronizacji punktów zapisów jest więcej, niż zajęcia mieszczą. Nikogo nie przeniesiono; osoby oznaczone „ponad limit” trzeba powiadomić (najpóźniej zapisane).", "After the kiosks synced there are more registrations than the class holds. Nobody was moved; the people marked \"beyond the limit\" need to be told (the latest to register).";
    CheckingPool => "Sprawdzamy, czy jest wolne miejsce…", "Checking for a free seat…";
    CheckingPoolDetail => "To potrwa chwilę. Proszę zaczekać.", "This takes a moment. Please wait.";
    KeepYourCode => "Twój kod mieszkańca — zapisz go lub zrób zdjęcie:", "Your resident code — write it down or take a photo:";
    Done => "Gotowe", "Done";
    ServicesTitle => "Wybierz usługę", "Choose a service";
    NeedsPesel => "Ta usługa wymaga numeru PESEL.", "This service needs a PESEL number.";
    Pesel => "PESEL", "PESEL";
    ApplicantRole => "Kto składa wniosek?", "Who is applying?";
    RoleSelf => "Składam dla siebie", "For myself";
    RoleLegal => "Jestem opiekunem prawnym", "I am the legal guardian";
    RoleCarer => "Jestem opiekunem faktycznym", "I am the carer";
    Description => "Opisz krótko, czego potrzebujesz", "Describe briefly what you need";
    DeclarationTitle => "Oświadczenie i zgoda", "Declaration and consent";
    DeclarationText => "Oświadczam, że spełniam warunki skorzystania z usługi i że podane dane są prawdziwe.", "I declare that I meet the conditions for this service and that the details I gave are true.";
    DeclarationTick => "Oświadczam, że spełniam warunki", "I declare that I meet the conditions";
    SendRequest => "Wyślij wniosek", "Send the request";
    RequestSent => "Wniosek przyjęty", "Request received";
    ReferenceNumber => "Numer wniosku — zachowaj go:", "Reference number — please keep it:";
    RequestNext => "Pracownik skontaktuje się z Tobą. Stan wniosku sprawdzisz tutaj z kodem mieszkańca.", "A member of staff will contact you. Check its status here with your resident code.";
    EnterCode => "Wpisz swój kod mieszkańca", "Enter your resident code";
    Show => "Pokaż", "Show";
    HelloName => "Dzień dobry", "Hello";
    YourRegistrations => "Twoje zapisy", "Your registrations";
    YourRequests => "Twoje wnioski", "Your requests";
    OfficeMessage => "Wiadomość z urzędu dla Pani/Pana:", "A message from the office for you:";
    NoneYet => "Brak.", "None.";
    CancelRegistration => "Wypisz mnie", "Cancel my place";
    CancelQuestion => "Czy na pewno chcesz się wypisać z zajęć?", "Do you really want to cancel your place in this class?";
    YesCancel => "Tak, wypisz mnie", "Yes, cancel my place";
    NoKeep => "Nie, zostaw zapis", "No, keep my place";
    Cancelled => "Wypisano. Miejsce dostanie kolejna osoba.", "Cancelled. The seat goes to the next person.";
    StatusConfirmed => "potwierdzony", "confirmed";
    StatusWaitlisted => "lista rezerwowa", "waiting list";
    StatusCancelled => "wypisano", "cancelled";
    IdleTitle => "Czy nadal tu jesteś?", "Are you still there?";
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
    EnterPin => "Obsługa: wpisz PIN", "Staff: enter your PIN";
    WrongPin => "Nieprawidłowy PIN.", "Wrong PIN.";
    PinLocked => "Za dużo prób. Tryb obsługi zablokowany na minut:", "Too many attempts. Staff mode is locked for minutes:";
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
    AddPresent => "Dodaj jako obecną", "Add as present";
    NoOneRegistered => "Nikt nie jest zapisany.", "No one is registered.";
    Roster => "Zapisani", "Registered";
    Waitlist => "Lista rezerwowa", "Waiting list";
    UnknownPerson => "(dane jeszcze nie dotarły)", "(details not here yet)";
    ErasedPerson => "(dane usunięte (RODO))", "(data erased (GDPR))";
    LastSync => "Ostatnia synchronizacja", "Last sync";
    PendingChanges => "Zmiany do wysłania", "Changes to send";
    LastError => "Ostatni błąd", "Last error";
    KioskClock => "Zegar kiosku", "Kiosk clock";
    SetTheClock => "Ustaw zegar kiosku: od niego zależy kolejność na listach rezerwowych.", "Set the kiosk's clock: the order of waiting lists depends on it.";
    Server => "Serwer", "Server";
    SyncNow => "Synchronizuj teraz", "Sync now";
    RevokedStaff => "Biuro wyłączyło ten kiosk; jego dane są bezpieczne. Aby przywrócić go do pracy, wpisz nowy kod rejestracji z biura (blisko-server kiosk reenroll).", "The office has revoked this kiosk; its data is safe. To bring it back into service, enter a new enrollment code from the office (blisko-server kiosk reenroll).";
    EnrollAgain => "Zarejestruj ponownie", "Enroll again";
    EnrolledAgain => "Kiosk zarejestrowany ponownie; wysyła teraz swoje dane.", "The kiosk is enrolled again; it is sending its data now.";
    SetupTitle => "Ten kiosk nie jest jeszcze przygotowany", "This kiosk is not set up yet";
    SetupDemo => "Uruchom z katalogiem demonstracyjnym", "Start with the demo catalogue";
    SetupEnroll => "Połącz z serwerem", "Connect to a server";
    ChooseBranch => "Wybierz punkt", "Choose the branch";
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
}

pub fn tr(key: T, lang: Lang) -> &'static str {
    key.tr(lang)
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
        Lang::Pl => [
            "poniedziałek",
            "wtorek",
            "środa",
            "czwartek",
            "piątek",
            "sobota",
            "niedziela",
        ][i],
        Lang::En => [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ][i],
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

#[cfg(test)]
mod tests {
    use super::*;

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
