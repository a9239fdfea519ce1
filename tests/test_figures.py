"""Figures: their data checked against the problems' answers and independent
computations, what a question sheet shows of them, and their output in every format
(SVG well formed with no TeX left, PDF with the document's fonts and no bitmap, HTML
measured by a real browser), byte for byte the same across builds."""
import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from lxml import etree

from conftest import run_cli

from wsgen import draw_variant
from wsgen.core.figures import Graph, GraphEdge, GraphNode, Grid, Plot
from wsgen.core.numeric import floats
from wsgen.figures import figure_scene, figure_svg, figure_text
from wsgen.figures.labels import Run, label_runs
from wsgen.formats.document import FigureNode, build_document
from wsgen.quality.properties import leaked

SEEDS = (None, 0, 1, 2, 3)
GRAPHS = ("matrix_backprop", "mlp_backprop", "logistic_regression", "rnn_step", "batch_norm")
FIGURED = GRAPHS + ("activations", "conv2d", "max_pool", "attention")


def variants(problems, pid, seeds=SEEDS):
    problem = problems[pid]
    for seed in seeds:
        try:
            yield draw_variant(problem, problem.Options(), seed)
        except Exception as exc:       # noqa: BLE001 - no canonical variant at these options
            if type(exc).__name__ != "NoCanonical":
                raise


def figures_of(variant, kind=None):
    blocks = list(variant.statement) + list(variant.solution.steps)
    return [b for b in blocks if isinstance(b, (Graph, Plot, Grid))
            and (kind is None or isinstance(b, kind))]


def close(a, b, rel=1e-9):
    a, b = (sp.ImmutableMatrix(v) if isinstance(v, tuple) and v and isinstance(v[0], tuple)
            else v for v in (a, b))
    fa, fb = (np.ravel(v).astype(float) if isinstance(v, np.ndarray)
              else np.array(floats(v), dtype=float) for v in (a, b))
    return fa.shape == fb.shape and np.allclose(fa, fb, rtol=rel, atol=1e-12)


def total(values):
    out = None
    for v in values:
        f = np.array(floats(v), dtype=float)
        out = f if out is None else out + f
    return out


# --- labels and records ----------------------------------------------------------------
def test_label_runs_read_tex_notation_into_unicode_runs():
    # by hand: \hat y is y with a combining circumflex, italic; _1 a subscript
    assert label_runs(r"\hat y_1") == (Run("y\u0302", True, 0), Run("1", False, -1))
    assert "".join(r.text for r in label_runs(r"\frac{\partial L}{\partial W^{[2]}}")) == "∂L/∂W[2]"
    assert label_runs(r"\mathrm{ReLU}'(z)")[0] == Run("ReLU′(", False, 0)
    assert label_runs("-0.5") == (Run("−0.5"),)


def test_a_label_a_figure_cannot_draw_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"\\begin cannot be drawn"):
        label_runs(r"\begin{bmatrix}1\end{bmatrix}")
    with pytest.raises(ValueError, match="graph node 'a': label"):
        Graph((GraphNode("a", r"\foo"),), ())


def test_a_graph_must_be_a_dag_of_known_nodes():
    a, b = GraphNode("a", "a"), GraphNode("b", "b")
    with pytest.raises(ValueError, match="cycle"):
        Graph((a, b), (GraphEdge("a", "b"), GraphEdge("b", "a")))
    with pytest.raises(ValueError, match="no node 'c'"):
        Graph((a, b), (GraphEdge("a", "c"),))
    with pytest.raises(ValueError, match="duplicate"):
        Graph((a, a), ())


def test_every_shipped_problem_that_a_key_draws_has_its_figure(problems):
    for pid in FIGURED:
        v = next(variants(problems, pid, (0,)))
        assert figures_of(v), pid


