"""Templates render each document node through one macro per node type, in every format; the
prose reader builds one tree for every writer and rejects unbalanced markup."""
import dataclasses
from pathlib import Path

import jinja2
import pytest

from wsgen.formats import document
from wsgen.formats.html import html_environment
from wsgen.formats.prose import (Bullets, Code, MarkupError, Math, Paragraph, Text, Writer,
                                 check_markup, read, render)
from wsgen.formats.templating import environment

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

#: format -> (its Jinja environment, the template holding its node macros)
FORMATS = {
    "md": (lambda: environment("md"), "md/document.md.j2"),
    "tex": (lambda: environment("tex"), "tex/document.tex.j2"),
    "html": (html_environment, "html/blocks.html.j2"),
}


def node_types() -> dict[str, type]:
    """The node types of formats/document.py, by tag: the dataclasses with a `node` field."""
    found = {}
    for cls in vars(document).values():
        if isinstance(cls, type) and dataclasses.is_dataclass(cls):
            tags = [f.default for f in dataclasses.fields(cls) if f.name == "node"]
            if tags:
                found[tags[0]] = cls
    return found


def macros(fmt: str) -> set[str]:
    env_of, path = FORMATS[fmt]
    tree = env_of().parse((TEMPLATES / path).read_text("utf-8"))
    return {macro.name for macro in tree.find_all(jinja2.nodes.Macro)}


def test_the_node_types_are_the_eleven_of_a_document():
    # read off formats/document.py: header, cover, instructions, problem heading, note,
    # section heading, step, part, answer line, room to write, figure
    assert set(node_types()) == {"header", "cover", "instructions", "item_heading", "note",
                                 "section", "step", "part", "answer", "answer_space", "figure"}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_node_type_has_a_macro(fmt):
    missing = set(node_types()) - macros(fmt)
    assert not missing, f"{FORMATS[fmt][1]} has no macro for {sorted(missing)}"


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_no_template_dispatches_on_a_tag(fmt):
    # the node's own tag is read only by `node()`; a template may look at a neighbour's
    source = (TEMPLATES / FORMATS[fmt][1]).read_text("utf-8")
    assert "b.node" not in source


def test_a_missing_macro_is_named():
    @dataclasses.dataclass(frozen=True)
    class Stray:
        node: str = "stray"
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.globals.update(environment("md").globals)
    template = env.from_string("{% macro header(b) %}H{% endmacro %}{{ node(b) }}")
    with pytest.raises(jinja2.TemplateRuntimeError, match="'stray'"):
        template.render(b=Stray())


def test_every_block_of_a_document_is_a_node_type(problems):
    """Documents as the build makes them (a cover, instructions, a key with mistakes and
    choice answers) hold only node types, and between them every one of them."""
    from wsgen.core.draw import draw_variant
    from wsgen.exam.spec import Exam, ExamItem, Sheet, SheetItem
    variants = [draw_variant(p, p.Options(), 0) for p in problems.values()]
    items = tuple(ExamItem(f"Q{i}", v.problem_id, 1, v.options) for i, v in enumerate(variants))
    sheet_items = tuple(SheetItem(f"Q{i}", 1, v) for i, v in enumerate(variants))
    seen = set()
    for cover, key in ((True, "student"), (False, "instructor")):
        exam = Exam("t", "", "", "Work alone.", 0, 0, items, cover=cover, key=key)
        sheet = Sheet(exam, "v", 1, sheet_items)
        for kind in document.KINDS:
            seen |= {type(b) for b in document.build_document(sheet, kind).blocks}
    assert seen == set(node_types().values())


# --- the prose reader ------------------------------------------------------------------
def test_prose_is_read_into_one_tree():
    # expected tree written by hand from the markup rules
    text = "Let $W = @W + 1$ and `lr`.\n\n- one\n- $@x$ two"
    assert read(text) == (
        Paragraph((Text("Let "), Math(("W = ", "W", " + 1")), Text(" and "), Code("lr"),
                   Text("."))),
        Bullets(((Text("one"),), (Math(("", "x", "")), Text(" two")))))
    assert read(text) is read(text)            # parsed once, whatever the writers


def test_lines_of_a_paragraph_join_and_a_mixed_paragraph_is_not_a_list():
    assert read("a\n b\n\n\n- c\nd") == (Paragraph((Text("a b"),)), Paragraph((Text("- c d"),)))


@pytest.mark.parametrize("text, message", [
    ("costs $5", "unbalanced \\$"),
    ("a $x$ and $y", "unbalanced \\$"),
    ("call `f", "unbalanced `"),
    ("`a $x$ b`", "unbalanced `"),              # a code span does not cross a formula
    ("- fine\n- not $fine", "unbalanced \\$"),
])
def test_the_reader_rejects_unbalanced_markup(text, message):
    with pytest.raises(MarkupError, match=message):
        read(text)
    with pytest.raises(MarkupError, match=message):
        check_markup(text, {})


def test_a_writer_fills_placeholders_at_render_time():
    writer = Writer(text=str.upper, code=lambda c: f"<{c}>", math=lambda m: f"[{m}]",
                    bullets=("{", "}"), item=("*", ";"), between_items=" ", between_blocks="|")
    text = "a $@x+1$ `c`\n\n- $y$\n- b"
    # from the Writer's fields, by hand: TEXT, <code>, [formula], items in braces
    assert render(writer, text, {"x": 2}) == "A [2+1] <c>|{*[y]; *B;}"
    assert render(writer, text, {"x": 3}) == "A [3+1] <c>|{*[y]; *B;}"
    with pytest.raises(MarkupError, match=r"@x has no value \(known: z\)"):
        render(writer, text, {"z": 1})
