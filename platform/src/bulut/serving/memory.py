"""Memory of a process as Linux accounts for shared pages (``/proc/<pid>/smaps_rollup``).

A forked instance shares the zygote's pages copy-on-write, so RSS overstates it:
USS (private pages) is what one more instance costs, PSS splits shared pages fairly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Memory:
    """RSS, PSS and USS of one process, in bytes (zeros when unknown)."""

    rss: int = 0
    pss: int = 0
    uss: int = 0

    def __add__(self, other: Memory) -> Memory:
        """Both processes together (PSS and USS add up; RSS counts shared pages twice)."""
        return Memory(self.rss + other.rss, self.pss + other.pss, self.uss + other.uss)


def parse_smaps_rollup(text: str) -> Memory:
    """Memory from the text of ``smaps_rollup`` (values are in kB)."""
    fields: dict[str, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB" and parts[0].isdigit():
            fields[name.strip()] = int(parts[0]) * 1024
    uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return Memory(rss=fields.get("Rss", 0), pss=fields.get("Pss", 0), uss=uss)


def memory_of(pid: int) -> Memory:
    """Memory of ``pid``; zeros when the process is gone or this is not Linux."""
    try:
        return parse_smaps_rollup(Path(f"/proc/{pid}/smaps_rollup").read_text())
    except OSError:
        return Memory()
