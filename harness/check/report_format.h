// Internal: what check's report formats (check_report.cc,
// check_report_html.cc) write alike.
#ifndef SOCKPARITY_CHECK_REPORT_FORMAT_H_
#define SOCKPARITY_CHECK_REPORT_FORMAT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "sockparity/check/peer_check.h"

namespace sockparity {

// A verdict's short name in the console matrix, and its cells' class in
// the HTML page: "ok", "NON-STRICT", "info", "n/a", "unsup", "FAILED".
std::string Short(Verdict verdict);
// "3 OK, 0 NON-STRICT, ...": every verdict's count, in kAllVerdicts order.
std::string Totals(const CheckReport& report, absl::string_view between,
                   absl::string_view inside);
std::string Rfc3339(absl::Time time);
// Text escaped for XML and HTML; a byte XML 1.0 cannot hold is '?'.
std::string Xml(absl::string_view text);
// The case with id `id`, or null.
const CaseInfo* InfoFor(const std::vector<CaseInfo>& cases,
                        const std::string& id);

}  // namespace sockparity

#endif  // SOCKPARITY_CHECK_REPORT_FORMAT_H_
