//! The canonical spelling upstream's `Quantity.String()` writes (`CanonicalizeBytes`): no
//! fractional digits, the largest suffix that loses nothing, binary suffixes only for whole
//! amounts of at least 1024.

use super::{Format, Quantity};

/// Decimal suffixes by power of ten.
const DECIMAL: [(i64, &str); 10] = [
    (-9, "n"),
    (-6, "u"),
    (-3, "m"),
    (0, ""),
    (3, "k"),
    (6, "M"),
    (9, "G"),
    (12, "T"),
    (15, "P"),
    (18, "E"),
];

/// The canonical string of `q`.
pub(super) fn render(q: &Quantity) -> String {
    if q.is_zero() {
        return "0".into();
    }
    let sign = if q.negative { "-" } else { "" };
    if q.format == Format::BinarySI && q.is_integer() && whole(q) >= 1024 {
        let (mantissa, power) = binary(q);
        let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][power];
        return format!("{sign}{mantissa}{suffix}");
    }
    // Exponent: the multiple of three at or below the value's, so the mantissa is whole.
    let exponent = q.exponent.div_euclid(3) * 3;
    let zeros = (q.exponent - exponent) as usize;
    let mantissa: String = q
        .digits
        .iter()
        .map(|d| char::from(b'0' + d))
        .chain(std::iter::repeat_n('0', zeros))
        .collect();
    let suffix = match q.format {
        Format::DecimalExponent => exponent_suffix(exponent),
        _ => DECIMAL
            .iter()
            .find(|(power, _)| *power == exponent)
            .map_or_else(|| exponent_suffix(exponent), |(_, s)| (*s).to_string()),
    };
    format!("{sign}{mantissa}{suffix}")
}

fn exponent_suffix(exponent: i64) -> String {
    if exponent == 0 {
        String::new()
    } else {
        format!("e{exponent}")
    }
}

/// The whole magnitude as an integer: binary amounts are capped at 2^63-1, so it fits.
fn whole(q: &Quantity) -> u128 {
    q.digits
        .iter()
        .fold(0u128, |acc, d| acc * 10 + u128::from(*d))
        * 10u128.pow(q.exponent as u32)
}

/// The whole magnitude as `mantissa × 1024^power` with the largest power (at most 6, `Ei`).
fn binary(q: &Quantity) -> (u128, usize) {
    let mut mantissa = whole(q);
    let mut power = 0;
    while power < 6 && mantissa.is_multiple_of(1024) {
        mantissa /= 1024;
        power += 1;
    }
    (mantissa, power)
}
