"""`royalty run`: one supervised process tree — API, projector, media worker, scheduler, webhooks.

Each child is a `royalty` command of its own (a crash stays in its process). A child that exits
is started again after a backoff (1 s, doubling to 60 s; back to 1 s once it has run a minute).
SIGTERM or SIGINT stops the tree: each child gets SIGTERM, then SIGKILL after a grace period.
Nothing here holds state: the jobs themselves converge after any kill (operations.scheduler).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType

log = logging.getLogger("royalty.run")


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff_s: float = 1.0
    due_at: float = 0.0

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv)  # inherits stdout/stderr: one log stream
        self.started_at = time.monotonic()
        log.info("started %s (pid %d): %s", self.name, self.process.pid, " ".join(self.argv))


@dataclass
class Supervisor:
    children: list[Child]
    grace_s: float = 10.0
    max_backoff_s: float = 60.0
    stopping: bool = field(default=False)

    def stop(self, signum: int, _frame: FrameType | None = None) -> None:
        log.info("signal %d: stopping %d children", signum, len(self.children))
        self.stopping = True

    def run(self, poll_s: float = 0.5) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        for child in self.children:
            child.start()
        while not self.stopping:
            self._watch(time.monotonic())
            time.sleep(poll_s)
        return self._shutdown()

    def _watch(self, now: float) -> None:
        for child in self.children:
            if child.process is None:
                if now >= child.due_at:
                    child.restarts += 1
                    child.start()
                continue
            code = child.process.poll()
            if code is None:
                if now - child.started_at > self.max_backoff_s:
                    child.backoff_s = 1.0  # it has been up a while: the next crash restarts fast
                continue
            log.warning("%s exited with %s; restarting in %.0f s", child.name, code, child.backoff_s)
            child.process, child.due_at = None, now + child.backoff_s
            child.backoff_s = min(child.backoff_s * 2, self.max_backoff_s)

    def _shutdown(self) -> int:
        running = [c.process for c in self.children if c.process is not None and c.process.poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + self.grace_s
        for process in running:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                log.warning("pid %d did not stop in %.0f s: killed", process.pid, self.grace_s)
                process.kill()
                process.wait()
        return 0


def default_children(royalty: str, host: str, port: int, media: bool = True, webhooks: bool = False) -> Sequence[Child]:
    children = [
        Child("api", [royalty, "serve", "--host", host, "--port", str(port), "--no-projector"]),
        Child("projector", [royalty, "project", "--follow"]),
        Child("scheduler", [royalty, "scheduler", "run"]),
    ]
    if media:
        children.append(Child("media", [royalty, "media", "worker"]))
    if webhooks:
        children.append(Child("webhooks", [royalty, "webhooks", "dispatch"]))
    return children
