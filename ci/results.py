#!/usr/bin/env python3
"""The results across libraries, from the reports ci/conform wrote.

    ci/results.py OUT_DIR index              # OUT_DIR/index.html
    ci/results.py OUT_DIR expect             # compare every mode, every run,
                                             # with adapters/*/expected-verdicts.txt
    ci/results.py OUT_DIR record             # rewrite those files from the run(s)
    ci/results.py OUT_DIR docs RESULTS.md    # the page docs/RESULTS.md
    ci/results.py OUT_DIR lint               # the files alone (as docs checks them)

OUT_DIR holds, per server NAME and mode MODE, NAME.MODE.json (the check's
JSON report; NAME.MODE.rK.json for the K-th of repeated runs), and
OUT_DIR/adapters/NAME/version (one line: the library and its version).
The files' formats, and what they refuse: ci/results_files.py.

`record` replaces the cells of the modes run and prints every cell that
changed; a cell is recorded both ways (`A|B n/N`) only from repeated runs
that saw both. `docs` fails on a cell that is not OK and that no line
explains, on a line that explains no cell, and on a cell expected both ways
without a `varies` line naming it.
"""
import collections
import html
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results_files import (MODES, ROOT, TRANSPORTS, VERDICT_COLOURS,  # noqa: E402
                           VERDICTS,
                           case_key, cell_key, cells, expected_path, explain,
                           fail, format_expected, is_client, load_explanations,
                           load_runs, read_expected)

COLOURS = VERDICT_COLOURS
# Least to most severe: of two verdicts seen equally often in a cell that
# varies, the more severe is recorded first.
SEVERITY = ("OK", "INFORMATIONAL", "N/A", "UNSUPPORTED", "NON-STRICT", "FAILED")
assert set(SEVERITY) == set(VERDICTS), "ci/results.py: SEVERITY lacks a verdict"


def in_order(runs):
    """Servers first, then clients, each by name."""
    return sorted(runs.items(), key=lambda item: (is_client(item[0]), item[0]))


def version_of(out, name):
    try:
        with open(os.path.join(out, "adapters", name, "version")) as f:
            return f.readline().strip() or "?"
    except OSError:
        return "?"


def first(by_mode, mode=None):
    """The first run's report of `mode` (or of plain, else of any mode)."""
    if mode is not None:
        return by_mode[mode][0]
    return (by_mode.get("plain") or next(iter(by_mode.values())))[0]


def seen_verdicts(reports):
    """{(case, transport): [verdict of each run]} over repeated runs."""
    seen = collections.defaultdict(list)
    for report in reports:
        for key, (verdict, _) in cells(report).items():
            seen[key].append(verdict)
    return seen


def expected_or_fail(path):
    try:
        return read_expected(path)
    except ValueError as error:
        fail(str(error))


def describe(entry):
    if entry is None:
        return "OK"
    verdicts, counts = entry
    return format_expected(("",) * 0, verdicts, counts).strip()


def record(out, runs):
    """Replaces each run mode's cells with what the run(s) saw; prints every
    cell that changed. Several verdicts for a cell only from repeated runs,
    with their counts."""
    for name, by_mode in sorted(runs.items()):
        path = expected_path(name)
        if not os.path.isdir(os.path.dirname(path)):
            continue
        try:
            before = read_expected(path) or {}
        except ValueError as error:
            print(f"{name}: {error}; the file is rewritten from this run")
            before = {}
        after = {k: v for k, v in before.items() if k[0] not in by_mode}
        for mode, reports in by_mode.items():
            for (case, transport), verdicts in seen_verdicts(reports).items():
                counts = collections.Counter(verdicts)
                if set(counts) == {"OK"}:
                    continue
                order = tuple(sorted(counts, key=lambda v: (-counts[v], -SEVERITY.index(v))))
                key = (mode, case, transport)
                after[key] = (order, None) if len(order) == 1 else (
                    order, (dict(counts), len(verdicts)))
        changed = [f"  {' '.join(k)}: {describe(before.get(k))} -> {describe(after.get(k))}"
                   for k in sorted(set(before) | set(after), key=cell_key)
                   if describe(before.get(k)) != describe(after.get(k))]
        with open(path, "w") as f:
            f.write(
                f"# The verdicts of `sockparity {'check-client' if is_client(name) else 'check'}`"
                " on this adapter that are not OK,\n"
                "# as `mode case transport verdict`; every other cell is OK.\n"
                "# `A|B n/N`: over N repeated runs, n gave A and the rest B\n"
                "# (ci/conform --record --repeat N). Written by `ci/conform --record`,\n"
                "# which replaces; `ci/conform --expect` fails when a cell changes.\n")
            for key in sorted(after, key=cell_key):
                f.write(format_expected(key, *after[key]) + "\n")
        runs_text = ", ".join(f"{m} x{len(r)}" for m, r in by_mode.items())
        print(f"wrote {os.path.relpath(path, ROOT)} ({runs_text}): "
              f"{len(changed)} cell(s) changed" + ("\n" + "\n".join(changed) if changed else ""))


