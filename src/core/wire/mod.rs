//! The wire formats, as a table. Scouter changed its records in v0.14: a v0.9 server wants
//! `space`/`name`/`version` on every record at `/scouter/drift`, a 0.14+ server (0.25 today)
//! wants the profile's `uid` and `entity_id` at `/scouter/message`, and its sampled records are
//! GenAI eval records instead of LLM records. Everything that differs between them lives here:
//! one [`FormatSpec`] row per format and one module per format for its record shapes. The
//! aggregators produce format-free [`Measurement`]s; [`Document::render`] gives them the
//! identity fields of the profile's format. A profile decides its format
//! ([`WireFormat::detect`]), so one `ScouterQueue` may mix them.

mod v0_25;
mod v0_9;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::core::measurement::Measurement;
use crate::core::profile::{DriftKind, ProfileId};

/// Which generation of the Scouter wire format a queue publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WireFormat {
  /// Scouter v0.9 to v0.13: records carry `space`, `name`, `version`.
  V0_9,
  /// Scouter v0.14 and later (0.25.0 checked): records carry the profile's `uid`.
  V0_25,
}

/// What differs between formats, besides record shapes.
#[derive(Debug)]
pub struct FormatSpec {
  /// How messages and the README name it.
  pub name: &'static str,
  /// Where the HTTP transport posts documents, under `serverUri`.
  pub http_path: &'static str,
  /// Whether the servers of this format offer the gRPC `MessageService`.
  pub grpc: bool,
  /// The `drift_type` spellings its profiles use, with their kinds.
  pub drift_types: &'static [(&'static str, DriftKind)],
  /// Records per document for the sampled kind; `None` when the profile's `sample_rate` sets it
  /// (v0.9 LLM queues batch `sample_rate` records and keep about one).
  pub sampled_per_document: Option<usize>,
  /// Rows per PSI document.
  pub psi_rows: usize,
  /// Whether an infinite value of a numeric PSI feature counts in the end bin (+inf in the last,
  /// -inf in a first bin from -inf), as the v0.9 client counts +inf; or is dropped as unusable,
  /// as the 0.25 client skips every non-finite value.
  pub psi_infinities: bool,
  /// Kinds that also publish on the `flushIntervalMs` timer.
  pub timer_kinds: &'static [DriftKind],
}

const V0_9: FormatSpec = FormatSpec {
  name: "v0.9",
  http_path: "/scouter/drift",
  grpc: false,
  drift_types: &[
    ("Spc", DriftKind::Spc),
    ("Psi", DriftKind::Psi),
    ("Custom", DriftKind::Custom),
    ("LLM", DriftKind::Llm),
  ],
  sampled_per_document: None,
  psi_rows: 1000,
  psi_infinities: true,
  timer_kinds: &[DriftKind::Psi, DriftKind::Custom],
};

const V0_25: FormatSpec = FormatSpec {
  name: "0.25",
  http_path: "/scouter/message",
  grpc: true,
  drift_types: &[
    ("Spc", DriftKind::Spc),
    ("Psi", DriftKind::Psi),
    ("Custom", DriftKind::Custom),
    ("GenAI", DriftKind::GenAi),
  ],
  sampled_per_document: Some(25),
  psi_rows: 1000,
  psi_infinities: false,
  timer_kinds: &[DriftKind::Psi, DriftKind::Custom, DriftKind::GenAi],
};

/// The first `scouter_version` that writes `uid` records.
const FIRST_UID_VERSION: (u64, u64) = (0, 14);

impl WireFormat {
  /// Every format, oldest first.
  pub const ALL: [WireFormat; 2] = [WireFormat::V0_9, WireFormat::V0_25];

  /// This format's row of the table.
  pub fn spec(self) -> &'static FormatSpec {
    match self {
      WireFormat::V0_9 => &V0_9,
      WireFormat::V0_25 => &V0_25,
    }
  }

  /// The format a profile file asks for: 0.25 when its `config` has a `uid`, its
  /// `scouter_version` is 0.14 or later, or its `drift_type` exists only there (GenAI); v0.9
  /// otherwise. The loader then requires that format's fields, so a 0.25 profile that lost its
  /// `uid` is named as such instead of loading as v0.9.
  pub fn detect(profile: &Value) -> WireFormat {
    let config = &profile["config"];
    let written_by_uid_client = profile["scouter_version"]
      .as_str()
      .and_then(major_minor)
      .is_some_and(|version| version >= FIRST_UID_VERSION);
    let only_in_uid_format = config["drift_type"].as_str().is_some_and(|name| {
      V0_25
        .drift_types
        .iter()
        .any(|(spelling, _)| spelling.eq_ignore_ascii_case(name))
        && !V0_9
          .drift_types
          .iter()
          .any(|(spelling, _)| spelling.eq_ignore_ascii_case(name))
    });
    if config.get("uid").is_some() || written_by_uid_client || only_in_uid_format {
      WireFormat::V0_25
    } else {
      WireFormat::V0_9
    }
  }

  /// The kind a `drift_type` names in this format (any case, as the original accepts).
  pub fn kind_of(self, drift_type: &str) -> Option<DriftKind> {
    self
      .spec()
      .drift_types
      .iter()
      .find(|(spelling, _)| spelling.eq_ignore_ascii_case(drift_type))
      .map(|(_, kind)| *kind)
  }

  /// `"Spc", "Psi", ...` for messages.
  pub fn drift_type_list(self) -> String {
    let names: Vec<String> = self
      .spec()
      .drift_types
      .iter()
      .map(|(spelling, _)| format!("\"{spelling}\""))
      .collect();
    names.join(", ")
  }

  /// The one-byte code the spool stores.
  pub fn code(self) -> u8 {
    match self {
      WireFormat::V0_9 => 0,
      WireFormat::V0_25 => 1,
    }
  }

  /// The format of a spool code.
  pub fn from_code(code: u8) -> Option<Self> {
    WireFormat::ALL
      .into_iter()
      .find(|format| format.code() == code)
  }
}

