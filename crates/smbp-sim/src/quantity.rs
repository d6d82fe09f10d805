//! Kubernetes resource quantities (`500m`, `30Gi`, `1e3`), ported from apimachinery's
//! `resource.Quantity` (`quantity.go`, `suffix.go`, `amount.go`): the same scanner, suffixes,
//! rounding up to nano units, BinarySI cap, comparison and canonical form (`String()`), so the
//! simulated cluster refuses, compares and stores quantities exactly as kube-apiserver does.

use num_bigint::{BigInt, Sign};
use std::cmp::Ordering;
use std::fmt;

/// The expression kube-apiserver names when a quantity does not scan.
const SPLIT_RE: &str = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

/// The three ways a quantity is written, remembered from parsing and used again when printing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `12e6`.
    DecimalExponent,
    /// `12Mi` (powers of 1024).
    BinarySi,
    /// `12M` (powers of 1000).
    DecimalSi,
}

/// Why a string is not a quantity; `Display` is the upstream error text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// `ErrFormatWrong`.
    FormatWrong,
    /// `ErrNumeric`.
    Numeric,
    /// `ErrSuffix`.
    Suffix,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::FormatWrong => {
                write!(
                    f,
                    "quantities must match the regular expression '{SPLIT_RE}'"
                )
            }
            ParseError::Numeric => f.write_str("unable to parse numeric part of quantity"),
            ParseError::Suffix => f.write_str("unable to parse quantity's suffix"),
        }
    }
}

impl std::error::Error for ParseError {}

/// A fixed-point number: `unscaled × 10^-scale`, as Go's `inf.Dec`, plus its format.
#[derive(Clone, Debug)]
pub struct Quantity {
    unscaled: BigInt,
    scale: i64,
    format: Format,
}

/// The pieces `parseQuantityString` scans out of a quantity.
struct Parts<'a> {
    positive: bool,
    num: &'a str,
    denom: &'a str,
    suffix: &'a str,
}

/// The end of the run of bytes from `from` that satisfy `keep`.
fn run_end(bytes: &[u8], from: usize, keep: impl Fn(u8) -> bool) -> usize {
    bytes[from..]
        .iter()
        .position(|b| !keep(*b))
        .map_or(bytes.len(), |i| from + i)
}

/// Go's `parseQuantityString`: sign, number (leading zeros dropped), fraction, then a suffix of
/// suffix letters followed by an optionally signed integer; anything after that is an error.
fn scan(s: &str) -> Result<Parts<'_>, ParseError> {
    let bytes = s.as_bytes();
    let positive = bytes.first() != Some(&b'-');
    let mut pos = usize::from(matches!(bytes.first(), Some(b'-' | b'+')));
    pos = run_end(bytes, pos, |b| b == b'0');
    let zero = Parts {
        positive,
        num: "0",
        denom: "",
        suffix: "",
    };
    if pos == bytes.len() {
        return Ok(zero);
    }
    let num_end = run_end(bytes, pos, |b| b.is_ascii_digit());
    let num = if num_end == pos {
        "0"
    } else {
        &s[pos..num_end]
    };
    pos = num_end;
    let mut denom = "";
    if bytes.get(pos) == Some(&b'.') {
        let denom_end = run_end(bytes, pos + 1, |b| b.is_ascii_digit());
        denom = &s[pos + 1..denom_end];
        pos = denom_end;
    }
    let suffix_start = pos;
    pos = run_end(bytes, pos, |b| b"eEinumkKMGTP".contains(&b));
    if matches!(bytes.get(pos), Some(b'-' | b'+')) {
        pos += 1;
    }
    if run_end(bytes, pos, |b| b.is_ascii_digit()) != bytes.len() {
        return Err(ParseError::FormatWrong);
    }
    Ok(Parts {
        positive,
        num,
        denom,
        suffix: &s[suffix_start..],
    })
}

/// The decimal SI suffixes and their powers of ten.
const DECIMAL_SUFFIXES: [(&str, i64); 10] = [
    ("n", -9),
    ("u", -6),
    ("m", -3),
    ("", 0),
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
    ("E", 18),
];

/// The binary SI suffixes and their powers of two.
const BINARY_SUFFIXES: [(&str, i64); 6] = [
    ("Ki", 10),
    ("Mi", 20),
    ("Gi", 30),
    ("Ti", 40),
    ("Pi", 50),
    ("Ei", 60),
];

