// Runs fuzz target inputs without libFuzzer (for the default gcc build and
// ctest): each file named on the command line, each under a time limit.
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// Like libFuzzer: called once first, where a target defines it.
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc,
                                                          char*** argv);

int main(int argc, char** argv) {
  unsigned limit = 30;
  if (const char* env = std::getenv("SOCKPARITY_FUZZ_INPUT_SECONDS")) {
    limit = static_cast<unsigned>(std::atoi(env));
  }
  if (argc < 2) {
    std::fprintf(
        stderr,
        "usage: %s INPUT...\n  runs each input once, %u s each at most "
        "(SOCKPARITY_FUZZ_INPUT_SECONDS)\n",
        argv[0], limit);
    return 2;
  }
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", argv[i]);
      return 2;
    }
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), {});
    std::fprintf(stderr, "running %s (%zu bytes)\n", argv[i], data.size());
    // SIGALRM's default action ends the process: an input over its time
    // limit fails instead of hanging the run.
    ::alarm(limit);
    LLVMFuzzerTestOneInput(data.data(), data.size());
    ::alarm(0);
  }
  std::fprintf(stderr, "%d inputs passed\n", argc - 1);
  return 0;
}
