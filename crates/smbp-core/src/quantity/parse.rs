//! The scanner and suffix table of upstream's `parseQuantityString` and
//! `suffixHandler.interpret`, plus the digit arithmetic the exact value needs.

use super::{Format, ParseError};

/// A quantity string split as upstream's scanner splits it.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Parts<'a> {
    /// No leading `-`.
    pub positive: bool,
    /// Integer digits without leading zeros (`"0"` when there are none).
    pub num: &'a str,
    /// Fraction digits (possibly empty).
    pub denom: &'a str,
    /// Everything after the number (`Mi`, `e-3`, …).
    pub suffix: &'a str,
}

/// Splits `s` into sign, integer digits, fraction digits and suffix (`parseQuantityString`).
pub(super) fn split(s: &str) -> Result<Parts<'_>, ParseError> {
    let bytes = s.as_bytes();
    let positive = bytes[0] != b'-';
    let mut pos = usize::from(matches!(bytes[0], b'-' | b'+'));
    pos += bytes[pos..].iter().take_while(|b| **b == b'0').count();
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let num_len = digits(pos);
    let num = if num_len == 0 {
        "0"
    } else {
        &s[pos..pos + num_len]
    };
    pos += num_len;
    let mut denom = "";
    if bytes.get(pos) == Some(&b'.') {
        pos += 1;
        let len = digits(pos);
        denom = &s[pos..pos + len];
        pos += len;
    }
    let suffix = &s[pos..];
    let letters = suffix
        .bytes()
        .take_while(|b| b"eEinumkKMGTP".contains(b))
        .count();
    let mut rest = &suffix.as_bytes()[letters..];
    if let Some(b'+' | b'-') = rest.first() {
        rest = &rest[1..];
    }
    if !rest.iter().all(u8::is_ascii_digit) {
        return Err(ParseError::FormatWrong);
    }
    Ok(Parts {
        positive,
        num,
        denom,
        suffix,
    })
}

/// The base, power and format a suffix stands for (`suffixHandler.interpret`); `None` for an
/// unknown suffix. A decimal exponent is truncated to 32 bits, as upstream's `int32(parsed)`.
pub(super) fn interpret(suffix: &str) -> Option<(u32, i32, Format)> {
    let decimal = match suffix {
        "n" => Some(-9),
        "u" => Some(-6),
        "m" => Some(-3),
        "" => Some(0),
        "k" => Some(3),
        "M" => Some(6),
        "G" => Some(9),
        "T" => Some(12),
        "P" => Some(15),
        "E" => Some(18),
        _ => None,
    };
    if let Some(power) = decimal {
        return Some((10, power, Format::DecimalSI));
    }
    let binary = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
        .iter()
        .position(|s| *s == suffix);
    if let Some(i) = binary {
        return Some((2, 10 * (i as i32 + 1), Format::BinarySI));
    }
    let exponent = suffix.strip_prefix(['e', 'E']).filter(|e| !e.is_empty())?;
    let parsed: i64 = exponent.parse().ok()?;
    Some((10, parsed as i32, Format::DecimalExponent))
}

/// `digits × 2^power`, as decimal digits (most significant first).
pub(super) fn times_power_of_two(digits: &[u8], power: u32) -> Vec<u8> {
    let mut out = digits.to_vec();
    for _ in 0..power {
        let mut carry = 0;
        for d in out.iter_mut().rev() {
            let v = *d * 2 + carry;
            *d = v % 10;
            carry = v / 10;
        }
        if carry > 0 {
            out.insert(0, carry);
        }
    }
    out
}

/// Adds one to the last digit of `digits`, carrying; the caller leaves room for a final carry.
pub(super) fn increment(digits: &mut [u8]) {
    for d in digits.iter_mut().rev() {
        if *d < 9 {
            *d += 1;
            return;
        }
        *d = 0;
    }
}
