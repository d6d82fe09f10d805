//! The maintenance window: a weekly opening time (UTC) on some days, lasting a duration. An
//! upgrade may start only while a window is open; one that started runs to completion even past
//! the window's end.

use jiff::civil::Weekday as CivilWeekday;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use smbp_api::v1alpha1::{MaintenanceWindow, Weekday};

/// Whether the window is open at `now`, or else when it opens next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowState {
    /// Open now.
    Open,
    /// Closed; opens at this time.
    OpensAt(Timestamp),
}

fn civil(day: Weekday) -> CivilWeekday {
    match day {
        Weekday::Monday => CivilWeekday::Monday,
        Weekday::Tuesday => CivilWeekday::Tuesday,
        Weekday::Wednesday => CivilWeekday::Wednesday,
        Weekday::Thursday => CivilWeekday::Thursday,
        Weekday::Friday => CivilWeekday::Friday,
        Weekday::Saturday => CivilWeekday::Saturday,
        Weekday::Sunday => CivilWeekday::Sunday,
    }
}

/// Where `now` stands relative to `window`. A window whose fields do not parse (the CRD's rules
/// prevent that) counts as always open, so a malformed window never blocks upgrades forever.
pub fn state(window: &MaintenanceWindow, now: Timestamp) -> WindowState {
    let Some((hour, minute)) = window
        .start
        .split_once(':')
        .and_then(|(h, m)| Some((h.parse::<i8>().ok()?, m.parse::<i8>().ok()?)))
    else {
        return WindowState::Open;
    };
    let Some(length) =
        crate::duration::parse(&window.duration).and_then(|d| SignedDuration::try_from(d).ok())
    else {
        return WindowState::Open;
    };
    let today = now.to_zoned(TimeZone::UTC).date();
    let allowed =
        |day: CivilWeekday| window.days.is_empty() || window.days.iter().any(|d| civil(*d) == day);
    let opening = |offset: i64| -> Option<Timestamp> {
        let date = today.checked_add(offset.days()).ok()?;
        if !allowed(date.weekday()) {
            return None;
        }
        let time = jiff::civil::time(hour, minute, 0, 0);
        date.to_datetime(time)
            .to_zoned(TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp())
    };
    // A window lasts at most a week: the one open now opened at most 7 days ago.
    for offset in -7..=0 {
        if let Some(open) = opening(offset)
            && open <= now
            && now < open + length
        {
            return WindowState::Open;
        }
    }
    match (0..=7).filter_map(opening).find(|open| *open > now) {
        Some(next) => WindowState::OpensAt(next),
        None => WindowState::Open,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(days: Vec<Weekday>, start: &str, duration: &str) -> MaintenanceWindow {
        MaintenanceWindow {
            days,
            start: start.into(),
            duration: duration.into(),
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn a_daily_window_is_open_inside_and_names_the_next_opening_outside() {
        let w = window(vec![], "02:00", "4h");
        assert_eq!(state(&w, at("2026-11-21T03:00:00Z")), WindowState::Open);
        assert_eq!(
            state(&w, at("2026-11-21T06:00:00Z")),
            WindowState::OpensAt(at("2026-11-22T02:00:00Z"))
        );
        assert_eq!(
            state(&w, at("2026-11-21T01:59:00Z")),
            WindowState::OpensAt(at("2026-11-21T02:00:00Z"))
        );
    }

    #[test]
    fn a_window_on_some_days_spans_midnight_into_the_next_day() {
        // 2026-11-21 is a Saturday.
        let w = window(vec![Weekday::Saturday], "22:00", "6h");
        assert_eq!(state(&w, at("2026-11-22T03:00:00Z")), WindowState::Open);
        assert_eq!(
            state(&w, at("2026-11-22T05:00:00Z")),
            WindowState::OpensAt(at("2026-11-28T22:00:00Z"))
        );
        assert_eq!(
            state(&w, at("2026-11-23T23:00:00Z")),
            WindowState::OpensAt(at("2026-11-28T22:00:00Z"))
        );
    }
}
