//! Options from JavaScript into core types. The TypeScript layer has already resolved every
//! option (option, then env var, then default, through the option table); this checks each value
//! again against the same table (the object may be forged) and converts. Errors name the option.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use napi_derive::napi;

use super::mock_store::BindingMockStore;
use crate::core::error::{QueueError, Result};
use crate::core::options::{self, Given, Scope, Source};
use crate::core::queue::QueueOptions;
use crate::core::spool::{SpoolOptions, SpoolSync};
use crate::core::transport::{
  BreakerOptions, FileConfig, GrpcConfig, HttpConfig, KafkaConfig, RabbitMqConfig, RedisConfig,
  TransportConfig,
};

/// Which drift profile file each alias uses.
#[napi(object)]
pub struct BindingProfileSource {
  pub alias: String,
  /// The profile file; ignored when `json` is given.
  pub path: String,
  /// The profile's JSON text, for a profile given as an object (`fromProfiles`).
  pub json: Option<String>,
}

/// The transport, with its options resolved (`ts/config/transports.ts` resolves them through the
/// option table). A structured enum, so `index.d.ts` carries a union discriminated by `kind`.
#[napi(discriminant = "kind", discriminant_case = "lowercase")]
pub enum BindingTransportConfig {
  /// Its store crosses beside the list (`mocks`), at the same position.
  Mock,
  File {
    path: String,
    max_retries: f64,
  },
  /// The topic and the complete librdkafka configuration.
  Kafka {
    topic: String,
    settings: HashMap<String, String>,
    max_retries: f64,
  },
  RabbitMq {
    address: String,
    queue: String,
    max_retries: f64,
  },
  Redis {
    address: String,
    channel: String,
    max_retries: f64,
  },
  /// The Scouter server's HTTP API.
  Http {
    server_uri: String,
    username: String,
    password: String,
    auth_token: String,
    timeout_ms: f64,
    max_retries: f64,
  },
  /// The Scouter server's gRPC API.
  Grpc {
    server_uri: String,
    username: String,
    password: String,
    timeout_ms: f64,
    connect_timeout_ms: f64,
    max_retries: f64,
  },
}

/// Queue options shared by every alias; absent ones take the option table's default.
#[napi(object)]
pub struct BindingQueueOptions {
  pub flush_interval_ms: Option<f64>,
  pub max_pending_items: Option<f64>,
  pub max_pending_bytes: Option<f64>,
  /// The deadline of a flush or shutdown called without one.
  pub flush_timeout_ms: Option<f64>,
  /// Reject instead of starting when the transport cannot connect in time.
  pub connect_timeout_ms: Option<f64>,
  /// The write-ahead disk spool's directory; no spool without it.
  pub spool_dir: Option<String>,
  pub spool_max_bytes: Option<f64>,
  /// `"always"`, `"interval"` or `"never"`.
  pub spool_sync: Option<String>,
  /// Documents failed in a row that open a chain member's breaker.
  pub failure_threshold: Option<f64>,
  /// A failure lasting this long opens a member's breaker.
  pub failure_timeout_ms: Option<f64>,
  /// How long an open breaker waits before its next probe.
  pub probe_interval_ms: Option<f64>,
}

/// A duration argument (`flush(timeoutMs)`, a Mock latency): a number of milliseconds from 0 to
/// the longest duration of the option table.
pub fn argument_duration(argument: &str, ms: f64) -> Result<Duration> {
  if ms.is_finite() && (0.0..=options::MAX_DURATION_MS).contains(&ms) {
    return Ok(options::millis_duration(ms));
  }
  Err(QueueError::Config(format!(
    "`{argument}` must be a number of milliseconds from 0 to {}, got {ms}",
    options::MAX_DURATION_MS
  )))
}

/// A duration option of `scope`, checked against its row of the option table.
pub fn duration(scope: Scope, option: &str, ms: f64) -> Result<Duration> {
  let spec = options::find(scope, option).expect("a duration option of the table");
  Ok(options::millis_duration(spec.check_number(ms)?))
}

/// `maxRetries` of a transport config, checked against the table.
pub fn max_retries(scope: Scope, n: f64) -> Result<u32> {
  let spec = options::find(scope, "maxRetries").expect("every transport has maxRetries");
  Ok(spec.check_number(n)? as u32)
}

impl BindingQueueOptions {
  /// `connectTimeoutMs`, checked.
  pub fn connect_timeout(&self) -> Result<Option<Duration>> {
    Ok(
      options::CONNECT_TIMEOUT_MS
        .number(self.connect_timeout_ms)?
        .map(options::millis_duration),
    )
  }
}

/// The core configs of a transport list; `mocks[i]` is the store of the Mock transport at
/// position `i` (the list may be shorter when no Mock transport comes later).
pub fn transports_into_core(
  configs: Vec<BindingTransportConfig>,
  mocks: Vec<Option<&BindingMockStore>>,
) -> Result<Vec<TransportConfig>> {
  if configs.is_empty() {
    return Err(QueueError::Config("no transport was given".into()));
  }
  configs
    .into_iter()
    .enumerate()
    .map(|(index, config)| config.into_core(mocks.get(index).copied().flatten()))
    .collect()
}