def reason_line(cell, limit=600):
    """The report's reason for a changed cell, bounded: the CI log is often
    all a reader of a failed landing has."""
    if not cell or not cell[1]:
        return ""
    reason = " ".join(cell[1].split())
    if len(reason) > limit:
        reason = reason[:limit] + f" [... {len(reason) - limit} more characters in the report]"
    return "\n      reason: " + reason


def expect(out, runs):
    changed = []
    for name, by_mode in sorted(runs.items()):
        path = expected_path(name)
        want = expected_or_fail(path)
        if want is None:
            changed.append(f"{name}: no {os.path.relpath(path, ROOT)} (ci/conform --record)")
            continue
        for mode, reports in sorted(by_mode.items(), key=lambda i: MODES.index(i[0])):
            for run, report in enumerate(reports, 1):
                now_cells = cells(report)
                now = {k: v for k, (v, _) in now_cells.items()}
                keys = set(now) | {(c, t) for (m, c, t) in want if m == mode}
                for case, transport in sorted(keys, key=lambda k: (case_key(k[0]), TRANSPORTS.index(k[1]))):
                    allowed = want.get((mode, case, transport), (("OK",), None))[0]
                    verdict = now.get((case, transport), "absent")
                    if verdict not in allowed:
                        changed.append(f"{name} ({mode}, run {run}) {case} on {transport}: "
                                       f"expected {'|'.join(allowed)}, now {verdict}"
                                       + reason_line(now_cells.get((case, transport))))
        print(f"{name}: compared {', '.join(f'{m} x{len(r)}' for m, r in by_mode.items())}")
    if changed:
        print("verdicts changed:\n  " + "\n  ".join(changed))
        sys.exit(1)
    print(f"every verdict as expected ({len(runs)} servers)")


def transport_summary(report, transport):
    verdicts = [v for (c, t), (v, _) in cells(report).items() if t == transport]
    if not verdicts:
        return None, ""
    counts = {v: verdicts.count(v) for v in COLOURS if verdicts.count(v)}
    worst = next(
        v for v in ("FAILED", "NON-STRICT", "OK", "INFORMATIONAL", "UNSUPPORTED", "N/A")
        if v in counts
    )
    if counts.get("UNSUPPORTED", 0) + counts.get("N/A", 0) == len(verdicts):
        worst = "UNSUPPORTED" if counts.get("UNSUPPORTED") else "N/A"
    text = ", ".join(f"{n} {v}" for v, n in counts.items())
    return worst, text


