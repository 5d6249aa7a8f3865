// Fleet: the replicas of one simulated deployment — launches, cold starts,
// scale-in, spot interruptions with notice, and the per-second bill. Used only
// by the simulator. Not thread-safe.
#ifndef HOTPATH_SCALE_INTERNAL_FLEET_H_
#define HOTPATH_SCALE_INTERNAL_FLEET_H_

#include <cstdint>
#include <random>
#include <vector>

#include "scale/catalog.h"

namespace hotpath::scale::internal {

struct FleetOptions {
  double cold_start_s = 60.0;
  double interruption_notice_s = 120.0;  // a reclaimed spot replica serves this long
  InstanceType instance;
  uint64_t seed = 1;
};

class Fleet {
 public:
  explicit Fleet(const FleetOptions& options);

  // Starts `n` replicas at `t_s` that are already serving (the steady state
  // before the simulation), on-demand except `spot` of them.
  void Warm(double t_s, int n, int spot);

  // Retires drained replicas and issues spot interruption notices due at `t_s`.
  void Advance(double t_s);

  // Launches or removes replicas so that exactly `desired` are not draining,
  // steering the spot count towards `spot_target` on every change. Removes
  // not-yet-ready replicas first.
  void Reconcile(double t_s, int desired, int spot_target);

  int Active() const;             // not draining (starting + ready)
  int Ready(double t_s) const;    // not draining and past their cold start
  int Serving(double t_s) const;  // ready, including draining ones still in notice
  int Spot() const;               // spot replicas not draining
  int Interruptions() const { return interruptions_; }
  // Currency per second for everything provisioned now.
  double CostPerSecond() const;

 private:
  struct Replica {
    bool spot = false;
    double ready_at = 0.0;
    double interrupt_at = 0.0;  // spot only: when its notice arrives
    double drain_end = -1.0;    // >= 0 once noticed: leaves at this time
  };

  void Launch(double t_s, bool spot, double ready_at);
  void RemoveOne(double t_s, bool prefer_spot);

  FleetOptions options_;
  std::mt19937_64 rng_;
  std::vector<Replica> replicas_;
  int interruptions_ = 0;
};

}  // namespace hotpath::scale::internal

#endif  // HOTPATH_SCALE_INTERNAL_FLEET_H_
