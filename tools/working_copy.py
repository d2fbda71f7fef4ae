"""Make or top up the learner's working copy of the course: ``python tools/working_copy.py work``.

``make lab`` serves the working copy, not the tracked notebooks, so that the learner's
edits, outputs and autosaves never touch a file that ``git pull`` updates. The copy holds
``notebooks/``, ``exercises/`` and ``solutions/`` side by side (the lessons link to each
other with relative paths, which keep working).

A notebook is copied only when the working copy does not have it yet: a new lesson that
arrives with ``git pull`` appears on the next ``make lab``; a notebook already in the
copy is never overwritten. When the tracked original has changed since it was copied,
this script says so and leaves the learner's copy alone (rename or delete the copy to
get the new version). What was copied is recorded in ``WORK/.course-origin.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
COURSE_DIRS = ("notebooks", "exercises", "solutions")
ORIGIN_FILE = ".course-origin.json"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sync(work: Path, repo: Path = REPO_ROOT) -> tuple[list[Path], list[Path]]:
    """Copy the missing notebooks into ``work``; return (copied, changed upstream)."""
    origin_path = work / ORIGIN_FILE
    try:
        origin = json.loads(origin_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        origin = {}
    copied, changed = [], []
    for folder in COURSE_DIRS:
        for source in sorted((repo / folder).glob("*.ipynb")):
            relative = f"{folder}/{source.name}"
            target = work / relative
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                origin[relative] = _digest(source)
                copied.append(target)
            elif origin.get(relative) not in (None, _digest(source)):
                changed.append(target)
    work.mkdir(parents=True, exist_ok=True)
    origin_path.write_text(json.dumps(origin, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return copied, changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path, help="the working-copy folder (make lab: work)")
    args = parser.parse_args(argv)
    fresh = not args.work.exists()
    copied, changed = sync(args.work, REPO_ROOT)
    if fresh:
        print(f"Made your working copy of the course in {args.work}/ (yours to edit; "
              "`git pull` never touches it).")
    elif copied:
        print(f"Copied {len(copied)} new notebook(s) into {args.work}/: "
              + ", ".join(str(p.relative_to(args.work)) for p in copied))
    for path in changed:
        print(f"note: the course's {path.relative_to(args.work)} has changed since your copy "
              f"was made; yours is kept. To get the new one, rename or delete {path}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