def index(out, runs):
    rows = []
    for name, by_mode in in_order(runs):
        plain = first(by_mode)
        row = [f"<tr><th>{html.escape(name)}</th><td>{html.escape(version_of(out, name))}</td>"]
        for transport in TRANSPORTS:
            worst, text = transport_summary(plain, transport)
            if worst is None:
                row.append("<td>-</td>")
                continue
            row.append(
                f'<td style="background:{COLOURS[worst]}" title="{html.escape(text)}">'
                f'<a href="{html.escape(name)}.plain.html">{html.escape(worst)}</a>'
                f"<br><small>{html.escape(text)}</small></td>"
            )
        for mode in MODES:
            report = by_mode.get(mode, [None])[0]
            if report is None:
                row.append("<td>-</td>")
                continue
            t = report["totals"]
            worst = "FAILED" if t["FAILED"] else "NON-STRICT" if t["NON-STRICT"] else "OK"
            note = ""
            if report.get("perturbation_not_in_effect"):
                worst, note = "UNSUPPORTED", "<br><small>perturbation not in effect</small>"
            row.append(
                f'<td style="background:{COLOURS[worst]}"><a href="{html.escape(name)}.{mode}.html">'
                f'{t["OK"]} ok, {t["FAILED"]} failed, {t["NON-STRICT"]} non-strict</a>{note}</td>'
            )
        rows.append("".join(row) + "</tr>")
    head = (
        "<tr><th>server or client</th><th>library</th>"
        + "".join(f"<th>{t}</th>" for t in TRANSPORTS)
        + "".join(f"<th>{m}</th>" for m in MODES)
        + "</tr>"
    )
    page = (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>sockparity: "
        "libraries across transports</title><style>body{font-family:sans-serif}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;padding:4px;"
        "vertical-align:top}small{color:#333}</style></head><body>\n"
        "<h1>sockparity check: libraries across transports</h1>\n"
        "<p>Servers are checked by <code>sockparity check</code>, clients "
        "(NAME-client) by <code>sockparity check-client</code>. "
        "Each transport cell is the worst verdict of the plain run on that "
        "transport (its counts below); each mode cell the totals of that run. "
        "Every cell links to its report.</p>\n"
        f'<table id="matrix">\n{head}\n' + "\n".join(rows) + "\n</table>\n</body></html>\n"
    )
    path = os.path.join(out, "index.html")
    with open(path, "w") as f:
        f.write(page)
    print(f"wrote {path}")


