#include "serve/models/repository_service.h"

#include <algorithm>
#include <charconv>

#include "runtime/repository/servable_version.h"

namespace hotpath {
namespace {

Result<int64_t> ParseVersion(std::string_view v) {
  if (v.empty()) return int64_t{0};
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || ptr != v.data() + v.size() || out < 1) {
    return InvalidArgumentError("model_version '" + std::string(v) + "' is not a positive integer");
  }
  return out;
}

DynamicBatcher::Options BatcherOptions(const ServableVersion& v) {
  const ModelConfig& c = v.config();
  DynamicBatcher::Options o;
  o.model_name = c.name;
  o.model_version = std::to_string(v.version());
  o.output_kind = c.output_kind;
  o.max_batch_size = c.max_batch_size;
  o.instance_count = c.instance_count;
  if (c.dynamic_batching) {
    const DynamicBatchingConfig& b = *c.dynamic_batching;
    o.max_queue_delay_us = b.max_queue_delay_us;
    o.preferred_batch_sizes = b.preferred_batch_sizes;
    o.priority_levels = b.priority_levels;
    o.default_priority = b.default_priority_level;
    o.default_timeout_us = b.default_timeout_us;
    o.max_queue_size = b.max_queue_size;
    o.priority_aging_us = b.priority_aging_us;
    o.adaptive_p99_target_us = b.adaptive_p99_target_us;
  } else {
    o.max_queue_delay_us = 0;  // no dynamic batching: run each request as it comes
  }
  return o;
}

// A model fault, as opposed to an overload refusal or a client error.
bool IsModelFault(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kResourceExhausted:
    case StatusCode::kCancelled:
    case StatusCode::kInvalidArgument:
      return false;
    default:
      return true;
  }
}

double StateValue(CircuitBreaker::State s) {
  switch (s) {
    case CircuitBreaker::State::kClosed:
      return 0;
    case CircuitBreaker::State::kOpen:
      return 1;
    case CircuitBreaker::State::kHalfOpen:
      return 2;
  }
  return 0;
}

}  // namespace

FallbackRouter::Policy RepositoryService::PolicyOf(const ModelConfig& c) {
  const CircuitBreakerConfig& b = c.circuit_breaker;
  FallbackRouter::Policy p;
  p.breaker_enabled = b.enabled;
  p.breaker.failure_rate_threshold = b.failure_rate_threshold;
  p.breaker.slow_call_rate_threshold = b.slow_call_rate_threshold;
  p.breaker.slow_call_duration = std::chrono::microseconds(b.slow_call_duration_us);
  p.breaker.window_size = b.window_size;
  p.breaker.minimum_calls = b.minimum_calls;
  p.breaker.open_duration = std::chrono::milliseconds(b.open_duration_ms);
  p.breaker.half_open_calls = b.half_open_calls;
  p.fallback = c.fallback_model;
  return p;
}

Result<std::unique_ptr<RepositoryService>> RepositoryService::Create(const Options& options) {
  if (options.repository == nullptr || options.metrics == nullptr || options.clock == nullptr) {
    return InvalidArgumentError("RepositoryService needs a repository, a metrics registry and a clock");
  }
  Instruments in;
  ASSIGN_OR_RETURN(in.breaker_state,
                   options.metrics->AddGauge({"hotpath_circuit_breaker_state",
                                              "Model circuit breaker state: 0 closed, 1 open, 2 half-open",
                                              {"model"}}));
  ASSIGN_OR_RETURN(in.breaker_transitions,
                   options.metrics->AddCounter({"hotpath_circuit_breaker_transitions_total",
                                                "Model circuit breaker transitions, by the state entered",
                                                {"model", "to"}}));
  ASSIGN_OR_RETURN(in.fallbacks,
                   options.metrics->AddCounter({"hotpath_fallback_requests_total",
                                                "Requests served by the fallback model while the "
                                                "model's circuit breaker was open",
                                                {"model", "fallback"}}));
  return std::unique_ptr<RepositoryService>(new RepositoryService(options, in));
}

RepositoryService::RepositoryService(const Options& options, Instruments instruments)
    : options_(options),
      instruments_(instruments),
      router_(
          [repository = options.repository](std::string_view model) -> Result<FallbackRouter::Policy> {
            ASSIGN_OR_RETURN(ServableHandle h, repository->Get(model, 0));
            return PolicyOf(h->config());
          },
          *options.clock,
          [in = instruments](std::string_view model, CircuitBreaker::State, CircuitBreaker::State to,
                             const std::string&) {
            const std::string m(model);
            if (Result<Gauge*> g = in.breaker_state->WithLabels({m}); g.ok()) (*g)->Set(StateValue(to));
            Result<Counter*> c = in.breaker_transitions->WithLabels({m, std::string(CircuitStateName(to))});
            if (c.ok()) (*c)->Increment();
          }) {}

RepositoryService::~RepositoryService() {
  std::map<Key, std::shared_ptr<DynamicBatcher>> batchers;
  {
    MutexLock l(&mu_);
    batchers.swap(batchers_);
  }
  for (auto& [key, b] : batchers) b->Shutdown(DynamicBatcher::ShutdownMode::kDrain);
}

