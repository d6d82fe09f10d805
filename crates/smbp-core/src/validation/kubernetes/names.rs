//! The string formats of apimachinery's `pkg/util/validation` (and `api/validate/content`):
//! DNS labels and subdomains, qualified names (label and annotation keys), label values and
//! environment variable names. Each function returns upstream's messages, word for word, and an
//! empty list for a valid value.

/// `DNS1123LabelMaxLength` and `DNS1035LabelMaxLength`.
pub const DNS_LABEL_MAX: usize = 63;
/// `DNS1123SubdomainMaxLength`.
pub const DNS_SUBDOMAIN_MAX: usize = 253;
/// `LabelValueMaxLength` and the name part of a qualified name.
pub const LABEL_VALUE_MAX: usize = 63;

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/// `RegexError`: `msg (e.g. 'a',  or 'b', regex used for validation is 'fmt')`.
pub fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    let mut s = format!("{msg} (e.g. ");
    for (i, example) in examples.iter().enumerate() {
        if i > 0 {
            s.push_str(" or ");
        }
        s.push_str(&format!("'{example}', "));
    }
    s.push_str(&format!("regex used for validation is '{fmt}')"));
    s
}

/// `MaxLenError`.
pub fn max_len_error(length: usize) -> String {
    format!("must be no more than {length} characters")
}

/// Whether `s` is `first([-middle]*last)?` over ASCII bytes.
fn shaped(s: &str, first: fn(u8) -> bool, middle: fn(u8) -> bool, last: fn(u8) -> bool) -> bool {
    let b = s.as_bytes();
    match b {
        [] => false,
        [only] => first(*only) && last(*only),
        [head, inner @ .., tail] => first(*head) && last(*tail) && inner.iter().all(|c| middle(*c)),
    }
}

fn lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn lower_alnum_dash(c: u8) -> bool {
    lower_alnum(c) || c == b'-'
}

fn alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

fn name_char(c: u8) -> bool {
    alnum(c) || matches!(c, b'-' | b'_' | b'.')
}

fn dns1123_label_shaped(s: &str) -> bool {
    shaped(s, lower_alnum, lower_alnum_dash, lower_alnum)
}

fn dns1123_subdomain_shaped(s: &str) -> bool {
    s.split('.').all(dns1123_label_shaped)
}

/// `IsDNS1123Label`.
pub fn dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS_LABEL_MAX {
        errs.push(max_len_error(DNS_LABEL_MAX));
    }
    if !dns1123_label_shaped(value) {
        if dns1123_subdomain_shaped(value) {
            errs.push("must not contain dots".into());
        } else {
            let examples = ["my-name", "123-abc"];
            errs.push(regex_error(DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, &examples));
        }
    }
    errs
}

/// `IsDNS1123Subdomain`.
pub fn dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS_SUBDOMAIN_MAX {
        errs.push(max_len_error(DNS_SUBDOMAIN_MAX));
    }
    if !dns1123_subdomain_shaped(value) {
        let examples = ["example.com"];
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_MSG,
            DNS1123_SUBDOMAIN_FMT,
            &examples,
        ));
    }
    errs
}

/// `IsDNS1035Label`.
pub fn dns1035_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS_LABEL_MAX {
        errs.push(max_len_error(DNS_LABEL_MAX));
    }
    if !shaped(
        value,
        |c| c.is_ascii_lowercase(),
        lower_alnum_dash,
        lower_alnum,
    ) {
        let examples = ["my-name", "abc-123"];
        errs.push(regex_error(DNS1035_LABEL_MSG, DNS1035_LABEL_FMT, &examples));
    }
    errs
}

/// `IsQualifiedName` (label keys; annotation keys after lower-casing).
pub fn qualified_name(value: &str) -> Vec<String> {
    let examples = ["MyName", "my.name", "123-abc"];
    let parts: Vec<&str> = value.split('/').collect();
    let mut errs = Vec::new();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else {
                errs.extend(
                    dns1123_subdomain(prefix)
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            *name
        }
        _ => {
            let regex = regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, &examples);
            return vec![format!(
                "a qualified name {regex} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            )];
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".into());
    } else if name.len() > LABEL_VALUE_MAX {
        errs.push(format!("name part {}", max_len_error(LABEL_VALUE_MAX)));
    }
    if !shaped(name, alnum, name_char, alnum) {
        let regex = regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, &examples);
        errs.push(format!("name part {regex}"));
    }
    errs
}

/// `IsValidLabelValue`.
pub fn label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_VALUE_MAX {
        errs.push(max_len_error(LABEL_VALUE_MAX));
    }
    if !value.is_empty() && !shaped(value, alnum, name_char, alnum) {
        let examples = ["MyValue", "my_value", "12345"];
        errs.push(regex_error(LABEL_VALUE_MSG, LABEL_VALUE_FMT, &examples));
    }
    errs
}

/// `IsRelaxedEnvVarName`: the rule on Kubernetes 1.33, where the
/// `RelaxedEnvironmentVariableValidation` gate is beta and on by default.
pub fn relaxed_env_var_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.is_empty() {
        errs.push("environment variable name must be non-empty".into());
    }
    if value.chars().any(|c| !(' '..='~').contains(&c) || c == '=') {
        errs.push("a valid environment variable name must consist only of printable ASCII characters other than '='".into());
    }
    errs
}

/// `IsValidPortName`: at most 15 of `[-a-z0-9]`, a letter among them, no `--`, no hyphen at
/// either end.
pub fn port_name(port: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if port.len() > 15 {
        errs.push(max_len_error(15));
    }
    if port.is_empty() || !port.bytes().all(lower_alnum_dash) {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into());
    }
    if !port.bytes().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".into());
    }
    if port.contains("--") {
        errs.push("must not contain consecutive hyphens".into());
    }
    if port.starts_with('-') || port.ends_with('-') {
        errs.push("must not begin or end with a hyphen".into());
    }
    errs
}

