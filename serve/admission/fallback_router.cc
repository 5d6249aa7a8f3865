#include "serve/admission/fallback_router.h"

#include <utility>

namespace hotpath {

FallbackRouter::FallbackRouter(PolicyLookup lookup, const Clock& clock,
                               CircuitBreaker::TransitionCallback on_transition)
    : lookup_(std::move(lookup)), clock_(clock), on_transition_(std::move(on_transition)) {}

Result<std::shared_ptr<CircuitBreaker>> FallbackRouter::BreakerFor(std::string_view model,
                                                                   const Policy& policy) {
  if (!policy.breaker_enabled) return std::shared_ptr<CircuitBreaker>();
  MutexLock l(&mu_);
  auto it = entries_.find(model);
  // The common case, once per call: no copy, no allocation.
  if (it != entries_.end() && it->second.options == policy.breaker) return it->second.breaker;
  CircuitBreaker::Options named = policy.breaker;
  named.name = std::string(model);
  ASSIGN_OR_RETURN(std::unique_ptr<CircuitBreaker> b, CircuitBreaker::Create(named, clock_, on_transition_));
  std::shared_ptr<CircuitBreaker> shared = std::move(b);
  if (it == entries_.end()) {
    entries_.emplace(std::string(model), Entry{policy.breaker, shared});
  } else {
    it->second = Entry{policy.breaker, shared};  // in-flight routes keep the old one
  }
  return shared;
}

Result<FallbackRouter::Route> FallbackRouter::RouteCall(std::string_view model, const Policy& policy) {
  if (policy.fallback == model) {
    return InvalidArgumentError("fallback of '" + std::string(model) + "' must be another model");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<CircuitBreaker> primary, BreakerFor(model, policy));
  if (primary == nullptr) return Route{};
  Result<CircuitBreaker::Ticket> ticket = primary->Allow();
  if (ticket.ok()) return Route{std::move(primary), *ticket, false};
  if (policy.fallback.empty()) return ticket.status();
  Result<Policy> fallback_policy = lookup_(policy.fallback);
  if (!fallback_policy.ok()) {
    return UnavailableError(ticket.status().message() + "; fallback model '" + policy.fallback +
                            "' unavailable: " + fallback_policy.status().message());
  }
  ASSIGN_OR_RETURN(std::shared_ptr<CircuitBreaker> fallback, BreakerFor(policy.fallback, *fallback_policy));
  if (fallback == nullptr) return Route{nullptr, {}, true};
  Result<CircuitBreaker::Ticket> fallback_ticket = fallback->Allow();
  if (fallback_ticket.ok()) return Route{std::move(fallback), *fallback_ticket, true};
  return UnavailableError(ticket.status().message() + "; fallback " + fallback_ticket.status().message());
}

void FallbackRouter::Record(const Route& route, bool ok) {
  if (route.breaker != nullptr) route.breaker->Record(route.ticket, ok);
}

std::shared_ptr<const CircuitBreaker> FallbackRouter::breaker(std::string_view model) const {
  MutexLock l(&mu_);
  auto it = entries_.find(model);
  return it == entries_.end() ? nullptr : it->second.breaker;
}

}  // namespace hotpath
