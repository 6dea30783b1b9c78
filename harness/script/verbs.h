// Internal: the table of verbs. One entry says all there is about a verb
// apart from what it does: its name and arguments (parsing, formatting,
// help), the Runner member function that runs it, how it uses its socket,
// which ACKs its outcome can see (settling), and whether the generator
// makes it as a look. Adding a verb is its name in enum Verb and one entry
// here, plus a handler in a runner_*.cc file unless one serves already (a
// getsockopt of an int: Runner::SocketOption with .socket_option).
#ifndef SOCKPARITY_SCRIPT_VERBS_H_
#define SOCKPARITY_SCRIPT_VERBS_H_

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "sockparity/script/script.h"
#include "sockparity/script/trace.h"

namespace sockparity::internal {

class Runner;
struct Slot;

// What follows a verb in the text.
enum class Args {
  kNone,
  kNumber,       // N
  kSlot,         // another slot
  kShutHow,      // rd | wr | rdwr
  kSlotReuse,    // slot [reuseaddr]
  kNumberReuse,  // N [reuseaddr]
};

// What a step does to the model of who is connected to whom
// (ScriptSockets), which scopes each registry entry to the sockets its
// trigger touched.
enum class Makes {
  kNothing,         // acts on its open socket (see Changes)
  kPair,            // the slot and SLOT, connected to each other
  kListener,        // a socket listening on an address of its own
  kBound,           // a socket bound to an address of its own
  kBoundToTarget,   // a socket bound to SLOT's address again
  kConnection,      // a socket connecting to SLOT, queued there
  kGoneConnection,  // likewise, by a process gone at once with its socket
  kRefused,         // a socket whose connect found nothing
  kAccepted,        // SLOT's first queued connection's other end
};
// What a step on an existing socket changes in that model.
enum class Changes {
  kNothing,
  kConnects,  // starts a connection to SLOT, queued there, if it had none
  kListens,   // listens from this step on
  kEnds,      // the descriptor is gone
};

// Which ACKs a step's outcome can depend on, beyond what reached its socket
// (Runner::SettleBefore waits for those first).
enum class Acks {
  kNone,
  kWhenNonblocking,  // buffer space: a blocking call waits for it anyway
  kAll,              // states, poll's OUT, sizes, addresses, listeners
};

struct VerbDescriptor {
  Verb verb;
  absl::string_view name;
  Args args;
  absl::string_view help;
  // Exactly one handler. `on_open` runs on the step's open socket (a step
  // on a missing, closed or n/a one gets that outcome without running);
  // `on_any` finds or makes its sockets itself.
  StepOutcome (Runner::*on_open)(const Step&, Slot&) = nullptr;
  StepOutcome (Runner::*on_any)(const Step&) = nullptr;
  // A step that makes its socket ("busy" if it is already open), and how.
  Makes makes = Makes::kNothing;
  Changes changes = Changes::kNothing;
  // Whether it succeeded decides what the socket is from then on (made or
  // not, bound, listening, connected or not): CompareTraces stops comparing
  // a socket that an allowed difference set up on one kind only.
  bool sets_up = false;
  // ...and, set up on one kind only, leaves the socket it names with a
  // different queue (a connection more or fewer): connects, accept.
  bool sets_up_target = false;
  // ...and, set up on one kind only, leaves the address of the socket it
  // names held on one kind only: a connect to that socket reaches another
  // thing on each (bind-same).
  bool shares_target_address = false;
  Acks acks = Acks::kNone;
  // On a connected socket, only its own ACKs matter (not a listener's).
  bool own_acks_only = false;
  // On TCP, compared only as "autotuned": no ACK changes what is compared.
  bool acks_unseen_on_tcp = false;
  // After its own FIN, no ACK changes what it shows (tcp_poll).
  bool acks_unseen_after_fin = false;
  // The SOL_SOCKET option that Runner::SocketOption and BufferSize read.
  int socket_option = 0;
  // It only looks at its socket (or sets what no outcome shows): the
  // generator's look steps pick among these, anywhere.
  bool looks = false;

  constexpr bool creates() const { return makes != Makes::kNothing; }
};

// Every verb, in the order of enum Verb.
absl::Span<const VerbDescriptor> VerbTable();
const VerbDescriptor& Describe(Verb verb);

}  // namespace sockparity::internal

#endif  // SOCKPARITY_SCRIPT_VERBS_H_
