// Display labels: the words a person reads for the codes a report writes.
//
// A report's JSON writes codes (`present`, `suspend`, `red`, `facilities`); people read
// 存在, 停业整改, 红（重大风险）, 重要设施设备. This is the one table of those words, in Chinese
// and English, used by the HTML reports, `eval --format table --lang` and
// `eval --format csv --lang`. What the ruleset names itself (hazard titles, input labels,
// section and grade names) is shown as the ruleset writes it; a code this table does not know
// is shown as the code.
//
//   using carerules::lang;
//   std::cout << carerules::label(lang::zh, carerules::hazard_status::present);  // 存在
//   std::cout << carerules::action_label(lang::zh, "deadline");                  // 限期整改
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "carerules/report.hpp"

#pragma GCC visibility push(default)

namespace carerules {

enum class lang : std::uint8_t { zh, en };

// "zh" or "en"; nullopt for anything else.
std::optional<lang> parse_lang(std::string_view s);
std::string_view to_string(lang l);  // "zh" | "en"

std::string_view label(lang l, hazard_status s);    // 存在 不存在 无法判定 出错
std::string_view label(lang l, hazard_severity s);  // 重大 一般
std::string_view label(lang l, item_status s);      // 得分 未得分 无法判定 出错
std::string_view label(lang l, item_kind k);        // 评分项 扣分项

// Rectification actions: immediate 立行立改, deadline 限期整改, suspend 停业整改,
// close 取缔关停. An unknown code is returned as given.
std::string action_label(lang l, std::string_view action);
// Hazard categories by aspect of the 2023 major-hazard standard: facilities, qualifications,
// management, services, other. An unknown category is returned as given.
std::string category_label(lang l, std::string_view category);
// A grade's value: the four colours with their risk names (red 红（重大风险）…), the outcomes
// that are not on a scale (none 无, undetermined 无法判定, error 出错), any other label
// (the ruleset's own, e.g. 四级) as given.
std::string grade_value_label(lang l, std::string_view value);
// The short colour word alone (红 橙 黄 蓝 / red orange yellow blue), nullopt when `value`
// is not one of the four colours.
std::optional<std::string_view> colour_word(lang l, std::string_view value);

// The fixed words of the reports (headings, field names): `key` is the English
// snake_case key, e.g. "asof", "present_hazards". Unknown keys come back as the key.
std::string_view text(lang l, std::string_view key);

}  // namespace carerules
#pragma GCC visibility pop
