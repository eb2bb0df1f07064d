//! Drift profiles: the JSON files `scouter-ml` writes with `save_to_json`, reduced to what a queue
//! needs (contract section 2). Loading is strict about the fields it uses and ignores every other
//! field, so files from later scouter versions still load. A profile that cannot be used is
//! rejected with the file and the JSON path of the offending field, where the original panics.
//! Both generations load: v0.9 profiles and those of Scouter 0.14+ (0.25 today), which carry a
//! `uid`; [`WireFormat::detect`] tells them apart and the profile's queue publishes its format.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::core::error::{QueueError, Result};
use crate::core::wire::WireFormat;

/// The kinds of drift profile, one aggregation rule each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DriftKind {
  Spc,
  Psi,
  Custom,
  /// v0.9: sampled `LLMRecord`s.
  Llm,
  /// 0.25: sampled `EvalRecord`s.
  GenAi,
}

impl DriftKind {
  /// The lower-case name used in queue identifiers (`.../v1.0/psi`).
  pub fn as_str(self) -> &'static str {
    match self {
      DriftKind::Spc => "spc",
      DriftKind::Psi => "psi",
      DriftKind::Custom => "custom",
      DriftKind::Llm => "llm",
      DriftKind::GenAi => "genai",
    }
  }

  /// Whether its items are records the caller built (LLM, GenAI) rather than rows of numbers.
  pub fn takes_records(self) -> bool {
    matches!(self, DriftKind::Llm | DriftKind::GenAi)
  }
}

/// Who the records belong to on the server: `space`, `name` and `version` (v0.9 records carry
/// them), and the `uid` that 0.25 records carry instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileId {
  pub space: String,
  pub name: String,
  pub version: String,
  /// Present exactly when the profile is in the 0.25 format.
  pub uid: Option<String>,
}

/// Where a profile comes from: a file `fromPath` was given, or JSON text `fromProfiles` was given
/// (a profile fetched from a registry or built in memory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileSource {
  File(std::path::PathBuf),
  Json {
    /// How errors name it (`"the profile of alias 'psi'"`): there is no file.
    name: String,
    text: String,
  },
}

impl ProfileSource {
  /// How errors name it: the file, or the given name.
  pub fn name(&self) -> String {
    match self {
      ProfileSource::File(path) => path.display().to_string(),
      ProfileSource::Json { name, .. } => name.clone(),
    }
  }
}

/// A loaded, validated drift profile.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftProfile {
  /// The file it came from, for error messages.
  pub source: String,
  pub id: ProfileId,
  /// The wire format its queue publishes.
  pub format: WireFormat,
  pub spec: ProfileSpec,
  /// Things that load but look wrong (an upper-case Custom metric name that can never match).
  pub warnings: Vec<String>,
}

/// The kind-specific part of a profile.
#[derive(Debug, Clone, PartialEq)]
pub enum ProfileSpec {
  Spc(SpcSpec),
  Psi(PsiSpec),
  Custom(CustomSpec),
  Llm(LlmSpec),
  GenAi(GenAiSpec),
}

/// SPC: means of `sample_size` consecutive values per monitored feature.
#[derive(Debug, Clone, PartialEq)]
pub struct SpcSpec {
  pub sample_size: usize,
  /// Monitored features, in the profile's order, without repeats. Their index is the row slot.
  pub features: Vec<String>,
  pub feature_map: FeatureMap,
}

/// PSI: bin counts per monitored feature.
#[derive(Debug, Clone, PartialEq)]
pub struct PsiSpec {
  /// Features both monitored and present in `features`, in the monitored order. Their index is
  /// the row slot.
  pub features: Vec<PsiFeature>,
  pub feature_map: FeatureMap,
}

/// One PSI feature and its bins.
#[derive(Debug, Clone, PartialEq)]
pub struct PsiFeature {
  pub name: String,
  pub bins: PsiBins,
}

/// How a PSI feature's values find their bin.
#[derive(Debug, Clone, PartialEq)]
pub enum PsiBins {
  /// `lower < value <= upper`, sorted by upper limit.
  Numeric(Vec<NumericBin>),
  /// The value's integer code equals the bin id. Ids in file order.
  Category(Vec<u64>),
}

/// A numeric PSI bin with its limits resolved to floats (`"-inf"`/`"inf"` become infinities).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumericBin {
  pub id: u64,
  pub lower: f64,
  pub upper: f64,
}

/// Custom: the mean of each metric named in the profile.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomSpec {
  pub sample_size: usize,
  /// Metric names as written in the profile (sorted). Their index is the row slot.
  pub metrics: Vec<String>,
}

/// LLM: records kept with probability `1 / sample_rate`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LlmSpec {
  pub sample_rate: u64,
}

/// GenAI eval: records kept with probability `sample_ratio`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GenAiSpec {
  /// In `0..=1`.
  pub sample_ratio: f64,
}

/// `feature_map.features`: string value -> integer code, per feature.
pub type FeatureMap = BTreeMap<String, BTreeMap<String, i64>>;

