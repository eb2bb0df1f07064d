//! Options from JavaScript into core types. The TypeScript layer has already resolved every
//! option (option, then env var, then default; `ts/config/env.ts`), so this only checks and
//! converts, and its errors name the option.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use napi_derive::napi;

use super::mock_store::BindingMockStore;
use crate::core::error::{QueueError, Result};
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

/// The transport, with its options resolved. Exactly the object for `kind` is set.
#[napi(object)]
pub struct BindingTransportConfig {
  /// `"mock"`, `"file"`, `"kafka"`, `"rabbitmq"`, `"redis"`, `"http"` or `"grpc"`.
  pub kind: String,
  pub file: Option<BindingFileConfig>,
  pub kafka: Option<BindingKafkaConfig>,
  pub rabbitmq: Option<BindingRabbitMqConfig>,
  pub redis: Option<BindingRedisConfig>,
  pub http: Option<BindingHttpConfig>,
  pub grpc: Option<BindingGrpcConfig>,
  /// Retries after the first attempt.
  pub max_retries: Option<u32>,
}

/// File transport options.
#[napi(object)]
pub struct BindingFileConfig {
  pub path: String,
}

/// Kafka transport options: the topic and the complete librdkafka configuration.
#[napi(object)]
pub struct BindingKafkaConfig {
  pub topic: String,
  pub settings: HashMap<String, String>,
}

/// RabbitMQ transport options.
#[napi(object)]
pub struct BindingRabbitMqConfig {
  pub address: String,
  pub queue: String,
}

/// Redis transport options.
#[napi(object)]
pub struct BindingRedisConfig {
  pub address: String,
  pub channel: String,
}

/// Scouter HTTP API options.
#[napi(object)]
pub struct BindingHttpConfig {
  pub server_uri: String,
  pub username: String,
  pub password: String,
  pub auth_token: String,
  pub timeout_ms: f64,
}

/// Scouter gRPC API options.
#[napi(object)]
pub struct BindingGrpcConfig {
  pub server_uri: String,
  pub username: String,
  pub password: String,
  pub timeout_ms: f64,
  pub connect_timeout_ms: f64,
}

/// Queue options shared by every alias.
#[napi(object)]
pub struct BindingQueueOptions {
  /// @default 30000
  pub flush_interval_ms: Option<f64>,
  /// @default 100000
  pub max_pending_items: Option<f64>,
  /// @default 67108864
  pub max_pending_bytes: Option<f64>,
  /// The deadline of a flush or shutdown called without one. @default 30000
  pub flush_timeout_ms: Option<f64>,
  /// @default 64
  pub max_in_flight: Option<u32>,
  /// Reject instead of starting when the transport cannot connect in time.
  pub connect_timeout_ms: Option<f64>,
  /// The write-ahead disk spool's directory; no spool without it.
  pub spool_dir: Option<String>,
  /// @default 1073741824 (1 GiB)
  pub spool_max_bytes: Option<f64>,
  /// `"always"`, `"interval"` or `"never"`. @default "interval"
  pub spool_sync: Option<String>,
  /// Documents failed in a row that open a chain member's breaker. @default 5
  pub failure_threshold: Option<f64>,
  /// A failure lasting this long opens a member's breaker. @default 10000
  pub failure_timeout_ms: Option<f64>,
  /// How long an open breaker waits before its next probe. @default 5000
  pub probe_interval_ms: Option<f64>,
}

/// The longest duration accepted from JavaScript, in milliseconds: Node's own timer limit
/// (about 24.8 days). Larger values would overflow `Duration`/`Instant` arithmetic.
pub const MAX_DURATION_MS: f64 = 2_147_483_647.0;

