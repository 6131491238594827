//! `EXTRACT`, `date_part`, `date_trunc` and `age` with PostgreSQL 15's
//! units, result types and scales, infinity handling and errors (session
//! time zone UTC, so a `timestamptz` behaves as the same `timestamp` plus a
//! zero offset).

use super::call::{bad_arity, text_arg, ScalarFunc};
use super::EvalError;
use crate::value::{
    Date, Interval, Numeric, Timestamp, Value, F64, USECS_PER_DAY, USECS_PER_HOUR, USECS_PER_MINUTE, USECS_PER_SEC,
};

/// Julian day number of 2000-01-01 (PostgreSQL's `POSTGRES_EPOCH_JDATE`).
pub(crate) const POSTGRES_EPOCH_JDATE: i64 = 2_451_545;
/// Days from 1970-01-01 to 2000-01-01.
const UNIX_TO_PG_DAYS: i64 = 10_957;

/// A date/time unit of `EXTRACT`, `date_part` and `date_trunc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unit {
    Microsecond,
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
    Decade,
    Century,
    Millennium,
    Julian,
    Dow,
    IsoDow,
    Doy,
    IsoYear,
    Timezone,
    TimezoneHour,
    TimezoneMinute,
}

/// How PostgreSQL's date/time token tables classify a unit name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    Unit(Unit),
    Epoch,
    /// A reserved word other than `epoch` (`now`, `infinity`, ...).
    Reserved,
    Unknown,
}

/// PostgreSQL's `deltatktbl` (interval units), compared on at most 10
/// characters as `DecodeUnits` does.
const UNITS: &[(&str, Unit)] = &[
    ("c", Unit::Century),
    ("cent", Unit::Century),
    ("centuries", Unit::Century),
    ("century", Unit::Century),
    ("d", Unit::Day),
    ("day", Unit::Day),
    ("days", Unit::Day),
    ("dec", Unit::Decade),
    ("decade", Unit::Decade),
    ("decades", Unit::Decade),
    ("decs", Unit::Decade),
    ("h", Unit::Hour),
    ("hour", Unit::Hour),
    ("hours", Unit::Hour),
    ("hr", Unit::Hour),
    ("hrs", Unit::Hour),
    ("m", Unit::Minute),
    ("microsecon", Unit::Microsecond),
    ("mil", Unit::Millennium),
    ("millennia", Unit::Millennium),
    ("millennium", Unit::Millennium),
    ("millisecon", Unit::Millisecond),
    ("mils", Unit::Millennium),
    ("min", Unit::Minute),
    ("mins", Unit::Minute),
    ("minute", Unit::Minute),
    ("minutes", Unit::Minute),
    ("mon", Unit::Month),
    ("mons", Unit::Month),
    ("month", Unit::Month),
    ("months", Unit::Month),
    ("ms", Unit::Millisecond),
    ("msec", Unit::Millisecond),
    ("msecond", Unit::Millisecond),
    ("mseconds", Unit::Millisecond),
    ("msecs", Unit::Millisecond),
    ("qtr", Unit::Quarter),
    ("quarter", Unit::Quarter),
    ("s", Unit::Second),
    ("sec", Unit::Second),
    ("second", Unit::Second),
    ("seconds", Unit::Second),
    ("secs", Unit::Second),
    ("timezone", Unit::Timezone),
    ("timezone_h", Unit::TimezoneHour),
    ("timezone_m", Unit::TimezoneMinute),
    ("us", Unit::Microsecond),
    ("usec", Unit::Microsecond),
    ("usecond", Unit::Microsecond),
    ("useconds", Unit::Microsecond),
    ("usecs", Unit::Microsecond),
    ("w", Unit::Week),
    ("week", Unit::Week),
    ("weeks", Unit::Week),
    ("y", Unit::Year),
    ("year", Unit::Year),
    ("years", Unit::Year),
    ("yr", Unit::Year),
    ("yrs", Unit::Year),
];

/// The units of PostgreSQL's `datetktbl` that `DecodeSpecial` finds.
const SPECIAL_UNITS: &[(&str, Unit)] = &[
    ("dow", Unit::Dow),
    ("doy", Unit::Doy),
    ("isodow", Unit::IsoDow),
    ("isoyear", Unit::IsoYear),
    ("j", Unit::Julian),
    ("jd", Unit::Julian),
    ("julian", Unit::Julian),
];

