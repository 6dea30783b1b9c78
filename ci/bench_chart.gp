# The ratio chart ci/bench draws from build/bench/ratios.dat (columns:
# kind, harness/raw round trip, harness/raw stream, latency vs socketpair,
# throughput vs socketpair). Called with -e "datafile=...; machine=...".
set terminal svg size 960,420 dynamic font "sans,12" background "white"
set multiplot layout 1,2 title "sockparity benchmarks (medians; ".machine.")"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key outside bottom center horizontal
set yrange [0:*]
set xtics nomirror

set title "harness / raw system calls (goal: at most 1.10)"
set arrow 1 from graph 0, first 1.10 to graph 1, first 1.10 nohead dt 2 lc rgb "red"
plot datafile using 2:xtic(1) title "1-byte round trip" lc rgb "#4477aa", \
     "" using 3 title "64 KiB stream (time)" lc rgb "#ee6677"

unset arrow 1
set title "each kind against socketpair (raw calls)"
set arrow 2 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lc rgb "gray"
plot datafile using 4:xtic(1) title "round-trip time x" lc rgb "#228833", \
     "" using 5 title "throughput x" lc rgb "#ccbb44"
unset multiplot
