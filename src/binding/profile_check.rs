//! `checkProfile`: loads one drift profile file with the loader `fromPath` uses and describes
//! it, for the command line's `check-profile`. Nothing is started.

use napi::bindgen_prelude::Either;
use napi_derive::napi;

use super::error::BindingError;
use crate::core::profile::DriftProfile;

/// What a profile that loads is.
#[napi(object)]
pub struct BindingProfileSummary {
  /// `"spc"`, `"psi"`, `"custom"`, `"llm"` or `"genai"`.
  pub kind: String,
  pub space: String,
  pub name: String,
  pub version: String,
  /// The profile's uid (0.25 profiles only).
  pub uid: Option<String>,
  /// `"v0.9"` or `"0.25"`.
  pub format: String,
  /// What loads but looks wrong, as `fromPath` would emit it.
  pub warnings: Vec<String>,
}

/// Loads and validates the profile at `path` exactly as `fromPath` does: its summary, or the
/// `BindingError` (`SCOUTER_PROFILE_INVALID`, with file and field) that `fromPath` would reject with.
#[napi(ts_return_type = "BindingProfileSummary | BindingError")]
pub fn check_profile(path: String) -> Either<BindingProfileSummary, BindingError> {
  match DriftProfile::load(&path) {
    Ok(profile) => Either::A(BindingProfileSummary {
      kind: profile.kind().as_str().to_string(),
      format: profile.format.spec().name.to_string(),
      space: profile.id.space,
      name: profile.id.name,
      version: profile.id.version,
      uid: profile.id.uid,
      warnings: profile.warnings,
    }),
    Err(error) => Either::B(error.into()),
  }
}
