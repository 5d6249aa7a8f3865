// Events: the validated input of the feature layer, and the parser that turns
// external JSON into them. Everything past EventParser trusts an Event.
#ifndef HOTPATH_FEATURES_EVENT_H_
#define HOTPATH_FEATURES_EVENT_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "features/definitions.h"

namespace hotpath::features {

// One event of a defined source, keyed to one entity.
struct Event {
  int source = 0;               // index into Definitions::sources
  std::string entity_key;       // EntityKey() of the source entity's key field values
  int64_t ts_ms = 0;            // event time, ms since the Unix epoch, >= 0
  std::vector<double> numbers;  // [SourceDef::numeric_fields.size()], finite
  std::vector<uint64_t> keyed;  // [SourceDef::keyed_fields.size()], value hashes
};

// Joins the values of an entity's key fields into its storage key (parts are
// separated by '\x1f'). A single key field's value is its own key.
std::string EntityKey(std::span<const std::string_view> parts);

// Hash of a keyed (distinct-counted) field's value as written in JSON text:
// a string's contents, or a number's shortest decimal form.
uint64_t KeyedValueHash(std::string_view canonical_text);

// Turns JSON events into Events. Thread-safe (immutable after Create).
class EventParser {
 public:
  static Result<std::unique_ptr<EventParser>> Create(std::shared_ptr<const Definitions> defs);

  // Parses one JSON object: {"type": SOURCE, <key fields>, <timestamp field>,
  // <aggregated fields>...}; other fields are ignored. INVALID_ARGUMENT naming
  // the field when the type is unknown, a field is missing or has the wrong
  // type, a number is not finite, or the timestamp is negative.
  Result<Event> Parse(std::string_view json_object) const;

  // Parses a JSON array of events. The outer Result fails only when the text
  // is not a JSON array; each element then parses (or fails) on its own, so
  // one malformed event does not spoil the batch. At most 1,000,000 events.
  Result<std::vector<Result<Event>>> ParseBatch(std::string_view json_array) const;

 private:
  explicit EventParser(std::shared_ptr<const Definitions> defs) : defs_(std::move(defs)) {}
  std::shared_ptr<const Definitions> defs_;
};

}  // namespace hotpath::features

#endif  // HOTPATH_FEATURES_EVENT_H_
