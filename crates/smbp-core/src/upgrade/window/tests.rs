//! The maintenance window against the clock: UTC windows, windows in other zones, each
//! daylight-saving change of Europe/Berlin and America/New_York (2026), and a property test that
//! a window is never open while its zone's wall clock shows a time outside it.

use super::*;
use proptest::prelude::*;

fn window(days: Vec<Weekday>, start: &str, duration: &str, zone: &str) -> MaintenanceWindow {
    MaintenanceWindow {
        days,
        start: start.into(),
        time_zone: zone.into(),
        duration: duration.into(),
    }
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn open_until(text: &str) -> WindowState {
    WindowState::Open(Some(at(text)))
}

fn opens(text: &str) -> WindowState {
    WindowState::OpensAt(at(text))
}

#[test]
fn a_daily_window_is_open_inside_and_names_the_next_opening_outside() {
    let w = window(vec![], "02:00", "4h", "UTC");
    assert_eq!(
        state(&w, at("2026-11-21T03:00:00Z")),
        open_until("2026-11-21T06:00:00Z")
    );
    assert_eq!(
        state(&w, at("2026-11-21T06:00:00Z")),
        opens("2026-11-22T02:00:00Z")
    );
    assert_eq!(
        state(&w, at("2026-11-21T01:59:00Z")),
        opens("2026-11-21T02:00:00Z")
    );
}

#[test]
fn a_window_on_some_days_spans_midnight_into_the_next_day() {
    // 2026-11-21 is a Saturday.
    let w = window(vec![Weekday::Saturday], "22:00", "6h", "UTC");
    assert_eq!(
        state(&w, at("2026-11-22T03:00:00Z")),
        open_until("2026-11-22T04:00:00Z")
    );
    assert_eq!(
        state(&w, at("2026-11-22T05:00:00Z")),
        opens("2026-11-28T22:00:00Z")
    );
    assert_eq!(
        state(&w, at("2026-11-23T23:00:00Z")),
        opens("2026-11-28T22:00:00Z")
    );
}

#[test]
fn days_and_start_are_read_on_the_zones_wall_clock() {
    // Saturday 23:00 in Los Angeles (PST, -8) is Sunday 07:00 UTC.
    let w = window(
        vec![Weekday::Saturday],
        "23:00",
        "2h",
        "America/Los_Angeles",
    );
    assert_eq!(
        state(&w, at("2026-11-21T12:00:00Z")),
        opens("2026-11-22T07:00:00Z")
    );
    assert_eq!(
        state(&w, at("2026-11-22T08:00:00Z")),
        open_until("2026-11-22T09:00:00Z")
    );
    // Kathmandu is +05:45: 02:00 there is 20:15 UTC the day before.
    let w = window(vec![], "02:00", "1h", "Asia/Kathmandu");
    assert_eq!(
        state(&w, at("2026-11-21T12:00:00Z")),
        opens("2026-11-21T20:15:00Z")
    );
}

#[test]
fn berlin_spring_forward_opens_at_the_jump_and_closes_on_the_wall_clock() {
    // 2026-03-29: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
    let w = window(vec![], "02:00", "2h", "Europe/Berlin");
    assert_eq!(
        state(&w, at("2026-03-28T01:30:00Z")),
        open_until("2026-03-28T03:00:00Z"),
        "the day before: 02:00-04:00 CET"
    );
    assert_eq!(
        state(&w, at("2026-03-29T00:59:00Z")),
        opens("2026-03-29T01:00:00Z")
    );
    assert_eq!(
        state(&w, at("2026-03-29T01:30:00Z")),
        open_until("2026-03-29T02:00:00Z"),
        "03:00-04:00 CEST: an hour that day"
    );
    assert_eq!(
        state(&w, at("2026-03-29T02:00:00Z")),
        opens("2026-03-30T00:00:00Z")
    );
    // Wholly inside the skipped hour: no window that day.
    let w = window(vec![], "02:15", "30m", "Europe/Berlin");
    assert_eq!(
        state(&w, at("2026-03-29T00:00:00Z")),
        opens("2026-03-30T00:15:00Z")
    );
}

#[test]
fn berlin_fall_back_opens_at_the_first_pass_and_never_reopens() {
    // 2026-10-25: 03:00 CEST becomes 02:00 CET at 01:00 UTC; 02:00-02:59 is passed twice.
    let w = window(vec![], "02:00", "2h", "Europe/Berlin");
    assert_eq!(
        state(&w, at("2026-10-24T23:00:00Z")),
        opens("2026-10-25T00:00:00Z")
    );
    assert_eq!(
        state(&w, at("2026-10-25T02:30:00Z")),
        open_until("2026-10-25T03:00:00Z"),
        "02:00 CEST to 04:00 CET: three hours that day"
    );
    // Starting inside the repeated hour: closed when the clocks go back before the start.
    let w = window(vec![], "02:30", "1h", "Europe/Berlin");
    assert_eq!(
        state(&w, at("2026-10-25T00:45:00Z")),
        open_until("2026-10-25T01:00:00Z")
    );
    assert_eq!(
        state(&w, at("2026-10-25T01:45:00Z")),
        opens("2026-10-26T01:30:00Z"),
        "02:45 CET, the second pass: not reopened"
    );
}

#[test]
fn new_york_spring_forward_cuts_a_window_ending_in_the_skipped_hour() {
    // 2026-03-08: 02:00 EST becomes 03:00 EDT at 07:00 UTC.
    let w = window(vec![Weekday::Sunday], "01:30", "1h", "America/New_York");
    assert_eq!(
        state(&w, at("2026-03-08T06:00:00Z")),
        opens("2026-03-08T06:30:00Z")
    );
    assert_eq!(
        state(&w, at("2026-03-08T06:45:00Z")),
        open_until("2026-03-08T07:00:00Z")
    );
    assert_eq!(
        state(&w, at("2026-03-08T07:00:00Z")),
        opens("2026-03-15T05:30:00Z"),
        "next Sunday 01:30 EDT"
    );
    let w = window(vec![], "02:00", "2h", "America/New_York");
    assert_eq!(
        state(&w, at("2026-03-08T06:00:00Z")),
        opens("2026-03-08T07:00:00Z")
    );
    assert_eq!(
        state(&w, at("2026-03-08T07:10:00Z")),
        open_until("2026-03-08T08:00:00Z")
    );
}

#[test]
fn new_york_fall_back_keeps_a_window_open_through_the_repeated_hour_inside_it() {
    // 2026-11-01: 02:00 EDT becomes 01:00 EST at 06:00 UTC; 01:00-01:59 is passed twice.
    let w = window(vec![], "01:00", "1h", "America/New_York");
    assert_eq!(
        state(&w, at("2026-11-01T04:00:00Z")),
        opens("2026-11-01T05:00:00Z")
    );
    assert_eq!(
        state(&w, at("2026-11-01T06:30:00Z")),
        open_until("2026-11-01T07:00:00Z"),
        "01:00 EDT to 02:00 EST"
    );
    let w = window(vec![], "01:30", "1h", "America/New_York");
    assert_eq!(
        state(&w, at("2026-11-01T05:45:00Z")),
        open_until("2026-11-01T06:00:00Z"),
        "closed when the clocks go back to 01:00"
    );
    assert_eq!(
        state(&w, at("2026-11-01T06:40:00Z")),
        opens("2026-11-02T06:30:00Z"),
        "01:40 EST, the second pass: not reopened"
    );
    let w = window(vec![], "00:30", "1h", "America/New_York");
    assert_eq!(
        state(&w, at("2026-11-01T05:00:00Z")),
        open_until("2026-11-01T05:30:00Z"),
        "ends at the first 01:30"
    );
}

#[test]
fn an_unknown_zone_is_an_error_naming_the_field() {
    let error = Window::parse(&window(vec![], "02:00", "1h", "Europe/Berln")).unwrap_err();
    assert_eq!(error.field, "timeZone");
    assert!(
        error.message.contains("\"Europe/Berln\""),
        "{}",
        error.message
    );
}

const ZONES: [&str; 10] = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Australia/Sydney",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/Santiago",
    "Europe/London",
    "Pacific/Apia",
];

const DAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

/// The reference: whether the zone's wall clock at `now` shows a time inside the window of an
/// allowed day.
fn in_local_hours(w: &MaintenanceWindow, now: Timestamp) -> bool {
    let parsed = Window::parse(w).unwrap();
    let local = parsed.zone.to_datetime(now);
    (-8..=0).any(|offset: i64| {
        let date = local.date().checked_add(offset.days()).unwrap();
        let start = date.to_datetime(parsed.start);
        let end = start.checked_add(parsed.length).unwrap();
        (parsed.days.is_empty() || parsed.days.contains(&date.weekday()))
            && start <= local
            && local < end
    })
}

/// A clock change of `zone` in `year` (the first or second, by `which`), or a fixed day for
/// zones without one.
fn transition(zone: &str, year: i16, which: usize) -> Timestamp {
    let first = jiff::civil::date(year, 1, 1).to_datetime(Time::midnight());
    let first = first.to_zoned(TimeZone::UTC).unwrap().timestamp();
    let tz = TimeZone::get(zone).unwrap();
    tz.following(first)
        .nth(which)
        .map(|t| t.timestamp())
        .unwrap_or(first + SignedDuration::from_hours(4000 * which as i64))
}

/// A window and an instant: either anywhere in 2025-2028, or within 2 (or 36) hours of a clock
/// change with a start near the change's local time (where the daylight-saving rules matter).
fn arbitrary_case() -> impl Strategy<Value = (MaintenanceWindow, Timestamp)> {
    let anywhere = (
        0usize..ZONES.len(),
        0i8..24,
        0i8..60,
        1_735_689_600i64..1_861_920_000,
    )
        .prop_map(|(zone, hour, minute, second)| {
            (zone, hour, minute, Timestamp::from_second(second).unwrap())
        });
    let near_change = (
        0usize..ZONES.len(),
        2025i16..2029,
        0usize..2,
        prop_oneof![-7_200i64..7_200, -129_600i64..129_600],
        -90i64..90,
    )
        .prop_map(|(zone, year, which, offset, start_shift)| {
            let change = transition(ZONES[zone], year, which);
            let tz = TimeZone::get(ZONES[zone]).unwrap();
            let local = tz.to_datetime(change).time();
            let start = local
                .wrapping_add(SignedDuration::from_mins(start_shift))
                .round(jiff::Unit::Minute)
                .unwrap_or(local);
            let now = change + SignedDuration::from_secs(offset);
            (zone, start.hour(), start.minute(), now)
        });
    (
        prop_oneof![anywhere, near_change],
        0u8..128,
        prop_oneof![30u32..=240, 30u32..=10_080],
    )
        .prop_map(|((zone, hour, minute, now), mask, minutes)| {
            let days = (0..7)
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| DAYS[i])
                .collect();
            let w = window(
                days,
                &format!("{hour:02}:{minute:02}"),
                &format!("{minutes}m"),
                ZONES[zone],
            );
            (w, now)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Open only while the local clock is inside the window; a named opening is one.
    #[test]
    fn a_window_never_opens_outside_its_local_hours((w, now) in arbitrary_case()) {
        let parsed = Window::parse(&w).unwrap();
        match parsed.state(now) {
            WindowState::Open(closes) => {
                prop_assert!(in_local_hours(&w, now), "open at {now} outside {w:?}");
                prop_assert!(closes.is_some_and(|c| c > now));
            }
            WindowState::OpensAt(next) => {
                prop_assert!(next > now);
                prop_assert!(matches!(parsed.state(next), WindowState::Open(_)));
                prop_assert!(in_local_hours(&w, next), "opens at {next} outside {w:?}");
                let before = next - SignedDuration::from_secs(1);
                if before > now {
                    prop_assert!(matches!(parsed.state(before), WindowState::OpensAt(n) if n == next));
                }
            }
        }
    }
}
