//! PostgreSQL input formats for `date`, `timestamp`, `timestamptz` and
//! `interval`.
//!
//! Dates and timestamps: ISO 8601 (`2024-02-29`, `20240229`,
//! `2024-02-29 13:45:00.123456`, `2024-02-29T13:45:00Z`), time zone offsets
//! (`+02`, `-0130`, `+05:30`, `Z`, `UTC`, `GMT`), `BC`/`AD`, and the
//! special values `epoch`, `infinity`, `-infinity`. The volatile inputs
//! `now`, `today`, `tomorrow` and `yesterday` are rejected: a maintained
//! view cannot depend on the current time.
//!
//! Intervals: PostgreSQL's verbose format (`1 year 2 mons 3 days
//! 04:05:06.5`, `@ 1 day ago`, fractional units such as `1.5 days`, unit
//! abbreviations) and ISO 8601 durations (`P1Y2M3DT4H5M6S`).

use super::datetime::{
    days_from_civil, days_in_month, Date, Interval, Timestamp, UNIX_EPOCH_DAYS, USECS_PER_DAY, USECS_PER_HOUR,
    USECS_PER_MINUTE, USECS_PER_SEC,
};
use crate::expr::EvalError;

/// What a date/time string denotes once parsed.
enum Parsed {
    /// A finite local date and time, plus an explicit UTC offset in seconds.
    Finite { year: i64, month: u32, day: u32, micros_of_day: i64, offset_secs: Option<i64> },
    Infinity,
    NegInfinity,
    Epoch,
}

/// Which kind of failure, so each caller can word PostgreSQL's message.
enum ParseFail {
    Syntax,
    FieldRange,
}

fn parse_digits(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `+HH`, `+HHMM`, `+HH:MM`, `+HH:MM:SS` (sign included) → seconds east.
fn parse_offset(s: &str) -> Result<i64, ParseFail> {
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => return Err(ParseFail::Syntax),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (h, m, sec) = match parts.as_slice() {
        [hm] if hm.len() <= 2 => (parse_digits(hm), Some(0), Some(0)),
        [hm] if hm.len() == 4 => (parse_digits(&hm[..2]), parse_digits(&hm[2..]), Some(0)),
        [hm] if hm.len() == 6 => (parse_digits(&hm[..2]), parse_digits(&hm[2..4]), parse_digits(&hm[4..])),
        [h, m] => (parse_digits(h), parse_digits(m), Some(0)),
        [h, m, s] => (parse_digits(h), parse_digits(m), parse_digits(s)),
        _ => (None, None, None),
    };
    let (Some(h), Some(m), Some(sec)) = (h, m, sec) else { return Err(ParseFail::Syntax) };
    if h > 15 + 3 || m >= 60 || sec >= 60 {
        return Err(ParseFail::FieldRange);
    }
    Ok(sign * (h * 3600 + m * 60 + sec))
}

/// `H:M[:S[.frac]]` → microseconds of the day.
fn parse_time(s: &str) -> Result<i64, ParseFail> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return Err(ParseFail::Syntax);
    }
    let h = parse_digits(parts[0]).filter(|_| parts[0].len() <= 2).ok_or(ParseFail::Syntax)?;
    let m = parse_digits(parts[1]).filter(|_| parts[1].len() <= 2).ok_or(ParseFail::Syntax)?;
    let (sec, frac_micros) = match parts.get(2) {
        None => (0, 0),
        Some(sec) => {
            let (whole, frac) = match sec.split_once('.') {
                Some((w, f)) => (w, Some(f)),
                None => (*sec, None),
            };
            let whole = parse_digits(whole).filter(|_| whole.len() <= 2).ok_or(ParseFail::Syntax)?;
            let frac = match frac {
                None => 0,
                Some("") => 0,
                Some(f) if f.bytes().all(|b| b.is_ascii_digit()) => {
                    let v: f64 = format!("0.{f}").parse().map_err(|_| ParseFail::Syntax)?;
                    (v * 1e6).round_ties_even() as i64
                }
                Some(_) => return Err(ParseFail::Syntax),
            };
            (whole, frac)
        }
    };
    if h > 24 || m > 59 || sec > 60 || (h == 24 && (m > 0 || sec > 0 || frac_micros > 0)) {
        return Err(ParseFail::FieldRange);
    }
    Ok(h * USECS_PER_HOUR + m * USECS_PER_MINUTE + sec * USECS_PER_SEC + frac_micros)
}

