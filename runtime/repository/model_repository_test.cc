#include "runtime/repository/model_repository.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "runtime/repository/internal/repository_test_util.h"
#include "runtime/tree/tree_model.h"

namespace hotpath {
namespace {

using repository_internal::BasicConfig;
using repository_internal::EnginePredict;
using repository_internal::TempRepo;
using repository_internal::TrainedModel;
using repository_internal::TrainModel;
using repository_internal::WriteVersion;
using repository_internal::XGBoostPredict;
using Kind = testing::XGBoostBooster::Kind;

constexpr int kFeatures = 6;

void ExpectMatchesXGBoost(const ServableVersion& s, const TrainedModel& m,
                          Kind kind = Kind::kValue) {
  const std::vector<float> want = XGBoostPredict(m, kind);
  const std::vector<float> got =
      EnginePredict(s.model(), m.rows, m.num_rows,
                    kind == Kind::kValue ? OutputKind::kValue : OutputKind::kMargin);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-6f) << "row " << i;
}

// The state Index() reports for name/version, or "ABSENT".
std::string StateOf(const ModelRepository& repo, const std::string& name, int64_t version) {
  for (const IndexEntry& e : repo.Index()) {
    if (e.name == name && e.version == version) return std::string(VersionStateName(e.state));
  }
  return "ABSENT";
}

std::string ReasonOf(const ModelRepository& repo, const std::string& name, int64_t version) {
  for (const IndexEntry& e : repo.Index()) {
    if (e.name == name && e.version == version) return e.reason;
  }
  return "";
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class RepositoryTest : public ::testing::Test {
 protected:
  std::unique_ptr<ModelRepository> Open(ModelRepository::Mode mode = ModelRepository::Mode::kPoll,
                                        size_t budget = 0,
                                        std::shared_ptr<const BackendRegistry> backends = nullptr) {
    ModelRepository::Options o;
    o.path = repo_.path();
    o.mode = mode;
    o.memory_budget_bytes = budget;
    o.backends = std::move(backends);
    o.clock = &clock_;
    o.log = [this](std::string_view line) { log_.emplace_back(line); };
    auto r = ModelRepository::Create(o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }
  bool Logged(const std::string& part) const {
    for (const std::string& l : log_) {
      if (Contains(l, part)) return true;
    }
    return false;
  }

  TempRepo repo_;
  FakeClock clock_;
  std::vector<std::string> log_;
};

TEST_F(RepositoryTest, ServesLatestVersionWithXGBoostPredictions) {
  TrainedModel v1 = TrainModel(kFeatures, 8, 1), v2 = TrainModel(kFeatures, 12, 2);
  WriteVersion(repo_, "fraud", 1, v1);
  WriteVersion(repo_, "fraud", 2, v2);
  repo_.WriteConfig("fraud", BasicConfig(kFeatures));
  auto repo = Open();
  Result<ServableHandle> h = repo->Get("fraud");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ((*h)->version(), 2);
  EXPECT_EQ((*h)->name(), "fraud");
  EXPECT_EQ((*h)->config().max_batch_size, 16);
  ExpectMatchesXGBoost(**h, v2);
  EXPECT_EQ(StateOf(*repo, "fraud", 2), "READY");
  EXPECT_EQ(repo->Get("fraud", 1).status().code(), StatusCode::kNotFound);
  Result<ServableHandle> missing = repo->Get("risk");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "model 'risk' is not in the repository");
  EXPECT_EQ(repo->stats().loads, 1u);
  EXPECT_EQ(repo->stats().memory_bytes, (*h)->memory_bytes());
}

TEST_F(RepositoryTest, VersionPolicies) {
  std::vector<TrainedModel> models;
  for (int v = 1; v <= 4; ++v) models.push_back(TrainModel(kFeatures, 4 + v, v));
  auto write = [&](const std::string& name, const nlohmann::json& policy) {
    for (int v = 1; v <= 4; ++v) WriteVersion(repo_, name, v, models[v - 1]);
    nlohmann::json c = BasicConfig(kFeatures);
    c["version_policy"] = policy;
    repo_.WriteConfig(name, c);
  };
  write("latest2", {{"latest", {{"num_versions", 2}}}});
  write("specific", {{"specific", {{"versions", {1, 3, 9}}}}});
  write("all", {{"all", nlohmann::json::object()}});
  auto repo = Open();
  auto ready = [&](const std::string& name) {
    std::vector<int64_t> out;
    for (const IndexEntry& e : repo->Index()) {
      if (e.name == name && e.state == VersionState::kReady) out.push_back(e.version);
    }
    return out;
  };
  EXPECT_EQ(ready("latest2"), std::vector<int64_t>({3, 4}));
  EXPECT_EQ(ready("specific"), std::vector<int64_t>({1, 3}));
  EXPECT_EQ(ready("all"), std::vector<int64_t>({1, 2, 3, 4}));
  for (int v = 1; v <= 4; ++v) {
    Result<ServableHandle> h = repo->Get("all", v);
    ASSERT_TRUE(h.ok());
    ExpectMatchesXGBoost(**h, models[v - 1]);
  }
  EXPECT_EQ((*repo->Get("specific"))->version(), 3);
}

TEST_F(RepositoryTest, PollPicksUpNewVersionAndDropsOld) {
  TrainedModel v1 = TrainModel(kFeatures, 8, 1), v2 = TrainModel(kFeatures, 9, 2);
  WriteVersion(repo_, "fraud", 1, v1);
  repo_.WriteConfig("fraud", BasicConfig(kFeatures));
  auto repo = Open();
  EXPECT_EQ((*repo->Get("fraud"))->version(), 1);
  WriteVersion(repo_, "fraud", 2, v2);
  ASSERT_TRUE(repo->Poll().ok());
  Result<ServableHandle> h = repo->Get("fraud");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ((*h)->version(), 2);
  ExpectMatchesXGBoost(**h, v2);
  EXPECT_EQ(StateOf(*repo, "fraud", 1), "UNAVAILABLE");
  EXPECT_EQ(repo->Get("fraud", 1).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(repo->stats().unloads, 1u);
  EXPECT_EQ(repo->stats().polls, 2u);
  // The folder of the newest version goes away: the policy falls back to v1.
  repo_.Remove("fraud/2");
  ASSERT_TRUE(repo->Poll().ok());
  EXPECT_EQ((*repo->Get("fraud"))->version(), 1);
  EXPECT_EQ(StateOf(*repo, "fraud", 2), "ABSENT");
  // The whole model goes away.
  repo_.Remove("fraud");
  ASSERT_TRUE(repo->Poll().ok());
  EXPECT_EQ(repo->Get("fraud").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(repo->stats().ready_versions, 0u);
}

TEST_F(RepositoryTest, CorruptNewVersionLeavesOldServing) {
  TrainedModel v1 = TrainModel(kFeatures, 8, 1), v2 = TrainModel(kFeatures, 10, 2);
  WriteVersion(repo_, "fraud", 1, v1);
  repo_.WriteConfig("fraud", BasicConfig(kFeatures));
  auto repo = Open();
  repo_.WriteFile("fraud/2/model.json", "{\"learner\": {\"gradient_booster\": ");
  ASSERT_TRUE(repo->Poll().ok());
  Result<ServableHandle> h = repo->Get("fraud");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ((*h)->version(), 1);
  ExpectMatchesXGBoost(**h, v1);
  EXPECT_EQ(StateOf(*repo, "fraud", 2), "UNAVAILABLE");
  EXPECT_TRUE(Contains(ReasonOf(*repo, "fraud", 2), "fraud/2/model.json"))
      << ReasonOf(*repo, "fraud", 2);
  Result<ServableHandle> v2_get = repo->Get("fraud", 2);
  EXPECT_EQ(v2_get.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(v2_get.status().message(), "load failed"));
  EXPECT_EQ(repo->stats().load_failures, 1u);
  // Unchanged files are not retried.
  ASSERT_TRUE(repo->Poll().ok());
  EXPECT_EQ(repo->stats().load_failures, 1u);
  // Fixed files are.
  WriteVersion(repo_, "fraud", 2, v2);
  ASSERT_TRUE(repo->Poll().ok());
  h = repo->Get("fraud");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ((*h)->version(), 2);
  ExpectMatchesXGBoost(**h, v2);
}

TEST_F(RepositoryTest, BadConfigKeepsServingAndIsReported) {
  TrainedModel v1 = TrainModel(kFeatures, 8, 1);
  WriteVersion(repo_, "fraud", 1, v1);
  repo_.WriteConfig("fraud", BasicConfig(kFeatures));
  auto repo = Open();
  nlohmann::json bad = BasicConfig(kFeatures);
  bad["dynamic_batching"] = {{"max_queue_delay_us", -5}};
  repo_.WriteConfig("fraud", bad);
  ASSERT_TRUE(repo->Poll().ok());
  ExpectMatchesXGBoost(**repo->Get("fraud"), v1);
  EXPECT_EQ(ReasonOf(*repo, "fraud", 0),
            repo_.path() +
                "/fraud/config.json: dynamic_batching.max_queue_delay_us: must be >= 0, got -5");
  EXPECT_FALSE((*repo->GetConfig("fraud"))->dynamic_batching.has_value());
  // A model whose only config is bad is listed, not served.
  WriteVersion(repo_, "risk", 1, v1);
  nlohmann::json unknown = BasicConfig(kFeatures);
  unknown["backend"] = "onnx";
  repo_.WriteConfig("risk", unknown);
  ASSERT_TRUE(repo->Poll().ok());
  Result<ServableHandle> risk = repo->Get("risk");
  EXPECT_EQ(risk.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(risk.status().message(), "config.json: backend: unknown backend 'onnx'"))
      << risk.status().message();
}

TEST_F(RepositoryTest, DeclaredDimsMustMatchModel) {
  WriteVersion(repo_, "fraud", 1, TrainModel(kFeatures, 8, 1));
  repo_.WriteConfig("fraud", BasicConfig(kFeatures + 1));
  auto repo = Open();
  std::string reason = ReasonOf(*repo, "fraud", 1);
  EXPECT_TRUE(Contains(reason, "fraud/config.json: inputs[0].dims: [7] does not match")) << reason;
  EXPECT_TRUE(Contains(reason, "of 6 values per row")) << reason;
  nlohmann::json c = BasicConfig(kFeatures);
  c["outputs"][0]["dims"] = {2};
  repo_.WriteConfig("fraud", c);
  ASSERT_TRUE(repo->Poll().ok());
  EXPECT_TRUE(Contains(ReasonOf(*repo, "fraud", 1), "outputs[0].dims: [2] does not match"));
  c["outputs"][0]["dims"] = {-1};
  repo_.WriteConfig("fraud", c);
  ASSERT_TRUE(repo->Poll().ok());
  EXPECT_EQ(StateOf(*repo, "fraud", 1), "READY");
}

TEST_F(RepositoryTest, ConfigChangeReloadsWithNewOutputKind) {
  TrainedModel v1 = TrainModel(kFeatures, 8, 1);
  WriteVersion(repo_, "fraud", 1, v1, "model.ubj");
  nlohmann::json c = BasicConfig(kFeatures);
  c["backend"] = "tree";
  repo_.WriteConfig("fraud", c);
  auto repo = Open();
  Result<ServableHandle> before = repo->Get("fraud");
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ((*before)->config().output_kind, OutputKind::kValue);
  c["output_kind"] = "margin";
  repo_.WriteConfig("fraud", c);
  ASSERT_TRUE(repo->Poll().ok());
  Result<ServableHandle> after = repo->Get("fraud");
  ASSERT_TRUE(after.ok());
  EXPECT_NE(before->get(), after->get());
  EXPECT_EQ((*after)->config().output_kind, OutputKind::kMargin);
  ExpectMatchesXGBoost(**after, v1, Kind::kMargin);
  EXPECT_EQ((*repo->GetConfig("fraud"))->output_kind, OutputKind::kMargin);
}

// Backend wiring: "lightgbm" and "tree" (auto-detected) load a LightGBM text
// model; the engine itself is checked against LightGBM in runtime/tree.
TEST_F(RepositoryTest, LightGBMBackendsByConfig) {
  std::ifstream in(std::string(HOTPATH_SOURCE_DIR) + "/runtime/tree/testdata/lightgbm_binary.txt");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(text.empty());
  auto direct = TreeModel::FromBytes(text, "lightgbm_binary.txt", {});
  ASSERT_TRUE(direct.ok());
  for (const char* backend : {"lightgbm", "tree"}) {
    repo_.WriteFile(std::string(backend) + "/1/model.txt", text);
    nlohmann::json c = BasicConfig(4);
    c["backend"] = backend;
    repo_.WriteConfig(backend, c);
  }
  auto repo = Open();
  std::vector<float> rows(40 * 4);
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<float>(i % 11) - 5.0f;
  const std::vector<float> want = EnginePredict(**direct, rows, 40, OutputKind::kValue);
  for (const char* backend : {"lightgbm", "tree"}) {
    Result<ServableHandle> h = repo->Get(backend);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    EXPECT_EQ(EnginePredict((*h)->model(), rows, 40, OutputKind::kValue), want) << backend;
  }
  // The xgboost backend does not guess: it looks for model.json / model.ubj only.
  nlohmann::json c = BasicConfig(4);
  repo_.WriteConfig("lightgbm", c);
  ASSERT_TRUE(repo->Poll().ok());
  EXPECT_TRUE(Contains(ReasonOf(*repo, "lightgbm", 1), "looked for model.json, model.ubj"))
      << ReasonOf(*repo, "lightgbm", 1);
  EXPECT_EQ(StateOf(*repo, "lightgbm", 1), "READY");  // the previous load serves on
}

TEST_F(RepositoryTest, PollFailsWhenRepositoryFolderIsGone) {
  auto repo = Open();
  std::filesystem::remove_all(repo_.path());
  Status st = repo->Poll();
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_TRUE(Logged("repository: poll failed: NOT_FOUND"));
}

// Forwards to a tree model and lets a test watch, hold or fail its Predict calls.
struct Probe {
  std::mutex mu;
  std::vector<size_t> batches;
  std::promise<void> entered;
  std::shared_future<void> gate;  // when valid, the first Predict waits on it
  bool entered_set = false;
  std::string fail_dir_suffix;    // Predict fails for the version in this folder
};

class ProbedModel final : public Model {
 public:
  ProbedModel(std::unique_ptr<Model> inner, std::shared_ptr<Probe> probe, bool fail)
      : inner_(std::move(inner)), probe_(std::move(probe)), fail_(fail) {}
  const ModelSignature& signature() const override { return inner_->signature(); }
  int64_t num_features() const override { return inner_->num_features(); }
  int64_t OutputWidth(OutputKind kind) const override { return inner_->OutputWidth(kind); }
  size_t MemoryBytes() const override { return inner_->MemoryBytes(); }
  Status Predict(const float* x, size_t rows, OutputKind kind, float* out) const override {
    std::shared_future<void> gate;
    {
      std::lock_guard<std::mutex> lock(probe_->mu);
      probe_->batches.push_back(rows);
      if (!probe_->entered_set) {
        probe_->entered_set = true;
        probe_->entered.set_value();
        gate = probe_->gate;
      }
    }
    if (gate.valid()) gate.wait();
    if (fail_) return InternalError("probe failure");
    return inner_->Predict(x, rows, kind, out);
  }

 private:
  std::unique_ptr<Model> inner_;
  std::shared_ptr<Probe> probe_;
  bool fail_;
};

std::shared_ptr<const BackendRegistry> ProbedRegistry(std::shared_ptr<Probe> probe) {
  auto registry = std::make_shared<BackendRegistry>(BackendRegistry::WithBuiltins());
  const BackendFactory xgb = **registry->Find("xgboost");
  Status st = registry->Register(
      "probed", [xgb, probe](const BackendLoadRequest& r) -> Result<std::unique_ptr<Model>> {
        ASSIGN_OR_RETURN(std::unique_ptr<Model> inner, xgb(r));
        const std::string& sfx = probe->fail_dir_suffix;
        bool fail = !sfx.empty() && r.version_dir.size() >= sfx.size() &&
                    r.version_dir.compare(r.version_dir.size() - sfx.size(), sfx.size(), sfx) == 0;
        return std::unique_ptr<Model>(std::make_unique<ProbedModel>(std::move(inner), probe, fail));
      });
  EXPECT_TRUE(st.ok());
  return registry;
}

TEST_F(RepositoryTest, WarmupRunsBeforeReady) {
  auto probe = std::make_shared<Probe>();
  std::promise<void> release;
  probe->gate = release.get_future().share();
  auto repo = Open(ModelRepository::Mode::kPoll, 0, ProbedRegistry(probe));
  TrainedModel v1 = TrainModel(kFeatures, 8, 1);
  WriteVersion(repo_, "fraud", 1, v1);
  nlohmann::json c = BasicConfig(kFeatures);
  c["backend"] = "probed";
  c["warmup"] = {{"batch_sizes", {1, 4, 16}}, {"random_rows", 3}};
  repo_.WriteConfig("fraud", c);
  Status poll_status;
  std::thread poller([&] { poll_status = repo->Poll(); });
  probe->entered.get_future().wait();  // the first warm-up batch is running
  EXPECT_EQ(StateOf(*repo, "fraud", 1), "LOADING");
  Result<ServableHandle> early = repo->Get("fraud");
  EXPECT_EQ(early.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(early.status().message(), "loading")) << early.status().message();
  release.set_value();
  poller.join();
  ASSERT_TRUE(poll_status.ok());
  {
    std::lock_guard<std::mutex> lock(probe->mu);
    EXPECT_EQ(probe->batches, std::vector<size_t>({1, 4, 16}));
  }
  ExpectMatchesXGBoost(**repo->Get("fraud"), v1);
}

TEST_F(RepositoryTest, ParseAndWarmupRunOnlyWhenTheCpuIsIdle) {
  // The backend reports the scheduling policy of the thread that loads it.
  auto registry = std::make_shared<BackendRegistry>(BackendRegistry::WithBuiltins());
  const BackendFactory xgb = **registry->Find("xgboost");
  auto policy = std::make_shared<std::atomic<int>>(-1);
  ASSERT_TRUE(registry
                  ->Register("policy",
                             [xgb, policy](const BackendLoadRequest& r) {
                               policy->store(sched_getscheduler(0));
                               return xgb(r);
                             })
                  .ok());
  auto repo = Open(ModelRepository::Mode::kPoll, 0, registry);
  TrainedModel v1 = TrainModel(kFeatures, 8, 1);
  WriteVersion(repo_, "fraud", 1, v1);
  nlohmann::json c = BasicConfig(kFeatures);
  c["backend"] = "policy";
  repo_.WriteConfig("fraud", c);
  ASSERT_TRUE(repo->Poll().ok());
  EXPECT_EQ(policy->load(), SCHED_IDLE);
  EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER);  // the polling thread keeps its priority
  ExpectMatchesXGBoost(**repo->Get("fraud"), v1);
}

TEST_F(RepositoryTest, WarmupFailureLeavesOldServing) {
  auto probe = std::make_shared<Probe>();
  probe->fail_dir_suffix = "/2";
  TrainedModel v1 = TrainModel(kFeatures, 8, 1);
  WriteVersion(repo_, "fraud", 1, v1);
  nlohmann::json c = BasicConfig(kFeatures);
  c["backend"] = "probed";
  repo_.WriteConfig("fraud", c);
  auto repo = Open(ModelRepository::Mode::kPoll, 0, ProbedRegistry(probe));
  WriteVersion(repo_, "fraud", 2, TrainModel(kFeatures, 9, 2));
  ASSERT_TRUE(repo->Poll().ok());
  ExpectMatchesXGBoost(**repo->Get("fraud"), v1);
  EXPECT_TRUE(Contains(ReasonOf(*repo, "fraud", 2),
                       "fraud/2: warm-up batch of 1 rows failed: probe failure"))
      << ReasonOf(*repo, "fraud", 2);
  EXPECT_TRUE(Logged("model 'fraud' version 2 load failed"));
}

TEST_F(RepositoryTest, WarmupRowsFile) {
  TrainedModel v1 = TrainModel(kFeatures, 8, 1);
  WriteVersion(repo_, "fraud", 1, v1);
  nlohmann::json c = BasicConfig(kFeatures);
  c["warmup"] = {{"batch_sizes", {2, 5}}, {"rows_file", "warmup/rows.json"}};
  repo_.WriteConfig("fraud", c);
  repo_.WriteFile("fraud/warmup/rows.json", "[[1, 2, 3, 4, 5, 6], [0, null, 1, 1, 1]]");
  auto repo = Open();
  EXPECT_TRUE(Contains(ReasonOf(*repo, "fraud", 1),
                       "fraud/warmup/rows.json: row 1: has 5 values, the model takes 6"))
      << ReasonOf(*repo, "fraud", 1);
  repo_.WriteFile("fraud/warmup/rows.json", "[[1, 2, 3, 4, 5, 6], [0, null, 1, 1, 1, 7]]");
  repo_.WriteFile("fraud/config.json", c.dump(2) + " ");  // a config change: the poll retries
  ASSERT_TRUE(repo->Poll().ok());
  EXPECT_EQ(StateOf(*repo, "fraud", 1), "READY") << ReasonOf(*repo, "fraud", 1);
}

TEST_F(RepositoryTest, InFlightHandleKeepsUnloadedVersionAlive) {
  TrainedModel v1 = TrainModel(kFeatures, 8, 1);
  WriteVersion(repo_, "fraud", 1, v1);
  repo_.WriteConfig("fraud", BasicConfig(kFeatures));
  auto repo = Open(ModelRepository::Mode::kExplicit);
  ASSERT_TRUE(repo->Load("fraud").ok());
  ServableHandle held = *repo->Get("fraud");
  std::weak_ptr<const ServableVersion> watch = held;
  std::shared_ptr<const Model> for_batcher = SharedModel(held);
  const size_t bytes = held->memory_bytes();
  ASSERT_TRUE(repo->Unload("fraud").ok());
  Result<ServableHandle> after = repo->Get("fraud");
  EXPECT_EQ(after.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(after.status().message(), "unloaded"));
  EXPECT_EQ(repo->stats().memory_bytes, bytes);  // still held, still counted
  ExpectMatchesXGBoost(*held, v1);
  held.reset();
  EXPECT_FALSE(watch.expired());  // the batcher's aliasing pointer keeps it
  EXPECT_EQ(EnginePredict(*for_batcher, v1.rows, v1.num_rows, OutputKind::kValue),
            XGBoostPredict(v1, Kind::kValue));
  for_batcher.reset();
  EXPECT_TRUE(watch.expired());
  EXPECT_EQ(repo->stats().memory_bytes, 0u);
}

TEST_F(RepositoryTest, ExplicitLoadUnloadAndIndex) {
  TrainedModel m = TrainModel(kFeatures, 8, 1);
  for (const char* name : {"a", "b"}) {
    WriteVersion(repo_, name, 1, m);
    repo_.WriteConfig(name, BasicConfig(kFeatures));
  }
  ModelRepository::Options o;
  o.path = repo_.path();
  o.mode = ModelRepository::Mode::kExplicit;
  o.startup_models = {"a"};
  o.log = [](std::string_view) {};
  auto repo = std::move(ModelRepository::Create(o)).value();
  EXPECT_EQ(StateOf(*repo, "a", 1), "READY");
  EXPECT_EQ(StateOf(*repo, "b", 0), "UNAVAILABLE");
  EXPECT_EQ(ReasonOf(*repo, "b", 0), "not loaded");
  EXPECT_EQ(repo->Get("b").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(repo->Load("b").ok());
  ExpectMatchesXGBoost(**repo->Get("b"), m);
  ASSERT_TRUE(repo->Unload("b").ok());
  EXPECT_EQ(StateOf(*repo, "b", 1), "UNAVAILABLE");
  ASSERT_TRUE(repo->Load("b").ok());
  EXPECT_EQ(StateOf(*repo, "b", 1), "READY");
  EXPECT_EQ(repo->Load("nope").code(), StatusCode::kNotFound);
  EXPECT_EQ(repo->Unload("nope").code(), StatusCode::kNotFound);
  EXPECT_EQ(repo->Poll().code(), StatusCode::kFailedPrecondition);
  repo_.WriteFile("a/2/model.json", "not a model");
  Status bad = repo->Load("a");
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument) << bad.ToString();
  EXPECT_EQ((*repo->Get("a"))->version(), 1);  // the previous version serves on

  auto poll_repo = Open();
  EXPECT_EQ(poll_repo->Load("a").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(poll_repo->Unload("a").code(), StatusCode::kFailedPrecondition);
  o.startup_models = {"missing"};
  EXPECT_EQ(ModelRepository::Create(o).status().code(), StatusCode::kNotFound);
  o.path = repo_.path() + "/none";
  EXPECT_EQ(ModelRepository::Create(o).status().code(), StatusCode::kNotFound);
}

class BudgetTest : public RepositoryTest {
 protected:
  void SetUp() override {
    for (int i = 0; i < 3; ++i) {
      models_.push_back(TrainModel(kFeatures, 6 + 4 * i, 10 + i));
      const std::string name(1, static_cast<char>('a' + i));
      WriteVersion(repo_, name, 1, models_.back());
      repo_.WriteConfig(name, BasicConfig(kFeatures));
      auto tree = TreeModel::Load(repo_.ModelDir(name) + "/1/model.json", {});
      ASSERT_TRUE(tree.ok());
      bytes_.push_back((*tree)->MemoryBytes());
    }
  }
  std::vector<TrainedModel> models_;
  std::vector<size_t> bytes_;  // as the tree engine reports them
};

TEST_F(BudgetTest, EvictsLeastRecentlyUsedIdleModel) {
  const size_t budget = bytes_[0] + bytes_[1] + bytes_[2] - 1;
  auto repo = Open(ModelRepository::Mode::kExplicit, budget);
  ASSERT_TRUE(repo->Load("a").ok());
  ASSERT_TRUE(repo->Load("b").ok());
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(repo->Get("a").ok());  // b is now the least recently used
  ASSERT_TRUE(repo->Load("c").ok());
  EXPECT_EQ(StateOf(*repo, "a", 1), "READY");
  EXPECT_EQ(StateOf(*repo, "b", 1), "UNAVAILABLE");
  EXPECT_EQ(StateOf(*repo, "c", 1), "READY");
  Result<ServableHandle> b = repo->Get("b");
  EXPECT_EQ(b.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(b.status().message(), "evicted to fit the memory budget"));
  EXPECT_TRUE(Logged("evicted model 'b' version 1"));
  ModelRepository::Stats s = repo->stats();
  EXPECT_EQ(s.evictions, 1u);
  EXPECT_EQ(s.memory_bytes, bytes_[0] + bytes_[2]);
  EXPECT_EQ(s.memory_budget_bytes, budget);
  ExpectMatchesXGBoost(**repo->Get("c"), models_[2]);
}

TEST_F(BudgetTest, NeverEvictsInFlight) {
  const size_t budget = bytes_[0] + bytes_[1] + bytes_[2] - 1;
  auto repo = Open(ModelRepository::Mode::kExplicit, budget);
  ASSERT_TRUE(repo->Load("a").ok());
  ASSERT_TRUE(repo->Load("b").ok());
  ServableHandle a = *repo->Get("a");  // a: least recently used, but in flight
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(repo->Get("b").ok());
  ASSERT_TRUE(repo->Load("c").ok());
  EXPECT_EQ(StateOf(*repo, "a", 1), "READY");
  EXPECT_EQ(StateOf(*repo, "b", 1), "UNAVAILABLE");
  ExpectMatchesXGBoost(*a, models_[0]);
  // Everything in flight: the load fails, naming the budget, and nothing changes.
  ServableHandle c = *repo->Get("c");
  Status st = repo->Load("b");
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(Contains(st.message(), "memory budget of " + std::to_string(budget) + " bytes"))
      << st.message();
  EXPECT_TRUE(Contains(ReasonOf(*repo, "b", 1), "RESOURCE_EXHAUSTED"));
  EXPECT_EQ(repo->stats().evictions, 1u);
  EXPECT_EQ(StateOf(*repo, "a", 1), "READY");
  EXPECT_EQ(StateOf(*repo, "c", 1), "READY");
  // Once c is released, loading b evicts it (a is still held).
  c.reset();
  ASSERT_TRUE(repo->Load("b").ok());
  EXPECT_EQ(StateOf(*repo, "c", 1), "UNAVAILABLE");
  EXPECT_EQ(StateOf(*repo, "a", 1), "READY");
}

TEST_F(BudgetTest, PollDoesNotThrashEvictedModels) {
  repo_.Remove("c");
  const size_t budget = bytes_[0] + bytes_[1] + bytes_[2] - 1;
  auto repo = Open(ModelRepository::Mode::kPoll, budget);
  ASSERT_EQ(repo->stats().ready_versions, 2u);
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(repo->Get("b").ok());  // a is the least recently used
  WriteVersion(repo_, "c", 1, models_[2]);
  repo_.WriteConfig("c", BasicConfig(kFeatures));
  ASSERT_TRUE(repo->Poll().ok());
  EXPECT_EQ(StateOf(*repo, "a", 1), "UNAVAILABLE");
  ASSERT_TRUE(repo->Poll().ok());  // a does not fit without evicting: it stays out
  EXPECT_EQ(repo->stats().evictions, 1u);
  EXPECT_EQ(StateOf(*repo, "a", 1), "UNAVAILABLE");
  repo_.Remove("c");
  ASSERT_TRUE(repo->Poll().ok());  // room again: a comes back
  ExpectMatchesXGBoost(**repo->Get("a"), models_[0]);
  EXPECT_EQ(repo->stats().evictions, 1u);
}

TEST_F(BudgetTest, RefusedLoadIsRetriedByLaterPoll) {
  repo_.Remove("c");
  const size_t budget = bytes_[0] + bytes_[1] + bytes_[2] - 1;
  auto repo = Open(ModelRepository::Mode::kPoll, budget);
  ServableHandle a = *repo->Get("a"), b = *repo->Get("b");  // both in flight
  WriteVersion(repo_, "c", 1, models_[2]);
  repo_.WriteConfig("c", BasicConfig(kFeatures));
  ASSERT_TRUE(repo->Poll().ok());
  EXPECT_TRUE(Contains(ReasonOf(*repo, "c", 1), "RESOURCE_EXHAUSTED: memory budget of"))
      << ReasonOf(*repo, "c", 1);
  EXPECT_TRUE(Logged("model 'c' version 1 load failed: RESOURCE_EXHAUSTED"));
  b.reset();
  ASSERT_TRUE(repo->Poll().ok());
  ExpectMatchesXGBoost(**repo->Get("c"), models_[2]);
  EXPECT_EQ(StateOf(*repo, "b", 1), "UNAVAILABLE");
  ExpectMatchesXGBoost(*a, models_[0]);
}

// Checks Get + Predict against XGBoost's outputs (want[version]) until `done`.
struct Reader {
  ModelRepository* repo;
  const TrainedModel* rows;
  const std::vector<std::vector<float>>* want;
  std::atomic<bool> done{false};
  std::atomic<int> checks{0}, mismatches{0};

  void Run() {
    std::vector<float> out(rows->num_rows);
    while (!done.load() || checks.load() < 50) {
      Result<ServableHandle> h = repo->Get("fraud");
      Status st = h.ok() ? (*h)->model().Predict(rows->rows.data(), rows->num_rows,
                                                 OutputKind::kValue, out.data())
                         : h.status();
      const std::vector<float>& w = (*want)[h.ok() ? (*h)->version() : 0];
      bool same = st.ok() && w.size() == out.size();
      for (size_t i = 0; same && i < out.size(); ++i) same = std::abs(out[i] - w[i]) <= 1e-6f;
      if (!same) mismatches.fetch_add(1);
      checks.fetch_add(1);
    }
  }
};

TEST_F(RepositoryTest, ConcurrentGetDuringPoll) {
  std::vector<TrainedModel> versions;
  for (int v = 1; v <= 5; ++v) versions.push_back(TrainModel(kFeatures, 5 + v, 20 + v));
  std::vector<std::vector<float>> want(1);  // want[v]: XGBoost's outputs of version v
  for (TrainedModel& m : versions) {
    auto p = m.booster->Predict(versions[0].rows.data(), versions[0].num_rows, kFeatures,
                                Kind::kValue);
    ASSERT_TRUE(p.ok());
    want.push_back(*p);
  }
  nlohmann::json c = BasicConfig(kFeatures);
  c["version_policy"] = {{"latest", {{"num_versions", 2}}}};
  WriteVersion(repo_, "fraud", 1, versions[0]);
  repo_.WriteConfig("fraud", c);
  auto repo = Open();
  Reader reader{repo.get(), &versions[0], &want};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) threads.emplace_back([&] { reader.Run(); });
  for (int v = 2; v <= 5; ++v) {
    WriteVersion(repo_, "fraud", v, versions[v - 1]);
    EXPECT_TRUE(repo->Poll().ok());  // no ASSERT: the readers must be joined
    Result<ServableHandle> h = repo->Get("fraud");
    EXPECT_TRUE(h.ok() && (*h)->version() == v);
  }
  reader.done.store(true);
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(reader.mismatches.load(), 0);
  EXPECT_GE(reader.checks.load(), 50);
  EXPECT_EQ(repo->stats().unloads, 3u);
}

TEST_F(RepositoryTest, BackgroundPollerPicksUpNewVersion) {
  TrainedModel v1 = TrainModel(kFeatures, 8, 1), v2 = TrainModel(kFeatures, 9, 2);
  WriteVersion(repo_, "fraud", 1, v1);
  repo_.WriteConfig("fraud", BasicConfig(kFeatures));
  ModelRepository::Options o;
  o.path = repo_.path();
  o.poll_interval = std::chrono::milliseconds(2);
  o.log = [](std::string_view) {};
  auto repo = std::move(ModelRepository::Create(o)).value();
  WriteVersion(repo_, "fraud", 2, v2);
  // Waits for the poller's event (bounded), not for a fixed time.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((*repo->Get("fraud"))->version() != 2 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
  Result<ServableHandle> h = repo->Get("fraud");
  ASSERT_EQ((*h)->version(), 2);
  ExpectMatchesXGBoost(**h, v2);
  o.mode = ModelRepository::Mode::kExplicit;
  EXPECT_EQ(ModelRepository::Create(o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hotpath
