"""Lesson 00 (notebooks/00_start_here.ipynb) tells the truth about the course.

These checks used to run inside lesson 00 itself; they are maintenance, not learning, so
they live here. They read the lesson's markdown and check that

* every notebook the course map links to exists, and every lesson, exercise and
  solution notebook of the course is in the map;
* the time totals in the text are the sums of the tables;
* the README's exercise table agrees with lesson 00's (points, times, totals);
* the exercise table names the functions each solution hands to a check, and the
  number of checks and points that ``lstm_teach.grading`` registers;
* the reading list holds every dated source the lessons cite, with the right lessons,
  and every lesson it names mentions the source;
* the forward equations are listed in the order of the package's docstring.
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import pytest

import lstm_teach as lt
from lstm_teach.grading.checks import exercises_for, max_score

COURSE = Path(__file__).resolve().parent.parent
HERE = COURSE / "notebooks"


def markdown_of(path: Path) -> str:
    """All markdown of a notebook, read as plain JSON."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")


def code_of(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")


def table_rows(markdown: str, header_start: str) -> list[list[str]]:
    """The rows of the markdown table whose header line starts with ``header_start``."""
    lines = markdown.splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2:]:  # skip the header and the |---| line
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def link_target(cell: str) -> str:
    return re.search(r"\]\(([^)\s]+\.ipynb)\)", cell).group(1)


def minutes(cell: str) -> int:
    return int(re.fullmatch(r"(\d+) min", cell).group(1))


def on_disk(folder: str) -> set[Path]:
    return {p.resolve() for p in (COURSE / folder).glob("[0-9][0-9]_*.ipynb")}


MAP_TEXT = markdown_of(HERE / "00_start_here.ipynb")
LESSON_ROWS = table_rows(MAP_TEXT, "| # | lesson |")
EXERCISE_ROWS = table_rows(MAP_TEXT, "| exercise | after lesson |")


def test_every_linked_notebook_exists_and_every_notebook_is_linked():
    lessons = {(HERE / link_target(row[1])).resolve() for row in LESSON_ROWS}
    exercises = {(HERE / link_target(row[0])).resolve() for row in EXERCISE_ROWS}
    missing = [str(p.relative_to(COURSE)) for p in [*lessons, *exercises] if not p.is_file()]
    assert not missing, f"the map links to notebooks that do not exist: {missing}"
    for row in LESSON_ROWS:  # the number column matches the file name
        assert link_target(row[1]).startswith(row[0] + "_"), row[:2]

    unlisted = sorted(str(p.relative_to(COURSE)) for p in on_disk("notebooks") - lessons)
    unlisted += sorted(str(p.relative_to(COURSE)) for p in on_disk("exercises") - exercises)
    names = {p.name for p in exercises}
    unlisted += sorted(f"solutions/{p.name}" for p in on_disk("solutions") if p.name not in names)
    assert not unlisted, f"notebooks missing from the course map: {unlisted}"
    no_solution = sorted(n for n in names if not (COURSE / "solutions" / n).is_file())
    assert not no_solution, f"exercises without a solution notebook: {no_solution}"


def test_the_time_totals_in_the_text_are_the_sums_of_the_tables():
    lesson_minutes = {link_target(row[1])[:2]: minutes(row[3]) for row in LESSON_ROWS}
    exercise_minutes = {link_target(row[0]): (row[1], minutes(row[4])) for row in EXERCISE_ROWS}
    core = ("00", "01", "02", "03", "04", "05")
    totals = {
        "all lessons": sum(lesson_minutes.values()),
        "all exercises": sum(m for _, m in exercise_minutes.values()),
        "core lessons": sum(lesson_minutes[n] for n in core),
        "core exercises": sum(m for after, m in exercise_minutes.values() if after in core),
        "workshop": lesson_minutes["06"]
        + sum(m for after, m in exercise_minutes.values() if after == "06"),
    }
    totals["core"] = totals["core lessons"] + totals["core exercises"]
    totals["course"] = totals["all lessons"] + totals["all exercises"]
    paragraph = MAP_TEXT[MAP_TEXT.index("**How long it takes.**"):]
    paragraph = " ".join(paragraph[:paragraph.index("\n\n")].split())
    core_h, core_min = divmod(totals["core"], 60)
    for phrase in (f"lessons take about {totals['all lessons']} minutes",
                   f"exercises about {totals['all exercises']} minutes",
                   f"about {round(totals['course'] / 60)} hours",
                   f"{totals['core lessons']} minutes of lessons",
                   f"{totals['core exercises']} of exercises",
                   f"{totals['core']} minutes or about {core_h} h {core_min} min",
                   f"another {totals['workshop']} minutes"):
        assert phrase in paragraph, f"the tables add up differently: the text should say {phrase!r}"


