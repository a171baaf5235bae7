"""Is a session file on a network share? SQLite's locking is unreliable there (NFS, SMB), so
sessions are rated on a local disk and handed in to a share as a finished copy."""

from __future__ import annotations

import ctypes
import os
import re
import sys
from pathlib import Path

NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "ncpfs",
        "afs",
        "9p",
        "ceph",
        "glusterfs",
        "lustre",
        "davfs",
        "fuse.sshfs",
        "fuse.davfs2",
        "fuse.gvfsd-fuse",
        "fuse.rclone",
    }
)
_DRIVE_REMOTE = 4
_MOUNTS = Path("/proc/self/mounts")


def _unescape(field: str) -> str:
    """Mount points in /proc/mounts escape spaces, tabs and backslashes as octal (``\\040``)."""
    return re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), field)


def mount_types(mounts_text: str) -> dict[str, str]:
    """``{mount point: filesystem type}`` from the text of ``/proc/mounts``."""
    table = {}
    for line in mounts_text.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            table[_unescape(fields[1])] = fields[2]
    return table


def filesystem_type(path: Path, mounts: dict[str, str]) -> str | None:
    """The filesystem type of the deepest mount point holding ``path`` (None if unknown)."""
    best = None
    for point in mounts:
        holds = path == Path(point) or Path(point) in path.parents
        if holds and (best is None or len(point) > len(best)):
            best = point
    return mounts.get(best) if best is not None else None


def _existing_ancestor(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path.resolve()


def network_share_kind(path: str | os.PathLike[str]) -> str | None:
    """A short name of the network filesystem holding ``path`` ("nfs", "network drive"), or
    None when it is on a local disk (or the platform cannot tell)."""
    path = Path(path)
    if sys.platform == "win32":
        text = str(path.absolute())
        if text.startswith("\\\\"):
            return "network share"
        drive = os.path.splitdrive(text)[0]
        if drive:
            kind = ctypes.windll.kernel32.GetDriveTypeW(drive + "\\")  # type: ignore[attr-defined]
            return "network drive" if kind == _DRIVE_REMOTE else None
        return None
    try:
        mounts = mount_types(_MOUNTS.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
    kind = filesystem_type(_existing_ancestor(path), mounts)
    return kind if kind in NETWORK_FILESYSTEMS else None
