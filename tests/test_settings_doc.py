"""The README's configuration table is generated from `Settings`, so it cannot drift."""
from __future__ import annotations

from bot import settings_doc
from bot.settings import Settings


def test_every_setting_has_a_description():
    assert settings_doc.undocumented() == []


def test_the_readme_table_is_the_generated_one():
    readme = settings_doc.README.read_text()
    assert settings_doc.readme_table(readme) == settings_doc.table(), \
        "README.md's settings table is out of date: run python -m bot.settings_doc --write"


def test_the_table_lists_every_variable_with_its_default():
    table = settings_doc.table()
    for name in Settings.model_fields:
        assert f"| `{name.upper()}` |" in table
    assert "| `BUS_DLQ_WARN` | `100` |" in table and "| `SLACK_BOT_TOKEN` | – |" in table


def test_write_puts_the_table_between_the_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{settings_doc.START}\nold\n{settings_doc.END}\n\nafter\n")
    assert settings_doc.write(readme) and not settings_doc.write(readme)
    text = readme.read_text()
    assert settings_doc.readme_table(text) == settings_doc.table() and text.endswith("\n\nafter\n")
