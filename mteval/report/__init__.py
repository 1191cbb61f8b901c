"""Reports: terminal tables, Markdown and HTML."""
