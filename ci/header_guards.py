#!/usr/bin/env python3
"""Checks (or, with --fix, sets) every header's include guard to the one
scheme: SOCKPARITY_ + the header's path, upper-cased, with the prefix that
include paths leave out dropped (harness/include/sockparity/, harness/).
Exit 1 and one line per header when a guard differs."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def expected_guard(path):
    for prefix in ("harness/include/sockparity/", "harness/"):
        if path.startswith(prefix):
            path = path[len(prefix):]
            break
    return "SOCKPARITY_" + re.sub(r"[^A-Za-z0-9]", "_", path).upper() + "_"


def main():
    fix = "--fix" in sys.argv[1:]
    headers = subprocess.run(["git", "ls-files", "*.h"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.split()
    wrong = []
    for path in headers:
        full = os.path.join(ROOT, path)
        text = open(full).read()
        match = re.search(r"^#ifndef (\w+)\n#define (\w+)\n", text, re.M)
        want = expected_guard(path)
        if not match or match.group(1) != match.group(2):
            wrong.append(f"{path}: no #ifndef/#define guard pair")
            continue
        have = match.group(1)
        if have == want:
            continue
        if fix:
            text = re.sub(rf"\b{have}\b", want, text)
            open(full, "w").write(text)
        else:
            wrong.append(f"{path}: guard {have}, expected {want}")
    for line in wrong:
        print(line)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
