//! `to_char` for numbers: PostgreSQL's `NUM` templates (`9`, `0`, `.`,
//! `,`, `D`, `G`, `S`, `MI`, `PL`, `SG`, `PR`, `L`, `FM`, `V`, `TH`/`th`,
//! and the no-op `B`, `C`, `SP`), with the `C` locale's symbols (decimal
//! point `.`, group separator `,`, currency symbol a blank).
//!
//! The value is first turned into a digit string exactly as PostgreSQL
//! does for its type (numeric and integers: rounded to the template's
//! fractional digits; float8: `%.*f` limited to 15 significant digits, so
//! `NaN` and `Infinity` come out as PostgreSQL prints them), then laid out
//! by a transcription of PostgreSQL's `NUM_processor`, so padding, sign
//! placement, fill mode and `#` overflow match it character for character.
//! Roman numerals (`RN`) and scientific notation (`EEEE`) are not
//! supported and are rejected.

use super::EvalError;
use crate::value::{Numeric, Value};

/// A number template keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum K {
    Comma,
    Dec,
    Zero,
    Nine,
    B,
    C,
    D,
    Eeee,
    Fm,
    G,
    L,
    Mi,
    Pl,
    Pr,
    Rn,
    Sg,
    Sp,
    S,
    Th,
    ThLower,
    V,
}

/// PostgreSQL's `NUM_keywords`, in its order.
const KEYWORDS: &[(&str, K)] = &[
    (",", K::Comma),
    (".", K::Dec),
    ("0", K::Zero),
    ("9", K::Nine),
    ("B", K::B),
    ("C", K::C),
    ("D", K::D),
    ("EEEE", K::Eeee),
    ("FM", K::Fm),
    ("G", K::G),
    ("L", K::L),
    ("MI", K::Mi),
    ("PL", K::Pl),
    ("PR", K::Pr),
    ("RN", K::Rn),
    ("SG", K::Sg),
    ("SP", K::Sp),
    ("S", K::S),
    ("TH", K::Th),
    ("V", K::V),
    ("b", K::B),
    ("c", K::C),
    ("d", K::D),
    ("eeee", K::Eeee),
    ("fm", K::Fm),
    ("g", K::G),
    ("l", K::L),
    ("mi", K::Mi),
    ("pl", K::Pl),
    ("pr", K::Pr),
    ("rn", K::Rn),
    ("sg", K::Sg),
    ("sp", K::Sp),
    ("s", K::S),
    ("th", K::ThLower),
    ("v", K::V),
];

enum Node {
    Key(K),
    Text(String),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum LSign {
    None,
    Pre,
    Post,
}

/// PostgreSQL's `NUMDesc`.
struct Desc {
    pre: i32,
    post: i32,
    decimal: bool,
    zero: bool,
    fill: bool,
    lsign_flag: bool,
    bracket: bool,
    minus: bool,
    plus: bool,
    multi: bool,
    multi_count: i32,
    lsign: LSign,
    pre_lsign_num: i32,
    zero_start: i32,
    zero_end: i32,
}

fn syntax(msg: &str) -> EvalError {
    EvalError::Other(msg.to_string())
}

impl Desc {
    fn new() -> Desc {
        Desc {
            pre: 0,
            post: 0,
            decimal: false,
            zero: false,
            fill: false,
            lsign_flag: false,
            bracket: false,
            minus: false,
            plus: false,
            multi: false,
            multi_count: 0,
            lsign: LSign::None,
            pre_lsign_num: 0,
            zero_start: 0,
            zero_end: 0,
        }
    }

