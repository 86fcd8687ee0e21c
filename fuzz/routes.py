#!/usr/bin/env python3
"""Prints "METHODS PATTERN" for every route the modules of modules/*/
declare (fuzz_route loads them beside the core's, which it adds itself):
read from the sources, so the route fuzzer follows the modules as they
change. Usage: fuzz/routes.py ROOT > routes.txt"""
import glob
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "."
NAMES = {"PORTAIL_GET": "GET", "PORTAIL_POST": "POST", "PORTAIL_PUT": "PUT",
         "PORTAIL_PATCH": "PATCH", "PORTAIL_DELETE": "DELETE"}
ROUTE = re.compile(r'\.methods\s*=\s*([A-Z_| ]+?)\s*,\s*\.pattern\s*=\s*((?:"[^"]*"|\w+|\s)+?)\s*,')
# Modules that build their table with a macro (appointments: MEMBER(m, p, h)).
MACRO = re.compile(r'\b[A-Z_]+\(\s*(PORTAIL_[A-Z_| ]+)\s*,\s*((?:"[^"]*"|\w+|\s)+?)\s*,')

seen = set()
for path in sorted(glob.glob(os.path.join(root, "modules", "*", "*.c"))):
    src = open(path, encoding="utf-8").read()
    strings = dict(re.findall(r'#define (\w+) "([^"]*)"', src))

    def expand(expr):
        return "".join(lit if lit or not name else strings.get(name, "")
                       for lit, name in re.findall(r'"([^"]*)"|(\w+)', expr))

    for rx in (ROUTE, MACRO):
        for m in rx.finditer(src):
            methods = "|".join(NAMES.get(t.strip(), "GET") for t in m.group(1).split("|"))
            line = f"{methods} {expand(m.group(2))}"
            if line not in seen:
                seen.add(line)
                print(line)