impl DriftProfile {
  /// Reads and validates a profile file.
  ///
  /// Anything but a regular file (a directory, a FIFO, a socket, a device) is refused before it
  /// is opened: opening a FIFO for reading blocks until a writer comes, which may be never, and
  /// `fromPath` must always settle.
  pub fn load(path: impl AsRef<Path>) -> Result<Self> {
    let path = path.as_ref();
    let source = path.display().to_string();
    let unreadable = |reason: String| QueueError::Profile {
      path: source.clone(),
      field: None,
      reason,
    };
    let metadata =
      std::fs::metadata(path).map_err(|err| unreadable(format!("cannot be read: {err}")))?;
    if !metadata.is_file() {
      return Err(unreadable(format!(
        "cannot be read: it is not a regular file ({})",
        file_type_name(&metadata.file_type())
      )));
    }
    let text =
      std::fs::read_to_string(path).map_err(|err| unreadable(format!("cannot be read: {err}")))?;
    Self::parse(&source, &text)
  }

  /// Loads a profile from wherever it comes from.
  pub fn from_source(source: &ProfileSource) -> Result<Self> {
    match source {
      ProfileSource::File(path) => Self::load(path),
      ProfileSource::Json { name, text } => Self::parse(name, text),
    }
  }

  /// Validates a profile from its JSON text; `source` names it in errors.
  pub fn parse(source: &str, text: &str) -> Result<Self> {
    let fail = |field: Option<&str>, reason: String| QueueError::Profile {
      path: source.to_string(),
      field: field.map(str::to_string),
      reason,
    };
    let value: Value =
      serde_json::from_str(text).map_err(|err| fail(None, format!("is not valid JSON: {err}")))?;
    if !value.is_object() {
      return Err(fail(None, "must be a JSON object".into()));
    }
    let config = value
      .get("config")
      .ok_or_else(|| fail(Some("config"), "is missing".into()))?;
    if !config.is_object() {
      return Err(fail(Some("config"), "must be an object".into()));
    }
    let drift_type = config
      .get("drift_type")
      .ok_or_else(|| fail(Some("config.drift_type"), "is missing".into()))?;
    let format = WireFormat::detect(&value);
    let kind = drift_type
      .as_str()
      .and_then(|name| format.kind_of(name))
      .ok_or_else(|| {
        fail(
          Some("config.drift_type"),
          format!(
            "must be one of {} in a Scouter {} profile (got {drift_type})",
            format.drift_type_list(),
            format.spec().name
          ),
        )
      })?;
    let uid = match format {
      WireFormat::V0_9 => None,
      WireFormat::V0_25 => Some(profile_uid(source, config)?),
    };

    let mut warnings = Vec::new();
    let (id, spec) = match kind {
      DriftKind::Spc => {
        let file: raw::SpcFile = deserialize(source, &value)?;
        let id = file.config.id();
        let sample_size = positive(source, "config.sample_size", file.config.sample_size)?;
        let features = dedup(file.config.alert_config.features_to_monitor);
        let spec = SpcSpec {
          sample_size,
          features,
          feature_map: file.config.feature_map.unwrap_or_default().features,
        };
        (id, ProfileSpec::Spc(spec))
      }
      DriftKind::Psi => {
        let file: raw::PsiFile = deserialize(source, &value)?;
        let id = file.config.id();
        let mut by_name = HashMap::new();
        for (name, feature) in file.features {
          let bins = psi_bins(source, &name, feature)?;
          by_name.insert(name, bins);
        }
        let features = dedup(file.config.alert_config.features_to_monitor)
          .into_iter()
          .filter_map(|name| {
            let bins = by_name.remove(&name)?;
            Some(PsiFeature { name, bins })
          })
          .collect();
        let spec = PsiSpec {
          features,
          feature_map: file.config.feature_map.unwrap_or_default().features,
        };
        (id, ProfileSpec::Psi(spec))
      }
      DriftKind::Custom => {
        let file: raw::CustomFile = deserialize(source, &value)?;
        let sample_size = positive(source, "config.sample_size", file.config.sample_size)?;
        let metrics: Vec<String> = file.metrics.into_keys().collect();
        let upper: Vec<&str> = metrics
          .iter()
          .filter(|name| name.chars().any(char::is_uppercase))
          .map(String::as_str)
          .collect();
        if !upper.is_empty() {
          warnings.push(format!(
            "{source}: metric name(s) {} contain upper-case letters and can never match: inserted metric names are lower-cased",
            upper.join(", ")
          ));
        }
        let spec = CustomSpec {
          sample_size,
          metrics,
        };
        (file.config.id(), ProfileSpec::Custom(spec))
      }
      DriftKind::Llm => {
        let file: raw::LlmFile = deserialize(source, &value)?;
        let sample_rate = positive(source, "config.sample_rate", file.config.sample_rate)? as u64;
        (file.config.id(), ProfileSpec::Llm(LlmSpec { sample_rate }))
      }
      DriftKind::GenAi => {
        let file: raw::GenAiFile = deserialize(source, &value)?;
        let sample_ratio = file.config.sample_ratio;
        if !(0.0..=1.0).contains(&sample_ratio) {
          return Err(fail(
            Some("config.sample_ratio"),
            format!("must be between 0 and 1 (got {sample_ratio})"),
          ));
        }
        (
          file.config.id(),
          ProfileSpec::GenAi(GenAiSpec { sample_ratio }),
        )
      }
    };
    Ok(DriftProfile {
      source: source.to_string(),
      id: ProfileId { uid, ..id },
      format,
      spec,
      warnings,
    })
  }

