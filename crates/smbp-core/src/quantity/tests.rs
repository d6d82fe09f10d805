//! Tests of quantity parsing and comparison, with the vectors of upstream's `quantity_test.go`
//! (`TestQuantityParse`, `TestQuantityCmp`, `TestParseQuantityString`, `TestQuantityString`).

use super::*;

fn q(s: &str) -> Quantity {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// `decQuantity(i, exponent, format)` of upstream's tests.
fn dec(i: i64, exponent: i64, format: Format) -> Quantity {
    let digits = i
        .unsigned_abs()
        .to_string()
        .bytes()
        .map(|b| b - b'0')
        .collect();
    Quantity::new(i < 0, digits, exponent, format)
}

#[test]
fn parses_upstream_test_quantity_parse_table() {
    use Format::{BinarySI as B, DecimalExponent as X, DecimalSI as D};
    let table: &[(&str, i64, i64, Format)] = &[
        ("0", 0, 0, D),
        ("0n", 0, 0, D),
        ("0u", 0, 0, D),
        ("0m", 0, 0, D),
        ("0Ki", 0, 0, B),
        ("0k", 0, 0, D),
        ("0Mi", 0, 0, B),
        ("0M", 0, 0, D),
        ("0Gi", 0, 0, B),
        ("0G", 0, 0, D),
        ("0Ti", 0, 0, B),
        ("0T", 0, 0, D),
        ("1", 1, 0, D),
        ("1Ki", 1024, 0, B),
        ("8Ki", 8 * 1024, 0, B),
        ("7Mi", 7 << 20, 0, B),
        ("6Gi", 6 << 30, 0, B),
        ("5Ti", 5 << 40, 0, B),
        ("4Pi", 4 << 50, 0, B),
        ("3Ei", 3 << 60, 0, B),
        ("10Ti", 10 << 40, 0, B),
        ("100Ti", 100 << 40, 0, B),
        ("5n", 5, -9, D),
        ("4u", 4, -6, D),
        ("3m", 3, -3, D),
        ("9", 9, 0, D),
        ("8k", 8, 3, D),
        ("50k", 5, 4, D),
        ("7M", 7, 6, D),
        ("6G", 6, 9, D),
        ("5T", 5, 12, D),
        ("40T", 4, 13, D),
        ("300T", 3, 14, D),
        ("2P", 2, 15, D),
        ("1E", 1, 18, D),
        ("1E-3", 1, -3, X),
        ("1e3", 1, 3, X),
        ("1E6", 1, 6, X),
        ("1e9", 1, 9, X),
        ("1E12", 1, 12, X),
        ("1e15", 1, 15, X),
        ("1E18", 1, 18, X),
        ("1e14", 1, 14, X),
        ("1e13", 1, 13, X),
        ("100.035k", 100035, 0, D),
        ("0.001", 1, -3, D),
        ("0.0005k", 5, -1, D),
        ("0.005", 5, -3, D),
        ("0.05", 5, -2, D),
        ("0.5", 5, -1, D),
        ("0.00050k", 5, -1, D),
        ("0.00500", 5, -3, D),
        ("0.05000", 5, -2, D),
        ("0.50000", 5, -1, D),
        ("0.5e0", 5, -1, X),
        ("0.5e-1", 5, -2, X),
        ("0.5e-2", 5, -3, X),
        ("10.035M", 10035, 3, D),
        ("1.2e3", 12, 2, X),
        ("1.3E+6", 13, 5, X),
        ("1.40e9", 14, 8, X),
        ("1.53E12", 153, 10, X),
        ("1.6e15", 16, 14, X),
        ("1.7E18", 17, 17, X),
        ("9.01", 901, -2, D),
        ("8.1k", 81, 2, D),
        ("7.123456M", 7123456, 0, D),
        ("6.987654321G", 6987654321, 0, D),
        ("5.444T", 5444, 9, D),
        ("40.1T", 401, 11, D),
        ("300.2T", 3002, 11, D),
        ("2.5P", 25, 14, D),
        ("1.01E", 101, 16, D),
        // Things that saturate/round.
        ("3.001n", 4, -9, D),
        ("1.1E-9", 2, -9, X),
        ("0.0000000001", 1, -9, D),
        ("0.0000000005", 1, -9, D),
        ("0.00000000050", 1, -9, D),
        ("0.5e-9", 1, -9, X),
        ("0.9n", 1, -9, D),
        ("0.00000012345", 124, -9, D),
        ("0.00000012354", 124, -9, D),
        ("9Ei", i64::MAX, 0, B),
        ("9223372036854775807Ki", i64::MAX, 0, B),
        ("12E", 12, 18, D),
        // Fractional binary amounts.
        ("100.035Ki", 10243584, -2, B),
        ("0.5Mi", 524288, 0, B),
        ("0.05Gi", 536870912, -1, B),
        ("0.025Ti", 274877906944, -1, B),
        // "Things written by trolls".
        ("0.000000000001Ki", 2, -9, D),
        (".001", 1, -3, D),
        (".0001k", 100, -3, D),
        ("1.", 1, 0, D),
        ("1.G", 1, 9, D),
    ];
    for (input, i, exponent, format) in table {
        let got = q(input);
        assert_eq!(got, dec(*i, *exponent, *format), "{input}");
        assert_eq!(got.format(), *format, "{input}");
        let negative = q(&format!("-{input}"));
        assert_eq!(negative, dec(-*i, *exponent, *format), "-{input}");
    }
}

#[test]
fn refuses_upstream_invalid_quantities_with_upstream_errors() {
    for input in ["1.1.M", "1+1.0M", " 1", "1 ", "aoeu", "0.1am", ""] {
        assert_eq!(
            input.parse::<Quantity>(),
            Err(ParseError::FormatWrong),
            "{input:?}"
        );
    }
    for input in ["0.1mi", ".5i", "1i", "-3.01e-", "1e", "1Mi5"] {
        assert_eq!(
            input.parse::<Quantity>(),
            Err(ParseError::Suffix),
            "{input:?}"
        );
    }
    assert_eq!(
        ParseError::FormatWrong.to_string(),
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    );
}

#[test]
fn splits_like_upstream_parse_quantity_string() {
    let cases = [
        ("0.025Ti", true, "0", "025", "Ti"),
        ("1.025Ti", true, "1", "025", "Ti"),
        ("-1.025Ti", false, "1", "025", "Ti"),
        (".", true, "0", "", ""),
        ("-.", false, "0", "", ""),
        ("1E-3", true, "1", "", "E-3"),
    ];
    for (input, positive, num, denom, suffix) in cases {
        let parts = parse::split(input).unwrap();
        assert_eq!(
            parts,
            parse::Parts {
                positive,
                num,
                denom,
                suffix
            },
            "{input}"
        );
    }
}

#[test]
fn compares_like_upstream_quantity_cmp() {
    assert_eq!(compare_quantities("0", "0"), Some(Ordering::Equal));
    assert_eq!(compare_quantities("100m", "50m"), Some(Ordering::Greater));
    assert_eq!(compare_quantities("50m", "100m"), Some(Ordering::Less));
    assert_eq!(
        compare_quantities("10000T", "100Gi"),
        Some(Ordering::Greater)
    );
    assert_eq!(compare_quantities("-1", "-2"), Some(Ordering::Greater));
    assert_eq!(compare_quantities("-1", "0"), Some(Ordering::Less));
    assert_eq!(compare_quantities("1", "x"), None);
}

#[test]
fn same_quantity_compares_amounts_not_spellings() {
    assert!(same_quantity("30720Mi", "30Gi"));
    assert!(same_quantity("1", "1000m"));
    assert!(same_quantity("1e3", "1k"));
    assert!(same_quantity("0.5", "500m"));
    assert!(same_quantity("1Ki", "1024"));
    assert!(same_quantity("-0", "0"));
    assert!(!same_quantity("1Gi", "1G"));
    assert!(!same_quantity("1", "1x"));
    assert!(same_quantity("bad", "bad"));
}

#[test]
fn writes_upstream_canonical_strings() {
    let cases = [
        ("1.5", "1500m"),
        ("1.5Gi", "1536Mi"),
        ("5000", "5k"),
        ("100m", "100m"),
        ("1000m", "1"),
        ("0.5Mi", "512Ki"),
        ("1023Mi", "1023Mi"),
        ("1024Mi", "1Gi"),
        ("100Ki", "100Ki"),
        ("1000Ki", "1000Ki"),
        ("1e3", "1e3"),
        ("1.5e4", "15e3"),
        ("0", "0"),
        ("-2", "-2"),
        ("12E", "12E"),
        ("12e21", "12e21"),
        ("100.035Ki", "102435840m"),
        ("0.5", "500m"),
        ("512", "512"),
    ];
    for (input, canonical) in cases {
        assert_eq!(q(input).to_string(), canonical, "{input}");
    }
}