/// `Y-M-D` or `YYYYMMDD` → (year as written, month, day).
fn parse_date_part(s: &str) -> Result<(i64, u32, u32), ParseFail> {
    let parts: Vec<&str> = s.split('-').collect();
    let (y, m, d) = match parts.as_slice() {
        [ymd] if ymd.len() == 8 => (parse_digits(&ymd[..4]), parse_digits(&ymd[4..6]), parse_digits(&ymd[6..])),
        [y, m, d] if y.len() >= 3 && m.len() <= 2 && d.len() <= 2 => (parse_digits(y), parse_digits(m), parse_digits(d)),
        _ => (None, None, None),
    };
    let (Some(y), Some(m), Some(d)) = (y, m, d) else { return Err(ParseFail::Syntax) };
    Ok((y, m as u32, d as u32))
}

/// Parses the text of a date or timestamp.
fn parse_datetime(input: &str) -> Result<Parsed, ParseFail> {
    let s = input.trim_matches(|c: char| c.is_ascii_whitespace()).to_ascii_lowercase();
    match s.as_str() {
        "infinity" | "+infinity" => return Ok(Parsed::Infinity),
        "-infinity" => return Ok(Parsed::NegInfinity),
        "epoch" => return Ok(Parsed::Epoch),
        _ => {}
    }
    // The date runs up to whitespace or a 'T' that starts the time.
    let date_end = s.find(|c: char| c.is_ascii_whitespace() || c == 't').unwrap_or(s.len());
    let (year, month, day) = parse_date_part(&s[..date_end])?;
    let mut rest = &s[date_end..];
    let mut time: Option<i64> = None;
    let mut offset: Option<i64> = None;
    let mut era_bc: Option<bool> = None;
    if let Some(r) = rest.strip_prefix('t') {
        // 'T' must be followed directly by a time.
        if !r.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(ParseFail::Syntax);
        }
        rest = r;
    }
    for token in rest.split_ascii_whitespace() {
        let starts_digit = token.starts_with(|c: char| c.is_ascii_digit());
        if starts_digit && time.is_none() && token.contains(':') {
            let split = token.find(['+', '-', 'z']).unwrap_or(token.len());
            time = Some(parse_time(&token[..split])?);
            let tz = &token[split..];
            if tz == "z" {
                offset = Some(0);
            } else if !tz.is_empty() {
                offset = Some(parse_offset(tz)?);
            }
        } else if (token.starts_with('+') || token.starts_with('-')) && offset.is_none() {
            offset = Some(parse_offset(token)?);
        } else if matches!(token, "z" | "utc" | "gmt" | "zulu" | "ut") && offset.is_none() {
            offset = Some(0);
        } else if matches!(token, "bc" | "ad") && era_bc.is_none() {
            era_bc = Some(token == "bc");
        } else {
            return Err(ParseFail::Syntax);
        }
    }
    if year == 0 {
        return Err(ParseFail::FieldRange);
    }
    let year = if era_bc == Some(true) { 1 - year } else { year };
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(ParseFail::FieldRange);
    }
    Ok(Parsed::Finite { year, month, day, micros_of_day: time.unwrap_or(0), offset_secs: offset })
}

/// Days since 2000-01-01 of a validated calendar date, if in a range the
/// arithmetic below can handle.
fn days_of(year: i64, month: u32, day: u32) -> Option<i64> {
    (-10_000..=10_000_000).contains(&year).then(|| days_from_civil(year, month, day) - UNIX_EPOCH_DAYS)
}