/// The largest count accepted from JavaScript: beyond it, numbers are no longer exact.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A duration option, checked: finite, within `0..=MAX_DURATION_MS`, and above zero unless
/// `zero_ok`.
pub fn duration(option: &str, ms: f64, zero_ok: bool) -> Result<Duration> {
  let low_ok = if zero_ok { ms >= 0.0 } else { ms > 0.0 };
  if ms.is_finite() && low_ok && ms <= MAX_DURATION_MS {
    return Ok(Duration::from_secs_f64(ms / 1000.0));
  }
  let low = if zero_ok { "from 0" } else { "above 0" };
  Err(QueueError::Config(format!(
    "option `{option}` must be a number of milliseconds {low} up to {MAX_DURATION_MS} (got {ms})"
  )))
}

/// A count option, checked: a whole number within `1..=max`.
fn count(option: &str, n: f64, max: f64) -> Result<f64> {
  if n.is_finite() && n >= 1.0 && n.fract() == 0.0 && n <= max {
    return Ok(n);
  }
  Err(QueueError::Config(format!(
    "option `{option}` must be a whole number from 1 to {max} (got {n})"
  )))
}

impl BindingQueueOptions {
  /// `connectTimeoutMs`, checked.
  pub fn connect_timeout(&self) -> Result<Option<Duration>> {
    self
      .connect_timeout_ms
      .map(|ms| duration("connectTimeoutMs", ms, false))
      .transpose()
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
  /// The core config; `mock` is the store of a Mock transport.
  pub fn into_core(self, mock: Option<&BindingMockStore>) -> Result<TransportConfig> {
    let missing =
      |kind: &str| QueueError::Config(format!("the {kind} transport needs its options"));
    let max_retries = self.max_retries.unwrap_or(3);
    match self.kind.as_str() {
      "kafka" => {
        let kafka = self.kafka.ok_or_else(|| missing("Kafka"))?;
        Ok(TransportConfig::Kafka(KafkaConfig {
          topic: kafka.topic,
          settings: kafka.settings.into_iter().collect(),
          max_retries,
        }))
      }
      "rabbitmq" => {
        let rabbitmq = self.rabbitmq.ok_or_else(|| missing("RabbitMQ"))?;
        Ok(TransportConfig::RabbitMq(RabbitMqConfig {
          address: rabbitmq.address,
          queue: rabbitmq.queue,
          max_retries,
        }))
      }
      "redis" => {
        let redis = self.redis.ok_or_else(|| missing("Redis"))?;
        Ok(TransportConfig::Redis(RedisConfig {
          address: redis.address,
          channel: redis.channel,
          max_retries,
        }))
      }
      "http" => {
        let http = self.http.ok_or_else(|| missing("HTTP"))?;
        Ok(TransportConfig::Http(HttpConfig {
          timeout: duration("timeoutMs", http.timeout_ms, false)?,
          server_uri: http.server_uri,
          username: http.username,
          password: http.password,
          auth_token: http.auth_token,
          max_retries,
        }))
      }
      "grpc" => {
        let grpc = self.grpc.ok_or_else(|| missing("gRPC"))?;
        let config = GrpcConfig {
          timeout: duration("timeoutMs", grpc.timeout_ms, false)?,
          connect_timeout: duration("connectTimeoutMs", grpc.connect_timeout_ms, false)?,
          server_uri: grpc.server_uri,
          username: grpc.username,
          password: grpc.password,
          max_retries,
        };
        config.check()?;
        Ok(TransportConfig::Grpc(config))
      }
      "mock" => {
        let store =
          mock.ok_or_else(|| QueueError::Config("the Mock transport needs its store".into()))?;
        Ok(TransportConfig::Mock(store.inner.clone()))
      }
      "file" => {
        let file = self
          .file
          .ok_or_else(|| QueueError::Config("the File transport needs `path`".into()))?;
        Ok(TransportConfig::File(FileConfig {
          path: PathBuf::from(file.path),
          max_retries,
        }))
      }
      other => Err(QueueError::Config(format!(
        "unknown transport kind `{other}`"
      ))),
    }
  }
}

impl TryFrom<&BindingQueueOptions> for BreakerOptions {
  type Error = QueueError;

