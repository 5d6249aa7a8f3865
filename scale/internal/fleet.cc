#include "scale/internal/fleet.h"

#include <algorithm>
#include <limits>

namespace hotpath::scale::internal {

Fleet::Fleet(const FleetOptions& options) : options_(options), rng_(options.seed) {}

void Fleet::Launch(double t_s, bool spot, double ready_at) {
  Replica r;
  r.spot = spot;
  r.ready_at = ready_at;
  r.interrupt_at = std::numeric_limits<double>::infinity();
  const double rate = options_.instance.spot_interruption_rate_per_hour / 3600.0;
  if (spot && rate > 0.0) {
    r.interrupt_at = t_s + std::exponential_distribution<double>(rate)(rng_);
  }
  replicas_.push_back(r);
}

void Fleet::Warm(double t_s, int n, int spot) {
  for (int i = 0; i < n; ++i) {
    Launch(t_s, i < spot, t_s);
  }
}

void Fleet::Advance(double t_s) {
  for (Replica& r : replicas_) {
    if (r.drain_end >= 0.0 || r.interrupt_at > t_s) {
      continue;
    }
    ++interruptions_;
    // A replica still booting is simply gone; a serving one drains during the notice.
    r.drain_end = r.ready_at > t_s ? t_s : t_s + options_.interruption_notice_s;
  }
  std::erase_if(replicas_,
                [&](const Replica& r) { return r.drain_end >= 0.0 && r.drain_end <= t_s; });
}

void Fleet::RemoveOne(double t_s, bool prefer_spot) {
  // Candidates: not draining; the latest to become ready goes first, and the
  // preferred kind when there is a choice at equal readiness.
  int best = -1;
  for (int i = 0; i < static_cast<int>(replicas_.size()); ++i) {
    const Replica& r = replicas_[i];
    if (r.drain_end >= 0.0) {
      continue;
    }
    if (best < 0) {
      best = i;
      continue;
    }
    const Replica& b = replicas_[best];
    const bool r_booting = r.ready_at > t_s, b_booting = b.ready_at > t_s;
    if (r_booting != b_booting) {
      if (r_booting) {
        best = i;
      }
      continue;
    }
    if ((r.spot == prefer_spot) != (b.spot == prefer_spot)) {
      if (r.spot == prefer_spot) {
        best = i;
      }
      continue;
    }
    if (r.ready_at > b.ready_at) {
      best = i;
    }
  }
  if (best >= 0) {
    replicas_.erase(replicas_.begin() + best);
  }
}

void Fleet::Reconcile(double t_s, int desired, int spot_target) {
  int active = Active(), spot = Spot();
  while (active < desired) {
    const bool use_spot = spot < spot_target;
    Launch(t_s, use_spot, t_s + options_.cold_start_s);
    ++active;
    spot += use_spot ? 1 : 0;
  }
  while (active > desired) {
    const bool prefer_spot = spot > spot_target;
    RemoveOne(t_s, prefer_spot);
    active = Active();
    spot = Spot();
  }
}

int Fleet::Active() const {
  return static_cast<int>(std::count_if(replicas_.begin(), replicas_.end(),
                                        [](const Replica& r) { return r.drain_end < 0.0; }));
}

int Fleet::Ready(double t_s) const {
  return static_cast<int>(std::count_if(replicas_.begin(), replicas_.end(), [&](const Replica& r) {
    return r.drain_end < 0.0 && r.ready_at <= t_s;
  }));
}

int Fleet::Serving(double t_s) const {
  return static_cast<int>(std::count_if(replicas_.begin(), replicas_.end(),
                                        [&](const Replica& r) { return r.ready_at <= t_s; }));
}

int Fleet::Spot() const {
  return static_cast<int>(std::count_if(replicas_.begin(), replicas_.end(), [](const Replica& r) {
    return r.spot && r.drain_end < 0.0;
  }));
}

double Fleet::CostPerSecond() const {
  double per_hour = 0.0;
  for (const Replica& r : replicas_) {
    per_hour += options_.instance.PricePerHour(r.spot);
  }
  return per_hour / 3600.0;
}

}  // namespace hotpath::scale::internal
