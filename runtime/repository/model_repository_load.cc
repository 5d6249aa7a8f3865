// ModelRepository: polling, explicit load/unload, version loading and the
// memory budget.
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <system_error>
#include <thread>

#include "runtime/repository/internal/eviction.h"
#include "runtime/repository/internal/scan.h"
#include "runtime/repository/internal/servable_loader.h"
#include "runtime/repository/internal/version_policy.h"
#include "runtime/repository/model_repository.h"

namespace hotpath {
namespace {

namespace ri = repository_internal;

constexpr size_t kMaxConfigBytes = size_t{1} << 20;

// Demotes the calling thread below every normal thread: SCHED_IDLE, which a
// waking normal thread preempts at once (a nice-19 thread may finish its
// time slice first, milliseconds on a busy core), else nice 19. Best effort.
void RunOnlyWhenIdle() {
  const sched_param none{};
  if (sched_setscheduler(0, SCHED_IDLE, &none) != 0) {
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19);
  }
}

std::string Label(const std::string& name, int64_t version) {
  return "'" + name + "' version " + std::to_string(version);
}

bool Contains(const std::vector<int64_t>& v, int64_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

Status ModelRepository::Poll() {
  if (options_.mode != Mode::kPoll) {
    return FailedPreconditionError("Poll: the repository is in explicit mode; use Load/Unload");
  }
  MutexLock load_lock(&load_mu_);
  Result<std::vector<std::string>> names = ri::ListModels(options_.path);
  if (!names.ok()) {
    MutexLock lock(&mu_);
    pending_log_.push_back("repository: poll failed: " + names.status().ToString());
  } else {
    DropVanished(*names);
    // Failures are recorded per model (Index, log, stats); they do not fail the poll.
    for (const std::string& name : *names) SyncModel(name, SyncMode{}).IgnoreError();
  }
  {
    MutexLock lock(&mu_);
    ++stats_.polls;
  }
  FlushLog();
  return names.status();
}

Status ModelRepository::Load(const std::string& name) {
  if (options_.mode != Mode::kExplicit) {
    return FailedPreconditionError("Load: the repository is in poll mode; it loads what Poll finds");
  }
  MutexLock load_lock(&load_mu_);
  Status st = SyncModel(name, SyncMode{.retry_failed = true});
  FlushLog();
  return st;
}

Status ModelRepository::Unload(const std::string& name) {
  if (options_.mode != Mode::kExplicit) {
    return FailedPreconditionError("Unload: the repository is in poll mode; remove the folder");
  }
  MutexLock load_lock(&load_mu_);
  std::vector<ServableHandle> dropped;
  {
    MutexLock lock(&mu_);
    auto it = models_.find(name);
    if (it == models_.end()) return NotFoundError("Unload: model '" + name + "' was never loaded");
    for (auto& [version, slot] : it->second.versions) {
      if (slot.servable) Retire(name, version, slot, "unloaded", &dropped);
      slot.waits_for_memory = false;
    }
  }
  FlushLog();
  return OkStatus();
}

Result<ModelRepository::ConfigRead> ModelRepository::ReadConfig(const std::string& name) {
  const std::string file = ModelDir(name) + "/config.json";
  Result<std::string> text = ri::ReadSmallFile(file, kMaxConfigBytes);
  Status st = text.status();
  std::optional<ModelConfig> parsed;
  if (st.ok()) {
    MutexLock lock(&mu_);
    ModelSlot& slot = models_[name];
    bool seen = slot.config || !slot.config_error.empty();
    if (seen && *text == slot.config_text) {
      if (!slot.config_error.empty()) return InvalidArgumentError(slot.config_error);
      return ConfigRead{slot.config, slot.config_text};
    }
  }
  if (st.ok()) {
    Result<ModelConfig> config = ParseModelConfig(*text, file, name);
    st = config.status();
    if (config.ok()) parsed = std::move(config).value();
  }
  if (st.ok()) {
    Result<const BackendFactory*> backend = backends_->Find(parsed->backend);
    if (!backend.ok()) st = InvalidArgumentError(file + ": backend: " + backend.status().message());
  }
  MutexLock lock(&mu_);
  ModelSlot& slot = models_[name];
  slot.config_text = text.ok() ? *text : std::string();
  if (!st.ok()) {
    slot.config_error = st.message();
    ++stats_.load_failures;
    pending_log_.push_back("repository: model '" + name + "' config refused: " + st.message());
    return st;
  }
  slot.config_error.clear();
  slot.config = std::make_shared<const ModelConfig>(std::move(*parsed));
  return ConfigRead{slot.config, slot.config_text};
}

Status ModelRepository::SyncModel(const std::string& name, SyncMode mode) {
  {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(ModelDir(name) + "/config.json", ec)) {
      return NotFoundError("model '" + name + "': no " + ModelDir(name) + "/config.json");
    }
  }
  ASSIGN_OR_RETURN(ConfigRead read, ReadConfig(name));
  const std::vector<int64_t> on_disk = ri::ListVersions(ModelDir(name));
  std::map<int64_t, std::string> fps;
  for (int64_t v : on_disk) {
    fps[v] = read.text + "|" + ri::DirectoryFingerprint(ModelDir(name) + "/" + std::to_string(v));
  }
  std::vector<int64_t> candidates = Loadable(name, on_disk, fps, mode);
  std::vector<int64_t> wanted;
  Status first_error;
  for (bool again = true; again;) {
    again = false;
    wanted = ri::SelectVersions(read.config->version_policy, candidates);
    for (const LoadStep& step : VersionsToLoad(name, wanted, fps, mode)) {
      Status st = LoadVersion(name, read.config, step.version, fps[step.version], step.allow_evict);
      if (st.ok()) continue;
      if (first_error.ok()) first_error = st;
      if (st.code() == StatusCode::kResourceExhausted) continue;  // waits for memory, no substitute
      MutexLock lock(&mu_);
      if (models_[name].versions[step.version].servable) continue;  // the old files serve on
      candidates.erase(std::find(candidates.begin(), candidates.end(), step.version));
      again = true;  // let the policy pick from the remaining versions
      break;
    }
  }
  UnloadExcept(name, wanted);
  ForgetMissing(name, on_disk);
  return first_error;
}

std::vector<int64_t> ModelRepository::Loadable(const std::string& name,
                                               const std::vector<int64_t>& on_disk,
                                               const std::map<int64_t, std::string>& fps,
                                               SyncMode mode) const {
  if (mode.retry_failed) return on_disk;
  MutexLock lock(&mu_);
  const ModelSlot& model = models_.find(name)->second;
  std::vector<int64_t> out;
  for (int64_t v : on_disk) {
    auto it = model.versions.find(v);
    bool failed = it != model.versions.end() && !it->second.servable &&
                  it->second.failed_fp == fps.at(v);
    if (!failed) out.push_back(v);
  }
  return out;
}

std::vector<ModelRepository::LoadStep> ModelRepository::VersionsToLoad(
    const std::string& name, const std::vector<int64_t>& wanted,
    const std::map<int64_t, std::string>& fps, SyncMode mode) {
  MutexLock lock(&mu_);
  ModelSlot& model = models_[name];
  const size_t budget = options_.memory_budget_bytes;
  std::vector<LoadStep> steps;
  for (int64_t v : wanted) {
    VersionSlot& slot = model.versions[v];
    const std::string& fp = fps.at(v);
    if (slot.servable && slot.loaded_fp == fp) continue;
    if (!mode.retry_failed && slot.failed_fp == fp) continue;  // a reload that failed: old serves
    if (slot.waits_for_memory && !mode.retry_failed) {
      // Reload only when it fits without evicting another version (no thrashing).
      if (budget != 0 && MemoryInUse() + slot.bytes > budget) continue;
      steps.push_back({v, false});
      continue;
    }
    steps.push_back({v, true});
  }
  return steps;
}

Status ModelRepository::LoadVersion(const std::string& name,
                                    std::shared_ptr<const ModelConfig> config, int64_t version,
                                    const std::string& fingerprint, bool allow_evict) {
  {
    MutexLock lock(&mu_);
    VersionSlot& slot = models_[name].versions[version];
    if (!slot.servable) {
      slot.loading = true;
      slot.reason = "loading";
    }
  }
  const ri::ModelPaths paths{ModelDir(name), ModelDir(name) + "/config.json"};
  Result<ServableHandle> loaded = InternalError("not loaded");
  // Parsing and warm-up run on their own thread at the lowest CPU priority
  // (SCHED_IDLE): serving threads keep their CPU while a model loads
  // (measured by `scripts/bench serve`, load_p99_change). The caller waits.
  // Only this lock-free part is demoted: a demoted thread holding mu_ would
  // stall every Get behind it (priority inversion).
  std::thread loader([&] {
    RunOnlyWhenIdle();
    loaded = ri::LoadServable(*backends_, std::move(config), paths, version);
  });
  loader.join();
  std::vector<ServableHandle> dropped;
  MutexLock lock(&mu_);
  VersionSlot& slot = models_[name].versions[version];
  slot.loading = false;
  Status st = loaded.status();
  const size_t bytes = st.ok() ? (*loaded)->memory_bytes() : 0;
  if (st.ok()) {
    size_t freed = slot.servable && slot.servable.use_count() == 1 ? slot.bytes : 0;
    st = MakeRoom(name, version, bytes, freed, allow_evict, &dropped);
  }
  if (!st.ok()) {
    RecordFailure(name, version, fingerprint, st, bytes);
    return st;
  }
  if (slot.servable) dropped.push_back(TakeServable(slot));
  slot.servable = std::move(loaded).value();
  slot.bytes = slot.servable->memory_bytes();
  slot.loaded_fp = fingerprint;
  slot.failed_fp.clear();
  slot.reason.clear();
  slot.waits_for_memory = false;
  slot.last_used = clock_.Now();
  ++stats_.loads;
  pending_log_.push_back("repository: loaded model " + Label(name, version) + " (" +
                         std::to_string(slot.bytes) + " bytes)");
  return OkStatus();
}

void ModelRepository::RecordFailure(const std::string& name, int64_t version,
                                    const std::string& fingerprint, const Status& status,
                                    size_t bytes) {
  VersionSlot& slot = models_[name].versions[version];
  if (status.code() == StatusCode::kResourceExhausted) {
    slot.bytes = bytes;  // not the files' fault: a later poll retries
  } else {
    slot.failed_fp = fingerprint;
  }
  slot.reason = (slot.servable ? "reload failed, previous files still serving: "
                               : "load failed: ") +
                status.ToString();
  ++stats_.load_failures;
  pending_log_.push_back("repository: model " + Label(name, version) + " " + slot.reason);
}

Status ModelRepository::MakeRoom(const std::string& name, int64_t version, size_t need,
                                 size_t freed_on_swap, bool allow_evict,
                                 std::vector<ServableHandle>* dropped) {
  const size_t budget = options_.memory_budget_bytes;
  if (budget == 0) return OkStatus();
  const size_t in_use = MemoryInUse() - freed_on_swap;
  std::vector<ri::EvictionCandidate> candidates;
  std::vector<std::pair<std::string, int64_t>> keys;
  for (auto& [other, model] : models_) {
    if (other == name || !allow_evict) continue;
    for (auto& [v, slot] : model.versions) {
      if (!slot.servable || slot.servable.use_count() != 1) continue;  // absent or in flight
      candidates.push_back({slot.bytes, slot.last_used});
      keys.emplace_back(other, v);
    }
  }
  std::optional<std::vector<size_t>> victims = ri::PickVictims(candidates, in_use, need, budget);
  if (!victims) {
    size_t idle = 0;
    for (const auto& c : candidates) idle += c.bytes;
    return ResourceExhaustedError(
        "memory budget of " + std::to_string(budget) + " bytes: model " + Label(name, version) +
        " needs " + std::to_string(need) + " bytes, " + std::to_string(in_use) +
        " in use, " + std::to_string(idle) + " idle and evictable");
  }
  for (size_t i : *victims) Evict(keys[i].first, keys[i].second, name, version, dropped);
  return OkStatus();
}

void ModelRepository::Evict(const std::string& name, int64_t version, const std::string& for_name,
                            int64_t for_version, std::vector<ServableHandle>* dropped) {
  const size_t budget = options_.memory_budget_bytes;
  VersionSlot& slot = models_[name].versions[version];
  const double idle_s = std::chrono::duration<double>(clock_.Now() - slot.last_used).count();
  char idle[32];
  std::snprintf(idle, sizeof(idle), "%.3f", idle_s);
  dropped->push_back(TakeServable(slot));
  slot.waits_for_memory = true;
  slot.reason = "evicted to fit the memory budget of " + std::to_string(budget) +
                " bytes (for model " + Label(for_name, for_version) + ")";
  ++stats_.evictions;
  pending_log_.push_back("repository: evicted model " + Label(name, version) + " (" +
                         std::to_string(slot.bytes) + " bytes, idle " + idle + " s) to load model " +
                         Label(for_name, for_version) + " within the budget of " +
                         std::to_string(budget) + " bytes");
}

ServableHandle ModelRepository::TakeServable(VersionSlot& slot) {
  retired_.erase(std::remove_if(retired_.begin(), retired_.end(),
                                [](const Retired& r) { return r.servable.expired(); }),
                 retired_.end());
  retired_.push_back({slot.servable, slot.bytes});
  return std::move(slot.servable);
}

void ModelRepository::Retire(const std::string& name, int64_t version, VersionSlot& slot,
                             const std::string& reason, std::vector<ServableHandle>* dropped) {
  dropped->push_back(TakeServable(slot));
  slot.reason = reason;
  ++stats_.unloads;
  pending_log_.push_back("repository: unloaded model " + Label(name, version) + ": " + reason);
}

void ModelRepository::UnloadExcept(const std::string& name, const std::vector<int64_t>& keep) {
  std::vector<ServableHandle> dropped;
  MutexLock lock(&mu_);
  for (auto& [version, slot] : models_[name].versions) {
    if (slot.servable && !Contains(keep, version)) {
      Retire(name, version, slot, "unloaded: not wanted by the version policy", &dropped);
    }
  }
}

void ModelRepository::ForgetMissing(const std::string& name, const std::vector<int64_t>& on_disk) {
  MutexLock lock(&mu_);
  std::map<int64_t, VersionSlot>& versions = models_[name].versions;
  std::erase_if(versions, [&](const auto& entry) {
    return !entry.second.servable && !Contains(on_disk, entry.first);
  });
}

void ModelRepository::DropVanished(const std::vector<std::string>& on_disk) {
  std::vector<ServableHandle> dropped;
  MutexLock lock(&mu_);
  for (auto it = models_.begin(); it != models_.end();) {
    if (std::binary_search(on_disk.begin(), on_disk.end(), it->first)) {
      ++it;
      continue;
    }
    for (auto& [version, slot] : it->second.versions) {
      if (slot.servable) Retire(it->first, version, slot, "model folder removed", &dropped);
    }
    it = models_.erase(it);
  }
}

}  // namespace hotpath
