//! Upstream's own test vectors (apimachinery `quantity_test.go`: TestQuantityParse,
//! TestQuantityString, TestQuantityParseEmit, TestBinarySIZeroExponentString), run against the port.

use super::*;

/// `decQuantity(i, exponent, format)` of the Go tests.
fn dec(i: i64, exponent: i64, format: Format) -> Quantity {
    Quantity {
        unscaled: BigInt::from(i),
        scale: -exponent,
        format,
    }
}

use Format::{BinarySi as B, DecimalExponent as X, DecimalSi as D};

/// TestQuantityParse's table.
fn parse_table() -> Vec<(&'static str, Quantity)> {
    let mib = 1024 * 1024;
    vec![
        ("0", dec(0, 0, D)),
        ("0n", dec(0, 0, D)),
        ("0u", dec(0, 0, D)),
        ("0m", dec(0, 0, D)),
        ("0Ki", dec(0, 0, B)),
        ("0k", dec(0, 0, D)),
        ("0Mi", dec(0, 0, B)),
        ("0M", dec(0, 0, D)),
        ("0Gi", dec(0, 0, B)),
        ("0G", dec(0, 0, D)),
        ("0Ti", dec(0, 0, B)),
        ("0T", dec(0, 0, D)),
        ("1", dec(1, 0, D)),
        ("1Ki", dec(1024, 0, B)),
        ("8Ki", dec(8 * 1024, 0, B)),
        ("7Mi", dec(7 * mib, 0, B)),
        ("6Gi", dec(6 * mib * 1024, 0, B)),
        ("5Ti", dec(5 * mib * mib, 0, B)),
        ("4Pi", dec(4 * mib * mib * 1024, 0, B)),
        ("3Ei", dec(3 * mib * mib * mib, 0, B)),
        ("10Ti", dec(10 * mib * mib, 0, B)),
        ("100Ti", dec(100 * mib * mib, 0, B)),
        ("5n", dec(5, -9, D)),
        ("4u", dec(4, -6, D)),
        ("3m", dec(3, -3, D)),
        ("9", dec(9, 0, D)),
        ("8k", dec(8, 3, D)),
        ("50k", dec(5, 4, D)),
        ("7M", dec(7, 6, D)),
        ("6G", dec(6, 9, D)),
        ("5T", dec(5, 12, D)),
        ("40T", dec(4, 13, D)),
        ("300T", dec(3, 14, D)),
        ("2P", dec(2, 15, D)),
        ("1E", dec(1, 18, D)),
        ("1E-3", dec(1, -3, X)),
        ("1e3", dec(1, 3, X)),
        ("1E6", dec(1, 6, X)),
        ("1e9", dec(1, 9, X)),
        ("1E12", dec(1, 12, X)),
        ("1e15", dec(1, 15, X)),
        ("1E18", dec(1, 18, X)),
        ("1e14", dec(1, 14, X)),
        ("1e13", dec(1, 13, X)),
        ("100.035k", dec(100035, 0, D)),
        ("0.001", dec(1, -3, D)),
        ("0.0005k", dec(5, -1, D)),
        ("0.005", dec(5, -3, D)),
        ("0.05", dec(5, -2, D)),
        ("0.5", dec(5, -1, D)),
        ("0.00050k", dec(5, -1, D)),
        ("0.00500", dec(5, -3, D)),
        ("0.05000", dec(5, -2, D)),
        ("0.50000", dec(5, -1, D)),
        ("0.5e0", dec(5, -1, X)),
        ("0.5e-1", dec(5, -2, X)),
        ("0.5e-2", dec(5, -3, X)),
        ("10.035M", dec(10035, 3, D)),
        ("1.2e3", dec(12, 2, X)),
        ("1.3E+6", dec(13, 5, X)),
        ("1.40e9", dec(14, 8, X)),
        ("1.53E12", dec(153, 10, X)),
        ("1.6e15", dec(16, 14, X)),
        ("1.7E18", dec(17, 17, X)),
        ("9.01", dec(901, -2, D)),
        ("8.1k", dec(81, 2, D)),
        ("7.123456M", dec(7123456, 0, D)),
        ("6.987654321G", dec(6987654321, 0, D)),
        ("5.444T", dec(5444, 9, D)),
        ("40.1T", dec(401, 11, D)),
        ("300.2T", dec(3002, 11, D)),
        ("2.5P", dec(25, 14, D)),
        ("1.01E", dec(101, 16, D)),
        ("3.001n", dec(4, -9, D)),
        ("1.1E-9", dec(2, -9, X)),
        ("0.0000000001", dec(1, -9, D)),
        ("0.0000000005", dec(1, -9, D)),
        ("0.00000000050", dec(1, -9, D)),
        ("0.5e-9", dec(1, -9, X)),
        ("0.9n", dec(1, -9, D)),
        ("0.00000012345", dec(124, -9, D)),
        ("0.00000012354", dec(124, -9, D)),
        ("9Ei", dec(i64::MAX, 0, B)),
        ("9223372036854775807Ki", dec(i64::MAX, 0, B)),
        ("12E", dec(12, 18, D)),
        ("100.035Ki", dec(10243584, -2, B)),
        ("0.5Mi", dec(mib / 2, 0, B)),
        ("0.05Gi", dec(536870912, -1, B)),
        ("0.025Ti", dec(274877906944, -1, B)),
        ("0.000000000001Ki", dec(2, -9, D)),
        (".001", dec(1, -3, D)),
        (".0001k", dec(100, -3, D)),
        ("1.", dec(1, 0, D)),
        ("1.G", dec(1, 9, D)),
    ]
}

