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
use crate::core::transport::{
  FileConfig, HttpConfig, KafkaConfig, RabbitMqConfig, RedisConfig, TransportConfig,
};

/// Which drift profile file each alias uses.
#[napi(object)]
pub struct BindingProfileSource {
  pub alias: String,
  pub path: String,
}

/// The transport, with its options resolved. Exactly the object for `kind` is set.
#[napi(object)]
pub struct BindingTransportConfig {
  /// `"mock"`, `"file"`, `"kafka"`, `"rabbitmq"`, `"redis"` or `"http"`.
  pub kind: String,
  pub file: Option<BindingFileConfig>,
  pub kafka: Option<BindingKafkaConfig>,
  pub rabbitmq: Option<BindingRabbitMqConfig>,
  pub redis: Option<BindingRedisConfig>,
  pub http: Option<BindingHttpConfig>,
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

/// Queue options shared by every alias.
#[napi(object)]
pub struct BindingQueueOptions {
  /// @default 30000
  pub flush_interval_ms: Option<f64>,
  /// @default 100000
  pub max_pending_items: Option<f64>,
  /// @default 64
  pub max_in_flight: Option<u32>,
  /// Reject instead of starting when the transport cannot connect in time.
  pub connect_timeout_ms: Option<f64>,
}

impl BindingQueueOptions {
  /// `connectTimeoutMs`, checked.
  pub fn connect_timeout(&self) -> Result<Option<Duration>> {
    match self.connect_timeout_ms {
      None => Ok(None),
      Some(ms) if ms.is_finite() && ms > 0.0 => Ok(Some(Duration::from_secs_f64(ms / 1000.0))),
      Some(ms) => Err(QueueError::Config(format!(
        "option `connectTimeoutMs` must be a positive number of milliseconds (got {ms})"
      ))),
    }
  }
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
        if !(http.timeout_ms.is_finite() && http.timeout_ms > 0.0) {
          return Err(QueueError::Config(format!(
            "option `timeoutMs` must be a positive number of milliseconds (got {})",
            http.timeout_ms
          )));
        }
        Ok(TransportConfig::Http(HttpConfig {
          server_uri: http.server_uri,
          username: http.username,
          password: http.password,
          auth_token: http.auth_token,
          timeout: Duration::from_secs_f64(http.timeout_ms / 1000.0),
          max_retries,
        }))
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

impl TryFrom<&BindingQueueOptions> for QueueOptions {
  type Error = QueueError;

  fn try_from(options: &BindingQueueOptions) -> Result<Self> {
    let defaults = QueueOptions::default();
    let flush_interval = match options.flush_interval_ms {
      None => defaults.flush_interval,
      Some(ms) if ms.is_finite() && ms > 0.0 => Duration::from_secs_f64(ms / 1000.0),
      Some(ms) => {
        return Err(QueueError::Config(format!(
          "option `flushIntervalMs` must be a positive number of milliseconds (got {ms})"
        )))
      }
    };
    let max_pending_items = match options.max_pending_items {
      None => defaults.max_pending_items,
      Some(n) if n.is_finite() && n >= 1.0 && n.fract() == 0.0 && n <= u32::MAX as f64 => {
        n as usize
      }
      Some(n) => {
        return Err(QueueError::Config(format!(
          "option `maxPendingItems` must be a whole number from 1 to {} (got {n})",
          u32::MAX
        )))
      }
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
      max_in_flight,
    })
  }
}
