// What every C++ harness of the side-by-side benchmark shares: reading the records, timing
// one pass, writing the result lines and the one-line JSON summary (see ../run.py).
#pragma once

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace peers {

inline constexpr std::size_t warm_up = 5000;
inline const char* const hazard_ids[8] = {"A4.1", "A4.2", "A4.3", "A4.4",
                                          "A5.1", "A5.2", "A5.3", "A2"};
inline const char* const colour_names[4] = {"blue", "yellow", "orange", "red"};

struct args {
  std::string mode, records, out;
};

inline args parse(int argc, char** argv, const char* usage) {
  if (argc != 4 || (std::string_view(argv[1]) != "eval" && std::string_view(argv[1]) != "e2e")) {
    std::fprintf(stderr, "usage: %s\n", usage);
    std::exit(2);
  }
  return {argv[1], argv[2], argv[3]};
}

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::exit(1);
  }
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) lines.push_back(std::move(l));
  return lines;
}

// `id|A4.1,A2|red`: the hazards present (bit k is hazard_ids[k]) and the colour index.
inline void result_line(std::string& out, std::string_view id, unsigned hazards, int colour) {
  out.append(id);
  out += '|';
  bool first = true;
  for (int k = 0; k < 8; ++k)
    if (hazards & (1u << k)) {
      if (!first) out += ',';
      out += hazard_ids[k];
      first = false;
    }
  out += '|';
  out += colour_names[colour];
  out += '\n';
}

// Runs `one(i)` for the first warm_up records untimed, then for every record timed; writes
// the lines `one` appended to `lines`, and prints the summary.
inline void run(const std::string& system, const args& a, std::size_t n,
                const std::function<void(std::size_t)>& one, std::string& lines) {
  for (std::size_t i = 0; i < n && i < warm_up; ++i) one(i);
  lines.clear();
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < n; ++i) one(i);
  const auto t1 = std::chrono::steady_clock::now();
  const double us = std::chrono::duration<double, std::micro>(t1 - t0).count() / double(n);
  std::ofstream(a.out, std::ios::binary) << lines;
  std::printf("{\"system\": \"%s\", \"mode\": \"%s\", \"n\": %zu, \"us_per_record\": %.4f}\n",
              system.c_str(), a.mode.c_str(), n, us);
}

}  // namespace peers
