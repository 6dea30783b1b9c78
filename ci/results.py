#!/usr/bin/env python3
"""The results across libraries, from the reports ci/conform wrote.

    ci/results.py OUT_DIR index              # OUT_DIR/index.html
    ci/results.py OUT_DIR expect             # compare with the committed
                                             # adapters/*/expected-verdicts.txt
    ci/results.py OUT_DIR record             # rewrite those files
    ci/results.py OUT_DIR docs RESULTS.md    # the page docs/RESULTS.md

OUT_DIR holds, per server NAME and mode MODE, NAME.MODE.json (the check's
JSON report), and OUT_DIR/adapters/NAME/version (one line: the library and
its version). Each adapter directory may hold explanations.tsv: one line per
explained cell pattern, tab-separated:

    CASE-GLOB  TRANSPORT-GLOB  VERDICT  KIND  TEXT  REFERENCE

KIND is `library` (a behaviour of the library), `adapter` (a limit of the
adapter), `suite` (the suite's own, e.g. fd:N carries one connection) or
`workaround` (what the adapter does beyond the library's API, and which
cells it affects; listed, never used to explain a cell);
adapters/explanations.tsv holds the ones every server shares. `docs` fails
on a cell that is not OK and that no line explains.
"""
import fnmatch
import html
import json
import os
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
TRANSPORTS = ["fd", "unix", "unix-abstract", "tcp4", "tcp6", "across"]
MODES = ["plain", "short-io", "eintr", "accept-aborted"]
COLOURS = {
    "OK": "#c8f0c8",
    "INFORMATIONAL": "#d8e8ff",
    "UNSUPPORTED": "#e8e8e8",
    "NON-STRICT": "#ffe9a8",
    "FAILED": "#f4b4b4",
}


def fail(message):
    sys.stderr.write(f"ci/results.py: {message}\n")
    sys.exit(1)


def load_runs(out):
    """{name: {mode: report}} for every NAME.MODE.json in OUT_DIR."""
    runs = {}
    for entry in sorted(os.listdir(out)):
        if not entry.endswith(".json"):
            continue
        stem = entry[: -len(".json")]
        name, _, mode = stem.rpartition(".")
        if mode not in MODES or not name:
            continue
        path = os.path.join(out, entry)
        try:
            with open(path) as f:
                runs.setdefault(name, {})[mode] = json.load(f)
        except (OSError, ValueError) as error:
            fail(f"{path}: not a report the check wrote ({error})")
    if not runs:
        fail(f"no reports in {out} (run ci/conform first)")
    return runs


def version_of(out, name):
    try:
        with open(os.path.join(out, "adapters", name, "version")) as f:
            return f.readline().strip() or "?"
    except OSError:
        return "?"


def cells(report):
    """{(case, transport): (verdict, reason)}."""
    return {
        (r["case"], r["transport"]): (r["verdict"], r["reason"])
        for r in report["results"]
    }


def case_order(report):
    seen = []
    for r in report["results"]:
        if r["case"] not in seen:
            seen.append(r["case"])
    return seen


def case_key(case):
    return tuple(int(part) for part in case.split("."))


def expected_path(name):
    return os.path.join(ROOT, "adapters", name, "expected-verdicts.txt")


def not_ok_lines(runs_of_name):
    lines = []
    for mode in MODES:
        report = runs_of_name.get(mode)
        if report is None:
            continue
        for (case, transport), (verdict, _) in sorted(
            cells(report).items(),
            key=lambda item: (case_key(item[0][0]), TRANSPORTS.index(item[0][1])),
        ):
            if verdict != "OK":
                lines.append(f"{mode} {case} {transport} {verdict}")
    return lines


def read_expected(path):
    """{(mode, case, transport): "VERDICT[|VERDICT...]"} from a file."""
    try:
        with open(path) as f:
            lines = [l.split() for l in f if l.strip() and not l.startswith("#")
                     and not l.startswith("unsettled ")]
    except OSError:
        return {}
    return {tuple(l[:3]): l[3] for l in lines}


def unsettled_modes(path):
    try:
        with open(path) as f:
            return [l.split()[1] for l in f if l.startswith("unsettled ")]
    except OSError:
        return []


