#!/usr/bin/env python3
"""Commit subjects are at most 72 characters (a subject line, the details in the body), from the
commit that set the rule on: 5f52a63 ("Run the web tests under Debian 12's Node.js 18 as well").
Earlier commits are history and stay as they are.

    check_commits.py ROOT

Skips (77) outside a git checkout or when the rule's first commit is not in it (a shallow clone).
"""
import subprocess
import sys

FIRST = "5f52a63"
LIMIT = 72


def git(root, *args):
    return subprocess.run(["git", "-C", root, *args], capture_output=True, text=True, timeout=60)


def main():
    root = sys.argv[1]
    if git(root, "rev-parse", "--git-dir").returncode != 0:
        print("skipped: not a git checkout")
        sys.exit(77)
    if git(root, "cat-file", "-e", FIRST + "^{commit}").returncode != 0:
        print(f"skipped: commit {FIRST} is not in this clone (shallow?)")
        sys.exit(77)
    r = git(root, "log", "--format=%h %s", f"{FIRST}^..HEAD")
    if r.returncode != 0:
        print(f"FAILED: git log: {r.stderr.strip()}")
        sys.exit(1)
    commits = [line.split(" ", 1) for line in r.stdout.splitlines()]
    long = [(h, s) for h, s in commits if len(s) > LIMIT]
    for h, s in long:
        print(f"{h}: subject of {len(s)} characters (at most {LIMIT}): {s[:80]}...")
    if long:
        print(f"FAILED: {len(long)} of {len(commits)} commits since {FIRST} have a subject over {LIMIT} characters")
        sys.exit(1)
    print(f"ok: {len(commits)} commits since {FIRST}, every subject at most {LIMIT} characters")


if __name__ == "__main__":
    main()