/// Reserved words of `datetktbl` (`epoch` separately).
const RESERVED: &[&str] = &["-infinity", "allballs", "infinity", "now", "today", "tomorrow", "yesterday"];

/// The first at most 10 bytes of a lower-cased unit name (PostgreSQL's
/// `TOKMAXLEN` comparison).
fn token_key(lower: &str) -> &str {
    let mut end = lower.len().min(10);
    while !lower.is_char_boundary(end) {
        end -= 1;
    }
    &lower[..end]
}

/// `DecodeUnits`: interval units only (what `date_trunc` accepts).
fn decode_units(lower: &str) -> Option<Unit> {
    let key = token_key(lower);
    UNITS.iter().find(|(t, _)| *t == key).map(|(_, u)| *u)
}

/// `DecodeUnits`, then `DecodeSpecial` (what `EXTRACT`/`date_part` accept).
fn decode_field(lower: &str) -> Token {
    if let Some(u) = decode_units(lower) {
        return Token::Unit(u);
    }
    let key = token_key(lower);
    if let Some((_, u)) = SPECIAL_UNITS.iter().find(|(t, _)| *t == key) {
        return Token::Unit(*u);
    }
    if key == "epoch" {
        return Token::Epoch;
    }
    if RESERVED.contains(&key) {
        return Token::Reserved;
    }
    Token::Unknown
}

/// True if `EXTRACT`/`date_part` of this (literal) field cannot fail for
/// any source type: a unit every type supports.
pub(crate) fn field_never_fails(field: &str) -> bool {
    matches!(
        decode_field(&field.to_ascii_lowercase()),
        Token::Epoch
            | Token::Unit(
                Unit::Year | Unit::Month | Unit::Day | Unit::Quarter | Unit::Decade | Unit::Century | Unit::Millennium
            )
    )
}

fn not_recognized(unit: &str, ty: &str) -> EvalError {
    EvalError::Other(format!("unit \"{unit}\" not recognized for type {ty}"))
}

fn not_supported(unit: &str, ty: &str) -> EvalError {
    EvalError::Other(format!("unit \"{unit}\" not supported for type {ty}"))
}

const TS: &str = "timestamp without time zone";
const TSTZ: &str = "timestamp with time zone";

/// Broken-down fields of a timestamp (astronomical year: 0 is 1 BC).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tm {
    pub year: i64,
    pub mon: u32,
    pub mday: u32,
    pub hour: i64,
    pub min: i64,
    pub sec: i64,
    pub usec: i64,
    /// Days since 2000-01-01.
    pub days: i64,
}

impl Tm {
    /// The fields of `t` (any `i64`, as PostgreSQL's `timestamp2tm` reads
    /// it).
    pub(crate) fn of(t: i64) -> Tm {
        let days = t.div_euclid(USECS_PER_DAY);
        let tod = t.rem_euclid(USECS_PER_DAY);
        let (year, mon, mday) = crate::value::civil_from_days(days + UNIX_TO_PG_DAYS);
        Tm {
            year,
            mon,
            mday,
            hour: tod / USECS_PER_HOUR,
            min: tod / USECS_PER_MINUTE % 60,
            sec: tod / USECS_PER_SEC % 60,
            usec: tod % USECS_PER_SEC,
            days,
        }
    }

    /// Julian day number.
    pub(crate) fn julian(&self) -> i64 {
        self.days + POSTGRES_EPOCH_JDATE
    }

    /// Day of the week, 0 = Sunday.
    pub(crate) fn wday(&self) -> i64 {
        (self.julian() + 1).rem_euclid(7)
    }

    /// Day of the year, from 1.
    pub(crate) fn yday(&self) -> i64 {
        self.days - (crate::value::days_from_civil(self.year, 1, 1) - UNIX_TO_PG_DAYS) + 1
    }

    /// ISO 8601 (year, week) of the date.
    pub(crate) fn iso_week(&self) -> (i64, i64) {
        // The Thursday of the date's week decides the year.
        let monday_based = (self.wday() + 6) % 7;
        let thursday = self.days - monday_based + 3;
        let (ty, _, _) = crate::value::civil_from_days(thursday + UNIX_TO_PG_DAYS);
        let jan1 = crate::value::days_from_civil(ty, 1, 1) - UNIX_TO_PG_DAYS;
        (ty, (thursday - jan1) / 7 + 1)
    }

    /// Seconds and microseconds of the minute, in microseconds.
    fn sec_usec(&self) -> i64 {
        self.sec * USECS_PER_SEC + self.usec
    }
}

