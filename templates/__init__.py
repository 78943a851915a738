"""Jinja2 templates, one `<view>.json.j2` per reply, producing Block Kit JSON.

`_kit.json.j2` holds the macros every view uses (section, fields, buttons...).
"""
