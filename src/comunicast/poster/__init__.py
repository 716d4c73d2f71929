"""QR codes and posters that invite citizens to follow the channel (SPEC §6).

Modules: `qr` (matrix, contrast, decoding checks), `fonts` (bundled Titillium Web, glyph
coverage), `textfit` (measure, wrap, fit), `layout` (boxes for each paper, independent of the
output format), `png`, `pdf`, `svg`, `terminal` and `icons` (renderers), and `build`
(write to a temporary file, verify by decoding, rename). Importing this package is cheap; the
heavy libraries are imported by the functions that use them.
"""