bool RepositoryService::ServerReady() const {
  if (options_.required_models.empty()) {
    for (const IndexEntry& e : options_.repository->Index()) {
      if (e.state == VersionState::kReady) return true;
    }
    return false;
  }
  for (const std::string& m : options_.required_models) {
    if (!options_.repository->Get(m).ok()) return false;
  }
  return true;
}

ServerMetadata RepositoryService::GetServerMetadata() const {
  return {options_.server_name, options_.server_version, {"binary_tensor_data", "model_repository"}};
}

Result<bool> RepositoryService::ModelReady(std::string_view name, std::string_view version) const {
  ASSIGN_OR_RETURN(int64_t v, ParseVersion(version));
  Result<ServableHandle> h = options_.repository->Get(name, v);
  if (h.ok()) return true;
  if (h.status().code() == StatusCode::kUnavailable) return false;
  return h.status();
}

Result<ModelMetadata> RepositoryService::GetModelMetadata(std::string_view name,
                                                          std::string_view version) const {
  ASSIGN_OR_RETURN(int64_t v, ParseVersion(version));
  ASSIGN_OR_RETURN(ServableHandle h, options_.repository->Get(name, v));
  const ModelConfig& c = h->config();
  ModelMetadata m;
  m.name = c.name;
  m.platform = c.backend;
  for (const IndexEntry& e : options_.repository->Index()) {
    if (e.name == c.name && e.version > 0 && e.state == VersionState::kReady) {
      m.versions.push_back(std::to_string(e.version));
    }
  }
  auto spec = [](const TensorConfig& t) {
    TensorSpec s{t.name, t.dtype, {-1}};
    s.shape.insert(s.shape.end(), t.dims.begin(), t.dims.end());
    return s;
  };
  for (const auto& t : c.inputs) m.inputs.push_back(spec(t));
  for (const auto& t : c.outputs) m.outputs.push_back(spec(t));
  return m;
}

Status RepositoryService::Validate(const ModelConfig& c, const InferRequest& r, size_t* rows) const {
  if (r.inputs.size() != 1) {
    return InvalidArgumentError("model '" + c.name + "' takes 1 input, got " + std::to_string(r.inputs.size()));
  }
  const InferTensor& in = r.inputs[0];
  const TensorConfig& want = c.inputs[0];
  if (in.name != want.name) {
    return InvalidArgumentError("unknown input '" + in.name + "', model '" + c.name + "' takes '" + want.name + "'");
  }
  if (in.dtype != DType::kFp32) {
    return InvalidArgumentError("input '" + in.name + "': datatype " + std::string(DTypeName(in.dtype)) +
                                ", model expects FP32");
  }
  const int64_t width = NumElements(want.dims);
  const bool single = in.shape.size() == 1 && in.shape[0] == width;
  if (!single && (in.shape.size() != 2 || in.shape[1] != width)) {
    return InvalidArgumentError("input '" + in.name + "': shape must be [rows, " + std::to_string(width) + "]");
  }
  *rows = single ? 1 : static_cast<size_t>(in.shape[0]);
  if (*rows < 1 || *rows > static_cast<size_t>(c.max_batch_size)) {
    return InvalidArgumentError("input '" + in.name + "': batch of " + std::to_string(*rows) +
                                " rows, model '" + c.name + "' takes 1 to " + std::to_string(c.max_batch_size));
  }
  for (const std::string& o : r.requested_outputs) {
    if (o != c.outputs[0].name) {
      return InvalidArgumentError("unknown output '" + o + "', model '" + c.name + "' has '" + c.outputs[0].name + "'");
    }
  }
  return OkStatus();
}

Result<std::shared_ptr<DynamicBatcher>> RepositoryService::BatcherFor(const ServableHandle& h) {
  const Key key{h->name(), h->version()};
  MutexLock l(&mu_);
  auto it = batchers_.find(key);
  if (it != batchers_.end()) return it->second;
  ASSIGN_OR_RETURN(std::unique_ptr<DynamicBatcher> b,
                   DynamicBatcher::Create(BatcherOptions(*h), SharedModel(h), *options_.metrics));
  std::shared_ptr<DynamicBatcher> shared = std::move(b);
  batchers_.emplace(key, shared);
  return shared;
}

Result<ServableHandle> RepositoryService::FallbackFor(const ModelConfig& config,
                                                     const InferRequest& request, size_t* rows) const {
  Result<ServableHandle> h = options_.repository->Get(config.fallback_model, 0);
  if (!h.ok()) {
    return UnavailableError("model '" + config.name + "' unavailable: circuit breaker open; fallback model '" +
                            config.fallback_model + "' unavailable: " + h.status().message());
  }
  if (Status s = Validate((*h)->config(), request, rows); !s.ok()) {
    return UnavailableError("model '" + config.name + "' unavailable: circuit breaker open; fallback model '" +
                            config.fallback_model + "' does not take this request: " + s.message());
  }
  if (Result<Counter*> c = instruments_.fallbacks->WithLabels({config.name, config.fallback_model}); c.ok()) {
    (*c)->Increment();
  }
  return h;
}

