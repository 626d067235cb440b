"""Exports: transcripts (txt, srt, vtt), Word documents, CSV tables, charts, REFI-QDA.

Every exporter lays out all the text it will write, passes it (file names, headings,
labels and attributions included) through analysis.leak_check.LeakChecker.ensure_clean,
and only then writes, atomically (analysis.exports.atomic): a refused export leaves no
file behind.
"""
