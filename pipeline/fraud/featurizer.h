// FraudFeaturizer: the one mapping from a transaction to (a) the events the
// feature store ingests and (b) the model's input row of event fields and
// windowed features. Serving and training (point-in-time backfill) both call
// it, so the model is trained on exactly what it is served.
//
// Features come from the definitions in examples/fraud/features.json: groups
// "user" (entity user) and "merchant" (entity merchant), sources "txn" and
// "merchant_txn". A value the store does not have is NaN (missing), which the
// tree model routes down its default branches.
#ifndef HOTPATH_PIPELINE_FRAUD_FEATURIZER_H_
#define HOTPATH_PIPELINE_FRAUD_FEATURIZER_H_

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "features/definitions.h"
#include "features/event.h"
#include "features/feature_store.h"
#include "features/read.h"
#include "pipeline/fraud/transaction.h"

namespace hotpath::fraud {

inline constexpr size_t kNumModelFeatures = 20;

class FraudFeaturizer {
 public:
  // INVALID_ARGUMENT when the definitions lack a source, group or feature
  // this mapping needs, naming it.
  static Result<std::unique_ptr<FraudFeaturizer>> Create(std::shared_ptr<const features::Definitions> defs);

  // The events to ingest for `t` (one per entity). Thread-safe.
  void Events(const Transaction& t, std::vector<features::Event>* out) const;

  // Fills row[0 .. kNumModelFeatures) from `t` and the store's state at the
  // store's clock (read before `t` is ingested). Thread-safe.
  Status Row(const Transaction& t, const features::FeatureStore& store, float* row) const;

  // Column names of the row, in order.
  static const std::array<const char*, kNumModelFeatures>& ColumnNames();

 private:
  FraudFeaturizer() = default;
  // Where each of a source's numeric and keyed fields comes from.
  enum class Field { kAmount, kCnp, kMerchant, kDevice, kCountry };
  struct SourceMap {
    int source = -1;
    std::vector<Field> numeric, keyed;
  };
  static Result<SourceMap> MapSource(const features::Definitions& defs, const char* name);
  void AddEvent(const SourceMap& m, const std::string& key, const Transaction& t,
                std::vector<features::Event>* out) const;

  std::shared_ptr<const features::Definitions> defs_;
  SourceMap user_source_, merchant_source_;
  std::unique_ptr<features::FeatureSelector> user_, merchant_;
};

}  // namespace hotpath::fraud

#endif  // HOTPATH_PIPELINE_FRAUD_FEATURIZER_H_
