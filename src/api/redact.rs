//! Secrets out of everything the service or the network echoes back.
//!
//! The API quotes requests in some errors: `SignatureDoesNotMatch` carries the server's
//! string-to-sign, which for V1 is the URL-encoded query, `SecurityToken=<token>` included;
//! gateways and proxies echo URLs and bodies. Every error the client builds goes through
//! [`redact`] (the values of known secret parameters, in plain, URL-encoded, doubly encoded,
//! JSON and header form) and [`scrub`] (the exact secret values the client holds, in the same
//! encodings), so no output — human, JSON lines, Markdown, journal, saved plan or debug log —
//! can carry them: they never leave the API layer.

use std::borrow::Cow;

/// What a redacted value is replaced with.
pub const MASK: &str = "***";

/// Parameter and field names whose values are secrets (compared ASCII case-insensitively;
/// `-` and `_` alike).
const SECRET_KEYS: &[&str] = &[
    "SecurityToken",
    "x-acs-security-token",
    "AccessKeySecret",
    "access_key_secret",
    "security_token",
    "Signature",
    "OIDCToken",
    "oidc_token",
    "BearerToken",
    "x-acs-bearer-token",
    "Authorization",
];

/// Where a value ends.
const ENDS: &[&str] = &[
    "%2526", "%26", "&", "\"", "'", ",", ";", "}", ")", "]", "<", ">", " ", "\n", "\r", "\t",
];

fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

fn eq_name(a: &[u8], b: &str) -> bool {
    a.len() == b.len()
        && a.iter().zip(b.bytes()).all(|(x, y)| {
            let norm = |c: u8| {
                if c == b'_' {
                    b'-'
                } else {
                    c.to_ascii_lowercase()
                }
            };
            norm(*x) == norm(y)
        })
}

/// Replace the value of every secret parameter or field in `text` with [`MASK`].
/// `SignatureNonce`, `SignatureMethod` and other longer names are left alone.
pub fn redact(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        // A name starts here when the previous byte cannot continue a name, or after an
        // encoded `&` / `?`.
        let boundary = i == 0
            || !is_name_char(bytes[i - 1])
            || ["%26", "%3F", "%3f", "%2526"]
                .iter()
                .any(|p| text[..i].ends_with(p));
        if !boundary || !text.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let Some(key) = SECRET_KEYS
            .iter()
            .find(|k| bytes.len() >= i + k.len() && eq_name(&bytes[i..i + k.len()], k))
        else {
            i += 1;
            continue;
        };
        let after_key = i + key.len();
        let rest = &text[after_key..];
        let (v0, whole_line) = if let Some(r) = rest.strip_prefix("\":") {
            // JSON: `"name": "value"` (the name's closing quote comes first).
            let skip = r.len() - r.trim_start().len();
            let v = after_key + 2 + skip;
            (if text[v..].starts_with('"') { v + 1 } else { v }, false)
        } else if let Some(sep) = ["%253D", "%3D", "%3d", "="]
            .iter()
            .find(|s| rest.starts_with(*s))
        {
            (after_key + sep.len(), false)
        } else if let Some(r) = rest.strip_prefix(':') {
            // A header line, `name: value`; Authorization's value has spaces and commas.
            let skip = r.len() - r.trim_start_matches([' ', '\t']).len();
            let v = after_key + 1 + skip;
            let authorization = eq_name(key.as_bytes(), "Authorization");
            (
                if !authorization && text[v..].starts_with('"') {
                    v + 1
                } else {
                    v
                },
                authorization,
            )
        } else {
            i += 1;
            continue;
        };
        let end = if whole_line {
            text[v0..].find(['\n', '\r']).map_or(text.len(), |e| v0 + e)
        } else {
            value_end(text, v0)
        };
        if end > v0 && &text[v0..end] != MASK {
            out.push_str(&text[copied..v0]);
            out.push_str(MASK);
            copied = end;
        }
        i = end.max(i + 1);
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

fn value_end(text: &str, from: usize) -> usize {
    ENDS.iter()
        .filter_map(|e| text[from..].find(e))
        .min()
        .map_or(text.len(), |e| from + e)
}

/// Replace every occurrence of the given secret values — raw, URL-encoded once and twice
/// (both the RFC 3986 and the form flavour) — with [`MASK`]. Values shorter than 4
/// characters are ignored (they would mask ordinary text).
pub fn scrub<'a>(text: &'a str, secrets: &[&str]) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        let once = super::sign::percent_encode(secret);
        let twice = super::sign::percent_encode(&once);
        let form: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        // The most encoded form first: a shorter form can be a piece of a longer one.
        for form in [twice, once, form, secret.to_string()] {
            if out.contains(&form) {
                out = Cow::Owned(out.replace(&form, MASK));
            }
        }
    }
    out
}

