//! Every option a user can set, in one table: its name, the environment variables it falls back
//! to, its default, and the rule its value must follow. The defaults of the core, the checks at
//! the N-API boundary, the TypeScript configs (through `optionTable()`), the README's option
//! table and the `@default` tags of the declarations all come from here, so they cannot disagree.
//! Modelled on OpenTelemetry JS's `environment.ts`.
//!
//! Resolution order, as in the Python client: the option given in code, else the first of its
//! environment variables that is set and not empty, else the default.

use std::time::Duration;

use crate::core::error::{QueueError, Result};

/// Which object an option belongs to: the options of `fromPath`, or one transport config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
  Queue,
  File,
  Mock,
  Kafka,
  RabbitMq,
  Redis,
  Http,
  Grpc,
}

impl Scope {
  /// Every scope, in the order the README lists them.
  pub const ALL: [Scope; 8] = [
    Scope::Queue,
    Scope::File,
    Scope::Mock,
    Scope::Kafka,
    Scope::RabbitMq,
    Scope::Redis,
    Scope::Http,
    Scope::Grpc,
  ];

  /// The scope's name as JavaScript spells it (`"queue"`, `"rabbitmq"`).
  pub fn as_str(self) -> &'static str {
    match self {
      Scope::Queue => "queue",
      Scope::File => "file",
      Scope::Mock => "mock",
      Scope::Kafka => "kafka",
      Scope::RabbitMq => "rabbitmq",
      Scope::Redis => "redis",
      Scope::Http => "http",
      Scope::Grpc => "grpc",
    }
  }

  /// The scope named `name`, if any.
  pub fn parse(name: &str) -> Option<Scope> {
    Scope::ALL.into_iter().find(|scope| scope.as_str() == name)
  }
}

/// An option's value when nobody set it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultValue {
  /// Unset: the feature is off (`spoolDir`) or the setting is left to the library (`username`).
  Unset,
  Text(&'static str),
  Number(f64),
}

/// The rule an option's value must follow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
  /// Any string.
  Text,
  /// One of these strings; the value is compared in lower case when `any_case`.
  OneOf {
    values: &'static [&'static str],
    any_case: bool,
  },
  /// A whole number within `min..=max`.
  Whole { min: f64, max: f64 },
  /// A number of milliseconds within `min..=max` (fractions allowed).
  Millis { min: f64, max: f64 },
}

/// One option: the row of the table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptionSpec {
  pub scope: Scope,
  /// The option's name in code (`maxPendingItems`).
  pub name: &'static str,
  /// The environment variables it falls back to, first set one wins.
  pub env: &'static [&'static str],
  pub default: DefaultValue,
  pub rule: Rule,
  /// Never printed: configs show `[redacted]` and errors name only the type of a bad value.
  pub secret: bool,
  /// One line for the README's table.
  pub summary: &'static str,
}

/// The longest duration any option takes, in milliseconds: 2^31 - 1 (about 24.8 days), the limit
/// of Node's timers and of librdkafka's `message.timeout.ms`. Beyond it, deadline arithmetic could
/// overflow.
pub const MAX_DURATION_MS: f64 = 2_147_483_647.0;

/// The largest count JavaScript holds exactly (2^53 - 1).
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// The bound of `maxPendingItems`: the lane's capacity is a `u32` count.
const MAX_ITEMS: f64 = u32::MAX as f64;

const fn row(
  scope: Scope,
  name: &'static str,
  env: &'static [&'static str],
  default: DefaultValue,
  rule: Rule,
  summary: &'static str,
) -> OptionSpec {
  OptionSpec {
    scope,
    name,
    env,
    default,
    rule,
    secret: false,
    summary,
  }
}

const fn secret(spec: OptionSpec) -> OptionSpec {
  OptionSpec {
    secret: true,
    ..spec
  }
}

const fn max_retries(scope: Scope) -> OptionSpec {
  row(
    scope,
    "maxRetries",
    &[],
    DefaultValue::Number(3.0),
    Rule::Whole {
      min: 0.0,
      max: 100.0,
    },
    "retries of a failed publish after the first attempt, with exponential backoff and jitter",
  )
}

