"""Sum every pytest run's JUnit XML into the one line CI ends with.

A run whose XML is missing (pytest crashed before writing it) is recorded by the noxfile as a
``<name>.crashed`` marker and counts as one failure, so is a collection error (pytest's "errors").
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Counts:
    passed: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.skipped


def count(folder: Path) -> Counts:
    counts = Counts()
    if not folder.is_dir():
        return counts
    for xml in sorted(folder.glob("*.xml")):
        try:
            root = ET.parse(xml).getroot()
        except ET.ParseError:
            counts.failed += 1
            continue
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        for suite in suites:
            tests = int(suite.get("tests", 0))
            bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skipped = int(suite.get("skipped", 0))
            counts.failed += bad
            counts.skipped += skipped
            counts.passed += max(tests - bad - skipped, 0)
    counts.failed += len(list(folder.glob("*.crashed")))
    return counts


def line(counts: Counts) -> str:
    return f"{counts.passed} passed, {counts.failed} failed, {counts.skipped} skipped"


if __name__ == "__main__":
    print(line(count(Path(sys.argv[1]))))