/// PostgreSQL's year as `EXTRACT` reports it (no year 0).
fn bc_year(y: i64) -> i64 {
    if y > 0 {
        y
    } else {
        y - 1
    }
}

fn decade(y: i64) -> i64 {
    if y >= 0 {
        y / 10
    } else {
        -((8 - (y - 1)) / 10)
    }
}

fn century(y: i64) -> i64 {
    span_of(y, 100)
}

fn millennium(y: i64) -> i64 {
    span_of(y, 1000)
}

/// The `years`-long span (century, millennium) year `y` falls in, counted
/// from 1 (and from -1 backwards for BC years).
fn span_of(y: i64, years: i64) -> i64 {
    if y > 0 {
        (y + years - 1) / years
    } else {
        -((years - 1 - (y - 1)) / years)
    }
}

/// A numeric or float8 field value.
enum Part {
    Int(i64),
    /// `mantissa × 10^-scale`.
    Scaled(i128, u16),
    Num(Numeric),
    Float(f64),
}

impl Part {
    fn into_value(self, numeric: bool) -> Value {
        match (self, numeric) {
            (Part::Int(v), true) => Value::Numeric(Numeric::from(v)),
            (Part::Int(v), false) => Value::Float8(F64(v as f64)),
            (Part::Scaled(m, s), true) => Value::Numeric(Numeric::from_parts(m, s)),
            (Part::Scaled(m, s), false) => Value::Float8(F64(m as f64 / 10f64.powi(s as i32))),
            (Part::Num(n), _) => Value::Numeric(n),
            (Part::Float(f), _) => Value::Float8(F64(f)),
        }
    }
}

/// Evaluates `EXTRACT`, `date_part`, `date_trunc` or `age`.
pub(crate) fn apply(f: &ScalarFunc, args: &[Value]) -> Result<Value, EvalError> {
    let [a, b] = args else { return Err(bad_arity(f, args.len())) };
    match f {
        ScalarFunc::Extract | ScalarFunc::DatePart => {
            let numeric = matches!(f, ScalarFunc::Extract);
            let lower = text_arg(a)?.to_ascii_lowercase();
            match b {
                Value::Date(d) if numeric => extract_date(&lower, *d),
                Value::Date(d) => extract_timestamp(&lower, d.to_timestamp()?, false, false),
                Value::Timestamp(t) => extract_timestamp(&lower, *t, false, numeric),
                Value::TimestampTz(t) => extract_timestamp(&lower, *t, true, numeric),
                Value::Interval(i) => extract_interval(&lower, i, numeric),
                v => Err(EvalError::Other(format!("cannot extract from {}", v.natural_type()))),
            }
        }
        ScalarFunc::DateTrunc => {
            let lower = text_arg(a)?.to_ascii_lowercase();
            match b {
                Value::Timestamp(t) => Ok(Value::Timestamp(trunc_timestamp(&lower, *t, TS)?)),
                Value::TimestampTz(t) => Ok(Value::TimestampTz(trunc_timestamp(&lower, *t, TSTZ)?)),
                Value::Interval(i) => Ok(Value::Interval(trunc_interval(&lower, i)?)),
                v => Err(EvalError::Other(format!("cannot truncate {}", v.natural_type()))),
            }
        }
        ScalarFunc::Age => match (a, b) {
            (Value::Timestamp(x) | Value::TimestampTz(x), Value::Timestamp(y) | Value::TimestampTz(y)) => {
                Ok(Value::Interval(age(*x, *y)?))
            }
            _ => Err(EvalError::Other("age takes two timestamps".into())),
        },
        _ => Err(bad_arity(f, args.len())),
    }
}

