#!/usr/bin/env python3
"""ci/results.py refuses a published matrix that hides or invents: each
check starts from a tree that passes and changes one thing."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ci", "results.py")
CASES = ["1.1", "5.3"]
TRANSPORTS = ["unix", "tcp4"]


class Tree:
    """A repository (adapters/demo/...) and a run's reports (out/)."""

    def __init__(self, root):
        self.root = root
        self.out = os.path.join(root, "out")
        os.makedirs(os.path.join(root, "adapters", "demo"))
        os.makedirs(self.out)
        self.write("adapters/explanations.tsv", "")

    def write(self, path, text):
        with open(os.path.join(self.root, path), "w") as f:
            f.write(text)

    def read(self, path):
        with open(os.path.join(self.root, path)) as f:
            return f.read()

    def report(self, mode, not_ok=None, repeat=1, reason="r"):
        """A report of `mode` where every cell is OK but `not_ok`."""
        not_ok = not_ok or {}
        results = [{"case": c, "transport": t, "reason": reason,
                    "verdict": not_ok.get((c, t), "OK")}
                   for c in CASES for t in TRANSPORTS]
        totals = {v: sum(r["verdict"] == v for r in results)
                  for v in ("OK", "FAILED", "NON-STRICT")}
        name = f"demo.{mode}.json" if repeat == 1 else f"demo.{mode}.r{repeat}.json"
        with open(os.path.join(self.out, name), "w") as f:
            json.dump({"results": results, "totals": totals}, f)

    def run(self, *args):
        env = dict(os.environ, SOCKPARITY_RESULTS_ROOT=self.root)
        done = subprocess.run([sys.executable, TOOL, self.out, *args], env=env,
                              capture_output=True, text=True)
        return done.returncode, done.stdout + done.stderr


def explanation(modes, cases, transports, verdict, kind="library"):
    return "\t".join([modes, cases, transports, verdict, kind, "why", "https://x"]) + "\n"


