//! The built-in demo catalogue, modelled on the CUS of Milanówek (a town of about 15,000):
//! four branch points, twelve classes and seven services. Ids are derived from names, so
//! every machine that builds the demo agrees on them.

use std::collections::BTreeMap;

use jiff::ToSpan;
use jiff::civil::Date;

use crate::ids::{BranchId, ClassId, KioskId, ServiceId, SessionId, StaffId};
use crate::model::{
    Branch, Catalog, Class, Service, Session, StaffRole, StaffUser, Weekday, WeeklySlot,
};

struct DemoClass {
    key: &'static str,
    title: &'static str,
    description: &'static str,
    instructor: &'static str,
    room: &'static str,
    capacity: u32,
    waitlist_limit: u32,
    age_group: &'static str,
    slots: &'static [(Weekday, &'static str, u32)],
}

struct DemoBranch {
    code: &'static str,
    name: &'static str,
    address: &'static str,
    opening_hours: &'static str,
    help: &'static str,
    classes: &'static [DemoClass],
}

use Weekday::*;

const BRANCHES: &[DemoBranch] = &[
    DemoBranch {
        code: "MAL",
        name: "Miejsce Aktywności Lokalnej",
        address: "ul. Warszawska 18, 05-822 Milanówek",
        opening_hours: "pon.–pt. 9:00–19:00",
        help: "Proszę podejść do recepcji na parterze, przy wejściu, lub zadzwonić: 22 100 20 01. Pomagamy wypełnić zapis i wniosek.",
        classes: &[
            DemoClass {
                key: "angielski",
                title: "Język angielski z native speakerem",
                description: "Rozmowy po angielsku w małej grupie, bez stresu i bez ocen.",
                instructor: "John Carter",
                room: "sala 1",
                capacity: 10,
                waitlist_limit: 10,
                age_group: "dorośli",
                slots: &[(Mon, "17:00", 90), (Thu, "17:00", 90)],
            },
            DemoClass {
                key: "gimnastyka",
                title: "Gimnastyka",
                description: "Łagodne ćwiczenia ruchowe poprawiające sprawność i równowagę.",
                instructor: "Anna Wiśniewska",
                room: "sala ruchowa",
                capacity: 15,
                waitlist_limit: 10,
                age_group: "60+",
                slots: &[(Tue, "10:00", 60), (Fri, "10:00", 60)],
            },
            DemoClass {
                key: "pilates",
                title: "Pilates",
                description: "Ćwiczenia wzmacniające mięśnie głębokie i kręgosłup.",
                instructor: "Katarzyna Zając",
                room: "sala ruchowa",
                capacity: 12,
                waitlist_limit: 8,
                age_group: "dorośli",
                slots: &[(Wed, "18:00", 60)],
            },
            DemoClass {
                key: "nordic-walking",
                title: "Nordic walking",
                description: "Marsz z kijami po parku; kije można wypożyczyć na miejscu.",
                instructor: "Tomasz Lewandowski",
                room: "zbiórka przed wejściem",
                capacity: 20,
                waitlist_limit: 10,
                age_group: "wszyscy",
                slots: &[(Sat, "09:00", 90), (Sun, "10:00", 90)],
            },
        ],
    },
    DemoBranch {
        code: "SI",
        name: "Klub Samopomocowy „Srebrne Inspiracje”",
        address: "ul. Kościuszki 45, 05-822 Milanówek",
        opening_hours: "pon.–pt. 8:00–16:00",
        help: "Proszę poprosić o pomoc opiekunkę klubu w pokoju obok sali spotkań lub zadzwonić: 22 100 20 02.",
        classes: &[
            DemoClass {
                key: "taniec-w-kregu",
                title: "Taniec w kręgu",
                description: "Proste tańce w kole przy muzyce z całego świata. Bez partnera.",
                instructor: "Małgorzata Kowalczyk",
                room: "świetlica klubu",
                capacity: 16,
                waitlist_limit: 10,
                age_group: "60+",
                slots: &[(Mon, "11:00", 60)],
            },
            DemoClass {
                key: "trening-pamieci",
                title: "Trening pamięci",
                description: "Ćwiczenia i gry, które pomagają zachować dobrą pamięć.",
                instructor: "dr Ewa Nowicka",
                room: "sala klubowa",
                capacity: 8,
                waitlist_limit: 6,
                age_group: "60+",
                slots: &[(Wed, "10:00", 60)],
            },
            DemoClass {
                key: "tai-chi",
                title: "Tai Chi",
                description: "Spokojne, płynne ruchy dla równowagi i odprężenia.",
                instructor: "Piotr Wójcik",
                room: "sala klubowa",
                capacity: 12,
                waitlist_limit: 8,
                age_group: "60+",
                slots: &[(Thu, "09:30", 60)],
            },
        ],
    },
    DemoBranch {
        code: "CIM",
        name: "Centrum Integracji Międzypokoleniowej",
        address: "ul. Królewska 32, 05-822 Milanówek",
        opening_hours: "pon.–sob. 10:00–20:00",
        help: "Proszę podejść do punktu informacji na parterze, przy szatni, lub zadzwonić: 22 100 20 03.",
        classes: &[
            DemoClass {
                key: "joga",
                title: "Joga",
                description: "Joga dla początkujących: oddech, rozciąganie, relaks. Własna mata mile widziana.",
                instructor: "Agnieszka Kamińska",
                room: "sala 2",
                capacity: 14,
                waitlist_limit: 10,
                age_group: "dorośli",
                slots: &[(Tue, "18:00", 75)],
            },
            DemoClass {
                key: "eko-plastyka",
                title: "Eko-plastyka",
                description: "Zajęcia plastyczne z materiałów z odzysku dla dzieci z rodzicami lub dziadkami.",
                instructor: "Joanna Mazur",
                room: "pracownia",
                capacity: 10,
                waitlist_limit: 5,
                age_group: "dzieci 5–10 z opiekunem",
                slots: &[(Sat, "11:00", 90)],
            },
            DemoClass {
                key: "taniec-nowoczesny",
                title: "Taniec nowoczesny",
                description: "Energiczne zajęcia taneczne dla młodzieży.",
                instructor: "Michał Krawczyk",
                room: "sala ruchowa",
                capacity: 18,
                waitlist_limit: 10,
                age_group: "młodzież 12–18",
                slots: &[(Wed, "16:30", 60), (Fri, "16:30", 60)],
            },
        ],
    },
    DemoBranch {
        code: "SW",
        name: "Świetlica",
        address: "ul. Piasta 10, 05-822 Milanówek",
        opening_hours: "pon.–pt. 12:00–18:00",
        help: "Proszę poprosić o pomoc wychowawcę świetlicy w sali głównej lub zadzwonić: 22 100 20 04.",
        classes: &[
            DemoClass {
                key: "meska-szopa",
                title: "Męska Szopa",
                description: "Warsztat dla panów: naprawy, majsterkowanie, rozmowa przy kawie.",
                instructor: "Andrzej Szymański",
                room: "warsztat",
                capacity: 6,
                waitlist_limit: 0,
                age_group: "panowie 50+",
                slots: &[(Tue, "14:00", 120)],
            },
            DemoClass {
                key: "kregi-wsparcia",
                title: "Kręgi wsparcia",
                description: "Spotkania grupy wsparcia z psychologiem. Rozmowy zostają w grupie.",
                instructor: "Barbara Dąbrowska",
                room: "pokój cichy",
                capacity: 10,
                waitlist_limit: 5,
                age_group: "dorośli",
                slots: &[(Thu, "16:00", 90)],
            },
        ],
    },
];

