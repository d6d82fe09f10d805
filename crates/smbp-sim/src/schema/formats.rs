//! The OpenAPI string `format`s kube-apiserver checks in custom resources: the formats
//! apiextensions supports (`supportedVersionedFormats`: bsonobjectid, uri, email, hostname, ipv4,
//! ipv6, cidr, mac, uuid, uuid3/4/5, isbn, isbn10/13, creditcard, ssn, hexcolor, rgbcolor, byte,
//! password, date, duration, datetime), each as kube-openapi's `strfmt` registry validates it.
//! Every other format (`int32`, `int-or-string`, ...) is stripped by the apiserver and never
//! checked. Names are normalised as go-openapi does: `date-time` is `datetime`.

use regex::Regex;
use std::net::Ipv6Addr;
use std::sync::OnceLock;

/// Whether `text` is valid for `format` (true for formats kube-apiserver does not check).
pub fn valid(format: &str, text: &str) -> bool {
    match format.replace('-', "").as_str() {
        "bsonobjectid" => text.len() == 24 && text.chars().all(|c| c.is_ascii_hexdigit()),
        "uri" => is_request_uri(text),
        "email" => is_email(text),
        "hostname" => is_hostname(text),
        "ipv4" => is_ipv4(text),
        "ipv6" => text.contains(':') && parse_ip(text).is_some(),
        "cidr" => is_cidr(text),
        "mac" => is_mac(text),
        "uuid" => matches(&UUID, text),
        "uuid3" => matches(&UUID3, text),
        "uuid4" => matches(&UUID4, text),
        "uuid5" => matches(&UUID5, text),
        "isbn" => is_isbn10(text) || is_isbn13(text),
        "isbn10" => is_isbn10(text),
        "isbn13" => is_isbn13(text),
        "creditcard" => is_credit_card(text),
        "ssn" => text.len() == 11 && matches(&SSN, text),
        "hexcolor" => matches(&HEX_COLOR, text),
        "rgbcolor" => matches(&RGB_COLOR, text),
        "byte" => matches(&BASE64, text),
        "date" => is_date(text),
        "duration" => is_duration(text),
        "datetime" => is_date_time(text),
        _ => true,
    }
}