/// [`scrub`] (the exact values held, in every encoding), then [`redact`] (the values of
/// secret parameters). In this order a token with separator characters (`&`, encoded
/// `%2526` in a V1 string-to-sign) is masked whole before the parameter-based pass could cut
/// it at its first separator and leave its tail in clear.
pub fn clean(text: &str, secrets: &[&str]) -> String {
    redact(&scrub(text, secrets)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "CAIS+tok/en=A1b2";

    #[test]
    fn a_token_with_separators_is_masked_whole_in_a_v1_string_to_sign() {
        // `&` in the token: percent-encoded in the query, then again in the string-to-sign.
        let token = "CAIS&SECRETTAIL;x#y?z";
        let enc2 = crate::api::sign::percent_encode(&crate::api::sign::percent_encode(token));
        let sts = format!(
            "POST&%2F&AccessKeyId%3DK%26SecurityToken%3D{enc2}%26Signature%3Dabc%26Timestamp%3Dt"
        );
        let out = clean(&sts, &[token]);
        assert!(!out.contains("SECRETTAIL"), "{out}");
        assert!(out.contains("%26Timestamp%3Dt"), "{out}");
    }

    #[test]
    fn the_v1_string_to_sign_loses_its_token_and_signature() {
        let enc = crate::api::sign::percent_encode(TOKEN);
        let enc2 = crate::api::sign::percent_encode(&enc);
        let sts = format!(
            "POST&%2F&AccessKeyId%3DK%26Action%3DDescribeRegions%26SecurityToken%3D{enc2}%26Signature%3Dabc%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3Dn1"
        );
        let r = redact(&sts);
        assert!(!r.contains(&enc2), "{r}");
        assert!(r.contains("SecurityToken%3D***%26Signature%3D***%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3Dn1"), "{r}");
        let url = format!(
            "https://vpc.aliyuncs.com/?Action=X&SecurityToken={enc}&Signature=s1g&Timestamp=t"
        );
        assert_eq!(
            redact(&url),
            "https://vpc.aliyuncs.com/?Action=X&SecurityToken=***&Signature=***&Timestamp=t"
        );
        let json = format!(
            r#"{{"AccessKeySecret":"sek","SecurityToken": "{TOKEN}","OIDCToken":"eyJ","Code":"X"}}"#
        );
        assert_eq!(
            redact(&json),
            r#"{"AccessKeySecret":"***","SecurityToken": "***","OIDCToken":"***","Code":"X"}"#
        );
        assert_eq!(
            redact(
                "authorization: ACS3-HMAC-SHA256 Credential=K,SignedHeaders=host,Signature=ff\nnext"
            ),
            "authorization: ***\nnext"
        );
        assert_eq!(
            redact("x-acs-security-token: abc def"),
            "x-acs-security-token: *** def"
        );
        assert!(matches!(
            redact("SignatureNonce=1&Signatures=2"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn exact_values_go_in_every_encoding() {
        let enc = crate::api::sign::percent_encode(TOKEN);
        let text = format!(
            "a {TOKEN} b {enc} c {}",
            crate::api::sign::percent_encode(&enc)
        );
        assert_eq!(scrub(&text, &[TOKEN]), "a *** b *** c ***");
    }
}
