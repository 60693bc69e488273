// `carerules serve`: the rulesets of one directory behind an HTTP JSON service (Boost.Beast
// over Boost.Asio). Every connection is one asynchronous session on a pool of --threads
// threads; a request is evaluated on the thread that read it, through the library's fast
// writers, against the registry it started with: a reload swaps a new registry in, and
// requests already running keep the old one until they finish.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "carerules/batch.hpp"
#include "carerules/ruleset.hpp"
#include "carerules/version.hpp"
#include "cli.hpp"

namespace carerules::cli {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using tcp = net::ip::tcp;
using clock = std::chrono::steady_clock;

// ---- settings ---------------------------------------------------------------------------------

struct settings {
  fs::path dir;
  compile_options copts;
  std::string host = "127.0.0.1";
  unsigned short port = 8181;
  unsigned threads = 0;
  std::uint64_t max_body = 64u << 20;
  std::size_t max_connections = 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{60'000};
  std::chrono::milliseconds drain_timeout{30'000};
};

std::uint64_t parse_count(const parsed_args& a, std::string_view option, std::uint64_t fallback,
                          std::uint64_t max) {
  auto v = a.last(option);
  if (!v) return fallback;
  std::string digits = *v;
  std::uint64_t unit = 1;
  if (!digits.empty()) {
    const char last = digits.back();
    if (last == 'K' || last == 'k') unit = 1u << 10;
    if (last == 'M' || last == 'm') unit = 1u << 20;
    if (last == 'G' || last == 'g') unit = 1u << 30;
    if (unit != 1) digits.pop_back();
  }
  if (digits.empty() || digits.size() > 12 ||
      digits.find_first_not_of("0123456789") != std::string::npos)
    throw usage_error("--" + std::string(option) + " needs a non-negative integer, got \"" + *v +
                      "\"");
  const std::uint64_t n = std::stoull(digits) * unit;
  if (n > max)
    throw usage_error("--" + std::string(option) + " is at most " + std::to_string(max) +
                      ", got \"" + *v + "\"");
  return n;
}

// Seconds, with a fraction: "10", "0.5".
std::chrono::milliseconds parse_seconds(const parsed_args& a, std::string_view option,
                                        std::chrono::milliseconds fallback) {
  auto v = a.last(option);
  if (!v) return fallback;
  std::size_t used = 0;
  double s = -1;
  try {
    s = std::stod(*v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v->size() || !(s > 0) || s > 86400)
    throw usage_error("--" + std::string(option) + " needs seconds (0 < s <= 86400), got \"" + *v +
                      "\"");
  return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000 + 0.5));
}

// --listen HOST:PORT, [V6]:PORT, or PORT alone (on the loopback address).
void parse_listen(const std::string& text, settings& s) {
  std::string host = s.host, port = text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      throw usage_error("--listen needs HOST:PORT or [IPv6]:PORT, got \"" + text + "\"");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else if (const auto colon = text.rfind(':'); colon != std::string::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  boost::system::error_code ec;
  net::ip::make_address(host, ec);
  if (ec) throw usage_error("--listen: `" + host + "` is not an IP address");
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535)
    throw usage_error("--listen: `" + port + "` is not a port (0-65535; 0 picks a free one)");
  s.host = host;
  s.port = static_cast<unsigned short>(std::stoul(port));
}

// ---- the registry of rulesets -----------------------------------------------------------------

struct loaded {
  ruleset rs;
  std::string file;    // the file's name in the directory
  std::string info;    // GET /v1/rulesets/{name}
  std::string schema;  // GET /v1/rulesets/{name}/schema
};

struct registry {
  std::map<std::string, std::shared_ptr<const loaded>> by_name;
  std::string list;  // GET /v1/rulesets
};

json::object info_of(const ruleset& rs, const std::string& file) {
  json::array files;
  for (const auto& f : rs.files())  // the top file by its name in the directory, as `file`
    files.push_back(json::object{{"file", files.empty() ? file : f.file},
                                 {"name", f.name},
                                 {"version", f.version},
                                 {"digest", f.digest}});
  return json::object{{"name", rs.name()},     {"title", rs.title()}, {"version", rs.version()},
                      {"digest", rs.digest()}, {"file", file},        {"files", std::move(files)}};
}

struct load_outcome {
  std::shared_ptr<const registry> reg;  // null when something did not compile
  std::string error;
  json::array diagnostics;
};

// Compiles every `*.rules` file directly in the directory. All or nothing: one file that does
// not compile, or two files declaring the same name, refuse the whole directory.
load_outcome load_directory(const settings& s) {
  load_outcome out;
  std::vector<fs::path> paths;
  std::error_code ec;
  std::vector<std::string> failed;
  for (fs::directory_iterator it(s.dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code kind_ec;
    if (it->path().extension() != ".rules") continue;
    if (it->is_regular_file(kind_ec))
      paths.push_back(it->path());
    else if (!it->is_directory(kind_ec))  // a dangling or looping link, a device: not skipped
      failed.push_back(it->path().filename().string() + " (not a readable file)");
  }
  if (ec) {
    out.error = "cannot read the rulesets directory `" + s.dir.string() + "`: " + ec.message();
    return out;
  }
  if (paths.empty() && failed.empty()) {
    out.error = "no *.rules file in `" + s.dir.string() + "`";
    return out;
  }
  std::sort(paths.begin(), paths.end());
  auto reg = std::make_shared<registry>();
  json::array list;
  // Diagnostics name files as in the directory (`tiny.rules`), not with the server's path.
  auto shown = [&](const std::string& file) {
    const fs::path rel = fs::path(file).lexically_relative(s.dir);
    return rel.empty() || *rel.begin() == ".." ? file : rel.generic_string();
  };
  for (const auto& p : paths) {
    compile_result c = compile_file(p.string(), s.copts);
    for (const auto& d : c.diagnostics())
      if (d.severity == "error")
        out.diagnostics.push_back(json::object{{"file", shown(d.file)},
                                               {"line", d.line},
                                               {"column", d.column},
                                               {"severity", d.severity},
                                               {"message", d.message}});
    if (!c.ok()) {
      failed.push_back(p.filename().string());
      continue;
    }
    const ruleset& rs = c.value();
    if (reg->by_name.count(rs.name())) {
      out.error = "two files declare the ruleset `" + rs.name() + "` (" +
                  reg->by_name[rs.name()]->file + " and " + p.filename().string() + ")";
      return out;
    }
    auto l = std::make_shared<loaded>(loaded{rs, p.filename().string(), {}, {}});
    json::object info = info_of(rs, l->file);
    l->info = json::serialize(info);
    l->schema = rs.json_schema();
    list.push_back(std::move(info));
    reg->by_name.emplace(rs.name(), std::move(l));
  }
  if (!failed.empty()) {
    out.error = "does not compile: ";
    for (std::size_t i = 0; i < failed.size(); ++i) out.error += (i ? ", " : "") + failed[i];
    return out;
  }
  reg->list = json::serialize(list);
  out.reg = std::move(reg);
  return out;
}

// ---- metrics ----------------------------------------------------------------------------------

constexpr std::array<double, 10> latency_buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                    0.025,  0.05,  0.1,    0.5,   2.5};

std::string label_value(std::string_view v) {
  std::string o;
  for (char c : v) {
    if (c == '\\' || c == '"') o += '\\';
    if (c == '\n') {
      o += "\\n";
      continue;
    }
    o += c;
  }
  return o;
}

class metrics {
 public:
  void request(const std::string& route, unsigned code, double seconds) {
    std::lock_guard<std::mutex> lock(m_);
    ++requests_[{route, code}];
    std::size_t b = 0;
    while (b < latency_buckets.size() && seconds > latency_buckets[b]) ++b;
    ++buckets_[b];
    sum_ += seconds;
    ++count_;
  }
  void records(std::uint64_t n, std::uint64_t with_errors) {
    records_ += n;
    record_errors_ += with_errors;
  }
  void reload(bool ok) { ++(ok ? reloads_ok_ : reloads_failed_); }

