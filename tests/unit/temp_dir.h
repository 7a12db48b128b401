// A fixture that owns a fresh directory under /tmp, removed after each
// test, and writes files into it: for the tests that load real files.
#pragma once

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace ub::testing {

class TempDir : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/ub-unit-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir = tmpl;
    }
    void TearDown() override { std::filesystem::remove_all(dir); }

    // dir/NAME holding `text`, with `mode`; NAME may name subdirectories.
    std::string write(const std::string& name, const std::string& text, mode_t mode = 0644) {
        std::string p = dir + "/" + name;
        std::filesystem::create_directories(std::filesystem::path(p).parent_path());
        std::ofstream(p) << text;
        chmod(p.c_str(), mode);
        return p;
    }

    std::string dir;
};

}  // namespace ub::testing
