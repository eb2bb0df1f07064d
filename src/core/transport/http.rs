//! The Scouter HTTP API through `reqwest` (rustls). Log in with `Username`/`Password` headers
//! (or start from a given token), POST each document to its format's path (`/scouter/drift` for
//! v0.9, `/scouter/message` for 0.25) with the bearer token,
//! take a refreshed token from a response's `Authorization` header, and log in again after a 401.
//! 2xx is done; 429, 5xx, time-outs and lost connections are retryable (honouring
//! `Retry-After`); any other 4xx (400, 403, ...) is a failed publish that is not retried.
//!
//! POSTs overlap: the dispatcher starts them in order, and each answer is awaited by the queue
//! that published it, over reqwest's keep-alive pool. Logins stay one at a time (the token lock).
//! Answer bodies are read only up to a small bound, so a server (or a proxy) that answers with a
//! huge error page cannot make the process buffer it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Response, StatusCode};
use tokio_util::sync::CancellationToken;

use super::bearer_token::BearerToken;
use super::dispatcher::{settled, started, Dispatcher, HandOver};
use super::{Confirmation, Transport};
use crate::core::error::{QueueError, Result, TransportError};
use crate::core::wire::Document;

/// Resolved options of the HTTP transport.
#[derive(Clone, PartialEq)]
pub struct HttpConfig {
  /// `http(s)://host[:port][/prefix]`. Any `user:pass@` in it is ignored: credentials go in
  /// `username`/`password` (reqwest would otherwise send them as Basic auth on every request,
  /// replacing the bearer token).
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
      .field("server_uri", &super::redact_url(&self.server_uri))
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

/// How much of an error answer is read: enough for any message a server puts there. The rest is
/// never read; the connection is dropped with the response.
const ERROR_BODY_LIMIT: usize = 4 * 1024;
/// How much of an error answer goes into the error message.
const ERROR_MESSAGE_CHARS: usize = 300;
/// How much of a login answer is read. Larger than for errors because the token in it can be a
/// JWT carrying many claims; still a bound, so a broken server cannot exhaust memory.
const LOGIN_BODY_LIMIT: usize = 64 * 1024;

/// Logs in and posts documents. Cheap to clone: every confirmation carries one.
#[derive(Clone)]
struct Poster {
  client: reqwest::Client,
  config: Arc<HttpConfig>,
  /// `server_uri` without userinfo and without a trailing `/`.
  base: Arc<str>,
  /// The token the POSTs are sent with (no login after the transport closed).
  token: BearerToken,
}

/// What one POST came to.
enum Posted {
  Done,
  Unauthorized,
  Failed(TransportError),
}

impl Poster {
  fn url(&self, path: &str) -> String {
    format!("{}{path}", self.base)
  }

  /// A token: the current one, or a fresh login.
  async fn token(&self) -> Result<String, TransportError> {
    self.token.get(self.login()).await
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
      // The body is not read: dropping the response drops its connection.
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
    let body = read_prefix(response, LOGIN_BODY_LIMIT)
      .await
      .map_err(|err| TransportError::retryable("http", format!("login: {}", describe(err))))?;
    serde_json::from_slice::<Login>(&body)
      .map(|login| login.token)
      .map_err(|err| {
        TransportError::permanent("http", format!("login answered without a token: {err}"))
      })
  }

  /// Starts a POST of `document`; the request goes out when the future is first polled.
  fn send(
    &self,
    document: &Document,
    token: &str,
  ) -> impl std::future::Future<Output = reqwest::Result<Response>> + Send + 'static {
    self
      .client
      .post(self.url(document.format.spec().http_path))
      .bearer_auth(token)
      .header(CONTENT_TYPE, "application/json")
      .body(document.json.clone())
      .send()
  }

