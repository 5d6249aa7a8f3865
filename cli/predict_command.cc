#include "cli/predict_command.h"

#include <cstdio>
#include <fstream>
#include <vector>

#include "cli/internal/row_reader.h"
#include "runtime/tree/tree_model.h"

namespace hotpath::cli {

Status RunPredict(const PredictArgs& args, std::ostream& out) {
  if (args.margin && args.contribs) return InvalidArgumentError("--margin and --contribs are exclusive");
  TreeModel::Options options;
  options.num_threads = args.threads;
  ASSIGN_OR_RETURN(auto model, TreeModel::Load(args.model_path, options));
  std::ifstream in(args.input_path);
  if (!in) return NotFoundError("cannot open input file '" + args.input_path + "'");
  const size_t nf = static_cast<size_t>(model->num_features());
  RowReader reader(&in, RowReader::FormatForPath(args.input_path), nf);
  const OutputKind kind = args.contribs ? OutputKind::kContributions
                          : args.margin ? OutputKind::kMargin
                                        : OutputKind::kValue;
  const size_t width = static_cast<size_t>(model->OutputWidth(kind));
  constexpr size_t kChunk = 4096;
  std::vector<float> rows, outputs;
  std::string text;
  char buf[32];
  for (;;) {
    rows.clear();
    Result<size_t> n = reader.Read(kChunk, &rows);
    if (!n.ok()) return InvalidArgumentError(args.input_path + ": " + n.status().message());
    if (*n == 0) break;
    outputs.resize(*n * width);
    RETURN_IF_ERROR(model->Predict(rows.data(), *n, kind, outputs.data()));
    text.clear();
    for (size_t r = 0; r < *n; ++r) {
      for (size_t c = 0; c < width; ++c) {
        std::snprintf(buf, sizeof(buf), "%.9g", static_cast<double>(outputs[r * width + c]));
        if (c > 0) text += ',';
        text += buf;
      }
      text += '\n';
    }
    out << text;
  }
  out.flush();
  return OkStatus();
}

}  // namespace hotpath::cli
