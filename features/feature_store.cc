#include "features/feature_store.h"

#include <cmath>
#include <istream>
#include <ostream>

#include "features/internal/group_table.h"
#include "features/internal/validate.h"

namespace hotpath::features {
namespace {

constexpr char kSnapshotMagic[] = "HPFEATS1";

// Identifies a group's state layout, so a snapshot is only loaded into a
// store whose definitions lay state out the same way.
std::string LayoutTag(const internal::GroupPlan& plan) {
  return plan.def->name + "/" + std::to_string(plan.stride) + "/" +
         std::to_string(plan.running_size) + "/" + std::to_string(plan.bucket_ms) + "/" +
         std::to_string(plan.sketch_aggs.size());
}

void WriteBlob(std::ostream& out, std::string_view s) {
  uint32_t n = static_cast<uint32_t>(s.size());
  out.write(reinterpret_cast<const char*>(&n), sizeof n);
  out.write(s.data(), static_cast<std::streamsize>(s.size()));
}

bool ReadBlob(std::istream& in, std::string* s) {
  uint32_t n = 0;
  if (!in.read(reinterpret_cast<char*>(&n), sizeof n) || n > (1u << 30)) return false;
  s->resize(n);
  return static_cast<bool>(in.read(s->data(), n));
}

}  // namespace

int64_t WallMillis(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.WallNow().time_since_epoch())
      .count();
}

Result<std::unique_ptr<FeatureStore>> FeatureStore::Create(const Options& options) {
  if (options.definitions == nullptr)
    return InvalidArgumentError("FeatureStore: definitions are required");
  if (options.clock == nullptr) return InvalidArgumentError("FeatureStore: clock is required");
  if (options.shards < 1 || options.shards > 65536 || (options.shards & (options.shards - 1))) {
    return InvalidArgumentError("FeatureStore: shards must be a power of two in [1, 65536], got " +
                                std::to_string(options.shards));
  }
  if (options.max_entities_per_group == 0) {
    return InvalidArgumentError("FeatureStore: max_entities_per_group must be positive");
  }
  std::vector<std::unique_ptr<internal::GroupTable>> tables;
  for (std::size_t g = 0; g < options.definitions->groups.size(); ++g) {
    internal::GroupPlan plan = internal::GroupPlan::Compile(*options.definitions, int(g));
    if (plan.slots.size() > internal::kMaxSlots) {
      return InvalidArgumentError("group \"" + plan.def->name + "\": compiles to " +
                                  std::to_string(plan.slots.size()) + " slots; at most " +
                                  std::to_string(internal::kMaxSlots) + " are supported");
    }
    tables.push_back(std::make_unique<internal::GroupTable>(std::move(plan), options.shards,
                                                            options.max_entities_per_group));
  }
  return std::unique_ptr<FeatureStore>(new FeatureStore(options, std::move(tables)));
}

FeatureStore::FeatureStore(const Options& options,
                           std::vector<std::unique_ptr<internal::GroupTable>> tables)
    : defs_(options.definitions), clock_(*options.clock), tables_(std::move(tables)) {}

FeatureStore::~FeatureStore() = default;

Status FeatureStore::Check(const Event& ev) const {
  RETURN_IF_ERROR(internal::CheckShape(*defs_, ev));
  const int64_t now_ms = WallMillis(clock_);
  for (const auto& table : tables_) {
    if (table->plan().source_of[ev.source] >= 0)
      RETURN_IF_ERROR(internal::CheckTime(*table->plan().def, ev, now_ms));
  }
  return OkStatus();
}

IngestReport FeatureStore::Ingest(std::span<const Event> events) { return Apply(events, true); }

IngestReport FeatureStore::Reapply(std::span<const Event> events) { return Apply(events, false); }

IngestReport FeatureStore::Apply(std::span<const Event> events, bool check_time) {
  const int64_t now_ms = WallMillis(clock_);
  std::vector<Status> statuses(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    statuses[i] = internal::CheckShape(*defs_, events[i]);
    for (std::size_t g = 0; statuses[i].ok() && check_time && g < tables_.size(); ++g) {
      if (tables_[g]->plan().source_of[events[i].source] >= 0) {
        statuses[i] = internal::CheckTime(*tables_[g]->plan().def, events[i], now_ms);
      }
    }
  }
  std::vector<const Event*> batch;
  std::vector<std::size_t> index;
  std::vector<Status> applied;
  for (const auto& table : tables_) {
    batch.clear();
    index.clear();
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (statuses[i].ok() && table->plan().source_of[events[i].source] >= 0) {
        batch.push_back(&events[i]);
        index.push_back(i);
      }
    }
    applied.assign(batch.size(), OkStatus());
    table->ApplyBatch(batch, now_ms, applied);
    for (std::size_t k = 0; k < batch.size(); ++k) {
      if (!applied[k].ok()) statuses[index[k]] = std::move(applied[k]);
    }
  }
  return Tally(std::move(statuses));
}

