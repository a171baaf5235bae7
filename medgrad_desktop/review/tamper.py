"""Tamper evidence checked on every open: the guarding triggers are exactly the schema's,
the audit rows' hash chain holds, and the current ratings are what replaying the audit log
gives. Each finding is a plain sentence; any finding makes the session read-only."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from typing import Any

from medgrad_desktop.review.audit_chain import first_broken_link
from medgrad_desktop.review.schema import AUDIT_COLUMNS, TRIGGERS

TAMPER_WARNING = (
    "This session file was changed outside MedGrad Desktop ({findings}). It is opened for "
    "reading only, so nothing more is added to it; please tell the study coordinator."
)


def _normalised_sql(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip().rstrip(";").lower()


def trigger_findings(conn: sqlite3.Connection) -> list[str]:
    """Missing, altered or extra triggers."""
    found = {
        name: _normalised_sql(sql or "")
        for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger'")
    }
    expected = {name: _normalised_sql(sql) for name, sql in TRIGGERS.items()}
    missing = sorted(set(expected) - set(found))
    changed = sorted(n for n in set(expected) & set(found) if expected[n] != found[n])
    extra = sorted(set(found) - set(expected))
    findings = []
    if missing:
        findings.append(f"{len(missing)} protection rule(s) were removed: {', '.join(missing)}")
    if changed:
        findings.append(f"protection rule(s) were altered: {', '.join(changed)}")
    if extra:
        findings.append(f"unknown rule(s) were added: {', '.join(extra)}")
    return findings


def chain_finding(conn: sqlite3.Connection) -> str | None:
    """A sentence when a stored audit row does not match its hash chain."""
    rows = conn.execute(
        f"SELECT {', '.join(AUDIT_COLUMNS)}, row_hash FROM audit ORDER BY id"
    ).fetchall()
    broken = first_broken_link(
        dict(zip([*AUDIT_COLUMNS, "row_hash"], r, strict=True)) for r in rows
    )
    if broken is None:
        return None
    return f"the audit record {broken} does not match its checksum chain"


def replay_finding(current: list[dict[str, Any]], replayed: list[dict[str, Any]]) -> str | None:
    """A sentence when the current ratings differ from the audit log's replay."""
    if current == replayed:
        return None
    now = {(r["reader"], r["case"], r["prompt"], r["method"]): r["id"] for r in current}
    then = {(r["reader"], r["case"], r["prompt"], r["method"]): r["id"] for r in replayed}
    differing = sum(now.get(k) != then.get(k) for k in set(now) | set(then))
    differing = differing or sum(a != b for a, b in zip(current, replayed, strict=False))
    return f"{differing} current rating(s) differ from the audit log"


def all_findings(
    conn: sqlite3.Connection,
    current: Callable[[], list[dict[str, Any]]],
    replayed: Callable[[], list[dict[str, Any]]],
) -> list[str]:
    """Every finding for an open version-2 file (empty when the file is as the app left it)."""
    findings = trigger_findings(conn)
    for finding in (chain_finding(conn), replay_finding(current(), replayed())):
        if finding:
            findings.append(finding)
    return findings