impl BindingTransportConfig {
  /// The core config; `mock` is the store of a Mock transport. Every number is checked again
  /// against the option table: a forged object gets the same errors as a bad option.
  pub fn into_core(self, mock: Option<&BindingMockStore>) -> Result<TransportConfig> {
    Ok(match self {
      BindingTransportConfig::Mock => {
        let store =
          mock.ok_or_else(|| QueueError::Config("the Mock transport needs its store".into()))?;
        TransportConfig::Mock(store.inner.clone())
      }
      BindingTransportConfig::File {
        path,
        max_retries: n,
      } => {
        if path.is_empty() || path.contains('\0') {
          return Err(QueueError::Config(format!(
            "option `path` must be a file path, got {path:?}"
          )));
        }
        TransportConfig::File(FileConfig {
          path: PathBuf::from(path),
          max_retries: max_retries(Scope::File, n)?,
        })
      }
      BindingTransportConfig::Kafka {
        topic,
        settings,
        max_retries: n,
      } => TransportConfig::Kafka(KafkaConfig {
        topic,
        settings: settings.into_iter().collect(),
        max_retries: max_retries(Scope::Kafka, n)?,
      }),
      BindingTransportConfig::RabbitMq {
        address,
        queue,
        max_retries: n,
      } => TransportConfig::RabbitMq(RabbitMqConfig {
        address,
        queue,
        max_retries: max_retries(Scope::RabbitMq, n)?,
      }),
      BindingTransportConfig::Redis {
        address,
        channel,
        max_retries: n,
      } => TransportConfig::Redis(RedisConfig {
        address,
        channel,
        max_retries: max_retries(Scope::Redis, n)?,
      }),
      BindingTransportConfig::Http {
        server_uri,
        username,
        password,
        auth_token,
        timeout_ms,
        max_retries: n,
      } => TransportConfig::Http(HttpConfig {
        timeout: duration(Scope::Http, "timeoutMs", timeout_ms)?,
        server_uri,
        username,
        password,
        auth_token,
        max_retries: max_retries(Scope::Http, n)?,
      }),
      BindingTransportConfig::Grpc {
        server_uri,
        username,
        password,
        timeout_ms,
        connect_timeout_ms,
        max_retries: n,
      } => {
        let config = GrpcConfig {
          timeout: duration(Scope::Grpc, "timeoutMs", timeout_ms)?,
          connect_timeout: duration(Scope::Grpc, "connectTimeoutMs", connect_timeout_ms)?,
          server_uri,
          username,
          password,
          max_retries: max_retries(Scope::Grpc, n)?,
        };
        config.check()?;
        TransportConfig::Grpc(config)
      }
    })
  }
}

impl TryFrom<&BindingQueueOptions> for BreakerOptions {
  type Error = QueueError;

  fn try_from(options: &BindingQueueOptions) -> Result<Self> {
    let defaults = BreakerOptions::default();
    Ok(BreakerOptions {
      failure_threshold: options::FAILURE_THRESHOLD
        .number(options.failure_threshold)?
        .map_or(defaults.failure_threshold, |n| n as u32),
      failure_timeout: options::FAILURE_TIMEOUT_MS
        .number(options.failure_timeout_ms)?
        .map_or(defaults.failure_timeout, options::millis_duration),
      probe_interval: options::PROBE_INTERVAL_MS
        .number(options.probe_interval_ms)?
        .map_or(defaults.probe_interval, options::millis_duration),
    })
  }
}

impl TryFrom<&BindingQueueOptions> for QueueOptions {
  type Error = QueueError;

  fn try_from(given: &BindingQueueOptions) -> Result<Self> {
    let defaults = QueueOptions::default();
    Ok(QueueOptions {
      flush_interval: options::FLUSH_INTERVAL_MS
        .number(given.flush_interval_ms)?
        .map_or(defaults.flush_interval, options::millis_duration),
      max_pending_items: options::MAX_PENDING_ITEMS
        .number(given.max_pending_items)?
        .map_or(defaults.max_pending_items, |n| n as usize),
      max_pending_bytes: options::MAX_PENDING_BYTES
        .number(given.max_pending_bytes)?
        .map_or(defaults.max_pending_bytes, |n| n as u64),
      flush_timeout: options::FLUSH_TIMEOUT_MS
        .number(given.flush_timeout_ms)?
        .map_or(defaults.flush_timeout, options::millis_duration),
      spool: spool_options(given)?,
      ..defaults
    })
  }
}

/// `spoolDir`, `spoolMaxBytes` and `spoolSync`, checked; the last two need the first.
fn spool_options(given: &BindingQueueOptions) -> Result<Option<SpoolOptions>> {
  let Some(dir) = given.spool_dir.as_deref() else {
    if given.spool_max_bytes.is_some() || given.spool_sync.is_some() {
      return Err(QueueError::Config(
        "options `spoolMaxBytes` and `spoolSync` need `spoolDir`".into(),
      ));
    }
    return Ok(None);
  };
  if dir.is_empty() || dir.contains('\0') {
    return Err(QueueError::Config(format!(
      "option `spoolDir` must be a directory path (got {dir:?})"
    )));
  }
  let max_bytes = options::SPOOL_MAX_BYTES
    .number(given.spool_max_bytes)?
    .map_or(SpoolOptions::DEFAULT_MAX_BYTES, |n| n as u64);
  let sync = match given.spool_sync.as_deref() {
    None => SpoolSync::Interval,
    Some(text) => {
      options::SPOOL_SYNC.check(Given::Text(text), Source::Option)?;
      SpoolSync::parse(text).expect("the table's spoolSync values parse")
    }
  };
  Ok(Some(SpoolOptions {
    dir: PathBuf::from(dir),
    max_bytes,
    sync,
  }))
}
