#include "html/style.hpp"

namespace carerules::detail {

// Badge colours (the browser test reads these pixels back): red #c81e1e, orange #f07c00,
// yellow #f5c400, blue #1f5fbf.
const std::string_view html_css = R"(
:root{--red:#c81e1e;--orange:#f07c00;--yellow:#f5c400;--blue:#1f5fbf}
*{box-sizing:border-box}
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif;
 color:#1a1a1a;margin:24px auto;max-width:960px;padding:0 16px;line-height:1.5;font-size:14px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;border-bottom:2px solid #333;padding-bottom:2px;margin:22px 0 8px}
h3{font-size:15px;margin:14px 0 6px}
table{border-collapse:collapse;width:100%;margin:4px 0 10px}
th,td{border:1px solid #999;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#eee;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.meta th{width:9em;background:#f5f5f5}
.sub{font-size:16px;margin:0 0 10px}
.badges{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}
.badge{display:inline-block;padding:6px 14px;border-radius:4px;font-weight:700;font-size:16px;
 border:2px solid #333;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.badge .k{font-weight:400;margin-right:6px}
.b-red{background:var(--red);color:#fff;border-color:var(--red)}
.b-orange{background:var(--orange);color:#000;border-color:var(--orange)}
.b-yellow{background:var(--yellow);color:#000;border-color:var(--yellow)}
.b-blue{background:var(--blue);color:#fff;border-color:var(--blue)}
.b-label{background:#fff;color:#1a1a1a}
.b-none{background:#fff;color:#1a1a1a;border-style:dashed}
.b-undetermined{background:#eee;color:#1a1a1a;border-style:dotted}
.b-error{background:#fff;color:#a00;border-color:#a00}
.st-present{color:#a00;font-weight:700}
.st-undetermined{color:#8a5a00;font-weight:700}
.st-error{color:#a00}
code{font-family:"DejaVu Sans Mono",monospace;font-size:12px;background:#f3f3f3;padding:0 2px}
pre{white-space:pre-wrap;word-break:break-all;background:#f7f7f7;border:1px solid #ddd;padding:6px;
 font-size:12px;margin:4px 0}
details{margin:4px 0;border:1px solid #ccc;padding:4px 8px}
summary{cursor:pointer;font-weight:600}
ul{margin:4px 0;padding-left:20px}
.none{color:#555}
.errors li{color:#a00}
.sign{display:flex;gap:40px;margin-top:28px}
.sign div{flex:1;border-top:1px solid #333;padding-top:4px}
.chart{margin:6px 0 12px}
.legend span{display:inline-block;margin-right:12px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px;
 -webkit-print-color-adjust:exact;print-color-adjust:exact}
footer{margin-top:20px;font-size:12px;color:#555}
@media print{
 @page{size:A4;margin:15mm}
 body{margin:0;max-width:none;padding:0;font-size:10pt}
 h1{font-size:16pt} h2{font-size:12pt;margin:12px 0 6px}
 th,td{padding:2px 4px}
 a{color:inherit;text-decoration:none}
 details{border:none;padding:0}
 h2{break-after:avoid}
 tr,.badge,pre{break-inside:avoid}
 .noprint{display:none}
}
)";

std::string badge_class(std::string_view value) {
  if (value == "red" || value == "orange" || value == "yellow" || value == "blue" ||
      value == "none" || value == "undetermined" || value == "error")
    return "b-" + std::string(value);
  return "b-label";
}

std::string_view value_colour(std::string_view value, std::size_t position) {
  if (value == "red") return "#c81e1e";
  if (value == "orange") return "#f07c00";
  if (value == "yellow") return "#f5c400";
  if (value == "blue") return "#1f5fbf";
  if (value == "none") return "#bbbbbb";
  if (value == "undetermined") return "#dddddd";
  if (value == "error") return "#7a0000";
  static constexpr std::string_view palette[] = {"#1b5e20", "#388e3c", "#66bb6a", "#a5d6a7",
                                                 "#26a69a", "#00695c", "#5e35b1", "#8d6e63"};
  return palette[position % (sizeof(palette) / sizeof(palette[0]))];
}

}  // namespace carerules::detail