impl Date {
    /// Parses PostgreSQL `date` input (a time part, if present, is
    /// ignored).
    pub fn parse(input: &str) -> Result<Date, EvalError> {
        let field = || EvalError::Other(format!("date/time field value out of range: \"{input}\""));
        match parse_datetime(input) {
            Ok(Parsed::Infinity) => Ok(Date::INFINITY),
            Ok(Parsed::NegInfinity) => Ok(Date::NEG_INFINITY),
            Ok(Parsed::Epoch) => Ok(Date(-(UNIX_EPOCH_DAYS as i32))),
            Ok(Parsed::Finite { year, month, day, .. }) => days_of(year, month, day)
                .and_then(Date::from_days)
                .ok_or_else(|| EvalError::Other(format!("date out of range: \"{input}\""))),
            Err(ParseFail::FieldRange) => Err(field()),
            Err(ParseFail::Syntax) => Err(EvalError::invalid_input("date", input)),
        }
    }
}

impl Timestamp {
    /// Parses PostgreSQL `timestamp` input (`with_tz` false: an explicit
    /// offset is ignored, as PostgreSQL ignores it) or `timestamptz` input
    /// (`with_tz` true: converted to UTC; no offset means UTC, the session
    /// time zone).
    pub fn parse(input: &str, with_tz: bool) -> Result<Timestamp, EvalError> {
        let ty = if with_tz { "timestamp with time zone" } else { "timestamp" };
        let out_of_range = || EvalError::Other(format!("timestamp out of range: \"{input}\""));
        match parse_datetime(input) {
            Ok(Parsed::Infinity) => Ok(Timestamp::INFINITY),
            Ok(Parsed::NegInfinity) => Ok(Timestamp::NEG_INFINITY),
            Ok(Parsed::Epoch) => Ok(Timestamp(-UNIX_EPOCH_DAYS * USECS_PER_DAY)),
            Ok(Parsed::Finite { year, month, day, micros_of_day, offset_secs }) => {
                let days = days_of(year, month, day).ok_or_else(out_of_range)?;
                let mut t = days.checked_mul(USECS_PER_DAY).and_then(|v| v.checked_add(micros_of_day)).ok_or_else(out_of_range)?;
                if with_tz {
                    if let Some(off) = offset_secs {
                        t = t.checked_sub(off * USECS_PER_SEC).ok_or_else(out_of_range)?;
                    }
                }
                Timestamp::from_micros(t).ok_or_else(out_of_range)
            }
            Err(ParseFail::FieldRange) => {
                Err(EvalError::Other(format!("date/time field value out of range: \"{input}\"")))
            }
            Err(ParseFail::Syntax) => Err(EvalError::invalid_input(ty, input)),
        }
    }
}

/// Interval units, in the order of their conflict-mask bits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Micro,
    Milli,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
    Decade,
    Century,
    Millennium,
}

fn unit_of(word: &str) -> Option<Unit> {
    Some(match word {
        "microsecond" | "microseconds" | "usec" | "usecs" | "us" | "useconds" | "usecond" => Unit::Micro,
        "millisecond" | "milliseconds" | "msec" | "msecs" | "ms" | "mseconds" | "msecond" => Unit::Milli,
        "second" | "seconds" | "sec" | "secs" | "s" => Unit::Second,
        "minute" | "minutes" | "min" | "mins" | "m" => Unit::Minute,
        "hour" | "hours" | "hr" | "hrs" | "h" => Unit::Hour,
        "day" | "days" | "d" => Unit::Day,
        "week" | "weeks" | "w" => Unit::Week,
        "month" | "months" | "mon" | "mons" => Unit::Month,
        "year" | "years" | "yr" | "yrs" | "y" => Unit::Year,
        "decade" | "decades" | "dec" | "decs" => Unit::Decade,
        "century" | "centuries" | "cent" | "c" => Unit::Century,
        "millennium" | "millennia" | "millenniums" | "mil" | "mils" => Unit::Millennium,
        _ => return None,
    })
}

/// An interval being built from fields, with fractional carries as
/// PostgreSQL applies them.
#[derive(Default)]
struct IntervalBuilder {
    months: i64,
    days: i64,
    micros: i64,
    mask: u32,
}

enum IvFail {
    Syntax,
    Field,
}