/// The Scouter server's user, shared by the HTTP and gRPC transports.
const fn scouter_username(scope: Scope) -> OptionSpec {
  row(
    scope,
    "username",
    &["SCOUTER_USERNAME"],
    DefaultValue::Text("admin"),
    Rule::Text,
    "the Scouter user",
  )
}

/// The Scouter server's password, shared by the HTTP and gRPC transports.
const fn scouter_password(scope: Scope) -> OptionSpec {
  secret(row(
    scope,
    "password",
    &["SCOUTER_PASSWORD"],
    DefaultValue::Text("admin"),
    Rule::Text,
    "the Scouter password",
  ))
}

/// Whole milliseconds, as librdkafka and the network transports take them.
const WHOLE_MILLIS: Rule = Rule::Whole {
  min: 1.0,
  max: MAX_DURATION_MS,
};

const fn millis(min: f64) -> Rule {
  Rule::Millis {
    min,
    max: MAX_DURATION_MS,
  }
}

use DefaultValue::{Number, Text, Unset};
use Scope::*;

/// `fromPath`: how often each queue publishes what it aggregated.
pub const FLUSH_INTERVAL_MS: OptionSpec = row(
  Queue,
  "flushIntervalMs",
  &[],
  Number(30_000.0),
  millis(1.0),
  "how often a queue publishes what it aggregated (SPC and PSI, Custom and GenAI on their timer)",
);
/// `fromPath`: items a queue may hold before it drops new ones.
pub const MAX_PENDING_ITEMS: OptionSpec = row(
  Queue,
  "maxPendingItems",
  &[],
  Number(100_000.0),
  Rule::Whole {
    min: 1.0,
    max: MAX_ITEMS,
  },
  "items one queue holds before new ones are dropped (counted in `stats().dropped`)",
);
/// `fromPath`: the bytes those items may weigh.
pub const MAX_PENDING_BYTES: OptionSpec = row(
  Queue,
  "maxPendingBytes",
  &[],
  Number(67_108_864.0),
  Rule::Whole {
    min: 1.0,
    max: MAX_SAFE_INTEGER,
  },
  "what those items may weigh, per queue (LLM records can be large)",
);
/// `fromPath`: the deadline of a flush or shutdown called without one.
pub const FLUSH_TIMEOUT_MS: OptionSpec = row(
  Queue,
  "flushTimeoutMs",
  &[],
  Number(30_000.0),
  millis(0.0),
  "the deadline of `flush()`/`shutdown()` called without `timeoutMs`",
);
/// `fromPath`: fail instead of starting when the transport is not reachable in time.
pub const CONNECT_TIMEOUT_MS: OptionSpec = row(
  Queue,
  "connectTimeoutMs",
  &[],
  Unset,
  millis(1.0),
  "reject `fromPath` when the transport cannot connect within this time (unset: connect in the background)",
);
/// `fromPath`: the write-ahead spool's directory.
pub const SPOOL_DIR: OptionSpec = row(
  Queue,
  "spoolDir",
  &[],
  Unset,
  Rule::Text,
  "the write-ahead disk spool's directory (unset: no spool)",
);
/// `fromPath`: the bound on the spool's files.
pub const SPOOL_MAX_BYTES: OptionSpec = row(
  Queue,
  "spoolMaxBytes",
  &[],
  Number(1_073_741_824.0),
  Rule::Whole {
    min: 65_536.0,
    max: MAX_SAFE_INTEGER,
  },
  "the bound on the spool's files, all queues together; past it the oldest documents go",
);
/// `fromPath`: when spooled documents reach the disk itself.
pub const SPOOL_SYNC: OptionSpec = row(
  Queue,
  "spoolSync",
  &[],
  Text("interval"),
  Rule::OneOf {
    values: &["interval", "always", "never"],
    any_case: false,
  },
  "when spooled documents reach the disk: before each hand-over, within 100 ms, or when the OS decides",
);
/// `fromPath`: failures in a row that open a transport's circuit breaker.
pub const FAILURE_THRESHOLD: OptionSpec = row(
  Queue,
  "failureThreshold",
  &[],
  Number(5.0),
  Rule::Whole {
    min: 1.0,
    max: MAX_ITEMS,
  },
  "documents failed in a row that open a transport's circuit breaker (failover)",
);
/// `fromPath`: a failure lasting this long opens the breaker.
pub const FAILURE_TIMEOUT_MS: OptionSpec = row(
  Queue,
  "failureTimeoutMs",
  &[],
  Number(10_000.0),
  millis(1.0),
  "a failure (or a document unconfirmed) for this long also opens the breaker",
);
/// `fromPath`: the wait of an open breaker before its next probe.
pub const PROBE_INTERVAL_MS: OptionSpec = row(
  Queue,
  "probeIntervalMs",
  &[],
  Number(5_000.0),
  millis(1.0),
  "how long an open breaker waits before it lets one document through as a probe",
);
/// `fromPath`: the least severe level given to the `logger`. The levels run from the most
/// talkative to `silent`: the TypeScript logger ranks them in this order.
pub const LOG_LEVEL: OptionSpec = row(
  Queue,
  "logLevel",
  &["SCOUTER_LOG_LEVEL"],
  Text("info"),
  Rule::OneOf {
    values: &["debug", "info", "warn", "error", "silent"],
    any_case: true,
  },
  "the least severe level given to the `logger`",
);

