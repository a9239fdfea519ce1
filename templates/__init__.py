"""Jinja templates of each format, read through importlib (installed as package data)."""
