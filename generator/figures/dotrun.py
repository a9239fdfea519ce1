"""Graphviz's dot as one long-running process per build process, fed graph after graph.

Starting dot costs more than laying out one of our small graphs, and a build lays out a
few graphs per sheet.  dot reads graphs one after another from its input and writes
each one's JSON as soon as it is laid out, so one process serves every graph of a
process: `layout_json(source)` writes the graph and reads back exactly one JSON object.

Each process (a build's process and each of its forked workers) has a dot of its own: a
worker forgets the pipes it inherits (`os.register_at_fork`).  Anything unexpected (dot
missing, exiting, writing no JSON in time) ends that dot and returns None; the caller
then runs dot once for that graph, as before, and reports its error.
"""
from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import threading

__all__ = ["layout_json"]

TIMEOUT = 10.0                   # seconds without a byte from dot before giving up on it

_lock = threading.Lock()
_dot: subprocess.Popen | None = None


def _start() -> subprocess.Popen | None:
    try:
        dot = subprocess.Popen(["dot", "-Tjson0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, bufsize=0)
    except OSError:
        return None
    # a pool's worker leaves through multiprocessing's exit (atexit does not run there)
    from multiprocessing.util import Finalize
    Finalize(None, _stop, exitpriority=0)
    return dot


def _stop() -> None:
    global _dot
    dot, _dot = _dot, None
    if dot is None:
        return
    for stream in (dot.stdin, dot.stdout):
        try:
            stream.close()
        except OSError:
            pass
    try:
        dot.wait(timeout=5)
    except subprocess.TimeoutExpired:
        dot.kill()
        dot.wait()


def _forget_in_child() -> None:
    """In a forked worker: close the copies of the parent's pipes, so that the parent's dot
    ends when the parent closes them, and start afresh."""
    global _dot, _lock
    _lock = threading.Lock()
    dot, _dot = _dot, None
    if dot is not None:
        for stream in (dot.stdin, dot.stdout):
            try:
                os.close(stream.fileno())
            except OSError:
                pass
        dot.returncode = 0               # not this process's child: never wait for it


os.register_at_fork(after_in_child=_forget_in_child)
atexit.register(_stop)


def _read_one(dot: subprocess.Popen) -> dict | None:
    """One JSON object from dot's output (a layout ends with the object's closing brace)."""
    decoder = json.JSONDecoder()
    data = b""
    fd = dot.stdout.fileno()
    while True:
        ready, _, _ = select.select([fd], [], [], TIMEOUT)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return None
        data += chunk
        if data.rstrip().endswith(b"}"):
            text = data.decode("utf-8")
            try:
                value, end = decoder.raw_decode(text.lstrip())
            except json.JSONDecodeError:
                continue
            if text.lstrip()[end:].strip():
                return None                 # more than one object: out of step with dot
            return value


def layout_json(source: str) -> dict | None:
    """dot's JSON (-Tjson0) for the graph `source`, from this process's dot; None when that
    dot cannot give it (the caller then runs dot once, as before)."""
    global _dot
    with _lock:
        if _dot is None or _dot.poll() is not None:
            _stop()
            _dot = _start()
            if _dot is None:
                return None
        try:
            data = memoryview(source.encode("utf-8"))
            while data:
                data = data[_dot.stdin.write(data):]
            layout = _read_one(_dot)
        except (OSError, ValueError):
            layout = None
        if layout is None:
            _dot.kill()
            _stop()
        return layout