    /// PostgreSQL's `NUMDesc_prepare` for one keyword.
    fn prepare(&mut self, k: K) -> Result<(), EvalError> {
        match k {
            K::Nine => {
                if self.bracket {
                    return Err(syntax("\"9\" must be ahead of \"PR\""));
                }
                if self.multi {
                    self.multi_count += 1;
                } else if self.decimal {
                    self.post += 1;
                } else {
                    self.pre += 1;
                }
            }
            K::Zero => {
                if self.bracket {
                    return Err(syntax("\"0\" must be ahead of \"PR\""));
                }
                if !self.zero && !self.decimal {
                    self.zero = true;
                    self.zero_start = self.pre + 1;
                }
                if !self.decimal {
                    self.pre += 1;
                } else {
                    self.post += 1;
                }
                self.zero_end = self.pre + self.post;
            }
            K::D | K::Dec => {
                if self.decimal {
                    return Err(syntax("multiple decimal points"));
                }
                if self.multi {
                    return Err(syntax("cannot use \"V\" and decimal point together"));
                }
                self.decimal = true;
            }
            K::Fm => self.fill = true,
            K::S => {
                if self.lsign_flag {
                    return Err(syntax("cannot use \"S\" twice"));
                }
                if self.plus || self.minus || self.bracket {
                    return Err(syntax("cannot use \"S\" and \"PL\"/\"MI\"/\"SG\"/\"PR\" together"));
                }
                if !self.decimal {
                    self.lsign = LSign::Pre;
                    self.pre_lsign_num = self.pre;
                    self.lsign_flag = true;
                } else if self.lsign == LSign::None {
                    self.lsign = LSign::Post;
                    self.lsign_flag = true;
                }
            }
            K::Mi => {
                if self.lsign_flag {
                    return Err(syntax("cannot use \"S\" and \"MI\" together"));
                }
                self.minus = true;
            }
            K::Pl => {
                if self.lsign_flag {
                    return Err(syntax("cannot use \"S\" and \"PL\" together"));
                }
                self.plus = true;
            }
            K::Sg => {
                if self.lsign_flag {
                    return Err(syntax("cannot use \"S\" and \"SG\" together"));
                }
                self.minus = true;
                self.plus = true;
            }
            K::Pr => {
                if self.lsign_flag || self.plus || self.minus {
                    return Err(syntax("cannot use \"PR\" and \"S\"/\"PL\"/\"MI\"/\"SG\" together"));
                }
                self.bracket = true;
            }
            K::V => {
                if self.decimal {
                    return Err(syntax("cannot use \"V\" and decimal point together"));
                }
                self.multi = true;
            }
            K::Rn => return Err(syntax("not supported: to_char number format \"RN\" (roman numerals)")),
            K::Eeee => return Err(syntax("not supported: to_char number format \"EEEE\" (scientific notation)")),
            K::B | K::C | K::G | K::L | K::Comma | K::Sp | K::Th | K::ThLower => {}
        }
        Ok(())
    }
}

/// Parses a number template, preparing its description as it goes.
fn parse(fmt: &str) -> Result<(Vec<Node>, Desc), EvalError> {
    let mut nodes = Vec::new();
    let mut desc = Desc::new();
    let mut rest = fmt;
    while !rest.is_empty() {
        if let Some((text, k)) = super::to_char::find_key(KEYWORDS, rest) {
            rest = &rest[text.len()..];
            desc.prepare(k)?;
            nodes.push(Node::Key(k));
            continue;
        }
        let mut chars = rest.chars();
        let Some(c) = chars.next() else { break };
        if c == '"' {
            let mut inner = chars;
            loop {
                match inner.next() {
                    None | Some('"') => break,
                    Some('\\') => {
                        let mut look = inner.clone();
                        match look.next() {
                            Some(n) => {
                                nodes.push(Node::Text(n.to_string()));
                                inner = look;
                            }
                            None => nodes.push(Node::Text("\\".into())),
                        }
                    }
                    Some(x) => nodes.push(Node::Text(x.to_string())),
                }
            }
            rest = inner.as_str();
            continue;
        }
        if c == '\\' && chars.as_str().starts_with('"') {
            nodes.push(Node::Text("\"".into()));
            rest = &chars.as_str()[1..];
            continue;
        }
        nodes.push(Node::Text(c.to_string()));
        rest = chars.as_str();
    }
    Ok((nodes, desc))
}

/// PostgreSQL's `snprintf("%.*f")`, including its `NaN`/`Infinity`.
fn c_fixed(v: f64, digits: usize) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        format!("{v:.digits$}")
    }
}

