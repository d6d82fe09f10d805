//! The maintenance window: a weekly opening time on the wall clock of an IANA time zone (UTC by
//! default), on some days, lasting a duration of wall-clock time. An upgrade may start only while
//! a window is open; one that started runs to completion even past the window's end.
//!
//! Daylight-saving changes, as Vixie cron treats its jobs (a job of the skipped hour runs at the
//! jump, one of the repeated hour runs once): the window of a day is open from the first instant
//! the zone's clock shows its start or later (a start the clocks skip opens it when they jump; a
//! start they pass twice opens it at the first pass) until the first instant the clock shows its
//! end or later — or earlier, when the clocks go back to before its start — so a window is never
//! open while the local clock shows a time outside it, and opens at most once a day. Unlike a cron
//! job, a window lying wholly in the skipped hour does not open that day: at the jump the clock
//! already shows a time past its end. The time zone database is bundled into the binary (jiff's
//! `tzdb-bundle-always`): no host files are read.

use jiff::civil::{Date, DateTime, Time, Weekday as CivilWeekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp, ToSpan};
use smbp_api::v1alpha1::{MaintenanceWindow, Weekday};

/// Whether the window is open at a given time, or else when it opens next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowState {
    /// Open now; closes at this time (`None` for a window that cannot be read, see [`state`]).
    Open(Option<Timestamp>),
    /// Closed; opens at this time.
    OpensAt(Timestamp),
}

/// A field of `spec.upgrade.maintenanceWindow` that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowError {
    /// The field's name within the window (`timeZone`, `start`, `duration`).
    pub field: &'static str,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// A maintenance window, parsed.
#[derive(Debug, Clone)]
pub struct Window {
    days: Vec<CivilWeekday>,
    start: Time,
    length: SignedDuration,
    zone: TimeZone,
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

/// The IANA time zone called `name`, from the bundled database.
fn zone(name: &str) -> Result<TimeZone, WindowError> {
    TimeZone::get(name).map_err(|_| WindowError {
        field: "timeZone",
        message: format!(
            "unknown time zone {name:?}; use an IANA time zone name such as Europe/Berlin, \
             America/New_York or UTC"
        ),
    })
}

impl Window {
    /// Parses `window`; the first field that cannot be used is the error.
    pub fn parse(window: &MaintenanceWindow) -> Result<Window, WindowError> {
        let start = window
            .start
            .split_once(':')
            .and_then(|(h, m)| Some((h.parse::<i8>().ok()?, m.parse::<i8>().ok()?)))
            .and_then(|(h, m)| Time::new(h, m, 0, 0).ok())
            .ok_or_else(|| WindowError {
                field: "start",
                message: format!("{:?} is not a time of day as HH:MM", window.start),
            })?;
        let length = crate::duration::parse(&window.duration)
            .and_then(|d| SignedDuration::try_from(d).ok())
            .filter(|d| d.is_positive())
            .ok_or_else(|| WindowError {
                field: "duration",
                message: format!("{:?} is not a positive duration", window.duration),
            })?;
        Ok(Window {
            days: window.days.iter().copied().map(civil).collect(),
            start,
            length,
            zone: zone(&window.time_zone)?,
        })
    }

    /// Where `now` stands relative to the window.
    pub fn state(&self, now: Timestamp) -> WindowState {
        let today = self.zone.to_datetime(now).date();
        // A window lasts at most a week: the one open now opened at most 8 local days ago.
        let intervals: Vec<(Timestamp, Timestamp)> = (-8..=15)
            .filter_map(|offset: i64| today.checked_add(offset.days()).ok())
            .filter_map(|date| self.interval(date))
            .collect();
        let closes = intervals
            .iter()
            .filter(|(open, close)| *open <= now && now < *close)
            .map(|(_, close)| *close)
            .max();
        if let Some(closes) = closes {
            return WindowState::Open(Some(closes));
        }
        match intervals.iter().map(|(open, _)| *open).find(|o| *o > now) {
            Some(next) => WindowState::OpensAt(next),
            None => WindowState::Open(None),
        }
    }

    /// `at` on the zone's wall clock, for messages: `Sun 03:00 CEST in Europe/Berlin`.
    pub fn local(&self, at: Timestamp) -> String {
        let zoned = at.to_zoned(self.zone.clone());
        let name = self.zone.iana_name().unwrap_or("UTC");
        format!("{} in {name}", zoned.strftime("%a %H:%M %Z"))
    }

    /// The window of local `date`, as `[opens, closes)`; `None` when it does not open that day.
    fn interval(&self, date: Date) -> Option<(Timestamp, Timestamp)> {
        if !self.days.is_empty() && !self.days.contains(&date.weekday()) {
            return None;
        }
        let start = date.to_datetime(self.start);
        let end = start.checked_add(self.length).ok()?;
        let opens = self.first_showing(start)?;
        let mut closes = self.first_showing(end)?;
        // Clocks going back to before the start close the window (it does not reopen).
        if let Some(back) = self
            .zone
            .following(opens)
            .map(|t| t.timestamp())
            .take_while(|t| *t < closes)
            .find(|t| self.zone.to_datetime(*t) < start)
        {
            closes = back;
        }
        (opens < closes).then_some((opens, closes))
    }

    /// The first instant the zone's wall clock shows `wall` or later: `wall` itself, its first
    /// pass when the clocks pass it twice, the jump when the clocks skip it.
    fn first_showing(&self, wall: DateTime) -> Option<Timestamp> {
        let ambiguous = self.zone.to_ambiguous_timestamp(wall);
        let earlier = ambiguous.earlier().ok()?;
        match ambiguous.offset() {
            AmbiguousOffset::Gap { .. } => {
                self.zone.following(earlier).next().map(|t| t.timestamp())
            }
            AmbiguousOffset::Unambiguous { .. } | AmbiguousOffset::Fold { .. } => Some(earlier),
        }
    }
}

/// Where `now` stands relative to `window`. A window that cannot be read (validation refuses
/// one before the upgrade sees it) counts as always open, so it never blocks upgrades forever.
pub fn state(window: &MaintenanceWindow, now: Timestamp) -> WindowState {
    Window::parse(window).map_or(WindowState::Open(None), |w| w.state(now))
}

#[cfg(test)]
mod tests;
