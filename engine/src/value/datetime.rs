//! Dates, timestamps and intervals with PostgreSQL's ranges, arithmetic and
//! output formats (`DateStyle = ISO`, `IntervalStyle = postgres`, session
//! time zone UTC). Input parsing is in `datetime_parse.rs`.
//!
//! The calendar is the proleptic Gregorian one with astronomical year
//! numbering internally (year 0 is 1 BC), as in PostgreSQL.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::expr::EvalError;

/// Microseconds per second.
pub const USECS_PER_SEC: i64 = 1_000_000;
/// Microseconds per minute.
pub const USECS_PER_MINUTE: i64 = 60 * USECS_PER_SEC;
/// Microseconds per hour.
pub const USECS_PER_HOUR: i64 = 60 * USECS_PER_MINUTE;
/// Microseconds per day.
pub const USECS_PER_DAY: i64 = 24 * USECS_PER_HOUR;
/// Days from 1970-01-01 to 2000-01-01 (PostgreSQL's epoch).
pub(crate) const UNIX_EPOCH_DAYS: i64 = 10_957;

/// First valid date: 4713-11-24 BC (Julian day 0), in days since 2000-01-01.
const DATE_MIN: i64 = -2_451_545;
/// First date past the valid range (5874898-01-01).
const DATE_END: i64 = 2_147_483_494 - 2_451_545;
/// First valid timestamp: 4713-11-24 BC 00:00:00.
const TIMESTAMP_MIN: i64 = -211_813_488_000_000_000;
/// First timestamp past the valid range (294277-01-01 00:00:00).
const TIMESTAMP_END: i64 = 9_223_371_331_200_000_000;

/// A `date`: days since 2000-01-01 (PostgreSQL's epoch). `i32::MIN` and
/// `i32::MAX` are `-infinity` and `infinity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Date(pub i32);

/// A `timestamp` / `timestamptz`: microseconds since 2000-01-01 00:00:00
/// (UTC for `timestamptz`). `i64::MIN` / `i64::MAX` are ∓infinity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub i64);

/// An `interval`: months, days and microseconds kept apart, as PostgreSQL
/// keeps them. `Ord`/`Eq`/`Hash` are representation-exact (`1 mon` and
/// `30 days` differ); SQL comparison is [`Interval::cmp_span`], which
/// counts a month as 30 days and a day as 24 hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Interval {
    /// Months (years are 12 months).
    pub months: i32,
    /// Days.
    pub days: i32,
    /// Microseconds.
    pub micros: i64,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (astronomical year).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date (astronomical year, month, day) of a day
/// count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// True for a Gregorian leap year (astronomical numbering).
pub(crate) fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// Number of days in a month.
pub(crate) fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if is_leap(y) {
                29
            } else {
                28
            }
        }
    }
}

fn date_out_of_range() -> EvalError {
    EvalError::Other("date out of range".into())
}

fn timestamp_out_of_range() -> EvalError {
    EvalError::Other("timestamp out of range".into())
}

fn interval_out_of_range() -> EvalError {
    EvalError::Other("interval out of range".into())
}

/// Writes a year as PostgreSQL does: at least four digits; years before
/// 1 AD are written as `(1 - year)` with a ` BC` suffix by the caller.
fn write_ymd(out: &mut String, y: i64, m: u32, d: u32) {
    use std::fmt::Write;
    let year = if y <= 0 { 1 - y } else { y };
    let _ = write!(out, "{year:04}-{m:02}-{d:02}");
}

/// Writes `HH:MM:SS[.ffffff]` with trailing fractional zeros dropped.
fn write_time(out: &mut String, micros_of_day: i64) {
    use std::fmt::Write;
    let h = micros_of_day / USECS_PER_HOUR;
    let m = micros_of_day / USECS_PER_MINUTE % 60;
    let s = micros_of_day / USECS_PER_SEC % 60;
    let f = micros_of_day % USECS_PER_SEC;
    let _ = write!(out, "{h:02}:{m:02}:{s:02}");
    write_fraction(out, f);
}