def docs(out, runs, target):
    missing = []
    used = set()  # ids of the lines that explained a cell
    all_rows = {}
    parts = [
        "# Results: libraries across transports\n",
        "Generated by `ci/conform --docs` from its last run; do not edit by hand "
        "(explanations live in `adapters/<name>/explanations.tsv`, one line per "
        "named group of cells). Each server "
        "is a small program on the peer contract (`docs/SUT_CONTRACT.md`) written "
        "with one library, in that library's idiom, and checked by "
        "`sockparity check` on every transport, plain and under each "
        "perturbation mode (`docs/PERTURBATION.md`); each client (NAME-client) "
        "likewise on the client contract (`docs/CLIENT_CONTRACT.md`), checked by "
        "`sockparity check-client` (accept-aborted does not apply to a client). "
        "Cells: worst verdict of the "
        "plain run on that transport. A cell seen both ways over repeated runs "
        "shows its counts (`FAILED 3/5`: FAILED in 3 of 5 runs).\n",
    ]
    table_head = ["| {} | library | " + " | ".join(TRANSPORTS) + " |",
                  "| --- | --- | " + " | ".join("---" for _ in TRANSPORTS) + " |"]
    heading_done = set()
    details = []
    suite_notes = {}
    modes_run = {m for by_mode in runs.values() for m in by_mode}
    for name, by_mode in in_order(runs):
        plain = first(by_mode)
        kind = "client" if is_client(name) else "server"
        if kind not in heading_done:
            heading_done.add(kind)
            parts.append(
                "\n## Servers (`sockparity check`)\n" if kind == "server" else
                "\n## Clients (`sockparity check-client`, docs/CLIENT_CONTRACT.md)\n")
            parts.append(table_head[0].format(kind))
            parts.append(table_head[1])
        line = f"| {name} | {version_of(out, name)} |"
        for transport in TRANSPORTS:
            worst, text = transport_summary(plain, transport)
            line += f" {worst or '-'} |"
        parts.append(line)
        try:
            rows = load_explanations(name)
            expected = read_expected(expected_path(name)) or {}
        except ValueError as error:
            fail(str(error))
        for row in rows:
            all_rows[id(row) if not row["shared"] else row["where"]] = (row, name)
        notes = {}
        for key, (verdicts, counts) in expected.items():
            if len(verdicts) < 2:
                continue
            if not any(explain(rows, *key, v, kinds={"varies"}) for v in verdicts):
                missing.append(f"{name}: {' '.join(key)} expected {'|'.join(verdicts)} "
                               "and no `varies` line names it")
        for mode in MODES:
            if mode not in by_mode:
                continue
            report = first(by_mode, mode)
            for absent in report.get("perturbation_not_in_effect", []):
                notes.setdefault(("perturbation", absent["why"], "", ""), []).append(
                    f"{absent['transport']} ({mode})")
            for (case, transport), (verdict, reason) in sorted(
                cells(report).items(), key=lambda i: (case_key(i[0][0]), TRANSPORTS.index(i[0][1]))
            ):
                if verdict == "OK":
                    continue
                found = explain(rows, mode, case, transport, verdict)
                if found is None:
                    missing.append(f"{name} ({mode}) {case} on {transport}: {verdict}: {reason[:160]}")
                    continue
                used.add(found["where"] if found["shared"] else id(found))
                if found["kind"] == "suite":
                    suite_notes.setdefault((found["text"], found["reference"], verdict), set()).add(name)
                    continue
                entry = expected.get((mode, case, transport))
                shown = f"{case} {transport} ({mode})"
                if entry and len(entry[0]) > 1:
                    counts, total = entry[1]
                    shown += f" {verdict} {counts.get(verdict, 0)}/{total}"
                key = (found["kind"], found["text"], found["reference"], verdict)
                notes.setdefault(key, []).append(shown)
        # A `varies` line is used when it names a cell expected both ways;
        # the page lists those cells with their counts.
        both_ways = []
        for row in rows:
            named = [format_expected(k, v, c) for k, (v, c) in sorted(expected.items(), key=lambda i: cell_key(i[0]))
                     if row["kind"] == "varies" and len(v) > 1 and k[0] in row["modes"] and
                     k[1] in row["cases"] and k[2] in row["transports"]]
            if named:
                used.add(row["where"] if row["shared"] else id(row))
                both_ways.append(f"- **seen both ways** over repeated runs ({'; '.join(named)}): "
                                 f"{row['text']}")
        workarounds = [r for r in rows if r["kind"] == "workaround"]
        if not notes and not workarounds and not both_ways:
            details.append(f"### {name}\n\nEvery cell OK.\n")
            continue
        block = [f"### {name} ({version_of(out, name)})\n"]
        for row in workarounds:
            ref = f" ([source]({row['reference']}))" if row["reference"].startswith("http") else ""
            block.append(f"- workaround in the adapter ({', '.join(sorted(row['cases'], key=case_key))}"
                         f" on {', '.join(sorted(row['transports'], key=TRANSPORTS.index))}): "
                         f"{row['text']}{ref}")
        for (kind, text, reference, verdict), where in notes.items():
            if kind == "perturbation":
                block.append(f"- perturbation not in effect on {', '.join(where)}: {text}; "
                             "those cells are of plain I/O.")
                continue
            cases = sorted({w.split()[0] for w in where}, key=case_key)
            ref = f" ([source]({reference}))" if reference.startswith("http") else (
                f" ({reference})" if reference else "")
            block.append(f"- **{verdict}**, {kind}: {text}{ref} Smallest case: {cases[0]}. "
                         f"Cells ({len(where)}): {', '.join(where[:8])}"
                         + (" ..." if len(where) > 8 else ""))
        block.extend(both_ways)
        details.append("\n".join(block) + "\n")
    for ident, (row, name) in all_rows.items():
        if row["kind"] == "workaround" or not (row["modes"] & modes_run):
            continue
        if ident not in used:
            missing.append(f"{row['where']}: explains no cell of this run ({name if not row['shared'] else 'any server'})")
    if missing:
        fail("cells that are not OK and have no explanation, or lines that explain none:\n  "
             + "\n  ".join(missing))
    suite = ["## Cells of the suite's own\n",
             "Every server shows these, whatever its library:\n"]
    for (note, reference, verdict), names in suite_notes.items():
        suite.append(f"- **{verdict}**: {note} ({reference})")
    text = ("\n".join(parts) + "\n\n" + "\n".join(suite) +
            "\n\n## Every other cell that is not OK\n\n" + "\n".join(details))
    with open(target, "w") as f:
        f.write(text)
    print(f"wrote {target}")


def lint(out, runs):
    for name in sorted(runs):
        expected_or_fail(expected_path(name))
        try:
            load_explanations(name)
        except ValueError as error:
            fail(str(error))
    print(f"expected verdicts and explanations of {len(runs)} servers read")


def main():
    if len(sys.argv) < 3:
        fail("usage: ci/results.py OUT_DIR index|expect|record|lint|docs [RESULTS.md]")
    out, what = sys.argv[1], sys.argv[2]
    runs = load_runs(out)
    if what == "index":
        index(out, runs)
    elif what == "expect":
        expect(out, runs)
    elif what == "record":
        record(out, runs)
    elif what == "lint":
        lint(out, runs)
    elif what == "docs" and len(sys.argv) == 4:
        docs(out, runs, sys.argv[3])
    else:
        fail(f"unknown command '{what}'")


if __name__ == "__main__":
    main()
