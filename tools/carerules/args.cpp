// Argument parsing, the options every command takes, and checked output.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "cli.hpp"
#include "util/date.hpp"
#include "util/utf8.hpp"

namespace carerules::cli {

// ---- arguments ------------------------------------------------------------------------------

bool parsed_args::has(std::string_view name) const {
  for (const auto& [k, v] : options)
    if (k == name) return true;
  return false;
}

std::optional<std::string> parsed_args::last(std::string_view name) const {
  std::optional<std::string> out;
  for (const auto& [k, v] : options)
    if (k == name) out = v;
  return out;
}

std::vector<std::string> parsed_args::all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : options)
    if (k == name) out.push_back(v);
  return out;
}

parsed_args parse_args(const std::vector<std::string>& args, std::vector<option_spec> specs) {
  specs.push_back({"import-root", 0, true});
  specs.push_back({"limit", 0, true});
  specs.push_back({"help", 'h', false});
  parsed_args out;
  // --help wins over every other mistake on the line, so `carerules eval --help` works
  // without the command's required arguments.
  for (const auto& a : args) {
    if (a == "--") break;
    if (a == "--help" || a == "-h") {
      out.help = true;
      return out;
    }
  }
  bool options_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (options_done || a.size() < 2 || a[0] != '-') {
      out.positional.push_back(a);
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    const option_spec* spec = nullptr;
    std::optional<std::string> inline_value;
    std::string shown;
    if (a[1] == '-') {
      std::string_view body = std::string_view(a).substr(2);
      auto eq = body.find('=');
      std::string_view name = body.substr(0, eq);
      if (eq != std::string_view::npos) inline_value = std::string(body.substr(eq + 1));
      for (const auto& s : specs)
        if (s.long_name == name) spec = &s;
      shown = "--" + std::string(name);
    } else {
      for (const auto& s : specs)
        if (s.short_name != 0 && s.short_name == a[1]) spec = &s;
      if (a.size() > 2) inline_value = a.substr(2);
      shown = a.substr(0, 2);
    }
    if (spec == nullptr) throw usage_error("unknown option `" + shown + "`");
    if (!spec->takes_value) {
      if (inline_value) throw usage_error("option `" + shown + "` takes no value");
      out.options.emplace_back(std::string(spec->long_name), "");
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= args.size()) throw usage_error("option `" + shown + "` needs a value");
      inline_value = args[++i];
    }
    out.options.emplace_back(std::string(spec->long_name), std::move(*inline_value));
  }
  return out;
}

compile_options common_compile_options(const parsed_args& a) {
  compile_options o;
  for (const auto& root : a.all("import-root")) {
    if (root.empty()) throw usage_error("--import-root needs a directory");
    o.import_roots.push_back(root);
  }
  for (const auto& assignment : a.all("limit")) {
    std::string error;
    if (!o.limits.set(assignment, error)) throw usage_error("--limit: " + error);
  }
  return o;
}

std::string resolve_asof(const parsed_args& a) {
  const auto asof = a.last("asof");
  try {
    if (asof && asof->empty()) throw std::invalid_argument("empty");
    return carerules::resolve_asof(asof.value_or(""));
  } catch (const std::invalid_argument&) {
    throw usage_error("--asof needs a real date written YYYY-MM-DD, got \"" + *asof + "\"");
  }
}

// ---- output ---------------------------------------------------------------------------------

namespace {
constexpr std::size_t output_buffer_bytes = 1u << 20;
}

output::~output() { flush(); }

void output::write(std::string_view text) {
  if (failed_) return;
  if (text.size() >= output_buffer_bytes / 2) {
    // Large pieces (a batch's reports) go out as they are, without a copy into the buffer.
    if (!flush()) return;
    errno = 0;
    if (std::fwrite(text.data(), 1, text.size(), stream_) != text.size()) {
      failed_ = true;
      error_ = errno != 0 ? std::strerror(errno) : "write failed";
    }
    return;
  }
  buffer_.append(text);
  if (buffer_.size() >= output_buffer_bytes) flush();
}

bool output::flush() {
  if (failed_) return false;
  if (!buffer_.empty()) {
    errno = 0;
    std::size_t n = std::fwrite(buffer_.data(), 1, buffer_.size(), stream_);
    if (n != buffer_.size()) {
      failed_ = true;
      error_ = errno != 0 ? std::strerror(errno) : "write failed";
    }
    buffer_.clear();
  }
  if (!failed_) {
    errno = 0;
    if (std::fflush(stream_) != 0 || std::ferror(stream_)) {
      failed_ = true;
      error_ = errno != 0 ? std::strerror(errno) : "write failed";
    }
  }
  return !failed_;
}

std::optional<lang> lang_option(const parsed_args& a) {
  auto l = a.last("lang");
  if (!l) return std::nullopt;
  auto parsed = parse_lang(*l);
  if (!parsed) throw usage_error("unknown language \"" + *l + "\" (zh or en)");
  return parsed;
}

bool write_file(const std::filesystem::path& path, const std::string& text, std::string& error) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (f) f.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (f) f.close();
  if (!f) {
    error = "cannot write `" + path.string() + "`";
    return false;
  }
  return true;
}

void print_error(std::string_view message) {
  std::string line = "carerules: error: ";
  line.append(message);
  line += '\n';
  std::fputs(line.c_str(), stderr);
}

bool valid_dotted_path(std::string_view p) {
  if (p.empty() || p.front() == '.' || p.back() == '.' || p.find("..") != std::string_view::npos)
    return false;
  return std::none_of(p.begin(), p.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

std::optional<std::string> path_option(const parsed_args& a, std::string_view name) {
  auto v = a.last(name);
  if (v && !valid_dotted_path(*v))
    throw usage_error("--" + std::string(name) +
                      " needs a dotted path such as region.district, got \"" +
                      detail::escape_for_display(*v) + "\"");
  return v;
}

bool progress_wanted() {
  if (::isatty(STDERR_FILENO) != 1) return false;
  struct stat st {};
  if (::fstat(STDOUT_FILENO, &st) != 0) return true;
  return !S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode);
}

int finish_output(output& out, int code) {
  if (!out.flush()) {
    print_error("cannot write the output: " + out.error());
    return exit_failed;
  }
  return code;
}

}  // namespace carerules::cli
