// Unicode's property files (Debian's unicode-data), read by the tests on their own so that what
// the engine accepts is checked against the data itself, not against the build's generated
// table.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace carerules::test {

constexpr std::uint32_t unicode_end = 0x110000;

// in[cp] is true when `file` (a file of `cp[..cp] ; Property # comment` lines, such as
// DerivedCoreProperties.txt or PropList.txt) gives code point cp the property `name`.
inline std::vector<bool> unicode_property(const std::string& file, const std::string& name) {
  std::vector<bool> in(unicode_end, false);
  const std::string path = "/usr/share/unicode/" + file;
  std::ifstream f(path);
  EXPECT_TRUE(f.good()) << path << ": install Debian's unicode-data";
  std::string line;
  while (std::getline(f, line)) {
    line = line.substr(0, line.find('#'));
    const auto semi = line.find(';');
    if (semi == std::string::npos) continue;
    std::string prop = line.substr(semi + 1);
    prop.erase(0, prop.find_first_not_of(' '));
    prop.erase(prop.find_last_not_of(' ') + 1);
    if (prop != name) continue;
    const std::string cps = line.substr(0, semi);
    const auto dots = cps.find("..");
    const unsigned long lo = std::stoul(cps.substr(0, dots), nullptr, 16);
    const unsigned long hi =
        dots == std::string::npos ? lo : std::stoul(cps.substr(dots + 2), nullptr, 16);
    for (unsigned long cp = lo; cp <= hi && cp < unicode_end; ++cp) in[cp] = true;
  }
  return in;
}

}  // namespace carerules::test