/// A demo service: key, name, description, whether it needs the PESEL, who may use it,
/// and the law it is provided under.
struct DemoService {
    key: &'static str,
    name: &'static str,
    description: &'static str,
    requires_pesel: bool,
    conditions: &'static str,
    legal_basis: &'static str,
}

const SERVICES: &[DemoService] = &[
    DemoService {
        key: "rehabilitacja",
        name: "Rehabilitacja w gabinecie",
        description: "Zabiegi i ćwiczenia z fizjoterapeutą po urazie, operacji lub przy bólu.",
        requires_pesel: false,
        conditions: "mieszkańcy gminy ze skierowaniem od lekarza na rehabilitację",
        legal_basis: "ustawa z dnia 19 lipca 2019 r. o realizowaniu usług społecznych przez centrum usług społecznych",
    },
    DemoService {
        key: "badania-profilaktyczne",
        name: "Badania profilaktyczne",
        description: "Bezpłatne badania, np. ciśnienie, cukier, słuch; wyniki omawia pielęgniarka.",
        requires_pesel: false,
        conditions: "mieszkańcy gminy w wieku 60 lat i więcej",
        legal_basis: "ustawa z dnia 19 lipca 2019 r. o realizowaniu usług społecznych przez centrum usług społecznych",
    },
    DemoService {
        key: "psycholog-dzieciecy",
        name: "Psycholog dziecięcy",
        description: "Spotkania z psychologiem dla dziecka i rodzica, gdy dziecko potrzebuje wsparcia.",
        requires_pesel: false,
        conditions: "dzieci i młodzież do 18 lat mieszkające w gminie; wniosek składa rodzic lub opiekun prawny",
        legal_basis: "ustawa z dnia 19 lipca 2019 r. o realizowaniu usług społecznych przez centrum usług społecznych",
    },
    DemoService {
        key: "podolog",
        name: "Podolog",
        description: "Pielęgnacja stóp: paznokcie, odciski, stopa cukrzycowa.",
        requires_pesel: false,
        conditions: "mieszkańcy gminy w wieku 60 lat i więcej albo chorujący na cukrzycę",
        legal_basis: "ustawa z dnia 19 lipca 2019 r. o realizowaniu usług społecznych przez centrum usług społecznych",
    },
    DemoService {
        key: "asystent-osobisty",
        name: "Asystent osobisty osoby z niepełnosprawnością",
        description: "Pomoc asystenta w codziennych sprawach, wyjściach i dojazdach.",
        requires_pesel: true,
        conditions: "osoby mieszkające w gminie z orzeczeniem o znacznym lub umiarkowanym stopniu niepełnosprawności albo dzieci do 16 lat z orzeczeniem o niepełnosprawności",
        legal_basis: "Program „Asystent osobisty osoby z niepełnosprawnością” finansowany z Funduszu Solidarnościowego",
    },
    DemoService {
        key: "mieszkanie-treningowe",
        name: "Mieszkanie treningowe",
        description: "Mieszkanie, w którym z pomocą specjalistów można nauczyć się samodzielnego życia.",
        requires_pesel: true,
        conditions: "osoby pełnoletnie mieszkające w gminie, które z powodu wieku, niepełnosprawności lub choroby potrzebują wsparcia w nauce samodzielnego życia",
        legal_basis: "art. 53 ustawy z dnia 12 marca 2004 r. o pomocy społecznej",
    },
    DemoService {
        key: "wolontariat",
        name: "Wolontariat",
        description: "Pomoc innym w wolnym czasie: zadanie dobrane do sił i czasu wolontariusza.",
        requires_pesel: false,
        conditions: "osoby pełnoletnie; osoby niepełnoletnie za zgodą rodzica lub opiekuna prawnego",
        legal_basis: "ustawa z dnia 24 kwietnia 2003 r. o działalności pożytku publicznego i o wolontariacie",
    },
];

