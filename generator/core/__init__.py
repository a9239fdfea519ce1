"""The model and the exact arithmetic: steps, parts, answers, mistakes, solutions (model),
the value model (values, records), display lines (lines), arithmetic as written (shown,
named), shared exact arithmetic (exact), printing to TeX (printing) and evaluation
(numeric), the problem contract (problem, settings, rng), drawing with the independent
check (draw, checks, derive) and multiple-choice forms (distractors, choices).

Nothing here reads or writes a file, or knows an output format.
"""