/// The digit string, its sign and the number of leading blanks, as
/// PostgreSQL's `numeric_to_char` / `float8_to_char` prepare them.
fn digits(v: &Value, desc: &mut Desc) -> Result<(String, u8, i32), EvalError> {
    let orgnum = match v {
        Value::Float8(f) => {
            let mut val = f.0;
            if desc.multi {
                val *= 10f64.powi(desc.multi_count);
                desc.pre += desc.multi_count;
            }
            let pre_len = c_fixed(val.abs(), 0).len() as i32;
            if pre_len >= 15 {
                desc.post = 0;
            } else if pre_len + desc.post > 15 {
                desc.post = 15 - pre_len;
            }
            c_fixed(val, desc.post as usize)
        }
        _ => {
            let mut n = match v {
                Value::Numeric(n) => n.clone(),
                Value::Int2(x) => Numeric::from(*x),
                Value::Int4(x) => Numeric::from(*x),
                Value::Int8(x) => Numeric::from(*x),
                other => return Err(EvalError::Other(format!("cannot format {} as a number", other.natural_type()))),
            };
            if desc.multi {
                n = n.mul(&Numeric::from(10).pow(&Numeric::from(desc.multi_count))?)?;
                desc.pre += desc.multi_count;
            }
            n.round(desc.post).to_string()
        }
    };
    let (sign, numstr) = match orgnum.strip_prefix('-') {
        Some(rest) => (b'-', rest.to_string()),
        None => (b'+', orgnum),
    };
    let pre_len = numstr.find('.').unwrap_or(numstr.len()) as i32;
    if pre_len < desc.pre {
        return Ok((numstr, sign, desc.pre - pre_len));
    }
    if pre_len > desc.pre {
        let mut hashes = "#".repeat((desc.pre + desc.post + 1) as usize).into_bytes();
        hashes[desc.pre as usize] = b'.';
        return Ok((String::from_utf8(hashes).unwrap_or_default(), sign, 0));
    }
    Ok((numstr, sign, 0))
}

/// `to_char(number, template)`.
pub(crate) fn format(v: &Value, fmt: &str) -> Result<String, EvalError> {
    if fmt.is_empty() {
        return Ok(String::new());
    }
    let (nodes, mut desc) = parse(fmt)?;
    let (number, sign, out_pre_spaces) = digits(v, &mut desc)?;
    let mut p = Proc::new(desc, number.into_bytes(), sign, out_pre_spaces);
    p.run(&nodes)?;
    // A digit read past the end of the number string is a NUL in
    // PostgreSQL's buffer, which ends the text there.
    let end = p.out.iter().position(|b| *b == 0).unwrap_or(p.out.len());
    p.out.truncate(end);
    Ok(String::from_utf8_lossy(&p.out).into_owned())
}

/// PostgreSQL's `NUMProc` for `to_char`.
struct Proc {
    d: Desc,
    sign: u8,
    sign_wrote: bool,
    num_count: i32,
    num_in: bool,
    num_curr: i32,
    out_pre_spaces: i32,
    number: Vec<u8>,
    number_p: usize,
    last_relevant: Option<usize>,
    out: Vec<u8>,
}

impl Proc {
    fn new(mut d: Desc, number: Vec<u8>, sign: u8, out_pre_spaces: i32) -> Proc {
        let sign_wrote;
        if d.plus || d.minus {
            sign_wrote = !d.plus || d.minus;
        } else {
            if sign != b'-' && d.fill {
                d.bracket = false;
            }
            sign_wrote = sign == b'+' && d.fill && !d.lsign_flag;
            if d.lsign == LSign::Pre && d.pre == d.pre_lsign_num {
                d.lsign = LSign::Post;
            }
        }
        let mut num_count = d.post + d.pre - 1;
        let mut last_relevant = None;
        if d.fill && d.decimal {
            last_relevant = last_relevant_decnum(&number);
            if let Some(lr) = last_relevant {
                if d.zero_end > out_pre_spaces {
                    let last_zero = ((number.len() as i32 - 1).min(d.zero_end - out_pre_spaces)).max(0) as usize;
                    if lr < last_zero {
                        last_relevant = Some(last_zero);
                    }
                }
            }
        }
        if !sign_wrote && out_pre_spaces == 0 {
            num_count += 1;
        }
        // PostgreSQL counts the first zero position from 0 from here on.
        if d.zero_start != 0 {
            d.zero_start -= 1;
        }
        Proc {
            d,
            sign,
            sign_wrote,
            num_count,
            num_in: false,
            num_curr: 0,
            out_pre_spaces,
            number,
            number_p: 0,
            last_relevant,
            out: Vec::new(),
        }
    }

