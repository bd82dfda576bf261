"""`royalty run`'s supervisor: a crashed child comes back after a growing backoff; SIGTERM stops
the tree, killing a child that ignores it after the grace period."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from operations.supervisor import Child, Supervisor

ROOT = Path(__file__).resolve().parents[2]


def test_a_crashed_child_is_restarted_with_a_doubling_backoff() -> None:
    crasher = Child("crasher", [sys.executable, "-c", "raise SystemExit(3)"])
    supervisor = Supervisor([crasher])
    crasher.start()
    assert crasher.process is not None and crasher.process.wait(timeout=30) == 3
    supervisor._watch(100.0)
    assert (crasher.process, crasher.due_at, crasher.backoff_s) == (None, 101.0, 2.0)
    supervisor._watch(100.5)  # still backing off
    assert crasher.process is None and crasher.restarts == 0
    supervisor._watch(101.0)
    assert crasher.process is not None and crasher.restarts == 1
    assert crasher.process.wait(timeout=30) == 3
    supervisor._watch(200.0)
    assert (crasher.due_at, crasher.backoff_s) == (202.0, 4.0)  # the next wait is twice as long


def test_sigterm_stops_every_child_and_kills_one_that_ignores_it() -> None:
    script = (
        "import signal, sys, time\n"
        "from operations.supervisor import Child, Supervisor\n"
        # Each child says it is up with one write of two bytes (atomic on a pipe): two print()s
        # to the shared pipe could interleave as "11\n\n" on a busy machine.
        "stubborn = 'import os, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); '\n"
        "stubborn += 'os.write(1, b\"1\\\\n\"); time.sleep(60)'\n"
        "polite = 'import os, time; os.write(1, b\"1\\\\n\"); time.sleep(60)'\n"
        "children = [Child('stubborn', [sys.executable, '-c', stubborn]),\n"
        "            Child('polite', [sys.executable, '-c', polite])]\n"
        "code = Supervisor(children, grace_s=1.0).run(poll_s=0.05)\n"
        "print('codes', [c.process.returncode for c in children], flush=True)\n"
        "sys.exit(code)\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    tree = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
    assert tree.stdout is not None
    assert [tree.stdout.readline(), tree.stdout.readline()] == ["1\n", "1\n"]  # both children up
    started = time.monotonic()
    tree.send_signal(signal.SIGTERM)
    out, _ = tree.communicate(timeout=60)
    assert tree.returncode == 0 and time.monotonic() - started < 30
    assert out.strip() == f"codes [{-signal.SIGKILL}, {-signal.SIGTERM}]"