/// The staff PIN of the demo catalogue: every demo branch has one staff member with it.
/// Demo data only; a real catalogue's PINs are set by the office.
pub const DEMO_STAFF_PIN: &str = "1234";
/// The argon2id hash of [`DEMO_STAFF_PIN`] (the kiosk's tests check that they agree).
const DEMO_STAFF_PIN_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$9j7jQpMHhvZKgGoH3n8kkg$e4eGbOq6kq3qIXcsnU/orE72qX2CqgmbU9OwCApcXAI";

/// The demo branches' ids, in catalogue order.
pub fn branch_ids() -> Vec<(BranchId, &'static str)> {
    BRANCHES
        .iter()
        .map(|b| (BranchId::derived(b.code), b.code))
        .collect()
}

/// The demo catalogue of every branch, with dated sessions for `weeks` weeks from `from`.
/// When `standalone_kiosk` is given, that kiosk gets every class's whole capacity as its
/// allotment (a kiosk with no server is the only seat authority).
pub fn catalogs(
    from: Date,
    weeks: u32,
    standalone_kiosk: Option<(KioskId, BranchId)>,
) -> Vec<Catalog> {
    BRANCHES
        .iter()
        .map(|b| {
            let branch_id = BranchId::derived(b.code);
            let classes: Vec<Class> = b
                .classes
                .iter()
                .map(|c| Class {
                    id: ClassId::derived(c.key),
                    branch_id,
                    title: c.title.to_owned(),
                    description: c.description.to_owned(),
                    instructor: c.instructor.to_owned(),
                    room: c.room.to_owned(),
                    capacity: c.capacity,
                    waitlist_limit: c.waitlist_limit,
                    age_group: c.age_group.to_owned(),
                    schedule: c
                        .slots
                        .iter()
                        .map(|(weekday, start, minutes)| WeeklySlot {
                            weekday: *weekday,
                            start: (*start).to_owned(),
                            minutes: *minutes,
                        })
                        .collect(),
                    registration_opens: None,
                    registration_closes: None,
                })
                .collect();
            let sessions = classes
                .iter()
                .flat_map(|class| sessions_for(class, from, weeks))
                .collect();
            let allotments = match standalone_kiosk {
                Some((kiosk, home)) if home == branch_id => classes
                    .iter()
                    .map(|c| (c.id, BTreeMap::from([(kiosk, c.capacity)])))
                    .collect(),
                _ => BTreeMap::new(),
            };
            Catalog {
                branch: Branch {
                    id: branch_id,
                    code: b.code.to_owned(),
                    name: b.name.to_owned(),
                    address: b.address.to_owned(),
                    opening_hours: b.opening_hours.to_owned(),
                    help: b.help.to_owned(),
                },
                classes,
                sessions,
                services: standard_services(),
                allotments,
                staff: vec![StaffUser {
                    id: StaffId::derived(&format!("staff/{}", b.code)),
                    name: format!("Obsługa {}", b.code),
                    role: StaffRole::BranchStaff,
                    pin_hash: DEMO_STAFF_PIN_HASH.to_owned(),
                }],
            }
        })
        .collect()
}

