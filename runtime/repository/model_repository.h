// ModelRepository: serves the models of a repository folder — which versions
// are loaded, warmed up and ready, and the handle a request predicts with.
//
// Layout (docs/repository.md): `<repo>/<model>/config.json` (model_config.h)
// and numbered version folders `<repo>/<model>/<N>/` holding the artifact.
//
// Modes (Triton's model-control modes):
//   kPoll     - Poll() rescans the folder: loads the versions the version
//               policy wants that are new or whose files or config changed,
//               unloads the versions it no longer wants, drops models whose
//               folder is gone. A background thread polls every
//               poll_interval when it is > 0. Load/Unload are refused.
//   kExplicit - only Load(name) / Unload(name) change what is served.
//
// Loading a version: backend (BackendRegistry, by the config's `backend`) →
// signature check against the config → warm-up → memory budget → published
// as READY. Until then the version is LOADING and is not served. A failure at
// any step leaves whatever was serving in place and records the reason
// (Index()); in poll mode the failed version is not retried until its files
// or the config change, and the policy is applied to the remaining versions
// (latest:1 with a corrupt v3 keeps serving v2).
//
// Memory budget: the bytes of every loaded version (Model::MemoryBytes()),
// counting unloaded versions still held by requests until they are released.
// A load that would exceed it evicts idle versions of other models, least
// recently used (by Get) first; a version with a handle held outside the
// repository is in flight and never evicted. Each eviction is logged and
// counted; an evicted version stays UNAVAILABLE until Load(name), or, in poll
// mode, until it fits again without evicting anything (so polls never thrash).
// When eviction cannot make room the load fails with RESOURCE_EXHAUSTED naming
// the budget, whatever served before serves on, and the next poll retries. The
// loading version's memory is held while it loads, beyond the budget.
//
// Thread-safety: every method may be called from any thread. Get and
// GetConfig take a short internal lock (a map lookup and a reference count
// increment) and never wait for a load. Poll, Load and Unload are serialised
// with each other; artifact loading and warm-up run without the lookup lock,
// on a thread of their own under SCHED_IDLE (nice 19 where that is refused),
// so they take only CPU time no other thread wants; the caller waits for it.
#ifndef HOTPATH_RUNTIME_REPOSITORY_MODEL_REPOSITORY_H_
#define HOTPATH_RUNTIME_REPOSITORY_MODEL_REPOSITORY_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/thread_annotations.h"
#include "runtime/repository/backend_registry.h"
#include "runtime/repository/model_config.h"
#include "runtime/repository/servable_version.h"

namespace hotpath {

enum class VersionState { kReady, kLoading, kUnavailable };
// "READY", "LOADING", "UNAVAILABLE" (Triton's repository index names).
std::string_view VersionStateName(VersionState state);

// One row of the repository index.
struct IndexEntry {
  std::string name;
  int64_t version = 0;  // 0: the model as a whole (config error, or never loaded)
  VersionState state = VersionState::kUnavailable;
  std::string reason;   // why not READY; empty when READY and healthy
};

class ModelRepository {
 public:
  enum class Mode { kPoll, kExplicit };

  struct Options {
    std::string path;  // the repository folder; required
    Mode mode = Mode::kPoll;
    // kPoll: period of the background poller (real time); 0 = no thread (call Poll()).
    std::chrono::milliseconds poll_interval{0};
    // kExplicit: models Create loads (it fails if one fails to load).
    std::vector<std::string> startup_models;
    // Bytes of loaded models allowed at once; 0 = unlimited.
    size_t memory_budget_bytes = 0;
    // Backends by name; null = BackendRegistry::WithBuiltins().
    std::shared_ptr<const BackendRegistry> backends;
    // Stamps last use for LRU eviction; null = RealClock(). Must outlive the repository.
    const Clock* clock = nullptr;
    // Receives one line per load, failure, unload and eviction (never per
    // request); null = stderr. Called from loading threads, not concurrently.
    std::function<void(std::string_view)> log;
  };

  // Counters since Create, and the memory in use.
  struct Stats {
    uint64_t polls = 0;
    uint64_t loads = 0;          // versions made READY
    uint64_t load_failures = 0;  // failed version loads (any step) and refused configs
    uint64_t unloads = 0;        // versions unloaded by policy, Unload or a vanished folder
    uint64_t evictions = 0;      // versions evicted for the memory budget
    size_t memory_bytes = 0;     // loaded versions plus released-but-in-flight ones
    size_t memory_budget_bytes = 0;
    size_t ready_versions = 0;
  };

