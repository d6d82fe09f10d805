//! Kubernetes resource quantities (`500m`, `30720Mi`, `1.5e3`), parsed exactly as kube-apiserver
//! parses them (`ParseQuantity` in apimachinery's `pkg/api/resource/quantity.go`) into an exact
//! decimal value, so two spellings of one amount compare equal (`30720Mi` = `30Gi`, `1000m` =
//! `1`) and requests can be checked against limits without floating point. Used by validation
//! (non-negative, requests ≤ limits) and by the operator's apply stage (a live `30Gi` is the
//! applied `30720Mi`).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// The regular expression of upstream's `ErrFormatWrong`, which names what a quantity may look like.
pub const QUANTITY_PATTERN: &str = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

/// Why a string is not a quantity; the messages are upstream's, word for word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// `ErrFormatWrong`.
    #[error("quantities must match the regular expression '{QUANTITY_PATTERN}'")]
    FormatWrong,
    /// `ErrSuffix`.
    #[error("unable to parse quantity's suffix")]
    Suffix,
}

/// How a quantity was written, and so how upstream re-emits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `12e6`.
    DecimalExponent,
    /// `12Mi` (powers of 1024).
    BinarySI,
    /// `12M` (powers of 1000), and plain numbers.
    DecimalSI,
}

/// An exactly represented quantity: `±digits × 10^exponent`. Equality and ordering compare
/// values, not spellings (as upstream's `Quantity.Cmp`); [`Quantity::format`] keeps the spelling.
#[derive(Debug, Clone)]
pub struct Quantity {
    negative: bool,
    /// Decimal digits of the magnitude, most significant first, with neither leading nor
    /// trailing zeros; empty for zero.
    digits: Vec<u8>,
    exponent: i64,
    format: Format,
}

/// The largest magnitude a binary-suffixed quantity keeps (`maxAllowed`, 2^63-1).
const MAX_ALLOWED: &str = "9223372036854775807";

/// Whether `a` and `b` are the same amount (`30720Mi` and `30Gi`, `1` and `1000m`). Strings that
/// are not quantities are the same only when they are identical.
pub fn same_quantity(a: &str, b: &str) -> bool {
    match (a.parse::<Quantity>(), b.parse::<Quantity>()) {
        (Ok(a), Ok(b)) => a == b,
        (Err(_), Err(_)) => a == b,
        _ => false,
    }
}

/// Orders two quantity strings by amount; `None` when either is not a quantity.
pub fn compare_quantities(a: &str, b: &str) -> Option<Ordering> {
    Some(
        a.parse::<Quantity>()
            .ok()?
            .cmp(&b.parse::<Quantity>().ok()?),
    )
}

impl Quantity {
    /// How the quantity was written (after upstream's adjustments: a binary amount below 1
    /// becomes decimal).
    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether the amount is below zero.
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// Whether the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// Whether the amount is a whole number.
    pub fn is_integer(&self) -> bool {
        self.exponent >= 0 || self.digits.is_empty()
    }

    /// Builds a normalized quantity from raw magnitude digits (any leading or trailing zeros).
    fn new(negative: bool, mut digits: Vec<u8>, mut exponent: i64, format: Format) -> Self {
        let leading = digits.iter().take_while(|d| **d == 0).count();
        digits.drain(..leading);
        while digits.last() == Some(&0) {
            digits.pop();
            exponent += 1;
        }
        if digits.is_empty() {
            exponent = 0;
        }
        Self {
            negative: negative && !digits.is_empty(),
            digits,
            exponent,
            format,
        }
    }

    /// Compares magnitudes, ignoring signs.
    fn cmp_magnitude(&self, other: &Self) -> Ordering {
        match (self.digits.is_empty(), other.digits.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
        let top = |q: &Self| q.digits.len() as i64 + q.exponent;
        top(self)
            .cmp(&top(other))
            .then_with(|| self.digits.cmp(&other.digits))
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

impl FromStr for Quantity {
    type Err = ParseError;

    /// Parses `s` as upstream's `ParseQuantity` does, including its quirks: `1.` and `.5` are
    /// numbers, amounts finer than 1n round up (away from zero) to whole nanos, and binary
    /// amounts are capped at 2^63-1.
    fn from_str(s: &str) -> Result<Self, ParseError> {
        if s.is_empty() {
            return Err(ParseError::FormatWrong);
        }
        let parts = parse::split(s)?;
        let (base, power, format) = parse::interpret(parts.suffix).ok_or(ParseError::Suffix)?;
        let mut digits: Vec<u8> = parts
            .num
            .bytes()
            .chain(parts.denom.bytes())
            .map(|b| b - b'0')
            .collect();
        let mut exponent = -(parts.denom.len() as i64);
        if base == 10 {
            exponent += i64::from(power);
        } else {
            digits = parse::times_power_of_two(&digits, power as u32);
        }
        let mut quantity = Quantity::new(!parts.positive, digits, exponent, format);
        quantity.round_up_to_nanos();
        if format == Format::BinarySI {
            quantity.cap_binary();
        }
        Ok(quantity)
    }
}

impl Quantity {
    /// Rounds a magnitude finer than 10^-9 up to the next nano (upstream's `inf.RoundUp`).
    fn round_up_to_nanos(&mut self) {
        if self.exponent >= -9 || self.digits.is_empty() {
            return;
        }
        let keep = (self.digits.len() as i64 + self.exponent + 9).max(0) as usize;
        let mut kept: Vec<u8> = self.digits[..keep.min(self.digits.len())].to_vec();
        kept.insert(0, 0);
        parse::increment(&mut kept);
        *self = Quantity::new(self.negative, kept, -9, self.format);
    }

    /// Caps a binary quantity's magnitude at 2^63-1, and makes one below 1 decimal (upstream).
    fn cap_binary(&mut self) {
        let max = Quantity::new(
            false,
            MAX_ALLOWED.bytes().map(|b| b - b'0').collect(),
            0,
            Format::BinarySI,
        );
        if self.cmp_magnitude(&max) == Ordering::Greater {
            *self = Quantity {
                negative: self.negative,
                ..max
            };
        }
        let one = Quantity::new(false, vec![1], 0, Format::BinarySI);
        if !self.is_zero() && self.cmp_magnitude(&one) == Ordering::Less {
            self.format = Format::DecimalSI;
        }
    }
}

impl fmt::Display for Quantity {
    /// The canonical form upstream's `Quantity.String()` writes (`1.5` → `1500m`, `1.5Gi` →
    /// `1536Mi`, `5000` → `5k`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&canonical::render(self))
    }
}

mod canonical;
mod parse;

#[cfg(test)]
mod tests;