  std::string text(const registry& reg, int connections, int in_flight) const {
    std::string o;
    o += "# HELP carerules_requests_total HTTP requests answered, by route and status code.\n"
         "# TYPE carerules_requests_total counter\n";
    std::lock_guard<std::mutex> lock(m_);
    for (const auto& [key, n] : requests_)
      o += "carerules_requests_total{route=\"" + label_value(key.first) + "\",code=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
    o += "# HELP carerules_request_duration_seconds Time from a request's head to its answer.\n"
         "# TYPE carerules_request_duration_seconds histogram\n";
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b <= latency_buckets.size(); ++b) {
      cumulative += buckets_[b];
      char le[32];
      if (b < latency_buckets.size())
        std::snprintf(le, sizeof le, "%g", latency_buckets[b]);
      else
        std::snprintf(le, sizeof le, "+Inf");
      o += "carerules_request_duration_seconds_bucket{le=\"" + std::string(le) + "\"} " +
           std::to_string(cumulative) + "\n";
    }
    char sum[64];
    std::snprintf(sum, sizeof sum, "%.6f", sum_);
    o += "carerules_request_duration_seconds_sum " + std::string(sum) + "\n" +
         "carerules_request_duration_seconds_count " + std::to_string(count_) + "\n";
    o += "# HELP carerules_records_evaluated_total Records evaluated (one per report).\n"
         "# TYPE carerules_records_evaluated_total counter\n"
         "carerules_records_evaluated_total " +
         std::to_string(records_.load()) +
         "\n"
         "# HELP carerules_record_errors_total Reports with errors.\n"
         "# TYPE carerules_record_errors_total counter\n"
         "carerules_record_errors_total " +
         std::to_string(record_errors_.load()) +
         "\n"
         "# HELP carerules_reloads_total Reloads of the rulesets directory, by result.\n"
         "# TYPE carerules_reloads_total counter\n"
         "carerules_reloads_total{result=\"ok\"} " +
         std::to_string(reloads_ok_.load()) + "\ncarerules_reloads_total{result=\"refused\"} " +
         std::to_string(reloads_failed_.load()) +
         "\n"
         "# HELP carerules_connections Open connections.\n"
         "# TYPE carerules_connections gauge\n"
         "carerules_connections " +
         std::to_string(connections) +
         "\n"
         "# HELP carerules_requests_in_flight Requests read and not yet answered.\n"
         "# TYPE carerules_requests_in_flight gauge\n"
         "carerules_requests_in_flight " +
         std::to_string(in_flight) +
         "\n"
         "# HELP carerules_ruleset_info The rulesets being served (value 1).\n"
         "# TYPE carerules_ruleset_info gauge\n";
    for (const auto& [name, l] : reg.by_name)
      o += "carerules_ruleset_info{name=\"" + label_value(name) + "\",version=\"" +
           label_value(l->rs.version()) + "\",digest=\"" + label_value(l->rs.digest()) +
           "\",file=\"" + label_value(l->file) + "\"} 1\n";
    return o;
  }