  // Validates `options` (INVALID_ARGUMENT naming the field; NOT_FOUND when
  // the folder is missing), performs the initial load (kPoll: one Poll();
  // kExplicit: startup_models, failing on the first model that fails to load)
  // and starts the poller thread when configured.
  static Result<std::unique_ptr<ModelRepository>> Create(const Options& options);
  // Stops and joins the poller. Handles already given out stay valid.
  ~ModelRepository();
  ModelRepository(const ModelRepository&) = delete;
  ModelRepository& operator=(const ModelRepository&) = delete;

  // The READY version `version` of model `name` (0 = the highest READY
  // version), and marks it used now (LRU). NOT_FOUND when the model or the
  // version is unknown; UNAVAILABLE, with the reason, when it is loading,
  // failed, unloaded or evicted. Keep the handle for the whole request.
  Result<ServableHandle> Get(std::string_view name, int64_t version = 0) EXCLUDES(mu_);

  // The model's current valid config (batching options for the scheduler):
  // the last one that parsed, even if no version of it is ready. NOT_FOUND
  // when the repository has not read the model; UNAVAILABLE with the config
  // error when no config of it ever parsed.
  Result<std::shared_ptr<const ModelConfig>> GetConfig(std::string_view name) const EXCLUDES(mu_);

  // kPoll only (FAILED_PRECONDITION otherwise). Rescans the folder as
  // described above. OK when the folder could be read; failures of single
  // models or versions are recorded in Index(), logged and counted, and do
  // not fail the poll.
  Status Poll() EXCLUDES(load_mu_, mu_);

  // kExplicit only (FAILED_PRECONDITION otherwise). Reads the model's config
  // and loads the versions its policy wants (retrying failed and evicted
  // ones), then unloads the versions it no longer wants. OK when every wanted
  // version is READY; else the first error (NOT_FOUND when the folder or
  // config.json is missing, INVALID_ARGUMENT for a bad config, the load
  // error otherwise). Versions that loaded stay READY either way.
  Status Load(const std::string& name) EXCLUDES(load_mu_, mu_);

  // kExplicit only. Unloads every version of `name`: new Gets fail with
  // UNAVAILABLE, in-flight handles finish. NOT_FOUND when never loaded.
  Status Unload(const std::string& name) EXCLUDES(load_mu_, mu_);

  // Every model the repository knows or finds on disk, and each of its
  // versions, sorted by name and version.
  std::vector<IndexEntry> Index() const EXCLUDES(mu_);

  Stats stats() const EXCLUDES(mu_);

 private:
  // One version of a model. State: READY iff `servable` is set, else LOADING
  // iff `loading`, else UNAVAILABLE for `reason`.
  struct VersionSlot {
    ServableHandle servable;
    bool loading = false;
    // Evicted for the budget: in poll mode it is reloaded only when it fits
    // without evicting another version.
    bool waits_for_memory = false;
    std::string reason;       // last failure, or why it is not served
    std::string loaded_fp;    // fingerprint `servable` was loaded from
    std::string failed_fp;    // fingerprint of the last failed load; empty after success
    size_t bytes = 0;         // size when last loaded or refused for the budget
    TimePoint last_used;      // last Get, or the load
  };
  struct ModelSlot {
    std::string config_text;                    // last config.json read
    std::shared_ptr<const ModelConfig> config;  // last config that parsed
    std::string config_error;                   // set while config_text is invalid
    std::map<int64_t, VersionSlot> versions;
  };
  // What one pass over a model may do.
  struct SyncMode {
    // Retry versions whose last load failed or that wait for memory (explicit Load).
    bool retry_failed = false;
  };

  explicit ModelRepository(const Options& options);
  void StartPoller();
  void PollerLoop();
  void Log(const std::string& line) const;