  /// Which of the four kinds this profile is.
  pub fn kind(&self) -> DriftKind {
    match self.spec {
      ProfileSpec::Spc(_) => DriftKind::Spc,
      ProfileSpec::Psi(_) => DriftKind::Psi,
      ProfileSpec::Custom(_) => DriftKind::Custom,
      ProfileSpec::Llm(_) => DriftKind::Llm,
      ProfileSpec::GenAi(_) => DriftKind::GenAi,
    }
  }

  /// `"{space}/{name}/v{version}/{kind}"`, the queue's identifier.
  pub fn identifier(&self) -> String {
    format!(
      "{}/{}/v{}/{}",
      self.id.space,
      self.id.name,
      self.id.version,
      self.kind().as_str()
    )
  }

  /// How many items make a full batch.
  pub fn capacity(&self) -> usize {
    match &self.spec {
      ProfileSpec::Spc(spec) => spec.sample_size,
      ProfileSpec::Psi(_) => self.format.spec().psi_rows,
      ProfileSpec::Custom(spec) => spec.sample_size,
      ProfileSpec::Llm(spec) => self
        .format
        .spec()
        .sampled_per_document
        .unwrap_or_else(|| usize::try_from(spec.sample_rate).unwrap_or(usize::MAX)),
      ProfileSpec::GenAi(_) => self.format.spec().sampled_per_document.unwrap_or(1),
    }
  }

  /// Whether its queue also publishes on the `flushIntervalMs` timer.
  pub fn timed(&self) -> bool {
    self.format.spec().timer_kinds.contains(&self.kind())
  }

  /// The row slots a caller fills: slot `i` holds this name's value. Empty for LLM.
  pub fn slots(&self) -> Vec<Slot> {
    let with_map = |name: &str, map: &FeatureMap| Slot {
      name: name.to_string(),
      codes: map.get(name).cloned(),
    };
    match &self.spec {
      ProfileSpec::Spc(spec) => spec
        .features
        .iter()
        .map(|name| with_map(name, &spec.feature_map))
        .collect(),
      ProfileSpec::Psi(spec) => spec
        .features
        .iter()
        .map(|feature| with_map(&feature.name, &spec.feature_map))
        .collect(),
      ProfileSpec::Custom(spec) => spec
        .metrics
        .iter()
        .map(|name| Slot {
          name: name.clone(),
          codes: None,
        })
        .collect(),
      ProfileSpec::Llm(_) | ProfileSpec::GenAi(_) => Vec::new(),
    }
  }
}

/// One column of a row: its feature (or metric) name and, for string features, the codes.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
  pub name: String,
  pub codes: Option<BTreeMap<String, i64>>,
}

/// What kind of file system entry a profile path names, for the error message.
fn file_type_name(file_type: &std::fs::FileType) -> &'static str {
  #[cfg(unix)]
  {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_fifo() {
      return "a FIFO";
    }
    if file_type.is_socket() {
      return "a socket";
    }
    if file_type.is_block_device() || file_type.is_char_device() {
      return "a device";
    }
  }
  if file_type.is_dir() {
    "a directory"
  } else {
    "not a regular file"
  }
}

/// `config.uid` of a 0.25 profile: the server resolves the records' entity from it.
fn profile_uid(source: &str, config: &Value) -> Result<String> {
  let fail = |reason: &str| QueueError::Profile {
    path: source.to_string(),
    field: Some("config.uid".into()),
    reason: reason.to_string(),
  };
  match config.get("uid") {
    None => Err(fail(
      "is missing (profiles of Scouter 0.14 and later carry one; the server files records under it)",
    )),
    Some(Value::String(uid)) if uid.trim().is_empty() => Err(fail("must not be empty")),
    Some(Value::String(uid)) => Ok(uid.clone()),
    Some(_) => Err(fail("must be a string")),
  }
}

fn dedup(names: Vec<String>) -> Vec<String> {
  let mut seen = std::collections::HashSet::new();
  names
    .into_iter()
    .filter(|name| seen.insert(name.clone()))
    .collect()
}

fn positive(source: &str, field: &str, value: u64) -> Result<usize> {
  if value == 0 {
    return Err(QueueError::Profile {
      path: source.to_string(),
      field: Some(field.to_string()),
      reason: "must be greater than 0".into(),
    });
  }
  usize::try_from(value).map_err(|_| QueueError::Profile {
    path: source.to_string(),
    field: Some(field.to_string()),
    reason: format!("is too large ({value})"),
  })
}