 private:
  mutable std::mutex m_;
  std::map<std::pair<std::string, unsigned>, std::uint64_t> requests_;
  std::array<std::uint64_t, latency_buckets.size() + 1> buckets_{};
  double sum_ = 0;
  std::uint64_t count_ = 0;
  std::atomic<std::uint64_t> records_{0}, record_errors_{0}, reloads_ok_{0}, reloads_failed_{0};
};

// ---- the server -------------------------------------------------------------------------------

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

struct reply {
  unsigned code = 200;
  std::string body;
  std::string type = "application/json";
  std::string route = "other";
  std::vector<std::pair<std::string, std::string>> headers;
};

reply error_reply(unsigned code, const std::string& message) {
  reply r;
  r.code = code;
  // The project's JSON writer: a byte of the request that starts no valid UTF-8 sequence
  // becomes U+FFFD, so the answer stays JSON whatever the path or query held.
  r.body = "{\"error\":";
  append_json_string(r.body, message);
  r.body += "}\n";
  return r;
}

std::string percent_decode(std::string_view s, bool plus_is_space, bool& ok) {
  std::string o;
  ok = true;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        if (h >= 'A' && h <= 'F') return h - 'A' + 10;
        return -1;
      };
      if (i + 2 >= s.size()) {
        ok = false;
        return o;
      }
      const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) {
        ok = false;
        return o;
      }
      o += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      o += ' ';
    } else {
      o += c;
    }
  }
  return o;
}

// A thread keeps the largest answer buffer it has sent (up to 16 MiB) for the next batch, so
// that megabytes of reports are not allocated, faulted in and freed for every request.
thread_local std::string spare_buffer;

std::string take_spare_buffer() {
  std::string b = std::move(spare_buffer);
  b.clear();
  return b;
}

void give_spare_buffer(std::string&& b) {
  if (b.capacity() <= (16u << 20) && b.capacity() > spare_buffer.capacity())
    spare_buffer = std::move(b);
}

class server;

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket socket, server& s);
  ~session();
  void start() { read_head(); }

 private:
  void read_head();
  void on_head(beast::error_code ec);
  void read_body();
  void on_body(beast::error_code ec);
  void answer(reply r, bool close);
  void on_written(beast::error_code ec, bool close);
  void shut();
  void drain();

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  // A body of announced length, read directly into a buffer the connection reuses.
  std::unique_ptr<char[]> body_;
  std::size_t body_size_ = 0, body_capacity_ = 0;
  bool direct_ = false;               // the body is in body_, not in the parser
  std::array<char, 4096> scratch_{};  // what a closing client still sends goes here
  std::shared_ptr<response> out_;
  server& s_;
  clock::time_point started_;
  bool counted_ = false;  // this request is in flight
  bool head_ = false;     // the request is HEAD: the answer's head only
  std::string route_;
};

class server {
 public:
  explicit server(settings s)
      : cfg_(std::move(s)),
        control_(net::make_strand(ioc_)),
        acceptor_(control_),
        signals_(control_),
        hup_(control_),
        retry_(control_),
        drain_deadline_(control_) {}

  // Compiles the directory for the first time; false (having said why) when it does not.
  bool load() {
    load_outcome first = load_directory(cfg_);
    if (!first.reg) {
      print_error(first.error);
      for (const auto& d : first.diagnostics) {
        const auto& o = d.as_object();
        std::fprintf(stderr, "%s:%lld:%lld: error: %s\n", o.at("file").as_string().c_str(),
                     static_cast<long long>(o.at("line").as_int64()),
                     static_cast<long long>(o.at("column").as_int64()),
                     o.at("message").as_string().c_str());
      }
      return false;
    }
    registry_ = first.reg;
    return true;
  }

