#include "sockparity/net/temp_dir.h"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sockparity/net/errors.h"

namespace sockparity {

std::string TempRoot() {
  const char* env = ::getenv("TMPDIR");
  return env != nullptr && env[0] != '\0' ? env : "/tmp";
}

std::string TempDirPrefix() {
  return absl::StrCat("sockparity-", ::getpid(), "-");
}

absl::StatusOr<TempDir> TempDir::Create() {
  std::string pattern =
      absl::StrCat(TempRoot(), "/", TempDirPrefix(), "XXXXXX");
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  // mkdtemp creates the directory with mode 0700.
  if (::mkdtemp(buffer.data()) == nullptr) {
    return ErrnoStatus(errno, "mkdtemp", pattern);
  }
  return TempDir(std::string(buffer.data()));
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) {
  other.path_.clear();
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    (void)Remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TempDir::~TempDir() { (void)Remove(); }

absl::Status TempDir::Remove() {
  if (path_.empty()) return absl::OkStatus();
  std::error_code error;
  std::filesystem::remove_all(path_, error);
  std::string path = std::move(path_);
  path_.clear();
  if (error) {
    return absl::InternalError(
        absl::StrCat("removing ", path, ": ", error.message()));
  }
  return absl::OkStatus();
}

}  // namespace sockparity
