"""MathML read from latex2mathml's elements, a formula in pieces and a matrix cell by cell, is
the MathML its text output of the whole formula, read back as XML, gives
(formats/htmlmarkup.py: `mathml` against `_mathml_from_text`, the one conversion and reading
through ElementTree's parser that it replaces), on the printer's formulas, on what must not
be cut, and on hostile text.  The formulas share pieces and cells: later ones meet the
caches the earlier ones filled."""
import xml.etree.ElementTree as ET

import pytest

from wsgen.formats.htmlmarkup import _mathml_from_text, _protect_text, _serialized, mathml

FORMULAS = [
    r"\frac{\partial L}{\partial W} = \begin{bmatrix}0.162 & 0.135\\0.414 & 0.345\end{bmatrix}",
    r"\lVert f(A) - f(P) \rVert^2 = {\left(-0.1 - \left(-0.4\right)\right)}^{2} + {\left(0.3 - 0.7\right)}^{2} = 0.25",
    r"z_4 = 0.9 \cdot 1.3 - 0.9 = 0.27,\qquad \hat y_4 = \sigma(0.27) = \frac{1}{1 + e^{-0.27}} \approx 0.5671",
    r"L = \max\left(-0.04,\ 0\right) = 0",
    r"\mathrm{LReLU}'(z) = \begin{bmatrix}0.01\\1\\0.01\end{bmatrix}",
    r"x := \operatorname{tr} A",
    # formulas converted in pieces and matrices cell by cell, with what may not be cut
    r"\tanh'(z) = \begin{bmatrix}1 - \tanh^{2}{\left(2.9 \right)}\\1 - \tanh^{2}{\left(2.9 \right)}\end{bmatrix}",
    r"\begin{bmatrix}1 & 2\\3 & 4\end{bmatrix}\begin{bmatrix}5\\6\end{bmatrix} = \begin{bmatrix}17\\39\end{bmatrix}",
    r"\begin{bmatrix}1 & \\ & 2\end{bmatrix} = 0",
    r"\begin{bmatrix}1 & 2\\\end{bmatrix}^T = \begin{bmatrix}1\end{bmatrix}' = 2",
    r"\begin{bmatrix}1\\[2pt] 2\end{bmatrix} = \begin{bmatrix}^2 & a^ & \hline 1\end{bmatrix}",
    r"\begin{bmatrix}\begin{bmatrix}1\end{bmatrix}\end{bmatrix} = \begin{pmatrix}1 & 2\end{pmatrix}",
    r"a = \begin{cases} 1 & x \\ 2 & y\end{cases}",
    r"x^= y", r"\hat = 3", r"\frac{a} = b", r"\frac a = b", r"a \not= b", r"\sqrt[n=2]{x} = 1",
    r"\text{a=b} = c", r"{a = b} = c", r"\left( a = b \right) = c", r"\Bigl( a \Bigr) = b",
    r"a\\b = c", r"a & b = c", r"\sum_{i=1}^{n} x_i = 1", r"f''(x) = -1", r"= 0.5",
    r"\ell_2 = -\log(1 - \hat y_{2}) = \log{\left(1 + e^{-0.52} \right)} \approx 0.4666",
    r"a \cdot -b = c", r"{}^2 = 1", r"a^\frac{1}{2} = b", r"x = 1,\ y = 2",
    # text the printer never writes: XML's reserved characters, references that are and
    # are not entities, markup, line ends, characters XML refuses, attributes to escape
    r"\text{a & b < c > d}",
    r"\text{&amp; &lt; &#x41; &#65; &bogus; &copy; &}",
    r"\mathrm{x&y}",
    r"\text{]]>}",
    "\\text{\x01}",
    "\\text{a\rb}",
    r"\text{<!--c-->d}",
    r"\text{<![CDATA[&]]>}",
    r"\textcolor{#f&0}{x}",
    r"\style{color:red\"}{x}",
    r"\href{a&b}{x}",
    r"\class{a<b}{x}",
    r"\text{&#xD800;}",
    r"\& x",
]


def _or_error(convert, *args):
    try:
        return convert(*args)
    except Exception as exc:  # noqa: BLE001 - both paths must fail alike
        return type(exc).__name__


@pytest.mark.parametrize("display", [False, True])
@pytest.mark.parametrize("source", FORMULAS)
def test_elements_read_as_the_text_output_reads(source, display):
    expected = _or_error(_mathml_from_text, _protect_text(source.strip()), display)
    assert _or_error(mathml.__wrapped__, source, display) == expected


def test_serialized_as_elementtree_writes():
    root = ET.Element("math", display="block")
    row = ET.SubElement(root, "mrow")
    ET.SubElement(row, "mi").text = "a<b&c>d"
    ET.SubElement(row, "mo", {"lspace": 'x"&<>\t\n\ry'}).text = ""
    ET.SubElement(row, "mspace", width="0.1667em")
    ET.SubElement(ET.SubElement(row, "msup"), "mn").text = "2"
    assert _serialized(root) == ET.tostring(root, encoding="unicode")
