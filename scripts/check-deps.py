#!/usr/bin/env python3
"""Offline dependency policy check (run by .ci/run; the same policy as
deny.toml for `cargo deny check licenses bans`):

* one version each of the crates that must not be duplicated (nix,
  socket2, netlink-sys): two versions mean two copies of the same syscall
  wrappers, fd types and netlink sockets in the daemon;
* every crate in the resolved graph has a license expression satisfiable
  from the allow-list below.

Security advisories need the RustSec database (a download): they are NOT
checked here; `cargo deny check advisories` does that where the network
allows. Exit status 1 on a violation.
"""
import collections
import json
import re
import subprocess
import sys

NO_DUPLICATES = {"nix", "socket2", "netlink-sys"}

# Permissive licenses compatible with the daemon's GPL-2.0-or-later, and
# the daemon's own license.
ALLOWED = {
    "MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "Zlib",
    "0BSD", "Unlicense", "BSL-1.0", "CC0-1.0", "Unicode-3.0",
    "Unicode-DFS-2016", "MPL-2.0", "GPL-2.0-or-later",
}


def satisfiable(expr):
    """Evaluates an SPDX expression (AND, OR, WITH, parentheses; the old
    `A/B` form is OR) against ALLOWED."""
    tokens = re.findall(r"\(|\)|[^\s()]+", expr.replace("/", " OR "))
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take():
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def primary():
        if peek() == "(":
            take()
            v = disjunction()
            if take() != ")":
                raise ValueError(expr)
            return v
        lic = take()
        if peek() == "WITH":  # an exception only adds permissions
            take()
            take()
        return lic in ALLOWED

    def conjunction():
        v = primary()
        while peek() == "AND":
            take()
            v = primary() and v
        return v

    def disjunction():
        v = conjunction()
        while peek() == "OR":
            take()
            v = conjunction() or v
        return v

    v = disjunction()
    if pos != len(tokens):
        raise ValueError(expr)
    return v


def main():
    meta = json.loads(subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1", "--locked"] + sys.argv[1:]))
    resolved = {n["id"] for n in meta["resolve"]["nodes"]}
    members = set(meta["workspace_members"])
    versions = collections.defaultdict(set)
    errors = []
    for p in meta["packages"]:
        if p["id"] not in resolved:
            continue
        versions[p["name"]].add(p["version"])
        if p["id"] in members:
            continue
        lic = p.get("license")
        if not lic:
            errors.append(f"{p['name']} {p['version']}: no SPDX license expression")
            continue
        try:
            ok = satisfiable(lic)
        except (ValueError, IndexError):
            ok = False
        if not ok:
            errors.append(f"{p['name']} {p['version']}: license `{lic}` not in the allow-list")
    for name in sorted(NO_DUPLICATES):
        if len(versions[name]) > 1:
            errors.append(f"{name}: {len(versions[name])} versions "
                          f"({', '.join(sorted(versions[name]))}); keep one")
    dups = sorted(n for n, v in versions.items() if len(v) > 1 and n not in NO_DUPLICATES)
    print(f"dependencies: {len(resolved)} crates, {len(errors)} policy violations "
          f"(licenses from the allow-list; one version each of "
          f"{', '.join(sorted(NO_DUPLICATES))}); advisories NOT checked (offline)")
    if dups:
        print(f"other duplicated crates (allowed): {', '.join(dups)}")
    for e in errors:
        print(f"error: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
