// FallbackRouter: picks which model serves a request, given one circuit
// breaker per model: the requested model while its breaker admits calls, else
// its configured fallback model, else nothing (fail fast with 503).
//
// Routing rule for a request to model m:
//   1. m's breaker allows the call        -> call m.
//   2. else m has a fallback f and f's breaker allows the call -> call f.
//   3. else UNAVAILABLE naming m and why its breaker refused (and f's, if any).
// Fallbacks are one hop: f's own fallback is not followed.
//
// Thread-safety: Route and Record may be called from any thread. The model
// set is fixed at Create; the front builds a new router when the repository's
// model set changes.
#ifndef HOTPATH_SERVE_ADMISSION_FALLBACK_ROUTER_H_
#define HOTPATH_SERVE_ADMISSION_FALLBACK_ROUTER_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "serve/admission/circuit_breaker.h"

namespace hotpath {

class FallbackRouter {
 public:
  struct Model {
    std::string name;      // required, unique
    std::string fallback;  // empty = none; else another listed model
  };
  struct Options {
    // Breaker settings shared by every model (`name` is replaced by the model's).
    CircuitBreaker::Options breaker;
    std::vector<Model> models;
  };

  // Where a request goes, and the ticket to report its outcome with.
  struct Route {
    CircuitBreaker* breaker = nullptr;  // owned by the router
    CircuitBreaker::Ticket ticket;
    bool fallback = false;  // true when rule 2 applied
    const std::string& model() const { return breaker->name(); }
  };

  // Validates `options` (INVALID_ARGUMENT naming the model or breaker field;
  // a fallback must name another listed model). `clock` must outlive the
  // router; `on_transition` receives every breaker's transitions.
  static Result<std::unique_ptr<FallbackRouter>> Create(
      const Options& options, const Clock& clock = RealClock(),
      const CircuitBreaker::TransitionCallback& on_transition = {});

  // Applies the routing rule. NOT_FOUND for a model not in the options.
  // On OK the caller calls route.model() and then Record(route, ok).
  Result<Route> RouteCall(std::string_view model);
  // Reports the outcome of a routed call to the breaker it went through.
  void Record(const Route& route, bool ok);

  // The breaker of `model`, or null when it is not listed. For metrics.
  const CircuitBreaker* breaker(std::string_view model) const;

 private:
  struct Entry {
    std::unique_ptr<CircuitBreaker> breaker;
    CircuitBreaker* fallback = nullptr;
  };
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  FallbackRouter() = default;

  std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>> entries_;  // fixed after Create
};

}  // namespace hotpath

#endif  // HOTPATH_SERVE_ADMISSION_FALLBACK_ROUTER_H_
