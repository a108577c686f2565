#!/usr/bin/env python3
"""Print the commits between two git revisions as JSON lines for release notes."""

import json
import re
import subprocess
import sys

CONVENTIONAL = re.compile(r"^(?P<type>[a-z]+)(\([^)]*\))?(?P<breaking>!)?: ")
SEPARATOR = "\x1e"


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: collect_commits.py FROM TO", file=sys.stderr)
        return 2
    start, end = sys.argv[1], sys.argv[2]
    log = subprocess.run(
        ["git", "log", f"{start}..{end}", f"--format=%h%x1f%s%x1f%b{SEPARATOR}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for record in filter(None, (r.strip() for r in log.split(SEPARATOR))):
        sha, subject, body = (record.split("\x1f") + ["", ""])[:3]
        match = CONVENTIONAL.match(subject)
        print(
            json.dumps(
                {
                    "sha": sha,
                    "subject": subject,
                    "body": body.strip(),
                    "type": match["type"] if match else None,
                    "breaking": bool(match and match["breaking"]) or "BREAKING CHANGE" in body,
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