/// `EXTRACT(field FROM date)` (numeric; date_part casts a date to a
/// timestamp instead).
fn extract_date(lower: &str, d: Date) -> Result<Value, EvalError> {
    let token = decode_field(lower);
    let Some((y, m, day)) = d.ymd() else {
        return match token {
            Token::Unit(
                Unit::Day | Unit::Month | Unit::Quarter | Unit::Week | Unit::Dow | Unit::IsoDow | Unit::Doy,
            ) => Ok(Value::Null),
            Token::Unit(
                Unit::Year | Unit::Decade | Unit::Century | Unit::Millennium | Unit::Julian | Unit::IsoYear,
            )
            | Token::Epoch => Ok(Value::Numeric(if d.0 < 0 { Numeric::NEG_INFINITY } else { Numeric::INFINITY })),
            Token::Unit(_) | Token::Reserved => Err(not_supported(lower, "date")),
            Token::Unknown => Err(not_recognized(lower, "date")),
        };
    };
    let tm = Tm { year: y, mon: m, mday: day, hour: 0, min: 0, sec: 0, usec: 0, days: d.0 as i64 };
    let v = match token {
        Token::Unit(u) => match u {
            Unit::Day => tm.mday as i64,
            Unit::Month => tm.mon as i64,
            Unit::Quarter => (tm.mon as i64 - 1) / 3 + 1,
            Unit::Week => tm.iso_week().1,
            Unit::Year => bc_year(tm.year),
            Unit::Decade => decade(tm.year),
            Unit::Century => century(tm.year),
            Unit::Millennium => millennium(tm.year),
            Unit::Julian => tm.julian(),
            Unit::IsoYear => bc_year(tm.iso_week().0),
            Unit::Dow => tm.wday(),
            Unit::IsoDow => {
                let w = tm.wday();
                if w == 0 {
                    7
                } else {
                    w
                }
            }
            Unit::Doy => tm.yday(),
            _ => return Err(not_supported(lower, "date")),
        },
        Token::Epoch => (d.0 as i64 + UNIX_TO_PG_DAYS) * 86_400,
        Token::Reserved => return Err(not_supported(lower, "date")),
        Token::Unknown => return Err(not_recognized(lower, "date")),
    };
    Ok(Value::Numeric(Numeric::from(v)))
}

/// `EXTRACT`/`date_part` of a timestamp(tz).
fn extract_timestamp(lower: &str, t: Timestamp, tz: bool, numeric: bool) -> Result<Value, EvalError> {
    let ty = if tz { TSTZ } else { TS };
    let token = decode_field(lower);
    if !t.is_finite() {
        let infinite = || {
            let neg = t.0 < 0;
            if numeric {
                Value::Numeric(if neg { Numeric::NEG_INFINITY } else { Numeric::INFINITY })
            } else {
                Value::Float8(F64(if neg { f64::NEG_INFINITY } else { f64::INFINITY }))
            }
        };
        return match token {
            Token::Unit(
                Unit::Year | Unit::Decade | Unit::Century | Unit::Millennium | Unit::Julian | Unit::IsoYear,
            )
            | Token::Epoch => Ok(infinite()),
            Token::Unit(_) => Ok(Value::Null),
            Token::Reserved => Err(not_supported(lower, ty)),
            Token::Unknown => Err(not_recognized(lower, ty)),
        };
    }
    let tm = Tm::of(t.0);
    let part = match token {
        Token::Unit(u) => match u {
            Unit::Microsecond => Part::Int(tm.sec_usec()),
            Unit::Millisecond => {
                if numeric {
                    Part::Scaled(tm.sec_usec() as i128, 3)
                } else {
                    Part::Float(tm.sec as f64 * 1000.0 + tm.usec as f64 / 1000.0)
                }
            }
            Unit::Second => {
                if numeric {
                    Part::Scaled(tm.sec_usec() as i128, 6)
                } else {
                    Part::Float(tm.sec as f64 + tm.usec as f64 / 1_000_000.0)
                }
            }
            Unit::Minute => Part::Int(tm.min),
            Unit::Hour => Part::Int(tm.hour),
            Unit::Day => Part::Int(tm.mday as i64),
            Unit::Month => Part::Int(tm.mon as i64),
            Unit::Quarter => Part::Int((tm.mon as i64 - 1) / 3 + 1),
            Unit::Week => Part::Int(tm.iso_week().1),
            Unit::Year => Part::Int(bc_year(tm.year)),
            Unit::Decade => Part::Int(decade(tm.year)),
            Unit::Century => Part::Int(century(tm.year)),
            Unit::Millennium => Part::Int(millennium(tm.year)),
            Unit::Julian => {
                let tod = ((tm.hour * 60 + tm.min) * 60 + tm.sec) * USECS_PER_SEC + tm.usec;
                if numeric {
                    let frac = Numeric::from(tod).div(&Numeric::from(USECS_PER_DAY))?;
                    Part::Num(Numeric::from(tm.julian()).add(&frac)?)
                } else {
                    let secs = ((tm.hour * 60 + tm.min) * 60 + tm.sec) as f64 + tm.usec as f64 / 1_000_000.0;
                    Part::Float(tm.julian() as f64 + secs / 86_400.0)
                }
            }
            Unit::IsoYear => Part::Int(bc_year(tm.iso_week().0)),
            Unit::Dow => Part::Int(tm.wday()),
            Unit::IsoDow => Part::Int(if tm.wday() == 0 { 7 } else { tm.wday() }),
            Unit::Doy => Part::Int(tm.yday()),
            Unit::Timezone | Unit::TimezoneHour | Unit::TimezoneMinute => {
                if !tz {
                    return Err(not_supported(lower, ty));
                }
                Part::Int(0)
            }
        },
        Token::Epoch => {
            let epoch_offset = UNIX_TO_PG_DAYS * USECS_PER_DAY;
            let micros = t.0 as i128 + epoch_offset as i128;
            if numeric {
                Part::Scaled(micros, 6)
            } else {
                Part::Float(match t.0.checked_add(epoch_offset) {
                    Some(m) => m as f64 / 1_000_000.0,
                    None => (t.0 as f64 + epoch_offset as f64) / 1_000_000.0,
                })
            }
        }
        Token::Reserved => return Err(not_supported(lower, ty)),
        Token::Unknown => return Err(not_recognized(lower, ty)),
    };
    Ok(part.into_value(numeric))
}