/// Deserializes the kind's view of the file, naming the JSON path of the first bad field.
fn deserialize<'de, T: Deserialize<'de>>(source: &str, value: &'de Value) -> Result<T> {
  serde_path_to_error::deserialize(value).map_err(|err| {
    let path = err.path().to_string();
    let message = err.inner().to_string();
    // serde reports a missing field at its parent; name the field itself.
    let (field, reason) = match missing_field(&message) {
      Some(name) if path == "." => (name.to_string(), "is missing".to_string()),
      Some(name) => (format!("{path}.{name}"), "is missing".to_string()),
      None => (path, message),
    };
    QueueError::Profile {
      path: source.to_string(),
      field: Some(field),
      reason,
    }
  })
}

fn missing_field(message: &str) -> Option<&str> {
  let rest = message.strip_prefix("missing field `")?;
  rest.split('`').next()
}

fn psi_bins(source: &str, feature: &str, raw: raw::PsiFeature) -> Result<PsiBins> {
  let field = |suffix: &str| Some(format!("features.{feature}.{suffix}"));
  let fail = |field: Option<String>, reason: String| QueueError::Profile {
    path: source.to_string(),
    field,
    reason,
  };
  if raw.bins.is_empty() {
    return Err(fail(field("bins"), "must hold at least one bin".into()));
  }
  match raw.bin_type.to_ascii_lowercase().as_str() {
    "numeric" => {
      let mut bins = Vec::with_capacity(raw.bins.len());
      for (index, bin) in raw.bins.iter().enumerate() {
        let lower = limit(bin.lower_limit.as_ref()).ok_or_else(|| {
          fail(
            field(&format!("bins[{index}].lower_limit")),
            LIMIT_REASON.into(),
          )
        })?;
        let upper = limit(bin.upper_limit.as_ref()).ok_or_else(|| {
          fail(
            field(&format!("bins[{index}].upper_limit")),
            LIMIT_REASON.into(),
          )
        })?;
        // Limits come from JSON numbers or "inf" strings, so they are never NaN.
        if lower >= upper {
          return Err(fail(
            field(&format!("bins[{index}]")),
            format!("lower_limit ({lower}) must be below upper_limit ({upper})"),
          ));
        }
        bins.push(NumericBin {
          id: bin.id,
          lower,
          upper,
        });
      }
      bins.sort_by(|a, b| a.upper.total_cmp(&b.upper));
      Ok(PsiBins::Numeric(bins))
    }
    "category" => Ok(PsiBins::Category(
      raw.bins.iter().map(|bin| bin.id).collect(),
    )),
    _ => Err(fail(
      field("bin_type"),
      format!(
        "must be \"Numeric\" or \"Category\" (got \"{}\")",
        raw.bin_type
      ),
    )),
  }
}

const LIMIT_REASON: &str = "must be a number, \"-inf\" or \"inf\"";

fn limit(value: Option<&Value>) -> Option<f64> {
  match value? {
    Value::Number(number) => number.as_f64(),
    Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
      "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
      "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
      _ => None,
    },
    _ => None,
  }
}

/// The shapes read from the file: only the fields the queue uses.
mod raw {
  use super::*;

  /// Implements `id()` for a config struct with `space`, `name` and `version` fields.
  macro_rules! profile_id {
    ($($config:ident),*) => {$(
      impl $config {
        pub fn id(&self) -> ProfileId {
          ProfileId {
            space: self.space.clone(),
            name: self.name.clone(),
            version: self.version.clone(),
            uid: None,
          }
        }
      }
    )*};
  }
  profile_id!(SpcConfig, PsiConfig, CustomConfig, LlmConfig, GenAiConfig);

  #[derive(Deserialize)]
  pub struct Monitor {
    pub features_to_monitor: Vec<String>,
  }

  #[derive(Deserialize, Default)]
  pub struct RawFeatureMap {
    #[serde(default)]
    pub features: FeatureMap,
  }

  #[derive(Deserialize)]
  pub struct SpcFile {
    pub config: SpcConfig,
  }

  #[derive(Deserialize)]
  pub struct SpcConfig {
    pub space: String,
    pub name: String,
    pub version: String,
    pub sample_size: u64,
    pub alert_config: Monitor,
    #[serde(default)]
    pub feature_map: Option<RawFeatureMap>,
  }

  #[derive(Deserialize)]
  pub struct PsiFile {
    pub config: PsiConfig,
    pub features: BTreeMap<String, PsiFeature>,
  }

  #[derive(Deserialize)]
  pub struct PsiConfig {
    pub space: String,
    pub name: String,
    pub version: String,
    pub alert_config: Monitor,
    #[serde(default)]
    pub feature_map: Option<RawFeatureMap>,
  }

  #[derive(Deserialize)]
  pub struct PsiFeature {
    pub bins: Vec<Bin>,
    pub bin_type: String,
  }