  int run() {
    if (!load()) return exit_failed;
    beast::error_code ec;
    const tcp::endpoint at(net::ip::make_address(cfg_.host), cfg_.port);
    acceptor_.open(at.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(at, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      print_error("cannot listen on " + cfg_.host + ":" + std::to_string(cfg_.port) + ": " +
                  ec.message());
      return exit_failed;
    }
    const auto bound = acceptor_.local_endpoint();
    const std::string host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                                     : bound.address().to_string();
    std::printf(
        "carerules serve: %zu ruleset(s) from %s, %u thread(s); listening on http://%s:%u\n",
        registry_->by_name.size(), cfg_.dir.string().c_str(), cfg_.threads, host.c_str(),
        static_cast<unsigned>(bound.port()));
    std::fflush(stdout);
    accept();
    signals_.add(SIGTERM);
    signals_.add(SIGINT);
    hup_.add(SIGHUP);
    signals_.async_wait([this](beast::error_code e, int) {
      if (!e) drain();
    });
    wait_hup();
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < cfg_.threads; ++i) pool.emplace_back([this] { ioc_.run(); });
    ioc_.run();
    for (auto& t : pool) t.join();
    std::fprintf(stderr, "carerules serve: stopped\n");
    return exit_ok;
  }

  // Called by sessions.
  const settings& cfg() const { return cfg_; }
  bool draining() const { return draining_.load(); }
  std::shared_ptr<const registry> current() const {
    std::lock_guard<std::mutex> lock(registry_m_);
    return registry_;
  }
  void opened() { ++connections_; }
  void closed() { --connections_; }
  void begin_request() { ++in_flight_; }
  void end_request(const std::string& route, unsigned code, clock::time_point started) {
    metrics_.request(route, code, std::chrono::duration<double>(clock::now() - started).count());
    if (--in_flight_ == 0 && draining_.load()) net::post(ioc_, [this] { stop_if_idle(); });
  }
  reply handle(const request& req, std::string_view body);

 private:
  void accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket sock) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      if (ec) {  // out of descriptors and the like: wait a little instead of spinning
        retry_.expires_after(std::chrono::milliseconds(50));
        retry_.async_wait([this](beast::error_code) {
          if (acceptor_.is_open()) accept();
        });
        return;
      }
      if (connections_.load() >= static_cast<int>(cfg_.max_connections)) {
        static const char busy[] =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            "Connection: close\r\nContent-Length: 37\r\n\r\n{\"error\": \"too many "
            "connections\"}\n\n";
        beast::error_code ignored;
        sock.non_blocking(true, ignored);
        sock.write_some(net::buffer(busy, sizeof busy - 1), ignored);
        sock.close(ignored);
        metrics_.request("connection", 503, 0);
      } else {
        beast::error_code ignored;
        sock.set_option(tcp::no_delay(true), ignored);
        std::make_shared<session>(std::move(sock), *this)->start();
      }
      accept();
    });
  }

  void wait_hup() {
    hup_.async_wait([this](beast::error_code e, int) {
      if (e) return;
      // Compiled off the control strand, so that connections are still accepted meanwhile;
      // a burst of signals queues one reload, not one per signal (each would hold a thread).
      if (!reload_queued_.exchange(true))
        net::post(ioc_, [this] {
          reload_queued_ = false;
          reply r = reload();
          std::fprintf(stderr, "carerules serve: SIGHUP: %s", r.body.c_str());
        });
      wait_hup();
    });
  }

  reply reload() {
    std::lock_guard<std::mutex> one_at_a_time(reload_m_);
    load_outcome next = load_directory(cfg_);
    metrics_.reload(next.reg != nullptr);
    if (!next.reg) {
      reply r;
      r.code = 422;
      r.body = json::serialize(
                   json::object{{"error", next.error + "; the rulesets loaded before keep serving"},
                                {"diagnostics", std::move(next.diagnostics)}}) +
               "\n";
      return r;
    }
    {
      std::lock_guard<std::mutex> lock(registry_m_);
      registry_ = next.reg;
    }
    reply r;
    r.body = "{\"status\":\"reloaded\",\"rulesets\":" + next.reg->list + "}\n";
    return r;
  }

  // SIGTERM: no new connections or requests; the requests in flight finish, then the threads
  // stop (at the latest after --drain-timeout).
  void drain() {
    if (draining_.exchange(true)) return;
    std::fprintf(stderr, "carerules serve: draining (%d request(s) in flight)\n",
                 in_flight_.load());
    beast::error_code ignored;
    acceptor_.close(ignored);
    hup_.cancel(ignored);
    drain_deadline_.expires_after(cfg_.drain_timeout);
    drain_deadline_.async_wait([this](beast::error_code e) {
      if (!e) ioc_.stop();
    });
    stop_if_idle();
  }
  void stop_if_idle() {
    if (draining_.load() && in_flight_.load() == 0) ioc_.stop();
  }

  reply evaluate(const loaded& l, const request& req, std::string_view body,
                 std::string_view query);

  settings cfg_;
  net::io_context ioc_;
  // The acceptor, the signal sets and the server's timers are used on this strand only: the
  // SIGTERM handler closes the acceptor, which must not happen while another thread is in
  // the accept handler (ThreadSanitizer caught that race at shutdown).
  net::strand<net::io_context::executor_type> control_;
  tcp::acceptor acceptor_;
  net::signal_set signals_, hup_;
  net::steady_timer retry_, drain_deadline_;
  mutable std::mutex registry_m_;
  std::shared_ptr<const registry> registry_;
  std::mutex reload_m_;
  metrics metrics_;
  std::atomic<int> connections_{0}, in_flight_{0};
  std::atomic<bool> draining_{false};
  std::atomic<bool> reload_queued_{false};  // a SIGHUP reload is posted and not yet started
};