/// An interval's fields as PostgreSQL's `interval2itm` breaks it down
/// (every field truncated toward zero, keeping the sign).
pub(crate) struct Itm {
    pub year: i64,
    pub mon: i64,
    pub mday: i64,
    pub hour: i64,
    pub min: i64,
    pub sec: i64,
    pub usec: i64,
}

impl Itm {
    pub(crate) fn of(i: &Interval) -> Itm {
        let t = i.micros;
        Itm {
            year: i.months as i64 / 12,
            mon: i.months as i64 % 12,
            mday: i.days as i64,
            hour: t / USECS_PER_HOUR,
            min: t % USECS_PER_HOUR / USECS_PER_MINUTE,
            sec: t % USECS_PER_MINUTE / USECS_PER_SEC,
            usec: t % USECS_PER_SEC,
        }
    }
}

fn extract_interval(lower: &str, i: &Interval, numeric: bool) -> Result<Value, EvalError> {
    let tm = Itm::of(i);
    let sec_usec = tm.sec * USECS_PER_SEC + tm.usec;
    let part = match decode_field(lower) {
        Token::Unit(u) => match u {
            Unit::Microsecond => Part::Int(sec_usec),
            Unit::Millisecond => {
                if numeric {
                    Part::Scaled(sec_usec as i128, 3)
                } else {
                    Part::Float(tm.sec as f64 * 1000.0 + tm.usec as f64 / 1000.0)
                }
            }
            Unit::Second => {
                if numeric {
                    Part::Scaled(sec_usec as i128, 6)
                } else {
                    Part::Float(tm.sec as f64 + tm.usec as f64 / 1_000_000.0)
                }
            }
            Unit::Minute => Part::Int(tm.min),
            Unit::Hour => Part::Int(tm.hour),
            Unit::Day => Part::Int(tm.mday),
            Unit::Month => Part::Int(tm.mon),
            Unit::Quarter => Part::Int(tm.mon / 3 + 1),
            Unit::Year => Part::Int(tm.year),
            Unit::Decade => Part::Int(tm.year / 10),
            Unit::Century => Part::Int(tm.year / 100),
            Unit::Millennium => Part::Int(tm.year / 1000),
            _ => return Err(not_supported(lower, "interval")),
        },
        Token::Epoch => {
            let months = i.months as i64;
            let secs_from_day_month = 31_557_600 * (months / 12) + 2_592_000 * (months % 12) + 86_400 * i.days as i64;
            if numeric {
                Part::Scaled(secs_from_day_month as i128 * 1_000_000 + i.micros as i128, 6)
            } else {
                Part::Float(
                    i.micros as f64 / 1_000_000.0
                        + 31_557_600.0 * (months / 12) as f64
                        + 2_592_000.0 * (months % 12) as f64
                        + 86_400.0 * i.days as f64,
                )
            }
        }
        Token::Reserved => return Err(not_supported(lower, "interval")),
        Token::Unknown => return Err(not_recognized(lower, "interval")),
    };
    Ok(part.into_value(numeric))
}

fn timestamp_out_of_range() -> EvalError {
    EvalError::Other("timestamp out of range".into())
}

