// What every Boost.JSON basic_parser handler of the project declares about sizes: none is
// capped by the parser itself (each handler, or the limits it was given, decides), so the
// handlers inherit these rather than repeating them.
#pragma once

#include <cstddef>

namespace carerules::detail {

struct sax_sizes_unbounded {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);
};

}  // namespace carerules::detail