/// A lazily compiled pattern.
struct Pattern(&'static str, OnceLock<Regex>);

impl Pattern {
    const fn new(pattern: &'static str) -> Self {
        Pattern(pattern, OnceLock::new())
    }
}

fn matches(pattern: &Pattern, text: &str) -> bool {
    pattern
        .1
        .get_or_init(|| Regex::new(pattern.0).expect("format patterns compile"))
        .is_match(text)
}

static UUID: Pattern =
    Pattern::new(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$");
static UUID3: Pattern =
    Pattern::new(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$");
static UUID4: Pattern =
    Pattern::new(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$");
static UUID5: Pattern =
    Pattern::new(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$");
static SSN: Pattern = Pattern::new(r"^\d{3}[- ]?\d{2}[- ]?\d{4}$");
static HEX_COLOR: Pattern = Pattern::new(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$");
static RGB_COLOR: Pattern = Pattern::new(
    r"^rgb\(\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*,\s*(0|[1-9]\d?|1\d\d?|2[0-4]\d|25[0-5])\s*\)$",
);
static BASE64: Pattern = Pattern::new(
    r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$",
);
/// strfmt's `HostnamePattern`; `\p{S}` and `\p{L}` are approximated by ASCII symbols and every
/// non-ASCII character (the regex build here has no Unicode general categories).
static HOSTNAME: Pattern = Pattern::new(
    r"^([a-zA-Z0-9$+<=>^`|~\x{80}-\x{10FFFF}]((-?[a-zA-Z0-9$+<=>^`|~\x{80}-\x{10FFFF}]{0,62})?)|([a-zA-Z0-9$+<=>^`|~\x{80}-\x{10FFFF}](([a-zA-Z0-9\-$+<=>^`|~\x{80}-\x{10FFFF}]{0,61}[a-zA-Z0-9$+<=>^`|~\x{80}-\x{10FFFF}])?)(\.)){1,}([a-zA-Z\x{80}-\x{10FFFF}]){2,63})$",
);
static EMAIL_ADDRESS: Pattern = Pattern::new(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*|\[[^\[\]\\]*\])$",
);
static DATE_TIME_CLOCK: Pattern =
    Pattern::new(r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$");

/// Go's `net.ParseIP` (IPv4 with leading zeros tolerated, as `ParseIPSloppy`).
fn parse_ip(text: &str) -> Option<()> {
    if text.contains(':') {
        text.parse::<Ipv6Addr>().ok().map(|_| ())
    } else {
        sloppy_ipv4(text)
    }
}

fn sloppy_ipv4(text: &str) -> Option<()> {
    let parts: Vec<&str> = text.split('.').collect();
    let octet = |p: &&str| {
        !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) && {
            p.parse::<u16>().is_ok_and(|n| n <= 255)
        }
    };
    (parts.len() == 4 && parts.iter().all(octet)).then_some(())
}

fn is_ipv4(text: &str) -> bool {
    text.contains('.') && parse_ip(text).is_some()
}

fn is_cidr(text: &str) -> bool {
    let Some((ip, bits)) = text.split_once('/') else {
        return false;
    };
    let max = if ip.contains(':') { 128 } else { 32 };
    parse_ip(ip).is_some()
        && !bits.is_empty()
        && bits.bytes().all(|b| b.is_ascii_digit())
        && bits.parse::<u32>().is_ok_and(|n| n <= max)
}

/// Go's `net.ParseMAC`: 6, 8 or 20 bytes as `xx:xx:…`, `xx-xx-…` or `xxxx.xxxx.…`.
fn is_mac(text: &str) -> bool {
    let hex = |group: &str, width: usize| {
        group.len() == width && group.chars().all(|c| c.is_ascii_hexdigit())
    };
    let (groups, width): (Vec<&str>, usize) = if text.contains(':') {
        (text.split(':').collect(), 2)
    } else if text.contains('-') {
        (text.split('-').collect(), 2)
    } else {
        (text.split('.').collect(), 4)
    };
    let bytes = groups.len() * width / 2;
    [6, 8, 20].contains(&bytes) && groups.iter().all(|g| hex(g, width))
}

/// Go's `url.ParseRequestURI` succeeds: an absolute path, or a scheme followed by anything
/// without control characters (a `//host` authority must not contain spaces).
fn is_request_uri(text: &str) -> bool {
    if text.is_empty() || text.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return false;
    }
    if text.starts_with('/') {
        return true;
    }
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let authority_ok = rest
        .strip_prefix("//")
        .is_none_or(|r| !r.split('/').next().unwrap_or_default().contains(' '));
    scheme_ok && authority_ok
}

/// `net/mail.ParseAddress`, for the common forms: `local@domain` or `Name <local@domain>`.
fn is_email(text: &str) -> bool {
    let address = match (text.rfind('<'), text.strip_suffix('>')) {
        (Some(open), Some(inner)) => &inner[open + 1..],
        _ => text.trim(),
    };
    matches(&EMAIL_ADDRESS, address)
}

/// strfmt's `IsHostname`: the pattern, at most 255 bytes, labels of at most 63.
fn is_hostname(text: &str) -> bool {
    matches(&HOSTNAME, text) && text.len() <= 255 && text.split('.').all(|l| l.len() <= 63)
}

fn digits_without_separators(text: &str) -> String {
    text.chars().filter(|c| *c != ' ' && *c != '-').collect()
}

fn is_isbn10(text: &str) -> bool {
    let s = digits_without_separators(text);
    let bytes = s.as_bytes();
    if bytes.len() != 10
        || !bytes[..9].iter().all(u8::is_ascii_digit)
        || !(bytes[9].is_ascii_digit() || bytes[9] == b'X')
    {
        return false;
    }
    let sum: u32 = bytes
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            let digit = if b == b'X' { 10 } else { u32::from(b - b'0') };
            (i as u32 + 1) * digit
        })
        .sum();
    sum.is_multiple_of(11)
}

fn is_isbn13(text: &str) -> bool {
    let s = digits_without_separators(text);
    let bytes = s.as_bytes();
    if bytes.len() != 13 || !bytes.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let weighted: u32 = bytes[..12]
        .iter()
        .enumerate()
        .map(|(i, &b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    (10 - weighted % 10) % 10 == u32::from(bytes[12] - b'0')
}

/// govalidator's `IsCreditCard`: the card-number pattern on the digits, then Luhn's checksum.
fn is_credit_card(text: &str) -> bool {
    static CARD: Pattern = Pattern::new(
        r"^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|(222[1-9]|22[3-9][0-9]|2[3-6][0-9]{2}|27[01][0-9]|2720)[0-9]{12}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35\d{3})\d{11}|6[27][0-9]{14})$",
    );
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    if !matches(&CARD, &digits) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            match (i % 2 == 1, d * 2) {
                (true, doubled) if doubled > 9 => doubled - 9,
                (true, doubled) => doubled,
                _ => d,
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Go's `time.Parse("2006-01-02", text)`.
fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return false;
    };
    let number = |s: &str, width: usize| {
        (s.len() == width && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let (Some(year), Some(month), Some(day)) = (number(year, 4), number(month, 2), number(day, 2))
    else {
        return false;
    };
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// strfmt's `IsDateTime`: a date, `t`, then `hh:mm:ss[.frac](z|±hh:mm)` (case-insensitive).
fn is_date_time(text: &str) -> bool {
    let lower = text.to_lowercase();
    let parts: Vec<&str> = lower.split('t').collect();
    if text.len() < 4 || parts.len() < 2 || !is_date(parts[0]) {
        return false;
    }
    let clock = DATE_TIME_CLOCK
        .1
        .get_or_init(|| Regex::new(DATE_TIME_CLOCK.0).expect("format patterns compile"));
    clock
        .captures(parts[1])
        .is_some_and(|c| &c[1] <= "23" && &c[2] <= "59" && &c[3] <= "59")
}

/// strfmt's `ParseDuration`: Go's `time.ParseDuration`, else any `<digits><unit>` pair whose
/// unit it knows (`ns`, `us`, `ms`, `s`/`sec…`, `m`/`min…`, `h`/`hr`/`hour…`, `d`/`day…`,
/// `w`/`wk`/`week…`).
fn is_duration(text: &str) -> bool {
    go_duration(text) || loose_duration(text)
}

fn go_duration(text: &str) -> bool {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    if body == "0" {
        return true;
    }
    let mut rest = body;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_end];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return false;
        }
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        if !["ns", "us", "µs", "μs", "ms", "s", "m", "h"].contains(&&rest[..unit_end]) {
            return false;
        }
        rest = &rest[unit_end..];
    }
    true
}

fn loose_duration(text: &str) -> bool {
    static PAIR: Pattern = Pattern::new(r"((\d+)\s*([A-Za-zµ]+))");
    const UNITS: [&[&str]; 8] = [
        &["ns", "nano"],
        &["us", "µs", "micro"],
        &["ms", "milli"],
        &["s", "sec"],
        &["m", "min"],
        &["h", "hr", "hour"],
        &["d", "day"],
        &["w", "wk", "week"],
    ];
    let pairs = PAIR
        .1
        .get_or_init(|| Regex::new(PAIR.0).expect("format patterns compile"));
    pairs.captures_iter(text).any(|c| {
        let unit = c[3].trim().to_lowercase();
        UNITS.iter().any(|variants| {
            variants.iter().enumerate().any(|(i, v)| {
                (i == variants.len() - 1 && unit.starts_with(v)) || unit.eq_ignore_ascii_case(v)
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::valid;

    #[test]
    fn formats_kube_openapi_checks() {
        for (format, good, bad) in [
            ("duration", "1h30m", "abc"),
            ("duration", "5 minutes", "10x"),
            ("date-time", "2026-11-21T08:37:09Z", "2026-11-21 08:37"),
            ("date", "2024-02-29", "2023-02-29"),
            ("byte", "aGVsbG8=", "hello!"),
            ("uri", "https://example.com/x", "example.com"),
            ("email", "Ops <ops@example.com>", "ops"),
            ("hostname", "api.example.com", "a_b"),
            ("ipv4", "10.0.0.1", "10.0.0"),
            ("ipv6", "fd00::1", "10.0.0.1"),
            ("cidr", "10.0.0.0/8", "10.0.0.0/33"),
            ("mac", "00:1a:2b:3c:4d:5e", "00:1a:2b"),
            ("uuid", "8b0a6f1e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "not-a-uuid"),
            ("bsonobjectid", "507f1f77bcf86cd799439011", "507f"),
            ("isbn13", "978-0321751041", "978-0321751042"),
            ("creditcard", "4111 1111 1111 1111", "4111 1111 1111 1112"),
            ("ssn", "123-45-6789", "123456789"),
            ("hexcolor", "#ffcc00", "#ffcc0"),
            ("rgbcolor", "rgb(255, 0, 10)", "rgb(256,0,0)"),
        ] {
            assert!(valid(format, good), "{format}: {good} should be valid");
            assert!(!valid(format, bad), "{format}: {bad} should be invalid");
        }
        assert!(valid("int32", "anything"));
        assert!(valid("password", ""));
    }
}