    fn at(&self, i: usize) -> u8 {
        self.number.get(i).copied().unwrap_or(0)
    }

    fn last_relevant_is_point(&self) -> bool {
        self.last_relevant.is_some_and(|i| self.at(i) == b'.')
    }

    /// `IS_PREDEC_SPACE`: a leading `0` before the point that is shown as a
    /// blank.
    fn predec_space(&self) -> bool {
        !self.d.zero && self.number_p == 0 && self.at(0) == b'0' && self.d.post != 0
    }

    fn run(&mut self, nodes: &[Node]) -> Result<(), EvalError> {
        for node in nodes {
            let k = match node {
                Node::Text(t) => {
                    self.out.extend_from_slice(t.as_bytes());
                    continue;
                }
                Node::Key(k) => *k,
            };
            match k {
                K::Nine | K::Zero | K::Dec | K::D => self.numpart(k),
                K::Comma | K::G => {
                    if !self.num_in {
                        if !self.d.fill {
                            self.out.push(b' ');
                        }
                    } else {
                        self.out.push(b',');
                    }
                }
                K::L => self.out.push(b' '),
                K::Th | K::ThLower => {
                    if self.at(0) == b'#' || self.sign == b'-' || self.d.decimal {
                        continue;
                    }
                    let num = String::from_utf8_lossy(&self.number).into_owned();
                    self.out.extend_from_slice(ordinal(&num, k == K::Th)?.as_bytes());
                }
                K::Mi => {
                    if self.sign == b'-' {
                        self.out.push(b'-');
                    } else if !self.d.fill {
                        self.out.push(b' ');
                    }
                }
                K::Pl => {
                    if self.sign == b'+' {
                        self.out.push(b'+');
                    } else if !self.d.fill {
                        self.out.push(b' ');
                    }
                }
                K::Sg => self.out.push(self.sign),
                _ => {}
            }
        }
        Ok(())
    }

    /// PostgreSQL's `NUM_numpart_to_char`.
    fn numpart(&mut self, k: K) {
        self.num_in = false;
        if !self.sign_wrote
            && (self.num_curr >= self.out_pre_spaces || (self.d.zero && self.d.zero_start == self.num_curr))
            && (!self.predec_space() || self.last_relevant_is_point())
        {
            if self.d.lsign_flag {
                if self.d.lsign == LSign::Pre {
                    self.out.push(if self.sign == b'-' { b'-' } else { b'+' });
                    self.sign_wrote = true;
                }
            } else if self.d.bracket {
                self.out.push(if self.sign == b'+' { b' ' } else { b'<' });
                self.sign_wrote = true;
            } else if self.sign == b'+' {
                if !self.d.fill {
                    self.out.push(b' ');
                }
                self.sign_wrote = true;
            } else if self.sign == b'-' {
                self.out.push(b'-');
                self.sign_wrote = true;
            }
        }
        if self.num_curr < self.out_pre_spaces && (self.d.zero_start > self.num_curr || !self.d.zero) {
            if !self.d.fill {
                self.out.push(b' ');
            }
        } else if self.d.zero && self.num_curr < self.out_pre_spaces && self.d.zero_start <= self.num_curr {
            self.out.push(b'0');
            self.num_in = true;
        } else {
            if self.at(self.number_p) == b'.' {
                if !self.last_relevant_is_point() || self.d.fill {
                    self.out.push(b'.');
                }
            } else if self.last_relevant.is_some_and(|lr| self.number_p > lr) && k != K::Zero {
                // Trailing fractional zeros dropped in fill mode.
            } else if self.predec_space() {
                if !self.d.fill {
                    self.out.push(b' ');
                } else if self.last_relevant_is_point() {
                    self.out.push(b'0');
                }
            } else {
                self.out.push(self.at(self.number_p));
                self.num_in = true;
            }
            if self.at(self.number_p) != 0 {
                self.number_p += 1;
            }
        }
        let mut end = self.num_count + i32::from(self.out_pre_spaces != 0) + i32::from(self.d.decimal);
        if self.last_relevant.is_some_and(|lr| lr == self.number_p) {
            end = self.num_curr;
        }
        if self.num_curr + 1 == end {
            if self.sign_wrote && self.d.bracket {
                self.out.push(if self.sign == b'+' { b' ' } else { b'>' });
            } else if self.d.lsign_flag && self.d.lsign == LSign::Post {
                self.out.push(if self.sign == b'-' { b'-' } else { b'+' });
            }
        }
        self.num_curr += 1;
    }
}