/// Every option, grouped by scope in [`Scope::ALL`]'s order.
pub const TABLE: &[OptionSpec] = &[
  FLUSH_INTERVAL_MS,
  MAX_PENDING_ITEMS,
  MAX_PENDING_BYTES,
  FLUSH_TIMEOUT_MS,
  CONNECT_TIMEOUT_MS,
  SPOOL_DIR,
  SPOOL_MAX_BYTES,
  SPOOL_SYNC,
  FAILURE_THRESHOLD,
  FAILURE_TIMEOUT_MS,
  PROBE_INTERVAL_MS,
  LOG_LEVEL,
  // File
  row(
    File,
    "path",
    &["SCOUTER_FILE_PATH"],
    Text("scouter-records.jsonl"),
    Rule::Text,
    "the JSON-lines file; created if missing, appended to otherwise",
  ),
  max_retries(File),
  // Mock
  max_retries(Mock),
  // Kafka
  row(
    Kafka,
    "brokers",
    &["KAFKA_BROKERS"],
    Text("localhost:9092"),
    Rule::Text,
    "bootstrap servers (`bootstrap.servers`)",
  ),
  row(
    Kafka,
    "topic",
    &["SCOUTER_KAFKA_TOPIC", "KAFKA_TOPIC"],
    Text("scouter_monitoring"),
    Rule::Text,
    "the topic every document is produced to",
  ),
  row(
    Kafka,
    "compressionType",
    &[],
    Text("gzip"),
    Rule::OneOf {
      values: &["none", "gzip", "snappy", "lz4", "zstd"],
      any_case: true,
    },
    "librdkafka `compression.type`",
  ),
  row(
    Kafka,
    "messageTimeoutMs",
    &[],
    Number(600_000.0),
    WHOLE_MILLIS,
    "`message.timeout.ms`: how long a message may wait for its delivery report",
  ),
  row(
    Kafka,
    "messageMaxBytes",
    &[],
    Number(2_097_164.0),
    Rule::Whole {
      min: 1000.0,
      max: 1_000_000_000.0,
    },
    "`message.max.bytes`",
  ),
  max_retries(Kafka),
  row(
    Kafka,
    "username",
    &["KAFKA_USERNAME", "KAFKA_KEY"],
    Unset,
    Rule::Text,
    "SASL user; with `password`, turns SASL on",
  ),
  secret(row(
    Kafka,
    "password",
    &["KAFKA_PASSWORD", "KAFKA_SECRET"],
    Unset,
    Rule::Text,
    "SASL password",
  )),
  row(
    Kafka,
    "securityProtocol",
    &["KAFKA_SECURITY_PROTOCOL"],
    Text("SASL_SSL"),
    Rule::Text,
    "`security.protocol` when SASL is on",
  ),
  row(
    Kafka,
    "saslMechanism",
    &["KAFKA_SASL_MECHANISM"],
    Text("PLAIN"),
    Rule::Text,
    "`sasl.mechanism` when SASL is on",
  ),
  // RabbitMQ
  row(
    RabbitMq,
    "address",
    &["RABBITMQ_ADDR"],
    Unset,
    Rule::Text,
    "a full AMQP URI; unset: built from host, port, username and password",
  ),
  row(
    RabbitMq,
    "host",
    &["RABBITMQ_HOST"],
    Text("localhost"),
    Rule::Text,
    "the broker's host",
  ),
  row(
    RabbitMq,
    "port",
    &["RABBITMQ_PORT"],
    Number(5672.0),
    Rule::Whole {
      min: 1.0,
      max: 65_535.0,
    },
    "the broker's AMQP port",
  ),
  row(
    RabbitMq,
    "username",
    &["RABBITMQ_USERNAME"],
    Unset,
    Rule::Text,
    "the AMQP user (with `password`)",
  ),
  secret(row(
    RabbitMq,
    "password",
    &["RABBITMQ_PASSWORD"],
    Unset,
    Rule::Text,
    "the AMQP password",
  )),
  row(
    RabbitMq,
    "queue",
    &["RABBITMQ_QUEUE"],
    Text("scouter_monitoring"),
    Rule::Text,
    "the queue declared and published to",
  ),
  max_retries(RabbitMq),
  // Redis
  row(
    Redis,
    "address",
    &["REDIS_ADDR"],
    Text("redis://127.0.0.1:6379"),
    Rule::Text,
    "the server's URL",
  ),
  row(
    Redis,
    "channel",
    &["REDIS_CHANNEL"],
    Text("scouter_monitoring"),
    Rule::Text,
    "the channel published to",
  ),
  max_retries(Redis),
  // HTTP
  row(
    Http,
    "serverUri",
    &["SCOUTER_SERVER_URI"],
    Text("http://localhost:8000"),
    Rule::Text,
    "the Scouter server; `user:pass@` in it is taken out and used to log in",
  ),
  scouter_username(Http),
  scouter_password(Http),
  secret(row(
    Http,
    "authToken",
    &["SCOUTER_AUTH_TOKEN"],
    Text(""),
    Rule::Text,
    "a token to use until a 401 asks for a login",
  )),
  row(
    Http,
    "timeoutMs",
    &[],
    Number(60_000.0),
    WHOLE_MILLIS,
    "how long one request may take before it counts as failed (and is retried)",
  ),
  max_retries(Http),
  // gRPC
  row(
    Grpc,
    "serverUri",
    &["SCOUTER_GRPC_URI"],
    Text("http://localhost:50051"),
    Rule::Text,
    "`http://` (plaintext HTTP/2) or `https://` (TLS); `user:pass@` in it is used to log in",
  ),
  scouter_username(Grpc),
  scouter_password(Grpc),
  row(
    Grpc,
    "timeoutMs",
    &[],
    Number(60_000.0),
    WHOLE_MILLIS,
    "each call's deadline (`Login`, `InsertMessage`)",
  ),
  row(
    Grpc,
    "connectTimeoutMs",
    &[],
    Number(10_000.0),
    WHOLE_MILLIS,
    "how long connecting (TCP and the TLS handshake) may take",
  ),
  max_retries(Grpc),
];