# --- graphs: values and gradients ------------------------------------------------------
def test_matrix_backprop_graph_by_hand(problems):
    v = next(variants(problems, "matrix_backprop", (None,)))
    g = figures_of(v, Graph)[0]
    # by hand: W = [[0.1, 0.5], [-0.3, 0.8]], x = (0.2, 0.4): Wx = (0.22, 0.26),
    # L = 0.22² + 0.26² = 0.116, ∂L/∂W = 2(Wx)xᵀ, ∂L/∂x = 2Wᵀ(Wx) = (-0.112, 0.636)
    assert close(g.node("Wx").value, [0.22, 0.26]) and close(g.node("L").value, 0.116)
    assert close(g.edge("W", "Wx").grad, [0.088, 0.176, 0.104, 0.208])
    assert close(g.edge("x", "Wx").grad, [-0.112, 0.636])
    assert close(g.edge("Wx", "L").grad, [0.44, 0.52])
    key = figure_text(g)
    assert "0.088" in key and "-0.112" in key
    question = figure_text(g, question=True)
    assert "0.088" not in question and "0.22" not in question and "0.116" not in question
    assert "-0.3" in question                      # an input's value is given


def _answers(v):
    return {a.name: a.value for a in v.solution.answers}


def test_graph_gradients_match_the_answers(problems):
    """Each graph's gradients against the problem's (independently checked) answers; the
    parts along a node's edges add up to its gradient."""
    checks = {
        "matrix_backprop": lambda g, a: [(g.edge("W", "Wx").grad, a["dL_dW"]),
                                         (g.edge("x", "Wx").grad, a["dL_dx"]),
                                         (g.node("L").value, a["L"]), (g.node("Wx").value, a["Wx"])],
        "mlp_backprop": lambda g, a: [(g.edge("W1", "z1").grad, a["dW1"]),
                                      (g.edge("b1", "z1").grad, a["db1"]),
                                      (g.edge("W2", "y").grad, a["dW2"]),
                                      (g.edge("b2", "y").grad, a["db2"]),
                                      (g.node("z1").value, a["z1"]), (g.node("a1").value, a["a1"]),
                                      (g.node("y").value, a["y_hat"]), (g.node("L").value, a["L"])],
        "logistic_regression": lambda g, a: [(g.node("w").grad, a["dw"]), (g.node("b").grad, a["db"]),
                                             (g.node("J").value, a["cost"])],
        "rnn_step": lambda g, a: [(g.edge("h0", "h1").grad, a["dh0"]), (g.node("L").value, a["L"])],
        "batch_norm": lambda g, a: [(g.node("x").grad, a["dx"]), (g.node("gamma").grad, a["dgamma"]),
                                    (g.node("beta").grad, a["dbeta"]), (g.node("mu").value, a["mu"]),
                                    (g.node("var").value, a["var"]), (g.node("xhat").value, a["x_hat"])],
    }
    for pid, pairs in checks.items():
        for v in variants(problems, pid):
            g = figures_of(v, Graph)[0]
            for got, want in pairs(g, _answers(v)):
                assert close(got, want), (pid, v.seed, got, want)
            for node in g.nodes:
                out = [e.grad for e in g.edges if e.source == node.id]
                if node.grad is not None and out and all(x is not None for x in out):
                    assert np.allclose(total(out), floats(node.grad), rtol=1e-9, atol=1e-12), \
                        (pid, v.seed, node.id)


def test_logistic_graph_sends_back_y_hat_minus_y_over_m(problems):
    for v in variants(problems, "logistic_regression"):
        g = figures_of(v, Graph)[0]
        params = v.params
        x = np.array([floats(r) for r in (params.x.tolist() if isinstance(params.x, sp.MatrixBase)
                                          else [[e] for e in params.x])], dtype=float)
        w = np.array(floats(params.w), dtype=float)
        y = np.array(floats(params.y), dtype=float)
        p = 1 / (1 + np.exp(-(x @ w + float(params.b))))          # numpy, independently
        m = len(y)
        for i in range(m):
            assert close(g.edge(f"z{i + 1}", f"y{i + 1}").grad, (p[i] - y[i]) / m)
            assert close(g.edge(f"l{i + 1}", "J").grad, 1 / m)