  /// What the server's answer to a POST means.
  async fn answer(&self, document: &Document, sent: reqwest::Result<Response>) -> Posted {
    let path = document.format.spec().http_path;
    let response = match sent {
      Ok(response) => response,
      Err(err) => {
        return Posted::Failed(TransportError::retryable(
          "http",
          format!("POST {path}: {}", describe(err)),
        ))
      }
    };
    if let Some(fresh) = bearer(response.headers()) {
      self.token.replace(fresh).await;
    }
    let status = response.status();
    if status.is_success() {
      // The (small) success body is read to its end so the connection goes back to the pool;
      // the document is accepted whatever happens to that read.
      let _ = read_prefix(response, ERROR_BODY_LIMIT).await;
      return Posted::Done;
    }
    if status == StatusCode::UNAUTHORIZED {
      return Posted::Unauthorized;
    }
    let headers = response.headers().clone();
    let body = read_prefix(response, ERROR_BODY_LIMIT)
      .await
      .unwrap_or_default();
    let error = format!(
      "POST {path} answered {status}: {}",
      String::from_utf8_lossy(&body)
        .chars()
        .take(ERROR_MESSAGE_CHARS)
        .collect::<String>()
    );
    Posted::Failed(if retryable_status(status) {
      with_retry_after(TransportError::retryable("http", error), &headers)
    } else {
      TransportError::permanent("http", error)
    })
  }

  /// Waits for the answer to the POST `sent` with `token`; after a 401, logs in again (once,
  /// whoever else was refused too) and POSTs once more.
  async fn confirm(
    self,
    document: Arc<Document>,
    token: String,
    sent: impl std::future::Future<Output = reqwest::Result<Response>>,
  ) -> Result<(), TransportError> {
    match self.answer(&document, sent.await).await {
      Posted::Done => Ok(()),
      Posted::Failed(error) => Err(error),
      Posted::Unauthorized => {
        self.token.refuse(&token).await;
        let token = self.token().await?;
        match self
          .answer(&document, self.send(&document, &token).await)
          .await
        {
          Posted::Done => Ok(()),
          Posted::Failed(error) => Err(error),
          Posted::Unauthorized => Err(TransportError::retryable(
            "http",
            format!(
              "POST {} answered 401 after a fresh login",
              document.format.spec().http_path
            ),
          )),
        }
      }
    }
  }
}

impl HandOver for Poster {
  /// Gets a token (logging in if needed: documents wait for it in order) and starts the POST;
  /// its answer is the confirmation.
  async fn hand_over(&mut self, document: Arc<Document>) -> Confirmation {
    let token = match self.token().await {
      Ok(token) => token,
      Err(error) => return settled(Err(error)),
    };
    let sent = self.send(&document, &token);
    started(self.clone().confirm(document, token, sent)).await
  }
}

/// The first `limit` bytes of a response's body, read chunk by chunk; the rest is never read
/// (dropping the response then closes its connection).
async fn read_prefix(mut response: Response, limit: usize) -> reqwest::Result<Vec<u8>> {
  let mut body = Vec::new();
  while body.len() < limit {
    match response.chunk().await? {
      Some(chunk) => body.extend_from_slice(&chunk[..chunk.len().min(limit - body.len())]),
      None => break,
    }
  }
  Ok(body)
}