/// Writes `.ffffff` without trailing zeros (nothing for 0).
fn write_fraction(out: &mut String, micros: i64) {
    if micros != 0 {
        let frac = format!("{micros:06}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
}

impl Date {
    /// `infinity`.
    pub const INFINITY: Date = Date(i32::MAX);
    /// `-infinity`.
    pub const NEG_INFINITY: Date = Date(i32::MIN);

    /// The date of a proleptic Gregorian year (astronomical: 0 is 1 BC),
    /// month and day, if valid and within PostgreSQL's range.
    pub fn from_ymd(year: i64, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        if !(-5_000..=6_000_000).contains(&year) {
            return None;
        }
        Date::from_days(days_from_civil(year, month, day) - UNIX_EPOCH_DAYS)
    }

    /// The date `days` after 2000-01-01, if within range.
    pub fn from_days(days: i64) -> Option<Date> {
        (DATE_MIN..DATE_END).contains(&days).then_some(Date(days as i32))
    }

    /// False for ±infinity.
    pub fn is_finite(self) -> bool {
        self.0 != i32::MIN && self.0 != i32::MAX
    }

    /// (year, month, day), astronomical year numbering; `None` if infinite.
    pub fn ymd(self) -> Option<(i64, u32, u32)> {
        self.is_finite().then(|| civil_from_days(self.0 as i64 + UNIX_EPOCH_DAYS))
    }

    /// `date + integer` (infinite dates stay infinite).
    pub fn add_days(self, days: i64) -> Result<Date, EvalError> {
        if !self.is_finite() {
            return Ok(self);
        }
        Date::from_days(self.0 as i64 + days).ok_or_else(date_out_of_range)
    }

    /// `date - date` in days.
    pub fn days_between(self, other: Date) -> Result<i32, EvalError> {
        if !self.is_finite() || !other.is_finite() {
            return Err(EvalError::Other("cannot subtract infinite dates".into()));
        }
        Ok(self.0 - other.0)
    }

    /// Midnight of this date as a timestamp.
    pub fn to_timestamp(self) -> Result<Timestamp, EvalError> {
        match self.0 {
            i32::MIN => Ok(Timestamp::NEG_INFINITY),
            i32::MAX => Ok(Timestamp::INFINITY),
            d => match (d as i64).checked_mul(USECS_PER_DAY) {
                Some(t) if (TIMESTAMP_MIN..TIMESTAMP_END).contains(&t) => Ok(Timestamp(t)),
                _ => Err(EvalError::Other("date out of range for timestamp".into())),
            },
        }
    }
}

/// `YYYY-MM-DD`, `YYYY-MM-DD BC`, `infinity`, `-infinity`.
impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ymd() {
            None => f.write_str(if self.0 == i32::MIN { "-infinity" } else { "infinity" }),
            Some((y, m, d)) => {
                let mut s = String::with_capacity(14);
                write_ymd(&mut s, y, m, d);
                if y <= 0 {
                    s.push_str(" BC");
                }
                f.write_str(&s)
            }
        }
    }
}

impl Timestamp {
    /// `infinity`.
    pub const INFINITY: Timestamp = Timestamp(i64::MAX);
    /// `-infinity`.
    pub const NEG_INFINITY: Timestamp = Timestamp(i64::MIN);

    /// The timestamp `micros` after 2000-01-01 00:00:00, if within range.
    pub fn from_micros(micros: i64) -> Option<Timestamp> {
        (TIMESTAMP_MIN..TIMESTAMP_END).contains(&micros).then_some(Timestamp(micros))
    }

    /// False for ±infinity.
    pub fn is_finite(self) -> bool {
        self.0 != i64::MIN && self.0 != i64::MAX
    }

    /// The date part (rounding toward -infinity).
    pub fn to_date(self) -> Result<Date, EvalError> {
        match self.0 {
            i64::MIN => Ok(Date::NEG_INFINITY),
            i64::MAX => Ok(Date::INFINITY),
            t => Date::from_days(t.div_euclid(USECS_PER_DAY)).ok_or_else(date_out_of_range),
        }
    }

    /// `timestamp + interval`: months first (clamping the day to the
    /// month's length), then days, then microseconds, as PostgreSQL does.
    pub fn add_interval(self, iv: &Interval) -> Result<Timestamp, EvalError> {
        if !self.is_finite() {
            return Ok(self);
        }
        let mut t = self.0;
        if iv.months != 0 || iv.days != 0 {
            let day = t.div_euclid(USECS_PER_DAY);
            let tod = t.rem_euclid(USECS_PER_DAY);
            let mut days = day;
            if iv.months != 0 {
                let (y, m, d) = civil_from_days(day + UNIX_EPOCH_DAYS);
                let total = y * 12 + (m as i64 - 1) + iv.months as i64;
                let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
                let nd = d.min(days_in_month(ny, nm));
                days = days_from_civil(ny, nm, nd) - UNIX_EPOCH_DAYS;
            }
            days += iv.days as i64;
            t = days.checked_mul(USECS_PER_DAY).and_then(|v| v.checked_add(tod)).ok_or_else(timestamp_out_of_range)?;
            if !(TIMESTAMP_MIN..TIMESTAMP_END).contains(&t) {
                return Err(timestamp_out_of_range());
            }
        }
        let t = t.checked_add(iv.micros).ok_or_else(timestamp_out_of_range)?;
        Timestamp::from_micros(t).ok_or_else(timestamp_out_of_range)
    }