@pytest.mark.parametrize("row", EXERCISE_ROWS, ids=lambda row: Path(link_target(row[0])).stem)
def test_the_exercise_table_matches_the_solutions_and_the_registry(row):
    name = Path(link_target(row[0])).stem
    source = code_of(COURSE / "solutions" / f"{name}.ipynb")
    checked = re.findall(r'^(?:\w+ = )?check\("(\w+)",\s*(\w+)\)', source, flags=re.M)
    registered = exercises_for(name)
    assert [check_name for check_name, _ in checked] == [ex.name for ex in registered], name
    written = re.findall(r"`(\w+)`", row[2])
    assert all(function in written for _, function in checked), \
        f"{name}: the table should name {[f for _, f in checked]}, it names {written}"
    n_checks, n_points = map(int, re.fullmatch(r"(\d+) checks?, (\d+) points?", row[3]).groups())
    assert (n_checks, n_points) == (len(registered), sum(ex.points for ex in registered)), name


def _reference_entries(markdown: str) -> list[str]:
    """The bullet items after a lesson's "References" heading, one string per item."""
    heading = re.search(r"^(?:#+ *References|\*\*References\*\*)\s*$", markdown, flags=re.M)
    entries: list[str] = []
    for line in markdown[heading.end():].splitlines() if heading else []:
        if re.match(r"[*-] ", line):
            entries.append(line[2:])
        elif line.startswith("  ") and entries:
            entries[-1] += " " + line.strip()
    return entries


def _first_author_and_year(entry: str):
    """("Hochreiter", "1997") from "S. Hochreiter and J. ... (1997)"; None when undated."""
    year = re.search(r"\((\d{4})\)", entry)
    if year is None:
        return None
    words = re.split(r"[\s,&]+", entry[:year.start()])
    surnames = [w for w in words if re.fullmatch(r"[A-Z][a-zé-]+", w)]  # skips "S." and "de"
    return surnames[0], year.group(1)


def test_the_reading_list_matches_what_the_lessons_cite():
    reading_list = MAP_TEXT[MAP_TEXT.index("## Where the ideas come from"):]
    listed: dict[tuple[str, str], set[str]] = {}
    items = re.findall(r"^- (.+?)(?=^- |^\*\*|^\Z|\Z)", reading_list, flags=re.M | re.S)
    for item in items:
        key = _first_author_and_year(" ".join(item.split()))
        named = re.search(r"\(Lessons? ([\d, ]+)\.\)", item)
        if key is not None and named:
            listed.setdefault(key, set()).update(named.group(1).replace(",", " ").split())
    assert len(listed) >= 20, "the reading list was not parsed"
    for path in sorted(on_disk("notebooks")):
        number, text = path.name[:2], markdown_of(path)
        if number == "00":
            continue
        for entry in _reference_entries(text):
            key = _first_author_and_year(entry)
            if key is not None:
                assert key in listed, f"lesson {number} cites {key}, which the reading list misses"
                assert number in listed[key], f"the reading list should name lesson {number} for {key}"
        for (surname, year), named in listed.items():
            if number in named:
                mentioned = re.search(rf"\b{surname}\b", text) and year in text
                assert mentioned, f"lesson {number} does not mention {surname} {year}"


def test_the_equations_follow_the_order_of_the_package_docstring():
    docstring_order = re.findall(r"^\s+(\w)_t = ", inspect.getdoc(lt.lstm), flags=re.M)
    assert docstring_order == ["z", "i", "f", "g", "c", "o", "h"], docstring_order
    equations = MAP_TEXT[MAP_TEXT.index("### The forward equations"):]
    lesson_order = re.findall(r"^(\w)_t &= ", equations, flags=re.M)
    assert lesson_order == docstring_order[1:], lesson_order


def test_the_readme_exercise_table_agrees_with_the_course_map():
    readme = (COURSE / "README.md").read_text(encoding="utf-8")
    rows = table_rows(readme, "| exercise | after lesson |")
    *exercises, total = rows
    in_map = {Path(link_target(row[0])).stem: row for row in EXERCISE_ROWS}
    in_readme = {Path(link_target(row[0])).stem: row for row in exercises}
    assert list(in_readme) == list(in_map), "the README lists other exercises than lesson 00"
    for name, row in in_readme.items():
        map_row = in_map[name]
        map_points = int(re.search(r"(\d+) points?", map_row[3]).group(1))
        assert row[1] == map_row[1], f"{name}: after lesson {row[1]} in the README"
        assert int(row[3]) == map_points == max_score(name), name
        assert minutes(row[4]) == minutes(map_row[4]), f"{name}: another time in the README"
    words = {10: "ten", 11: "eleven", 12: "twelve", 13: "thirteen", 14: "fourteen"}
    assert total[0] == f"**all {words[len(exercises)]}**", total
    assert total[3] == f"**{sum(int(row[3]) for row in exercises)}**", total
    hours = sum(minutes(row[4]) for row in exercises) / 60
    assert total[4] == f"**about {round(hours)} h**", (total, hours)
