"""placeholder"""
from . import Format
class QtiFormat(Format):
    name = "qti"