fn interval_out_of_range() -> EvalError {
    EvalError::Other("interval out of range".into())
}

/// Builds a timestamp from broken-down fields (PostgreSQL's `tm2timestamp`).
fn tm_to_timestamp(year: i64, mon: u32, mday: u32, tod: i64) -> Result<Timestamp, EvalError> {
    let days = crate::value::days_from_civil(year, mon, mday) - UNIX_TO_PG_DAYS;
    days.checked_mul(USECS_PER_DAY)
        .and_then(|v| v.checked_add(tod))
        .and_then(Timestamp::from_micros)
        .ok_or_else(timestamp_out_of_range)
}

/// `date_trunc(field, timestamp)`.
fn trunc_timestamp(lower: &str, t: Timestamp, ty: &str) -> Result<Timestamp, EvalError> {
    if !t.is_finite() {
        return Ok(t);
    }
    let unit = decode_units(lower).ok_or_else(|| not_recognized(lower, ty))?;
    let tm = Tm::of(t.0);
    let (mut y, mut m, mut d) = (tm.year, tm.mon, tm.mday);
    let tod = tm.hour * USECS_PER_HOUR + tm.min * USECS_PER_MINUTE + tm.sec * USECS_PER_SEC;
    let tod = match unit {
        Unit::Week => {
            let monday = tm.days - (tm.wday() + 6) % 7;
            return monday
                .checked_mul(USECS_PER_DAY)
                .and_then(Timestamp::from_micros)
                .ok_or_else(timestamp_out_of_range);
        }
        Unit::Millennium | Unit::Century | Unit::Decade | Unit::Year | Unit::Quarter | Unit::Month | Unit::Day => {
            match unit {
                Unit::Millennium => {
                    y = if y > 0 { (y + 999) / 1000 * 1000 - 999 } else { -((999 - (y - 1)) / 1000) * 1000 + 1 };
                }
                Unit::Century => {
                    y = if y > 0 { (y + 99) / 100 * 100 - 99 } else { -((99 - (y - 1)) / 100) * 100 + 1 };
                }
                Unit::Decade => {
                    y = if y > 0 { y / 10 * 10 } else { -((8 - (y - 1)) / 10) * 10 };
                }
                _ => {}
            }
            if matches!(unit, Unit::Millennium | Unit::Century | Unit::Decade | Unit::Year) {
                m = 1;
            }
            if unit == Unit::Quarter {
                m = 3 * ((m - 1) / 3) + 1;
            }
            if unit != Unit::Day {
                d = 1;
            }
            0
        }
        Unit::Hour => tm.hour * USECS_PER_HOUR,
        Unit::Minute => tm.hour * USECS_PER_HOUR + tm.min * USECS_PER_MINUTE,
        Unit::Second => tod,
        Unit::Millisecond => tod + tm.usec / 1000 * 1000,
        Unit::Microsecond => tod + tm.usec,
        _ => return Err(not_supported(lower, ty)),
    };
    tm_to_timestamp(y, m, d, tod)
}

/// `date_trunc(field, interval)`.
fn trunc_interval(lower: &str, i: &Interval) -> Result<Interval, EvalError> {
    let unit = decode_units(lower).ok_or_else(|| not_recognized(lower, "interval"))?;
    let mut tm = Itm::of(i);
    let level = match unit {
        Unit::Millennium => 0,
        Unit::Century => 1,
        Unit::Decade => 2,
        Unit::Year => 3,
        Unit::Quarter => 4,
        Unit::Month => 5,
        Unit::Day => 6,
        Unit::Hour => 7,
        Unit::Minute => 8,
        Unit::Second => 9,
        Unit::Millisecond => 10,
        Unit::Microsecond => 11,
        Unit::Week => {
            return Err(EvalError::Detailed {
                message: "unit \"week\" not supported for type interval".into(),
                detail: "Months usually have fractional weeks.".into(),
            })
        }
        _ => return Err(not_supported(lower, "interval")),
    };
    if level <= 0 {
        tm.year = tm.year / 1000 * 1000;
    }
    if level <= 1 {
        tm.year = tm.year / 100 * 100;
    }
    if level <= 2 {
        tm.year = tm.year / 10 * 10;
    }
    if level <= 3 {
        tm.mon = 0;
    }
    if level <= 4 {
        tm.mon = 3 * (tm.mon / 3);
    }
    if level <= 5 {
        tm.mday = 0;
    }
    if level <= 6 {
        tm.hour = 0;
    }
    if level <= 7 {
        tm.min = 0;
    }
    if level <= 8 {
        tm.sec = 0;
    }
    if level <= 9 {
        tm.usec = 0;
    }
    if level == 10 {
        tm.usec = tm.usec / 1000 * 1000;
    }
    let months = tm.year * 12 + tm.mon;
    let micros = ((tm.hour * 60 + tm.min) * 60 + tm.sec) * USECS_PER_SEC + tm.usec;
    Ok(Interval {
        months: i32::try_from(months).map_err(|_| interval_out_of_range())?,
        days: i32::try_from(tm.mday).map_err(|_| interval_out_of_range())?,
        micros,
    })
}

