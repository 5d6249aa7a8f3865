// FallbackRouter: picks which model serves a request, with one circuit
// breaker per model: the requested model while its breaker admits calls, else
// its fallback model, else nothing (fail fast with 503).
//
// Routing rule for a request to model m with policy p (read from m's config):
//   1. p disables the breaker, or m's breaker allows the call -> call m.
//   2. else p names a fallback f and f's breaker allows it    -> call f.
//   3. else UNAVAILABLE naming m and why its breaker refused (and f's, if any).
// Fallbacks are one hop: f's own fallback is not followed.
//
// The model set is dynamic: a model's breaker is created the first time it is
// routed, and replaced (closed, empty window) when its policy's breaker
// settings change, e.g. a new version's config. The caller passes the
// requested model's policy (it holds the config already); a fallback's
// policy comes from the PolicyLookup given at Create, asked only when the
// fallback is needed. Breakers of models no longer served stay (one small
// object per model name ever served).
//
// Thread-safety: every method may be called from any thread.
#ifndef HOTPATH_SERVE_ADMISSION_FALLBACK_ROUTER_H_
#define HOTPATH_SERVE_ADMISSION_FALLBACK_ROUTER_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/thread_annotations.h"
#include "serve/admission/circuit_breaker.h"

namespace hotpath {

class FallbackRouter {
 public:
  // A model's breaker settings and fallback, as its config says now.
  struct Policy {
    bool breaker_enabled = true;      // false: calls always go to the model
    CircuitBreaker::Options breaker;  // `name` is replaced by the model's
    std::string fallback;             // empty = none; never the model itself
  };
  // The current policy of a served model; an error when it is not served.
  using PolicyLookup = std::function<Result<Policy>(std::string_view model)>;

  // Where a request goes, and the ticket to report its outcome with.
  struct Route {
    std::shared_ptr<CircuitBreaker> breaker;  // null when the breaker is disabled
    CircuitBreaker::Ticket ticket;
    bool fallback = false;  // true when rule 2 applied: call policy.fallback
  };

  // `clock` must outlive the router; `on_transition` receives every
  // breaker's transitions.
  explicit FallbackRouter(PolicyLookup lookup, const Clock& clock = RealClock(),
                          CircuitBreaker::TransitionCallback on_transition = {});
  FallbackRouter(const FallbackRouter&) = delete;
  FallbackRouter& operator=(const FallbackRouter&) = delete;

  // Applies the routing rule to `model`, whose current policy is `policy`.
  // INVALID_ARGUMENT for bad breaker settings (naming the field) or a
  // fallback equal to the model. On OK the caller calls the chosen model and
  // then Record(route, ok).
  Result<Route> RouteCall(std::string_view model, const Policy& policy) EXCLUDES(mu_);
  // Reports the outcome of a routed call to the breaker it went through.
  static void Record(const Route& route, bool ok);

  // The breaker of `model`, or null when it was never routed. For tests and
  // metrics.
  std::shared_ptr<const CircuitBreaker> breaker(std::string_view model) const EXCLUDES(mu_);

 private:
  struct Entry {
    CircuitBreaker::Options options;  // as the policy gave them (name unset)
    std::shared_ptr<CircuitBreaker> breaker;
  };
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  // `model`'s breaker under `policy`, created or replaced as needed.
  Result<std::shared_ptr<CircuitBreaker>> BreakerFor(std::string_view model, const Policy& policy)
      EXCLUDES(mu_);

  const PolicyLookup lookup_;
  const Clock& clock_;
  const CircuitBreaker::TransitionCallback on_transition_;

  mutable Mutex mu_;
  std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>> entries_ GUARDED_BY(mu_);
};

}  // namespace hotpath

#endif  // HOTPATH_SERVE_ADMISSION_FALLBACK_ROUTER_H_