/// `suffixHandler.interpret`: (base, exponent, format) of a suffix. Exponents must fit an int32
/// scale that can be negated.
fn interpret(suffix: &str) -> Option<(u32, i64, Format)> {
    let lookup = |table: &[(&str, i64)]| table.iter().find(|(s, _)| *s == suffix).map(|p| p.1);
    if let Some(exponent) = lookup(&DECIMAL_SUFFIXES) {
        return Some((10, exponent, Format::DecimalSi));
    }
    if let Some(exponent) = lookup(&BINARY_SUFFIXES) {
        return Some((2, exponent, Format::BinarySi));
    }
    let rest = suffix.strip_prefix(['e', 'E']).filter(|r| !r.is_empty())?;
    let exponent: i64 = rest.parse().ok()?;
    (exponent.abs() <= i64::from(i32::MAX)).then_some((10, exponent, Format::DecimalExponent))
}

/// 10^n.
fn pow10(n: u64) -> BigInt {
    BigInt::from(10u8).pow(u32::try_from(n).unwrap_or(u32::MAX))
}

/// How many decimal digits `n` has (0 for zero).
fn digits(n: &BigInt) -> i64 {
    if n.sign() == Sign::NoSign {
        0
    } else {
        n.magnitude().to_string().len() as i64
    }
}

/// The largest BinarySI amount, 2^63-1 (`maxAllowed`).
fn max_allowed() -> BigInt {
    BigInt::from(i64::MAX)
}

/// Parses a quantity exactly as `resource.ParseQuantity` does.
pub fn parse(s: &str) -> Result<Quantity, ParseError> {
    if s.is_empty() {
        return Err(ParseError::FormatWrong);
    }
    let parts = scan(s)?;
    let (base, exponent, mut format) = interpret(parts.suffix).ok_or(ParseError::Suffix)?;
    let mut unscaled: BigInt = format!("{}{}", parts.num, parts.denom)
        .parse()
        .map_err(|_| ParseError::Numeric)?;
    let mut scale = parts.denom.len() as i64;
    if base == 10 {
        scale -= exponent;
    } else {
        unscaled <<= exponent as usize;
    }
    // Non-zero amounts are rounded up to the nearest nano unit.
    if unscaled.sign() != Sign::NoSign && scale > 9 {
        let drop = (scale - 9) as u64;
        unscaled = if digits(&unscaled) as u64 <= drop {
            BigInt::from(1)
        } else {
            let divisor = pow10(drop);
            let quotient = &unscaled / &divisor;
            if &quotient * &divisor == unscaled {
                quotient
            } else {
                quotient + 1
            }
        };
        scale = 9;
    }
    if format == Format::BinarySi {
        let one = pow10(scale.max(0) as u64);
        if scale >= 0 && unscaled > max_allowed() * &one {
            (unscaled, scale) = (max_allowed(), 0);
        } else if scale > 0 && unscaled.sign() == Sign::Plus && unscaled < one {
            format = Format::DecimalSi;
        }
    }
    if !parts.positive {
        unscaled = -unscaled;
    }
    Ok(Quantity {
        unscaled,
        scale,
        format,
    })
}

impl Quantity {
    /// Whether the amount is below zero.
    pub fn is_negative(&self) -> bool {
        self.unscaled.sign() == Sign::Minus
    }

    /// The same amount without its sign.
    fn abs(&self) -> Quantity {
        Quantity {
            unscaled: BigInt::from_biguint(Sign::Plus, self.unscaled.magnitude().clone()),
            ..self.clone()
        }
    }

    /// The amount rounded up to a whole number (Go's `Value()`), when it fits an i128.
    pub fn value_ceil(&self) -> Option<i128> {
        let whole = if self.scale <= 0 {
            &self.unscaled * pow10(self.scale.unsigned_abs())
        } else {
            let divisor = pow10(self.scale as u64);
            let quotient = &self.unscaled / &divisor;
            if self.unscaled.sign() == Sign::Plus && &quotient * &divisor != self.unscaled {
                quotient + 1
            } else {
                quotient
            }
        };
        i128::try_from(whole).ok()
    }