session::session(tcp::socket socket, server& s) : stream_(std::move(socket)), s_(s) { s_.opened(); }
session::~session() {
  // A request read and never answered: the client went away or was too slow (counted as
  // 499, "client closed request", as proxies do).
  if (counted_) s_.end_request(route_, 499, started_);
  s_.closed();
}

void session::read_head() {
  parser_.emplace();
  parser_->body_limit(s_.cfg().max_body);
  parser_->header_limit(64 * 1024);
  stream_.expires_after(s_.cfg().header_timeout);
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_head(ec); });
}

void session::on_head(beast::error_code ec) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
      ec == net::error::operation_aborted || ec == net::error::connection_reset ||
      ec == net::error::eof)
    return shut();
  started_ = clock::now();
  s_.begin_request();
  counted_ = true;
  route_ = "other";
  if (ec == http::error::body_limit)  // the announced length is over the limit
    return answer(error_reply(413, "the body is over --max-body " +
                                       std::to_string(s_.cfg().max_body) + " bytes"),
                  true);
  if (ec == http::error::header_limit)
    return answer(error_reply(431, "the request head is over 64 KiB"), true);
  if (ec) return answer(error_reply(400, "not an HTTP request: " + ec.message()), true);
  head_ = parser_->get().method() == http::verb::head;
  if (s_.draining()) return answer(error_reply(503, "the service is shutting down"), true);
  if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
    static const char go_on[] = "HTTP/1.1 100 Continue\r\n\r\n";
    stream_.expires_after(s_.cfg().body_timeout);
    net::async_write(stream_, net::buffer(go_on, sizeof go_on - 1),
                     [self = shared_from_this()](beast::error_code e, std::size_t) {
                       if (e) return self->shut();
                       self->read_body();
                     });
    return;
  }
  read_body();
}

// A body of announced length is read straight into its string in as few reads as the socket
// allows (the general parser reads it piece by piece, several times slower for megabytes);
// chunked bodies go through the parser.
void session::read_body() {
  stream_.expires_after(s_.cfg().body_timeout);
  const auto length = parser_->content_length();
  if (!length || parser_->chunked()) {
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
    return;
  }
  const auto n = static_cast<std::size_t>(*length);
  direct_ = true;
  body_size_ = n;
  if (n > body_capacity_) {  // not zero-filled: every byte is read into
    body_ = std::make_unique_for_overwrite<char[]>(n);
    body_capacity_ = n;
  }
  const std::size_t have = std::min(n, buffer_.size());
  net::buffer_copy(net::buffer(body_.get(), have), buffer_.data());
  buffer_.consume(have);
  if (have == n) return on_body({});
  net::async_read(
      stream_, net::buffer(body_.get() + have, n - have),
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
}

void session::on_body(beast::error_code ec) {
  if (ec == http::error::body_limit)
    return answer(error_reply(413, "the body is over --max-body " +
                                       std::to_string(s_.cfg().max_body) + " bytes"),
                  true);
  // A body the parser refused (a bad chunk size, say) is the client's mistake: answered. A
  // client gone mid-body (partial_message) is not, and counts as 499 as before.
  if (ec == http::error::bad_chunk || ec == http::error::bad_chunk_extension ||
      ec == http::error::bad_transfer_encoding || ec == http::error::bad_content_length)
    return answer(error_reply(400, "bad request body: " + ec.message()), true);
  if (ec) return shut();  // a timeout has closed the socket already: nothing can be answered
  request req = parser_->release();
  const std::string_view body =
      direct_ ? std::string_view(body_.get(), body_size_) : std::string_view(req.body());
  reply r;
  try {
    r = s_.handle(req, body);
  } catch (const std::exception& e) {
    r = error_reply(500, std::string("internal error: ") + e.what());
  }
  direct_ = false;
  if (body_capacity_ > (16u << 20)) {  // a connection keeps at most 16 MiB between requests
    body_.reset();
    body_capacity_ = 0;
  }
  answer(std::move(r), !req.keep_alive() || s_.draining());
}

void session::answer(reply r, bool close) {
  route_ = r.route;
  out_ = std::make_shared<response>(static_cast<http::status>(r.code), 11);
  out_->set(http::field::server, std::string("carerules/") + version_string);
  out_->set(http::field::content_type, r.type);
  for (const auto& [k, v] : r.headers) out_->set(k, v);
  out_->keep_alive(!close);
  out_->body() = std::move(r.body);
  out_->prepare_payload();
  if (head_) {  // the length the GET would have, and no body (RFC 9110 §9.3.2)
    const std::size_t length = out_->body().size();
    out_->body().clear();
    out_->content_length(length);
    head_ = false;
  }
  const unsigned code = r.code;
  stream_.expires_after(s_.cfg().body_timeout);
  http::async_write(stream_, *out_,
                    [self = shared_from_this(), close, code](beast::error_code ec, std::size_t) {
                      if (self->counted_) {
                        self->counted_ = false;
                        self->s_.end_request(self->route_, code, self->started_);
                      }
                      self->on_written(ec, close);
                    });
}

void session::on_written(beast::error_code ec, bool close) {
  give_spare_buffer(std::move(out_->body()));
  out_.reset();
  if (ec || close || s_.draining()) return shut();
  read_head();
}

// Closing: our side first, then what the client still sends is read and dropped for up to a
// second, so that a client still sending a body we refused (413) reads our answer instead of
// a reset that discards it.
void session::shut() {
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) return stream_.close();
  stream_.expires_after(std::chrono::seconds(1));
  drain();
}

