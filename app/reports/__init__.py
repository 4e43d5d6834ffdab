"""The session report: what a practice conversation showed, built from stored turns only.

`model` is the shape (also the JSON export), `builder` derives it from the path of turns,
`client_voice` gives the simulated client's own rating, `charts` draws it as SVG and `export`
writes Markdown and JSON. Nothing here logs transcript text.
"""