impl IntervalBuilder {
    fn claim(&mut self, bits: u32) -> Result<(), IvFail> {
        if self.mask & bits != 0 {
            return Err(IvFail::Syntax);
        }
        self.mask |= bits;
        Ok(())
    }

    /// Adds `value` (with fraction) of `unit`.
    fn add(&mut self, value: f64, unit: Unit) -> Result<(), IvFail> {
        self.claim(1 << unit as u32)?;
        if !value.is_finite() || value.abs() > 1e18 {
            return Err(IvFail::Field);
        }
        let whole = value.trunc();
        let frac = value - whole;
        let iw = whole as i64;
        let add_micros = |b: &mut IntervalBuilder, v: f64| -> Result<(), IvFail> {
            let m = v.round_ties_even();
            if m.abs() > 9.2e18 {
                return Err(IvFail::Field);
            }
            b.micros = b.micros.checked_add(m as i64).ok_or(IvFail::Field)?;
            Ok(())
        };
        let frac_days = |b: &mut IntervalBuilder, days: f64| -> Result<(), IvFail> {
            let whole = days.trunc();
            b.days += whole as i64;
            add_micros(b, (days - whole) * USECS_PER_DAY as f64)
        };
        let years = |b: &mut IntervalBuilder, per: i64| {
            b.months += iw * 12 * per + (frac * 12.0 * per as f64).round_ties_even() as i64;
        };
        match unit {
            Unit::Micro => add_micros(self, value)?,
            Unit::Milli => add_micros(self, value * 1e3)?,
            Unit::Second => add_micros(self, value * 1e6)?,
            Unit::Minute => {
                add_micros(self, (iw * USECS_PER_MINUTE) as f64)?;
                add_micros(self, frac * USECS_PER_MINUTE as f64)?
            }
            Unit::Hour => {
                self.micros = self.micros.checked_add(iw.checked_mul(USECS_PER_HOUR).ok_or(IvFail::Field)?).ok_or(IvFail::Field)?;
                add_micros(self, frac * USECS_PER_HOUR as f64)?
            }
            Unit::Day => {
                self.days += iw;
                add_micros(self, frac * USECS_PER_DAY as f64)?
            }
            Unit::Week => {
                self.days += iw * 7;
                frac_days(self, frac * 7.0)?
            }
            Unit::Month => {
                self.months += iw;
                frac_days(self, frac * 30.0)?
            }
            Unit::Year => years(self, 1),
            Unit::Decade => years(self, 10),
            Unit::Century => years(self, 100),
            Unit::Millennium => years(self, 1000),
        }
        Ok(())
    }

    fn finish(self, negate: bool) -> Result<Interval, IvFail> {
        let sign = if negate { -1 } else { 1 };
        let months = i32::try_from(self.months * sign).map_err(|_| IvFail::Field)?;
        let days = i32::try_from(self.days * sign).map_err(|_| IvFail::Field)?;
        let micros = self.micros.checked_mul(sign).ok_or(IvFail::Field)?;
        Ok(Interval { months, days, micros })
    }
}

/// A signed decimal number (`-1.5`, `+2`, `.5`).
fn parse_number(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit() || b == b'.') || body.bytes().filter(|b| *b == b'.').count() > 1 || body == "." {
        return None;
    }
    s.parse().ok()
}

/// A time field `[+-]H:M[:S[.f]]` in microseconds (hours unbounded).
fn parse_interval_time(s: &str) -> Result<i64, IvFail> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let parts: Vec<&str> = body.split(':').collect();
    if parts.len() < 2 || parts.len() > 3 {
        return Err(IvFail::Syntax);
    }
    let h = parse_digits(parts[0]).ok_or(IvFail::Syntax)?;
    let m = parse_digits(parts[1]).ok_or(IvFail::Syntax)?;
    let sec = match parts.get(2) {
        None => 0.0,
        Some(s) => {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return Err(IvFail::Syntax);
            }
            s.parse::<f64>().map_err(|_| IvFail::Syntax)?
        }
    };
    if m > 59 || sec >= 60.0 {
        return Err(IvFail::Field);
    }
    let total = h
        .checked_mul(USECS_PER_HOUR)
        .and_then(|v| v.checked_add(m * USECS_PER_MINUTE))
        .and_then(|v| v.checked_add((sec * 1e6).round_ties_even() as i64))
        .ok_or(IvFail::Field)?;
    Ok(if neg { -total } else { total })
}

