#include "cli/generate_command.h"

#include <string>

namespace hotpath::cli {

Status RunGenerate(const GenerateArgs& args, std::ostream& out) {
  const auto& o = args.generator;
  if (args.events < 0) return InvalidArgumentError("--events must be >= 0");
  if (o.customers <= 0 || o.terminals <= 0) return InvalidArgumentError("--customers and --terminals must be positive");
  if (!(o.mean_events_per_s > 0)) return InvalidArgumentError("--rate must be positive");
  if (!(o.fraud_rate >= 0 && o.fraud_rate <= 1)) return InvalidArgumentError("--fraud-rate must be in [0, 1]");
  fraud::TransactionGenerator gen(o);
  std::string buf;
  for (int64_t i = 0; i < args.events; ++i) {
    buf += fraud::ToJson(gen.Next());
    buf += '\n';
    if (buf.size() > (1 << 16)) {
      out << buf;
      buf.clear();
    }
  }
  out << buf;
  out.flush();
  return out ? OkStatus() : InternalError("write failed");
}

}  // namespace hotpath::cli