/// The last non-zero digit after the point, or the point itself.
fn last_relevant_decnum(num: &[u8]) -> Option<usize> {
    let point = num.iter().position(|b| *b == b'.')?;
    let mut result = point;
    for (i, b) in num.iter().enumerate().skip(point + 1) {
        if *b != b'0' {
            result = i;
        }
    }
    Some(result)
}

/// `st`/`nd`/`rd`/`th` for the number's last digit (PostgreSQL's
/// `get_th`; date/time templates use it too).
pub(super) fn ordinal(num: &str, upper: bool) -> Result<String, EvalError> {
    let b = num.as_bytes();
    let Some(&last) = b.last().filter(|c| c.is_ascii_digit()) else {
        return Err(EvalError::Other(format!("\"{num}\" is not a number")));
    };
    let teen = b.len() > 1 && b[b.len() - 2] == b'1';
    let s = match (teen, last) {
        (false, b'1') => "st",
        (false, b'2') => "nd",
        (false, b'3') => "rd",
        _ => "th",
    };
    Ok(if upper { s.to_ascii_uppercase() } else { s.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::F64;

    fn num(s: &str) -> Value {
        Value::Numeric(Numeric::parse(s).expect("numeric"))
    }
    fn f(v: &Value, t: &str) -> String {
        format(v, t).unwrap_or_else(|e| format!("ERROR: {e}"))
    }

    #[test]
    fn numeric_templates_match_postgres() {
        // Each expected string is PostgreSQL 15's output.
        assert_eq!(f(&num("0.5"), "9.99"), "  .50");
        assert_eq!(f(&num("0.5"), "0.99"), " 0.50");
        assert_eq!(f(&num("123.456"), "999.99"), " 123.46");
        assert_eq!(f(&num("-123.456"), "999.99"), "-123.46");
        assert_eq!(f(&Value::Int4(1234), "999"), " ###");
        assert_eq!(f(&Value::Int4(12), "FM999"), "12");
        assert_eq!(f(&Value::Int4(1234567), "9,999,999"), " 1,234,567");
        assert_eq!(f(&Value::Int4(-5), "S999"), "  -5");
        assert_eq!(f(&Value::Int4(5), "S999"), "  +5");
        assert_eq!(f(&Value::Int4(-5), "999MI"), "  5-");
        assert_eq!(f(&Value::Int4(5), "999MI"), "  5 ");
        assert_eq!(f(&Value::Int4(-5), "999PR"), "  <5>");
        assert_eq!(f(&Value::Int4(5), "999PR"), "   5 ");
        assert_eq!(f(&Value::Int4(-5), "FM999PR"), "<5>");
        assert_eq!(f(&Value::Int4(5), "L999"), "    5");
        assert_eq!(f(&num("5.5"), "9D99"), " 5.50");
        assert_eq!(f(&Value::Int4(1234), "9G999"), " 1,234");
        assert_eq!(f(&Value::Int4(5), "SG999"), "+  5");
        assert_eq!(f(&Value::Int4(5), "PL999"), "+   5");
        assert_eq!(f(&num("12.5"), "FM999.999"), "12.5");
        assert_eq!(f(&Value::Int4(12), "FM999.999"), "12.");
        assert_eq!(f(&Value::Int4(12), "FM999.990"), "12.000");
        assert_eq!(f(&Value::Int4(0), "FM9.99"), "0.");
        assert_eq!(f(&Value::Int4(0), "9.99"), "  .00");
        assert_eq!(f(&num("0.01"), "FM0.99"), "0.01");
        assert_eq!(f(&num("-0.01"), "FM0.99"), "-0.01");
        assert_eq!(f(&Value::Int4(0), "999"), "   0");
        assert_eq!(f(&Value::Int4(0), "FM999"), "0");
        assert_eq!(f(&Value::Int4(12), "999th"), "  12th");
        assert_eq!(f(&Value::Int4(11), "FM999TH"), "11TH");
        assert_eq!(f(&Value::Int4(2), "FM9th"), "2nd");
        assert_eq!(f(&Value::Int4(123), "9V99"), " ###");
        assert_eq!(f(&num("12.345"), "99V9"), " 123");
        assert_eq!(f(&Value::Int4(12), "0009"), " 0012");
        assert_eq!(f(&Value::Int4(12), "9099"), "  012");
        assert_eq!(f(&Value::Int4(-12), "0009"), "-0012");
        assert_eq!(f(&Value::Int4(12), "B999"), "  12");
        assert_eq!(f(&Value::Int4(1), "x9y\"9\"z"), "x 1y9z");
        assert_eq!(f(&Value::Int4(12), "SP999"), "  12");
        assert_eq!(f(&num("-1234.5678"), "FMS9,999.99"), "-1,234.57");
        assert_eq!(f(&num("1234.5"), "99,999.00"), "  1,234.50");
        assert_eq!(f(&Value::Int4(-12345), "FM99,999"), "-12,345");
        assert_eq!(f(&num("0.1234"), ".999"), " .###");
        assert_eq!(f(&num("-0.1234"), ".999"), "-.###");
        assert_eq!(f(&Value::Int4(5), "0"), " 5");
        assert_eq!(f(&num("0.5"), "00.00"), " 00.50");
        assert_eq!(f(&Value::Int4(5), "FM0009"), "0005");
        assert_eq!(f(&num("-5.5"), "FM00.00"), "-05.50");
        assert_eq!(f(&Value::Int4(-5), "MI9"), "-5");
        assert_eq!(f(&Value::Int4(5), "9S"), "5+");
        assert_eq!(f(&Value::Int4(-5), "9S"), "5-");
        assert_eq!(f(&num("NaN"), "999.9"), " NaN");
        assert_eq!(f(&num("Infinity"), "999.9"), " ###.#");
        assert_eq!(f(&Value::Int4(12), "S9.99S"), "ERROR: cannot use \"S\" twice");
        assert_eq!(f(&Value::Int4(12), "9.9.9"), "ERROR: multiple decimal points");
        assert!(f(&Value::Int4(12), "RN").starts_with("ERROR: not supported"));
    }

    #[test]
    fn float_templates_match_postgres() {
        let fl = |v: f64| Value::Float8(F64(v));
        assert_eq!(f(&fl(1.5), "9.9"), " 1.5");
        assert_eq!(f(&fl(2.5), "9"), " 2");
        assert_eq!(f(&fl(1e20), "999"), " ###");
        assert_eq!(f(&fl(123_456_789_012_345.67), "999999999999999.999"), " 123456789012346");
        assert_eq!(f(&fl(f64::NAN), "999.9"), " NaN");
        assert_eq!(f(&fl(f64::INFINITY), "999.9"), " ###.#");
        assert_eq!(f(&fl(-0.0), "9.9"), " -.0");
    }
}
