"""Write every table of a PDF to its own CSV file and list them."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pdf", type=Path)
    parser.add_argument("--out", type=Path, default=Path("tables"))
    args = parser.parse_args()
    try:
        import pdfplumber
    except ImportError:
        print("pdfplumber is not installed: pip install pdfplumber", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with pdfplumber.open(args.pdf) as pdf:
        for page_number, page in enumerate(pdf.pages, start=1):
            for index, table in enumerate(page.extract_tables(), start=1):
                target = args.out / f"page{page_number}-table{index}.csv"
                with target.open("w", newline="") as handle:
                    csv.writer(handle).writerows(table)
                columns = max((len(row) for row in table), default=0)
                print(f"page {page_number}: {len(table)} rows x {columns} columns -> {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