/// The row of `scope`'s option `name`.
pub fn find(scope: Scope, name: &str) -> Option<&'static OptionSpec> {
  TABLE
    .iter()
    .find(|spec| spec.scope == scope && spec.name == name)
}

/// A value as it came: from code (`option`) or from an environment variable (`env`, text).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Given<'a> {
  Text(&'a str),
  Number(f64),
}

/// A value that passed its rule: the string (lower-cased for an any-case choice) or the number.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
  Text(String),
  Number(f64),
}

/// Where a value came from, for the error that refuses it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Source<'a> {
  Option,
  Env(&'a str),
}

impl OptionSpec {
  /// Whether the option takes a number (it may still be given as text by an env var).
  pub fn is_number(&self) -> bool {
    matches!(self.rule, Rule::Whole { .. } | Rule::Millis { .. })
  }

  /// `value` checked against the rule. An env var's text is parsed as a number where one is
  /// expected; a number where text is expected is refused. The error names the option (or the
  /// variable) and says what is expected; it shows the value only when the option is no secret.
  pub fn check(&self, value: Given<'_>, source: Source<'_>) -> Result<Resolved> {
    let value = match (value, self.is_number()) {
      (Given::Text(text), true) if matches!(source, Source::Env(_)) => {
        Given::Number(parse_number(text))
      }
      (value, _) => value,
    };
    let refuse = |expected: String, got: String| {
      let got = if self.secret {
        match value {
          Given::Text(_) => "a string".to_string(),
          Given::Number(_) => "a number".to_string(),
        }
      } else {
        got
      };
      let what = match source {
        Source::Option => format!("option `{}`", self.name),
        Source::Env(name) => format!("environment variable {name}"),
      };
      QueueError::Config(format!("{what} must be {expected}, got {got}"))
    };
    match (self.rule, value) {
      (Rule::Text, Given::Text(text)) => Ok(Resolved::Text(text.to_string())),
      (Rule::OneOf { values, any_case }, Given::Text(text)) => {
        // A variable's text may carry stray spaces (`FOO=" info"` in a unit file).
        let text = match source {
          Source::Env(_) => text.trim(),
          Source::Option => text,
        };
        let wanted = if any_case {
          text.to_lowercase()
        } else {
          text.to_string()
        };
        if values.contains(&wanted.as_str()) {
          Ok(Resolved::Text(wanted))
        } else {
          Err(refuse(
            format!("one of {}", values.join(", ")),
            format!("{:?}", truncate(text)),
          ))
        }
      }
      (Rule::Whole { min, max }, Given::Number(n)) => {
        if n.is_finite() && n.fract() == 0.0 && n >= min && n <= max {
          Ok(Resolved::Number(n))
        } else {
          Err(refuse(
            format!("a whole number from {min} to {max}"),
            number_text(n),
          ))
        }
      }
      (Rule::Millis { min, max }, Given::Number(n)) => {
        if n.is_finite() && n >= min && n <= max {
          Ok(Resolved::Number(n))
        } else {
          Err(refuse(
            format!("a number of milliseconds from {min} to {max}"),
            number_text(n),
          ))
        }
      }
      (Rule::Text | Rule::OneOf { .. }, Given::Number(n)) => Err(refuse(
        "a string".into(),
        format!("the number {}", number_text(n)),
      )),
      (Rule::Whole { .. } | Rule::Millis { .. }, Given::Text(text)) => Err(refuse(
        "a number".into(),
        format!("the string {:?}", truncate(text)),
      )),
    }
  }