/// `IsValidPortNum`.
pub fn port_number(port: i32) -> Vec<String> {
    if (1..=65535).contains(&port) {
        Vec::new()
    } else {
        vec!["must be between 1 and 65535, inclusive".into()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_dns1123_label_matches_upstream() {
        for good in ["a", "ab", "a-b", "0", "a1", "1-a", &"a".repeat(63)] {
            assert_eq!(dns1123_label(good), Vec::<String>::new(), "{good}");
        }
        assert_eq!(dns1123_label("a.b"), ["must not contain dots"]);
        assert_eq!(dns1123_label(&"a".repeat(64)), [max_len_error(63)]);
        assert_eq!(
            dns1123_label("A"),
            [
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
            ]
        );
        for bad in ["", "-a", "a-", "a_b", "a b"] {
            assert_eq!(dns1123_label(bad).len(), 1, "{bad}");
        }
    }

    #[test]
    fn is_dns1123_subdomain_matches_upstream() {
        for good in [
            "a",
            "a.b",
            "a-1.b-2",
            "1.2.3.4",
            &format!("{}.b", "a".repeat(100)),
        ] {
            assert!(dns1123_subdomain(good).is_empty(), "{good}");
        }
        for bad in ["", ".a", "a.", "a..b", "A.b", "a_b", "a.-b"] {
            assert_eq!(dns1123_subdomain(bad).len(), 1, "{bad}");
        }
        assert_eq!(dns1123_subdomain(&"a".repeat(254)), [max_len_error(253)]);
    }

    #[test]
    fn is_dns1035_label_matches_upstream() {
        assert!(dns1035_label("a-1").is_empty());
        for bad in ["1a", "a.b", "-a", "a-", ""] {
            assert_eq!(dns1035_label(bad).len(), 1, "{bad}");
        }
        assert!(dns1035_label("1a")[0].starts_with("a DNS-1035 label must consist"));
    }

    #[test]
    fn is_qualified_name_matches_upstream() {
        for good in [
            "simple",
            "now-with-dashes",
            "1-starts-with-num",
            "1234",
            "simple/simple",
            "now-with-dashes/simple",
            "now-with-dashes/now-with-dashes",
            "now.with.dots/simple",
            "now-with.dashes-and.dots/simple",
            "1-num.2-num/3-num",
            "1234/5678",
            "1.2.3.4/5678",
            "Uppercase_Is_OK_123",
            "example.com/Uppercase_Is_OK_123",
            "requests.storage-foo",
            &"a".repeat(63),
            &format!("{}/b", "a".repeat(253)),
        ] {
            assert!(
                qualified_name(good).is_empty(),
                "{good}: {:?}",
                qualified_name(good)
            );
        }
        for bad in [
            "nospecialchars%^=@",
            "cantendwithadash-",
            "-cantstartwithadash-",
            "only/one/slash",
            "Example.com/abc",
            "example_com/abc",
            "example.com/",
            "/simple",
            &"a".repeat(64),
            &format!("{}/b", "a".repeat(254)),
        ] {
            assert!(!qualified_name(bad).is_empty(), "{bad}");
        }
        assert_eq!(qualified_name("/a"), ["prefix part must be non-empty"]);
        assert_eq!(
            qualified_name("a/"),
            [
                "name part must be non-empty",
                "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
            ]
        );
    }

    #[test]
    fn is_valid_label_value_matches_upstream() {
        for good in [
            "simple",
            "now-with-dashes",
            "1-starts-with-num",
            "end-with-num-1",
            "1234",
            &"a".repeat(63),
            "",
        ] {
            assert!(label_value(good).is_empty(), "{good}");
        }
        for bad in [
            "nospecialchars%^=@",
            "Tama-nui-te-rā.is.Māori.sun",
            "\\backslashes\\are\\bad",
            "-starts-with-dash",
            "ends-with-dash-",
            ".starts.with.dot",
            "ends.with.dot.",
            &"a".repeat(64),
        ] {
            assert!(!label_value(bad).is_empty(), "{bad}");
        }
    }

    #[test]
    fn is_valid_port_name_and_num_match_upstream() {
        for good in ["http", "p", "a-1", "1-a", "abc-123", "a-b-c"] {
            assert!(port_name(good).is_empty(), "{good}");
        }
        assert_eq!(
            port_name("1234"),
            ["must contain at least one letter (a-z)"]
        );
        assert_eq!(port_name("a--b"), ["must not contain consecutive hyphens"]);
        assert_eq!(port_name("-ab"), ["must not begin or end with a hyphen"]);
        assert_eq!(port_name("HTTP").len(), 2);
        assert_eq!(port_name("abcdefghijklmnop"), [max_len_error(15)]);
        assert!(port_number(1).is_empty() && port_number(65535).is_empty());
        assert_eq!(port_number(0), ["must be between 1 and 65535, inclusive"]);
        assert_eq!(port_number(65536).len(), 1);
    }

    #[test]
    fn is_relaxed_env_var_name_matches_upstream() {
        for good in [
            "A", "ABC", "AbC_123", "_123", "a.b", "1a", "a b", "a:b", "~",
        ] {
            assert!(relaxed_env_var_name(good).is_empty(), "{good}");
        }
        assert_eq!(relaxed_env_var_name("a=b").len(), 1);
        assert_eq!(relaxed_env_var_name("é").len(), 1);
        assert_eq!(
            relaxed_env_var_name(""),
            ["environment variable name must be non-empty"]
        );
    }
}