void session::drain() {
  stream_.async_read_some(net::buffer(scratch_),
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            if (ec) return self->stream_.close();
                            self->drain();
                          });
}

// ---- routes -----------------------------------------------------------------------------------

reply server::handle(const request& req, std::string_view body) {
  const std::string_view target = req.target();
  const auto q = target.find('?');
  const std::string_view raw_path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
  // The path's segments, percent-decoded.
  std::vector<std::string> seg;
  for (std::size_t i = 0; i < raw_path.size();) {
    if (raw_path[i] == '/') {
      ++i;
      continue;
    }
    const auto end = std::min(raw_path.find('/', i), raw_path.size());
    bool ok = true;
    seg.push_back(percent_decode(raw_path.substr(i, end - i), false, ok));
    if (!ok) return error_reply(400, "bad percent-encoding in the path");
    i = end;
  }
  const auto method = req.method();
  auto only = [&](http::verb allowed, const char* route) -> std::optional<reply> {
    if (method == allowed || (allowed == http::verb::get && method == http::verb::head))
      return std::nullopt;  // HEAD wherever GET works
    reply r = error_reply(
        405, std::string("use ") + std::string(http::to_string(allowed)) + " for " + route);
    r.route = route;
    r.headers.emplace_back("Allow", std::string(http::to_string(allowed)));
    return r;
  };
  auto routed = [](reply r, const char* route) {
    r.route = route;
    return r;
  };
  const auto reg = current();
  if (seg.size() == 1 && seg[0] == "healthz") {
    if (auto r = only(http::verb::get, "/healthz")) return *r;
    if (draining()) return routed(error_reply(503, "draining"), "/healthz");
    reply r;
    r.route = "/healthz";
    r.body = "{\"status\":\"ok\"}\n";
    return r;
  }
  if (seg.size() == 1 && seg[0] == "metrics") {
    if (auto r = only(http::verb::get, "/metrics")) return *r;
    reply r;
    r.route = "/metrics";
    r.type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics_.text(*reg, connections_.load(), in_flight_.load());
    return r;
  }
  if (seg.size() == 2 && seg[0] == "v1" && seg[1] == "reload") {
    if (auto r = only(http::verb::post, "/v1/reload")) return *r;
    return routed(reload(), "/v1/reload");
  }
  if (seg.size() >= 2 && seg.size() <= 4 && seg[0] == "v1" && seg[1] == "rulesets") {
    if (seg.size() == 2) {
      if (auto r = only(http::verb::get, "/v1/rulesets")) return *r;
      reply r;
      r.route = "/v1/rulesets";
      r.body = reg->list + "\n";
      return r;
    }
    const char* route = seg.size() == 3        ? "/v1/rulesets/{name}"
                        : seg[3] == "schema"   ? "/v1/rulesets/{name}/schema"
                        : seg[3] == "evaluate" ? "/v1/rulesets/{name}/evaluate"
                                               : nullptr;
    if (route == nullptr)
      return error_reply(404, "no route " + std::string(raw_path) +
                                  " (GET /v1/rulesets/NAME, GET /v1/rulesets/NAME/schema, POST "
                                  "/v1/rulesets/NAME/evaluate)");
    if (auto r = only(seg.size() == 4 && seg[3] == "evaluate" ? http::verb::post : http::verb::get,
                      route))
      return *r;
    const auto it = reg->by_name.find(seg[2]);
    if (it == reg->by_name.end()) {
      std::string names;
      for (const auto& [n, l] : reg->by_name) names += (names.empty() ? "" : ", ") + n;
      return routed(error_reply(404, "no ruleset named `" + seg[2] + "` (serving: " + names + ")"),
                    route);
    }
    reply r;
    r.route = route;
    if (seg.size() == 3) {
      r.body = it->second->info + "\n";
    } else if (seg[3] == "schema") {
      r.type = "application/schema+json";
      r.body = it->second->schema;
      if (r.body.empty() || r.body.back() != '\n') r.body += '\n';
    } else {
      r = evaluate(*it->second, req, body, query);
      r.route = route;
    }
    return r;
  }
  return error_reply(404, "no route " + std::string(raw_path) +
                              " (GET /healthz, /metrics, /v1/rulesets; POST /v1/reload)");
}

