"""What one running app holds: its config, session secret, analysis thread and caches."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from lipsym.errors import ConfigurationError, LipsymError
from lipsym.app._config import AppConfig
from lipsym.app._worker import Worker
from lipsym.app._workspace import WorkspaceCache


class BadRequest(ConfigurationError):
    """A request body the app cannot use (missing field, wrong type): HTTP 400."""


@dataclass
class Job:
    """Progress of the analysis of a visit's uploaded photos."""

    id: str
    visit_id: int
    total: int = 0
    done: int = 0
    state: str = "queued"  # queued, running, done
    failures: list[dict[str, Any]] = field(default_factory=list)
    analyses: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "visit_id": self.visit_id, "total": self.total, "done": self.done,
                "state": self.state, "failures": list(self.failures), "analyses": list(self.analyses)}


class AppState:
    """Shared by every request of one app instance."""

    def __init__(self, config: AppConfig, worker: Worker | None = None):
        self.config = config
        self.token = secrets.token_urlsafe(32)
        self.worker = worker or Worker()
        self.workspaces = WorkspaceCache()
        self.jobs: dict[str, Job] = {}
        self.reports: dict[str, dict[str, bytes]] = {}
        self.images: OrderedDict[tuple[int, str], bytes] = OrderedDict()  # (photo id, sha256) → display JPEG
        self.lock = threading.Lock()
        self._checked = False

    @contextmanager
    def store(self) -> Iterator[Any]:
        """The visit record, opened for one request (checked for damage on the first open only)."""
        from lipsym.visits.store import Store

        store = Store.open(self.config.db_path, create=True, check=not self._checked)
        self._checked = True
        try:
            yield store
        finally:
            store.close()


def field_of(body: dict, name: str, kind: type | tuple = str, *, required: bool = False, default: Any = None) -> Any:
    """A field of a JSON body, type-checked (``""`` counts as absent for optional text)."""
    value = body.get(name, default)
    if value in (None, "") and not required:
        return default
    if value is None or value == "":
        raise BadRequest(f"{name} is required")
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise BadRequest(f"{name}: expected {getattr(kind, '__name__', kind)}")
    return value


def http_status(error: LipsymError) -> int:
    """The HTTP status a library error becomes."""
    from lipsym.errors import ConflictError, NotFoundError, PhotoError, FaceError, MeasurementError

    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, ConflictError):
        return 409
    if isinstance(error, (PhotoError, FaceError, MeasurementError)):
        return 422
    return 400