  /// A number option's value from code, checked; `None` when it was not given. For the checks
  /// at the N-API boundary, where TypeScript already resolved the value.
  pub fn number(&self, given: Option<f64>) -> Result<Option<f64>> {
    given.map(|n| self.check_number(n)).transpose()
  }

  /// A number given from code, checked; the value itself when it passes. For the N-API
  /// boundary's required numbers (a transport's `maxRetries`, a duration option).
  pub fn check_number(&self, n: f64) -> Result<f64> {
    match self.check(Given::Number(n), Source::Option)? {
      Resolved::Number(n) => Ok(n),
      Resolved::Text(_) => unreachable!("a number rule resolves to a number"),
    }
  }

  /// The default number (a row whose default is a number; anything else is a bug in the table,
  /// caught by the table's own test).
  pub const fn default_number(&self) -> f64 {
    match self.default {
      DefaultValue::Number(n) => n,
      _ => 0.0,
    }
  }

  /// The default as a duration, for a milliseconds row.
  pub fn default_duration(&self) -> Duration {
    Duration::from_secs_f64(self.default_number() / 1000.0)
  }
}

/// A checked number of milliseconds as a `Duration`.
pub fn millis_duration(ms: f64) -> Duration {
  Duration::from_secs_f64(ms / 1000.0)
}

/// An env var's text as a number: `NaN` (refused by every rule) when it is not one. Empty text
/// never gets here: an empty variable counts as unset.
fn parse_number(text: &str) -> f64 {
  text.trim().parse::<f64>().unwrap_or(f64::NAN)
}

