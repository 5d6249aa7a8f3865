// ModelRepository: construction, lookups, index and the poller. The load,
// unload and eviction paths are in model_repository_load.cc.
#include "runtime/repository/model_repository.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "runtime/repository/internal/scan.h"

namespace hotpath {
namespace {

Status ValidateOptions(const ModelRepository::Options& o) {
  using Mode = ModelRepository::Mode;
  if (o.path.empty()) return InvalidArgumentError("ModelRepository::Options.path: required");
  std::error_code ec;
  if (!std::filesystem::is_directory(o.path, ec)) {
    return NotFoundError("ModelRepository::Options.path: '" + o.path + "' is not a directory");
  }
  if (o.poll_interval.count() < 0) {
    return InvalidArgumentError("ModelRepository::Options.poll_interval: must be >= 0");
  }
  if (o.mode == Mode::kPoll && !o.startup_models.empty()) {
    return InvalidArgumentError(
        "ModelRepository::Options.startup_models: only for explicit mode (poll mode loads all)");
  }
  if (o.mode == Mode::kExplicit && o.poll_interval.count() > 0) {
    return InvalidArgumentError("ModelRepository::Options.poll_interval: only for poll mode");
  }
  return OkStatus();
}

ModelRepository::Options Normalized(ModelRepository::Options o) {
  while (o.path.size() > 1 && o.path.back() == '/') o.path.pop_back();
  if (!o.backends) {
    o.backends = std::make_shared<const BackendRegistry>(BackendRegistry::WithBuiltins());
  }
  return o;
}

}  // namespace

std::string_view VersionStateName(VersionState state) {
  switch (state) {
    case VersionState::kReady:
      return "READY";
    case VersionState::kLoading:
      return "LOADING";
    case VersionState::kUnavailable:
      return "UNAVAILABLE";
  }
  return "UNAVAILABLE";
}

ModelRepository::ModelRepository(const Options& options)
    : options_(Normalized(options)),
      backends_(options_.backends),
      clock_(options.clock != nullptr ? *options.clock : RealClock()) {
  MutexLock lock(&mu_);
  stats_.memory_budget_bytes = options_.memory_budget_bytes;
}

Result<std::unique_ptr<ModelRepository>> ModelRepository::Create(const Options& options) {
  RETURN_IF_ERROR(ValidateOptions(options));
  std::unique_ptr<ModelRepository> repo(new ModelRepository(options));
  if (options.mode == Mode::kPoll) {
    RETURN_IF_ERROR(repo->Poll());
  } else {
    for (const std::string& name : options.startup_models) RETURN_IF_ERROR(repo->Load(name));
  }
  repo->StartPoller();
  return repo;
}

ModelRepository::~ModelRepository() {
  {
    MutexLock lock(&poll_mu_);
    stop_polling_ = true;
  }
  poll_cv_.SignalAll();
  if (poller_.joinable()) poller_.join();
}

void ModelRepository::StartPoller() {
  if (options_.mode != Mode::kPoll || options_.poll_interval.count() == 0) return;
  poller_ = std::thread([this] { PollerLoop(); });
}

bool ModelRepository::WaitForNextPoll() {
  MutexLock lock(&poll_mu_);
  const auto until = std::chrono::steady_clock::now() + options_.poll_interval;
  while (!stop_polling_) {
    if (!poll_cv_.WaitUntil(&poll_mu_, until)) return !stop_polling_;
  }
  return false;
}

void ModelRepository::PollerLoop() {
  // Poll logs its own failures (through FlushLog, so log lines never interleave).
  while (WaitForNextPoll()) Poll().IgnoreError();
}

void ModelRepository::Log(const std::string& line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
}

void ModelRepository::FlushLog() {
  std::vector<std::string> lines;
  {
    MutexLock lock(&mu_);
    lines.swap(pending_log_);
  }
  for (const std::string& line : lines) Log(line);
}

Result<ServableHandle> ModelRepository::Get(std::string_view name, int64_t version) {
  MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) {
    return NotFoundError("model '" + std::string(name) + "' is not in the repository");
  }
  ModelSlot& model = it->second;
  if (version == 0) {
    for (auto v = model.versions.rbegin(); v != model.versions.rend(); ++v) {
      if (!v->second.servable) continue;
      v->second.last_used = clock_.Now();
      return v->second.servable;
    }
    std::string why = !model.config_error.empty() ? model.config_error
                      : model.versions.empty()    ? "no version folders"
                                                  : model.versions.rbegin()->second.reason;
    return UnavailableError("model '" + std::string(name) + "' has no ready version: " + why);
  }
  auto v = model.versions.find(version);
  if (v == model.versions.end()) {
    return NotFoundError("model '" + std::string(name) + "' has no version " +
                         std::to_string(version));
  }
  if (!v->second.servable) {
    return UnavailableError("model '" + std::string(name) + "' version " + std::to_string(version) +
                            " is not ready: " + v->second.reason);
  }
  v->second.last_used = clock_.Now();
  return v->second.servable;
}

Result<std::shared_ptr<const ModelConfig>> ModelRepository::GetConfig(std::string_view name) const {
  MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) {
    return NotFoundError("model '" + std::string(name) + "' is not in the repository");
  }
  if (!it->second.config) {
    return UnavailableError("model '" + std::string(name) + "' has no valid config: " +
                            it->second.config_error);
  }
  return it->second.config;
}

std::vector<IndexEntry> ModelRepository::Index() const {
  std::vector<IndexEntry> entries;
  {
    MutexLock lock(&mu_);
    for (const auto& [name, model] : models_) {
      if (!model.config_error.empty() || model.versions.empty()) {
        entries.push_back({name, 0, VersionState::kUnavailable,
                           model.config_error.empty() ? "no versions loaded" : model.config_error});
      }
      for (const auto& [version, slot] : model.versions) {
        VersionState state = slot.servable ? VersionState::kReady
                             : slot.loading ? VersionState::kLoading
                                            : VersionState::kUnavailable;
        entries.push_back({name, version, state, slot.reason});
      }
    }
  }
  Result<std::vector<std::string>> on_disk = repository_internal::ListModels(options_.path);
  for (const std::string& name : on_disk.ok() ? *on_disk : std::vector<std::string>{}) {
    bool known = std::any_of(entries.begin(), entries.end(),
                             [&](const IndexEntry& e) { return e.name == name; });
    if (!known) entries.push_back({name, 0, VersionState::kUnavailable, "not loaded"});
  }
  std::sort(entries.begin(), entries.end(), [](const IndexEntry& a, const IndexEntry& b) {
    return a.name != b.name ? a.name < b.name : a.version < b.version;
  });
  return entries;
}

ModelRepository::Stats ModelRepository::stats() const {
  MutexLock lock(&mu_);
  Stats s = stats_;
  s.memory_bytes = MemoryInUse();
  s.ready_versions = 0;
  for (const auto& [name, model] : models_) {
    for (const auto& [version, slot] : model.versions) s.ready_versions += slot.servable ? 1 : 0;
  }
  return s;
}

size_t ModelRepository::MemoryInUse() const {
  size_t bytes = 0;
  for (const auto& [name, model] : models_) {
    for (const auto& [version, slot] : model.versions) {
      if (slot.servable) bytes += slot.servable->memory_bytes();
    }
  }
  for (const Retired& r : retired_) bytes += r.servable.expired() ? 0 : r.bytes;
  return bytes;
}

}  // namespace hotpath