/// ISO 8601 duration `P[nY][nM][nW][nD][T[nH][nM][nS]]`.
fn parse_iso_interval(s: &str) -> Result<Interval, IvFail> {
    let mut b = IntervalBuilder::default();
    let mut in_time = false;
    let mut num = String::new();
    let mut any = false;
    for c in s[1..].chars() {
        match c {
            't' if !in_time && num.is_empty() => in_time = true,
            '0'..='9' | '.' | '-' | '+' => num.push(c),
            _ => {
                let v = parse_number(&num).ok_or(IvFail::Syntax)?;
                num.clear();
                let unit = match (in_time, c) {
                    (false, 'y') => Unit::Year,
                    (false, 'm') => Unit::Month,
                    (false, 'w') => Unit::Week,
                    (false, 'd') => Unit::Day,
                    (true, 'h') => Unit::Hour,
                    (true, 'm') => Unit::Minute,
                    (true, 's') => Unit::Second,
                    _ => return Err(IvFail::Syntax),
                };
                b.add(v, unit)?;
                any = true;
            }
        }
    }
    if !num.is_empty() || !any {
        return Err(IvFail::Syntax);
    }
    b.finish(false)
}

impl Interval {
    /// Parses PostgreSQL `interval` input.
    pub fn parse(input: &str) -> Result<Interval, EvalError> {
        let s = input.trim_matches(|c: char| c.is_ascii_whitespace()).to_ascii_lowercase();
        let r = if s.starts_with('p') { parse_iso_interval(&s) } else { parse_verbose_interval(&s) };
        r.map_err(|e| match e {
            IvFail::Syntax => EvalError::invalid_input("interval", input),
            IvFail::Field => EvalError::Other(format!("interval field value out of range: \"{input}\"")),
        })
    }
}

fn parse_verbose_interval(s: &str) -> Result<Interval, IvFail> {
    let mut tokens: Vec<&str> = s.split_ascii_whitespace().collect();
    if tokens.first() == Some(&"@") {
        tokens.remove(0);
    } else if let Some(t) = tokens.first_mut() {
        if let Some(rest) = t.strip_prefix('@') {
            *t = rest;
        }
    }
    let mut negate = false;
    if tokens.last() == Some(&"ago") {
        negate = true;
        tokens.pop();
    }
    if tokens.is_empty() {
        return Err(IvFail::Syntax);
    }
    let mut b = IntervalBuilder::default();
    let mut i = 0;
    while i < tokens.len() {
        let tok = tokens[i];
        i += 1;
        if tok.contains(':') {
            b.claim((1 << Unit::Hour as u32) | (1 << Unit::Minute as u32) | (1 << Unit::Second as u32))?;
            let t = parse_interval_time(tok)?;
            b.micros = b.micros.checked_add(t).ok_or(IvFail::Field)?;
            continue;
        }
        // A number, optionally with its unit attached ("1d", "5days").
        let split = tok
            .char_indices()
            .find(|(idx, c)| c.is_ascii_alphabetic() && *idx > 0)
            .map_or(tok.len(), |(idx, _)| idx);
        let (num, attached) = tok.split_at(split);
        let value = parse_number(num).ok_or(IvFail::Syntax)?;
        let unit_word = if !attached.is_empty() {
            Some(attached)
        } else if i < tokens.len() && tokens[i].starts_with(|c: char| c.is_ascii_alphabetic()) {
            i += 1;
            Some(tokens[i - 1])
        } else {
            None
        };
        let unit = match unit_word {
            Some(w) => unit_of(w).ok_or(IvFail::Syntax)?,
            None => Unit::Second,
        };
        b.add(value, unit)?;
    }
    b.finish(negate)
}
