"""The instructor commands behind the make targets::

    python -m nngrade release [--check]         source/ -> release/ + solutions/ (or report stale files)
    python -m nngrade grade [--jobs N]          autograde submitted/, feedback/, grades.csv
    python -m nngrade check [--jobs N] [-a A]   autograder self-test
    python -m nngrade demo                      release, simulated class, grade, score table
    python -m nngrade validate NOTEBOOK...      nbgrader validate with a truthful exit status
    python -m nngrade publish [-a A] [--force]  release/ -> the exchange (students fetch from it)
    python -m nngrade collect                   the exchange's submissions -> submitted/
    python -m nngrade return-feedback           feedback/ -> the exchange (students fetch it)
    python -m nngrade exchange                  create the exchange folder if missing, print where it is
    python -m nngrade student-config PREFIX     write the students' nbgrader settings into the venv PREFIX
    python -m nngrade lab-config PREFIX         make the venv PREFIX's JupyterLab validate through nnkit.lab

Every command prints to stdout only and exits non-zero when something failed. ``--root`` selects
another course folder (default: the repository). What they print comes from the grader: a grading
kernel's own output never reaches the terminal, and text of a submission is printed escaped
(`nngrade.config.printable`), never as a line of its own.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

from .config import REPO_ROOT, Course, printable, warnings_to_stdout


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nngrade", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="course folder (default: the repository)")
    commands = parser.add_subparsers(dest="command", required=True)
    release_parser = commands.add_parser("release", help="source/ -> release/ and solutions/")
    release_parser.add_argument("--check", action="store_true", help="only report files that are out of date")
    grade_parser = commands.add_parser("grade", help="autograde submitted/, feedback, grades.csv")
    grade_parser.add_argument("--jobs", type=int, default=1)
    check_parser = commands.add_parser("check", help="autograder self-test")
    check_parser.add_argument("--jobs", type=int, default=2)
    check_parser.add_argument("-a", "--assignment", action="append", help="only this assignment (repeatable)")
    demo_parser = commands.add_parser("demo", help="release, simulated class, grade, score table")
    demo_parser.add_argument("--jobs", type=int, default=2)
    validate_parser = commands.add_parser("validate", help="nbgrader validate with a truthful exit status")
    validate_parser.add_argument("notebooks", nargs="+", type=Path)
    publish_parser = commands.add_parser("publish", help="release/ -> the exchange (nbgrader release_assignment)")
    publish_parser.add_argument("-a", "--assignment", action="append", help="only this assignment (repeatable)")
    publish_parser.add_argument("--force", action="store_true", help="replace assignments already published")
    commands.add_parser("collect", help="the exchange's submissions -> submitted/ (nbgrader collect)")
    commands.add_parser("return-feedback", help="feedback/ -> the exchange (nbgrader release_feedback)")
    commands.add_parser("exchange", help="create the exchange folder if missing and print where it is")
    student_parser = commands.add_parser("student-config", help="write the students' nbgrader settings into a venv")
    student_parser.add_argument("prefix", type=Path, help="the student environment, e.g. .venv-student")
    lab_parser = commands.add_parser("lab-config", help="JupyterLab's Validate through nnkit.lab in a venv")
    lab_parser.add_argument("prefix", type=Path, help="the environment, e.g. .venv")
    args = parser.parse_args(argv)

    warnings_to_stdout()
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # alembic
    course = Course(args.root)
    if args.command in ("publish", "collect", "return-feedback", "exchange", "student-config", "lab-config"):
        return _exchange(course, args)
    if args.command != "validate" and not course.folder("source").is_dir():
        print(printable(f"{course.root} is not a course folder: it has no source/"))
        return 1
    if args.command == "release":
        return _release(course, check_only=args.check)
    if args.command == "grade":
        from .grade import grade

        return grade(course, jobs=args.jobs)
    if args.command == "check":
        from .selftest import run

        return run(course, args.assignment, jobs=args.jobs)
    if args.command == "demo":
        from .demo import demo

        return demo(course, jobs=args.jobs)
    from .validate import validate_notebooks

    return validate_notebooks(args.notebooks)


def _exchange(course: Course, args) -> int:
    from . import exchange

    if args.command == "exchange":
        print(printable(exchange.prepare()))
        return 0
    if args.command == "lab-config":
        print(printable(f"wrote {exchange.enable_course_validate(args.prefix)}"))
        return 0
    if args.command == "student-config":
        print(printable(f"wrote {exchange.write_student_config(args.prefix)} (exchange {exchange.exchange_root()})"))
        print(printable(f"wrote {exchange.enable_course_validate(args.prefix)}"))
        if not exchange.exchange_root().is_dir():
            print(printable(f"the exchange {exchange.exchange_root()} does not exist yet: the instructor's "
                            "`make setup` creates it (docs/jupyterhub.md)"))
        return 0
    if not course.folder("source").is_dir():
        print(printable(f"{course.root} is not a course folder: it has no source/"))
        return 1
    if args.command == "publish":
        return exchange.publish(course, args.assignment, force=args.force)
    if args.command == "collect":
        return exchange.collect(course)
    return exchange.return_feedback(course)


def _release(course: Course, *, check_only: bool) -> int:
    from . import release

    if check_only:
        stale = release.stale_files(course)
        for path in stale:
            print(printable(f"STALE {path}"))
        print(f"{len(stale)} file(s) out of date with source/" if stale else "release/ and solutions/ are up to date")
        return 1 if stale else 0
    assignments = course.assignments()
    errors = release.build_each(course, assignments)
    for error in errors.values():
        print(printable(f"NOT RELEASED {error}"))
    print(f"released {len(assignments) - len(errors)} of {len(assignments)} assignment(s) to "
          f"{course.folder('release')} and {course.folder('solutions')}")
    return 1 if errors else 0


def run_main() -> int:
    """``main`` with an unexpected crash reported on stdout (status 2), like everything else."""
    try:
        return main()
    except Exception:  # a bug or a broken course folder: show it where the rest of the output goes
        print("nngrade stopped on an unexpected error:")
        for line in traceback.format_exc().splitlines():
            print("  " + printable(line))
        return 2


if __name__ == "__main__":
    sys.exit(run_main())