/// Days in `mon` of `year` (astronomical).
fn month_days(year: i64, mon: u32) -> i64 {
    crate::value::days_in_month(year, mon) as i64
}

/// Negates each of `fields`.
fn negate<const N: usize>(fields: [&mut i64; N]) {
    for f in fields {
        *f = -*f;
    }
}

/// `age(a, b)`: PostgreSQL's field-wise difference with borrowing
/// (`timestamp_age`). Timestamps are read as `timestamp2tm` reads them,
/// so `-infinity` is out of range and `infinity` reads as its raw value.
fn age(a: Timestamp, b: Timestamp) -> Result<Interval, EvalError> {
    if a.0 == i64::MIN || b.0 == i64::MIN {
        return Err(timestamp_out_of_range());
    }
    let (t1, t2) = (Tm::of(a.0), Tm::of(b.0));
    let mut usec = t1.usec - t2.usec;
    let mut sec = t1.sec - t2.sec;
    let mut min = t1.min - t2.min;
    let mut hour = t1.hour - t2.hour;
    let mut mday = t1.mday as i64 - t2.mday as i64;
    let mut mon = t1.mon as i64 - t2.mon as i64;
    let mut year = t1.year - t2.year;
    let flip = a.0 < b.0;
    if flip {
        negate([&mut usec, &mut sec, &mut min, &mut hour, &mut mday, &mut mon, &mut year]);
    }
    while usec < 0 {
        usec += USECS_PER_SEC;
        sec -= 1;
    }
    while sec < 0 {
        sec += 60;
        min -= 1;
    }
    while min < 0 {
        min += 60;
        hour -= 1;
    }
    while hour < 0 {
        hour += 24;
        mday -= 1;
    }
    while mday < 0 {
        let (y, m) = if flip { (t1.year, t1.mon) } else { (t2.year, t2.mon) };
        mday += month_days(y, m);
        mon -= 1;
    }
    while mon < 0 {
        mon += 12;
        year -= 1;
    }
    if flip {
        negate([&mut usec, &mut sec, &mut min, &mut hour, &mut mday, &mut mon, &mut year]);
    }
    let months = year.checked_mul(12).and_then(|y| y.checked_add(mon)).ok_or_else(interval_out_of_range)?;
    let micros = ((hour * 60 + min) * 60 + sec) * USECS_PER_SEC + usec;
    Ok(Interval {
        months: i32::try_from(months).map_err(|_| interval_out_of_range())?,
        days: i32::try_from(mday).map_err(|_| interval_out_of_range())?,
        micros,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Value {
        Value::parse(s, crate::value::DataType::Timestamp).expect("timestamp")
    }
    fn iv(s: &str) -> Value {
        Value::parse(s, crate::value::DataType::Interval).expect("interval")
    }
    fn date(s: &str) -> Value {
        Value::parse(s, crate::value::DataType::Date).expect("date")
    }
    /// Each `(function, field, argument, expected text or error)`.
    fn check(cases: &[(ScalarFunc, &str, Value, &str)]) {
        for (f, field, v, want) in cases {
            let got = match f.apply(&[Value::text(field), v.clone()]) {
                Ok(v) => v.to_string(),
                Err(e) => format!("ERROR: {e}"),
            };
            assert_eq!(got, *want, "{f:?}({field}, {v})");
        }
    }

    use ScalarFunc::{DatePart, DateTrunc, Extract};

    #[test]
    fn extract_scales_and_fields() {
        // Checked against PostgreSQL 15.
        let t = || ts("2024-03-05 01:02:03.5");
        let unsupported = |unit: &str, ty: &str| format!("ERROR: unit \"{unit}\" not supported for type {ty}");
        let ts_type = "timestamp without time zone";
        check(&[
            (Extract, "second", t(), "3.500000"),
            (Extract, "millisecond", t(), "3500.000"),
            (Extract, "microsecond", t(), "3500000"),
            (Extract, "epoch", t(), "1709600523.500000"),
            (DatePart, "epoch", t(), "1709600523.5"),
            (DatePart, "milliseconds", t(), "3500"),
            (Extract, "epoch", date("2024-03-05"), "1709596800"),
            (Extract, "hour", date("2024-03-05"), &unsupported("hour", "date")),
            (Extract, "week", date("2021-01-01"), "53"),
            (Extract, "isoyear", date("2021-01-01"), "2020"),
            (Extract, "century", date("0001-01-01 BC"), "-1"),
            (Extract, "decade", date("0005-01-01 BC"), "-1"),
            (Extract, "year", date("0005-01-01 BC"), "-5"),
            (Extract, "julian", ts("2020-01-01 06:00"), "2458850.25000000000000000000"),
            (Extract, "julian", ts("0001-01-01 BC"), "1721060.0000000000000000000000000000"),
            (Extract, "dow", ts("infinity"), ""),
            (Extract, "year", ts("-infinity"), "-Infinity"),
            (Extract, "microsecondsxyz", ts("2020-01-01 00:00:01"), "1000000"),
            (Extract, "foo", ts("2020-01-01"), &format!("ERROR: unit \"foo\" not recognized for type {ts_type}")),
            (DatePart, "now", ts("2020-01-01"), &unsupported("now", ts_type)),
        ]);
    }

    #[test]
    fn extract_interval_fields() {
        check(&[
            (Extract, "year", iv("1 year 14 mons"), "2"),
            (Extract, "month", iv("1 year 14 mons"), "2"),
            (Extract, "epoch", iv("1 mon 1 day"), "2678400.000000"),
            (Extract, "epoch", iv("-1 year -2 days"), "-31730400.000000"),
            (Extract, "quarter", iv("-4 mons"), "0"),
            (Extract, "millisecond", iv("-1.5 seconds"), "-1500.000"),
            (Extract, "hour", iv("-1 day -30 hours"), "-30"),
            (DatePart, "decade", iv("-25 years"), "-2"),
            (Extract, "dow", iv("1 day"), "ERROR: unit \"dow\" not supported for type interval"),
        ]);
    }

    #[test]
    fn date_trunc_and_age() {
        check(&[
            (DateTrunc, "week", ts("2021-01-01 10:00"), "2020-12-28 00:00:00"),
            (DateTrunc, "quarter", ts("2021-11-11 10:00"), "2021-10-01 00:00:00"),
            (DateTrunc, "decade", ts("2021-11-11"), "2020-01-01 00:00:00"),
            (DateTrunc, "century", ts("2001-11-11"), "2001-01-01 00:00:00"),
            (DateTrunc, "milliseconds", ts("2001-11-11 1:1:1.123456"), "2001-11-11 01:01:01.123"),
            (DateTrunc, "century", ts("0050-01-01 BC"), "0100-01-01 00:00:00 BC"),
            (DateTrunc, "decade", ts("0005-06-01 BC"), "0011-01-01 00:00:00 BC"),
            (DateTrunc, "millennium", ts("1000-06-01 BC"), "1000-01-01 00:00:00 BC"),
            (DateTrunc, "foo", ts("infinity"), "infinity"),
            (DateTrunc, "hour", iv("1 year 2 mons 3 days 04:05:06.7"), "1 year 2 mons 3 days 04:00:00"),
            (DateTrunc, "quarter", iv("1 year 5 mons"), "1 year 3 mons"),
            (DateTrunc, "month", iv("-1 year -5 mons -3 days"), "-1 years -5 mons"),
        ]);
        let age = |a: &str, b: &str| ScalarFunc::Age.apply(&[ts(a), ts(b)]).map(|v| v.to_string());
        assert_eq!(age("2024-03-31", "2024-02-29"), Ok("1 mon 2 days".into()));
        assert_eq!(age("2024-01-31", "2024-03-01"), Ok("-1 mons -1 days".into()));
        assert_eq!(age("2001-04-10", "1957-06-13"), Ok("43 years 9 mons 27 days".into()));
        assert_eq!(age("infinity", "2020-01-01"), Ok("292257 years 8 days 04:00:54.775807".into()));
    }
}
