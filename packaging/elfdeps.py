#!/usr/bin/env python3
"""Which shared libraries an ELF file loads, judged against the manylinux
allow-list, and bundling of the others (the C tarball's lib/).

The allow-list is auditwheel's own (auditwheel/policy/manylinux-policy.json
in the installed auditwheel), so the wheel and the C tarball follow the same
rule: every library the program loads resolves either inside the bundle or to
a library that every manylinux system provides (glibc's, libstdc++, libgcc_s,
libz, ...).

    elfdeps.py check ROOT[:ROOT...] FILE...
                                     fail unless every library FILE loads
                                     (ldd, transitively) lies under a ROOT
                                     or is on the allow-list
    elfdeps.py bundle LIBDIR FILE... copy the libraries FILE loads that are
                                     not on the allow-list into LIBDIR, and
                                     give FILE and the copies RUNPATH $ORIGIN
    elfdeps.py policy FILE...        print the oldest manylinux policy that
                                     allows the files' symbol versions
"""
from __future__ import annotations

import importlib.resources
import json
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

# The dynamic loader itself is glibc's; ldd lists it (and the vDSO) without
# a soname => path pair, and the policy file does not name it.
LOADER = re.compile(r"^(ld-linux[-\w.]*\.so\.\d+|linux-vdso\.so\.\d+)$")


def policies() -> list[dict]:
    text = importlib.resources.files("auditwheel.policy").joinpath("manylinux-policy.json")
    return json.loads(text.read_text())


def allow_list() -> set[str]:
    """The libraries every manylinux policy allows (the newest's list)."""
    newest = max((p for p in policies() if p["name"] != "linux"), key=lambda p: glibc(p["name"]))
    return set(newest["lib_whitelist"])


def glibc(policy: str) -> tuple[int, int]:
    major, minor = re.match(r"manylinux_(\d+)_(\d+)", policy).groups()
    return int(major), int(minor)


def loaded(elf: Path) -> dict[str, str | None]:
    """soname -> resolved path (None when ldd cannot find it)."""
    out = subprocess.run(["ldd", str(elf)], check=True, capture_output=True, text=True).stdout
    libs: dict[str, str | None] = {}
    for line in out.splitlines():
        line = line.strip()
        if "=>" in line:
            name, rest = (part.strip() for part in line.split("=>", 1))
            libs[name] = None if rest.startswith("not found") else rest.split(" (")[0]
        elif line:
            libs[Path(line.split(" (")[0]).name] = line.split(" (")[0]
    return libs


def outsiders(elf: Path, roots: list[Path]) -> dict[str, str | None]:
    """The libraries elf loads that are neither under a root nor allowed."""
    allowed = allow_list()
    bad = {}
    for name, path in loaded(elf).items():
        if LOADER.match(name) or (name in allowed and path):
            continue
        if path and any(Path(path).resolve().is_relative_to(r.resolve()) for r in roots):
            continue
        bad[name] = path
    return bad


def check(roots: list[Path], files: list[Path]) -> int:
    failed = False
    inside = " or ".join(str(r) for r in roots)
    for elf in files:
        bad = outsiders(elf, roots)
        for name, path in bad.items():
            print(f"{elf}: loads {name} from {path or 'nowhere (not found)'}, "
                  f"outside {inside} and not on the manylinux allow-list", file=sys.stderr)
        failed |= bool(bad)
        if not bad:
            print(f"{elf}: every library resolves inside {inside} or to the manylinux allow-list")
    return 1 if failed else 0


def set_origin_rpath(elf: Path) -> None:
    subprocess.run(["patchelf", "--set-rpath", "$ORIGIN", str(elf)], check=True)


def bundle(libdir: Path, files: list[Path]) -> int:
    for elf in files:
        for name, path in outsiders(elf, [libdir]).items():
            if path is None:
                print(f"{elf}: {name} not found, cannot bundle it", file=sys.stderr)
                return 1
            copy = libdir / name
            shutil.copy2(path, copy)
            copy.chmod(0o755)
            subprocess.run(["strip", "--strip-unneeded", str(copy)], check=True)
            set_origin_rpath(copy)
        set_origin_rpath(elf)
    return 0


def version_references(files: list[Path]) -> set[tuple[str, str]]:
    """(prefix, version) of every symbol version the files require, e.g.
    ("GLIBCXX", "3.4.30"), from objdump's Version References."""
    refs = set()
    for elf in files:
        out = subprocess.run(["objdump", "-p", str(elf)], check=True, capture_output=True,
                             text=True).stdout
        refs |= set(re.findall(r"\s([A-Z]+)_([0-9][0-9.]*|FLOAT128|TM_1)$", out, re.M))
    return refs


def policy(files: list[Path]) -> int:
    """The oldest manylinux policy whose symbol versions cover the files'
    (the rule auditwheel applies to a wheel)."""
    refs = version_references(files)
    arch = platform.machine()
    for p in sorted((p for p in policies() if p["name"] != "linux"), key=lambda p: glibc(p["name"])):
        allowed = p["symbol_versions"].get(arch, {})
        if all(version in allowed[prefix] for prefix, version in refs if prefix in allowed):
            print(p["name"])
            return 0
    print(f"no manylinux policy covers {sorted(refs)}", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("check", "bundle", "policy"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "policy":
        return policy([Path(a) for a in argv[1:]])
    files = [Path(a) for a in argv[2:]]
    if argv[0] == "check":
        return check([Path(r) for r in argv[1].split(":")], files)
    return bundle(Path(argv[1]), files)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