#[test]
fn upstream_parse_table_with_and_without_signs() {
    for (input, expected) in parse_table() {
        for (prefix, negate) in [("", false), ("+", false), ("-", true)] {
            let text = format!("{prefix}{input}");
            let got = parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let mut want = expected.clone();
            if negate {
                want.unscaled = -want.unscaled;
            }
            assert_eq!(got.cmp(&want), Ordering::Equal, "{text}: got {got}");
            assert_eq!(got.format, want.format, "{text}");
        }
    }
}

#[test]
fn upstream_invalid_quantities_are_refused() {
    for input in [
        "",
        "1.1.M",
        "1+1.0M",
        "0.1mi",
        "0.1am",
        "aoeu",
        ".5i",
        "1i",
        "-3.01i",
        "-3.01e-",
        "1e4294967297",
        " 1",
        "1 ",
    ] {
        assert!(parse(input).is_err(), "{input:?} parsed");
    }
    assert_eq!(
        parse("1ki").unwrap_err().to_string(),
        "unable to parse quantity's suffix"
    );
    assert_eq!(
        parse("aoeu").unwrap_err().to_string(),
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    );
}

/// TestQuantityString: (value, canonical, an alternate spelling that canonicalises to it).
fn string_table() -> Vec<(Quantity, &'static str, &'static str)> {
    let gib = 1024 * 1024 * 1024;
    vec![
        (dec(gib, 0, B), "1Gi", "1024Mi"),
        (dec(300 * 1024 * 1024, 0, B), "300Mi", "307200Ki"),
        (dec(6 * 1024, 0, B), "6Ki", ""),
        (dec(1001 * gib, 0, B), "1001Gi", "1025024Mi"),
        (dec(1024 * gib, 0, B), "1Ti", "1024Gi"),
        (dec(5, 0, B), "5", "5000m"),
        (dec(500, -3, B), "500m", "0.5"),
        (dec(1, 9, D), "1G", "1000M"),
        (dec(1000, 6, D), "1G", "0.001T"),
        (dec(1000000, 3, D), "1G", ""),
        (dec(1000000000, 0, D), "1G", ""),
        (dec(1, -3, D), "1m", "1000u"),
        (dec(80, -3, D), "80m", ""),
        (dec(1080, -3, D), "1080m", "1.08"),
        (dec(108, -2, D), "1080m", "1080000000n"),
        (dec(10800, -4, D), "1080m", ""),
        (dec(300, 6, D), "300M", ""),
        (dec(1, 12, D), "1T", ""),
        (dec(1, 18, D), "1E", ""),
        (dec(1, 21, D), "1e21", "1000E"),
        (dec(5, 21, D), "5e21", "5000E"),
        (dec(1, 24, D), "1e24", "1000000E"),
        (dec(1, 70, B), "10e69", ""),
        (dec(2, 70, B), "20e69", ""),
        (dec(1, 72, B), "1e72", ""),
        (dec(1234567, 6, D), "1234567M", ""),
        (dec(1234567, -3, B), "1234567m", ""),
        (dec(3, 3, D), "3k", ""),
        (dec(1025, 0, B), "1025", ""),
        (dec(0, 0, D), "0", ""),
        (dec(0, 0, B), "0", ""),
        (dec(1, 9, X), "1e9", ".001e12"),
        (dec(1, -3, X), "1e-3", "0.001e0"),
        (dec(1, -9, X), "1e-9", "1000e-12"),
        (dec(80, -3, X), "80e-3", ""),
        (dec(300, 6, X), "300e6", ""),
        (dec(1, 12, X), "1e12", ""),
        (dec(1, 3, X), "1e3", ""),
        (dec(3, 3, X), "3e3", ""),
        (dec(0, 0, X), "0", "00"),
        (dec(1, -9, D), "1n", ""),
        (dec(80, -9, D), "80n", ""),
        (dec(1080, -9, D), "1080n", ""),
        (dec(108, -8, D), "1080n", ""),
        (dec(10800, -10, D), "1080n", ""),
        (dec(1, -6, D), "1u", ""),
        (dec(80, -6, D), "80u", ""),
        (dec(1080, -6, D), "1080u", ""),
    ]
}