  #[derive(Deserialize)]
  pub struct Bin {
    pub id: u64,
    #[serde(default)]
    pub lower_limit: Option<Value>,
    #[serde(default)]
    pub upper_limit: Option<Value>,
  }

  #[derive(Deserialize)]
  pub struct CustomFile {
    pub config: CustomConfig,
    pub metrics: BTreeMap<String, f64>,
  }

  #[derive(Deserialize)]
  pub struct CustomConfig {
    pub space: String,
    pub name: String,
    pub version: String,
    pub sample_size: u64,
  }

  #[derive(Deserialize)]
  pub struct LlmFile {
    pub config: LlmConfig,
  }

  #[derive(Deserialize)]
  pub struct LlmConfig {
    pub space: String,
    pub name: String,
    pub version: String,
    pub sample_rate: u64,
  }

  #[derive(Deserialize)]
  pub struct GenAiFile {
    pub config: GenAiConfig,
  }

  #[derive(Deserialize)]
  pub struct GenAiConfig {
    pub space: String,
    pub name: String,
    pub version: String,
    pub sample_ratio: f64,
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  const SPC: &str = include_str!("../../__test__/fixtures/spc_profile.json");
  const PSI: &str = include_str!("../../__test__/fixtures/psi_profile.json");
  const CUSTOM: &str = include_str!("../../__test__/fixtures/custom_profile.json");
  const LLM: &str = include_str!("../../__test__/fixtures/llm_profile.json");

  /// Parses `text` after applying `edit` to its JSON.
  fn edited(text: &str, edit: impl FnOnce(&mut Value)) -> Result<DriftProfile> {
    let mut value: Value = serde_json::from_str(text).unwrap();
    edit(&mut value);
    DriftProfile::parse("p.json", &value.to_string())
  }

  fn field_of(result: Result<DriftProfile>) -> (Option<String>, String) {
    match result {
      Err(QueueError::Profile {
        path,
        field,
        reason,
      }) => {
        assert_eq!(path, "p.json");
        (field, reason)
      }
      other => panic!("expected a profile error, got {other:?}"),
    }
  }

  #[test]
  fn load_refuses_what_is_not_a_regular_file() {
    let dir = std::env::temp_dir();
    match DriftProfile::load(&dir) {
      Err(QueueError::Profile {
        path,
        field,
        reason,
      }) => {
        assert_eq!(path, dir.display().to_string());
        assert_eq!(field, None);
        assert!(reason.contains("not a regular file"), "{reason}");
      }
      other => panic!("expected a profile error, got {other:?}"),
    }
  }

  #[test]
  fn loads_the_four_fixtures() {
    let spc = DriftProfile::parse("spc.json", SPC).unwrap();
    assert_eq!(spc.identifier(), "scouter/spc_model/v0.1.0/spc");
    let ProfileSpec::Spc(spec) = &spc.spec else {
      panic!()
    };
    assert_eq!(spec.sample_size, 25);
    assert_eq!(spec.features, ["feature_0", "feature_1", "color"]);
    assert_eq!(spec.feature_map["color"]["missing"], 3);
    assert_eq!(spc.capacity(), 25);

    let psi = DriftProfile::parse("psi.json", PSI).unwrap();
    assert_eq!(psi.identifier(), "scouter/psi_model/v0.1.0/psi");
    let ProfileSpec::Psi(spec) = &psi.spec else {
      panic!()
    };
    let names: Vec<_> = spec.features.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
      names,
      ["feature_0", "color"],
      "unmonitored features are left out"
    );
    let PsiBins::Numeric(bins) = &spec.features[0].bins else {
      panic!()
    };
    assert_eq!(bins.len(), 10);
    assert_eq!(bins[0].lower, f64::NEG_INFINITY);
    assert_eq!(bins[9].upper, f64::INFINITY);
    assert_eq!(spec.features[1].bins, PsiBins::Category(vec![0, 1, 2]));
    assert_eq!(psi.capacity(), 1000);

    let custom = DriftProfile::parse("custom.json", CUSTOM).unwrap();
    assert_eq!(custom.identifier(), "scouter/custom_model/v0.1.0/custom");
    let ProfileSpec::Custom(spec) = &custom.spec else {
      panic!()
    };
    assert_eq!(spec.metrics, ["mae", "mape"]);
    assert!(custom.warnings.is_empty());

    let llm = DriftProfile::parse("llm.json", LLM).unwrap();
    assert_eq!(llm.identifier(), "scouter/llm_metrics/v0.0.1/llm");
    assert_eq!(llm.spec, ProfileSpec::Llm(LlmSpec { sample_rate: 1 }));
  }

  #[test]
  fn drift_type_is_case_insensitive() {
    let profile = edited(PSI, |v| v["config"]["drift_type"] = "PSI".into()).unwrap();
    assert_eq!(profile.kind(), DriftKind::Psi);
    let profile = edited(LLM, |v| v["config"]["drift_type"] = "llm".into()).unwrap();
    assert_eq!(profile.kind(), DriftKind::Llm);
  }

