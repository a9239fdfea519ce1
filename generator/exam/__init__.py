"""Exams and who writes them: exam files (load, spec, the default exam), rosters and the
per-student seeds drawn under the roster secret (roster, seeds).
"""
