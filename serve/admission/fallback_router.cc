#include "serve/admission/fallback_router.h"

#include <utility>

namespace hotpath {

Result<std::unique_ptr<FallbackRouter>> FallbackRouter::Create(
    const Options& options, const Clock& clock,
    const CircuitBreaker::TransitionCallback& on_transition) {
  std::unique_ptr<FallbackRouter> router(new FallbackRouter());
  for (const Model& m : options.models) {
    CircuitBreaker::Options b = options.breaker;
    b.name = m.name;
    ASSIGN_OR_RETURN(auto breaker, CircuitBreaker::Create(b, clock, on_transition));
    if (!router->entries_.emplace(m.name, Entry{std::move(breaker), nullptr}).second) {
      return InvalidArgumentError("models: '" + m.name + "' is listed twice");
    }
  }
  for (const Model& m : options.models) {
    if (m.fallback.empty()) continue;
    auto it = router->entries_.find(m.fallback);
    if (it == router->entries_.end() || m.fallback == m.name) {
      return InvalidArgumentError("models: fallback of '" + m.name + "' must be another listed " +
                                  "model, got '" + m.fallback + "'");
    }
    router->entries_.find(m.name)->second.fallback = it->second.breaker.get();
  }
  return router;
}

Result<FallbackRouter::Route> FallbackRouter::RouteCall(std::string_view model) {
  auto it = entries_.find(model);
  if (it == entries_.end()) return NotFoundError("unknown model '" + std::string(model) + "'");
  Entry& e = it->second;
  Result<CircuitBreaker::Ticket> primary = e.breaker->Allow();
  if (primary.ok()) return Route{e.breaker.get(), *primary, false};
  if (e.fallback == nullptr) return primary.status();
  Result<CircuitBreaker::Ticket> fallback = e.fallback->Allow();
  if (fallback.ok()) return Route{e.fallback, *fallback, true};
  return UnavailableError(primary.status().message() + "; fallback " + fallback.status().message());
}

void FallbackRouter::Record(const Route& route, bool ok) {
  route.breaker->Record(route.ticket, ok);
}

const CircuitBreaker* FallbackRouter::breaker(std::string_view model) const {
  auto it = entries_.find(model);
  return it == entries_.end() ? nullptr : it->second.breaker.get();
}

}  // namespace hotpath