/// `"0.25.0"` -> `(0, 25)`.
fn major_minor(version: &str) -> Option<(u64, u64)> {
  let mut parts = version.trim().trim_start_matches('v').split('.');
  let major = parts.next()?.parse().ok()?;
  let minor = parts
    .next()?
    .split(|c: char| !c.is_ascii_digit())
    .next()?
    .parse()
    .ok()?;
  Some((major, minor))
}

/// A serialized `{"records": [...]}` document, ready for any transport.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
  pub format: WireFormat,
  pub kind: DriftKind,
  pub record_count: usize,
  /// The JSON text, without a trailing newline.
  pub json: Vec<u8>,
}

impl Document {
  /// The document of one batch's measurements in `format`, stamped `created_at` (sampled
  /// records keep the time they were built); `None` when there are none (an empty `records`
  /// array is rejected by the server, so it is never sent).
  pub fn render(
    format: WireFormat,
    id: &ProfileId,
    kind: DriftKind,
    created_at: DateTime<Utc>,
    measurements: &[Measurement],
  ) -> Option<Self> {
    if measurements.is_empty() {
      return None;
    }
    let created_at = rfc3339_string(&created_at);
    let json = match format {
      WireFormat::V0_9 => v0_9::render(id, &created_at, measurements),
      WireFormat::V0_25 => v0_25::render(id, &created_at, measurements),
    };
    Some(Document {
      format,
      kind,
      record_count: measurements.len(),
      json,
    })
  }

  /// The JSON text.
  pub fn as_str(&self) -> &str {
    std::str::from_utf8(&self.json).expect("serde_json writes UTF-8")
  }
}

/// RFC 3339 UTC with nine fraction digits and a `Z`, as the Python client writes it.
pub fn rfc3339_string(at: &DateTime<Utc>) -> String {
  at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// `{"records": [...]}` around any serializable records.
fn records_json<R: serde::Serialize>(records: &[R]) -> Vec<u8> {
  #[derive(serde::Serialize)]
  struct ServerRecords<'a, R> {
    records: &'a [R],
  }
  serde_json::to_vec(&ServerRecords { records })
    .expect("records hold only strings, integers, finite floats and raw JSON")
}

#[cfg(test)]
pub(crate) mod test_support {
  use chrono::TimeZone;

  use super::*;

  pub fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 8, 25, 12, 0, 0).unwrap()
      + chrono::Duration::nanoseconds(123_456_000)
  }

  pub fn id(uid: Option<&str>) -> ProfileId {
    ProfileId {
      space: "s".into(),
      name: "n".into(),
      version: "1".into(),
      uid: uid.map(str::to_string),
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use serde_json::json;

  #[test]
  fn the_profile_decides_the_format() {
    let v09 = json!({"config": {"drift_type": "Psi"}, "scouter_version": "0.9.0"});
    assert_eq!(WireFormat::detect(&v09), WireFormat::V0_9);
    let bare = json!({"config": {"drift_type": "Spc"}});
    assert_eq!(WireFormat::detect(&bare), WireFormat::V0_9);
    let with_uid = json!({"config": {"drift_type": "Spc", "uid": "u"}});
    assert_eq!(WireFormat::detect(&with_uid), WireFormat::V0_25);
    let lost_uid = json!({"config": {"drift_type": "Spc"}, "scouter_version": "0.25.0"});
    assert_eq!(WireFormat::detect(&lost_uid), WireFormat::V0_25);
    let v13 = json!({"config": {"drift_type": "Spc"}, "scouter_version": "0.13.2"});
    assert_eq!(WireFormat::detect(&v13), WireFormat::V0_9);
    let v014 = json!({"config": {"drift_type": "Spc"}, "scouter_version": "v0.14.0-rc1"});
    assert_eq!(WireFormat::detect(&v014), WireFormat::V0_25);
    let genai = json!({"config": {"drift_type": "genai"}});
    assert_eq!(WireFormat::detect(&genai), WireFormat::V0_25);
    let garbage = json!({"config": 3, "scouter_version": [1]});
    assert_eq!(WireFormat::detect(&garbage), WireFormat::V0_9);
  }

  #[test]
  fn kinds_by_format() {
    assert_eq!(WireFormat::V0_9.kind_of("llm"), Some(DriftKind::Llm));
    assert_eq!(WireFormat::V0_25.kind_of("LLM"), None);
    assert_eq!(WireFormat::V0_25.kind_of("GenAI"), Some(DriftKind::GenAi));
    assert_eq!(WireFormat::V0_9.kind_of("GenAI"), None);
    for format in WireFormat::ALL {
      assert_eq!(WireFormat::from_code(format.code()), Some(format));
    }
    assert_eq!(WireFormat::from_code(9), None);
  }

  #[test]
  fn no_measurements_no_document() {
    let id = test_support::id(None);
    assert_eq!(
      Document::render(
        WireFormat::V0_9,
        &id,
        DriftKind::Spc,
        test_support::at(),
        &[]
      ),
      None
    );
  }
}
