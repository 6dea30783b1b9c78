// Internal: the catalog of `sockparity check` as data. Each group of cases
// (cases/<group>.cc) adds its rows; the table is built once, in catalog
// order, and RunCheck plays it phase by phase.
#ifndef SOCKPARITY_CHECK_CASE_TABLE_H_
#define SOCKPARITY_CHECK_CASE_TABLE_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "check/case_context.h"
#include "sockparity/check/peer_check.h"

namespace sockparity::internal {

// When a case runs on one transport.
enum class CasePhase {
  kWhileServing,  // plays the client while the server runs
  kAfterStop,     // judges the server's start and end once it was stopped
};

// What a case needs of the transport; where it lacks it the case does not
// apply (N/A).
enum class TransportNeed {
  kOneConnection,    // every transport
  kManyConnections,  // not fd:N, which carries one connection
  kUnixName,         // a named UNIX socket: unix: or unix:@
  kUnixPath,         // a socket file: unix: alone
};

// Why `transport` cannot run a case that needs `need`, or nullopt.
std::optional<std::string> Lacks(TransportNeed need,
                                 ContractTransport transport);

// One row of the catalog.
struct Case {
  CaseInfo info;  // id, name, description, contract clause, reference
  TransportNeed need = TransportNeed::kOneConnection;
  CasePhase phase = CasePhase::kWhileServing;
  // Plays against an instance of its own, started for the case and stopped
  // after it (the case changes the server: its descriptor limit).
  bool fresh_server = false;
  // Step texts that give the registry its context when records differ
  // across transports (e.g. "abort": the server aborted the connection).
  std::vector<std::string> context = {};
  // The body for its phase; the other one stays empty.
  std::function<void(Context&)> play = {};                     // kWhileServing
  std::function<Observed(const StoppedServer&)> judge = {};  // kAfterStop
};

// The rows the groups add, in the order they add them.
class CaseTable {
 public:
  // Aborts on a row whose body does not fit its phase: a bug in the
  // table, met by the first run.
  void Add(Case row);
  std::vector<Case>& rows() { return rows_; }

 private:
  std::vector<Case> rows_;
};

// Each group adds its cases (cases/<group>.cc). Called explicitly, in
// catalog order: registrars run by static initializers would be dropped
// with their object files when linked from a static library.
void AddEchoCases(CaseTable& table);
void AddSegmentationCases(CaseTable& table);
void AddPipeliningCases(CaseTable& table);
void AddBackpressureCases(CaseTable& table);
void AddHalfCloseCases(CaseTable& table);
void AddCloseCases(CaseTable& table);
void AddBadInputCases(CaseTable& table);
void AddConcurrencyCases(CaseTable& table);
void AddListenerCases(CaseTable& table);
void AddNameCases(CaseTable& table);
void AddReleaseCases(CaseTable& table);
void AddDescriptorCases(CaseTable& table);
void AddMemoryCases(CaseTable& table);

// Every case, in catalog order; built on first use.
const std::vector<Case>& Catalog();

}  // namespace sockparity::internal

#endif  // SOCKPARITY_CHECK_CASE_TABLE_H_