reply server::evaluate(const loaded& l, const request& req, std::string_view body,
                       std::string_view query) {
  eval_options eo;
  eo.threads = 1;
  for (std::size_t i = 0; i < query.size();) {
    const auto end = std::min(query.find('&', i), query.size());
    const std::string_view pair = query.substr(i, end - i);
    i = end + 1;
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    bool ok1 = true, ok2 = true;
    const std::string key = percent_decode(pair.substr(0, eq), true, ok1);
    const std::string value =
        eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1), true, ok2);
    if (!ok1 || !ok2) return error_reply(400, "bad percent-encoding in the query");
    if (key == "asof") {
      try {
        eo.asof = carerules::resolve_asof(value);
      } catch (const std::invalid_argument&) {
        return error_reply(400, "asof needs a date YYYY-MM-DD, got \"" + value + "\"");
      }
      if (value.empty()) return error_reply(400, "asof needs a date YYYY-MM-DD, got \"\"");
    } else if (key == "each" || key == "subject") {
      if (!valid_dotted_path(value))
        return error_reply(400,
                           key + " needs a dotted path such as residents, got \"" + value + "\"");
      (key == "each" ? eo.each : eo.subject) = value;
    } else {
      return error_reply(400, "unknown query parameter `" + key + "` (asof, each, subject)");
    }
  }
  if (eo.asof.empty()) eo.asof = carerules::resolve_asof("");
  const auto type = req[http::field::content_type];
  const std::string_view media = type.substr(0, type.find(';'));
  const bool lines = beast::iequals(media, "application/x-ndjson") ||
                     beast::iequals(media, "application/ndjson") ||
                     beast::iequals(media, "application/jsonl");
  const std::uint64_t line_bytes = cfg_.copts.limits.line_bytes;
  reply r;
  r.headers.emplace_back("X-Carerules-Digest", l.rs.digest());
  if (!lines) {
    if (body.size() > line_bytes)
      return error_reply(413, "the record has " + std::to_string(body.size()) +
                                  " bytes, over the line_bytes limit " +
                                  std::to_string(line_bytes));
    std::vector<batch_record> one(1);
    one[0].text = std::string(body);
    batch_text t = l.rs.evaluate_text(one, eo, line_format::report, ",");
    // A report with errors: the body may not be one JSON object at all (not JSON, an array,
    // two objects), which is a bad request; the library's reading says which, with the same
    // allowances as for any record (bad UTF-8, lone surrogates, huge exponents, depth).
    const auto unreadable = [&] {
      eval_options whole = eo;
      whole.each.clear();  // with `each`, a missing list is unreadable too: not this question
      return l.rs.evaluate(body, whole).unreadable;
    };
    if (t.with_errors > 0 && unreadable())
      return error_reply(400,
                         "the body is not one JSON object (send several records as "
                         "application/x-ndjson, one per line)");
    metrics_.records(t.outputs, t.with_errors);
    r.body = eo.each.empty() ? std::move(t.text) + "\n" : "[" + t.text + "]\n";
    r.headers.emplace_back("X-Carerules-Record-Errors", std::to_string(t.with_errors));
    return r;
  }
  // JSON lines: one report per non-blank line, in order; a bad line is its own report's error.
  std::vector<batch_record> records;
  std::uint64_t line = 0;
  for (std::size_t i = 0; i <= body.size();) {
    auto end = body.find('\n', i);
    if (end == std::string::npos) end = body.size();
    std::string_view text(body.data() + i, end - i);
    ++line;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (!blank_line(text)) {
      batch_record br;
      br.line = line;
      if (text.size() > line_bytes)
        br.oversize = text.size();
      else
        br.text = std::string(text);
      records.push_back(std::move(br));
    }
    if (end == body.size()) break;
    i = end + 1;
  }
  eo.threads = cfg_.threads;
  batch_text t;
  t.text = take_spare_buffer();
  l.rs.evaluate_text(records, eo, line_format::report, "\n", t);
  if (t.outputs) t.text += '\n';
  metrics_.records(t.outputs, t.with_errors);
  r.type = "application/x-ndjson";
  r.body = std::move(t.text);
  r.headers.emplace_back("X-Carerules-Record-Errors", std::to_string(t.with_errors));
  return r;
}

}  // namespace

