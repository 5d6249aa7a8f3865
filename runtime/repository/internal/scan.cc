#include "runtime/repository/internal/scan.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace hotpath::repository_internal {
namespace fs = std::filesystem;

Result<std::vector<std::string>> ListModels(const std::string& repo) {
  std::error_code ec;
  fs::directory_iterator it(repo, ec);
  if (ec) return NotFoundError("model repository '" + repo + "': " + ec.message());
  std::vector<std::string> names;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    std::error_code file_ec;
    if (it->is_directory(file_ec) && fs::is_regular_file(it->path() / "config.json", file_ec)) {
      names.push_back(std::move(name));
    }
  }
  if (ec) return NotFoundError("model repository '" + repo + "': " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<int64_t> ListVersions(const std::string& model_dir) {
  std::vector<int64_t> versions;
  std::error_code ec;
  fs::directory_iterator it(model_dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::error_code file_ec;
    if (!it->is_directory(file_ec) || name.empty() || name.size() > 18) continue;
    if (!std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    int64_t v = 0;
    std::from_chars(name.data(), name.data() + name.size(), v);
    if (v > 0) versions.push_back(v);
  }
  std::sort(versions.begin(), versions.end());
  versions.erase(std::unique(versions.begin(), versions.end()), versions.end());
  return versions;
}

std::string DirectoryFingerprint(const std::string& dir) {
  std::vector<std::string> parts;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code file_ec;
    auto size = it->is_regular_file(file_ec) ? it->file_size(file_ec) : 0;
    auto mtime = it->last_write_time(file_ec).time_since_epoch().count();
    std::ostringstream part;
    part << it->path().filename().string() << ':' << size << ':' << mtime;
    parts.push_back(part.str());
  }
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const std::string& p : parts) out += p + ';';
  return out;
}

Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return NotFoundError(path + ": no such file");
  auto size = fs::file_size(path, ec);
  if (ec) return DataLossError(path + ": " + ec.message());
  if (size > max_bytes) {
    return InvalidArgumentError(path + ": " + std::to_string(size) + " bytes, more than the limit of " +
                                std::to_string(max_bytes));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in.good() && !in.eof()) return DataLossError(path + ": read failed");
  return buf.str();
}

}  // namespace hotpath::repository_internal