class ResultsTool(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.tree = Tree(self.tmp.name)
        self.md = os.path.join(self.tmp.name, "R.md")
        # Passing: 5.3 FAILED on unix, plain and eintr, explained by name.
        self.tree.report("plain", {("5.3", "unix"): "FAILED"})
        self.tree.report("eintr", {("5.3", "unix"): "FAILED"})
        self.tree.write("adapters/demo/expected-verdicts.txt",
                        "plain 5.3 unix FAILED\neintr 5.3 unix FAILED\n")
        self.tree.write("adapters/demo/explanations.tsv",
                        explanation("plain,eintr", "5.3", "unix", "FAILED"))

    def tearDown(self):
        self.tmp.cleanup()

    def assertFails(self, command, words):
        code, output = self.tree.run(*command)
        self.assertNotEqual(code, 0, output)
        self.assertIn(words, output)

    def test_the_starting_tree_passes(self):
        for command in (["expect"], ["docs", os.path.join(self.tmp.name, "R.md")]):
            code, output = self.tree.run(*command)
            self.assertEqual(code, 0, output)

    def test_a_wildcard_line_is_refused(self):
        self.tree.write("adapters/demo/explanations.tsv",
                        explanation("plain,eintr", "*", "unix", "FAILED"))
        self.assertFails(["docs", self.md], "wildcard")
        self.tree.write("adapters/demo/explanations.tsv",
                        explanation("plain,eintr", "5.3", "unix*", "FAILED"))
        self.assertFails(["docs", self.md], "wildcard")

    def test_an_unexplained_cell_is_refused(self):
        self.tree.report("eintr", {("5.3", "unix"): "FAILED", ("1.1", "tcp4"): "FAILED"})
        self.assertFails(["docs", self.md], "(eintr) 1.1 on tcp4: FAILED")

    def test_a_line_that_explains_no_cell_is_refused(self):
        self.tree.write("adapters/demo/explanations.tsv",
                        explanation("plain,eintr", "5.3", "unix", "FAILED") +
                        explanation("plain", "1.1", "tcp4", "FAILED"))
        self.assertFails(["docs", self.md], "explains no cell")

    def test_both_ways_without_counts_is_refused(self):
        self.tree.write("adapters/demo/expected-verdicts.txt",
                        "plain 5.3 unix FAILED|OK\neintr 5.3 unix FAILED\n")
        self.assertFails(["expect"], "without the counts")

    def test_unsettled_is_refused(self):
        self.tree.write("adapters/demo/expected-verdicts.txt",
                        "unsettled eintr\nplain 5.3 unix FAILED\n")
        self.assertFails(["expect"], "unsettled")

    def test_both_ways_needs_a_varies_line(self):
        self.tree.write("adapters/demo/expected-verdicts.txt",
                        "plain 5.3 unix FAILED|OK 3/5\neintr 5.3 unix FAILED\n")
        self.assertEqual(self.tree.run("expect")[0], 0)
        self.assertFails(["docs", self.md], "no `varies` line")
        self.tree.write("adapters/demo/explanations.tsv",
                        explanation("plain,eintr", "5.3", "unix", "FAILED") +
                        explanation("plain", "5.3", "unix", "FAILED", "varies"))
        code, output = self.tree.run("docs", os.path.join(self.tmp.name, "R.md"))
        self.assertEqual(code, 0, output)
        self.assertIn("5.3 unix (plain) FAILED 3/5", self.tree.read("R.md"))

    def test_a_client_has_files_of_its_own(self):
        # demo-client's reports: check-client's, judged by the client files.
        for mode in ("plain", "eintr"):
            results = [{"case": "c3.2", "transport": "unix", "reason": "r",
                        "verdict": "FAILED"}]
            with open(os.path.join(self.tree.out, f"demo-client.{mode}.json"), "w") as f:
                json.dump({"results": results, "totals": {"OK": 0, "FAILED": 1,
                                                          "NON-STRICT": 0}}, f)
        self.assertFails(["expect"], "adapters/demo/expected-client-verdicts.txt")
        self.tree.write("adapters/demo/expected-client-verdicts.txt",
                        "plain c3.2 unix FAILED\neintr c3.2 unix FAILED\n")
        self.assertEqual(self.tree.run("expect")[0], 0)
        # The server's explanations do not explain the client's cells.
        self.tree.write("adapters/demo/explanations.tsv",
                        explanation("plain,eintr", "5.3", "unix", "FAILED") +
                        explanation("plain,eintr", "c3.2", "unix", "FAILED"))
        self.assertFails(["docs", self.md], "demo-client (plain) c3.2 on unix")
        self.tree.write("adapters/demo/explanations.tsv",
                        explanation("plain,eintr", "5.3", "unix", "FAILED"))
        self.tree.write("adapters/demo/client-explanations.tsv",
                        explanation("plain,eintr", "c3.2", "unix", "FAILED"))
        code, output = self.tree.run("docs", self.md)
        self.assertEqual(code, 0, output)
        page = self.tree.read("R.md")
        self.assertLess(page.index("## Servers"), page.index("## Clients"))

    def test_every_mode_is_compared(self):
        self.tree.report("eintr", {})
        self.assertFails(["expect"], "demo (eintr, run 1) 5.3 on unix: expected FAILED, now OK")

    def test_a_changed_cell_prints_its_reason_bounded(self):
        self.tree.report("eintr", {}, reason="cycle 7: timed out\n" + "x" * 5000)
        code, output = self.tree.run("expect")
        self.assertNotEqual(code, 0, output)
        self.assertIn("reason: cycle 7: timed out x", output)
        self.assertIn("more characters in the report", output)
        self.assertLess(len(output), 2000)

    def test_record_replaces_and_prints_every_change(self):
        self.tree.write("adapters/demo/expected-verdicts.txt",
                        "plain 5.3 unix FAILED|OK 4/5\neintr 1.1 unix FAILED\n")
        code, output = self.tree.run("record")
        self.assertEqual(code, 0, output)
        self.assertIn("plain 5.3 unix: FAILED|OK 4/5 -> FAILED", output)
        self.assertIn("eintr 1.1 unix: FAILED -> OK", output)
        self.assertIn("eintr 5.3 unix: OK -> FAILED", output)
        lines = [l for l in self.tree.read("adapters/demo/expected-verdicts.txt").splitlines()
                 if not l.startswith("#")]
        self.assertEqual(lines, ["plain 5.3 unix FAILED", "eintr 5.3 unix FAILED"])

    def test_record_widens_only_from_repeats_with_counts(self):
        self.tree.report("plain", {}, repeat=2)
        self.tree.report("plain", {("5.3", "unix"): "FAILED"}, repeat=3)
        code, output = self.tree.run("record")
        self.assertEqual(code, 0, output)
        self.assertIn("plain 5.3 unix: FAILED -> FAILED|OK 2/3", output)
        self.assertIn("plain 5.3 unix FAILED|OK 2/3",
                      self.tree.read("adapters/demo/expected-verdicts.txt"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
