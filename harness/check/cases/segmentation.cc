// Cases 2.x: requests cut at bytes that have nothing to do with frames.
#include <chrono>
#include <optional>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "check/case_helpers.h"
#include "check/case_table.h"
#include "sockparity/check/peer_contract.h"

namespace sockparity::internal {
namespace {

constexpr char kSplitAnywhere[] =
    "Reads and writes may be split or merged at any byte: a frame boundary "
    "has no relation to the boundaries of the calls that carry it";
// recv(2): a read returns what is there, up to the amount asked.
constexpr char kRecv[] = "https://man7.org/linux/man-pages/man2/recv.2.html";

}  // namespace

void AddSegmentationCases(CaseTable& table) {
  table.Add({
      .info = {.id = "2.1",
               .name = "segmentation/one-byte-writes",
               .description = "requests written one byte per call",
               .clause = kSplitAnywhere,
               .reference = kRecv},
      .play =
          [](Context& c) {
            std::optional<Socket> s = c.Connect();
            if (!s) return;
            Bytes all = ContractFrame("Eabc");
            Append(all, ContractFrame("Exyz"));
            for (uint8_t byte : all) {
              if (!c.Send(*s, Bytes{byte})) return;
            }
            if (c.ExpectFrame(*s, ToBytes("Eabc")))
              c.ExpectFrame(*s, ToBytes("Exyz"));
          },
  });
  table.Add({
      .info = {.id = "2.2",
               .name = "segmentation/paced-header",
               .description =
                   "a header split and paced so the server reads part of it",
               .clause = kSplitAnywhere,
               .reference = kRecv},
      .play =
          [](Context& c) {
            std::optional<Socket> s = c.Connect();
            if (!s) return;
            const Bytes frame = ContractFrame("Epaced");
            for (auto [from, to] :
                 {std::pair{0, 1}, {1, 3}, {3, 4}, {4, 6}, {6, 10}}) {
              if (!c.Send(*s, Bytes(frame.begin() + from, frame.begin() + to)))
                return;
              // Pacing the stimulus so each piece arrives on its own.
              std::this_thread::sleep_for(std::chrono::milliseconds(15));
            }
            c.ExpectFrame(*s, ToBytes("Epaced"));
          },
  });
  table.Add({
      .info = {.id = "2.3",
               .name = "segmentation/random-splits",
               .description = "20 frames split at random points (seed printed)",
               .clause = kSplitAnywhere,
               .reference = kRecv},
      .play =
          [](Context& c) {
            std::optional<Socket> s = c.Connect();
            if (!s) return;
            std::mt19937_64 rng(c.seed());
            Bytes stream;
            std::vector<Bytes> payloads;
            for (int i = 0; i < 20; ++i) {
              payloads.push_back(
                  EchoPayload(1 + rng() % 3000, static_cast<uint8_t>(i)));
              Append(stream, ContractFrame(payloads.back()));
            }
            for (size_t at = 0; at < stream.size();) {
              size_t piece =
                  std::min<size_t>(1 + rng() % 700, stream.size() - at);
              if (!c.Send(*s, Bytes(stream.begin() + at,
                                    stream.begin() + at + piece)))
                return;
              at += piece;
            }
            for (const Bytes& payload : payloads) {
              if (!c.ExpectFrame(*s, payload)) return;
            }
          },
  });
}

}  // namespace sockparity::internal
