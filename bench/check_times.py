#!/usr/bin/env python3
"""How long `sockparity check` takes to its verdict, this build against a
baseline build (another git revision: bench/build_at.sh), on every correct server in adapters/ and every broken server
in tests/broken_servers/, each with the default options (full catalog, every
transport, 10 s timeout; `--perturb eintr` for the one bug only perturbation
shows).

  new:       --build's sockparity, default options
  previous:  --baseline's sockparity (a build of an earlier revision, e.g.
             `bench/build_at.sh REV` prints its path), default options,
             stopped at --cap seconds

The two ways alternate per server (which goes first alternates too), so a
noisy neighbour hits both. Each run's verdict is checked: a broken server
must get FAILED (exit 1) both ways, a correct one must not. Writes
check_times.json and check_times.dat (for gnuplot) to --out and prints a
Markdown table.

  bench/check_times.py --build build/default --baseline BINARY
                       --out build/bench [--cap 120] [--reps 1] [--quick]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Bugs only perturbation shows (tests/CMakeLists.txt has the same), run with
# it both ways.
NEEDS = {"server:eintr-fatal": ["--perturb", "eintr"]}


def bugs_of(source):
    """The bug names a broken server accepts, from its kBugs table."""
    text = open(os.path.join(ROOT, "tests/broken_servers", source)).read()
    table = re.search(r"kBugs\[\]\s*=\s*\{([^}]*)\}", text)
    if not table:
        sys.exit(f"check_times: no kBugs table in {source}")
    return [b for b in re.findall(r'"([^"]+)"', table.group(1)) if b != "none"]


def servers(build, quick):
    found = []
    # The correct servers: the build's list (adapters/NAME/CMakeLists.txt).
    with open(os.path.join(build, "adapters", "builtin-servers.tsv")) as f:
        for line in f:
            name, path = line.rstrip("\n").split("\t")[:2]
            found.append((name, "correct", [path]))
    tests = os.path.join(build, "tests")
    found.append(("read-as-frame", "broken",
                  [os.path.join(tests, "broken_read_as_frame")]))
    for bug in bugs_of("broken_server.cc"):
        found.append((f"server:{bug}", "broken",
                      [os.path.join(tests, "broken_server"), "--bug", bug]))
    for bug in bugs_of("broken_loop_server.cc"):
        found.append((f"loop:{bug}", "broken",
                      [os.path.join(tests, "broken_loop_server"), "--bug", bug]))
    if quick:
        keep = {"reference", "read-as-frame", "server:one-at-a-time"}
        found = [s for s in found if s[0] in keep]
    return found


def tree(pid):
    """`pid` and its descendants, parents first."""
    found, index = [pid], 0
    while index < len(found):
        for task in os.listdir(f"/proc/{found[index]}/task") if os.path.isdir(
                f"/proc/{found[index]}/task") else []:
            try:
                children = open(
                    f"/proc/{found[index]}/task/{task}/children").read()
            except OSError:
                continue
            found += [int(child) for child in children.split()]
        index += 1
    return found


def run(tool, way, command, cap, extra):
    """Seconds to the verdict, the exit status, and the totals (None when
    stopped at the cap)."""
    with tempfile.TemporaryDirectory() as scratch:
        report = os.path.join(scratch, "report.json")
        argv = [tool, "check", "--json", report]
        argv += extra
        argv += ["--"] + command
        start = time.monotonic()
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            code = process.wait(timeout=cap)
        except subprocess.TimeoutExpired:
            # The servers it started are in process groups of their own:
            # stop the whole tree, leaving nothing behind.
            for pid in reversed(tree(process.pid)):
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
            process.wait()
            return None, None, None
        seconds = time.monotonic() - start
        totals = {}
        if os.path.exists(report):
            totals = json.load(open(report))["totals"]
        return seconds, code, totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=os.path.join(ROOT, "build/default"))
    parser.add_argument("--baseline", required=True,
                        help="the sockparity binary to compare with")
    parser.add_argument("--out", default=os.path.join(ROOT, "build/bench"))
    parser.add_argument("--cap", type=float, default=120,
                        help="seconds after which a run is stopped")
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--quick", action="store_true",
                        help="three servers only (a smoke test)")
    parser.add_argument("--only", default="",
                        help="comma-separated server names (e.g. "
                        "loop:write-on-read-only)")
    args = parser.parse_args()
    tool = os.path.join(args.build, "harness", "sockparity")
    if not os.access(tool, os.X_OK):
        sys.exit(f"check_times: no sockparity at {tool} (build first)")
    if not os.access(args.baseline, os.X_OK):
        sys.exit(f"check_times: --baseline {args.baseline} is not an executable")
    tools = {"new": tool, "previous": args.baseline}
    os.makedirs(args.out, exist_ok=True)
    rows, wrong = [], []
    listed = servers(args.build, args.quick)
    if args.only:
        wanted = args.only.split(",")
        unknown = set(wanted) - {s[0] for s in listed}
        if unknown:
            sys.exit(f"check_times: no server named {', '.join(unknown)}")
        listed = [s for s in listed if s[0] in wanted]
    for index, (name, kind, command) in enumerate(listed):
        times = {"new": [], "previous": []}
        for rep in range(args.reps):
            order = ["new", "previous"] if (index + rep) % 2 == 0 else [
                "previous", "new"]
            for way in order:
                seconds, code, totals = run(tools[way], way, command, args.cap,
                                            NEEDS.get(name, []))
                times[way].append(seconds)
                found = (totals or {}).get("FAILED", 0) + (totals or {}).get(
                    "NON-STRICT", 0)
                shown = "stopped at the cap" if seconds is None else (
                    f"{seconds:.1f} s, exit {code}, {totals}")
                print(f"  {name:28} {way:8} {shown}", file=sys.stderr,
                      flush=True)
                if seconds is None:
                    continue
                # A broken server gets FAILED, or NON-STRICT for a SHOULD
                # clause; a correct one neither.
                if (kind == "broken") != (found > 0) or code not in (0, 1):
                    wrong.append(f"{name} ({way}): exit {code}, {totals}")
        row = {"server": name, "kind": kind}
        for way, values in times.items():
            done = [v for v in values if v is not None]
            row[way] = values
            row[f"{way}_median"] = (statistics.median(done)
                                    if len(done) == len(values) else None)
        rows.append(row)
    result = {"cap_seconds": args.cap, "reps": args.reps, "servers": rows,
              "wrong_verdicts": wrong}
    with open(os.path.join(args.out, "check_times.json"), "w") as out:
        json.dump(result, out, indent=2)
    with open(os.path.join(args.out, "check_times.dat"), "w") as out:
        out.write("# server new_s previous_s(capped) previous_capped\n")
        for row in rows:
            new = row["new_median"] or args.cap
            previous = row["previous_median"]
            out.write(f'"{row["server"]}" {new:.2f} '
                      f'{previous if previous else args.cap:.2f} '
                      f'{0 if previous else 1}\n')

    def shown(value):
        return f">{args.cap:.0f}" if value is None else f"{value:.1f}"

    print("| server | kind | new, s | previous, s | previous / new |")
    print("| --- | --- | ---: | ---: | ---: |")
    for row in rows:
        new, previous = row["new_median"], row["previous_median"]
        ratio = (f"{previous / new:.1f}x" if new and previous else
                 f">{args.cap / new:.1f}x" if new else "-")
        print(f'| {row["server"]} | {row["kind"]} | {shown(new)} | '
              f'{shown(previous)} | {ratio} |')
    broken = [r["new_median"] for r in rows if r["kind"] == "broken"]
    slowest = None if None in broken else max(broken, default=0)
    print(f"\nslowest broken server, new way: {shown(slowest)} s "
          f"(goal: 60 s)")
    if wrong:
        print("WRONG VERDICTS:\n  " + "\n  ".join(wrong))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