IngestReport FeatureStore::Tally(std::vector<Status> statuses) {
  IngestReport report;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    if (statuses[i].ok()) {
      ++report.applied;
      continue;
    }
    ++(statuses[i].code() == StatusCode::kOutOfRange ? report.too_late : report.rejected);
    report.errors.emplace_back(i, std::move(statuses[i]));
  }
  applied_.fetch_add(report.applied, std::memory_order_relaxed);
  too_late_.fetch_add(report.too_late, std::memory_order_relaxed);
  rejected_.fetch_add(report.rejected, std::memory_order_relaxed);
  return report;
}

Status FeatureStore::Read(std::span<const std::string> entity_keys, const FeatureSelector& sel,
                          const ReadOptions& options, std::vector<FeatureValue>* out) const {
  if (!options.profiles.empty() && options.profiles.size() != entity_keys.size()) {
    return InvalidArgumentError("profiles: expected one per entity (" +
                                std::to_string(entity_keys.size()) + "), got " +
                                std::to_string(options.profiles.size()));
  }
  const int64_t now_ms = WallMillis(clock_);
  const int64_t t_ms = options.as_of_ms.value_or(now_ms);
  for (int g : sel.groups()) {
    const FeatureGroupDef& def = *tables_[g]->plan().def;
    if (t_ms > now_ms || t_ms < now_ms - def.retention_ms) {
      return OutOfRangeError("as_of " + std::to_string(t_ms) + ": group \"" + def.name +
                             "\" answers from now - " + std::to_string(def.retention_ms) +
                             " ms to now (" + std::to_string(now_ms) + ")");
    }
  }
  const std::size_t width = sel.refs().size();
  out->resize(entity_keys.size() * width);
  for (std::size_t e = 0; e < entity_keys.size(); ++e) {
    const Profile* profile = options.profiles.empty() ? nullptr : &options.profiles[e];
    for (int g : sel.groups()) {
      tables_[g]->Read(entity_keys[e], sel, t_ms, now_ms, profile, &(*out)[e * width]);
    }
  }
  return OkStatus();
}

std::size_t FeatureStore::SweepExpired() {
  const int64_t now_ms = WallMillis(clock_);
  std::size_t removed = 0;
  for (auto& table : tables_) removed += table->SweepExpired(now_ms);
  return removed;
}

StoreStats FeatureStore::Stats() const {
  StoreStats s;
  s.applied = applied_.load(std::memory_order_relaxed);
  s.too_late = too_late_.load(std::memory_order_relaxed);
  s.rejected = rejected_.load(std::memory_order_relaxed);
  for (const auto& table : tables_) {
    s.evicted += table->evicted();
    s.entities += table->entities();
    s.state_bytes += table->state_bytes();
  }
  return s;
}

Status FeatureStore::SaveSnapshot(std::ostream& out) const {
  out.write(kSnapshotMagic, sizeof kSnapshotMagic);
  for (const auto& table : tables_) {
    WriteBlob(out, LayoutTag(table->plan()));
    table->ForEachEncoded([&out](const std::string& key, const std::string& state) {
      out.put(1);
      WriteBlob(out, key);
      WriteBlob(out, state);
    });
    out.put(0);
  }
  out.flush();
  if (!out) return InternalError("snapshot: write failed");
  return OkStatus();
}

Status FeatureStore::LoadSnapshot(std::istream& in) {
  char magic[sizeof kSnapshotMagic] = {};
  if (!in.read(magic, sizeof magic) ||
      std::string_view(magic, sizeof magic) != std::string_view(kSnapshotMagic, sizeof magic)) {
    return DataLossError("snapshot: bad header");
  }
  std::string tag, key, state;
  for (const auto& table : tables_) {
    if (!ReadBlob(in, &tag) || tag != LayoutTag(table->plan())) {
      return DataLossError("snapshot: written for other definitions (group \"" +
                           table->plan().def->name + "\")");
    }
    int marker;
    while ((marker = in.get()) == 1) {
      if (!ReadBlob(in, &key) || !ReadBlob(in, &state) || !table->InsertEncoded(key, state)) {
        return DataLossError("snapshot: corrupt entity record in group \"" +
                             table->plan().def->name + "\"");
      }
    }
    if (marker != 0) return DataLossError("snapshot: truncated");
  }
  return OkStatus();
}

}  // namespace hotpath::features
