"""Computational graphs laid out by Graphviz's `dot`, left to right.

Each node is a box: its label, its forward value, and (in a key) its gradient in red;
each edge is dot's spline with the gradient that flows back along it, in red, where dot
leaves room for an edge label.  The boxes and edge labels are measured here (labels.py)
and given to dot at fixed sizes, so that dot only places them and routes the edges.  The
question sheet's graph is laid out with the key's contents, so that both have the same
shape; it draws only the labels and the input values.

dot lays out each distinct graph once in a process (`_layout` is cached on dot's input),
in one dot process that serves the whole build process (dotrun.py), with no timestamps or
random ids in its input or output: the same graph gives the same figure.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from functools import lru_cache

from ..core.figures import Graph
from ..errors import UserError
from .blocks import Block, label_block, value_block
from .dotrun import layout_json
from .labels import plain_text
from .scene import FONT_SIZE, Curve, Line, Rect, Scene

__all__ = ["graph_scene"]

PAD_X, PAD_Y, GAP = 0.55 * FONT_SIZE, 0.35 * FONT_SIZE, 0.25 * FONT_SIZE
ARROW = 5.0                      # dot's arrowhead length at arrowsize 0.5, in points

NO_DOT = ("figures: drawing a computational graph needs Graphviz's dot; run `make setup` "
          "(or apt-get install graphviz), or set figures = false in the exam file")


def _node_blocks(graph: Graph, node) -> list[tuple[Block, str]]:
    blocks = [(label_block(node.label), "ink")]
    if node.value is not None:
        blocks.append((value_block(node.value, graph.digits), "ink"))
    if node.grad is not None:
        blocks.append((value_block(node.grad, graph.digits), "grad"))
    return blocks


@lru_cache(maxsize=16)
def _blocks(graph: Graph) -> tuple[tuple, tuple]:
    """Each node's blocks and each edge's gradient block (None: none), measured once per
    graph: its dot source and both its scenes (key and question sheet) draw the same."""
    nodes = tuple(_node_blocks(graph, n) for n in graph.nodes)
    edges = tuple(None if e.grad is None else value_block(e.grad, graph.digits)
                  for e in graph.edges)
    return nodes, edges


def _size(blocks) -> tuple[float, float]:
    width = max(b.width for b, _ in blocks) + 2 * PAD_X
    height = sum(b.height for b, _ in blocks) + GAP * (len(blocks) - 1) + 2 * PAD_Y
    return max(width, 2.2 * FONT_SIZE), height


def _dot_source(graph: Graph) -> str:
    index = {n.id: i for i, n in enumerate(graph.nodes)}
    lines = ["digraph G {", "graph [rankdir=LR, nodesep=0.2, ranksep=0.32, margin=0, "
             "splines=true, ordering=out];", 'node [shape=box, fixedsize=true, label=""];',
             "edge [arrowsize=0.5];"]
    node_blocks, edge_blocks = _blocks(graph)
    for n, blocks in zip(graph.nodes, node_blocks):
        w, h = _size(blocks)
        lines.append(f"n{index[n.id]} [width={w / 72:.4f}, height={h / 72:.4f}];")
    for e, block in zip(graph.edges, edge_blocks):
        attrs = ""
        if block is not None:
            w, h = int(block.width + 4) + 1, int(block.height + 2) + 1
            attrs = (f' [label=<<TABLE FIXEDSIZE="TRUE" WIDTH="{w}" HEIGHT="{h}" BORDER="0" '
                     'CELLSPACING="0" CELLPADDING="0"><TR><TD></TD></TR></TABLE>>]')
        lines.append(f"n{index[e.source]} -> n{index[e.target]}{attrs};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _points(text: str) -> list[tuple[float, float]]:
    return [tuple(float(v) for v in p.split(",")) for p in text.split()]


@lru_cache(maxsize=512)
def _layout(source: str) -> dict:
    """dot's layout of a graph: its bounding box, node centres, edge splines and label
    centres (points, y up)."""
    if shutil.which("dot") is None:
        raise UserError(NO_DOT)
    data = layout_json(source)          # this process's dot (dotrun.py), else dot once
    if data is None:
        result = subprocess.run(["dot", "-Tjson0"], input=source, capture_output=True,
                                text=True, stdin=None, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"dot failed: {' '.join(result.stderr.split())[:300]}")
        data = json.loads(result.stdout)
    box = [float(v) for v in data["bb"].split(",")]
    nodes = {int(o["name"][1:]): tuple(float(v) for v in o["pos"].split(","))
             for o in data.get("objects", [])}
    edges = []
    for e in data.get("edges", []):
        head, *spline = e["pos"].split(" ")
        end = tuple(float(v) for v in head[2:].split(","))
        label = tuple(float(v) for v in e["lp"].split(",")) if "lp" in e else None
        edges.append((int(e["tail"]), int(e["head"]), _points(" ".join(spline)), end, label))
    return {"box": box, "nodes": nodes, "edges": edges}


def graph_scene(graph: Graph, shown: Graph) -> Scene:
    """The scene of `shown` (the graph itself, or its question view) laid out as `graph`."""
    layout = _layout(_dot_source(graph))
    node_blocks, edge_blocks = _blocks(graph)
    height = layout["box"][3]
    flip = lambda p: (round(p[0], 2), round(height - p[1], 2))
    items: list = []
    for i, (full, node, blocks) in enumerate(zip(graph.nodes, shown.nodes, node_blocks)):
        cx, cy = flip(layout["nodes"][i])
        w, h = _size(blocks)
        items.append(Rect(round(cx - w / 2, 2), round(cy - h / 2, 2), round(w, 2), round(h, 2),
                          "node", "ink", 3.0, 0.5))
        y = cy - h / 2 + PAD_Y
        # the key's blocks (label, value, gradient), each drawn if the shown node has it
        shows = [True, node.value is not None, node.grad is not None]
        present = [True, full.value is not None, full.grad is not None]
        for (block, colour), show in zip(blocks,
                                         [s for s, p in zip(shows, present) if p]):
            if show:
                items += block.draw(cx, y, colour)
            y += block.height + GAP
    # the gradient an edge shows (the shown graph's), drawn with the key's measured block
    shown_grads = {(e.source, e.target) for e in shown.edges if e.grad is not None}
    grad_blocks = {(e.source, e.target): b for e, b in zip(graph.edges, edge_blocks)}
    ids = [n.id for n in graph.nodes]
    for tail, head, spline, end, label in layout["edges"]:
        points = tuple(flip(p) for p in spline)
        items.append(Curve(points, "ink", 0.5))
        items.append(Line((points[-1], flip(end)), "ink", 0.5, arrow=True))
        pair = (ids[tail], ids[head])
        if pair in shown_grads and label is not None:
            block = grad_blocks[pair]
            lx, ly = flip(label)
            items += block.draw(lx, ly - block.height / 2, "grad")
    inputs = ", ".join(plain_text(n.label) for n in graph.nodes if n.id in graph.inputs)
    return Scene(round(layout["box"][2], 2), round(height, 2), tuple(items),
                 f"Computational graph from {inputs}")