    /// `timestamp - interval`.
    pub fn sub_interval(self, iv: &Interval) -> Result<Timestamp, EvalError> {
        self.add_interval(&iv.neg()?)
    }

    /// `timestamp - timestamp`: an interval of days and time (no months),
    /// with hours beyond a day moved into days (`justify_hours`).
    pub fn diff(self, other: Timestamp) -> Result<Interval, EvalError> {
        if !self.is_finite() || !other.is_finite() {
            return Err(EvalError::Other("cannot subtract infinite timestamps".into()));
        }
        let micros = self.0.checked_sub(other.0).ok_or_else(interval_out_of_range)?;
        Ok(Interval { months: 0, days: 0, micros }.justify_hours())
    }

    fn write(self, out: &mut String) {
        let day = self.0.div_euclid(USECS_PER_DAY);
        let tod = self.0.rem_euclid(USECS_PER_DAY);
        let (y, m, d) = civil_from_days(day + UNIX_EPOCH_DAYS);
        write_ymd(out, y, m, d);
        out.push(' ');
        write_time(out, tod);
    }

    /// The `timestamptz` text: like the `timestamp` text with `+00` (UTC)
    /// before any ` BC`.
    pub fn display_tz(self) -> String {
        if !self.is_finite() {
            return self.to_string();
        }
        let mut s = String::with_capacity(32);
        self.write(&mut s);
        s.push_str("+00");
        if self.0 < -UNIX_EPOCH_DAYS * USECS_PER_DAY - 719_162 * USECS_PER_DAY {
            s.push_str(" BC");
        }
        s
    }
}

/// The `timestamp` text: `YYYY-MM-DD HH:MM:SS[.ffffff][ BC]`.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            i64::MIN => f.write_str("-infinity"),
            i64::MAX => f.write_str("infinity"),
            _ => {
                let mut s = String::with_capacity(32);
                self.write(&mut s);
                // Before 0001-01-01 00:00:00 (day -719162 from 1970-01-01).
                if self.0 < -UNIX_EPOCH_DAYS * USECS_PER_DAY - 719_162 * USECS_PER_DAY {
                    s.push_str(" BC");
                }
                f.write_str(&s)
            }
        }
    }
}

impl Interval {
    /// The zero interval.
    pub const ZERO: Interval = Interval { months: 0, days: 0, micros: 0 };

    /// The span PostgreSQL compares and hashes: a month is 30 days, a day
    /// 24 hours.
    pub fn span(&self) -> i128 {
        (self.months as i128 * 30 + self.days as i128) * USECS_PER_DAY as i128 + self.micros as i128
    }

    /// PostgreSQL's interval comparison (`1 mon` = `30 days`, `1 day` =
    /// `24 hours`).
    pub fn cmp_span(&self, other: &Interval) -> Ordering {
        self.span().cmp(&other.span())
    }

    /// One representation per span, so intervals SQL deems equal are equal:
    /// whole 30-day months, then whole days, then microseconds, all with the
    /// span's sign. Where the months (or then the days) exceed their
    /// field's range, the field holds its limit and the rest moves to the
    /// next field, which then always fits.
    pub fn normalized(&self) -> Interval {
        let span = self.span();
        let day = USECS_PER_DAY as i128;
        let limit = |v: i128| v.clamp(i128::from(i32::MIN), i128::from(i32::MAX));
        let total_days = span / day;
        let months = limit(total_days / 30);
        let days = limit(total_days - months * 30);
        let micros = span - (months * 30 + days) * day;
        Interval { months: months as i32, days: days as i32, micros: micros as i64 }
    }

    /// `interval + interval`.
    pub fn add(&self, other: &Interval) -> Result<Interval, EvalError> {
        Ok(Interval {
            months: self.months.checked_add(other.months).ok_or_else(interval_out_of_range)?,
            days: self.days.checked_add(other.days).ok_or_else(interval_out_of_range)?,
            micros: self.micros.checked_add(other.micros).ok_or_else(interval_out_of_range)?,
        })
    }

    /// `interval - interval`.
    pub fn sub(&self, other: &Interval) -> Result<Interval, EvalError> {
        Ok(Interval {
            months: self.months.checked_sub(other.months).ok_or_else(interval_out_of_range)?,
            days: self.days.checked_sub(other.days).ok_or_else(interval_out_of_range)?,
            micros: self.micros.checked_sub(other.micros).ok_or_else(interval_out_of_range)?,
        })
    }