int run_serve(const std::vector<std::string>& args) {
  parsed_args a = parse_args(args, {{"rulesets", 0, true},
                                    {"listen", 0, true},
                                    {"threads", 0, true},
                                    {"max-body", 0, true},
                                    {"max-connections", 0, true},
                                    {"header-timeout", 0, true},
                                    {"body-timeout", 0, true},
                                    {"drain-timeout", 0, true}});
  if (a.help) return print_help(*help_text("serve"));
  if (!a.positional.empty()) throw usage_error("serve takes no positional argument");
  settings s;
  const auto dir = a.last("rulesets");
  if (!dir || dir->empty())
    throw usage_error("missing --rulesets DIR (the *.rules files to serve)");
  s.dir = *dir;
  s.copts = common_compile_options(a);
  if (auto l = a.last("listen")) parse_listen(*l, s);
  s.threads = thread_count(static_cast<unsigned>(parse_count(a, "threads", 0, 256)), 256);
  s.max_body = parse_count(a, "max-body", s.max_body, std::uint64_t{1} << 40);
  if (s.max_body == 0) throw usage_error("--max-body must be at least 1");
  // As many connections as descriptors allow: raise the soft limit to the hard one.
  rlimit fds{};
  if (::getrlimit(RLIMIT_NOFILE, &fds) == 0 && fds.rlim_cur < fds.rlim_max) {
    fds.rlim_cur = fds.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &fds);
    ::getrlimit(RLIMIT_NOFILE, &fds);
  }
  const std::uint64_t fd_room = fds.rlim_cur > 64 ? fds.rlim_cur - 64 : 16;
  s.max_connections = static_cast<std::size_t>(
      parse_count(a, "max-connections", std::min<std::uint64_t>(10'000, fd_room), 1'000'000));
  if (s.max_connections == 0) throw usage_error("--max-connections must be at least 1");
  s.header_timeout = parse_seconds(a, "header-timeout", s.header_timeout);
  s.body_timeout = parse_seconds(a, "body-timeout", s.body_timeout);
  s.drain_timeout = parse_seconds(a, "drain-timeout", s.drain_timeout);
  std::error_code ec;
  if (!fs::is_directory(s.dir, ec)) {
    print_error("`" + s.dir.string() + "` is not a directory");
    return exit_failed;
  }
  server srv(std::move(s));
  return srv.run();
}

#ifdef CARERULES_SERVE_FUZZ
// The fuzz target's entry (tests/fuzz/serve_fuzz.cpp): any bytes as one HTTP request, parsed
// by the service's parser and answered by its routes against a small ruleset, without a
// socket. Every answer must be one the API promises: a known status code, and a JSON body
// wherever the type says JSON.
int serve_fuzz_one(const std::uint8_t* data, std::size_t size) {
  static server* const srv = [] {
    settings st;
    st.dir = fs::temp_directory_path() / ("carerules-serve-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(st.dir);
    std::FILE* f = std::fopen((st.dir / "tiny.rules").c_str(), "wb");
    const char* text =
        "ruleset tiny {\n  title \"t\" version \"1\"\n  input { id : string  beds : int\n"
        "    rs : list { x : int } }\n  hazard B1 \"b\" { cite \"c\" when beds > 100 or "
        "any(r in rs where r.x > 1) }\n  grade g : color { red when present(B1) blue "
        "otherwise }\n}\n";
    if (f == nullptr || std::fputs(text, f) < 0 || std::fclose(f) != 0) std::abort();
    auto* s = new server(std::move(st));
    if (!s->load()) std::abort();
    return s;
  }();
  http::request_parser<http::string_body> p;
  p.eager(true);
  p.body_limit(1u << 20);
  p.header_limit(16 * 1024);
  beast::error_code ec;
  net::const_buffer in(data, size);
  while (in.size() > 0 && !p.is_done()) {
    const std::size_t n = p.put(in, ec);
    if (ec == http::error::need_more) {
      ec = {};
      if (n == 0) break;
    }
    if (ec) return 0;  // not HTTP: the session answers 400 and closes
    in += n;
  }
  if (!p.is_done()) {
    p.put_eof(ec);
    if (ec || !p.is_done()) return 0;
  }
  const request& req = p.get();
  const reply r = srv->handle(req, req.body());
  static const unsigned codes[] = {200, 400, 404, 405, 413, 422, 500};
  if (std::find(std::begin(codes), std::end(codes), r.code) == std::end(codes)) std::abort();
  if (r.code == 500) std::abort();  // an internal error is a bug, whatever the request
  if (r.type == "application/json" || r.type == "application/schema+json") {
    json::error_code jec;
    json::parse_options po;
    po.max_depth = 1u << 16;
    json::parse(r.body, jec, {}, po);
    if (jec) std::abort();
  }
  return 0;
}
#endif

}  // namespace carerules::cli
