"""One dot process per build process (figures/dotrun.py): the same layouts as dot run once
per graph, graph after graph, and a forked worker's own dot."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from wsgen.figures import dotrun

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")

GRAPHS = [
    "digraph G {\nnode [shape=box, fixedsize=true, label=\"\"];\n"
    "n0 [width=0.8, height=0.6];\nn1 [width=0.4, height=0.6];\nn0 -> n1;\n}\n",
    "digraph G {\ngraph [rankdir=LR];\nn0 -> n2;\nn1 -> n2 [label=\"x\"];\nn2 -> n3;\n}\n",
]


def _once(source: str) -> dict:
    """The independent method: dot started afresh for the one graph."""
    return json.loads(subprocess.run(["dot", "-Tjson0"], input=source, capture_output=True,
                                     text=True, check=True).stdout)


def test_graph_after_graph_gives_what_dot_gives_for_each_alone():
    first = [dotrun.layout_json(g) for g in GRAPHS]
    again = [dotrun.layout_json(g) for g in reversed(GRAPHS)][::-1]
    assert first == again == [_once(g) for g in GRAPHS]
    assert first[0]["bb"] != first[1]["bb"]          # two layouts, not one answer repeated


def test_a_forked_process_lays_out_with_a_dot_of_its_own():
    assert dotrun.layout_json(GRAPHS[0]) is not None   # this process's dot is running
    parent_dot = dotrun._dot.pid
    read, write = os.pipe()
    child = os.fork()
    if child == 0:                                     # the worker: answer through the pipe
        try:
            layout = dotrun.layout_json(GRAPHS[1])
            os.write(write, json.dumps([layout == _once(GRAPHS[1]),
                                        dotrun._dot.pid != parent_dot]).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        same, own = json.loads(answer.read())
    os.waitpid(child, 0)
    assert same and own
    assert dotrun.layout_json(GRAPHS[1]) == _once(GRAPHS[1])   # the parent's dot still serves


def test_a_graph_dot_cannot_read_gives_none_and_the_next_graph_its_layout():
    assert dotrun.layout_json("digraph G { n0 -> ; }\n") is None
    assert dotrun.layout_json(GRAPHS[0]) == _once(GRAPHS[0])