/// The services every CUS branch takes requests for (the demo's, and a new branch's
/// when it is the first).
pub fn standard_services() -> Vec<Service> {
    SERVICES
        .iter()
        .map(|s| Service {
            id: ServiceId::derived(s.key),
            name: s.name.to_owned(),
            description: s.description.to_owned(),
            requires_pesel: s.requires_pesel,
            conditions: s.conditions.to_owned(),
            legal_basis: s.legal_basis.to_owned(),
        })
        .collect()
}

/// The catalogs without their sessions on Polish public holidays, as an office plans
/// them (the server's demo data; [`sessions_for`] itself keeps every scheduled day, so
/// that tests can count on a session on any weekday).
pub fn without_public_holidays(mut catalogs: Vec<Catalog>) -> Vec<Catalog> {
    for catalog in &mut catalogs {
        catalog.sessions.retain(|s| {
            s.date
                .parse::<Date>()
                .map_or(true, |d| crate::holidays::public_holiday(d).is_none())
        });
    }
    catalogs
}

/// Dated sessions of a class for `weeks` weeks starting at `from`.
pub fn sessions_for(class: &Class, from: Date, weeks: u32) -> Vec<Session> {
    let mut out = Vec::new();
    for day in 0..(weeks as i64 * 7) {
        let Ok(date) = from.checked_add(day.days()) else {
            break;
        };
        let weekday = Weekday::ALL[date.weekday().to_monday_zero_offset() as usize];
        for slot in class.schedule.iter().filter(|s| s.weekday == weekday) {
            out.push(Session {
                id: SessionId::derived(&format!("{}/{}/{}", class.id, date, slot.start)),
                class_id: class.id,
                date: date.to_string(),
                start: slot.start.clone(),
                minutes: slot.minutes,
                cancelled: false,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_has_four_branches_twelve_classes_seven_services() {
        let from = Date::new(2026, 11, 23).unwrap();
        let all = catalogs(from, 2, None);
        assert_eq!(all.len(), 4);
        assert_eq!(all.iter().map(|c| c.classes.len()).sum::<usize>(), 12);
        assert!(all.iter().all(|c| c.services.len() == 7));
        assert!(all.iter().all(|c| c.allotments.is_empty()));
        // Męska Szopa keeps no waiting list.
        let shed = all
            .iter()
            .flat_map(|c| &c.classes)
            .find(|c| c.title == "Męska Szopa")
            .unwrap();
        assert_eq!(shed.waitlist_limit, 0);
    }

    #[test]
    fn a_standalone_kiosk_holds_every_seat_of_its_branch() {
        let from = Date::new(2026, 11, 23).unwrap();
        let kiosk = KioskId::new();
        let home = BranchId::derived("MAL");
        for catalog in catalogs(from, 1, Some((kiosk, home))) {
            for class in &catalog.classes {
                let expected = (catalog.branch.id == home).then_some(class.capacity);
                assert_eq!(
                    catalog.allotments_of(class.id).get(&kiosk).copied(),
                    expected
                );
            }
        }
    }

    #[test]
    fn the_server_demo_has_no_session_on_a_public_holiday() {
        // Six weeks over Christmas and New Year: Gimnastyka (Tuesday and Friday) falls
        // on 25.12 and 1.1 in 2026.
        let from = Date::new(2026, 12, 7).unwrap();
        let all = catalogs(from, 6, None);
        let on = |catalogs: &[Catalog], day: &str| {
            catalogs
                .iter()
                .flat_map(|c| &c.sessions)
                .filter(|s| s.date == day)
                .count()
        };
        assert!(on(&all, "2026-12-25") > 0 && on(&all, "2027-01-01") > 0);
        let planned = without_public_holidays(all.clone());
        assert_eq!(on(&planned, "2026-12-25"), 0);
        assert_eq!(on(&planned, "2027-01-01"), 0);
        assert_eq!(on(&planned, "2026-12-29"), on(&all, "2026-12-29"));
    }

    #[test]
    fn sessions_fall_on_the_scheduled_weekdays() {
        let from = Date::new(2026, 11, 23).unwrap(); // a Monday
        let all = catalogs(from, 2, None);
        let english = all[0]
            .classes
            .iter()
            .find(|c| c.title.starts_with("Język"))
            .unwrap();
        let dates: Vec<_> = sessions_for(english, from, 2)
            .into_iter()
            .map(|s| s.date)
            .collect();
        assert_eq!(
            dates,
            ["2026-11-23", "2026-11-26", "2026-11-30", "2026-12-03"]
        );
    }
}
