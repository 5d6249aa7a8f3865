// MetricsRegistry: registration (name validation, sharing of identical
// families) and the text exposition format 0.0.4.
#include <charconv>
#include <cmath>
#include <utility>

#include "observe/metrics.h"

namespace hotpath {

namespace exposition {

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, end);
}

std::string FormatLabels(const std::vector<std::string>& names,
                         const std::vector<std::string>& values, std::string_view extra_name,
                         std::string_view extra_value) {
  if (names.empty() && extra_name.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i] + "=\"" + EscapeLabelValue(values[i]) + "\"";
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += std::string(extra_name) + "=\"" + EscapeLabelValue(extra_value) + "\"";
  }
  out += '}';
  return out;
}

namespace {
const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}
}  // namespace

void AppendHeader(const FamilyBase& family, std::string* out) {
  const MetricSpec& spec = family.spec();
  *out += "# HELP " + spec.name + " " + EscapeHelp(spec.help) + "\n";
  *out += "# TYPE " + spec.name + " " + TypeName(family.type()) + "\n";
}

void AppendSample(std::string_view name, std::string_view labels, std::string_view value,
                  std::string* out) {
  *out += name;
  *out += labels;
  *out += ' ';
  *out += value;
  *out += '\n';
}

}  // namespace exposition

namespace {

bool IsNameChar(char c, bool first, bool allow_colon) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  const bool colon = allow_colon && c == ':';
  return alpha || colon || (!first && c >= '0' && c <= '9');
}

bool IsValidName(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0, allow_colon)) return false;
  }
  return true;
}

Status ValidateSpec(const MetricSpec& spec, MetricType type) {
  if (!IsValidName(spec.name, /*allow_colon=*/true)) {
    return InvalidArgumentError("metric name \"" + spec.name +
                                "\" must match [a-zA-Z_:][a-zA-Z0-9_:]*");
  }
  for (const std::string& label : spec.label_names) {
    const bool reserved =
        label.rfind("__", 0) == 0 || (type == MetricType::kHistogram && label == "le");
    if (!IsValidName(label, /*allow_colon=*/false) || reserved) {
      return InvalidArgumentError("metric " + spec.name + ": label name \"" + label +
                                  "\" must match [a-zA-Z_][a-zA-Z0-9_]*, not start with __ and "
                                  "not be le on a histogram");
    }
  }
  return OkStatus();
}

bool SameShape(const FamilyBase& f, const MetricSpec& spec, MetricType type) {
  return f.type() == type && f.spec().label_names == spec.label_names;
}

// A family whose only value is computed at scrape time.
class SampledFamily final : public FamilyBase {
 public:
  SampledFamily(MetricSpec spec, MetricType type, std::function<double()> sample)
      : FamilyBase(std::move(spec), type), sample_(std::move(sample)) {}

  void AppendText(std::string* out) const override {
    exposition::AppendHeader(*this, out);
    exposition::AppendSample(spec().name, "", exposition::FormatValue(sample_()), out);
  }

 private:
  const std::function<double()> sample_;
};

}  // namespace

Result<FamilyBase*> MetricsRegistry::Existing(const MetricSpec& spec, MetricType type,
                                              const std::function<bool(const FamilyBase&)>& same) {
  for (const auto& f : families_) {
    if (f->spec().name != spec.name) continue;
    if (!same(*f)) {
      return AlreadyExistsError("metric " + spec.name +
                                " is already registered with another type, labels or buckets");
    }
    return f.get();
  }
  return static_cast<FamilyBase*>(nullptr);
}

Result<CounterFamily*> MetricsRegistry::AddCounter(const MetricSpec& spec) {
  RETURN_IF_ERROR(ValidateSpec(spec, MetricType::kCounter));
  MutexLock lock(&mu_);
  auto same = [&](const FamilyBase& f) { return SameShape(f, spec, MetricType::kCounter); };
  ASSIGN_OR_RETURN(FamilyBase * found, Existing(spec, MetricType::kCounter, same));
  if (found != nullptr) return static_cast<CounterFamily*>(found);
  auto family = std::make_unique<CounterFamily>(spec, MetricType::kCounter,
                                                [] { return std::make_unique<Counter>(); });
  CounterFamily* raw = family.get();
  families_.push_back(std::move(family));
  return raw;
}

