"""QR codes and posters that invite citizens to follow the channel (SPEC §6).

Modules: `qr` (matrix, contrast, verification), `fonts` (bundled Titillium Web, glyph coverage),
`layout` (boxes for each paper, independent of the output format), `png`, `pdf`, `svg`,
`terminal` (renderers) and `build` (write-verify-rename). Importing this package is cheap;
the heavy libraries are imported by the modules that use them.
"""
