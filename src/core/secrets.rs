//! What must never be printed, decided in one place for both languages: the TypeScript configs
//! call these through the binding (`isSecretKey`, `redactUrl`), the core's `Debug` output and
//! error messages use them directly.

/// What a secret is printed as.
pub const REDACTED: &str = "[redacted]";

/// Whether a setting named `key` (a librdkafka key such as `sasl.password`, an option name such
/// as `authToken`) holds a secret: passwords, secrets, tokens, private keys (`ssl.key.pem`), and every
/// `sasl.oauthbearer.*` setting (client secrets and extensions).
pub fn is_secret_key(key: &str) -> bool {
  let key = key.to_ascii_lowercase();
  key.contains("password")
    || key.contains("secret")
    || key.contains("token")
    || key.ends_with(".key")
    || key.ends_with(".key.pem")
    || key.contains("sasl.oauthbearer")
}

/// `address` with the password of its userinfo (`scheme://user:password@host`) replaced by
/// `[redacted]`; anything else is left exactly as given. The userinfo ends at the last `@`
/// before the path, query or fragment, as in WHATWG URL parsing, so an `@` in a path is not
/// mistaken for one.
pub fn redact_url(address: &str) -> String {
  let Some(scheme_end) = address.find("://") else {
    return address.to_string();
  };
  let authority_start = scheme_end + 3;
  let rest = &address[authority_start..];
  let authority_len = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
  let Some(at) = rest[..authority_len].rfind('@') else {
    return address.to_string();
  };
  let userinfo = &rest[..at];
  match userinfo.split_once(':') {
    Some((user, password)) if !password.is_empty() => format!(
      "{}{user}:{REDACTED}{}",
      &address[..authority_start],
      &rest[at..]
    ),
    _ => address.to_string(),
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn urls_lose_their_password_and_nothing_else() {
    for (given, printed) in [
      (
        "amqp://guest:secret@host:5672/%2f",
        "amqp://guest:[redacted]@host:5672/%2f",
      ),
      ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
      ("redis://:pw@h:1", "redis://:[redacted]@h:1"),
      ("http://user@host:8000", "http://user@host:8000"),
      ("http://u:p@ss@host/a@b", "http://u:[redacted]@host/a@b"),
      ("http://host/path@x", "http://host/path@x"),
      ("http://a:b@host?q=@", "http://a:[redacted]@host?q=@"),
      ("not a url", "not a url"),
      ("", ""),
    ] {
      assert_eq!(redact_url(given), printed, "{given}");
    }
  }

  #[test]
  fn secret_keys() {
    for key in [
      "sasl.password",
      "ssl.key.password",
      "ssl.keystore.password",
      "sasl.oauthbearer.client.secret",
      "sasl.oauthbearer.config",
      "sasl.oauthbearer.extensions",
      "ssl.key",
      "ssl.key.pem",
      "authToken",
      "SECRET",
    ] {
      assert!(is_secret_key(key), "{key}");
    }
    for key in [
      "bootstrap.servers",
      "sasl.username",
      "sasl.mechanism",
      "ssl.key.location",
    ] {
      assert!(!is_secret_key(key), "{key}");
    }
  }
}
