//! The Scouter HTTP API through `reqwest` (rustls). Log in with `Username`/`Password` headers
//! (or start from a given token), POST each document to `/scouter/drift` with the bearer token,
//! take a refreshed token from a response's `Authorization` header, and log in again after a 401.
//! 2xx is done; 429, 5xx, time-outs and lost connections are retryable (honouring
//! `Retry-After`); any other 4xx (400, 403, ...) is a failed publish that is not retried.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;

use super::dispatcher::{settled, Dispatcher, HandOver};
use super::{Confirmation, Transport};
use crate::core::error::{QueueError, Result, TransportError};
use crate::core::record::Document;

/// Resolved options of the HTTP transport.
#[derive(Clone, PartialEq)]
pub struct HttpConfig {
  pub server_uri: String,
  pub username: String,
  pub password: String,
  /// Used until a 401 asks for a login; empty for none.
  pub auth_token: String,
  pub timeout: Duration,
  pub max_retries: u32,
}

impl std::fmt::Debug for HttpConfig {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("HttpConfig")
      .field("server_uri", &self.server_uri)
      .field("username", &self.username)
      .field("password", &"[redacted]")
      .field(
        "auth_token",
        &if self.auth_token.is_empty() {
          ""
        } else {
          "[redacted]"
        },
      )
      .finish()
  }
}

/// Logs in and posts documents.
#[derive(Clone)]
struct Poster {
  client: reqwest::Client,
  config: Arc<HttpConfig>,
  token: Arc<tokio::sync::Mutex<Option<String>>>,
}

/// What one POST came to.
enum Posted {
  Done,
  Unauthorized,
  Failed(TransportError),
}

impl Poster {
  fn url(&self, path: &str) -> String {
    format!("{}{path}", self.config.server_uri.trim_end_matches('/'))
  }

  /// A token: the current one, or a fresh login.
  async fn token(&self) -> Result<String, TransportError> {
    let mut token = self.token.lock().await;
    if let Some(token) = &*token {
      return Ok(token.clone());
    }
    let fresh = self.login().await?;
    *token = Some(fresh.clone());
    Ok(fresh)
  }

  async fn login(&self) -> Result<String, TransportError> {
    let response = self
      .client
      .get(self.url("/scouter/auth/login"))
      .header("Username", &self.config.username)
      .header("Password", &self.config.password)
      .send()
      .await
      .map_err(|err| TransportError::retryable("http", format!("login: {}", describe(err))))?;
    let status = response.status();
    if !status.is_success() {
      let error = format!("login as `{}` answered {status}", self.config.username);
      return Err(if retryable_status(status) {
        with_retry_after(TransportError::retryable("http", error), response.headers())
      } else {
        TransportError::permanent("http", error)
      });
    }
    #[derive(serde::Deserialize)]
    struct Login {
      token: String,
    }
    let body = response
      .bytes()
      .await
      .map_err(|err| TransportError::retryable("http", format!("login: {}", describe(err))))?;
    serde_json::from_slice::<Login>(&body)
      .map(|login| login.token)
      .map_err(|err| {
        TransportError::permanent("http", format!("login answered without a token: {err}"))
      })
  }

  async fn post(&self, document: &Document, token: &str) -> Posted {
    let sent = self
      .client
      .post(self.url("/scouter/drift"))
      .bearer_auth(token)
      .header(CONTENT_TYPE, "application/json")
      .body(document.json.clone())
      .send()
      .await;
    let response = match sent {
      Ok(response) => response,
      Err(err) => {
        return Posted::Failed(TransportError::retryable(
          "http",
          format!("POST /scouter/drift: {}", describe(err)),
        ))
      }
    };
    if let Some(fresh) = bearer(response.headers()) {
      *self.token.lock().await = Some(fresh);
    }
    let status = response.status();
    if status.is_success() {
      return Posted::Done;
    }
    if status == StatusCode::UNAUTHORIZED {
      return Posted::Unauthorized;
    }
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    let error = format!(
      "POST /scouter/drift answered {status}: {}",
      body.chars().take(300).collect::<String>()
    );
    Posted::Failed(if retryable_status(status) {
      with_retry_after(TransportError::retryable("http", error), &headers)
    } else {
      TransportError::permanent("http", error)
    })
  }

  /// POSTs once, logging in again once if the token was refused.
  async fn deliver(&self, document: &Document) -> Result<(), TransportError> {
    let token = self.token().await?;
    match self.post(document, &token).await {
      Posted::Done => Ok(()),
      Posted::Failed(error) => Err(error),
      Posted::Unauthorized => {
        {
          let mut current = self.token.lock().await;
          if current.as_deref() == Some(token.as_str()) {
            *current = None;
          }
        }
        let token = self.token().await?;
        match self.post(document, &token).await {
          Posted::Done => Ok(()),
          Posted::Failed(error) => Err(error),
          Posted::Unauthorized => Err(TransportError::retryable(
            "http",
            "POST /scouter/drift answered 401 after a fresh login",
          )),
        }
      }
    }
  }
}

