"""What keeps problems honest: the load-time self-test (selftest), the properties every
problem must hold over many seeds (properties: reproducible, JSON round trip, nothing of
the key on a question sheet) and `wsgen stress` (stress).
"""
