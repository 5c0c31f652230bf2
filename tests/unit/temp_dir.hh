// A directory of the running test's own under the system's temporary
// directory. Its name holds the process id and the test's name, so that
// tests run at once (ctest -j runs each in a process of its own) never share
// one.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <unistd.h>

namespace zarr::test {

/// Absent when made (or, with Start::empty, an empty directory): what a
/// crashed earlier run left there is removed first. Removed with all it
/// holds when destroyed.
class TempDir
{
  public:
    enum class Start
    {
        absent,
        empty,
    };

    /// PREFIX-PID-SUITE.TEST under the temporary directory, then `suffix`
    /// (for a test that needs several, one after another).
    explicit TempDir(std::string_view prefix,
                     Start start = Start::absent,
                     std::string_view suffix = {})
      : path_(std::filesystem::temp_directory_path() / name(prefix, suffix))
    {
        std::filesystem::remove_all(path_);
        if (start == Start::empty) {
            std::filesystem::create_directories(path_);
        }
    }

    ~TempDir()
    {
        std::error_code ignored; // a test that failed may leave anything
        std::filesystem::remove_all(path_, ignored);
    }

    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }

  private:
    static std::string name(std::string_view prefix, std::string_view suffix)
    {
        const auto* test = testing::UnitTest::GetInstance()->current_test_info();
        std::string name = std::string(prefix) + "-" + std::to_string(::getpid());
        if (test != nullptr) {
            name += std::string("-") + test->test_suite_name() + "." + test->name();
        }
        name += suffix;
        // A parameterised test's name holds '/': keep it one directory.
        std::replace(name.begin(), name.end(), '/', '-');
        return name;
    }

    std::filesystem::path path_;
};

} // namespace zarr::test