def test_batch_norm_graph_parts_reach_x(problems):
    for v in variants(problems, "batch_norm"):
        g = figures_of(v, Graph)[0]
        # numpy: dL/dx of L = Σ dy·(γ x̂ + β), by central differences
        x = np.array(floats(v.params.x), dtype=float)
        dy, gamma = np.array(floats(v.params.dy), dtype=float), float(v.params.gamma)
        eps = float(v.params.eps)

        def loss(t):
            xh = (t - t.mean()) / np.sqrt(t.var() + eps)
            return float(dy @ (gamma * xh))
        h = 1e-6
        fd = [(loss(x + h * e) - loss(x - h * e)) / (2 * h) for e in np.eye(len(x))]
        parts = total(g.edge("x", t).grad for t in ("mu", "var", "xhat"))
        assert np.allclose(parts, fd, atol=1e-5)
        # μ gets nothing through σ²: the deviations sum to 0
        assert close(g.edge("mu", "var").grad, 0)


# --- plots -----------------------------------------------------------------------------
def test_activation_plots_mark_the_asked_points_on_their_curves(problems):
    for v in variants(problems, "activations"):
        plot = figures_of(v, Plot)[0]
        assert len(plot.axes) == 4
        z = np.array(floats(v.params.z), dtype=float)
        sigma = 1 / (1 + np.exp(-z))                            # numpy, independently
        first = plot.axes[0]
        assert np.allclose([floats(m.y)[0] for m in first.marks[:len(z)]], sigma)
        assert np.allclose([floats(m.y)[0] for m in first.marks[len(z):]], sigma * (1 - sigma))
        for axes in plot.axes:
            assert [floats(m.x)[0] for m in axes.marks] == list(z) * 2
            for mark in axes.marks:
                x, y = floats(mark.x)[0], floats(mark.y)[0]
                on = [abs(float(sp.lambdify(c.var, c.expr)(x)) - y) < 1e-12 for c in axes.curves]
                assert any(on), (v.seed, axes.title, x, y)


# --- grids -----------------------------------------------------------------------------
def test_conv2d_grids_scatter_the_upstream_gradient(problems):
    for v in variants(problems, "conv2d"):
        question, key = figures_of(v, Grid)
        a = _answers(v)
        assert close(question.panel("Y").values, a["Y"])
        X, K, G = (np.array(floats(m), dtype=float).reshape(m.shape)
                   for m in (v.params.X, v.params.K, v.params.G))
        s, p, k = int(v.params.stride), int(v.params.padding), K.shape[0]
        # numpy: each G_ij adds G_ij K onto its receptive field of the padded input
        dXp = np.zeros((X.shape[0] + 2 * p, X.shape[1] + 2 * p))
        for i in range(G.shape[0]):
            for j in range(G.shape[1]):
                dXp[s * i:s * i + k, s * j:s * j + k] += G[i, j] * K
        assert close(key.panel("dXp").values, dXp.ravel())
        assert close(key.panel("dX").values, a["dL_dX"])
        field = {c for h in question.panel("Xp").highlights if h.tone == 0 for c in h.cells}
        assert field == {(u, w) for u in range(k) for w in range(k)}