  #[test]
  fn slots_carry_feature_maps() {
    let psi = DriftProfile::parse("psi.json", PSI).unwrap();
    let slots = psi.slots();
    assert_eq!(slots[0].name, "feature_0");
    assert_eq!(slots[0].codes, None);
    assert_eq!(slots[1].codes.as_ref().unwrap()["blue"], 2);
  }

  #[test]
  fn missing_file_names_the_file() {
    let err = DriftProfile::load("/nonexistent/psi.json").unwrap_err();
    let QueueError::Profile {
      path,
      field,
      reason,
    } = &err
    else {
      panic!()
    };
    assert_eq!(path, "/nonexistent/psi.json");
    assert_eq!(field, &None);
    assert!(reason.starts_with("cannot be read"), "{reason}");
    assert!(err.to_string().contains("/nonexistent/psi.json"));
  }

  #[test]
  fn not_json() {
    let (field, reason) = field_of(DriftProfile::parse("p.json", "{ not json"));
    assert_eq!(field, None);
    assert!(reason.starts_with("is not valid JSON"), "{reason}");
    let (field, reason) = field_of(DriftProfile::parse("p.json", "[1, 2]"));
    assert_eq!(field, None);
    assert_eq!(reason, "must be a JSON object");
  }

  #[test]
  fn missing_config_or_drift_type() {
    let (field, _) = field_of(edited(SPC, |v| {
      v.as_object_mut().unwrap().remove("config");
    }));
    assert_eq!(field.as_deref(), Some("config"));
    let (field, reason) = field_of(edited(SPC, |v| {
      v["config"].as_object_mut().unwrap().remove("drift_type");
    }));
    assert_eq!(field.as_deref(), Some("config.drift_type"));
    assert_eq!(reason, "is missing");
  }

  #[test]
  fn unknown_drift_type() {
    let (field, reason) = field_of(edited(SPC, |v| {
      v["config"]["drift_type"] = "Kolmogorov".into()
    }));
    assert_eq!(field.as_deref(), Some("config.drift_type"));
    assert!(reason.contains("\"Kolmogorov\""), "{reason}");
    let (field, _) = field_of(edited(SPC, |v| v["config"]["drift_type"] = 3.into()));
    assert_eq!(field.as_deref(), Some("config.drift_type"));
  }

  #[test]
  fn missing_identity_fields() {
    for key in ["space", "name", "version"] {
      let (field, reason) = field_of(edited(CUSTOM, |v| {
        v["config"].as_object_mut().unwrap().remove(key);
      }));
      assert_eq!(field, Some(format!("config.{key}")));
      assert_eq!(reason, "is missing");
    }
  }

  #[test]
  fn sample_size_missing_zero_or_mistyped() {
    let (field, reason) = field_of(edited(SPC, |v| {
      v["config"].as_object_mut().unwrap().remove("sample_size");
    }));
    assert_eq!(field.as_deref(), Some("config.sample_size"));
    assert_eq!(reason, "is missing");

    let (field, reason) = field_of(edited(SPC, |v| v["config"]["sample_size"] = 0.into()));
    assert_eq!(field.as_deref(), Some("config.sample_size"));
    assert_eq!(reason, "must be greater than 0");

    let (field, reason) = field_of(edited(CUSTOM, |v| v["config"]["sample_size"] = "25".into()));
    assert_eq!(field.as_deref(), Some("config.sample_size"));
    assert!(reason.contains("invalid type"), "{reason}");

    let (field, _) = field_of(edited(CUSTOM, |v| v["config"]["sample_size"] = (-3).into()));
    assert_eq!(field.as_deref(), Some("config.sample_size"));
  }

  #[test]
  fn features_to_monitor_missing() {
    let (field, _) = field_of(edited(SPC, |v| {
      v["config"]["alert_config"]
        .as_object_mut()
        .unwrap()
        .remove("features_to_monitor");
    }));
    assert_eq!(
      field.as_deref(),
      Some("config.alert_config.features_to_monitor")
    );
  }

  #[test]
  fn psi_feature_without_bins() {
    let (field, reason) = field_of(edited(PSI, |v| {
      v["features"]["feature_0"]["bins"] = serde_json::json!([])
    }));
    assert_eq!(field.as_deref(), Some("features.feature_0.bins"));
    assert_eq!(reason, "must hold at least one bin");
    let (field, reason) = field_of(edited(PSI, |v| {
      v["features"]["color"]
        .as_object_mut()
        .unwrap()
        .remove("bins");
    }));
    assert_eq!(field.as_deref(), Some("features.color.bins"));
    assert_eq!(reason, "is missing");
  }

