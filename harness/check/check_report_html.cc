// The HTML page of `sockparity check`: the matrix of verdicts, each cell
// linked to its reason and wire log, and the catalog.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "check/report_format.h"
#include "check/verdict_colours.h"
#include "sockparity/check/peer_check.h"

namespace sockparity {
namespace {

// A URL as a link; a path in the source tree as text.
std::string ReferenceHtml(absl::string_view reference) {
  if (!absl::StartsWith(reference, "https://")) return Xml(reference);
  return absl::StrCat("<a href=\"", Xml(reference), "\">", Xml(reference),
                      "</a>");
}

std::string PerturbationHtml(
    const std::vector<std::string>& perturb,
    const std::vector<std::pair<ContractTransport, std::string>>& missing,
    uint64_t seed) {
  if (perturb.empty()) return "";
  std::string out =
      absl::StrCat("<p>perturbation: ", Xml(absl::StrJoin(perturb, ",")),
                   " (libsockparity_perturb.so, seed ", seed, ")</p>\n");
  for (const auto& [kind, why] : missing) {
    absl::StrAppend(&out,
                    "<p class=\"FAILED\"><b>perturbation not in effect on ",
                    Xml(ContractTransportName(kind)), "</b>: ", Xml(why),
                    "; its verdicts are for plain I/O</p>\n");
  }
  return out;
}

// Each verdict's cell colour from the one table (verdict_colours.h).
std::string VerdictStyle() {
  std::string style;
  for (const VerdictColour& colour : kVerdictColours) {
    for (Verdict verdict : kAllVerdicts) {
      if (VerdictName(verdict) != colour.verdict) continue;
      // A class name with '/' ("n/a") is escaped in a CSS selector.
      std::string name = Short(verdict);
      std::string selector;
      for (char c : name) {
        if (c == '/') selector += '\\';
        selector += c;
      }
      absl::StrAppend(&style, "td.", selector, "{background:", colour.colour,
                      "}");
    }
  }
  return style;
}

}  // namespace

std::string CheckReport::Html() const {
  std::string rows, details;
  std::vector<ContractTransport> columns;
  for (const Cell& cell : cells) {
    if (std::find(columns.begin(), columns.end(), cell.transport) ==
        columns.end()) {
      columns.push_back(cell.transport);
    }
  }
  auto cell_html = [&](const std::string& id, const std::string& transport,
                       const CaseResult& result) {
    const std::string anchor = absl::StrCat("d-", id, "-", transport);
    absl::StrAppend(&details, "<section id=\"", Xml(anchor), "\"><h3>", Xml(id),
                    " on ", Xml(transport), ": <span class=\"",
                    Short(result.verdict), "\">", VerdictName(result.verdict),
                    "</span></h3><p>", Xml(result.reason), "</p><pre>",
                    Xml(result.wire_log), "</pre>",
                    result.server_output.empty()
                        ? ""
                        : absl::StrCat("<p>The ", Xml(subject),
                                       "'s output during the "
                                       "case:</p><pre class=\"output\">",
                                       Xml(result.server_output), "</pre>"),
                    "</section>\n");
    return absl::StrCat("<td class=\"", Short(result.verdict), "\"><a href=\"#",
                        Xml(anchor), "\">", VerdictName(result.verdict),
                        "</a></td>");
  };
  for (const CaseInfo& info : cases) {
    absl::StrAppend(&rows, "<tr><th>", Xml(info.id),
                    "</th><td class=\"name\" title=\"", Xml(info.description),
                    "\">", Xml(info.name), "</td>");
    for (ContractTransport kind : columns) {
      const CaseResult* found = nullptr;
      for (const Cell& cell : cells) {
        if (cell.case_id == info.id && cell.transport == kind)
          found = &cell.result;
      }
      absl::StrAppend(
          &rows, found ? cell_html(info.id, ContractTransportName(kind), *found)
                       : "<td>-</td>");
    }
    const CaseResult* cross_result = nullptr;
    for (const auto& [id, result] : cross) {
      if (id == info.id) cross_result = &result;
    }
    absl::StrAppend(&rows,
                    cross_result ? cell_html(info.id, "across", *cross_result)
                                 : "<td>-</td>",
                    "</tr>\n");
  }
  // What each case checks, and where that is specified.
  std::string catalog =
      "<h2>Cases</h2>\n<table>\n<tr><th>case</th><th>name</th><th>what it "
      "checks</th><th>contract clause</th><th>reference</th></tr>\n";
  for (const CaseInfo& info : cases) {
    absl::StrAppend(&catalog, "<tr id=\"c-", Xml(info.id), "\"><th>",
                    Xml(info.id), "</th><td>", Xml(info.name), "</td><td>",
                    Xml(info.description), "</td><td>", Xml(info.clause),
                    "</td><td>", ReferenceHtml(info.reference), "</td></tr>\n");
  }
  absl::StrAppend(&catalog, "</table>\n");
  std::string header = "<tr><th>case</th><th></th>";
  for (ContractTransport kind : columns)
    absl::StrAppend(&header, "<th>", ContractTransportName(kind), "</th>");
  absl::StrAppend(&header, "<th>across</th></tr>");
  return absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
      "charset=\"utf-8\"><title>sockparity check</title>\n"
      "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:"
      "collapse}"
      "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}",
      VerdictStyle(),
      "td.n\\/a{color:#666}td.FAILED{font-weight:bold}"
      "span.FAILED{color:#b00}pre{background:#f6f6f6;padding:8px;overflow:auto}"
      "a{color:inherit}</style></head><body>\n<h1>sockparity check</h1>\n",
      "<p>", Xml(Totals(*this, ", ", " ")), " &middot; seed ", seed, "</p>\n",
      "<p class=\"provenance\">sockparity ", Xml(provenance.sockparity_version),
      ", peer contract ", Xml(provenance.contract_version), " &middot; <code>",
      Xml(absl::StrJoin(provenance.command, " ")), "</code> &middot; ",
      Xml(Rfc3339(provenance.started)), ", ",
      absl::StrFormat("%.1f", absl::ToDoubleSeconds(provenance.took)),
      " s &middot; ", Xml(provenance.kernel), "</p>\n",
      PerturbationHtml(perturb, perturb_not_in_effect, seed), "<table>\n",
      header, "\n", rows, "</table>\n", catalog, "<h2>Details</h2>\n", details,
      "</body></html>\n");
}

}  // namespace sockparity
