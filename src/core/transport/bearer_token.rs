//! The bearer token a Scouter server transport (HTTP, gRPC) shares among its requests. Both log
//! in the same way: one login at a time, whoever waited for it gets the fresh token, a token the
//! server hands back replaces the current one, and a refused token is forgotten so the next
//! request logs in again. Keeping that here keeps the two transports' logins alike.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use super::dispatcher::closed_error;
use crate::core::error::TransportError;

/// The current token of one transport, shared by its clones.
#[derive(Clone)]
pub(super) struct BearerToken {
  /// The transport's name, for the error once it is closed.
  name: &'static str,
  /// Held across a login, so logins happen one at a time.
  current: Arc<Mutex<Option<String>>>,
  /// Cancelled by the transport's close: no login after it.
  closed: CancellationToken,
}

impl BearerToken {
  /// A holder starting with `initial` (an operator's token), else empty: the first request logs in.
  pub fn new(name: &'static str, initial: Option<String>, closed: CancellationToken) -> Self {
    BearerToken {
      name,
      current: Arc::new(Mutex::new(initial)),
      closed,
    }
  }

  /// The current token, or the one `login` gets when there is none. `login` runs only then, and
  /// is abandoned when the transport closes.
  pub async fn get(
    &self,
    login: impl Future<Output = Result<String, TransportError>>,
  ) -> Result<String, TransportError> {
    let mut current = self.current.lock().await;
    if self.closed.is_cancelled() {
      return Err(closed_error(self.name));
    }
    if let Some(token) = &*current {
      return Ok(token.clone());
    }
    let fresh = tokio::select! {
      fresh = login => fresh?,
      _ = self.closed.cancelled() => return Err(closed_error(self.name)),
    };
    *current = Some(fresh.clone());
    Ok(fresh)
  }

  /// A token the server handed back (a refreshed one): used from the next request on.
  pub async fn replace(&self, fresh: String) {
    *self.current.lock().await = Some(fresh);
  }

  /// Forgets `refused` (unless someone already replaced it), so the next `get` logs in.
  pub async fn refuse(&self, refused: &str) {
    let mut current = self.current.lock().await;
    if current.as_deref() == Some(refused) {
      *current = None;
    }
  }

  /// Forgets the token whatever it is (tests: the next request logs in).
  #[cfg(test)]
  pub async fn forget(&self) {
    self.current.lock().await.take();
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::sync::atomic::{AtomicUsize, Ordering};

  async fn login(count: &AtomicUsize) -> Result<String, TransportError> {
    let n = count.fetch_add(1, Ordering::SeqCst) + 1;
    tokio::task::yield_now().await;
    Ok(format!("token-{n}"))
  }

  #[tokio::test]
  async fn concurrent_requests_share_one_login() {
    let token = BearerToken::new("http", None, CancellationToken::new());
    let logins = AtomicUsize::new(0);
    let got = futures_util::future::join_all((0..8).map(|_| token.get(login(&logins)))).await;
    assert_eq!(logins.load(Ordering::SeqCst), 1);
    assert!(got.iter().all(|t| t.as_deref() == Ok("token-1")));
  }

  #[tokio::test]
  async fn a_refused_token_is_forgotten_only_if_still_current() {
    let token = BearerToken::new("grpc", Some("operator".into()), CancellationToken::new());
    let logins = AtomicUsize::new(0);
    assert_eq!(token.get(login(&logins)).await.unwrap(), "operator");
    token.replace("refreshed".into()).await;
    // A request sent with the old token was refused after the refresh: the refresh stays.
    token.refuse("operator").await;
    assert_eq!(token.get(login(&logins)).await.unwrap(), "refreshed");
    token.refuse("refreshed").await;
    assert_eq!(token.get(login(&logins)).await.unwrap(), "token-1");
    assert_eq!(logins.load(Ordering::SeqCst), 1);
  }

  #[tokio::test]
  async fn no_login_after_close() {
    let closed = CancellationToken::new();
    let token = BearerToken::new("http", None, closed.clone());
    closed.cancel();
    let logins = AtomicUsize::new(0);
    let error = token.get(login(&logins)).await.unwrap_err();
    assert_eq!(error.message, closed_error("http").message);
    assert_eq!(logins.load(Ordering::SeqCst), 0);
  }
}