fn number_text(n: f64) -> String {
  if n.is_nan() {
    "NaN".into()
  } else {
    n.to_string()
  }
}

/// At most 100 characters of a value shown in an error.
fn truncate(text: &str) -> &str {
  match text.char_indices().nth(100) {
    Some((index, _)) => &text[..index],
    None => text,
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::collections::HashSet;

  #[test]
  fn every_row_is_unique_and_its_default_follows_its_rule() {
    let mut seen = HashSet::new();
    for spec in TABLE {
      assert!(seen.insert((spec.scope, spec.name)), "{} twice", spec.name);
      assert!(!spec.summary.is_empty());
      let default = match spec.default {
        DefaultValue::Unset => continue,
        DefaultValue::Text(text) => Given::Text(text),
        DefaultValue::Number(n) => Given::Number(n),
      };
      assert!(
        spec.check(default, Source::Option).is_ok(),
        "the default of {}.{} breaks its own rule",
        spec.scope.as_str(),
        spec.name
      );
    }
  }

  #[test]
  fn the_log_levels_run_from_the_most_talkative_to_silent() {
    let Rule::OneOf { values, .. } = LOG_LEVEL.rule else {
      panic!("logLevel is a one-of row")
    };
    assert_eq!(values, ["debug", "info", "warn", "error", "silent"]);
  }

  #[test]
  fn the_named_rows_are_the_rows_of_the_table() {
    for spec in [
      FLUSH_INTERVAL_MS,
      MAX_PENDING_ITEMS,
      MAX_PENDING_BYTES,
      FLUSH_TIMEOUT_MS,
      SPOOL_MAX_BYTES,
      FAILURE_THRESHOLD,
      FAILURE_TIMEOUT_MS,
      PROBE_INTERVAL_MS,
    ] {
      assert_eq!(find(spec.scope, spec.name), Some(&spec));
      assert!(matches!(spec.default, DefaultValue::Number(_)));
    }
    for scope in Scope::ALL {
      assert_eq!(Scope::parse(scope.as_str()), Some(scope));
      assert!(TABLE.iter().any(|spec| spec.scope == scope));
    }
  }

  #[test]
  fn values_are_checked_with_errors_that_name_the_source() {
    let retries = find(Kafka, "maxRetries").unwrap();
    assert_eq!(
      retries.check(Given::Number(4.0), Source::Option),
      Ok(Resolved::Number(4.0))
    );
    let error = retries
      .check(Given::Number(2.5), Source::Option)
      .unwrap_err();
    assert_eq!(
      error.to_string(),
      "invalid config: option `maxRetries` must be a whole number from 0 to 100, got 2.5"
    );
    let port = find(RabbitMq, "port").unwrap();
    assert_eq!(
      port.check(Given::Text(" 5673 "), Source::Env("RABBITMQ_PORT")),
      Ok(Resolved::Number(5673.0))
    );
    let error = port
      .check(Given::Text("abc"), Source::Env("RABBITMQ_PORT"))
      .unwrap_err();
    assert!(error.to_string().contains(
      "environment variable RABBITMQ_PORT must be a whole number from 1 to 65535, got NaN"
    ));
    // From code, a number option given as text is refused, not parsed.
    assert!(port.check(Given::Text("5673"), Source::Option).is_err());
    let compression = find(Kafka, "compressionType").unwrap();
    assert_eq!(
      compression.check(Given::Text("ZSTD"), Source::Option),
      Ok(Resolved::Text("zstd".into()))
    );
    let error = FLUSH_TIMEOUT_MS
      .check(Given::Number(f64::INFINITY), Source::Option)
      .unwrap_err();
    assert!(error.to_string().contains("from 0 to 2147483647, got inf"));
  }

  #[test]
  fn a_secret_is_never_shown_in_an_error() {
    let password = find(Kafka, "password").unwrap();
    let error = password
      .check(Given::Number(12345.0), Source::Option)
      .unwrap_err();
    assert_eq!(
      error.to_string(),
      "invalid config: option `password` must be a string, got a number"
    );
  }
}
