// Any bytes through the C ABI, as a Java, C# or Go caller would pass them: the first byte
// picks the call (cr_evaluate, cr_evaluate_batch, cr_compile_text), the rest is split at the
// first NUL into options JSON and the payload. No call may crash or leak; every string the
// library returns is one JSON document (or JSON lines) and is freed.
#include <carerules/c_api.h>

#include <boost/json.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

const char* const rules = R"(
ruleset cfuzz {
  title "c fuzz" version "1"
  input {
    id : string
    beds : int in 0..1000
    when_built : date
    rs : list { x : int  name : string }
  }
  hazard H1 "h" { cite "c" when beds > 100 or days_since(when_built) > 3650 }
  hazard H2 "h" { cite "c" when any(r in rs where r.x > 3) }
  grade g : color { red when present(H1) yellow when present(H2) blue otherwise }
}
)";

const cr_ruleset* ruleset() {
  static cr_ruleset* rs = [] {
    cr_ruleset* out = nullptr;
    char* diags = nullptr;
    if (cr_compile_text(rules, std::strlen(rules), "cfuzz.rules", nullptr, &out, &diags) != CR_OK)
      std::abort();
    cr_string_free(diags);
    return out;
  }();
  return rs;
}

// A returned string is JSON (or, for batches, JSON lines).
void check_json(const char* s, bool lines) {
  if (s == nullptr) std::abort();
  std::string_view text(s);
  boost::json::parse_options po;
  po.max_depth = 1u << 16;
  if (!lines) {
    boost::json::error_code ec;
    boost::json::parse(text, ec, {}, po);
    if (ec) std::abort();
    return;
  }
  while (!text.empty()) {
    const auto end = text.find('\n');
    if (end == std::string_view::npos) std::abort();  // every line is ended
    boost::json::error_code ec;
    boost::json::parse(text.substr(0, end), ec, {}, po);
    if (ec) std::abort();
    text.remove_prefix(end + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const unsigned call = data[0] % 3;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto nul = rest.find('\0');
  // The options are a C string; NULL when the input has no NUL.
  std::string options;
  const char* options_ptr = nullptr;
  if (nul != std::string_view::npos) {
    options = std::string(rest.substr(0, nul));
    options_ptr = options.c_str();
    rest.remove_prefix(nul + 1);
  }
  char* out = nullptr;
  cr_status st = CR_OK;
  if (call == 0) {
    st = cr_evaluate(ruleset(), rest.data(), rest.size(), options_ptr, &out);
    if (st == CR_OK) check_json(out, false);
  } else if (call == 1) {
    st = cr_evaluate_batch(ruleset(), rest.data(), rest.size(), options_ptr, &out);
    if (st == CR_OK) check_json(out, true);
  } else {
    cr_ruleset* rs = nullptr;
    st = cr_compile_text(rest.data(), rest.size(), "fuzz.rules", options_ptr, &rs, &out);
    if (out != nullptr) check_json(out, false);  // diagnostics, as JSON, either way
    if ((st == CR_OK) != (rs != nullptr)) std::abort();
    if (rs != nullptr) {
      char* report = nullptr;
      if (cr_evaluate(rs, "{}", 2, nullptr, &report) == CR_OK) check_json(report, false);
      cr_string_free(report);
    }
    cr_ruleset_free(rs);
  }
  if (st == CR_INTERNAL) std::abort();  // a fault of the engine, never of the input
  if (st != CR_OK && call != 2 && out != nullptr) check_json(out, false);  // an error document
  cr_string_free(out);
  return 0;
}
