// Names and directories of the running test's own (under the system's
// temporary directory): they hold the process id and the test's name, so
// that tests run at once (ctest -j runs each in a process of its own) never
// share one.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <unistd.h>

namespace zarr::test {

/// az-PID-SUITE.TEST, then `suffix`: a name of the running test's own, one
/// directory or key (a parameterised test's '/' is made '-', so that
/// removing the directory leaves no parent behind).
inline std::string
unique_test_name(std::string_view suffix = {})
{
    const auto* test = testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "az-" + std::to_string(::getpid());
    if (test != nullptr) {
        name += std::string("-") + test->test_suite_name() + "." + test->name();
    }
    name += suffix;
    std::replace(name.begin(), name.end(), '/', '-');
    return name;
}

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

    /// unique_test_name(suffix) under the temporary directory (`suffix`: for
    /// a test that needs several, one after another).
    explicit TempDir(Start start = Start::absent, std::string_view suffix = {})
      : path_(std::filesystem::temp_directory_path() / unique_test_name(suffix))
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
    std::filesystem::path path_;
};

/// A fixture whose every test has root_, a TempDir of its own. `Base`: a
/// parameterised fixture's testing::TestWithParam<...>.
template<TempDir::Start start = TempDir::Start::absent, typename Base = testing::Test>
class TempDirTest : public Base
{
  protected:
    const TempDir dir_{ start };
    const std::filesystem::path& root_ = dir_.path();
};

} // namespace zarr::test
