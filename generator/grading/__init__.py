"""Grading students' responses against answers.json (`wsgen grade`) and auditing a
hand-written key's values (`wsgen audit`).  parse.py reads numbers safely; compare.py
holds the tolerance and mistake matching both commands share."""