Result<GaugeFamily*> MetricsRegistry::AddGauge(const MetricSpec& spec) {
  RETURN_IF_ERROR(ValidateSpec(spec, MetricType::kGauge));
  MutexLock lock(&mu_);
  auto same = [&](const FamilyBase& f) { return SameShape(f, spec, MetricType::kGauge); };
  ASSIGN_OR_RETURN(FamilyBase * found, Existing(spec, MetricType::kGauge, same));
  if (found != nullptr) return static_cast<GaugeFamily*>(found);
  auto family = std::make_unique<GaugeFamily>(spec, MetricType::kGauge,
                                              [] { return std::make_unique<Gauge>(); });
  GaugeFamily* raw = family.get();
  families_.push_back(std::move(family));
  return raw;
}

Result<HistogramFamily*> MetricsRegistry::AddHistogram(const MetricSpec& spec,
                                                       const HistogramBuckets& buckets) {
  RETURN_IF_ERROR(ValidateSpec(spec, MetricType::kHistogram));
  MutexLock lock(&mu_);
  auto same = [&](const FamilyBase& f) {
    return SameShape(f, spec, MetricType::kHistogram) && f.bucket_bounds() == buckets.bounds();
  };
  ASSIGN_OR_RETURN(FamilyBase * found, Existing(spec, MetricType::kHistogram, same));
  if (found != nullptr) return static_cast<HistogramFamily*>(found);
  auto family = std::make_unique<HistogramFamily>(
      spec, MetricType::kHistogram, [buckets] { return std::make_unique<Histogram>(buckets); },
      buckets.bounds());
  HistogramFamily* raw = family.get();
  families_.push_back(std::move(family));
  return raw;
}

Status MetricsRegistry::AddSampled(const MetricSpec& spec, MetricType type,
                                   std::function<double()> sample) {
  RETURN_IF_ERROR(ValidateSpec(spec, type));
  if (type == MetricType::kHistogram || !spec.label_names.empty()) {
    return InvalidArgumentError("metric " + spec.name +
                                ": a sampled metric is an unlabelled counter or gauge");
  }
  MutexLock lock(&mu_);
  for (const auto& f : families_) {
    if (f->spec().name == spec.name) {
      return AlreadyExistsError("metric " + spec.name + " is already registered");
    }
  }
  families_.push_back(std::make_unique<SampledFamily>(spec, type, std::move(sample)));
  return OkStatus();
}

std::string MetricsRegistry::ExpositionText() const {
  std::string out;
  MutexLock lock(&mu_);
  for (const auto& f : families_) f->AppendText(&out);
  return out;
}

const FamilyBase* MetricsRegistry::Find(std::string_view name) const {
  MutexLock lock(&mu_);
  for (const auto& f : families_) {
    if (f->spec().name == name) return f.get();
  }
  return nullptr;
}

std::map<std::string, uint64_t> CounterTotals(const MetricsRegistry& registry, std::string_view name) {
  std::map<std::string, uint64_t> totals;
  if (const auto* f = dynamic_cast<const CounterFamily*>(registry.Find(name))) {
    f->ForEach([&](const std::vector<std::string>& labels, const Counter& c) {
      totals[labels.empty() ? "" : labels[0]] += c.Value();
    });
  }
  return totals;
}

std::map<std::string, HistogramSnapshot> HistogramTotals(const MetricsRegistry& registry,
                                                         std::string_view name) {
  std::map<std::string, HistogramSnapshot> totals;
  if (const auto* f = dynamic_cast<const HistogramFamily*>(registry.Find(name))) {
    f->ForEach([&](const std::vector<std::string>& labels, const Histogram& h) {
      totals[labels.empty() ? "" : labels[0]].Merge(h.Snapshot());
    });
  }
  return totals;
}

}  // namespace hotpath