void RepositoryService::Infer(const InferRequest& request, InferResponse* response, InferDone done) {
  Result<int64_t> version = ParseVersion(request.model_version);
  if (!version.ok()) return done(version.status());
  Result<ServableHandle> h = options_.repository->Get(request.model_name, *version);
  if (!h.ok()) return done(h.status());
  size_t rows = 0;
  if (Status s = Validate((*h)->config(), request, &rows); !s.ok()) return done(s);
  Result<FallbackRouter::Route> route = router_.RouteCall((*h)->name(), PolicyOf((*h)->config()));
  if (!route.ok()) return done(route.status());
  if (route->fallback) {
    Result<ServableHandle> f = FallbackFor((*h)->config(), request, &rows);
    if (!f.ok()) {
      FallbackRouter::Record(*route, true);  // not the fallback's fault
      return done(f.status());
    }
    h = std::move(f);
  }
  const ModelConfig& c = (*h)->config();
  Result<std::shared_ptr<DynamicBatcher>> batcher = BatcherFor(*h);
  if (!batcher.ok()) {
    FallbackRouter::Record(*route, !IsModelFault(batcher.status()));
    return done(batcher.status());
  }
  const int64_t width = (*h)->model().OutputWidth(c.output_kind);
  response->model_name = c.name;
  response->model_version = std::to_string((*h)->version());
  response->outputs.resize(1);
  InferTensor& out = response->outputs[0];
  out.name = c.outputs[0].name;
  out.dtype = DType::kFp32;
  out.shape = {static_cast<int64_t>(rows), width};
  out.data.resize(rows * static_cast<size_t>(width) * sizeof(float));
  DynamicBatcher::Request r;
  r.x = request.inputs[0].as<float>();
  r.rows = rows;
  r.out = out.as<float>();
  r.priority = request.priority;
  if (request.timeout.count() > 0) r.deadline = Deadline::After(*options_.clock, request.timeout);
  // Submits `r` holding `held` (may be null), reporting to the permit and
  // the breaker when the request is answered.
  auto submit = [batcher = std::move(*batcher), r, route = *route](
                    std::shared_ptr<ConcurrencyLimiter::Permit> held, InferDone done) {
    if (held != nullptr || route.breaker != nullptr) {
      done = [held = std::move(held), route, inner = std::move(done)](Status s) {
        // Queue-full and deadline failures signal overload downstream.
        if (held != nullptr) {
          held->Release(s.code() != StatusCode::kUnavailable && s.code() != StatusCode::kDeadlineExceeded);
        }
        FallbackRouter::Record(route, !IsModelFault(s));
        inner(std::move(s));
      };
    }
    // On refusal the batcher never calls its copy of `done`; we answer here.
    if (Status s = batcher->Submit(r, done); !s.ok()) done(s);
  };
  if (options_.limiter == nullptr) return submit(nullptr, std::move(done));
  // The request's priority (1 highest; 0 = the default, treated as the lowest).
  const int levels = options_.limiter->priority_levels();
  options_.limiter->Acquire(
      request.priority == 0 ? levels : std::clamp(request.priority, 1, levels),
      [submit = std::move(submit), route = std::move(*route),
       done = std::move(done)](Result<ConcurrencyLimiter::Permit> permit) mutable {
        if (!permit.ok()) {
          FallbackRouter::Record(route, true);  // overload, not a model fault
          return done(permit.status());
        }
        submit(std::make_shared<ConcurrencyLimiter::Permit>(std::move(*permit)), std::move(done));
      });
}

Result<std::function<void(const Status&)>> RepositoryService::AdmitDirect(const ModelConfig& config) {
  FallbackRouter::Policy policy = PolicyOf(config);
  policy.fallback.clear();
  ASSIGN_OR_RETURN(FallbackRouter::Route route, router_.RouteCall(config.name, policy));
  return std::function<void(const Status&)>([route = std::move(route)](const Status& s) {
    FallbackRouter::Record(route, !IsModelFault(s) && s.code() != StatusCode::kDeadlineExceeded);
  });
}

Result<std::vector<RepositoryEntry>> RepositoryService::Index() const {
  std::vector<RepositoryEntry> out;
  for (const IndexEntry& e : options_.repository->Index()) {
    out.push_back({e.name, e.version > 0 ? std::to_string(e.version) : "", std::string(VersionStateName(e.state)),
                   e.reason});
  }
  return out;
}

Status RepositoryService::Load(const std::string& model) { return options_.repository->Load(model); }

Status RepositoryService::Unload(const std::string& model) {
  RETURN_IF_ERROR(options_.repository->Unload(model));
  Maintain();
  return OkStatus();
}

void RepositoryService::Maintain() {
  std::vector<std::shared_ptr<DynamicBatcher>> retired;
  {
    MutexLock l(&mu_);
    for (auto it = batchers_.begin(); it != batchers_.end();) {
      if (!options_.repository->Get(it->first.first, it->first.second).ok()) {
        retired.push_back(std::move(it->second));
        it = batchers_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& b : retired) b->Shutdown(DynamicBatcher::ShutdownMode::kDrain);
}

}  // namespace hotpath
