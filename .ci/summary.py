#!/usr/bin/env python3
"""Print one line per build dir and a final 'N passed, N failed' line,
counting meson's results in each build's meson-logs/testlog*.json (one
log per test setup: the plain run and the valgrind run)."""
import glob
import json
import sys

total_pass = total_fail = total_skip = 0
for build in sys.argv[1:]:
    passed = failed = skipped = 0
    logs = sorted(glob.glob(f"{build}/meson-logs/testlog*.json"))
    if not logs:
        print(f"{build}: no test log (build failed?)")
        failed += 1
    for log in logs:
        with open(log) as f:
            for line in f:
                result = json.loads(line).get("result")
                if result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif result == "SKIP":
                    skipped += 1
                else:
                    failed += 1
    print(f"{build}: {passed} passed, {failed} failed, {skipped} skipped")
    total_pass += passed
    total_fail += failed
    total_skip += skipped
print(f"{total_skip} skipped")
print(f"{total_pass} passed, {total_fail} failed")
