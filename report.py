#!/usr/bin/env python
"""Write the HTML report of a run or of a study (self-contained: opens from disk).

    python report.py --run runs/default            # -> runs/default/report/index.html
    python report.py --study studies/tiny          # -> studies/tiny/report/index.html
    python report.py --study studies/tiny --output /tmp/tiny_report

Beside index.html: one PNG per figure and summary.md (the tables, in Markdown).
Exit status: 0 written, 2 nothing to report on (no such run or study).
"""

import argparse
import os
import sys


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--run", help="a run dir written by train.py")
    group.add_argument("--study", help="a study dir written by study.py")
    p.add_argument("--output", default=None, help="report folder (default <dir>/report)")
    args = p.parse_args(argv)
    try:
        if args.run:
            from reporting.run_report import write_run_report
            path = write_run_report(args.run, args.output)
        else:
            from reporting.study_report import write_study_report
            path = write_study_report(args.study, args.output)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {os.path.abspath(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
