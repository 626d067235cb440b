"""Qt-free analysis: coding queries, group comparison, anonymisation, charts and exports."""