def test_max_pool_grids_route_to_the_maxima(problems):
    for v in variants(problems, "max_pool"):
        question, key = figures_of(v, Grid)
        a = _answers(v)
        assert close(question.panel("Y").values, a["Y"]) and close(key.panel("dX").values, a["dL_dX"])
        X = np.array(floats(v.params.X), dtype=float).reshape(v.params.X.shape)
        f, s = int(v.params.size), int(v.params.stride)
        tops = set()
        for i in range((X.shape[0] - f) // s + 1):
            for j in range((X.shape[1] - f) // s + 1):
                window = X[s * i:s * i + f, s * j:s * j + f]
                r, c = np.unravel_index(np.argmax(window), window.shape)
                tops.add((s * i + r, s * j + c))
        assert {c for h in key.panel("X").highlights for c in h.cells} == tops


def test_attention_heat_map_rows_sum_to_one(problems):
    for v in variants(problems, "attention"):
        grid = figures_of(v, Grid)[0]
        panel = grid.panel("A")
        assert panel.heat and close(panel.values, _answers(v)["A"])
        assert all(n == 1 for n in panel.notes)             # exact: Σ_k e^{S_ik} / σ_i


# --- what a question sheet shows -------------------------------------------------------
def test_question_sheets_show_no_gradient_nor_anything_of_the_key(problems):
    for pid in FIGURED:
        for v in variants(problems, pid, (None, 0, 1)):
            assert leaked(v) == [], (pid, v.seed)
            for fig in v.statement:
                if isinstance(fig, Graph):
                    shown = fig.question_view()
                    assert all(e.grad is None for e in shown.edges)
                    assert all(n.grad is None for n in shown.nodes)
                    assert all(n.value is None for n in shown.nodes if n.id not in fig.inputs)


def test_the_leak_check_sees_a_graph_that_shows_its_gradients(problems, monkeypatch):
    v = next(variants(problems, "matrix_backprop", (3,)))
    assert leaked(v) == []
    monkeypatch.setattr(Graph, "question_view", lambda self: self)
    figure_scene.cache_clear()                   # scenes are cached per process
    try:
        found = leaked(v)
    finally:
        figure_scene.cache_clear()
    assert any(name.startswith("graph edge W->Wx") for name, _ in found)
    assert any(name == "dL_dW" for name, _ in found)     # an answer, in the figure's text


def test_documents_place_figures_and_the_exam_can_turn_them_off(problems):
    from conftest import one_item_sheet
    v = next(variants(problems, "matrix_backprop", (0,)))
    sheet = one_item_sheet(v)
    key, questions = build_document(sheet, "key"), build_document(sheet, "questions")
    assert [b.name for b in key.blocks if isinstance(b, FigureNode)] == ["key-figure-1"]
    assert [b.question for b in questions.blocks if isinstance(b, FigureNode)] == [True]
    off = dataclasses.replace(sheet, exam=dataclasses.replace(sheet.exam, figures=False))
    for kind in ("key", "questions"):
        assert not any(isinstance(b, FigureNode) for b in build_document(off, kind).blocks)


def test_figures_setting_must_be_true_or_false(tmp_path):
    exam = tmp_path / "e.toml"
    exam.write_text('title = "t"\nfigures = "no"\n[[problems]]\nproblem = "matrix_backprop"\n')
    status, _, err = run_cli("build", "--exam", exam, "--out", tmp_path / "o", "--formats", "md")
    assert status == 2 and "e.toml:2: figures: expected true or false" in err


# --- output ----------------------------------------------------------------------------
def test_svg_is_well_formed_with_text_labels_and_nothing_external(problems):
    for pid in FIGURED:
        v = next(variants(problems, pid, (0,)))
        for fig in figures_of(v):
            for question in (False, True):
                svg = figure_svg(fig, question, standalone=True)
                if not svg:
                    continue
                root = etree.fromstring(svg.encode())
                assert root.tag == "{http://www.w3.org/2000/svg}svg"
                assert float(root.get("width")) > 0 and float(root.get("height")) > 0
                assert "\\" not in svg, pid                   # no raw TeX
                for bad in ("<script", "<image", "href", " id=", "<foreignObject"):
                    assert bad not in svg, (pid, bad)
                assert root.findall(".//{http://www.w3.org/2000/svg}text"), pid


EXAM = """title = "Figures"
seed = 5
variants = 2
{extra}
""" + "".join(f'[[problems]]\nproblem = "{pid}"\n' for pid in FIGURED)


def _build(tmp_path, name, formats, extra=""):
    exam = tmp_path / f"{name}-exam" / "figures.toml"      # one stem: one exam id, build id
    exam.parent.mkdir()
    exam.write_text(EXAM.format(extra=extra))
    out = tmp_path / name
    status, _, err = run_cli("build", "--exam", exam, "--out", out, "--formats", formats, "-q",
                             "-j", "2")
    assert status == 0, err
    return out


def _files(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def test_markdown_links_svg_files_beside_it_and_builds_are_byte_identical(tmp_path):
    one = _files(_build(tmp_path, "a", "md,html"))
    two = _files(_build(tmp_path, "b", "md,html"))
    assert one == two
    key = one["canonical/key.md"].decode()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+\.svg)\)", key)
    assert links and all(f"canonical/{link}" in one for link in links)
    assert "<svg" in one["canonical/key.html"].decode()
    off = _files(_build(tmp_path, "c", "md,html", "figures = false"))
    assert not any(name.endswith(".svg") for name in off)
    assert "<svg" not in off["canonical/key.html"].decode()


def _font_families(pdf: Path) -> set[str]:
    """The fonts of a PDF without their subset tags and design sizes (LMRoman10-Regular and
    LMRoman9-Regular are one family)."""
    listing = subprocess.run(["pdffonts", pdf], capture_output=True, text=True, check=True).stdout
    names = [line.split()[0] for line in listing.splitlines()[2:]]
    return {re.sub(r"\d+", "", name.split("+")[-1]) for name in names}


@pytest.mark.tex
def test_pdf_figures_use_the_documents_fonts_and_no_bitmap(tmp_path):
    out = _build(tmp_path, "p", "pdf")
    off = _build(tmp_path, "p0", "pdf", "figures = false")
    key = out / "canonical" / "key.pdf"
    # the figures' labels are set in the document's own fonts: the keys with figures use no
    # family that the same keys without figures do not
    with_figures, without = _font_families(key), _font_families(off / "canonical" / "key.pdf")
    assert with_figures <= without, with_figures - without
    assert "LMMathItalic-Regular" in with_figures
    if shutil.which("pdfimages"):
        images = subprocess.run(["pdfimages", "-list", key], capture_output=True, text=True,
                                check=True).stdout.splitlines()
        assert len(images) == 2, images                     # the header lines only
    text = subprocess.run(["pdftotext", key, "-"], capture_output=True, text=True).stdout
    assert "derivative (dashed)" in text                    # its caption
    assert "derivative (dashed)" not in subprocess.run(
        ["pdftotext", off / "canonical" / "key.pdf", "-"], capture_output=True, text=True).stdout
    again = _build(tmp_path, "p2", "pdf")
    assert (again / "canonical" / "key.pdf").read_bytes() == key.read_bytes()


MEASURE_SVG = """<script>
(function () {
  var svgs = Array.prototype.slice.call(document.querySelectorAll("svg"));
  var out = {count: svgs.length,
             empty: svgs.filter(function (s) { var r = s.getBoundingClientRect();
                                               return !(r.width > 0 && r.height > 0); }).length,
             texts: svgs.map(function (s) { return s.textContent; }).join("\\n")};
  var pre = document.createElement("pre");
  pre.id = "wsgen-measure";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>"""


@pytest.mark.browser
def test_html_figures_have_size_in_a_real_browser_and_no_tex(tmp_path):
    import html as htmllib
    import json
    out = _build(tmp_path, "h", "html")
    # the canonical key draws 11 figures (two each for conv2d and max_pool), its question
    # sheet the 4 of the statements (matrix_backprop, mlp_backprop, conv2d, max_pool)
    for kind, least in (("key", 11), ("questions", 4)):
        page = out / "canonical" / f"{kind}.html"
        copy = page.with_name(f"{kind}.measure.html")
        copy.write_text(page.read_text("utf-8").replace("</body>", MEASURE_SVG + "\n</body>"),
                        encoding="utf-8")
        result = subprocess.run(
            [shutil.which("chromium"), "--headless", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'cr'}",
             "--virtual-time-budget=10000", "--window-size=1000,1400", "--dump-dom",
             copy.as_uri()], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        match = re.search(r'<pre id="wsgen-measure">(.*?)</pre>', result.stdout, re.S)
        assert match, result.stderr[-2000:]
        found = json.loads(htmllib.unescape(match.group(1)))
        assert found["count"] >= least and found["empty"] == 0, found
        assert "\\" not in found["texts"]