    /// `-interval`.
    pub fn neg(&self) -> Result<Interval, EvalError> {
        Interval::ZERO.sub(self)
    }

    /// PostgreSQL's `justify_hours`: whole days out of the microseconds,
    /// with days and time given the same sign.
    pub fn justify_hours(&self) -> Interval {
        let mut days = self.days as i64 + self.micros / USECS_PER_DAY;
        let mut micros = self.micros % USECS_PER_DAY;
        if days > 0 && micros < 0 {
            micros += USECS_PER_DAY;
            days -= 1;
        } else if days < 0 && micros > 0 {
            micros -= USECS_PER_DAY;
            days += 1;
        }
        Interval { months: self.months, days: days.clamp(i32::MIN as i64, i32::MAX as i64) as i32, micros }
    }

    /// `interval * float8` with PostgreSQL's cascade of fractional months
    /// into days and fractional days into time.
    pub fn mul_f64(&self, factor: f64) -> Result<Interval, EvalError> {
        self.scale_by(|x| x * factor)
    }

    /// `interval / float8` (division by zero is an error).
    pub fn div_f64(&self, factor: f64) -> Result<Interval, EvalError> {
        if factor == 0.0 {
            return Err(EvalError::DivisionByZero);
        }
        self.scale_by(|x| x / factor)
    }

    fn scale_by(&self, op: impl Fn(f64) -> f64) -> Result<Interval, EvalError> {
        // TSROUND: round to microsecond precision.
        let tsround = |x: f64| (x * 1e6).round_ties_even() / 1e6;
        let fits_i32 = |x: f64| !x.is_nan() && x >= i32::MIN as f64 && x < -(i32::MIN as f64);
        let month_f = op(self.months as f64);
        let day_f = op(self.days as f64);
        if !fits_i32(month_f) || !fits_i32(day_f) {
            return Err(interval_out_of_range());
        }
        let months = month_f as i32;
        let mut days = day_f as i32;
        let month_remainder_days = tsround((month_f - months as f64) * 30.0);
        let mut sec_remainder =
            tsround((day_f - days as f64 + month_remainder_days - (month_remainder_days as i32) as f64) * 86_400.0);
        if sec_remainder.abs() >= 86_400.0 {
            let whole = (sec_remainder / 86_400.0) as i32;
            days = days.checked_add(whole).ok_or_else(interval_out_of_range)?;
            sec_remainder -= whole as f64 * 86_400.0;
        }
        days = days.checked_add(month_remainder_days as i32).ok_or_else(interval_out_of_range)?;
        let micros_f = (op(self.micros as f64) + sec_remainder * 1e6).round_ties_even();
        if micros_f.is_nan() || micros_f < i64::MIN as f64 || micros_f >= -(i64::MIN as f64) {
            return Err(interval_out_of_range());
        }
        Ok(Interval { months, days, micros: micros_f as i64 })
    }
}

/// `IntervalStyle = postgres`: `1 year 2 mons 3 days 04:05:06.5`,
/// `-1 days +02:00:00`, `00:00:00`.
impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use std::fmt::Write;
        let mut out = String::with_capacity(32);
        let mut is_zero = true;
        let mut is_before = false;
        let years = self.months / 12;
        let mons = self.months % 12;
        for (value, unit) in [(years as i64, "year"), (mons as i64, "mon"), (self.days as i64, "day")] {
            if value == 0 {
                continue;
            }
            let _ = write!(
                out,
                "{}{}{} {}{}",
                if is_zero { "" } else { " " },
                if is_before && value > 0 { "+" } else { "" },
                value,
                unit,
                if value != 1 { "s" } else { "" }
            );
            is_before = value < 0;
            is_zero = false;
        }
        let t = self.micros;
        if is_zero || t != 0 {
            let minus = t < 0;
            let abs = t.unsigned_abs();
            let h = abs / USECS_PER_HOUR as u64;
            let m = abs / USECS_PER_MINUTE as u64 % 60;
            let s = abs / USECS_PER_SEC as u64 % 60;
            let frac = abs % USECS_PER_SEC as u64;
            let _ = write!(
                out,
                "{}{}{h:02}:{m:02}:{s:02}",
                if is_zero { "" } else { " " },
                if minus { "-" } else if is_before { "+" } else { "" },
            );
            write_fraction(&mut out, frac as i64);
        }
        f.write_str(&out)
    }
}