  #[test]
  fn psi_bad_limits_and_bin_type() {
    let (field, reason) = field_of(edited(PSI, |v| {
      v["features"]["feature_0"]["bins"][3]["lower_limit"] = "lots".into()
    }));
    assert_eq!(
      field.as_deref(),
      Some("features.feature_0.bins[3].lower_limit")
    );
    assert_eq!(reason, LIMIT_REASON);
    let (field, _) = field_of(edited(PSI, |v| {
      v["features"]["feature_0"]["bins"][0]["upper_limit"] = Value::Null
    }));
    assert_eq!(
      field.as_deref(),
      Some("features.feature_0.bins[0].upper_limit")
    );
    let (field, reason) = field_of(edited(PSI, |v| {
      v["features"]["color"]["bin_type"] = "Fuzzy".into()
    }));
    assert_eq!(field.as_deref(), Some("features.color.bin_type"));
    assert!(reason.contains("Fuzzy"));
    let (field, _) = field_of(edited(PSI, |v| {
      v["features"]["color"]["bins"][1]["id"] = 1.5.into()
    }));
    assert_eq!(field.as_deref(), Some("features.color.bins[1].id"));
  }

  #[test]
  fn feature_map_codes_must_be_integers() {
    let (field, _) = field_of(edited(PSI, |v| {
      v["config"]["feature_map"]["features"]["color"]["red"] = "zero".into()
    }));
    assert_eq!(
      field.as_deref(),
      Some("config.feature_map.features.color.red")
    );
  }

  #[test]
  fn custom_metrics_missing_or_mistyped() {
    let (field, _) = field_of(edited(CUSTOM, |v| {
      v.as_object_mut().unwrap().remove("metrics");
    }));
    assert_eq!(field.as_deref(), Some("metrics"));
    let (field, _) = field_of(edited(CUSTOM, |v| {
      v["metrics"] = serde_json::json!(["mae"])
    }));
    assert_eq!(field.as_deref(), Some("metrics"));
  }

  #[test]
  fn upper_case_custom_metric_loads_with_a_warning() {
    let profile = edited(CUSTOM, |v| v["metrics"]["MAE"] = 1.0.into()).unwrap();
    assert_eq!(profile.warnings.len(), 1);
    assert!(profile.warnings[0].contains("MAE"));
  }

  #[test]
  fn llm_sample_rate_must_be_positive() {
    let (field, reason) = field_of(edited(LLM, |v| v["config"]["sample_rate"] = 0.into()));
    assert_eq!(field.as_deref(), Some("config.sample_rate"));
    assert_eq!(reason, "must be greater than 0");
    let (field, reason) = field_of(edited(LLM, |v| {
      v["config"].as_object_mut().unwrap().remove("sample_rate");
    }));
    assert_eq!(field.as_deref(), Some("config.sample_rate"));
    assert_eq!(reason, "is missing");
  }

  const SPC_25: &str = include_str!("../../__test__/fixtures/v0_25/spc_profile.json");
  const PSI_25: &str = include_str!("../../__test__/fixtures/v0_25/psi_profile.json");
  const CUSTOM_25: &str = include_str!("../../__test__/fixtures/v0_25/custom_profile.json");
  const GENAI_25: &str = include_str!("../../__test__/fixtures/v0_25/genai_eval_profile.json");

  #[test]
  fn loads_the_four_0_25_fixtures() {
    let uid = |n: u8| Some(format!("0197f3a0-0000-7000-8000-00000000000{n}"));
    let spc = DriftProfile::parse("spc.json", SPC_25).unwrap();
    assert_eq!(spc.format, WireFormat::V0_25);
    assert_eq!(spc.id.uid, uid(1));
    assert_eq!(spc.identifier(), "scouter/spc_model/v0.1.0/spc");
    let ProfileSpec::Spc(spec) = &spc.spec else {
      panic!()
    };
    assert_eq!(spec.sample_size, 25);
    assert_eq!(spec.feature_map["color"]["red"], 2);
    assert_eq!(spc.capacity(), 25);
    assert!(!spc.timed());

    let psi = DriftProfile::parse("psi.json", PSI_25).unwrap();
    assert_eq!(
      (psi.format, psi.id.uid.clone()),
      (WireFormat::V0_25, uid(2))
    );
    let ProfileSpec::Psi(spec) = &psi.spec else {
      panic!()
    };
    let names: Vec<_> = spec.features.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["feature_0", "color"]);
    assert_eq!((psi.capacity(), psi.timed()), (1000, true));

    let custom = DriftProfile::parse("custom.json", CUSTOM_25).unwrap();
    assert_eq!(custom.id.uid, uid(3));
    let ProfileSpec::Custom(spec) = &custom.spec else {
      panic!()
    };
    assert_eq!(spec.metrics, ["mae", "mape"]);

    let genai = DriftProfile::parse("genai.json", GENAI_25).unwrap();
    assert_eq!(genai.id.uid, uid(4));
    assert_eq!(genai.identifier(), "scouter/genai_eval/v0.1.0/genai");
    assert_eq!(
      genai.spec,
      ProfileSpec::GenAi(GenAiSpec { sample_ratio: 1.0 })
    );
    assert_eq!((genai.capacity(), genai.timed()), (25, true));

