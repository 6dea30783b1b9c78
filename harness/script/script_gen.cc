#include "sockparity/script/script_gen.h"

#include <array>
#include <string>
#include <vector>

namespace sockparity {
namespace {

struct Side {
  std::string name;
  bool open = true;
  bool shut_wr = false;  // it sent its FIN (shutdown wr or rdwr)
  bool shut_rd = false;
  bool aborted = false;
  int64_t pending = 0;  // bytes sent to it and not yet read
};

// The pair's two ends; `self` is the one a step acts on.
struct Model {
  std::array<Side, 2> sides{Side{.name = "a"}, Side{.name = "b"}};
};

Step Make(const Side& side, Verb verb, int64_t number = 0,
          std::string keyword = "") {
  Step step;
  step.slot = side.name;
  step.verb = verb;
  step.number = number;
  step.keyword = std::move(keyword);
  return step;
}

}  // namespace

uint32_t ByteChoices::operator()(uint32_t n) {
  uint32_t value = 0;
  for (int i = 0; i < 2 && pos_ < bytes_.size(); ++i) {
    value |= uint32_t{bytes_[pos_++]} << (8 * i);
  }
  return n == 0 ? 0 : value % n;
}

Script GenerateLifecycleScript(const ChoiceSource& choose,
                               const ScriptGenOptions& options) {
  Script script;
  Step pair;
  pair.slot = "a";
  pair.verb = Verb::kPair;
  pair.target = "b";
  script.steps.push_back(pair);
  Model model;
  const int steps = 1 + static_cast<int>(choose(options.max_steps));
  for (int i = 0; i < steps; ++i) {
    const uint32_t who = choose(2);
    Side& self = model.sides[who];
    Side& peer = model.sides[1 - who];
    if (!self.open) {
      if (!peer.open) break;
      continue;
    }
    // The steps legal now, each a small function of the model.
    std::vector<std::function<Step()>> legal;
    const bool peer_gone = !peer.open;
    // Sends only where every kind delivers them: the peer still reads.
    if (!self.shut_wr && !peer_gone && !peer.shut_rd && !peer.aborted &&
        !self.aborted) {
      legal.push_back([&] {
        int64_t n = 1 + choose(options.max_send);
        peer.pending += n;
        return Make(self, Verb::kSend, n);
      });
    }
    const bool peer_finished = peer.shut_wr || !peer.open;
    // A reset peer (abort) is documented for one recv, poll and so-error.
    if (self.pending > 0) {
      legal.push_back([&] {
        int64_t n = 1 + choose(static_cast<uint32_t>(
                            std::min<int64_t>(self.pending, 1 << 16)));
        self.pending -= n;
        return Make(self, Verb::kRecvExactly, n);
      });
      legal.push_back([&] { return Make(self, Verb::kPeek, 1 + choose(64)); });
    }
    if (self.pending > 0 || (peer_finished && !peer.aborted)) {
      legal.push_back([&] {
        int64_t n = 1 + choose(8192);
        self.pending -= std::min(self.pending, n);
        return Make(self, Verb::kRecv, n);
      });
    }
    if (!peer.aborted) {
      legal.push_back([&] {
        self.pending = 0;
        return Make(self, Verb::kDrain);
      });
    }
    if (peer_finished && !peer.aborted) {
      legal.push_back([&] {
        self.pending = 0;
        return Make(self, Verb::kRecvUntilEof);
      });
    }
    legal.push_back([&] { return Make(self, Verb::kPoll); });
    legal.push_back([&] { return Make(self, Verb::kSoError); });
    legal.push_back([&] { return Make(self, Verb::kSndbuf); });
    legal.push_back([&] { return Make(self, Verb::kPeercred); });
    legal.push_back([&] { return Make(self, Verb::kNodelay); });
    legal.push_back([&] { return Make(self, Verb::kSockname); });
    legal.push_back([&] { return Make(self, Verb::kTcpState); });
    if (!self.shut_wr && !peer.aborted) {
      legal.push_back([&] {
        self.shut_wr = true;
        return Make(self, Verb::kShutdown, 0, "wr");
      });
    }
    // Closing with unread bytes, or after a reset, is its own documented
    // story; closes here are orderly.
    if (self.pending == 0 && !peer.aborted) {
      legal.push_back([&] {
        self.open = false;
        self.shut_wr = true;
        return Make(self, Verb::kClose);
      });
    }
    if (self.pending == 0 && peer.open && peer.pending == 0 && !peer.shut_wr &&
        !self.shut_wr) {
      legal.push_back([&] {
        self.open = false;
        self.aborted = true;
        self.shut_wr = true;
        return Make(self, Verb::kAbort);
      });
    }
    script.steps.push_back(
        legal[choose(static_cast<uint32_t>(legal.size()))]());
  }
  return script;
}

}  // namespace sockparity