  fn try_from(options: &BindingQueueOptions) -> Result<Self> {
    let defaults = BreakerOptions::default();
    Ok(BreakerOptions {
      failure_threshold: match options.failure_threshold {
        None => defaults.failure_threshold,
        Some(n) => count("failureThreshold", n, u32::MAX as f64)? as u32,
      },
      failure_timeout: match options.failure_timeout_ms {
        None => defaults.failure_timeout,
        Some(ms) => duration("failureTimeoutMs", ms, false)?,
      },
      probe_interval: match options.probe_interval_ms {
        None => defaults.probe_interval,
        Some(ms) => duration("probeIntervalMs", ms, false)?,
      },
    })
  }
}

impl TryFrom<&BindingQueueOptions> for QueueOptions {
  type Error = QueueError;

  fn try_from(options: &BindingQueueOptions) -> Result<Self> {
    let defaults = QueueOptions::default();
    let flush_interval = match options.flush_interval_ms {
      None => defaults.flush_interval,
      // A zero-length timer would wake the event task without pause: 1 ms is the floor.
      Some(ms) if ms < 1.0 => {
        return Err(QueueError::Config(format!(
          "option `flushIntervalMs` must be a number of milliseconds from 1 up to {MAX_DURATION_MS} (got {ms})"
        )))
      }
      Some(ms) => duration("flushIntervalMs", ms, false)?,
    };
    let flush_timeout = match options.flush_timeout_ms {
      None => defaults.flush_timeout,
      Some(ms) => duration("flushTimeoutMs", ms, true)?,
    };
    let max_pending_items = match options.max_pending_items {
      None => defaults.max_pending_items,
      Some(n) => count("maxPendingItems", n, u32::MAX as f64)? as usize,
    };
    let max_pending_bytes = match options.max_pending_bytes {
      None => defaults.max_pending_bytes,
      Some(n) => count("maxPendingBytes", n, MAX_SAFE_INTEGER)? as u64,
    };
    let max_in_flight = match options.max_in_flight {
      None => defaults.max_in_flight,
      Some(0) => {
        return Err(QueueError::Config(
          "option `maxInFlight` must be at least 1".into(),
        ))
      }
      Some(n) => n as usize,
    };
    Ok(QueueOptions {
      flush_interval,
      max_pending_items,
      max_pending_bytes,
      max_in_flight,
      flush_timeout,
      spool: spool_options(options)?,
    })
  }
}

/// `spoolDir`, `spoolMaxBytes` and `spoolSync`, checked; the last two need the first.
fn spool_options(options: &BindingQueueOptions) -> Result<Option<SpoolOptions>> {
  let Some(dir) = options.spool_dir.as_deref() else {
    if options.spool_max_bytes.is_some() || options.spool_sync.is_some() {
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
  let max_bytes = match options.spool_max_bytes {
    None => SpoolOptions::DEFAULT_MAX_BYTES,
    Some(n) if n >= SpoolOptions::MIN_MAX_BYTES as f64 => count("spoolMaxBytes", n, MAX_SAFE_INTEGER)? as u64,
    Some(n) => {
      return Err(QueueError::Config(format!(
        "option `spoolMaxBytes` must be a whole number of bytes from {} to {MAX_SAFE_INTEGER} (got {n})",
        SpoolOptions::MIN_MAX_BYTES
      )))
    }
  };
  let sync = match options.spool_sync.as_deref() {
    None => SpoolSync::Interval,
    Some(text) => SpoolSync::parse(text).ok_or_else(|| {
      QueueError::Config(format!(
        "option `spoolSync` must be 'interval', 'always' or 'never' (got {text:?})"
      ))
    })?,
  };
  Ok(Some(SpoolOptions {
    dir: PathBuf::from(dir),
    max_bytes,
    sync,
  }))
}