    let llm = DriftProfile::parse("llm.json", LLM).unwrap();
    assert_eq!((llm.format, llm.id.uid.clone()), (WireFormat::V0_9, None));
    assert!(!llm.timed());
  }

  #[test]
  fn a_0_25_profile_needs_its_uid() {
    for text in [SPC_25, PSI_25, CUSTOM_25, GENAI_25] {
      let (field, reason) = field_of(edited(text, |v| {
        v["config"].as_object_mut().unwrap().remove("uid");
      }));
      assert_eq!(field.as_deref(), Some("config.uid"));
      assert!(reason.starts_with("is missing"), "{reason}");
    }
    let (field, reason) = field_of(edited(SPC_25, |v| v["config"]["uid"] = 7.into()));
    assert_eq!(
      (field.as_deref(), reason.as_str()),
      (Some("config.uid"), "must be a string")
    );
    let (field, reason) = field_of(edited(PSI_25, |v| v["config"]["uid"] = " ".into()));
    assert_eq!(
      (field.as_deref(), reason.as_str()),
      (Some("config.uid"), "must not be empty")
    );
  }

  #[test]
  fn drift_types_by_generation() {
    let (field, reason) = field_of(edited(SPC_25, |v| v["config"]["drift_type"] = "LLM".into()));
    assert_eq!(field.as_deref(), Some("config.drift_type"));
    assert_eq!(
      reason,
      r#"must be one of "Spc", "Psi", "Custom", "GenAI" in a Scouter 0.25 profile (got "LLM")"#
    );
    let (field, reason) = field_of(edited(SPC_25, |v| {
      v["config"]["drift_type"] = "Agent".into()
    }));
    assert_eq!(field.as_deref(), Some("config.drift_type"));
    assert!(reason.contains("(got \"Agent\")"), "{reason}");
    let (_, reason) = field_of(edited(SPC, |v| {
      v["config"]["drift_type"] = "Kolmogorov".into()
    }));
    assert!(
      reason.contains("\"LLM\" in a Scouter v0.9 profile"),
      "{reason}"
    );
    // A v0.9 file with a GenAI drift type is read as 0.25 and asked for its uid.
    let (field, _) = field_of(edited(LLM, |v| v["config"]["drift_type"] = "GenAI".into()));
    assert_eq!(field.as_deref(), Some("config.uid"));
  }

  #[test]
  fn genai_sample_ratio_missing_mistyped_or_out_of_range() {
    let (field, reason) = field_of(edited(GENAI_25, |v| {
      v["config"].as_object_mut().unwrap().remove("sample_ratio");
    }));
    assert_eq!(
      (field.as_deref(), reason.as_str()),
      (Some("config.sample_ratio"), "is missing")
    );
    let (field, _) = field_of(edited(GENAI_25, |v| {
      v["config"]["sample_ratio"] = "half".into()
    }));
    assert_eq!(field.as_deref(), Some("config.sample_ratio"));
    for bad in [-0.1, 1.5, 1e300] {
      let (field, reason) = field_of(edited(GENAI_25, |v| {
        v["config"]["sample_ratio"] = bad.into()
      }));
      assert_eq!(field.as_deref(), Some("config.sample_ratio"));
      assert!(reason.starts_with("must be between 0 and 1"), "{reason}");
    }
    for good in [0.0, 0.25, 1.0] {
      let profile = edited(GENAI_25, |v| v["config"]["sample_ratio"] = good.into()).unwrap();
      assert_eq!(
        profile.spec,
        ProfileSpec::GenAi(GenAiSpec { sample_ratio: good })
      );
    }
    // An integer ratio is a number too.
    let profile = edited(GENAI_25, |v| v["config"]["sample_ratio"] = 1.into()).unwrap();
    assert_eq!(
      profile.spec,
      ProfileSpec::GenAi(GenAiSpec { sample_ratio: 1.0 })
    );
  }

  #[test]
  fn a_profile_given_as_json_text_loads_and_its_errors_name_it() {
    let named = |text: &str| ProfileSource::Json {
      name: "(the profile object of alias 'psi')".into(),
      text: text.into(),
    };
    let profile = DriftProfile::from_source(&named(PSI_25)).unwrap();
    assert_eq!(profile.format, WireFormat::V0_25);
    match DriftProfile::from_source(&named(r#"{"config": {"drift_type": "Psi"}}"#)) {
      Err(QueueError::Profile { path, field, .. }) => {
        assert_eq!(path, "(the profile object of alias 'psi')");
        assert_eq!(field.as_deref(), Some("config.space"));
      }
      other => panic!("{other:?}"),
    }
    let file = ProfileSource::File("/nonexistent/p.json".into());
    assert_eq!(file.name(), "/nonexistent/p.json");
    assert!(DriftProfile::from_source(&file).is_err());
  }

  #[test]
  fn error_message_names_file_and_field() {
    let err = edited(SPC, |v| v["config"]["sample_size"] = 0.into()).unwrap_err();
    assert_eq!(
      err.to_string(),
      "invalid drift profile p.json: field `config.sample_size` must be greater than 0"
    );
  }
}
