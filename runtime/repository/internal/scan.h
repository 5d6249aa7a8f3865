// Reads the repository's directory tree: model folders, numbered version
// folders, and a fingerprint that changes when a version's files change.
#ifndef HOTPATH_RUNTIME_REPOSITORY_INTERNAL_SCAN_H_
#define HOTPATH_RUNTIME_REPOSITORY_INTERNAL_SCAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace hotpath::repository_internal {

// Names of the folders of `repo` that hold a config.json, sorted; hidden
// folders (".x") are skipped. NOT_FOUND when `repo` is not a readable folder.
Result<std::vector<std::string>> ListModels(const std::string& repo);

// Version numbers (folders named by a positive decimal integer) of
// `model_dir`, ascending. Other entries are ignored; empty when unreadable.
std::vector<int64_t> ListVersions(const std::string& model_dir);

// Names, sizes and modification times of the files directly in `dir`.
std::string DirectoryFingerprint(const std::string& dir);

// The whole file. NOT_FOUND when missing, DATA_LOSS when unreadable, and
// INVALID_ARGUMENT when larger than `max_bytes`.
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes);

}  // namespace hotpath::repository_internal

#endif  // HOTPATH_RUNTIME_REPOSITORY_INTERNAL_SCAN_H_