def record(out, runs):
    """Merges this run's verdicts into the expected files: a cell seen with
    two verdicts over the recorded runs (a race inside the library) keeps
    both, as "FAILED|OK". Delete a file to start it afresh."""
    for name, by_mode in runs.items():
        path = expected_path(name)
        if not os.path.isdir(os.path.dirname(path)):
            continue
        before = read_expected(path)
        known = dict(before)
        seen = {tuple(l.split()[:3]): l.split()[3] for l in not_ok_lines(by_mode)}
        for mode in by_mode:
            recorded = any(k[0] == mode for k in before)
            keys = {k for k in before if k[0] == mode} | {k for k in seen if k[0] == mode}
            for key in keys:
                # A cell missing from a file that has the mode was OK then.
                verdicts = set(before.get(key, "OK" if recorded else "").split("|"))
                verdicts.discard("")
                verdicts.add(seen.get(key, "OK"))
                known[key] = "|".join(sorted(verdicts))
        keep_unsettled = unsettled_modes(path)
        merged = sorted(
            (k for k, v in known.items() if v != "OK"),
            key=lambda k: (MODES.index(k[0]), case_key(k[1]), TRANSPORTS.index(k[2])),
        )
        with open(path, "w") as f:
            f.write(
                "# The verdicts of `sockparity check` on this adapter that are "
                "not OK,\n# as `mode case transport verdict`; every other cell "
                "is OK. `A|B`: seen\n# both ways (a race inside the library). "
                "Written by `ci/conform --record`;\n# `ci/conform --expect` "
                "fails when a cell changes.\n"
            )
            for mode in keep_unsettled:
                f.write(f"unsettled {mode}\n")
            for key in merged:
                f.write(" ".join(key) + " " + known[key] + "\n")
        print(f"wrote {os.path.relpath(path, ROOT)}")


def expect(out, runs):
    changed = []
    for name, by_mode in sorted(runs.items()):
        path = expected_path(name)
        try:
            with open(path) as f:
                want = [l.strip() for l in f if l.strip() and not l.startswith("#")]
        except OSError:
            changed.append(f"{name}: no {os.path.relpath(path, ROOT)} (ci/conform --record)")
            continue
        # "unsettled MODE": the library's verdicts in that mode vary from
        # run to run (said in its explanations); not compared.
        unsettled = {l.split()[1] for l in want if l.split()[0] == "unsettled"}
        want = [l for l in want if l.split()[0] != "unsettled"]
        modes_run = set(by_mode) - unsettled
        for mode in sorted(set(by_mode) & unsettled):
            print(f"{name} ({mode}): unsettled, not compared")
        want = [l for l in want if l.split()[0] in modes_run]
        have = [l for l in not_ok_lines(by_mode) if l.split()[0] in modes_run]

        def as_map(lines):
            return {tuple(l.split()[:3]): l.split()[3] for l in lines}

        want_map, have_map = as_map(want), as_map(have)
        for key in sorted(set(want_map) | set(have_map)):
            before = want_map.get(key, "OK")
            now = have_map.get(key, "OK")
            # "FAILED|OK": the library's outcome depends on timing (a race
            # inside it), said so in its explanations.
            if now not in before.split("|"):
                mode, case, transport = key
                changed.append(
                    f"{name} ({mode}) {case} on {transport}: expected {before}, now {now}"
                )
    if changed:
        print("verdicts changed:\n  " + "\n  ".join(changed))
        sys.exit(1)
    print(f"every verdict as expected ({len(runs)} servers)")


def load_explanations(name):
    rows = []
    for path in (
        os.path.join(ROOT, "adapters", name, "explanations.tsv"),
        os.path.join(ROOT, "adapters", "explanations.tsv"),
    ):
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for number, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line or line.startswith("#"):
                    continue
                fields = line.split("\t")
                if len(fields) != 6:
                    fail(f"{path}:{number}: expected 6 tab-separated fields, saw {len(fields)}")
                if fields[3] not in ("library", "adapter", "suite", "workaround"):
                    fail(f"{path}:{number}: kind '{fields[3]}' is not library, "
                         "adapter, suite or workaround")
                rows.append(fields)
    return rows


def explain(rows, case, transport, verdict):
    for case_glob, transport_glob, want, kind, text, reference in rows:
        if kind == "workaround":
            continue
        if (
            fnmatch.fnmatchcase(case, case_glob)
            and fnmatch.fnmatchcase(transport, transport_glob)
            and want in (verdict, "*")
        ):
            return kind, text, reference
    return None


def transport_summary(report, transport):
    verdicts = [v for (c, t), (v, _) in cells(report).items() if t == transport]
    if not verdicts:
        return None, ""
    counts = {v: verdicts.count(v) for v in COLOURS if verdicts.count(v)}
    worst = next(
        v for v in ("FAILED", "NON-STRICT", "OK", "INFORMATIONAL", "UNSUPPORTED")
        if v in counts
    )
    if counts.get("UNSUPPORTED") == len(verdicts):
        worst = "UNSUPPORTED"
    text = ", ".join(f"{n} {v}" for v, n in counts.items())
    return worst, text


