// Registration of the benchmark families. Names are
// "<Family>/<variant>/<kind>" so the ratio report can pair them up.
#ifndef SOCKPARITY_BENCH_BENCHMARKS_H_
#define SOCKPARITY_BENCH_BENCHMARKS_H_

namespace sockparity::bench {

// RoundTrip/{raw,harness}/<kind> and Stream/{raw,harness}/<kind>.
void RegisterIoBenchmarks();
// Script/<kind>, Differential/all and PairSetup/<kind>.
void RegisterScriptBenchmarks();

}  // namespace sockparity::bench

#endif  // SOCKPARITY_BENCH_BENCHMARKS_H_
