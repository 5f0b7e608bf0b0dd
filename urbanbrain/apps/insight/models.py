"""Decision support keeps no tables: its pre-aggregates are files derived from the district lake
(``<lake>/insight/``, see ``aggregates.py``), rebuilt from the lake whenever it changes."""
