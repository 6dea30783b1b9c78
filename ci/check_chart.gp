# The chart of `sockparity check`'s time to its verdict that ci/bench draws
# from build/bench/check_times.dat (columns: server, new seconds, previous
# seconds, 1 when the previous way was stopped at the cap). Called with
# -e "datafile=...; machine=...; cap=...".
set terminal svg size 1100,480 dynamic font "sans,11" background "white"
set title "sockparity check, full catalog, default options: seconds to the verdict (".machine.")"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key top left
set yrange [0:cap * 1.1]
set ylabel "seconds"
set xtics rotate by -60 nomirror font ",9"
set arrow 1 from graph 0, first 60 to graph 1, first 60 nohead dt 2 lc rgb "red"
set label 1 "goal for a broken server: 60 s" at graph 0.01, first 62 tc rgb "red"
plot datafile using 3:xtic(1) title sprintf("previous way (stopped at %d s)", cap) lc rgb "#bbbbbb", \
     "" using 2 title "now" lc rgb "#4477aa"
