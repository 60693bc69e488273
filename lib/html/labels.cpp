// The built-in display labels (Chinese and English) of every code a report writes.
#include "carerules/labels.hpp"

#include <algorithm>
#include <iterator>

namespace carerules {

namespace {

struct entry {
  std::string_view key, zh, en;
};

std::string_view pick(lang l, const entry& e) { return l == lang::zh ? e.zh : e.en; }

template <std::size_t N>
const entry* find(const entry (&table)[N], std::string_view key) {
  auto it = std::find_if(std::begin(table), std::end(table),
                         [&](const entry& e) { return e.key == key; });
  return it == std::end(table) ? nullptr : it;
}

// Rectification orders (Shenyang's terms).
constexpr entry actions[] = {
    {"immediate", "立行立改", "fix immediately"},
    {"deadline", "限期整改", "fix by a deadline"},
    {"suspend", "停业整改", "suspend operation until fixed"},
    {"close", "取缔关停", "close down"},
};

// Aspects of the 2023 major-hazard standard (Articles 4–7 and 2 / 3(五)).
constexpr entry categories[] = {
    {"facilities", "重要设施设备", "facilities and equipment"},
    {"qualifications", "安全相关资质证照", "safety qualifications and licences"},
    {"management", "日常管理", "daily management"},
    {"services", "违法违规服务", "unlawful service"},
    {"other", "其他", "other"},
};

// The four colours with the risk level each names.
constexpr entry colours[] = {
    {"red", "红", "red"},
    {"orange", "橙", "orange"},
    {"yellow", "黄", "yellow"},
    {"blue", "蓝", "blue"},
};
constexpr entry colour_risks[] = {
    {"red", "重大风险", "major risk"},
    {"orange", "较大风险", "considerable risk"},
    {"yellow", "一般风险", "general risk"},
    {"blue", "低风险", "low risk"},
};
constexpr entry outcomes[] = {
    {"none", "未评定", "none"},
    {"undetermined", "无法判定", "undetermined"},
    {"error", "出错", "error"},
};

constexpr entry words[] = {
    {"report_title", "养老机构检查评估报告", "Care institution inspection report"},
    {"summary_title", "检查评估汇总", "Inspection summary"},
    {"back_to_index", "← 返回汇总", "← back to the summary"},
    {"subject", "机构编号", "Subject"},
    {"no_subject", "(无编号)", "(no id)"},
    {"name", "名称", "Name"},
    {"asof", "评估日期", "As of"},
    {"ruleset", "规则集", "Ruleset"},
    {"version", "版本", "Version"},
    {"effective", "施行日期", "Effective"},
    {"digest", "摘要", "Digest"},
    {"imported_files", "引用的规则文件", "Imported files"},
    {"grades", "评定结果", "Grades"},
    {"grade", "评定", "Grade"},
    {"nothing", "无", "none"},
    {"present_hazards", "存在的隐患", "Hazards present"},
    {"no_present_hazards", "未发现存在的隐患", "No hazard present"},
    {"undetermined_hazards", "无法判定的项目 (缺少资料)", "Undetermined items (facts missing)"},
    {"error_hazards", "判定出错的项目", "Items in error"},
    {"absent_hazards", "不存在的隐患", "Hazards absent"},
    {"item", "条目", "Item"},
    {"hazard", "隐患", "Hazard"},
    {"category", "类别", "Category"},
    {"severity", "等级", "Severity"},
    {"clause", "依据条款", "Clause"},
    {"action", "整改要求", "Action"},
    {"within", "期限", "within"},
    {"days", "天", "days"},
    {"due", "整改期限", "Due"},
    {"advice", "建议", "Advice"},
    {"evidence", "依据事实", "Evidence"},
    {"missing_facts", "缺少的资料", "Missing facts"},
    {"scores", "评分", "Scores"},
    {"section", "部分", "Section"},
    {"points", "得分", "Points"},
    {"unknown", "未知", "unknown"},
    {"provisional", "暂定, 部分项目无法评分", "provisional: some items undecided"},
    {"reasoning", "评定理由", "Reasoning"},
    {"because", "依据", "Because"},
    {"errors", "记录错误", "Record errors"},
    {"no_errors", "无", "none"},
    {"assessor_sign", "评估人员签字", "Assessor's signature"},
    {"director_sign", "机构负责人签字", "Director's signature"},
    {"date", "日期", "Date"},
    {"by", "分组", "Grouped by"},
    {"group", "分组", "Group"},
    {"no_group", "(未填写)", "(not given)"},
    {"records", "记录数", "Records"},
    {"reports", "报告数", "Reports"},
    {"with_errors", "有错误的记录", "With errors"},
    {"with_present_hazard", "存在隐患的机构", "With a hazard present"},
    {"total", "合计", "Total"},
    {"present_by_hazard", "各隐患存在数", "Hazards present, by item"},
    {"present", "存在", "present"},
    {"absent", "不存在", "absent"},
    {"undetermined", "无法判定", "undetermined"},
    {"error", "出错", "error"},
    {"institutions_with_present", "存在隐患的机构名单", "Institutions with a hazard present"},
    {"count", "数量", "count"},
    {"status", "状态", "status"},
};

}  // namespace

std::optional<lang> parse_lang(std::string_view s) {
  if (s == "zh") return lang::zh;
  if (s == "en") return lang::en;
  return std::nullopt;
}

std::string_view to_string(lang l) { return l == lang::zh ? "zh" : "en"; }

std::string_view label(lang l, hazard_status s) {
  switch (s) {
    case hazard_status::present:
      return l == lang::zh ? "存在" : "present";
    case hazard_status::absent:
      return l == lang::zh ? "不存在" : "absent";
    case hazard_status::undetermined:
      return l == lang::zh ? "无法判定" : "undetermined";
    case hazard_status::error:
      return l == lang::zh ? "出错" : "error";
  }
  return "";
}

std::string_view label(lang l, hazard_severity s) {
  if (s == hazard_severity::major) return l == lang::zh ? "重大" : "major";
  return l == lang::zh ? "一般" : "general";
}

std::string_view label(lang l, item_status s) {
  switch (s) {
    case item_status::awarded:
      return l == lang::zh ? "得分" : "awarded";
    case item_status::not_awarded:
      return l == lang::zh ? "未得分" : "not awarded";
    case item_status::undetermined:
      return l == lang::zh ? "无法判定" : "undetermined";
    case item_status::error:
      return l == lang::zh ? "出错" : "error";
  }
  return "";
}

std::string_view label(lang l, item_kind k) {
  if (k == item_kind::item) return l == lang::zh ? "评分项" : "item";
  return l == lang::zh ? "扣分项" : "deduction";
}

std::string action_label(lang l, std::string_view action) {
  const entry* e = find(actions, action);
  return std::string(e ? pick(l, *e) : action);
}

std::string category_label(lang l, std::string_view category) {
  const entry* e = find(categories, category);
  return std::string(e ? pick(l, *e) : category);
}

std::optional<std::string_view> colour_word(lang l, std::string_view value) {
  const entry* e = find(colours, value);
  if (!e) return std::nullopt;
  return pick(l, *e);
}

std::string grade_value_label(lang l, std::string_view value) {
  if (const entry* e = find(colours, value)) {
    const entry* risk = find(colour_risks, value);
    if (l == lang::zh) return std::string(e->zh) + "（" + std::string(risk->zh) + "）";
    return std::string(e->en) + " (" + std::string(risk->en) + ")";
  }
  if (const entry* e = find(outcomes, value)) return std::string(pick(l, *e));
  return std::string(value);
}

std::string_view text(lang l, std::string_view key) {
  const entry* e = find(words, key);
  return e ? pick(l, *e) : key;
}

}  // namespace carerules