impl HandOver for Poster {
  async fn hand_over(&mut self, document: Arc<Document>) -> Confirmation {
    settled(self.deliver(&document).await)
  }
}

fn retryable_status(status: StatusCode) -> bool {
  status == StatusCode::TOO_MANY_REQUESTS
    || status == StatusCode::REQUEST_TIMEOUT
    || status.is_server_error()
}

/// `Authorization: Bearer <token>` of a response, if any.
fn bearer(headers: &HeaderMap) -> Option<String> {
  let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
  let token = value
    .strip_prefix("Bearer ")
    .or_else(|| value.strip_prefix("bearer "))?;
  (!token.is_empty()).then(|| token.to_string())
}

/// `Retry-After` in seconds or as an HTTP date.
fn with_retry_after(mut error: TransportError, headers: &HeaderMap) -> TransportError {
  let Some(value) = headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()) else {
    return error;
  };
  error.retry_after = if let Ok(seconds) = value.trim().parse::<u64>() {
    Some(Duration::from_secs(seconds))
  } else {
    chrono::DateTime::parse_from_rfc2822(value).ok().map(|at| {
      (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .unwrap_or_default()
    })
  };
  error
}

/// A reqwest error without the URL's credentials.
fn describe(error: reqwest::Error) -> String {
  let kind = if error.is_timeout() {
    "timed out"
  } else if error.is_connect() {
    "cannot connect"
  } else {
    "request failed"
  };
  let error = error.without_url();
  let mut text = format!("{kind}: {error}");
  let mut source = std::error::Error::source(&error);
  while let Some(cause) = source {
    text.push_str(&format!(": {cause}"));
    source = cause.source();
  }
  text
}

/// Posts documents to a Scouter server.
pub struct HttpTransport {
  dispatcher: Dispatcher,
  poster: Poster,
}

impl HttpTransport {
  pub fn connect(config: &HttpConfig) -> Result<Self> {
    let client = reqwest::Client::builder()
      .timeout(config.timeout)
      .connect_timeout(config.timeout.min(Duration::from_secs(10)))
      .build()
      .map_err(|err| QueueError::Config(format!("HTTP client: {err}")))?;
    let poster = Poster {
      client,
      config: Arc::new(config.clone()),
      token: Arc::new(tokio::sync::Mutex::new(
        (!config.auth_token.is_empty()).then(|| config.auth_token.clone()),
      )),
    };
    Ok(HttpTransport {
      dispatcher: Dispatcher::start("http", poster.clone()),
      poster,
    })
  }
}

#[async_trait]
impl Transport for HttpTransport {
  fn name(&self) -> &'static str {
    "http"
  }

  fn publish(&self, document: Arc<Document>) -> Confirmation {
    self.dispatcher.publish(document)
  }

  async fn ready(&self, timeout: Duration) -> Result<(), TransportError> {
    tokio::time::timeout(timeout, self.poster.token())
      .await
      .map_err(|_| TransportError::retryable("http", "no login within the connect time-out"))?
      .map(|_| ())
  }

  async fn close(&self) -> Result<(), TransportError> {
    self.dispatcher.close();
    Ok(())
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use reqwest::header::HeaderValue;

  #[test]
  fn retry_after_in_seconds_or_as_a_date() {
    let mut headers = HeaderMap::new();
    headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
    let error = with_retry_after(TransportError::retryable("http", "x"), &headers);
    assert_eq!(error.retry_after, Some(Duration::from_secs(7)));
    let at = (chrono::Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
    headers.insert(RETRY_AFTER, HeaderValue::from_str(&at).unwrap());
    let wait = with_retry_after(TransportError::retryable("http", "x"), &headers)
      .retry_after
      .unwrap();
    assert!(
      wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
      "{wait:?}"
    );
  }

  #[test]
  fn bearer_tokens_are_read_from_responses() {
    let mut headers = HeaderMap::new();
    assert_eq!(bearer(&headers), None);
    headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer abc.def"));
    assert_eq!(bearer(&headers).as_deref(), Some("abc.def"));
  }

  #[test]
  fn statuses_worth_retrying() {
    assert!(retryable_status(StatusCode::TOO_MANY_REQUESTS));
    assert!(retryable_status(StatusCode::BAD_GATEWAY));
    assert!(!retryable_status(StatusCode::BAD_REQUEST));
    assert!(!retryable_status(StatusCode::FORBIDDEN));
  }

  #[test]
  fn debug_output_redacts_secrets() {
    let config = HttpConfig {
      server_uri: "http://x".into(),
      username: "admin".into(),
      password: "hunter2".into(),
      auth_token: "tok-123".into(),
      timeout: Duration::from_secs(1),
      max_retries: 3,
    };
    let printed = format!("{config:?}");
    assert!(
      !printed.contains("hunter2") && !printed.contains("tok-123"),
      "{printed}"
    );
  }
}