    /// `10^exponent`-normalised mantissa and exponent with no trailing zeros in the mantissa.
    fn stripped(&self) -> (BigInt, i64) {
        let mut mantissa = self.unscaled.clone();
        let mut exponent = -self.scale;
        let ten = BigInt::from(10u8);
        while mantissa.sign() != Sign::NoSign && (&mantissa % &ten).sign() == Sign::NoSign {
            mantissa /= &ten;
            exponent += 1;
        }
        (mantissa, exponent)
    }

    /// `AsCanonicalBytes`: mantissa and an exponent that is a multiple of 3, losing nothing.
    fn canonical_decimal(&self) -> (BigInt, i64) {
        let (mut mantissa, mut exponent) = self.stripped();
        while exponent % 3 != 0 {
            mantissa *= 10;
            exponent -= 1;
        }
        (mantissa, exponent)
    }

    /// The whole amount when it has no fractional part (`AsScale(0)` exact).
    fn whole(&self) -> Option<BigInt> {
        let (mantissa, exponent) = self.stripped();
        (exponent >= 0).then(|| mantissa * pow10(exponent as u64))
    }

    /// `1024^n` factored out of a whole amount (`AsCanonicalBase1024Bytes`).
    fn canonical_binary(whole: BigInt) -> (BigInt, i64) {
        let mut amount = whole;
        let mut times = 0;
        let kibi = BigInt::from(1024);
        while (&amount % &kibi).sign() == Sign::NoSign {
            amount /= &kibi;
            times += 1;
        }
        (amount, times)
    }
}

/// Writes `mantissa` with the decimal suffix of `exponent` in `format`; a DecimalSI exponent
/// without a suffix (beyond `E`, below `n`) is written in exponent notation.
fn write_decimal(
    f: &mut fmt::Formatter<'_>,
    mantissa: &BigInt,
    exponent: i64,
    format: Format,
) -> fmt::Result {
    let si = DECIMAL_SUFFIXES.iter().find(|(_, e)| *e == exponent);
    match (format, si) {
        (Format::DecimalSi, Some((suffix, _))) => write!(f, "{mantissa}{suffix}"),
        (_, _) if exponent == 0 => write!(f, "{mantissa}"),
        _ => write!(f, "{mantissa}e{exponent}"),
    }
}

impl fmt::Display for Quantity {
    /// The canonical form (`CanonicalizeBytes`): the largest suffix of the remembered format that
    /// loses no precision; BinarySI amounts below 1024 or with a fraction print as DecimalSI.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.unscaled.sign() == Sign::NoSign {
            return f.write_str("0");
        }
        let kibi = Quantity {
            unscaled: BigInt::from(1024),
            scale: 0,
            format: Format::DecimalSi,
        };
        let small = self.abs() < kibi;
        let whole = (self.format == Format::BinarySi && !small)
            .then(|| self.whole())
            .flatten();
        let Some(whole) = whole else {
            let format = match self.format {
                Format::BinarySi => Format::DecimalSi,
                other => other,
            };
            let (mantissa, exponent) = self.canonical_decimal();
            return write_decimal(f, &mantissa, exponent, format);
        };
        let (amount, times) = Self::canonical_binary(whole);
        match times {
            0 => write!(f, "{amount}"),
            1..=6 => write!(f, "{amount}{}", BINARY_SUFFIXES[times as usize - 1].0),
            _ => {
                let (mantissa, exponent) = self.canonical_decimal();
                write_decimal(f, &mantissa, exponent, Format::DecimalExponent)
            }
        }
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
    /// Compares amounts (not formats), without materialising huge powers of ten.
    fn cmp(&self, other: &Self) -> Ordering {
        let by_sign = self.unscaled.sign().cmp(&other.unscaled.sign());
        if by_sign != Ordering::Equal || self.unscaled.sign() == Sign::NoSign {
            return by_sign;
        }
        let magnitude = |q: &Quantity| digits(&q.unscaled) - q.scale;
        let by_magnitude = magnitude(self).cmp(&magnitude(other));
        let absolute = if by_magnitude != Ordering::Equal {
            by_magnitude
        } else {
            let (a, b) = (self.unscaled.magnitude(), other.unscaled.magnitude());
            match self.scale.cmp(&other.scale) {
                Ordering::Less => (a * pow10((other.scale - self.scale) as u64).magnitude()).cmp(b),
                _ => a.cmp(&(b * pow10((self.scale - other.scale) as u64).magnitude())),
            }
        };
        if self.is_negative() {
            absolute.reverse()
        } else {
            absolute
        }
    }
}

#[cfg(test)]
mod tests;