/// TestBinarySIZeroExponentString and TestQuantityStringBelowNano: canonical strings of values a
/// parse does not produce (so no round trip).
#[test]
fn upstream_strings_of_unparsed_values() {
    assert_eq!(dec(2000, 0, B).to_string(), "2000");
    assert_eq!(dec(-2000, 0, B).to_string(), "-2000");
    assert_eq!(dec(1, -12, D).to_string(), "1e-12");
    assert_eq!(dec(1, -10, D).to_string(), "100e-12");
}

#[test]
fn upstream_canonical_strings_and_alternates() {
    for (value, canonical, alternate) in string_table() {
        assert_eq!(value.to_string(), canonical, "{value:?}");
        let mut negative = value.clone();
        negative.unscaled = -negative.unscaled;
        if canonical != "0" {
            assert_eq!(negative.to_string(), format!("-{canonical}"));
        }
        let reparsed = parse(canonical).unwrap();
        assert_eq!(reparsed.to_string(), canonical, "{canonical} round trip");
        if !alternate.is_empty() {
            assert_eq!(
                parse(alternate).unwrap().to_string(),
                canonical,
                "{alternate}"
            );
        }
    }
}

#[test]
fn upstream_parse_emit_table() {
    for (input, canonical) in [
        ("1Ki", "1Ki"),
        ("1Mi", "1Mi"),
        ("1Gi", "1Gi"),
        ("1024Mi", "1Gi"),
        ("1000M", "1G"),
        (".001Ki", "1024m"),
        (".000001Ki", "1024u"),
        (".000000001Ki", "1024n"),
        (".000000000001Ki", "2n"),
        ("30720Mi", "30Gi"),
        ("1000m", "1"),
        ("1e3", "1e3"),
        ("1000", "1k"),
    ] {
        assert_eq!(parse(input).unwrap().to_string(), canonical, "{input}");
        let negative = format!("-{input}");
        assert_eq!(
            parse(&negative).unwrap().to_string(),
            format!("-{canonical}"),
            "{negative}"
        );
    }
}

#[test]
fn comparison_and_whole_values() {
    assert!(parse("10000T").unwrap() > parse("100Gi").unwrap());
    assert!(parse("100m").unwrap() > parse("50m").unwrap());
    assert!(parse("-1").unwrap() < parse("1m").unwrap());
    assert!(parse("1e2147483647").unwrap() > parse("9Ei").unwrap());
    assert_eq!(parse("1Gi").unwrap().value_ceil(), Some(1 << 30));
    assert_eq!(parse("1500m").unwrap().value_ceil(), Some(2));
    assert!(parse("-1").unwrap().is_negative());
}
