"""Seeds and the variant random-number generator.

The guarantee: a variant's parameters depend only on the variant seed and the
problem's own drawing code.  Neither depends on Python's ``hash()``, on the
platform, or on NumPy's distribution methods (whose output NumPy may change
between releases).  Both layers below are built from SHA-256 alone:

* ``derive_seed(master_seed, variant_index, problem_id)`` hashes the three
  together; the result is a 48-bit integer, short enough to print on a key.
* ``VariantRng(seed)`` produces 64-bit words as SHA-256 of (seed, counter) and
  turns them into integers by rejection sampling, so every draw is exactly
  reproducible from the seed, today and after an upgrade.

Changing either function changes every variant ever printed: a golden test
(tests/test_rng.py) pins their outputs.
"""
from __future__ import annotations

import functools
import hashlib
from fractions import Fraction
from typing import Sequence, TypeVar

__all__ = ["SEED_BITS", "VariantRng", "derive_seed"]

SEED_BITS = 48
_DOMAIN = b"wsgen-variant-seed-v1"
T = TypeVar("T")


def derive_seed(master_seed: int, variant_index: int, problem_id: str) -> int:
    """The seed of one problem in one variant of a build."""
    material = b"\0".join(
        [_DOMAIN, str(int(master_seed)).encode(), str(int(variant_index)).encode(),
         problem_id.encode("utf-8")])
    digest = hashlib.sha256(material).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - SEED_BITS)


@functools.lru_cache(maxsize=256)
def _exact(number) -> Fraction:
    """A range end as an exact fraction; a float counts as the decimal it prints as."""
    return Fraction(str(number)) if isinstance(number, float) else Fraction(number)


class VariantRng:
    """A deterministic random source for one problem variant (SHA-256 counter mode)."""

    def __init__(self, seed: int):
        if seed < 0:
            raise ValueError("seed must be non-negative")
        self.seed = int(seed)
        self._prefix = b"wsgen-rng-v1\0" + str(self.seed).encode() + b"\0"
        self._counter = 0
        self._buffer: list[int] = []

    def _word(self) -> int:
        """The next uniformly distributed 64-bit word."""
        if not self._buffer:
            digest = hashlib.sha256(self._prefix + str(self._counter).encode()).digest()
            self._counter += 1
            self._buffer = [int.from_bytes(digest[i:i + 8], "big") for i in (24, 16, 8, 0)]
        return self._buffer.pop()

    def integer(self, low: int, high: int) -> int:
        """A uniform integer in [low, high], both ends included."""
        if high < low:
            raise ValueError(f"empty range [{low}, {high}]")
        span = high - low + 1
        limit = (1 << 64) - ((1 << 64) % span)
        while True:
            word = self._word()
            if word < limit:
                return low + word % span

    def decimal(self, low: Fraction | int | str, high: Fraction | int | str,
                places: int = 1, nonzero: bool = True) -> Fraction:
        """A uniform short decimal with `places` digits after the point in [low, high]."""
        scale = 10 ** places
        lo, hi = _exact(low) * scale, _exact(high) * scale
        if lo.denominator != 1 or hi.denominator != 1:
            raise ValueError("range ends must have at most `places` decimals")
        while True:
            k = self.integer(int(lo), int(hi))
            if k or not nonzero:
                return Fraction(k, scale)

    def decimals(self, count: int, low, high, places: int = 1, nonzero: bool = True) -> list[Fraction]:
        return [self.decimal(low, high, places, nonzero) for _ in range(count)]

    def choice(self, items: Sequence[T]) -> T:
        return items[self.integer(0, len(items) - 1)]

    def permutation(self, n: int) -> list[int]:
        """A uniform permutation of range(n) (Fisher–Yates)."""
        order = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.integer(0, i)
            order[i], order[j] = order[j], order[i]
        return order