def index(out, runs):
    rows = []
    for name, by_mode in sorted(runs.items()):
        plain = by_mode.get("plain") or next(iter(by_mode.values()))
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
            report = by_mode.get(mode)
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
        "<tr><th>server</th><th>library</th>"
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
        "<p>Each transport cell is the worst verdict of the plain run on that "
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
    parts = [
        "# Results: libraries across transports\n",
        "Generated by `ci/conform --docs` from its last run; do not edit by hand "
        "(explanations live in `adapters/<name>/explanations.tsv`). Each server "
        "is a small program on the peer contract (`docs/SUT_CONTRACT.md`) written "
        "with one library, in that library's idiom, and checked by "
        "`sockparity check` on every transport, plain and under each "
        "perturbation mode (`docs/PERTURBATION.md`). Cells: worst verdict of the "
        "plain run on that transport.\n",
        "| server | library | " + " | ".join(TRANSPORTS) + " |",
        "| --- | --- | " + " | ".join("---" for _ in TRANSPORTS) + " |",
    ]
    details = []
    suite_notes = {}
    for name, by_mode in sorted(runs.items()):
        plain = by_mode.get("plain") or next(iter(by_mode.values()))
        line = f"| {name} | {version_of(out, name)} |"
        for transport in TRANSPORTS:
            worst, text = transport_summary(plain, transport)
            line += f" {worst or '-'} |"
        parts.append(line)
        rows = load_explanations(name)
        notes = {}
        for mode in MODES:
            report = by_mode.get(mode)
            if report is None:
                continue
            for absent in report.get("perturbation_not_in_effect", []):
                key = ("perturbation", absent["why"], "", "")
                where = f"{absent['transport']} ({mode})"
                notes.setdefault(key, []).append(where)
            for (case, transport), (verdict, reason) in sorted(
                cells(report).items(), key=lambda i: (case_key(i[0][0]), TRANSPORTS.index(i[0][1]))
            ):
                if verdict == "OK":
                    continue
                found = explain(rows, case, transport, verdict)
                if found is None:
                    missing.append(f"{name} ({mode}) {case} on {transport}: {verdict}: {reason[:160]}")
                    continue
                kind, text, reference = found
                if kind == "suite":
                    suite_notes.setdefault((text, reference, verdict), set()).add(name)
                    continue
                key = (kind, text, reference, verdict)
                notes.setdefault(key, []).append(f"{case} {transport} ({mode})")
        workarounds = [r for r in rows if r[3] == "workaround"]
        if not notes and not workarounds:
            details.append(f"### {name}\n\nEvery cell OK.\n")
            continue
        block = [f"### {name} ({version_of(out, name)})\n"]
        for case_glob, transport_glob, _, _, text, reference in workarounds:
            ref = f" ([source]({reference}))" if reference.startswith("http") else ""
            block.append(f"- workaround in the adapter ({case_glob} on "
                         f"{transport_glob}): {text}{ref}")
        for (kind, text, reference, verdict), where in notes.items():
            if kind == "perturbation":
                block.append(
                    f"- perturbation not in effect on {', '.join(where)}: {text}; "
                    "those cells are of plain I/O.")
                continue
            plain_cells = [w for w in where if w.endswith("(plain)")]
            shown = plain_cells or where
            cases = sorted({w.split()[0] for w in shown}, key=case_key)
            smallest = cases[0]
            ref = f" ([source]({reference}))" if reference.startswith("http") else (
                f" ({reference})" if reference else "")
            block.append(
                f"- **{verdict}**, {kind}: {text}{ref} Smallest case: {smallest}. "
                f"Cells ({len(where)}): {', '.join(shown[:8])}"
                + (" ..." if len(shown) > 8 else "")
            )
        details.append("\n".join(block) + "\n")
    if missing:
        fail("cells that are not OK and have no explanation:\n  " + "\n  ".join(missing))
    suite = ["## Cells of the suite's own\n",
             "Every server shows these, whatever its library:\n"]
    for (note, reference, verdict), names in suite_notes.items():
        suite.append(f"- **{verdict}**: {note} ({reference})")
    text = ("\n".join(parts) + "\n\n" + "\n".join(suite) +
            "\n\n## Every other cell that is not OK\n\n" + "\n".join(details))
    with open(target, "w") as f:
        f.write(text)
    print(f"wrote {target}")


def main():
    if len(sys.argv) < 3:
        fail("usage: ci/results.py OUT_DIR index|expect|record|docs [RESULTS.md]")
    out, what = sys.argv[1], sys.argv[2]
    runs = load_runs(out)
    if what == "index":
        index(out, runs)
    elif what == "expect":
        expect(out, runs)
    elif what == "record":
        record(out, runs)
    elif what == "docs" and len(sys.argv) == 4:
        docs(out, runs, sys.argv[3])
    else:
        fail(f"unknown command '{what}'")


if __name__ == "__main__":
    main()
