"""Reports as people and programs read them: a terminal table, CSV, JSON or Markdown."""
