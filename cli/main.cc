// The `hotpath` command: one binary, one subcommand per job.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/predict_command.h"

namespace {

int Fail(const hotpath::Status& s) {
  std::cerr << "hotpath: " << s.ToString() << "\n";
  return s.code() == hotpath::StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hotpath: real-time AI decisions inside a latency budget"};
  app.require_subcommand(1);

  hotpath::cli::PredictArgs predict;
  CLI::App* p = app.add_subcommand("predict", "Score a CSV or JSON Lines file of rows with a tree model");
  p->add_option("model", predict.model_path, "XGBoost JSON/UBJSON or LightGBM text model")->required();
  p->add_option("--input,-i", predict.input_path, "rows.csv (empty field = missing) or rows.jsonl (null = missing)")->required();
  p->add_flag("--margin", predict.margin, "Output raw margins instead of transformed values");
  p->add_flag("--contribs", predict.contribs, "Output per-feature contributions (TreeSHAP), bias last");
  p->add_option("--threads", predict.threads, "Threads for large files")->check(CLI::Range(1, 256));

  CLI11_PARSE(app, argc, argv);
  if (p->parsed()) {
    hotpath::Status s = hotpath::cli::RunPredict(predict, std::cout);
    if (!s.ok()) return Fail(s);
  }
  return 0;
}
