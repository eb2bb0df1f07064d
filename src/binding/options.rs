//! The option table (`core::options`) and the secret rules (`core::secrets`) as JavaScript sees
//! them: the TypeScript configs read env var names and defaults from `optionTable()` and have
//! every value checked by `checkOption`, so no rule is written twice.

use napi::bindgen_prelude::Either;
use napi_derive::napi;

use super::error::to_napi;
use crate::core::error::QueueError;
use crate::core::options::{self, DefaultValue, Given, Resolved, Rule, Scope, Source};
use crate::core::secrets;

/// One row of the option table.
#[napi(object)]
pub struct BindingOptionSpec {
  #[napi(ts_type = "'queue' | 'file' | 'mock' | 'kafka' | 'rabbitmq' | 'redis' | 'http' | 'grpc'")]
  pub scope: String,
  pub name: String,
  /// The environment variables it falls back to, first set one wins.
  pub env: Vec<String>,
  /// Absent when unset by default.
  pub default: Option<Either<String, f64>>,
  /// `"text"`, `"oneOf"`, `"whole"` or `"millis"`.
  #[napi(ts_type = "'text' | 'oneOf' | 'whole' | 'millis'")]
  pub rule: String,
  /// The allowed strings of a `oneOf` rule.
  pub values: Option<Vec<String>>,
  /// Whether a `oneOf` value is compared in lower case.
  pub any_case: bool,
  /// The bounds of a `whole` or `millis` rule.
  pub min: Option<f64>,
  pub max: Option<f64>,
  pub secret: bool,
  pub summary: String,
}

/// Every option: scope, name, env vars, default, rule, whether it is secret, a one-line summary.
#[napi]
pub fn option_table() -> Vec<BindingOptionSpec> {
  options::TABLE
    .iter()
    .map(|spec| {
      let (rule, values, any_case, min, max) = match spec.rule {
        Rule::Text => ("text", None, false, None, None),
        Rule::OneOf { values, any_case } => (
          "oneOf",
          Some(values.iter().map(|v| v.to_string()).collect()),
          any_case,
          None,
          None,
        ),
        Rule::Whole { min, max } => ("whole", None, false, Some(min), Some(max)),
        Rule::Millis { min, max } => ("millis", None, false, Some(min), Some(max)),
      };
      BindingOptionSpec {
        scope: spec.scope.as_str().to_string(),
        name: spec.name.to_string(),
        env: spec.env.iter().map(|name| name.to_string()).collect(),
        default: match spec.default {
          DefaultValue::Unset => None,
          DefaultValue::Text(text) => Some(Either::A(text.to_string())),
          DefaultValue::Number(n) => Some(Either::B(n)),
        },
        rule: rule.to_string(),
        values,
        any_case,
        min,
        max,
        secret: spec.secret,
        summary: spec.summary.to_string(),
      }
    })
    .collect()
}

/// `value` checked against the rule of `scope`'s option `name`: the value to use (a choice in
/// lower case where any case is allowed). `envName` is the variable it came from, if it did not
/// come from code: its text is then parsed where a number is expected. Throws
/// `SCOUTER_CONFIG_INVALID` naming the option or the variable.
#[napi]
pub fn check_option(
  scope: String,
  name: String,
  value: Either<String, f64>,
  env_name: Option<String>,
) -> napi::Result<Either<String, f64>, super::error::ErrorCode> {
  let spec = Scope::parse(&scope)
    .and_then(|scope| options::find(scope, &name))
    .ok_or_else(|| {
      to_napi(QueueError::Config(format!(
        "no option `{name}` in `{scope}`"
      )))
    })?;
  let given = match &value {
    Either::A(text) => Given::Text(text),
    Either::B(n) => Given::Number(*n),
  };
  let source = match env_name.as_deref() {
    Some(env) => Source::Env(env),
    None => Source::Option,
  };
  match spec.check(given, source).map_err(to_napi)? {
    Resolved::Text(text) => Ok(Either::A(text)),
    Resolved::Number(n) => Ok(Either::B(n)),
  }
}

/// Whether a setting named `key` holds a secret (`core::secrets::is_secret_key`).
#[napi]
pub fn is_secret_key(key: String) -> bool {
  secrets::is_secret_key(&key)
}

/// `address` with any password replaced by `[redacted]` (`core::secrets::redact_url`).
#[napi]
pub fn redact_url(address: String) -> String {
  secrets::redact_url(&address)
}
