"""The files behind the published matrix, read and checked (ci/results.py).

adapters/NAME/expected-verdicts.txt: the cells that are not OK, one a line,

    MODE CASE TRANSPORT VERDICT
    MODE CASE TRANSPORT A|B[|C] COUNTS

the second for a cell seen with several verdicts over repeated runs
(`ci/conform --record --repeat N`): COUNTS is `n/N`, the runs of N that gave
A (B in the rest), or `nA+nB/N` for three. A cell expected both ways
without the counts is refused, as is the old `unsettled MODE`.

adapters/NAME/explanations.tsv and adapters/explanations.tsv: one line per
group of cells, tab-separated (for a client, NAME-client:
adapters/NAME/expected-client-verdicts.txt and client-explanations.tsv),

    MODES  CASES  TRANSPORTS  VERDICT  KIND  TEXT  REFERENCE

MODES, CASES and TRANSPORTS are comma-separated lists of exact names (no
wildcards: a line names the cells it explains). KIND is `library`,
`adapter`, `suite`, `varies` (a cell expected both ways: TEXT shows the
variation is the library's, REFERENCE its source) or `workaround` (what the
adapter does beyond the library's API; listed, never used to explain).
"""
import json
import os
import re
import sys

ROOT = os.environ.get("SOCKPARITY_RESULTS_ROOT") or os.path.normpath(
    os.path.join(os.path.dirname(__file__), ".."))
TRANSPORTS = ["fd", "unix", "unix-abstract", "tcp4", "tcp6", "across"]


def _perturb_modes():
    """The perturbation modes' one list (perturb/modes.h), in its order."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "perturb", "modes.h")) as f:
        text = f.read()
    body = text[text.index("kSockparityPerturbModes"):]
    return re.findall(r'"([a-z-]+)"', body[body.index("{"):body.index("}")])


def _verdict_colours():
    """Each verdict and its cells' colour, from the one table that check's
    HTML report uses too (harness/check/verdict_colours.h), in its order."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "harness", "check", "verdict_colours.h")
    with open(path) as f:
        text = f.read()
    body = text[text.index("kVerdictColours"):]
    found = re.findall(r'\{"([A-Z/-]+)", "(#[0-9a-f]{6})"\}', body[:body.index("};")])
    if not found:
        raise SystemExit(f"{path}: no verdict colours found")
    return dict(found)


MODES = ["plain"] + _perturb_modes()
VERDICT_COLOURS = _verdict_colours()
VERDICTS = list(VERDICT_COLOURS)
KINDS = ("library", "adapter", "suite", "varies", "workaround")
WILDCARD = re.compile(r"[*?\[\]]")


def fail(message):
    sys.stderr.write(f"ci/results.py: {message}\n")
    sys.exit(1)


def case_key(case):
    """Catalog order: "7.10" after "7.9"; client cases ("c1.4") after."""
    match = re.fullmatch(r"([a-z]*)(\d+(?:\.\d+)*)", case)
    if not match:
        raise ValueError(f"'{case}' is not a case id")
    return (match.group(1),) + tuple(int(part) for part in match.group(2).split("."))


def is_client(name):
    """NAME-client: a client checked by check-client (docs/CLIENT_CONTRACT.md)."""
    return name.endswith("-client")


def adapter_of(name):
    return name[:-len("-client")] if is_client(name) else name


def cell_key(cell):
    mode, case, transport = cell
    return (MODES.index(mode), case_key(case), TRANSPORTS.index(transport))


def load_runs(out):
    """{name: {mode: [report, ...]}}: NAME.MODE.json is the first run,
    NAME.MODE.rK.json the K-th of a repeated one."""
    runs = {}
    for entry in sorted(os.listdir(out)):
        match = re.fullmatch(r"(.+)\.([a-z-]+?)(?:\.r(\d+))?\.json", entry)
        if not match or match.group(2) not in MODES:
            continue
        name, mode, repeat = match.group(1), match.group(2), int(match.group(3) or 1)
        path = os.path.join(out, entry)
        try:
            with open(path) as f:
                report = json.load(f)
        except (OSError, ValueError) as error:
            fail(f"{path}: not a report the check wrote ({error})")
        runs.setdefault(name, {}).setdefault(mode, []).append((repeat, report))
    if not runs:
        fail(f"no reports in {out} (run ci/conform first)")
    return {name: {mode: [r for _, r in sorted(reports, key=lambda x: x[0])]
                   for mode, reports in by_mode.items()}
            for name, by_mode in runs.items()}


def cells(report):
    """{(case, transport): (verdict, reason)}."""
    return {(r["case"], r["transport"]): (r["verdict"], r["reason"])
            for r in report["results"]}