  // A valid config and the text it was parsed from.
  struct ConfigRead {
    std::shared_ptr<const ModelConfig> config;
    std::string text;
  };
  // Reads and validates the model's config, records it. Errors name the file.
  Result<ConfigRead> ReadConfig(const std::string& name) REQUIRES(load_mu_) EXCLUDES(mu_);
  // Brings `name` to the policy's wanted versions; the first load error.
  Status SyncModel(const std::string& name, SyncMode mode) REQUIRES(load_mu_) EXCLUDES(mu_);
  // A version to (re)load and whether its load may evict.
  struct LoadStep {
    int64_t version = 0;
    bool allow_evict = true;
  };
  // The versions of `on_disk` the policy may pick: all but those whose last
  // load of the same files failed (unless retrying).
  std::vector<int64_t> Loadable(const std::string& name, const std::vector<int64_t>& on_disk,
                                const std::map<int64_t, std::string>& fps, SyncMode mode) const
      EXCLUDES(mu_);
  // The wanted versions not already serving their current files.
  std::vector<LoadStep> VersionsToLoad(const std::string& name, const std::vector<int64_t>& wanted,
                                       const std::map<int64_t, std::string>& fps, SyncMode mode)
      EXCLUDES(mu_);
  // Forgets versions that are neither on disk nor READY.
  void ForgetMissing(const std::string& name, const std::vector<int64_t>& on_disk) EXCLUDES(mu_);
  Status LoadVersion(const std::string& name, std::shared_ptr<const ModelConfig> config,
                     int64_t version, const std::string& fingerprint, bool allow_evict)
      REQUIRES(load_mu_) EXCLUDES(mu_);
  // Records a failed load; `bytes` is the loaded size when the budget refused it.
  void RecordFailure(const std::string& name, int64_t version, const std::string& fingerprint,
                     const Status& status, size_t bytes) REQUIRES(mu_);
  // Evicts idle versions of other models until `need` more bytes fit.
  Status MakeRoom(const std::string& name, int64_t version, size_t need, size_t freed_on_swap,
                  bool allow_evict, std::vector<ServableHandle>* dropped) REQUIRES(mu_);
  // Unloads every READY version of `name` not in `keep`.
  void UnloadExcept(const std::string& name, const std::vector<int64_t>& keep) EXCLUDES(mu_);
  // Evicts READY version `version` of `name` to make room for `for_name`/`for_version`.
  void Evict(const std::string& name, int64_t version, const std::string& for_name,
             int64_t for_version, std::vector<ServableHandle>* dropped) REQUIRES(mu_);
  // Takes the servable out of `slot` (counted in retired_ while handles hold
  // it) and returns it, to be released after mu_ is dropped.
  ServableHandle TakeServable(VersionSlot& slot) REQUIRES(mu_);
  // Moves a READY slot to UNAVAILABLE for `reason`, appending the servable to `dropped`.
  void Retire(const std::string& name, int64_t version, VersionSlot& slot,
              const std::string& reason, std::vector<ServableHandle>* dropped) REQUIRES(mu_);
  // Unloads the models whose folders are gone (not in `on_disk`).
  void DropVanished(const std::vector<std::string>& on_disk) EXCLUDES(mu_);
  // Writes the lines queued in pending_log_, outside mu_.
  void FlushLog() EXCLUDES(mu_);
  size_t MemoryInUse() const REQUIRES(mu_);
  bool WaitForNextPoll() EXCLUDES(poll_mu_);
  std::string ModelDir(const std::string& name) const { return options_.path + "/" + name; }

  const Options options_;
  const std::shared_ptr<const BackendRegistry> backends_;
  const Clock& clock_;

  Mutex load_mu_;  // serialises Poll, Load and Unload; taken before mu_
  // Guards the served state. Held only for lookups and bookkeeping, never
  // while loading or warming up.
  mutable Mutex mu_;
  std::map<std::string, ModelSlot, std::less<>> models_ GUARDED_BY(mu_);
  // Unloaded or evicted versions, counted in MemoryInUse until released.
  struct Retired {
    std::weak_ptr<const ServableVersion> servable;
    size_t bytes = 0;
  };
  std::vector<Retired> retired_ GUARDED_BY(mu_);
  Stats stats_ GUARDED_BY(mu_);
  std::vector<std::string> pending_log_ GUARDED_BY(mu_);  // written by FlushLog

  Mutex poll_mu_;
  CondVar poll_cv_;  // signalled by the destructor
  bool stop_polling_ GUARDED_BY(poll_mu_) = false;
  std::thread poller_;
};

}  // namespace hotpath

#endif  // HOTPATH_RUNTIME_REPOSITORY_MODEL_REPOSITORY_H_
