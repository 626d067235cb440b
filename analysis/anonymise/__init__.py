"""Anonymisation: finding identifiers in transcripts so the researcher can review them.

Detection only suggests (DESIGN.md section 5): `rules` for structured identifiers,
`ner` for spaCy's named entities (the only module that touches spaCy, loaded when first
used), `detect` for combining them with the researcher's registered names and glossary
and proposing each find wherever else it occurs, and `evaluation` for measuring all of it
on the planted identifiers of the evaluation set in tests/data/anonymisation.
"""