/// `server_uri` without `user:pass@` and without a trailing `/`: the base of request URLs.
fn base_url(server_uri: &str) -> String {
  match reqwest::Url::parse(server_uri) {
    Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
      // Both only fail for URLs that cannot have userinfo, which this one has.
      let _ = url.set_username("");
      let _ = url.set_password(None);
      url.as_str().trim_end_matches('/').to_string()
    }
    // Unparsable URIs are kept as given: each request then fails with reqwest's own message.
    _ => server_uri.trim_end_matches('/').to_string(),
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
    let closed = CancellationToken::new();
    let poster = Poster {
      client,
      config: Arc::new(config.clone()),
      base: base_url(&config.server_uri).into(),
      token: BearerToken::new(
        "http",
        (!config.auth_token.is_empty()).then(|| config.auth_token.clone()),
        closed.clone(),
      ),
    };
    Ok(HttpTransport {
      dispatcher: Dispatcher::start("http", closed, poster.clone()),
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

  /// Rejects what was not sent yet, drops the requests still awaited and ends the dispatcher.
  async fn close(&self) -> Result<(), TransportError> {
    self.dispatcher.close().await;
    Ok(())
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::core::transport::dispatcher::closed_error;
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
      server_uri: "http://u:uri-secret@x".into(),
      username: "admin".into(),
      password: "hunter2".into(),
      auth_token: "tok-123".into(),
      timeout: Duration::from_secs(1),
      max_retries: 3,
    };
    let printed = format!("{config:?}");
    assert!(
      !printed.contains("hunter2")
        && !printed.contains("tok-123")
        && !printed.contains("uri-secret"),
      "{printed}"
    );
  }

  #[test]
  fn request_urls_lose_userinfo_and_trailing_slashes() {
    assert_eq!(
      base_url("http://u:p@127.0.0.1:8000"),
      "http://127.0.0.1:8000"
    );
    assert_eq!(base_url("https://u@host/prefix/"), "https://host/prefix");
    assert_eq!(base_url("http://localhost:8000/"), "http://localhost:8000");
    assert_eq!(base_url("not a url/"), "not a url");
  }

  // A small HTTP/1.1 server on 127.0.0.1:0 that answers as each test says, records what it got,
  // and counts how many requests it holds at once.

  use std::net::SocketAddr;
  use std::sync::atomic::{AtomicUsize, Ordering};
  use std::sync::Mutex;
  use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
  use tokio::net::{TcpListener, TcpStream};

  /// One request as the server read it.
  #[derive(Clone, Debug)]
  struct Seen {
    method: String,
    path: String,
    authorization: Vec<String>,
    body: String,
  }

  /// What the server answers, after `delay`.
  struct Reply {
    delay: Duration,
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Body,
  }

  enum Body {
    Text(String),
    /// This many bytes of `x`, written 64 KiB at a time.
    Filler(usize),
  }

  fn reply(status: u16, body: &str) -> Reply {
    Reply {
      delay: Duration::ZERO,
      status,
      headers: Vec::new(),
      body: Body::Text(body.to_string()),
    }
  }

  type Answer = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

  #[derive(Default)]
  struct Record {
    seen: Mutex<Vec<Seen>>,
    open: AtomicUsize,
    max_open: AtomicUsize,
    /// For each filler body: bytes written, and whether all of it could be written.
    filler: Mutex<Vec<(usize, bool)>>,
    filler_done: tokio::sync::Notify,
  }

  impl Record {
    fn seen(&self) -> Vec<Seen> {
      self.seen.lock().unwrap().clone()
    }

    fn logins(&self) -> usize {
      self
        .seen()
        .iter()
        .filter(|seen| seen.path == "/scouter/auth/login")
        .count()
    }

    fn posts(&self) -> Vec<Seen> {
      let mut posts = self.seen();
      posts.retain(|seen| seen.method == "POST");
      posts
    }
  }

  async fn serve(
    answer: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
  ) -> (SocketAddr, Arc<Record>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let record = Arc::new(Record::default());
    let answer: Answer = Arc::new(answer);
    let state = Arc::clone(&record);
    tokio::spawn(async move {
      while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(connection(stream, Arc::clone(&answer), Arc::clone(&state)));
      }
    });
    (addr, record)
  }

  async fn connection(stream: TcpStream, answer: Answer, record: Arc<Record>) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
      let mut line = String::new();
      if read.read_line(&mut line).await.unwrap_or(0) == 0 {
        return;
      }
      let mut words = line.split_whitespace();
      let method = words.next().unwrap_or_default().to_string();
      let path = words.next().unwrap_or_default().to_string();
      let (mut authorization, mut length) = (Vec::new(), 0);
      loop {
        let mut header = String::new();
        if read.read_line(&mut header).await.unwrap_or(0) == 0 {
          return;
        }
        let Some((name, value)) = header.trim_end().split_once(':') else {
          break;
        };
        match name.to_ascii_lowercase().as_str() {
          "content-length" => length = value.trim().parse().unwrap(),
          "authorization" => authorization.push(value.trim().to_string()),
          _ => {}
        }
      }
      let mut body = vec![0; length];
      if read.read_exact(&mut body).await.is_err() {
        return;
      }
      let seen = Seen {
        method,
        path,
        authorization,
        body: String::from_utf8(body).unwrap(),
      };
      record.seen.lock().unwrap().push(seen.clone());
      let open = record.open.fetch_add(1, Ordering::SeqCst) + 1;
      record.max_open.fetch_max(open, Ordering::SeqCst);
      let reply = answer(&seen);
      tokio::time::sleep(reply.delay).await;
      let length = match &reply.body {
        Body::Text(text) => text.len(),
        Body::Filler(length) => *length,
      };
      let reason = StatusCode::from_u16(reply.status)
        .unwrap()
        .canonical_reason()
        .unwrap_or("");
      let mut head = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-length: {length}\r\n",
        reply.status
      );
      for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
      }
      head.push_str("\r\n");
      let written = write.write_all(head.as_bytes()).await;
      record.open.fetch_sub(1, Ordering::SeqCst);
      if written.is_err() {
        return;
      }
      match reply.body {
        Body::Text(text) => {
          if write.write_all(text.as_bytes()).await.is_err() {
            return;
          }
        }
        Body::Filler(length) => {
          let chunk = vec![b'x'; 64 * 1024];
          let mut sent = 0;
          while sent < length {
            let part = &chunk[..chunk.len().min(length - sent)];
            if write.write_all(part).await.is_err() {
              break;
            }
            sent += part.len();
          }
          record.filler.lock().unwrap().push((sent, sent == length));
          record.filler_done.notify_one();
          if sent < length {
            return;
          }
        }
      }
    }
  }

  fn config(addr: SocketAddr, auth_token: &str) -> HttpConfig {
    HttpConfig {
      server_uri: format!("http://{addr}"),
      username: "admin".into(),
      password: "admin".into(),
      auth_token: auth_token.into(),
      timeout: Duration::from_secs(20),
      max_retries: 0,
    }
  }

  fn doc(n: usize) -> Arc<Document> {
    Arc::new(Document {
      format: crate::core::wire::WireFormat::V0_9,
      kind: crate::core::profile::DriftKind::Custom,
      record_count: 1,
      json: format!("{{\"records\":[{{\"n\":{n}}}]}}").into_bytes(),
    })
  }

  /// Publishes `docs` at once and waits for every confirmation.
  async fn publish_all(
    transport: &HttpTransport,
    docs: impl IntoIterator<Item = Arc<Document>>,
  ) -> Vec<Result<(), TransportError>> {
    let mut confirmations = tokio::task::JoinSet::new();
    for document in docs {
      confirmations.spawn(transport.publish(document));
    }
    let mut results = Vec::new();
    while let Some(result) = confirmations.join_next().await {
      results.push(result.unwrap());
    }
    results
  }

  fn login_answer(seen: &Seen, token: &str) -> Option<Reply> {
    (seen.path == "/scouter/auth/login").then(|| reply(200, &format!("{{\"token\":\"{token}\"}}")))
  }

  #[tokio::test]
  async fn posts_overlap_instead_of_waiting_for_each_other() {
    let (addr, record) = serve(|seen| {
      login_answer(seen, "t1").unwrap_or_else(|| Reply {
        delay: Duration::from_millis(200),
        ..reply(200, r#"{"status":"success","message":"ok"}"#)
      })
    })
    .await;
    let transport = HttpTransport::connect(&config(addr, "")).unwrap();
    let started_at = std::time::Instant::now();
    let results = publish_all(&transport, (0..20).map(doc)).await;
    let elapsed = started_at.elapsed();
    eprintln!(
      "20 documents against a 200 ms server: {elapsed:?}, at most {} requests open",
      record.max_open.load(Ordering::SeqCst)
    );
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    // One after the other this takes 20 x 200 ms = 4 s.
    assert!(elapsed < Duration::from_millis(2000), "{elapsed:?}");
    assert!(record.max_open.load(Ordering::SeqCst) > 1);
    assert_eq!(record.logins(), 1);
    let posts = record.posts();
    let mut bodies: Vec<String> = posts.iter().map(|seen| seen.body.clone()).collect();
    bodies.sort();
    let mut expected: Vec<String> = (0..20).map(|n| doc(n).as_str().to_string()).collect();
    expected.sort();
    assert_eq!(bodies, expected);
    assert!(posts.iter().all(|seen| seen.authorization == ["Bearer t1"]));
    transport.close().await.unwrap();
  }

  #[tokio::test]
  async fn a_refused_token_means_one_login_and_answers_rotate_the_token() {
    let (addr, record) = serve(|seen| {
      if seen.path == "/scouter/auth/login" {
        return Reply {
          delay: Duration::from_millis(100),
          ..reply(200, r#"{"token":"fresh"}"#)
        };
      }
      match seen.authorization.first().map(String::as_str) {
        Some("Bearer fresh") => Reply {
          delay: Duration::from_millis(50),
          headers: vec![("authorization", "Bearer rotated".into())],
          ..reply(200, "{}")
        },
        Some("Bearer rotated") => reply(200, "{}"),
        _ => reply(401, ""),
      }
    })
    .await;
    let transport = HttpTransport::connect(&config(addr, "stale")).unwrap();
    let results = publish_all(&transport, (0..10).map(doc)).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(record.logins(), 1, "one login for every refused POST");
    transport.publish(doc(10)).await.unwrap();
    let last = record.posts().pop().unwrap();
    assert_eq!(last.authorization, ["Bearer rotated"]);
    transport.close().await.unwrap();
  }

  #[tokio::test]
  async fn error_bodies_are_read_only_up_to_a_bound() {
    const BIG: usize = 50 * 1024 * 1024;
    let (addr, record) = serve(|_| Reply {
      body: Body::Filler(BIG),
      ..reply(500, "")
    })
    .await;
    let transport = HttpTransport::connect(&config(addr, "t")).unwrap();
    let error = transport.publish(doc(0)).await.unwrap_err();
    assert!(error.retryable);
    let (head, body) = error
      .message
      .split_once("500 Internal Server Error: ")
      .unwrap();
    assert_eq!(head, "POST /scouter/drift answered ");
    assert_eq!(body, "x".repeat(ERROR_MESSAGE_CHARS));
    // The server learns that nobody reads the rest: its writes fail long before the end.
    tokio::time::timeout(Duration::from_secs(10), async {
      while record.filler.lock().unwrap().is_empty() {
        record.filler_done.notified().await;
      }
    })
    .await
    .expect("the client dropped the connection");
    let (written, whole) = record.filler.lock().unwrap()[0];
    eprintln!("a 500 with a 50 MiB body: the server could write {written} bytes");
    assert!(!whole && written < BIG / 4, "{written}");
    transport.close().await.unwrap();
  }

  #[tokio::test]
  async fn userinfo_in_the_server_uri_never_becomes_basic_auth() {
    let (addr, record) =
      serve(|seen| login_answer(seen, "t1").unwrap_or_else(|| reply(200, "{}"))).await;
    let mut config = config(addr, "");
    config.server_uri = format!("http://u:p@{addr}/");
    let transport = HttpTransport::connect(&config).unwrap();
    transport.publish(doc(0)).await.unwrap();
    let seen = record.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].path, "/scouter/auth/login");
    assert!(seen[0].authorization.is_empty(), "{:?}", seen[0]);
    assert_eq!(seen[1].path, "/scouter/drift");
    assert_eq!(seen[1].authorization, ["Bearer t1"]);
    transport.close().await.unwrap();
  }

  #[tokio::test]
  async fn each_document_goes_to_its_formats_path() {
    let (addr, record) =
      serve(|seen| login_answer(seen, "t1").unwrap_or_else(|| reply(200, "{}"))).await;
    let transport = HttpTransport::connect(&config(addr, "t0")).unwrap();
    let mut uid_doc = (*doc(1)).clone();
    uid_doc.format = crate::core::wire::WireFormat::V0_25;
    transport.publish(doc(0)).await.unwrap();
    transport.publish(Arc::new(uid_doc)).await.unwrap();
    let paths: Vec<String> = record.seen().into_iter().map(|seen| seen.path).collect();
    assert_eq!(paths, ["/scouter/drift", "/scouter/message"]);
    transport.close().await.unwrap();
  }

  #[tokio::test]
  async fn close_drops_what_is_in_flight_and_ends_the_dispatcher() {
    let (addr, record) = serve(|seen| {
      login_answer(seen, "t1").unwrap_or_else(|| Reply {
        delay: Duration::from_secs(30),
        ..reply(200, "{}")
      })
    })
    .await;
    let transport = HttpTransport::connect(&config(addr, "t0")).unwrap();
    let in_flight = tokio::spawn(transport.publish(doc(0)));
    while record.posts().is_empty() {
      tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let started_at = std::time::Instant::now();
    transport.close().await.unwrap();
    assert!(started_at.elapsed() < Duration::from_secs(1));
    assert!(transport.dispatcher.has_ended());
    let closed = closed_error("http");
    assert_eq!(in_flight.await.unwrap(), Err(closed.clone()));
    assert_eq!(transport.publish(doc(1)).await, Err(closed.clone()));
    // No login after close, even when one is due.
    transport.poster.token.forget().await;
    assert_eq!(transport.ready(Duration::from_secs(1)).await, Err(closed));
    assert_eq!(record.seen().len(), 1);
  }
}