def expected_path(name):
    file = "expected-client-verdicts.txt" if is_client(name) else "expected-verdicts.txt"
    return os.path.join(ROOT, "adapters", adapter_of(name), file)


def parse_counts(text, verdicts, where):
    """Checks COUNTS for A|B...: returns {verdict: runs} and the runs."""
    match = re.fullmatch(r"(\d+(?:\+\d+)*)/(\d+)", text or "")
    if not match:
        raise ValueError(f"{where}: {'|'.join(verdicts)} without the counts "
                         "seen over repeated runs (n/N; ci/conform --record --repeat N)")
    parts = [int(n) for n in match.group(1).split("+")]
    total = int(match.group(2))
    if len(parts) != len(verdicts) - 1 or any(n <= 0 for n in parts) or sum(parts) >= total:
        raise ValueError(f"{where}: counts {text} do not fit {'|'.join(verdicts)}")
    counts = dict(zip(verdicts, parts))
    counts[verdicts[-1]] = total - sum(parts)
    return counts, total


def read_expected(path):
    """{(mode, case, transport): (verdicts tuple, counts or None)}; raises
    ValueError on a line that hides or invents (see the module's text)."""
    expected = {}
    try:
        with open(path) as f:
            lines = list(enumerate(f, 1))
    except OSError:
        return None
    for number, line in lines:
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        where = f"{os.path.relpath(path, ROOT)}:{number}"
        if fields[0] == "unsettled":
            raise ValueError(f"{where}: 'unsettled' takes cells out of the "
                             "comparison; record the counts instead (--repeat N)")
        if len(fields) not in (4, 5) or fields[0] not in MODES or \
                fields[2] not in TRANSPORTS:
            raise ValueError(f"{where}: expected MODE CASE TRANSPORT VERDICT [COUNTS]")
        verdicts = tuple(fields[3].split("|"))
        if any(v not in VERDICTS for v in verdicts) or len(set(verdicts)) != len(verdicts):
            raise ValueError(f"{where}: bad verdict {fields[3]}")
        counts = None
        if len(verdicts) > 1:
            counts = parse_counts(fields[4] if len(fields) == 5 else None, verdicts, where)
        elif len(fields) == 5:
            raise ValueError(f"{where}: counts for a single verdict")
        key = tuple(fields[:3])
        if key in expected:
            raise ValueError(f"{where}: {' '.join(key)} listed twice")
        expected[key] = (verdicts, counts)
    return expected


def format_expected(key, verdicts, counts):
    text = " ".join(key) + " " + "|".join(verdicts)
    if len(verdicts) > 1:
        _, total = counts
        text += " " + "+".join(str(counts[0][v]) for v in verdicts[:-1]) + f"/{total}"
    return text


def explanation_files(name):
    """(path, shared): the adapter's own lines first, then everyone's."""
    file = "client-explanations.tsv" if is_client(name) else "explanations.tsv"
    return [(os.path.join(ROOT, "adapters", adapter_of(name), file), False),
            (os.path.join(ROOT, "adapters", file), True)]


def load_explanations(name):
    """Lines as dicts (modes, cases, transports as sets), in order: the
    adapter's own first, then the shared ones; raises ValueError."""
    rows = []
    for path, shared in explanation_files(name):
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for number, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line or line.startswith("#"):
                    continue
                where = f"{os.path.relpath(path, ROOT)}:{number}"
                fields = line.split("\t")
                if len(fields) != 7:
                    raise ValueError(f"{where}: expected 7 tab-separated fields, saw {len(fields)}")
                modes, cases, transports, verdict, kind, text, reference = fields
                for label, value in (("modes", modes), ("cases", cases),
                                     ("transports", transports)):
                    if WILDCARD.search(value):
                        raise ValueError(f"{where}: a wildcard in the {label} "
                                         f"('{value}'): name the cells explained")
                if kind not in KINDS:
                    raise ValueError(f"{where}: kind '{kind}' is not one of {', '.join(KINDS)}")
                row = {"modes": set(modes.split(",")), "cases": set(cases.split(",")),
                       "transports": set(transports.split(",")), "verdict": verdict,
                       "kind": kind, "text": text, "reference": reference,
                       "where": where, "shared": shared}
                bad = (row["modes"] - set(MODES)) | (row["transports"] - set(TRANSPORTS))
                if bad or verdict not in VERDICTS:
                    raise ValueError(f"{where}: unknown {', '.join(sorted(bad)) or verdict}")
                rows.append(row)
    return rows


def explain(rows, mode, case, transport, verdict, kinds=None):
    """The first line that names this cell with this verdict."""
    for row in rows:
        if row["kind"] == "workaround" or (kinds and row["kind"] not in kinds):
            continue
        if (mode in row["modes"] and case in row["cases"] and
                transport in row["transports"] and row["verdict"] == verdict):
            return row
    return None
